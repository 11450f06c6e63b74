"""The built site in a real browser: math rendered, no raw TeX, search, copy, offline."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from site_fixtures import HOSTILE_TITLE, hostile_export

RAW_TEX = ("\\frac", "$$", "\\(", "\\[", "\\mathbf")


def _wait_math(page: Any) -> None:
    page.wait_for_function("document.documentElement.getAttribute('data-mc-math') === 'done'")


def _assert_math_rendered(page: Any) -> int:
    """Every rule block has KaTeX output, no .arithmatex is left unrendered, and the visible
    text of the page holds no raw TeX; returns the number of rule blocks."""
    _wait_math(page)
    blocks = page.locator("article.mc-rule")
    n = blocks.count()
    assert n > 0
    for i in range(n):
        block = blocks.nth(i)
        rid = block.get_attribute("data-rule-id")
        assert block.locator(".katex").count() > 0, f"rule {rid} has no rendered math"
    left = page.evaluate("Array.from(document.querySelectorAll('.arithmatex')).filter(e => !e.querySelector('.katex')).length")
    assert left == 0
    text = page.inner_text("article.md-content__inner")
    for tex in RAW_TEX:
        assert tex not in text, f"raw TeX {tex!r} visible"
    return n


def test_section_page_direct_load(page: Any, base_url: str, screenshots: Path) -> None:
    """A section page loaded directly shows every rule with rendered math and no raw TeX."""
    page.goto(base_url + "traces/")
    n = _assert_math_rendered(page)
    assert n == sum(1 for r in hostile_export()["rules"] if r["section"] == "traces")
    page.screenshot(path=str(screenshots / "section-traces.png"), full_page=True)


def test_math_after_instant_navigation(page: Any, base_url: str, screenshots: Path) -> None:
    """After an instant (no reload) navigation from the home page, math is rendered again."""
    page.goto(base_url)
    _wait_math(page)
    page.screenshot(path=str(screenshots / "home.png"), full_page=True)
    page.evaluate("window.__mcrefNoReload = 42")
    page.evaluate("document.documentElement.removeAttribute('data-mc-math')")
    # Material's instant loading rewrites internal links to absolute URLs
    page.locator(".md-content a[href$='/elementwise/']").first.click()
    page.wait_for_url(re.compile(r".*/elementwise/$"))
    _assert_math_rendered(page)
    assert page.evaluate("window.__mcrefNoReload") == 42, "the navigation reloaded the page: not instant"
    # and on to another section through the sidebar, still without a reload
    page.evaluate("document.documentElement.removeAttribute('data-mc-math')")
    page.locator(".md-sidebar--primary .md-nav a[href$='/traces/']").first.click()
    page.wait_for_url(re.compile(r".*/traces/$"))
    _assert_math_rendered(page)
    assert page.evaluate("window.__mcrefNoReload") == 42


@pytest.mark.parametrize(
    "query, rule_id",
    [
        ("elementwise-hadamard-x", "elementwise-hadamard-x"),
        ("Hadamard", "elementwise-hadamard-x"),
        ("trace-axb", "trace-axb"),
        ("quokka", "trace-hostile"),  # a word of a note
        ("zebra-alias", "trace-hostile"),  # an alias
    ],
)
def test_search_lands_on_rule(page: Any, base_url: str, screenshots: Path, query: str, rule_id: str) -> None:
    """Typing a rule id, a title word, a word of a note or an alias into search offers that
    rule first, and following the result shows the rule."""
    page.goto(base_url)
    _wait_math(page)
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially(query)
    page.locator(".md-search-result__list a.md-search-result__link").first.wait_for()
    # Results update per keystroke: read them until two reads 300 ms apart agree, so the
    # assertion sees the results of the whole query, not of a prefix typed on the way.
    read = "els => els.map(e => e.href)"
    previous, deadline = None, time.monotonic() + 10
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        current = page.eval_on_selector_all(".md-search-result__list a.md-search-result__link", read)
        if current and current == previous:
            break
        previous = current
    links = page.eval_on_selector_all(".md-search-result__list a.md-search-result__link", "els => els.map(e => e.href)")
    hits = [h for h in links if "#" in h]
    assert hits and hits[0].endswith("#" + rule_id), links
    preview = page.inner_text(".md-search-result")
    for tex in RAW_TEX:
        assert tex not in preview, f"raw TeX {tex!r} in search preview"
    if query == "Hadamard":
        page.screenshot(path=str(screenshots / "search-hadamard.png"))
    page.locator(f".md-search-result__list a.md-search-result__link[href$='#{rule_id}']").first.click()
    page.wait_for_url(re.compile(rf".*#{re.escape(rule_id)}$"))
    _wait_math(page)
    assert page.locator(f"h2[id='{rule_id}']").is_visible()


def test_copy_button_copies_latex(page: Any, base_url: str) -> None:
    """The copy button of a formula puts exactly its LaTeX on the clipboard."""
    page.goto(base_url + "traces/#trace-axb")
    _wait_math(page)
    rule = next(r for r in hostile_export()["rules"] if r["id"] == "trace-axb")
    expected = f"{rule['latex']['derivative']} = {rule['latex'][rule['layout']]}"
    button = page.locator("article[data-rule-id='trace-axb'] .tabbed-block").first.locator(".mc-copy")
    button.click()
    page.wait_for_function("document.querySelector(\"article[data-rule-id='trace-axb'] .mc-copy\").textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_layout_tabs_switch_every_rule(page: Any, base_url: str) -> None:
    """The rule's own layout is the first tab; choosing a layout on one rule switches the others."""
    page.goto(base_url + "traces/")
    _wait_math(page)
    first_labels = page.locator("article[data-rule-id='trace-axb'] .tabbed-labels label")
    assert first_labels.nth(0).inner_text() == "Denominator layout"
    first_labels.filter(has_text="Numerator layout").click()
    other = page.locator("article[data-rule-id='trace-hostile'] .tabbed-block[data-layout='Numerator layout']")
    other.wait_for(state="visible")


def test_hostile_strings_show_as_text(page: Any, base_url: str) -> None:
    """A title `<script>alert(1)</script>` is shown as text and runs nothing."""
    page.goto(base_url + "traces/")
    _wait_math(page)
    title = page.locator("h2[id='trace-hostile']").inner_text()
    assert title.rstrip("¶").strip() == HOSTILE_TITLE
    assert page.locator("article[data-rule-id='trace-hostile'] script, article[data-rule-id='trace-hostile'] img").count() == 0
    assert "zebra-alias" in page.inner_text("article[data-rule-id='trace-hostile']")


def test_pages_render_without_errors(page: Any, base_url: str) -> None:
    """Every hand-written and generated page loads with its math rendered and no raw TeX."""
    for path in ("", "notation/", "layouts/", "cite/", "contributing/", "all-rules/", "verification/", "errata/", "elementwise/"):
        page.goto(base_url + path)
        _wait_math(page)
        text = page.inner_text("article.md-content__inner")
        for tex in ("\\frac", "$$", "\\(", "\\mathbf"):
            assert tex not in text, f"raw TeX {tex!r} on /{path}"
    assert page.locator(".mc-side-by-side .katex").count() > 0 or page.goto(base_url + "errata/")


def test_downloads(page: Any, base_url: str, built_site: Path) -> None:
    """rules.json is served and is the export; the PDF links point at pdf/ (PDFs come from `mcref build`)."""
    page.goto(base_url)
    _wait_math(page)
    href = page.locator(".md-content a[href$='rules.json']").first.evaluate("a => a.href")
    data = json.loads(page.request.get(href).text())
    assert [r["id"] for r in data["rules"]] == [r["id"] for r in hostile_export()["rules"]]
    pdfs = page.eval_on_selector_all(".md-content a[href*='pdf/']", "els => els.map(e => e.href)")
    assert sorted(pdfs) == [base_url + "pdf/cheatsheet-a4.pdf", base_url + "pdf/cheatsheet-letter.pdf"]
    if not (built_site / "pdf").is_dir():
        pytest.skip("the PDF cheat sheets are placed in build/site/pdf/ by `mcref build`, not by mkdocs: links checked, files absent")
    for pdf in pdfs:
        assert page.request.get(pdf).ok


def test_untypeset_math_falls_back_to_client_katex(page: Any, base_url: str) -> None:
    """Math the build did not typeset is rendered in the browser with the site's own KaTeX."""
    page.goto(base_url + "notation/")
    _wait_math(page)
    assert page.evaluate("typeof katex") == "undefined"  # the build typeset everything
    page.evaluate(r"""() => {
        const el = document.createElement('span');
        el.className = 'arithmatex'; el.id = 'late-math';
        el.textContent = '\\(\\tr(\\mathbf{X}^{-1})\\)';
        document.querySelector('article.md-content__inner').appendChild(el);
        document.documentElement.removeAttribute('data-mc-math');
        window.mcrefRenderMath(document.body);
    }""")
    _wait_math(page)
    assert page.locator("#late-math .katex").count() == 1
    assert "\\tr" not in page.inner_text("#late-math")


def test_print_stylesheet(page: Any, base_url: str, screenshots: Path) -> None:
    """Printed, a section page drops the header, sidebars and buttons, and shows both layouts."""
    page.goto(base_url + "traces/")
    _wait_math(page)
    page.emulate_media(media="print")
    for selector in (".md-header", ".md-sidebar--primary", ".mc-copy"):
        assert not page.locator(selector).first.is_visible(), selector
    blocks = page.locator("article[data-rule-id='trace-axb'] .tabbed-block")
    assert blocks.count() == 2
    assert blocks.nth(0).is_visible() and blocks.nth(1).is_visible()
    page.screenshot(path=str(screenshots / "section-traces-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.locator("label[title='Switch to dark mode']").first.click()
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "section-traces-dark.png"))
