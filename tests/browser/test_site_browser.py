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
    # the page's text outside code (a code span may show LaTeX on purpose: the contributing guide)
    text = page.evaluate("""(() => { const a = document.querySelector('article.md-content__inner').cloneNode(true);
        a.querySelectorAll('code, pre').forEach(e => e.remove()); document.body.appendChild(a);
        const t = a.innerText; a.remove(); return t; })()""")
    for tex in RAW_TEX:
        assert tex not in text, f"raw TeX {tex!r} visible"


def _layout(page: Any) -> str:
    return page.evaluate("document.documentElement.getAttribute('data-mc-layout')")


def test_every_rule_page_renders_math(page: Any, base_url: str, screenshots: Path) -> None:
    """Every rule page shows its formulas typeset, with no raw TeX, and its title."""
    for rule in browser_export()["rules"]:
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
    for rule in browser_export()["rules"]:
        page.goto(base_url + f"{rule['section']}/#{rule['id']}")
        _wait_math(page)
        page.wait_for_timeout(150)
        box = page.evaluate(f"""(() => {{ const r = document.getElementById({rule['id']!r}).getBoundingClientRect();
            return [r.top, r.bottom, window.innerHeight, document.getElementById({rule['id']!r}).tagName]; }})()""")
        top, bottom, height, tag = box
        assert tag == "TR"
        assert 40 <= top < height and bottom > top, f"{rule['id']}: row at {top}..{bottom} of {height}"
        assert page.evaluate(f"document.querySelector('tr:target') === document.getElementById({rule['id']!r})")


def test_redirected_id_reaches_the_new_rule(page: Any, base_url: str, screenshots: Path) -> None:
    """Retired ids: rules/<old>/ redirects to rules/<new>/; /<old-section>/#<old> lands on the new row
    (same section) or on a row of the old section that shows the rule and links to it (moved), also
    when the old section is gone."""
    for old in ("old-trace-axb", "old-hadamard", "gone-id"):
        page.goto(base_url + f"rules/{old}/#x")
        page.wait_for_url(re.compile(r".*/rules/trace-axb/#x$"))
        _wait_math(page)
        assert old in page.locator(".mc-meta").inner_text()  # "formerly ..."
    page.goto(base_url + "traces/#old-trace-axb")
    _wait_math(page)
    page.wait_for_timeout(150)
    top = page.evaluate("document.getElementById('old-trace-axb').closest('tr').getBoundingClientRect().top")
    assert 40 <= top < 900
    for section, old in (("elementwise", "old-hadamard"), ("old-section", "gone-id")):
        page.goto(base_url + f"{section}/#{old}")
        _wait_math(page)
        page.wait_for_timeout(150)
        row = page.locator(f"tr#{old}")
        box = row.bounding_box()
        assert box is not None and 40 <= box["y"] < 900, f"{section}/#{old}: row at {box}"
        assert page.evaluate("document.querySelector('tr:target') && document.querySelector('tr:target').id") == old
        assert row.locator(".mc-c-f:visible .katex").count() == 1  # the formula, typeset
        assert "Now in Traces" in row.inner_text()
        if section == "elementwise":
            page.screenshot(path=str(screenshots / "section-moved-row.png"))
        row.locator(".mc-c-title > a").first.click()
        page.wait_for_url(re.compile(r".*/rules/trace-axb/$"))


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
    """The copy button of a formula puts exactly its standalone LaTeX (no mcref macro) on the clipboard."""
    page.goto(base_url + "rules/trace-axb/")
    _wait_math(page)
    rule = next(r for r in hostile_export()["rules"] if r["id"] == "trace-axb")
    expected = rule["latex"]["standalone"]["numerator"]
    assert "\\tr" not in expected.replace("\\top", "")
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


SECTION_PAGES = ("traces/", "elementwise/", "old-section/", "all-rules/")

#: At 390 px each table row is a block: the title, the formula and the shapes each take the
#: row's whole width; an id or a condition is never broken inside a word; a formula wider
#: than the screen scrolls inside its own box.
_ROW_BLOCKS = r"""(() => {
  const bad = [];
  for (const tr of document.querySelectorAll('table.mc-rules tbody tr.mc-row')) {
    const w = tr.getBoundingClientRect().width;
    for (const cell of tr.querySelectorAll(':scope > th, :scope > td')) {
      if (getComputedStyle(cell).display === 'none') continue;
      const cw = cell.getBoundingClientRect().width;
      if (cw < 0.9 * w) bad.push(`${tr.id}: ${cell.className} is ${cw} of ${w} px`);
    }
    for (const el of tr.querySelectorAll('.mc-id, .mc-sym')) {
      if (el.getClientRects().length > 1 || el.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(el).lineHeight || 20)) {
        bad.push(`${tr.id}: ${el.textContent} breaks over lines`);
      }
    }
    for (const el of tr.querySelectorAll('.mc-cond')) {
      const words = el.textContent.split(/\s+/).filter(Boolean);
      const range = document.createRange();
      for (const node of el.childNodes) if (node.nodeType === 3) {
        let at = 0;
        for (const word of node.textContent.split(/(\s+)/)) {
          if (word.trim()) { range.setStart(node, at); range.setEnd(node, at + word.length);
            if (range.getClientRects().length > 1) bad.push(`${tr.id}: the word ${word} is broken`); }
          at += word.length;
        }
      }
    }
    for (const f of tr.querySelectorAll('td.mc-c-f div.arithmatex')) {
      if (f.offsetParent === null) continue;
      const st = getComputedStyle(f);
      if (f.scrollWidth > f.clientWidth + 1 && !['auto', 'scroll'].includes(st.overflowX)) bad.push(`${tr.id}: a wide formula is cut`);
    }
  }
  return bad;
})()"""


def test_no_horizontal_scroll_at_390px(page: Any, base_url: str, screenshots: Path) -> None:
    """At 390 px wide no page scrolls sideways (a wide formula scrolls inside its own box), and each
    table row reads as a block: title with its id, the formula the full width, shapes and conditions
    under it, nothing broken inside a word."""
    page.set_viewport_size({"width": 390, "height": 844})
    for path in PAGES + SECTION_PAGES + tuple(f"rules/{r['id']}/" for r in browser_export()["rules"]):
        page.goto(base_url + path)
        _wait_math(page)
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # cite, how it was checked
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/{path} is {width} px wide at 390 px"
        if path in SECTION_PAGES:
            assert page.evaluate(_ROW_BLOCKS) == [], path
        overflowing = page.evaluate("""Array.from(document.querySelectorAll('.md-content dd, .md-content dt, .md-content p'))
            .filter(e => !e.closest('pre, .arithmatex, .mc-where, .katex') && !e.querySelector('.katex')
                         && (e.getBoundingClientRect().right > 391 || e.scrollWidth > e.clientWidth + 8))  // (inline code padding: a few px)
            .map(e => e.tagName + ': ' + e.textContent.slice(0, 40))""")
        assert overflowing == [], f"/{path}: text runs off the screen: {overflowing}"
        cramped = page.evaluate("Array.from(document.querySelectorAll('.mc-vdetails dd')).filter(e => e.getBoundingClientRect().width < 250).length")
        assert cramped == 0, f"/{path}: 'How it was checked' squeezes its facts into a narrow column"
    page.goto(base_url + "traces/")
    _wait_math(page)
    wide = page.locator("tr#trace-of-a-very-long-product-by-the-middle-factor td.mc-lay-numerator div.arithmatex")
    assert wide.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto'")
    page.screenshot(path=str(screenshots / "section-traces-390.png"), full_page=True)
    page.goto(base_url + "rules/trace-axb/")
    _wait_math(page)
    page.screenshot(path=str(screenshots / "rule-trace-axb-390.png"), full_page=True)


def _pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE).group(1))


#: On paper nothing is cut off: every display formula fits its box (it breaks after a
#: top-level + or =, and a piece still too wide is shrunk).
_FORMULAS_FIT = r"""Array.from(document.querySelectorAll('.md-content div.arithmatex')).filter(e => e.offsetParent !== null)
  .map(e => { const box = e.getBoundingClientRect();
              const right = Math.max(...Array.from(e.querySelectorAll('.katex-html > *')).map(b => b.getBoundingClientRect().right));
              return [e.closest('[id]') ? e.closest('[id]').id : '?', Math.round(right - box.right)]; })
  .filter(([, over]) => over > 1)"""


def test_print(page: Any, base_url: str, tmp_path: Path) -> None:
    """Printed, a section page is its table (header, sidebars, buttons, search gone); a rule page is one page
    with both layouts and the cite and verification boxes shut; no blank first page; no formula cut off."""
    page.goto(base_url + "traces/")
    _wait_math(page)
    page.emulate_media(media="print")
    for selector in (".md-header", ".md-sidebar--primary", ".mc-layout-toggle", ".mc-search-open", ".md-footer"):
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator("table.mc-rules").is_visible()
    page.set_viewport_size({"width": 700, "height": 1000})  # about the width of A4 inside the margins
    assert page.evaluate(_FORMULAS_FIT) == []
    page.pdf(path=str(tmp_path / "traces.pdf"), format="A4")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base_url + "rules/trace-of-a-very-long-product-by-the-middle-factor/")
    _wait_math(page)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 1000})
    assert page.evaluate(_FORMULAS_FIT) == []
    page.pdf(path=str(tmp_path / "wide.pdf"), format="A4")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base_url + "rules/trace-hostile/")
    _wait_math(page)
    page.emulate_media(media="print")
    assert page.locator(".mc-form.mc-lay-numerator .katex").is_visible()
    assert page.locator(".mc-form.mc-lay-denominator .katex").is_visible()
    assert not page.locator("details.mc-cite").is_visible() and not page.locator("details.mc-vdetails").is_visible()
    page.pdf(path=str(tmp_path / "rule.pdf"), format="A4")
    assert _pdf_pages(tmp_path / "rule.pdf") == 1
    assert _pdf_pages(tmp_path / "wide.pdf") == 1
    assert _pdf_pages(tmp_path / "traces.pdf") == 1
    for name, first in (("traces", "Trace of a product"), ("rule", "Verified"), ("wide", "A very long product")):
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(tmp_path / f"{name}.pdf"), "-"], capture_output=True,
                              text=True, check=True).stdout
        text = " ".join(text.split())  # words of a cell may wrap
        assert first in text, f"{name}: the first page does not show {first!r}"  # not a blank first page
        assert "Search rules" not in text and "Numerator Denominator which one" not in text  # no chrome
