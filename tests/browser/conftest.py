"""Fixtures of the browser tests: a site built from a test export, served on 127.0.0.1, and
a headless Debian chromium driven by Playwright (never a downloaded browser).

Every page opened through the `page` fixture records its console errors, page errors and
every request; the fixture fails the test if any request left 127.0.0.1 or any error was
logged.
"""

from __future__ import annotations

import copy
import functools
import http.server
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from site_fixtures import CHROMIUM, CHROMIUM_ARGS, ROOT, build_site, errata_sample, hostile_export

SCREENSHOTS = ROOT / "test-output" / "screenshots"


def browser_export() -> dict[str, Any]:
    """The hostile export plus retired ids (one of the same section, one moved from another
    section, one of a section that is gone) and a concordance page."""
    export = hostile_export()
    export["redirects"] = {"old-trace-axb": "trace-axb", "old-hadamard": "trace-axb", "gone-id": "trace-axb"}
    export["retired"] = [
        {"id": "gone-id", "to": "trace-axb", "section": "old-section"},
        {"id": "old-hadamard", "to": "trace-axb", "section": "elementwise"},
        {"id": "old-trace-axb", "to": "trace-axb", "section": "traces"},
    ]
    proved = next(r for r in export["rules"] if r["id"] == "trace-axb")["verification"]
    proved.update(scope="all-sizes", statement="Proved for every size (exact, randomized: error < 1e-30)", reason="",
                  all_sizes={"grid": [{"m": m, "n": n, "p": p} for m in (2, 3) for n in (2, 3) for p in (2, 3, 4)],
                             "bounds": {"B": {"m": 1, "n": 2, "p": 1}, "L": {"m": 0, "n": 0, "p": 0},
                                        "U": {"m": 1, "n": 1, "p": 2}, "D": 3, "local": False},
                             "prime": 2305843009213693951, "primes": [2305843009213693951], "seeds": 2, "error_bound": 8.8e-31})
    export["counts"]["all_sizes"] = 1
    export["rules"].append(_wide_rule(export))
    export["counts"] = dict(export["counts"], verified=len(export["rules"]), total=len(export["rules"]))
    export["concordance"] = {
        "cookbook-2012": [
            {"ref": "101", "formula": "\\frac{\\partial \\tr(\\mathbf{A}\\mathbf{X}\\mathbf{B})}{\\partial \\mathbf{X}} = \\mathbf{A}^{\\top}\\mathbf{B}^{\\top}",
             "status": "verified", "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "text", "note": ""},
        ]
    }
    return export


def _wide_rule(export: dict[str, Any]) -> dict[str, Any]:
    """A rule built to be hard to show on a phone and on paper: a long id, a long condition,
    a formula of many terms (it may break after each +) holding one piece wider than any
    screen (it must shrink on paper and scroll on a phone)."""
    rule = copy.deepcopy(next(r for r in export["rules"] if r["id"] == "trace-axb"))
    term = "\\mathbf{B}^{\\top}\\mathbf{X}^{\\top}\\mathbf{C}\\mathbf{X}\\mathbf{B}"
    wide = "\\left(" + "\\mathbf{A}\\mathbf{X}^{\\top}" * 28 + "\\right)"
    formula = " + ".join([term] * 5 + [wide])
    rule.update(id="trace-of-a-very-long-product-by-the-middle-factor", title="A very long product, by X",
                conditions="X invertible, symmetric and positive definite with distinct eigenvalues",
                aliases=[], related=[], tags=["trace"])
    rule["latex"] = dict(rule["latex"], numerator=formula, denominator=formula + "^{\\top}", display=None)
    return rule


def _require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); browser tests need it")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, site folder). The port is taken first and the site built for that URL:
    Material's instant navigation only follows links of the origin named in the sitemap."""
    _require_browser()
    out = tmp_path_factory.mktemp("browser-site")
    site = out / "site"
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        result = build_site(browser_export(), out, errata=errata_sample(), env={"MCREF_SITE_URL": url})
        assert result.returncode == 0, result.stderr
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield url, site
        server.shutdown()
    finally:
        server.server_close()


@pytest.fixture(scope="session")
def base_url(served_site: tuple[str, Path]) -> str:
    return served_site[0]


@pytest.fixture(scope="session")
def built_site(served_site: tuple[str, Path]) -> Path:
    return served_site[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_browser()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="mcref-chromium-")
    ctx = browser.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        yield ctx
    finally:
        ctx.close()
        shutil.rmtree(profile, ignore_errors=True)


class PageLog:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def foreign(self) -> list[str]:
        out = []
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about"):
                continue
            if parsed.hostname != "127.0.0.1":
                out.append(url)
        return out


@pytest.fixture
def page(context: Any) -> Iterator[Any]:
    pg = context.pages[0] if context.pages else context.new_page()
    log = PageLog()
    context.on("request", lambda req: log.requests.append(req.url))
    pg.on("console", lambda msg: log.errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: log.errors.append(f"page error: {exc}"))

    def on_dialog(dialog: Any) -> None:
        log.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.mcref_log = log  # type: ignore[attr-defined]
    yield pg
    assert log.foreign() == [], f"requests left 127.0.0.1: {log.foreign()}"
    assert log.errors == [], f"errors in the browser: {log.errors}"
    assert log.dialogs == [], f"a dialog opened (injected script?): {log.dialogs}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
