"""Unit tests of generator.site: pages rendered from the export sample, no MkDocs involved."""

from __future__ import annotations

import copy
import html
import re

import pytest
import yaml
from site_fixtures import HOSTILE_TITLE, ROOT, errata_sample, hostile_export, sample_export

from generator.site import (
    RESERVED_SLUGS,
    VERIFIED_STATEMENT,
    SiteError,
    render_pages,
    render_section_list,
    rule_url,
    tex_to_text,
)


@pytest.fixture
def pages() -> dict[str, str]:
    return render_pages(hostile_export(), errata_sample())


def _article(page: str, rule_id: str) -> str:
    match = re.search(rf'<article class="mc-rule" data-rule-id="{re.escape(rule_id)}">.*?</article>', page, re.DOTALL)
    assert match, f"no block for {rule_id}"
    return match.group(0)


def test_one_page_per_section_plus_index_report_errata() -> None:
    """Renders one page per section with rules, the index, the report and the errata."""
    pages = render_pages(sample_export(), [])
    assert sorted(pages) == ["all-rules.md", "elementwise.md", "errata.md", "traces.md", "verification.md"]
    assert "errata.md" not in render_pages(sample_export())


def test_rule_block_is_anchored_at_its_id(pages: dict[str, str]) -> None:
    """Each rule's heading carries its id and the block shows its permanent link."""
    for rule in hostile_export()["rules"]:
        page = pages[f"{rule['section']}.md"]
        assert page.count(f'<h2 id="{rule["id"]}"') == 1
        block = _article(page, rule["id"])
        assert f"/{rule['section']}/#{rule['id']}</a>" in block


def test_both_layouts_present_own_layout_first(pages: dict[str, str]) -> None:
    """A derivative rule shows numerator and denominator layout as tabs, its own layout first."""
    export = sample_export()
    for rule in export["rules"]:
        block = _article(pages[f"{rule['section']}.md"], rule["id"])
        labels = re.findall(r'<label for="[^"]+">([^<]+)</label>', block)
        own = "Numerator layout" if rule["layout"] == "numerator" else "Denominator layout"
        assert labels[0] == own
        assert sorted(labels) == ["Denominator layout", "Numerator layout"]
        for layout in ("numerator", "denominator"):
            formula = f"{rule['latex']['derivative']} = {rule['latex'][layout]}"
            assert f'<div class="arithmatex">\\[{html.escape(formula)}\\]</div>' in block
            assert f'data-latex="{html.escape(formula)}"' in block


def test_trace_axb_layouts_differ_by_transpose(pages: dict[str, str]) -> None:
    """trace-axb prints B A in numerator layout and A^T B^T in denominator layout, with result shapes."""
    block = _article(pages["traces.md"], "trace-axb")
    num = block.index("\\mathbf{B} \\mathbf{A}\\]")
    den = block.index("\\mathbf{A}^{\\top} \\mathbf{B}^{\\top}\\]")
    assert den < num  # denominator is the rule's own layout, so its tab comes first
    assert "Result: n × p" in block and "Result: p × n" in block


def test_differential_rule_has_one_form(pages: dict[str, str]) -> None:
    """A differential rule has a single formula, no layout tabs."""
    block = _article(pages["traces.md"], "inverse-differential")
    assert "tabbed-set" not in block
    assert "d(\\mathbf{X}^{-1}) = -\\mathbf{X}^{-1}" in block


def test_every_rule_string_is_escaped(pages: dict[str, str]) -> None:
    """Titles, aliases, tags, conditions, sources and notes are HTML-escaped: no tag gets through."""
    block = _article(pages["traces.md"], "trace-hostile")
    assert html.escape(HOSTILE_TITLE) in block
    for raw in ("<script", "<img", "<b>", "<i>", "<em>", "<a href=javascript"):
        assert raw not in block, raw
    assert "&lt;img src=x onerror=alert(2)&gt;" in block
    for page in pages.values():
        assert "<script" not in page
    # the index lists the title escaped too
    assert html.escape(HOSTILE_TITLE) in pages["all-rules.md"]


def test_notes_math_is_rendered_and_escaped(pages: dict[str, str]) -> None:
    """`$..$` in notes becomes an inline math element with its TeX escaped; the rest is text."""
    block = _article(pages["traces.md"], "trace-hostile")
    assert '<span class="arithmatex">\\(\\mathbf{A}^{\\top} &lt; \\mathbf{B}\\)</span>' in block
    assert "Watch &lt;em&gt;this&lt;/em&gt;:" in block


def test_raw_latex_outside_math_is_refused() -> None:
    """A note with LaTeX outside `$..$` would print raw TeX, so rendering fails and says where."""
    export = sample_export()
    export["rules"][0]["notes"] = "The paper writes \\otimes here."
    with pytest.raises(SiteError) as info:
        render_pages(export)
    assert "rule elementwise-hadamard-x: notes: LaTeX \\otimes outside $...$" in str(info.value)


@pytest.mark.parametrize("status", ["refuted", "undecided", None])
def test_unverified_rule_is_refused(status: str | None) -> None:
    """A rule whose status is not `verified` stops the build, naming the rule."""
    export = sample_export()
    export["rules"][1]["verification"]["status"] = status
    with pytest.raises(SiteError) as info:
        render_pages(export)
    assert f"rule trace-axb: verification status is {status!r}; only verified rules are published" in str(info.value)


def test_counts_with_a_refuted_rule_are_refused() -> None:
    """Counts that admit a refuted rule (even one left out of the list) stop the build."""
    export = sample_export()
    export["counts"] = {"verified": 2, "refuted": 1, "undecided": 0, "total": 3}
    with pytest.raises(SiteError, match="do not match its 2 verified rules"):
        render_pages(export)


def test_unknown_related_section_and_reserved_slug_are_refused() -> None:
    """Every problem of the export is reported at once."""
    export = sample_export()
    export["rules"][0]["related"] = ["no-such-rule"]
    export["sections"].append({"slug": "search", "title": "Search", "summary": "", "order": 999, "count": 0})
    export["rules"][1]["section"] = "nowhere"
    with pytest.raises(SiteError) as info:
        render_pages(export)
    problems = info.value.problems
    assert "rule elementwise-hadamard-x: related rule 'no-such-rule' is not in the export" in problems
    assert "section slug 'search' is the name of a page of the site" in problems
    assert "rule trace-axb: unknown section 'nowhere'" in problems
    assert "search" in RESERVED_SLUGS


def test_verification_badge_names_sizes_points_versions(pages: dict[str, str]) -> None:
    """The badge says what was checked, with the engine's and SymPy's versions and the caveat."""
    block = _article(pages["traces.md"], "trace-axb")
    assert "✓ Verified" in block
    assert "m = 2, n = 3, p = 4; m = 3, n = 4, p = 2" in block
    assert "<dt>Numeric points</dt><dd>3</dd>" in block
    assert "mcref 0.1.0, SymPy 1.14.0" in block
    assert VERIFIED_STATEMENT in block
    assert "not a proof for every size" in VERIFIED_STATEMENT


def test_cite_block_names_id_version_permalink(pages: dict[str, str]) -> None:
    """The citation, plain and BibTeX, names the id, the version and the permanent link."""
    export = hostile_export()
    block = _article(pages["traces.md"], "trace-axb")
    url = rule_url(export, next(r for r in export["rules"] if r["id"] == "trace-axb"))
    assert url == "https://mcref.example.org/traces/#trace-axb"
    assert "@misc{mcref:trace-axb," in block
    assert "version      = {0.1.0}" in block
    assert f"\\url{{{url}}}" in block
    assert f"(rule trace-axb). mcref: a verified matrix-calculus reference, version 0.1.0, 2026. {url}" in block
    hostile = _article(pages["traces.md"], "trace-hostile")
    assert "\\&amp; &quot;quotes&quot;" in hostile  # BibTeX-escaped, then HTML-escaped


def test_related_rules_link_to_their_section(pages: dict[str, str]) -> None:
    """Related rules are links to /<section>/#<id> with their titles."""
    block = _article(pages["elementwise.md"], "elementwise-hadamard-x")
    assert '<a href="../traces/#trace-axb">Trace of a product A X B, by the middle factor</a>' in block


def test_search_words_are_in_the_block(pages: dict[str, str]) -> None:
    """Id, title, tags, aliases and notes are printed as text, so search finds them."""
    block = _article(pages["elementwise.md"], "elementwise-hadamard-x")
    for word in (
        "elementwise-hadamard-x",
        "Hadamard product w * x, by x",
        "element-wise product",
        '<span class="mc-tag">hadamard</span>',
        "Kronecker",
    ):
        assert word in block


def test_index_and_report_list_every_rule(pages: dict[str, str]) -> None:
    """The index and the verification report have one row per rule, linking its permanent link."""
    export = hostile_export()
    for name in ("all-rules.md", "verification.md"):
        for rule in export["rules"]:
            assert f'href="../{rule["section"]}/#{rule["id"]}"' in pages[name]
    assert "<tr><th>verified</th><td>4</td></tr>" in pages["verification.md"]
    assert "<tr><th>refuted</th><td>0</td></tr>" in pages["verification.md"]


def test_errata_show_paper_beside_verified_rule(pages: dict[str, str]) -> None:
    """An erratum shows the paper's form beside the verified rule's formula; without a rule, the correction."""
    page = pages["errata.md"]
    first = page[page.index('id="erratum-6"') : page.index('id="erratum-2"')]
    assert '<span class="arithmatex">\\(\\mathbf{w} \\otimes \\mathbf{x}\\)</span>' in first
    assert "\\[\\frac{\\partial (\\mathbf{w} \\odot \\mathbf{x})}{\\partial \\mathbf{x}} = \\diag(\\mathbf{w})\\]" in first
    assert 'href="../elementwise/#elementwise-hadamard-x"' in first
    second = page[page.index('id="erratum-2"') :]
    assert "\\frac{du_1}{dx}" in second


def test_erratum_with_unknown_rule_is_refused() -> None:
    """An erratum naming a rule that is not verified stops the build."""
    errata = errata_sample()
    errata[0]["rule"] = "no-such-rule"
    with pytest.raises(SiteError, match="erratum 6: rule 'no-such-rule' is not a verified rule"):
        render_pages(sample_export(), errata)


def test_repository_errata_render_against_their_fields() -> None:
    """errata/paper.yaml, when present, has the agreed fields and renders without raw TeX."""
    path = ROOT / "errata" / "paper.yaml"
    if not path.is_file():
        pytest.skip("errata/paper.yaml is not written yet")
    errata = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(errata, list)
    for entry in errata:
        assert set(entry) <= {"number", "title", "where", "paper", "problem", "correction", "rule", "note"}
    export = sample_export()
    for entry in errata:  # point every erratum at a rule the sample has, to test the text fields only
        entry["rule"] = "trace-axb" if entry.get("rule") else None
    render_pages(export, errata)


def test_rendering_is_deterministic() -> None:
    """Rendering the same export twice gives the same text."""
    assert render_pages(hostile_export(), errata_sample()) == render_pages(copy.deepcopy(hostile_export()), errata_sample())


def test_section_list_for_home_page() -> None:
    """The home page's list names each section with rules, with its count."""
    text = render_section_list(sample_export())
    assert '<a href="elementwise/">Element-wise binary operators</a> (1)' in text
    assert '<a href="traces/">Traces</a> (1)' in text


@pytest.mark.parametrize(
    "tex, text",
    [
        (
            "\\frac{\\partial \\tr(\\mathbf{A} \\mathbf{X} \\mathbf{B})}{\\partial \\mathbf{X}} = \\mathbf{A}^{\\top} \\mathbf{B}^{\\top}",
            "(∂tr(A X B))/∂X = Aᵀ Bᵀ",
        ),
        ("\\diag(\\mathbf{w})", "diag(w)"),
        ("\\mathbf{X}^{-1}", "X⁻¹"),
        ("\\mathbf{A} \\in \\mathbb{R}^{m \\times n}", "A ∈ ℝ^(m × n)"),
        ("\\lVert \\mathbf{x} \\rVert_2^2", "‖ x ‖_2²"),
    ],
)
def test_tex_to_text(tex: str, text: str) -> None:
    """Search previews read LaTeX as plain text."""
    assert tex_to_text(tex, sample_export()["macros"]) == text


def test_tex_to_text_leaves_no_backslash() -> None:
    """No LaTeX of the sample leaves a backslash in its plain-text reading."""
    for rule in hostile_export()["rules"]:
        for value in rule["latex"].values():
            if value:
                assert "\\" not in tex_to_text(value, sample_export()["macros"])


def test_site_dir_is_not_the_docs_folder() -> None:
    """mkdocs.yml builds into build/site: MkDocs empties site_dir, which must never be site/ (the sources)."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = (ROOT / config["docs_dir"]).resolve()
    out = (ROOT / config["site_dir"]).resolve()
    assert config["docs_dir"] == "site"
    assert out != docs and docs not in out.parents and out not in docs.parents
    assert config["theme"]["font"] is False
    assert "site_url" not in config, "no placeholder host: whoever hosts the site sets site_url (see the README)"
    assert "navigation.instant" in config["theme"]["features"]
    assert config["hooks"] == ["generator/mkdocs_hooks.py"]
