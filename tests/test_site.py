"""Unit tests of generator.render.site: pages rendered from the export sample, no MkDocs involved."""

from __future__ import annotations

import copy
import html
import json
import re

import pytest
import yaml
from markupsafe import escape
from site_fixtures import HOSTILE_TITLE, ROOT, errata_sample, hostile_export, sample_export

from generator.render.site import (
    RESERVED_SLUGS,
    SEARCH_DOCUMENTS,
    VERIFIED_STATEMENT,
    SiteError,
    render_pages,
    render_section_list,
    render_verification_summary,
    rule_url,
    search_documents,
    tex_to_text,
    title_text,
)


@pytest.fixture
def pages() -> dict[str, str]:
    return render_pages(hostile_export(), errata_sample())


def _rule_page(pages: dict[str, str], rule_id: str) -> str:
    return pages[f"rules/{rule_id}.md"]


def _row(page: str, rule_id: str) -> str:
    match = re.search(rf'<tr id="{re.escape(rule_id)}".*?</tr>', page, re.DOTALL)
    assert match, f"no row for {rule_id}"
    return match.group(0)


def test_pages_rule_pages_tables_index_report_errata() -> None:
    """Renders a page per rule, a table per section with rules, the index, the report, the errata and the search documents."""
    pages = render_pages(sample_export(), [])
    assert sorted(pages) == [
        "all-rules.md", SEARCH_DOCUMENTS, "elementwise.md", "errata.md", "rules/elementwise-hadamard-x.md",
        "rules/trace-axb.md", "traces.md", "verification.md",
    ]
    assert "errata.md" not in render_pages(sample_export())


def test_every_rule_has_a_page_and_an_anchored_row(pages: dict[str, str]) -> None:
    """Each rule's row on its section page carries the id (the published anchor) and links to rules/<id>/."""
    for rule in hostile_export()["rules"]:
        table = pages[f"{rule['section']}.md"]
        assert table.count(f'<tr id="{rule["id"]}"') == 1
        assert f'href="../rules/{rule["id"]}/"' in _row(table, rule["id"])
        page = _rule_page(pages, rule["id"])
        assert f'<article class="mc-rule-page" data-rule-id="{rule["id"]}">' in page
        assert f'<h1 id="{rule["id"]}">' in page


def test_rows_follow_the_teaching_order() -> None:
    """A section's `rules` list (seam 2) orders its table; without it the export's order stays."""
    export = hostile_export()
    traces = next(s for s in export["sections"] if s["slug"] == "traces")
    traces["rules"] = ["inverse-differential", "trace-hostile", "trace-axb"]
    page = render_pages(export)["traces.md"]
    positions = [page.index(f'<tr id="{rid}"') for rid in traces["rules"]]
    assert positions == sorted(positions)
    rule_page = render_pages(export)["rules/trace-hostile.md"]
    assert "rule 2 of 3" in rule_page


def test_teaching_order_must_place_every_rule() -> None:
    """A section whose `rules` list leaves out one of its rules, or names another's, is refused."""
    export = hostile_export()
    traces = next(s for s in export["sections"] if s["slug"] == "traces")
    traces["rules"] = ["trace-axb", "elementwise-hadamard-x"]
    with pytest.raises(SiteError) as info:
        render_pages(export)
    assert "section traces: rule 'trace-hostile' is not in its teaching order (rules: list)" in info.value.problems
    assert "section traces: lists rule 'elementwise-hadamard-x' of section 'elementwise'" in info.value.problems


def test_both_layouts_on_page_and_row(pages: dict[str, str]) -> None:
    """A derivative rule has a formula per layout on its page and in its row, each with its copy button (the
    export's standalone LaTeX, which compiles without mcref's macros)."""
    for rule in sample_export()["rules"]:
        page = _rule_page(pages, rule["id"])
        row = _row(pages[f"{rule['section']}.md"], rule["id"])
        for layout in ("numerator", "denominator"):
            formula = f"{rule['latex']['derivative']} = {rule['latex'][layout]}"
            assert f'<div class="arithmatex">\\[{html.escape(formula)}\\]</div>' in page
            assert f'data-latex="{html.escape(rule["latex"]["standalone"][layout])}"' in page
            assert f'<td class="mc-c-f mc-lay-{layout}">' in row
            assert html.escape(formula) in row


def test_trace_axb_layouts_differ_by_transpose(pages: dict[str, str]) -> None:
    """trace-axb prints B A in numerator layout and A^T B^T in denominator layout, with result shapes."""
    page = _rule_page(pages, "trace-axb")
    assert "\\mathbf{B} \\mathbf{A}\\]" in page and "\\mathbf{A}^{\\top} \\mathbf{B}^{\\top}\\]" in page
    assert "result: p × n" in page and "result: n × p" in page
    assert "Denominator layout <span class=\"mc-own\">(as the rule is stated)</span>" in page


def test_differential_rule_has_one_form(pages: dict[str, str]) -> None:
    """A differential rule has a single formula on its page, and the same in both table columns."""
    page = _rule_page(pages, "inverse-differential")
    assert page.count('<section class="mc-form') == 1
    assert "d(\\mathbf{X}^{-1}) = -\\mathbf{X}^{-1}" in page
    assert "mc-layout-toggle" not in page
    row = _row(pages["traces.md"], "inverse-differential")
    assert 'class="mc-row mc-same"' in row and "same in both layouts" in row


def test_every_rule_string_is_escaped(pages: dict[str, str]) -> None:
    """Titles, aliases, tags, conditions, sources and notes are HTML-escaped: no tag gets through."""
    page = _rule_page(pages, "trace-hostile")
    assert str(escape(HOSTILE_TITLE)) in page
    for raw in ("<script", "<img", "<b>", "<i>", "<em>", "<a href=javascript"):
        assert raw not in page, raw
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    for name, text in pages.items():
        if name.endswith(".md"):
            assert "<script" not in text, name
    assert str(escape(HOSTILE_TITLE)) in pages["all-rules.md"]
    assert str(escape(HOSTILE_TITLE)) in _row(pages["traces.md"], "trace-hostile")
    # the page title (front matter) is a JSON string without < > &
    assert 'title: "scriptalert(1)/script  \\"quotes\\" *stars*"' in page


def test_notes_math_is_rendered_and_escaped(pages: dict[str, str]) -> None:
    """`$..$` in notes becomes an inline math element with its TeX escaped; the rest is text."""
    page = _rule_page(pages, "trace-hostile")
    assert '<span class="arithmatex">\\(\\mathbf{A}^{\\top} &lt; \\mathbf{B}\\)</span>' in page
    assert "Watch &lt;em&gt;this&lt;/em&gt;:" in page


def test_title_math_is_typeset_and_title_text_is_plain() -> None:
    """A title with `$...$` prints its math; the page title and search use the plain `title_text`."""
    export = sample_export()
    export["rules"][1]["title"] = "Trace of $\\mathbf{A}\\mathbf{X}\\mathbf{B}$, by X"
    export["rules"][1]["title_text"] = "Trace of AXB, by X"
    pages = render_pages(export)
    page = pages["rules/trace-axb.md"]
    assert '<h1 id="trace-axb">Trace of <span class="arithmatex">\\(\\mathbf{A}\\mathbf{X}\\mathbf{B}\\)</span>, by X</h1>' in page
    assert 'title: "Trace of AXB, by X"' in page
    docs = {d["id"]: d for d in json.loads(pages[SEARCH_DOCUMENTS])["docs"]}
    assert docs["trace-axb"]["t"] == "Trace of AXB, by X"
    del export["rules"][1]["title_text"]
    assert title_text(export["rules"][1], export["macros"]) == "Trace of AXB, by X"


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
    export["sections"].append({"slug": "rules", "title": "Rules", "summary": "", "order": 999, "count": 0})
    export["rules"][1]["section"] = "nowhere"
    with pytest.raises(SiteError) as info:
        render_pages(export)
    problems = info.value.problems
    assert "rule elementwise-hadamard-x: related rule 'no-such-rule' is not in the export" in problems
    assert "section slug 'rules' is the name of a page of the site" in problems
    assert "rule trace-axb: unknown section 'nowhere'" in problems
    assert {"search", "rules", "concordance", "check"} <= RESERVED_SLUGS


def test_listed_sizes_badge_never_claims_every_size(pages: dict[str, str]) -> None:
    """Without `scope` (or with listed-sizes) the badge says "listed sizes" and prints the detail; never "every size"."""
    page = _rule_page(pages, "trace-axb")
    assert "✓ Verified at the listed sizes" in page
    assert "Proved for every size" not in page
    assert "m = 2, n = 3, p = 4; m = 3, n = 4, p = 2" in page
    assert "<dt>Numeric points</dt><dd>3</dd>" in page
    assert "verification engine 0.1.0, SymPy 1.14.0" in page
    assert "not a proof for every size" in VERIFIED_STATEMENT


@pytest.mark.parametrize("statement, badge", [
    ("Proved for every size (exact, randomized: error < 1e-15)", "Proved for every size"),
    ("Proved (exact, randomized: error < 1e-36)", "Proved"),
    ("Verified at n = 2 and 3: the all-sizes model keeps only exp", "Verified at n = 2 and 3:"),
    ("Verified at (m, n) = (2, 3), (3, 2) and (5, 2): the model keeps (only) sqrt", "Verified at (m, n) = (2, 3), (3, 2) and (5, 2):"),
    ("Verified", "Verified"),
])
def test_badge_is_the_head_of_the_statement(statement: str, badge: str) -> None:
    """The badge holds the statement's head; head and rest are the statement verbatim."""
    from generator.render.site import _split_statement
    head, rest = _split_statement(statement)
    assert head == badge and head + rest == statement


def test_all_sizes_badge_prints_the_statement() -> None:
    """A verdict of scope all-sizes prints the export's statement verbatim (its head in the badge) and, in
    words, what the proof rests on; a listed-sizes verdict says why it is not every size."""
    export = sample_export()
    v = export["rules"][1]["verification"]
    v.update(scope="all-sizes", statement="Proved for every size (exact, randomized: error < 1e-15)",
             all_sizes={"grid": [{"m": 2, "n": 2, "p": 2}, {"m": 2, "n": 2, "p": 3}, {"m": 2, "n": 3, "p": 2}],
                        "bounds": {"B": {"m": 1, "n": 2, "p": 1}, "L": {"m": 0, "n": 0, "p": 0}, "U": {"m": 0, "n": 1, "p": 0},
                                   "D": 1, "local": False},
                        "prime": 2305843009213693951, "primes": [2305843009213693951], "seeds": 2, "error_bound": 1e-15},
             reason="")
    export["rules"][0]["verification"].update(scope="listed-sizes", statement="Verified at n = 2 and 3: outside the theory",
                                              reason="an element-wise product is outside the all-sizes theory")
    pages = render_pages(export)
    page = pages["rules/trace-axb.md"]
    assert '<span class="mc-badge">✓ Proved for every size</span> (exact, randomized: error &lt; 1e-15)</p>' in page
    assert "<dt>Sizes that settle every size</dt><dd>m = 2, n = 2, p = 2; m = 2, n = 2, p = 3; m = 2, n = 3, p = 2</dd>" in page
    assert ("<dt>Bounds of the proof</dt><dd>index values per letter (B): m 1, n 2, p 1; degree in each size (L + U): "
            "m 0, n 1, p 0; total degree D = 1</dd>") in page
    assert "<dt>Exact arithmetic</dt><dd>modulo 2^61 - 1</dd>" in page
    assert "<dt>Chance a false rule passes</dt><dd>less than 1e-15</dd>" in page
    assert "<dt>Witness sizes (SymPy, finite differences)</dt>" in page
    other = pages["rules/elementwise-hadamard-x.md"]
    assert '<span class="mc-badge">✓ Verified at n = 2 and 3:</span> outside the theory</p>' in other
    assert "every size" not in other.split("mc-statement")[1].split("</p>")[0]
    assert "<dt>Why not every size</dt><dd>an element-wise product is outside the all-sizes theory</dd>" in other
    report = pages["verification.md"]
    assert "<tr><th>proved for every size</th><td>1</td></tr>" in report
    assert "<tr><th>verified at listed sizes</th><td>1</td></tr>" in report
    assert "Proved for every size (exact, randomized: error &lt; 1e-15)" in report  # the statement, verbatim
    assert "<strong>1 of 2</strong> published rules are <em>proved for every size</em>; the other 1 is" in report
    listed = report.split('<h2 id="listed-sizes">')[1].split("</table>")[0]  # the rules not proved, with why
    assert "elementwise-hadamard-x" in listed and "an element-wise product is outside the all-sizes theory" in listed
    assert "trace-axb" not in listed
    assert '<tr id="report-elementwise-hadamard-x" class="mc-scope-listed">' in report
    old_engine = render_pages(sample_export())["verification.md"]  # no scope anywhere: nothing claims every size
    assert "are <em>verified at the sizes listed</em> on their pages" in old_engine and 'id="listed-sizes"' not in old_engine
    home = render_verification_summary(dict(export, counts=dict(export["counts"], all_sizes=1)))
    assert "1 of the 2 rules are\n*proved for every size*" in home and "The other 1 is verified at the sizes" in home
    assert "not a proof for every size" in render_verification_summary(sample_export())
    scalar = dict(v, all_sizes=dict(v["all_sizes"], grid=[{}], bounds={"B": {}, "L": {}, "U": {}, "D": 0, "local": False}),
                  statement="Proved (exact, randomized: error < 1e-36)")
    export["rules"][1]["verification"] = scalar
    page = render_pages(export)["rules/trace-axb.md"]
    assert "<dd>proved (every symbol is a scalar: there are no sizes)</dd>" in page and "Sizes that settle" not in page
    export["rules"][1]["verification"] = v
    v["all_sizes"]["grid"] = [{"n": k} for k in range(2, 12)]
    assert "10 size tuples, from n = 2 to n = 11" in render_pages(export)["rules/trace-axb.md"]


def test_cite_box_prints_the_export(pages: dict[str, str]) -> None:
    """The cite box and Copy LaTeX print the export's strings verbatim (generator/render/cite.py makes them, once)."""
    export = hostile_export()
    assert "@misc{mcref:trace-axb," in _rule_page(pages, "trace-axb")
    export["rules"][1]["cite"] = {"key": "mcref:trace-axb", "url": None, "text": "CITE-TEXT", "markdown": "CITE-MD",
                                  "bibtex": "@misc{mcref:trace-axb, note = {BIB}}", "biblatex": "@online{mcref:trace-axb}"}
    export["rules"][1]["latex"]["standalone"] = {"numerator": "STANDALONE-NUM", "denominator": "STANDALONE-DEN", "where": []}
    page = render_pages(export)["rules/trace-axb.md"]
    for text in ("CITE-TEXT", "CITE-MD", "@misc{mcref:trace-axb, note = {BIB}}", "@online{mcref:trace-axb}"):
        assert text in page
    assert 'data-latex="STANDALONE-NUM"' in page and 'data-latex="STANDALONE-DEN"' in page


def test_an_export_without_cite_forms_is_refused() -> None:
    """An export without the cite forms cannot be published: the site never makes up a citation of its own."""
    export = sample_export()
    del export["rules"][0]["cite"]
    with pytest.raises(SiteError, match="no cite forms"):
        render_pages(export)


def test_site_url_absent_keeps_working() -> None:
    """Without a site_url (or with an empty one) no page claims an address: the rule page marks its
    link for mcref.js to show the address it is served from, redirects stay relative."""
    for empty in (None, ""):
        export = sample_export()
        export["site_url"] = empty
        export["redirects"] = {"old-trace": "trace-axb"}
        for rule in export["rules"]:
            rule["url"] = None
        pages = render_pages(export)
        assert '<a class="mc-permalink" href="./" data-mc-here title="The permanent address of this rule">rules/trace-axb/</a>' \
            in pages["rules/trace-axb.md"]
        assert "mcref.example.org" not in pages["rules/trace-axb.md"]
        assert '<link rel="canonical" href="../trace-axb/">' in pages["rules/old-trace/index.html"]
    export["site_url"] = "https://course.example/mcref/"
    page = render_pages(export)["rules/trace-axb.md"]
    assert ">https://course.example/mcref/rules/trace-axb/</a>" in page and "data-mc-here" not in page


def test_where_lines_print_under_the_formula() -> None:
    """`latex.where` (seam 1) prints as "where" lines under the formula, on the page and in the row."""
    export = sample_export()
    export["rules"][1]["latex"]["where"] = [{"name": "\\mathbf{P}", "value": "\\softmax\\left(\\mathbf{S}\\right)"}]
    export["macros"]["\\softmax"] = "\\operatorname{softmax}"
    pages = render_pages(export)
    line = '<span class="mc-where-label">where</span> <span class="arithmatex">\\(\\mathbf{P} = \\softmax\\left(\\mathbf{S}\\right)\\)</span>'
    assert pages["rules/trace-axb.md"].count(line) == 2  # under each layout
    assert line in _row(pages["traces.md"], "trace-axb")
    docs = {d["id"]: d for d in json.loads(pages[SEARCH_DOCUMENTS])["docs"]}
    assert docs["trace-axb"]["pw"] == ["P = softmax(S)"]


def test_redirects_get_a_page_and_an_anchor() -> None:
    """A renamed id gets rules/<old>/ redirecting to rules/<new>/, and an anchor on the new row."""
    export = hostile_export()
    export["redirects"] = {"old-trace": "trace-axb"}
    pages = render_pages(export)
    redirect = pages["rules/old-trace/index.html"]
    assert '<meta http-equiv="refresh" content="0; url=../trace-axb/">' in redirect
    assert 'location.replace("../trace-axb/" + location.search + location.hash)' in redirect
    assert '<span id="old-trace" class="mc-old-anchor"></span>' in _row(pages["traces.md"], "trace-axb")
    docs = {d["id"]: d for d in json.loads(pages[SEARCH_DOCUMENTS])["docs"]}
    assert docs["trace-axb"]["o"] == ["old-trace"]
    export["redirects"] = {"trace-hostile": "trace-axb", "gone": "nowhere"}
    with pytest.raises(SiteError) as info:
        render_pages(export)
    assert "redirect trace-hostile -> trace-axb: 'trace-hostile' is still a rule id; a redirect names an id that is gone" in info.value.problems
    assert "redirect gone -> nowhere: 'nowhere' is not a rule of the export" in info.value.problems


@pytest.mark.parametrize("conditions, assume, shown", [
    ("a > 0", {"a": ["positive"]}, ["a > 0"]),
    ("x ≠ 0", {"x": ["nonzero"]}, ["x ≠ 0"]),
    ("Sigma symmetric positive definite", {"Sigma": ["spd"]}, ["Sigma symmetric positive definite"]),
    ("X invertible", {"X": ["invertible"], "A": ["symmetric"]}, ["X invertible", "A symmetric"]),
    ("x nonzero", {"x": ["positive"]}, ["x nonzero", "x positive"]),
    ("ax > 0", {"x": ["positive"]}, ["ax > 0", "x positive"]),  # another symbol's condition
    (None, {"X": ["spd"]}, ["X spd"]),
])
def test_conditions_do_not_repeat_the_assumptions(conditions, assume, shown) -> None:
    """An `assume` property is shown unless the conditions already say it in words."""
    from generator.render.site import _conditions
    assert _conditions({"conditions": conditions, "assume": assume}) == shown


@pytest.mark.parametrize("conditions, assume, symbols, shown", [
    ("L differentiable; ε > 0", {"epsilon": ["positive"]}, {"epsilon": {"latex": "\\epsilon"}}, ["L differentiable; ε > 0"]),
    ("lambda > 0", {"lam": ["positive"]}, {"lam": {"latex": "\\lambda"}}, ["lambda > 0"]),
    ("no entry of x is 0", {"x": ["nonzero"]}, {"x": {"latex": "\\mathbf{x}"}}, ["no entry of x is 0"]),
    ("every standard deviation positive", {"sigma_q": ["positive"]}, {"sigma_q": {"latex": "\\sigma_q"}},
     ["every standard deviation positive", "σ_q positive"]),
])
def test_conditions_know_a_symbol_by_how_it_prints(conditions, assume, symbols, shown) -> None:
    """A condition that names a symbol as it prints (ε for epsilon, lambda for lam) is not repeated as "epsilon
    positive"; an assumption the words do not say is shown with the printed symbol, not its identifier."""
    from generator.render.site import _conditions
    assert _conditions({"conditions": conditions, "assume": assume, "symbols": symbols}) == shown


def test_retired_ids_keep_their_old_section_anchor() -> None:
    """`retired` (seam 3): /<old-section>/#<old-id> lands on a row of the old section's table that
    shows the rule the id now is and links to it; a retired id of the same section is an anchor on
    the rule's own row; a section with no rules left keeps a page for its old anchors."""
    export = hostile_export()
    export["redirects"] = {"old-hadamard": "trace-axb", "old-trace": "trace-axb", "gone-id": "trace-axb"}
    export["retired"] = [
        {"id": "old-hadamard", "to": "trace-axb", "section": "elementwise"},
        {"id": "old-trace", "to": "trace-axb", "section": "traces"},
        {"id": "gone-id", "to": "trace-axb", "section": "old-section"},
    ]
    pages = render_pages(export)
    moved = _row(pages["elementwise.md"], "old-hadamard")
    assert 'class="mc-row mc-moved"' in moved
    assert 'href="../rules/trace-axb/"' in moved and 'href="../traces/#trace-axb">in Traces</a>' in moved
    assert "old-hadamard → trace-axb" in moved and "mc-lay-numerator" in moved  # the formula is on the row
    assert pages["elementwise.md"].count('<tr id="elementwise-hadamard-x"') == 1  # the section's own rows stay
    own = _row(pages["traces.md"], "trace-axb")
    for old in ("old-trace", "old-hadamard", "gone-id"):
        assert f'<span id="{old}" class="mc-old-anchor"></span>' in own
    assert '<tr id="old-trace"' not in pages["traces.md"]  # same section: no extra row
    assert '<tr id="gone-id"' in pages["old-section.md"] and "now live in other sections" in pages["old-section.md"]
    for old in ("old-hadamard", "old-trace", "gone-id"):
        assert f"rules/{old}/index.html" in pages
    assert 'formerly <code>gone-id</code>, <code>old-hadamard</code>, <code>old-trace</code>' in pages["rules/trace-axb.md"]
    # an export without `retired` (older engine): anchors on the rule's row only
    del export["retired"]
    pages = render_pages(export)
    assert '<tr id="old-hadamard"' not in pages["elementwise.md"] and "old-section.md" not in pages
    export["retired"] = [{"id": "trace-hostile", "to": "nowhere", "section": "Bad Slug"},
                         {"id": "x-old", "to": "trace-axb", "section": "rules"}]
    with pytest.raises(SiteError) as info:
        render_pages(export)
    assert "retired trace-hostile -> nowhere: 'trace-hostile' is still a rule id; a retired id names an id that is gone" in info.value.problems
    assert "retired trace-hostile -> nowhere: 'nowhere' is not a rule of the export" in info.value.problems
    assert any("retired x-old: its old section 'rules' is not a section slug" in p for p in info.value.problems)


def test_concordance_page_per_source() -> None:
    """Each source of `concordance` (seam 7) gets a table page linking its entries to rule pages, with
    the source's citation, the status under the number, position-only numbers starred, and a corrected
    entry linked to its erratum."""
    export = sample_export()
    export["concordance"] = {"cookbook-2012": [
        {"ref": "101", "formula": "\\frac{\\partial}{\\partial X} \\tr(AXB) = A^T B^T", "status": "verified",
         "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "Lean: eq_101", "note": ""},
        {"ref": "1", "formula": "", "status": "not-applicable", "rules": [], "number": "position-only",
         "confirmed_by": "", "note": "A definition, not a derivative: $A^{-1}$."},
        {"ref": "92", "formula": "X", "status": "verified-corrected", "rules": ["trace-axb"], "number": "position-only",
         "confirmed_by": "position", "note": "Printed transposed.", "erratum": {"number": 1, "title": "t"}},
    ]}
    export["concordance_sources"] = {"cookbook-2012": {"title": "The Matrix Cookbook", "citation": "Petersen and Pedersen, 2012",
                                                       "counts": {}}}
    pages = render_pages(export)
    page = pages["concordance/cookbook-2012.md"]
    assert '<tr id="eq-101" class="mc-cc-verified">' in page and 'href="../../rules/trace-axb/"' in page
    assert "Every entry of Petersen and Pedersen, 2012, beside" in page
    assert "3 entries: 1 verified, 1 verified, corrected, 1 not applicable." in page
    assert '<span class="mc-cc-num" title="Lean: eq_101">101</span>' in page
    assert '1<span class="mc-numnote">*</span>' in page and "known from its position" in page
    assert '<a class="mc-cc-erratum" href="../../errata/#cookbook-erratum-1">Erratum 1</a>' in page
    assert '<span class="arithmatex">\\(A^{-1}\\)</span>' in page
    assert "mc-cc-group" not in page and ">Eq.</th>" in page  # numbered equations: one list
    export["concordance"]["wikipedia"] = [
        {"ref": f"{table} {n}", "formula": "x", "status": "verified", "rules": ["trace-axb"], "note": ""}
        for table, n in (("vector-by-vector", 1), ("vector-by-vector", 2), ("scalar-by-matrix", 1))]
    wiki = render_pages(export)["concordance/wikipedia.md"]
    assert '<th colspan="4" scope="rowgroup" id="table-vector-by-vector">Vector-by-vector</th>' in wiki
    assert '<tr id="eq-scalar-by-matrix-1" class="mc-cc-verified"><th scope="row" class="mc-cc-ref"><span class="mc-cc-num">1</span>' in wiki
    assert '<a href="#table-scalar-by-matrix">scalar-by-matrix</a> (1)' in wiki
    export["concordance"]["cookbook-2012"][0]["rules"] = ["no-such-rule"]
    with pytest.raises(SiteError, match="concordance cookbook-2012, 101: rule 'no-such-rule' is not in the export"):
        render_pages(export)


def test_labelled_concordance_reads_as_its_tables() -> None:
    """A source whose refs are "<table> <row>" labels (Wikipedia's tables) gets a heading row per table and
    the row number in the first column (headed Row); anchors keep the whole label."""
    export = sample_export()
    export["concordance"] = {"wikipedia": [
        {"ref": "scalar-by-matrix 1", "formula": "x", "status": "verified", "rules": ["trace-axb"], "note": ""},
        {"ref": "scalar-by-matrix 2", "formula": "y", "status": "verified", "rules": ["trace-axb"], "note": ""},
        {"ref": "differential of a matrix 1", "formula": "z", "status": "not-applicable", "rules": [], "note": "Kronecker."},
    ]}
    page = render_pages(export)["concordance/wikipedia.md"]
    assert '<th scope="col" class="mc-cc-ref">Row</th>' in page
    assert page.count('<tr class="mc-cc-group">') == 2
    assert '<th colspan="4" scope="rowgroup" id="table-scalar-by-matrix">Scalar-by-matrix</th>' in page
    assert '<th colspan="4" scope="rowgroup" id="table-differential-of-a-matrix">Differential of a matrix</th>' in page
    assert '<tr id="eq-scalar-by-matrix-2" class="mc-cc-verified">' in page and '<span class="mc-cc-num">2</span>' in page
    cookbook = sample_export()
    cookbook["concordance"] = {"cookbook-2012": [
        {"ref": "101", "formula": "x", "status": "verified", "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "", "note": ""}]}
    plain = render_pages(cookbook)["concordance/cookbook-2012.md"]
    assert "mc-cc-group" not in plain and '<th scope="col" class="mc-cc-ref">Eq.</th>' in plain


def test_cookbook_errata_join_the_errata_page() -> None:
    """errata/cookbook.yaml (the hook passes it) adds a section to the errata page with its own anchors;
    the paper's anchors stay."""
    cookbook = [{"number": 1, "title": "A transposed term in $\\mathbf{a}^\\top \\mathbf{X}$", "where": "eq. 92",
                 "cookbook": "$\\mathbf{X}^\\top$", "problem": "wrong", "correction": "right", "rule": "trace-axb", "note": ""}]
    page = render_pages(sample_export(), errata_sample(), cookbook_errata=cookbook)["errata.md"]
    assert '<h1 id="errata">Errata</h1>' in page
    assert 'id="erratum-6"' in page and 'id="cookbook-erratum-1"' in page
    assert '<p class="mc-label">The Cookbook</p>' in page and "In the Cookbook: eq. 92" in page
    paper_only = render_pages(sample_export(), errata_sample())["errata.md"]
    assert '<h1 id="errata">Errata of the paper</h1>' in paper_only and "cookbook" not in paper_only.lower()
    cookbook[0]["rule"] = "nowhere"
    with pytest.raises(SiteError, match="erratum cookbook 1: rule 'nowhere' is not a verified rule"):
        render_pages(sample_export(), errata_sample(), cookbook_errata=cookbook)


def test_report_counts_and_includes_the_theory(pages: dict[str, str]) -> None:
    """The report counts verdicts and scopes, lists every rule, and includes site/verification-theory.md when given."""
    export = hostile_export()
    for rule in export["rules"]:
        assert f'href="../rules/{rule["id"]}/"' in pages["verification.md"]
        assert f'href="../rules/{rule["id"]}/"' in pages["all-rules.md"]
    assert "<tr><th>verified</th><td>4</td></tr>" in pages["verification.md"]
    assert "<tr><th>refuted</th><td>0</td></tr>" in pages["verification.md"]
    assert "What “proved for every size” means" not in pages["verification.md"]
    theory = "Schwartz-Zippel: a nonzero polynomial of degree $d$ ..."
    assert "\n\n" + theory + "\n\n" in render_pages(export, theory=theory)["verification.md"]


def test_errata_show_paper_beside_verified_rule(pages: dict[str, str]) -> None:
    """An erratum shows the paper's form beside the verified rule's formula; without a rule, the correction."""
    page = pages["errata.md"]
    first = page[page.index('id="erratum-6"') : page.index('id="erratum-2"')]
    assert '<span class="arithmatex">\\(\\mathbf{w} \\otimes \\mathbf{x}\\)</span>' in first
    assert "\\[\\frac{\\partial (\\mathbf{w} \\odot \\mathbf{x})}{\\partial \\mathbf{x}} = \\diag(\\mathbf{w})\\]" in first
    assert 'href="../rules/elementwise-hadamard-x/"' in first
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
    assert '<a href="elementwise/">Element-wise binary operators</a> <span class="mc-n">(1)</span>' in text
    assert '<a href="traces/">Traces</a> <span class="mc-n">(1)</span>' in text


def test_search_documents_are_readable() -> None:
    """One search document per rule and per section; previews are plain text in each layout, without ids or TeX."""
    data = search_documents(hostile_export())
    docs = data["docs"]
    rules = [d for d in docs if d["k"] == "r"]
    assert [d["id"] for d in rules] == [r["id"] for r in hostile_export()["rules"]]
    assert {d["id"] for d in docs if d["k"] == "s"} == {"elementwise", "traces"}
    axb = next(d for d in rules if d["id"] == "trace-axb")
    assert axb["pn"] == "(∂tr(A X B))/∂X = B A" and axb["pd"] == "(∂tr(A X B))/∂X = Aᵀ Bᵀ"
    assert axb["u"] == "rules/trace-axb/" and axb["f"] == ["trace(A @ X @ B)"]
    for d in rules:
        for key in ("pn", "pd"):
            assert "\\" not in d[key] and d["id"] not in d[key]


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
        ("\\lVert \\mathbf{x} \\rVert_2^2", "‖ x ‖₂²"),
        ("\\mathbf{1}_{m \\times m}", "1_(m × m)"),  # a subscript of several symbols, bracketed
        ("x_{ij} + W_{h}", "xᵢⱼ + Wₕ"),
        ("\\mathbf{w} \\oslash \\mathbf{x}", "w ⊘ x"),
        ("\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}", "[ a , b ; c , d ]"),
    ],
)
def test_tex_to_text(tex: str, text: str) -> None:
    """Search previews read LaTeX as plain text."""
    assert tex_to_text(tex, sample_export()["macros"]) == text


def test_tex_to_text_leaves_no_backslash() -> None:
    """No LaTeX of the sample leaves a backslash in its plain-text reading."""
    for rule in hostile_export()["rules"]:
        for value in rule["latex"].values():
            if isinstance(value, str) and value:
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
    assert config["plugins"] == []  # the site's own search box; Material's search plugin is off
    assert config["hooks"] == ["generator/render/mkdocs_hooks.py"]


def test_plain_text_titles_typeset_in_bibtex() -> None:
    """Every superscript, subscript and accent the plain-text titles use (generator/render/plaintext.py) has a
    pdfLaTeX form in generator/render/texescape.py, so a title never breaks the BibTeX of mcref.bib."""
    from generator.render import plaintext
    from generator.render.texescape import latex_escape

    produced = set()
    for table in (plaintext._SUPERSCRIPTS, plaintext._SUBSCRIPTS):
        produced |= {chr(v) for v in table.values()}
    for ch in sorted(produced):
        latex_escape(f"x{ch}", strict=True)  # raises TexError on a character pdfLaTeX cannot print
    for tex in ("\\hat{\\mathbf{x}}", "\\bar{x}", "\\tilde{\\mathbf{y}}", "\\mathbf{1}_{m}", "x_{ij}", "y^{8}"):
        assert "\\ensuremath" in latex_escape(tex_to_text(tex), strict=True)


def test_copy_latex_keeps_the_where_lines() -> None:
    """The "Copy LaTeX" of a rule with named intermediates copies its where lines too (from the standalone forms),
    so P and dP are defined on the slide it is pasted into."""
    export = sample_export()
    rule = next(r for r in export["rules"] if r["id"] == "trace-axb")
    where = [{"name": "\\mathbf{P}", "value": "\\operatorname{softmax}\\left(\\mathbf{S}\\right)"}]
    rule["latex"] = dict(rule["latex"], where=[{"name": "\\mathbf{P}", "value": "\\softmax\\left(\\mathbf{S}\\right)"}])
    rule["latex"]["standalone"] = dict(rule["latex"]["standalone"], where=where)
    page = _rule_page(render_pages(export, []), "trace-axb")
    for layout in ("numerator", "denominator"):
        copy = ("\\begin{gathered} " + rule["latex"]["standalone"][layout] + " \\\\ \\begin{aligned} \\text{where } "
                "\\mathbf{P} &= \\operatorname{softmax}\\left(\\mathbf{S}\\right) \\end{aligned} \\end{gathered}")
        assert f'data-latex="{html.escape(copy)}"' in page


def test_the_engine_version_is_not_shown_as_a_version_of_mcref() -> None:
    """A rule page and the report name the verification engine's version as the engine's, so it does not read as a
    second version of mcref beside the version the citation gives."""
    export = sample_export()
    engine = next(r for r in export["rules"] if r["id"] == "trace-axb")["verification"]["engine"]
    pages = render_pages(export, [])
    for page in (_rule_page(pages, "trace-axb"), pages["verification.md"]):
        assert f"verification engine {engine}" in page
        assert f"mcref {engine}" not in page
