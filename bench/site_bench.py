"""Site bench: weight of a 30-rule section page with all its assets, and the time from
navigation to all math rendered, in headless Debian chromium.

    python bench/site_bench.py [--rules 30] [--runs 5]

Goals: a section page <= 60 kB of HTML gzipped, a rule page <= 30 kB gzipped (every page of
the build is measured), first view of the section page <= 300 kB transferred gzipped with
all its assets, math rendered within 300 ms of navigation start. `--export` measures the
real rules (e.g. the rules.json of `mcref build`).
The site is built from a synthetic export (tests/site_fixtures.big_export) into a
temporary folder and served on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from site_fixtures import CHROMIUM, CHROMIUM_ARGS, big_export, build_site

WEIGHT_GOAL = 300_000  # first view, gzip-compressed as a compressing server sends it
MATH_GOAL_MS = 300.0
SECTION_GOAL = 60_000
RULE_GOAL = 30_000


def page_sizes(site: Path, export: dict) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(gzipped bytes, path) of every section page and every rule page of the built site."""
    def gz(path: Path) -> int:
        return len(gzip.compress(path.read_bytes(), 6, mtime=0))

    sections = [(gz(p), p.parent.name) for s in export["sections"] if (p := site / s["slug"] / "index.html").is_file()]
    rules = [(gz(p), p.parent.name) for p in sorted((site / "rules").glob("*/index.html"))]
    return sorted(sections), sorted(rules)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=30, help="rules on the section page")
    parser.add_argument("--runs", type=int, default=5, help="page loads to time (fresh profile each)")
    parser.add_argument("--export", type=Path, help="a real export (JSON) instead of the synthetic one")
    parser.add_argument("--section", default="traces", help="the section page to load (default traces)")
    parser.add_argument("--verbose", action="store_true", help="print the navigation and resource timings")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mcref-bench-") as tmp:
        out = Path(tmp)
        site = out / "site"
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        started = time.perf_counter()
        import json

        export = json.loads(args.export.read_text(encoding="utf-8")) if args.export else big_export(args.rules)
        result = build_site(export, out, env={"MCREF_SITE_URL": base})
        build_s = time.perf_counter() - started
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 2
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sections_gz, rules_gz = page_sizes(site, export)
        url = base + args.section + "/"
        weights: list[int] = []
        weights_gz: list[int] = []
        math_ms: list[float] = []
        render_ms: list[float] = []
        script_ms: list[float] = []
        parsed_ms: list[float] = []
        typeset = 0
        fonts_ms: list[float] = []
        by_kind: dict[str, int] = {}
        count = 0
        with sync_playwright() as pw:
            for run in range(args.runs):
                profile = tempfile.mkdtemp(prefix="mcref-bench-profile-", dir=tmp)
                ctx = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = ctx.new_page()
                sizes: dict[str, int] = {}
                gzipped: dict[str, int] = {}
                foreign: list[str] = []

                def on_response(
                    resp: Any, foreign: list[str] = foreign, sizes: dict[str, int] = sizes, gzipped: dict[str, int] = gzipped
                ) -> None:
                    if not resp.url.startswith(base):
                        foreign.append(resp.url)
                    try:
                        body = resp.body()
                        sizes[resp.url] = len(body)
                        # what a server that compresses (gzip -6) would send; fonts are compressed already
                        gzipped[resp.url] = len(body) if resp.url.endswith(".woff2") else len(gzip.compress(body, 6, mtime=0))
                    except Exception:  # noqa: BLE001 - redirects have no body
                        sizes.setdefault(resp.url, 0)
                        gzipped.setdefault(resp.url, 0)

                page.on("response", on_response)
                page.goto(url, wait_until="load")
                page.wait_for_function("document.documentElement.getAttribute('data-mc-math') === 'done'")
                info = page.evaluate("""async () => {
                    await document.fonts.ready;
                    return {doneAt: window.mcrefMath.doneAt, renderMs: window.mcrefMath.renderMs,
                            count: window.mcrefMath.count, fontsAt: performance.now(),
                            rules: document.querySelectorAll('table.mc-rules tbody tr').length,
                            scriptAt: window.mcrefMath.scriptAt,
                            fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime,
                            fontsEnd: Math.max(0, ...performance.getEntriesByType('resource')
                                .filter(r => r.name.endsWith('.woff2')).map(r => r.responseEnd)),
                            typesetInHtml: document.querySelectorAll('.arithmatex[data-mc-math="1"]').length,
                            nav: performance.getEntriesByType('navigation')[0].toJSON(),
                            res: performance.getEntriesByType('resource').map(r => [r.name.split('/').pop(), Math.round(r.startTime), Math.round(r.responseEnd)])};
                }""")
                page.wait_for_load_state("networkidle")
                if getattr(args, "verbose", False):
                    nav = info["nav"]
                    print(
                        {
                            k: round(nav[k])
                            for k in ("responseStart", "responseEnd", "domInteractive", "domContentLoadedEventEnd", "loadEventEnd")
                        },
                        "script",
                        round(info["scriptAt"]),
                        "done",
                        round(info["doneAt"]),
                    )
                    print(info["res"])
                ctx.close()
                if foreign:
                    print(f"requests off 127.0.0.1: {foreign}", file=sys.stderr)
                    return 2
                weights.append(sum(sizes.values()))
                weights_gz.append(sum(gzipped.values()))
                # The math arrives typeset in the HTML; it is on screen at the first paint
                # once its fonts (font-display: block) are in.
                math_ms.append(max(info["fcp"], info["fontsEnd"]))
                script_ms.append(info["doneAt"])
                parsed_ms.append(info["nav"]["domInteractive"])
                typeset = info["typesetInHtml"]
                render_ms.append(info["renderMs"])
                fonts_ms.append(info["fontsAt"])
                count = info["count"]
                if run == 0:
                    for u, n in sizes.items():
                        kind = (
                            "font"
                            if u.endswith(".woff2")
                            else "js"
                            if u.endswith(".js")
                            else "css"
                            if u.endswith(".css")
                            else "json"
                            if u.endswith(".json")
                            else "xml"
                            if u.endswith(".xml")
                            else "html"
                        )
                        by_kind[kind] = by_kind.get(kind, 0) + n
                    rules = info["rules"]
        server.shutdown()
        server.server_close()

    weight = max(weights)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"machine load average during the bench: {' '.join(load)} ({__import__('os').cpu_count()} cores)")
    math = statistics.median(math_ms)
    what = f"{len(export['rules'])} rules of {args.export}" if args.export else f"{args.rules}-rule section"
    print(f"site build (mkdocs build --strict, {what}): {build_s:.2f} s")
    print(f"section page: {rules} rules, {count} math elements, {typeset} of them typeset in the HTML by the build")
    print(
        f"page weight with all assets: {weight / 1000:.0f} kB "
        + "("
        + ", ".join(f"{k} {v / 1000:.0f} kB" for k, v in sorted(by_kind.items()))
        + ")"

    )
    first_view = max(weights_gz)
    print(f"  first view, gzip-compressed as a compressing server sends it: {first_view / 1000:.0f} kB"
          f"  goal <= {WEIGHT_GOAL / 1000:.0f} kB: {'ok' if first_view <= WEIGHT_GOAL else 'MISSED'}")
    if sections_gz:
        big, name = sections_gz[-1]
        print(f"section pages, HTML gzipped: largest {big / 1000:.1f} kB ({name}), {len(sections_gz)} pages"
              f"  goal <= {SECTION_GOAL / 1000:.0f} kB: {'ok' if big <= SECTION_GOAL else 'MISSED'}")
    if rules_gz:
        big, name = rules_gz[-1]
        median = statistics.median(n for n, _ in rules_gz)
        print(f"rule pages, HTML gzipped: largest {big / 1000:.1f} kB ({name}), median {median / 1000:.1f} kB, {len(rules_gz)} pages"
              f"  goal <= {RULE_GOAL / 1000:.0f} kB: {'ok' if big <= RULE_GOAL else 'MISSED'}")
    print(
        f"navigation start -> all math on screen (first contentful paint, KaTeX fonts in): median {math:.0f} ms (runs: "
        + ", ".join(f"{m:.0f}" for m in math_ms)
        + f")  goal < {MATH_GOAL_MS:.0f} ms: "
        + ("ok" if math < MATH_GOAL_MS else "MISSED")
    )
    print(f"  whole page parsed, all {count} formulas typeset in the DOM (domInteractive): median {statistics.median(parsed_ms):.0f} ms")
    print(
        f"  mcref.js done (Material's document$ fired): median {statistics.median(script_ms):.0f} ms; "
        f"client-side KaTeX work: median {statistics.median(render_ms):.1f} ms; "
        f"document.fonts.ready: median {statistics.median(fonts_ms):.0f} ms"
    )
    sizes_ok = all(n <= SECTION_GOAL for n, _ in sections_gz) and all(n <= RULE_GOAL for n, _ in rules_gz)
    return 0 if max(weights_gz) <= WEIGHT_GOAL and math < MATH_GOAL_MS and sizes_ok else 1


if __name__ == "__main__":
    sys.exit(main())
