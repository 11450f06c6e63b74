"""The "Check a derivative" page: mcref's own Python in Pyodide, served from the site, gives
the command line's verdict for every claim of the student table, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claims_support import flags_of, student_claims

from generator.render.check_page import PYODIDE_DEST, BUNDLE_DEST

ROWS = student_claims()
FIELDS = ("of", "wrt", "expect", "symbols", "assume", "layout", "where", "functions", "order")


def open_checker(page: Any, base_url: str) -> None:
    page.goto(base_url + "check/")
    page.wait_for_selector("form[data-mc-check][data-mc-state=ready]", state="attached", timeout=120_000)


def check(page: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Type a row's claim into the form, press Check, and read the verdict the page shows."""
    flags = flags_of(row)
    page.evaluate("document.querySelector('.mc-check-more').open = true")
    for name in FIELDS:
        if name in ("layout", "order"):
            page.select_option(f"#mc-{name}", flags.get(name, ""))
        else:
            page.fill(f"#mc-{name}", flags.get(name, ""))
    page.evaluate("document.querySelector('.mc-check-result').setAttribute('data-mc-run', 'pending')")
    page.click("form[data-mc-check] button[type=submit]")
    page.wait_for_function("document.querySelector('.mc-check-result').getAttribute('data-mc-run') !== 'pending'"
                           " && document.querySelector('form[data-mc-check]').getAttribute('data-mc-state') === 'done'",
                           timeout=60_000)
    return page.evaluate("""() => {
        const box = document.querySelector('.mc-check-result');
        const note = box.querySelector('[data-mc-note]');
        return {
          status: box.getAttribute('data-mc-status'),
          holds_in: (box.getAttribute('data-mc-holds') || '').split(' ').filter(Boolean),
          note: note ? note.getAttribute('data-mc-note') : null,
          repairs: [...box.querySelectorAll('[data-mc-repair]')].map(r => [r.getAttribute('data-mc-repair'), r.getAttribute('data-mc-expect')]),
          problems: [...box.querySelectorAll('[data-mc-line]')].map(p => p.getAttribute('data-mc-line')),
          text: box.innerText,
        };
    }""")


def test_other_pages_do_not_load_the_checker(page: Any, base_url: str) -> None:
    """The home page stays light: no Pyodide, no Python sources are requested there."""
    page.goto(base_url)
    page.wait_for_load_state("networkidle")
    heavy = [u for u in page.mcref_log.requests if PYODIDE_DEST in u or BUNDLE_DEST in u]
    assert heavy == []


def test_every_student_claim_gets_the_command_lines_verdict(page: Any, base_url: str, screenshots: Path) -> None:
    """Each claim of the table: the same verdict, layouts, layout sentence, repairs and problems as `mcref check`."""
    open_checker(page, base_url)
    assert any(PYODIDE_DEST + "/pyodide.asm.wasm" in u for u in page.mcref_log.requests)
    mismatches = []
    for row in ROWS:
        shown = check(page, row)
        want_status = row["verdict"]
        got = {"status": shown["status"]}
        want = {"status": want_status}
        if want_status == "invalid":
            want["problems"] = row.get("problems", [row.get("problem")])
            got["problems"] = shown["problems"]
        else:
            if "holds_in" in row:
                want["holds_in"], got["holds_in"] = row["holds_in"], shown["holds_in"]
            if "note" in row:
                want["note"], got["note"] = row["note"], shown["note"]
            if want_status == "refuted":
                want["repairs"] = len(row["hints"])
                got["repairs"] = len(shown["repairs"])
        if got != want:
            mismatches.append((row["name"], want, got))
    assert mismatches == []


def test_a_false_claim_shows_its_counterexample_and_hint(page: Any, base_url: str, screenshots: Path) -> None:
    """2 A x for the gradient of x^T A x: does not hold, a counterexample, the symmetric hint, a button that checks the fix."""
    open_checker(page, base_url)
    row = next(r for r in ROWS if r["name"] == "quadratic form, 2 A x without a symmetric A")
    shown = check(page, row)
    assert shown["status"] == "refuted"
    assert shown["repairs"] == [["symmetric", "(A + A.T) @ x"]]
    assert "Counterexample at n = 2" in shown["text"] and "Entries are numbered from 1" in shown["text"]
    assert "Probably: it holds only when A is symmetric" in shown["text"]
    page.wait_for_selector(".mc-check-result .katex", state="attached")
    # each symbol's value is its own block (x and A): a line break never sets one matrix under another
    assert page.locator(".mc-check-cx .mc-check-point .mc-check-value").count() == 2
    page.screenshot(path=str(screenshots / "check-refuted.png"), full_page=True)
    page.evaluate("document.querySelector('.mc-check-result').setAttribute('data-mc-run', 'pending')")
    page.click(".mc-check-repair .mc-check-try")
    page.wait_for_function("document.querySelector('.mc-check-result').getAttribute('data-mc-status') === 'verified'", timeout=60_000)
    assert page.input_value("#mc-expect") == "(A + A.T) @ x"


def test_a_true_claim_says_which_check_ran(page: Any, base_url: str, screenshots: Path) -> None:
    """A true claim: holds, in which layout, and the page names the check that ran."""
    open_checker(page, base_url)
    shown = check(page, next(r for r in ROWS if r["name"] == "trace of A X B"))
    assert shown["status"] == "verified" and shown["holds_in"] == ["denominator"]
    assert "Checks run:" in shown["text"]
    page.screenshot(path=str(screenshots / "check-verified.png"), full_page=True)


def test_a_syntax_slip_shows_the_fix_and_the_column(page: Any, base_url: str, screenshots: Path) -> None:
    """x^T: the field, the column, the fix, a caret under the slip, and the field marked invalid."""
    open_checker(page, base_url)
    shown = check(page, next(r for r in ROWS if r["name"] == "caret for a transpose"))
    assert shown["status"] == "invalid"
    assert "of, column 2: expression must write a transpose as x.T" in shown["text"]
    assert "x^T @ A @ x\n ^" in shown["text"]
    assert page.get_attribute("#mc-of", "aria-invalid") == "true"
    page.screenshot(path=str(screenshots / "check-invalid.png"), full_page=True)


def test_a_claim_in_the_address_is_checked_on_arrival(page: Any, base_url: str) -> None:
    """A shared link (#of=...&wrt=...) fills the form and checks the claim once the checker is ready."""
    from urllib.parse import urlencode

    fields = {"of": "x.T @ x", "wrt": "x", "expect": "2 * x", "symbols": "x: [n]"}
    page.goto(base_url + "check/#" + urlencode(fields))
    page.wait_for_function("document.querySelector('.mc-check-result').getAttribute('data-mc-status') === 'verified'", timeout=120_000)
    assert page.input_value("#mc-expect") == "2 * x"


def test_the_first_verdict_is_typeset_at_once(page: Any, base_url: str) -> None:
    """KaTeX loads while the runtime loads: the first verdict's formula is typeset when it appears, not shown as raw
    TeX until KaTeX arrives."""
    open_checker(page, base_url)
    page.wait_for_function("typeof katex !== 'undefined'", timeout=30_000)
    check(page, ROWS[0])
    assert page.evaluate("document.querySelector('.mc-check-result .mc-check-claim .katex') !== null")
