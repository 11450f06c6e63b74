"""The built site in a real browser: rule pages, anchored rows, the layout switch, search,
copy, print, mobile width, offline."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import browser_export
from site_fixtures import HOSTILE_TITLE, hostile_export

RAW_TEX = ("\\frac", "$$", "\\(", "\\[", "\\mathbf")
PAGES = ("", "notation/", "layouts/", "cite/", "contributing/", "all-rules/", "verification/", "errata/",
         "elementwise/", "traces/", "concordance/cookbook-2012/", "export-format/")


def _wait_math(page: Any) -> None:
    page.wait_for_function("document.documentElement.getAttribute('data-mc-math') === 'done'")


def _assert_no_raw_tex(page: Any) -> None:
    _wait_math(page)
    left = page.evaluate("Array.from(document.querySelectorAll('.arithmatex')).filter(e => !e.querySelector('.katex')).length")
    assert left == 0
    text = page.inner_text("article.md-content__inner")
    for tex in RAW_TEX:
        assert tex not in text, f"raw TeX {tex!r} visible"


def _layout(page: Any) -> str:
    return page.evaluate("document.documentElement.getAttribute('data-mc-layout')")


def test_every_rule_page_renders_math(page: Any, base_url: str, screenshots: Path) -> None:
    """Every rule page shows its formulas typeset, with no raw TeX, and its title."""
    for rule in hostile_export()["rules"]:
        page.goto(base_url + f"rules/{rule['id']}/")
        _assert_no_raw_tex(page)
        assert page.locator(".mc-form .katex").count() >= 1
        if rule["id"] == "trace-hostile":
            assert page.locator("h1").inner_text().strip() == HOSTILE_TITLE
            assert page.locator("article script, article img").count() == 0
    page.goto(base_url + "rules/trace-axb/")
    _wait_math(page)
    page.screenshot(path=str(screenshots / "rule-trace-axb.png"), full_page=True)


def test_every_section_anchor_lands_on_its_row(page: Any, base_url: str) -> None:
    """/<section>/#<id> (the published anchors) scrolls the rule's row into view, below the header."""
    for rule in hostile_export()["rules"]:
        page.goto(base_url + f"{rule['section']}/#{rule['id']}")
        _wait_math(page)
        page.wait_for_timeout(150)
        box = page.evaluate(f"""(() => {{ const r = document.getElementById({rule['id']!r}).getBoundingClientRect();
            return [r.top, r.bottom, window.innerHeight, document.getElementById({rule['id']!r}).tagName]; }})()""")
        top, bottom, height, tag = box
        assert tag == "TR"
        assert 40 <= top < height and bottom > top, f"{rule['id']}: row at {top}..{bottom} of {height}"
        assert page.evaluate(f"document.querySelector('tr:target') === document.getElementById({rule['id']!r})")


def test_redirected_id_reaches_the_new_rule(page: Any, base_url: str) -> None:
    """rules/<old>/ redirects to rules/<new>/, and /<section>/#<old> lands on the new row."""
    page.goto(base_url + "rules/old-trace-axb/")
    page.wait_for_url(re.compile(r".*/rules/trace-axb/$"))
    _wait_math(page)
    page.goto(base_url + "traces/#old-trace-axb")
    _wait_math(page)
    top = page.evaluate("document.getElementById('old-trace-axb').closest('tr').getBoundingClientRect().top")
    assert 40 <= top < 900


def test_layout_switch_is_global_and_remembered(page: Any, base_url: str, screenshots: Path) -> None:
    """The switch shows the other layout in the table, is kept on the next page (rule page, index), and after reload."""
    page.goto(base_url + "traces/")
    _wait_math(page)
    assert _layout(page) == "numerator"
    num = page.locator("tr#trace-axb td.mc-lay-numerator")
    den = page.locator("tr#trace-axb td.mc-lay-denominator")
    assert num.is_visible() and not den.is_visible()
    page.locator(".mc-layout-toggle button[data-mc-set-layout='denominator']").click()
    assert den.is_visible() and not num.is_visible()
    page.goto(base_url + "rules/trace-axb/")
    _wait_math(page)
    assert _layout(page) == "denominator"
    forms = page.eval_on_selector_all(".mc-form", "els => els.map(e => [e.className, e.getBoundingClientRect().top])")
    first = min(forms, key=lambda f: f[1])[0]
    assert "mc-lay-denominator" in first, forms
    assert page.locator(".mc-layout-toggle button[data-mc-set-layout='denominator']").get_attribute("aria-pressed") == "true"
    page.goto(base_url + "all-rules/")
    _wait_math(page)
    assert page.locator("tr#trace-axb td.mc-lay-denominator").is_visible()
    assert not page.locator("tr#trace-axb td.mc-lay-numerator").is_visible()
    page.locator(".mc-layout-toggle button[data-mc-set-layout='numerator']").first.click()
    page.reload()
    _wait_math(page)
    assert _layout(page) == "numerator"
    page.set_viewport_size({"width": 1600, "height": 900})
    assert page.locator("tr#trace-axb td.mc-lay-denominator").is_visible()  # both, side by side
    assert page.locator("tr#trace-axb td.mc-lay-numerator").is_visible()
    page.goto(base_url + "traces/")
    _wait_math(page)
    page.screenshot(path=str(screenshots / "section-traces-wide.png"))


def _search(page: Any, query: str) -> list[str]:
    page.evaluate("document.documentElement.removeAttribute('data-mc-search')")
    box = page.locator(".mc-search-input")
    box.fill(query)
    page.wait_for_function("document.documentElement.getAttribute('data-mc-search') === 'done'")
    return page.eval_on_selector_all(".mc-search-results a", "els => els.map(e => e.getAttribute('data-rule'))")


def test_search_finds_each_rule_by_id_and_alias(page: Any, base_url: str, screenshots: Path) -> None:
    """The search box (opened with /) answers each rule's id with that rule first, and one alias within the top 3."""
    page.goto(base_url)
    _wait_math(page)
    page.keyboard.press("/")
    page.locator(".mc-search-dialog[open]").wait_for()
    for rule in browser_export()["rules"]:
        assert _search(page, rule["id"])[0] == rule["id"]
        alias = next(a for a in rule["aliases"] if "<" not in a) if rule["aliases"] else rule["title"]
        assert rule["id"] in _search(page, alias)[:3], alias
    assert _search(page, "old-trace-axb")[0] == "trace-axb"
    for operators in ("^", "x^T", "||", "@@", "' ' '", "(", "\\"):
        _search(page, operators)  # never an error (the page fixture fails on any console error)
    assert _search(page, "tr(AXB)")[0] == "trace-axb"
    page.screenshot(path=str(screenshots / "search-traxb.png"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/rules/trace-axb/$"))
    _wait_math(page)
    assert not page.locator(".mc-search-dialog[open]").count()


def test_search_preview_is_one_readable_layout(page: Any, base_url: str) -> None:
    """A result shows its title and the formula in the chosen layout as text (no TeX, no id)."""
    page.goto(base_url)
    _wait_math(page)
    page.locator(".mc-search-open").click()
    _search(page, "trace-axb")
    preview = page.locator(".mc-search-results li").first.locator(".mc-hit-preview").inner_text()
    assert preview == "(∂tr(A X B))/∂X = B A"
    assert "\\" not in preview and "trace-axb" not in preview


def test_home_search_box_opens_the_dialog(page: Any, base_url: str) -> None:
    """Typing in the home page's box continues in the search dialog."""
    page.goto(base_url)
    _wait_math(page)
    page.locator(".mc-search-inline").click()
    page.keyboard.type("hadamard")
    page.wait_for_function("document.documentElement.getAttribute('data-mc-search') === 'done'")
    assert page.locator(".mc-search-input").input_value().endswith("hadamard")


def test_copy_button_copies_latex(page: Any, base_url: str) -> None:
    """The copy button of a formula puts exactly its LaTeX on the clipboard."""
    page.goto(base_url + "rules/trace-axb/")
    _wait_math(page)
    rule = next(r for r in hostile_export()["rules"] if r["id"] == "trace-axb")
    expected = f"{rule['latex']['derivative']} = {rule['latex']['numerator']}"
    button = page.locator(".mc-form.mc-lay-numerator .mc-copy")
    button.click()
    page.wait_for_function("document.querySelector('.mc-form.mc-lay-numerator .mc-copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_math_after_instant_navigation(page: Any, base_url: str) -> None:
    """After an instant (no reload) navigation, math is typeset and the layout switch still works."""
    page.goto(base_url)
    _wait_math(page)
    page.evaluate("window.__mcrefNoReload = 42")
    page.evaluate("document.documentElement.removeAttribute('data-mc-math')")
    page.locator(".md-content a[href$='/traces/']").first.click()
    page.wait_for_url(re.compile(r".*/traces/$"))
    _assert_no_raw_tex(page)
    assert page.evaluate("window.__mcrefNoReload") == 42, "the navigation reloaded the page: not instant"
    page.locator(".mc-layout-toggle button[data-mc-set-layout='denominator']").click()
    assert page.locator("tr#trace-axb td.mc-lay-denominator").is_visible()


def test_pages_render_without_errors(page: Any, base_url: str) -> None:
    """Every hand-written and generated page loads with its math rendered and no raw TeX."""
    for path in PAGES:
        page.goto(base_url + path)
        _assert_no_raw_tex(page)


def test_no_horizontal_scroll_at_390px(page: Any, base_url: str, screenshots: Path) -> None:
    """At 390 px wide no page scrolls sideways (a wide formula scrolls inside its own box)."""
    page.set_viewport_size({"width": 390, "height": 844})
    for path in PAGES + tuple(f"rules/{r['id']}/" for r in hostile_export()["rules"]):
        page.goto(base_url + path)
        _wait_math(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/{path} is {width} px wide at 390 px"
    page.goto(base_url + "traces/")
    _wait_math(page)
    page.screenshot(path=str(screenshots / "section-traces-390.png"), full_page=True)
    page.goto(base_url + "rules/trace-axb/")
    _wait_math(page)
    page.screenshot(path=str(screenshots / "rule-trace-axb-390.png"), full_page=True)


def _pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE).group(1))


def test_print(page: Any, base_url: str, tmp_path: Path) -> None:
    """Printed, a section page is its table (header, sidebars, buttons, search gone); a rule page is one page
    with both layouts and the cite and verification boxes shut; no blank first page."""
    page.goto(base_url + "traces/")
    _wait_math(page)
    page.emulate_media(media="print")
    for selector in (".md-header", ".md-sidebar--primary", ".mc-layout-toggle", ".mc-search-open"):
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator("table.mc-rules").is_visible()
    page.pdf(path=str(tmp_path / "traces.pdf"), format="A4")
    page.goto(base_url + "rules/trace-hostile/")
    _wait_math(page)
    assert page.locator(".mc-form.mc-lay-numerator .katex").is_visible()
    assert page.locator(".mc-form.mc-lay-denominator .katex").is_visible()
    assert not page.locator("details.mc-cite").is_visible() and not page.locator("details.mc-vdetails").is_visible()
    page.pdf(path=str(tmp_path / "rule.pdf"), format="A4")
    assert _pdf_pages(tmp_path / "rule.pdf") == 1
    assert _pdf_pages(tmp_path / "traces.pdf") == 1
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(tmp_path / "traces.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Traces" in text and "Trace of a product" in text  # the first page is the table, not blank
