"""`mkdocs build --strict` of the real mkdocs.yml on small exports, into tmp_path."""

from __future__ import annotations

import filecmp
import json
import re
from pathlib import Path

import pytest
from site_fixtures import build_site, errata_sample, hostile_export, sample_export


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    result = build_site(hostile_export(), out, errata=errata_sample())
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    return out / "site"


def test_build_writes_every_page(site: Path) -> None:
    """The strict build writes the hand-written pages, one page per section, the index, report and errata."""
    for page in (
        "index.html",
        "notation/index.html",
        "layouts/index.html",
        "cite/index.html",
        "contributing/index.html",
        "elementwise/index.html",
        "traces/index.html",
        "all-rules/index.html",
        "verification/index.html",
        "errata/index.html",
        "rules/trace-axb/index.html",
        "rules/inverse-differential/index.html",
        "assets/mcref-search.json",
        "assets/minisearch/minisearch.js",
    ):
        assert (site / page).is_file(), page


def test_generated_pages_are_not_written_into_the_sources(site: Path) -> None:
    """Generated pages exist only in the built site, never in site/ (the docs folder)."""
    root = Path(__file__).resolve().parent.parent
    for name in ("traces.md", "elementwise.md", "all-rules.md", "verification.md", "errata.md", "rules.json"):
        assert not (root / "site" / name).exists()


def test_rule_rows_and_pages_in_html(site: Path) -> None:
    """Section pages hold a row per rule anchored at its id; each rule page holds the escaped title and both layouts."""
    page = (site / "traces" / "index.html").read_text(encoding="utf-8")
    for rid in ("trace-axb", "trace-hostile", "inverse-differential"):
        assert f'<tr id="{rid}" class="mc-row' in page
        assert f'href="../rules/{rid}/"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    rule = (site / "rules" / "trace-hostile" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rule and "<script>alert" not in rule
    assert rule.count('<section class="mc-form mc-lay-') == 2
    # rule pages are not in the navigation; section pages are
    assert 'href="../rules/trace-axb/"' not in page.split('<div class="md-content"')[0]


def test_aliases_typed_as_formulas_are_shown_as_code(site: Path) -> None:
    """An alias that is a typed spelling (operators, brackets) is shown in code type, escaped; words stay text."""
    rule = (site / "rules" / "trace-hostile" / "index.html").read_text(encoding="utf-8")
    assert '<code class="mc-alias">&lt;img src=x onerror=alert(2)&gt;</code>' in rule
    assert '<span class="mc-alias">zebra-alias</span>' in rule


def test_home_page_says_what_the_checks_proved(site: Path) -> None:
    """The home page's verification paragraph comes from the export (no all-sizes verdicts in the
    sample: it must not claim a proof for every size)."""
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "mcref:verification" not in home
    assert "That is strong evidence, not a proof for every size." in home
    assert "are\n<em>proved for every size</em>" not in home


def test_math_is_typeset_at_build_time(site: Path) -> None:
    """Every formula of every page arrives typeset by KaTeX; no raw arithmatex element is left."""
    for html_file in site.rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        assert 'class="arithmatex">\\(' not in text and 'class="arithmatex">\\[' not in text, html_file
    page = (site / "traces" / "index.html").read_text(encoding="utf-8")
    assert page.count('<span class="katex-display">') >= 4
    assert '<annotation encoding="application/x-tex">' in page  # MathML kept for screen readers


def test_rules_json_is_the_export(site: Path) -> None:
    """build/site/rules.json is the export the pages were rendered from."""
    assert json.loads((site / "rules.json").read_text(encoding="utf-8")) == hostile_export()


def test_katex_is_served_from_the_site(site: Path) -> None:
    """KaTeX's script, style, auto-render and woff2 fonts are in the site; pages name no other host."""
    katex = site / "assets" / "katex"
    for name in ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "fonts/KaTeX_Main-Regular.woff2"):
        assert (katex / name).is_file(), name
    css = (katex / "katex.min.css").read_text(encoding="utf-8")
    for font in set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css)):
        assert (katex / font).is_file(), font
    for html_file in site.rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        loads = re.findall(r'\ssrc="((?:https?:)?//[^"]+)"', text)
        for tag in re.findall(r"<link\b[^>]*>", text):
            rel = re.search(r'rel="([^"]+)"', tag)
            href = re.search(r'href="((?:https?:)?//[^"]+)"', tag)
            if href and not (rel and rel.group(1) in ("canonical", "alternate")):
                loads.append(href.group(1))
        assert loads == [], f"{html_file.relative_to(site)} loads from another host: {loads}"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_search_documents_are_served(site: Path) -> None:
    """The search documents and MiniSearch are in the site; Material's own search index is not built."""
    data = json.loads((site / "assets" / "mcref-search.json").read_text(encoding="utf-8"))
    ids = {d["id"] for d in data["docs"] if d["k"] == "r"}
    assert ids == {r["id"] for r in hostile_export()["rules"]}
    hadamard = next(d for d in data["docs"] if d["id"] == "elementwise-hadamard-x")
    assert hadamard["t"] == "Hadamard product w * x, by x" and "element-wise product" in hadamard["a"]
    assert not (site / "search" / "search_index.json").exists()
    page = (site / "traces" / "index.html").read_text(encoding="utf-8")
    assert 'class="mc-search-dialog"' in page and "assets/js/mcref-search.js" in page


def test_build_is_reproducible(site: Path, tmp_path: Path) -> None:
    """A second build of the same export gives the same bytes, sitemap.xml.gz included."""
    result = build_site(hostile_export(), tmp_path, errata=errata_sample())
    assert result.returncode == 0, result.stderr
    again = tmp_path / "site"
    first = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert first == second
    _, mismatch, errors = filecmp.cmpfiles(site, again, [str(p) for p in first], shallow=False)
    assert mismatch == [] and errors == []


def test_refuted_rule_stops_the_build_cleanly(tmp_path: Path) -> None:
    """A refuted rule in the export makes `mkdocs build` fail with a message, not a traceback."""
    export = sample_export()
    export["rules"][1]["verification"]["status"] = "refuted"
    result = build_site(export, tmp_path)
    assert result.returncode != 0
    assert "rule trace-axb: verification status is 'refuted'; only verified rules are published" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "site" / "traces").exists()


def test_unreadable_export_stops_the_build_cleanly(tmp_path: Path) -> None:
    """An export file that is not JSON stops the build with a message naming it."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = build_site(sample_export(), tmp_path, env={"MCREF_EXPORT": str(bad)})
    assert result.returncode != 0
    assert f"cannot read the export named by MCREF_EXPORT ({bad})" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_date_comes_from_the_export(tmp_path: Path) -> None:
    """Without SOURCE_DATE_EPOCH the sitemap's dates (and the .gz header) are the export's build date, not today."""
    import gzip
    import struct

    export = sample_export()
    export["build_date"] = "2020-01-02"
    # (a sitemap lists pages only when the site has an address)
    result = build_site(export, tmp_path, env={"MCREF_SITE_URL": "https://mcref.example.org/"})
    assert result.returncode == 0, result.stderr
    sitemap = (tmp_path / "site" / "sitemap.xml").read_text(encoding="utf-8")
    assert set(re.findall(r"<lastmod>([^<]+)</lastmod>", sitemap)) == {"2020-01-02"}
    raw = (tmp_path / "site" / "sitemap.xml.gz").read_bytes()
    assert struct.unpack("<I", raw[4:8])[0] == 1577923200  # 2020-01-02T00:00:00Z
    assert gzip.decompress(raw).decode("utf-8") == sitemap
