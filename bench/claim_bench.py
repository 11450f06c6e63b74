"""Claim bench: a one-line claim on the command line, and the "Check a derivative" page.

    python bench/claim_bench.py [--runs 5] [--no-browser] [--site build/site]

Prints, next to their goals (issue 12):
  - `mcref check --of ... --wrt ... --expect ... --symbols ...` in a fresh process (cold start,
    no verdict cache), for a true and a false claim: wall time, median and worst of --runs,
    and which checks ran; goal <= 1 s on 2 cores;
  - in headless Debian chromium, a fresh profile each run (nothing cached): the time from
    opening the page to a ready checker (goal <= 10 s on localhost), then every claim of the
    student table (tests/fixtures/claims/student-claims.yaml) typed and checked: time from
    the click to the verdict on screen and inside the worker (goal <= 2 s each).
The site is served on 127.0.0.1 from --site, else built from a small test export into a
temporary folder. Numbers, not assertions: the machine may be busy (the load is printed).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

CLI_GOAL_S = 1.0
LOAD_GOAL_S = 10.0
CHECK_GOAL_S = 2.0
CLAIMS = {
    "true": ["--of", "x' @ A @ x", "--wrt", "x", "--expect", "(A + A.T) @ x", "--symbols", "x: [n]; A: [n, n]"],
    "false": ["--of", "x' @ A @ x", "--wrt", "x", "--expect", "2 * A @ x", "--symbols", "x: [n]; A: [n, n]"],
    "trace": ["--of", "trace(A @ X @ B)", "--wrt", "X", "--expect", "A.T @ B.T", "--symbols", "A: [m, n]; X: [n, p]; B: [p, m]"],
}


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def bench_cli(runs: int) -> None:
    print(f"command line (fresh process, empty verdict cache; load average {load()}):")
    mcref = ROOT / ".venv" / "bin" / "mcref"
    command = [str(mcref)] if mcref.exists() else [sys.executable, "-m", "generator"]
    for name, args in CLAIMS.items():
        times = []
        last = ""
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="mcref-claim-cache-") as cache:
                env = dict(os.environ, MCREF_CACHE_DIR=cache)
                start = time.perf_counter()
                done = subprocess.run([*command, "check", *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
                times.append(time.perf_counter() - start)
                last = done.stdout
        checks = next((line.strip() for line in last.splitlines() if line.strip().startswith("checks run:")), "checks run: ?")
        verdict = last.split()[0] if last else "?"
        flag = "ok" if statistics.median(times) <= CLI_GOAL_S else "OVER GOAL"
        print(f"  {name:6} {verdict:9} median {statistics.median(times):.2f} s, worst {max(times):.2f} s "
              f"(goal <= {CLI_GOAL_S:g} s: {flag}); {checks}")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def bench_browser(site: Path | None, runs: int) -> None:
    from claims_support import flags_of, student_claims
    from site_fixtures import CHROMIUM, CHROMIUM_ARGS, build_site, hostile_export

    if not CHROMIUM.exists():
        print(f"browser: skipped ({CHROMIUM} is absent)")
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mcref-claim-bench-") as tmp:
        if site is None:
            result = build_site(hostile_export(), Path(tmp))
            if result.returncode != 0:
                print("browser: the site did not build:\n" + result.stderr)
                return
            site = Path(tmp) / "site"
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/check/"
        rows = student_claims()
        loads: list[float] = []
        walls: list[float] = []
        inside: list[float] = []
        slowest: tuple[float, str] = (0.0, "")
        print(f"browser (headless chromium, fresh profile each run; load average {load()}):")
        with sync_playwright() as pw:
            for run in range(runs):
                profile = tempfile.mkdtemp(prefix="mcref-chromium-", dir=tmp)
                ctx = pw.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                page.goto(url)
                page.wait_for_selector("form[data-mc-check][data-mc-state=ready]", state="attached", timeout=180_000)
                loads.append(int(page.get_attribute("form[data-mc-check]", "data-mc-ready-ms") or 0) / 1000)
                runtime = page.get_attribute("form[data-mc-check]", "data-mc-runtime")
                if run == 0:
                    page.evaluate("document.querySelector('.mc-check-more').open = true")
                    for row in rows:
                        flags = flags_of(row)
                        for name in ("of", "wrt", "expect", "symbols", "assume", "where", "functions"):
                            page.fill(f"#mc-{name}", flags.get(name, ""))
                        page.select_option("#mc-layout", flags.get("layout", ""))
                        page.select_option("#mc-order", flags.get("order", ""))
                        count = page.get_attribute(".mc-check-result", "data-mc-run") or "0"
                        start = time.perf_counter()
                        page.click("form[data-mc-check] button[type=submit]")
                        page.wait_for_function(f"document.querySelector('.mc-check-result').getAttribute('data-mc-run') !== '{count}'",
                                               timeout=60_000)
                        wall = time.perf_counter() - start
                        walls.append(wall)
                        inside.append(int(page.get_attribute("form[data-mc-check]", "data-mc-check-ms") or 0) / 1000)
                        slowest = max(slowest, (wall, row["name"]))
                ctx.close()
        server.shutdown()
        server.server_close()
    flag = "ok" if statistics.median(loads) <= LOAD_GOAL_S else "OVER GOAL"
    print(f"  runtime ({runtime}) ready after median {statistics.median(loads):.1f} s, worst {max(loads):.1f} s "
          f"over {runs} cold loads (goal <= {LOAD_GOAL_S:g} s: {flag})")
    flag = "ok" if max(walls) <= CHECK_GOAL_S else "OVER GOAL"
    print(f"  {len(walls)} claims: click to verdict median {statistics.median(walls) * 1000:.0f} ms, worst {max(walls) * 1000:.0f} ms "
          f"({slowest[1]}); in the worker median {statistics.median(inside) * 1000:.0f} ms (goal <= {CHECK_GOAL_S:g} s each: {flag})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mcref claim bench")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--no-browser", action="store_true", help="only the command line")
    parser.add_argument("--site", type=Path, help="a built site to serve (default: build a small one)")
    args = parser.parse_args(argv)
    bench_cli(args.runs)
    if not args.no_browser:
        bench_browser(args.site, max(1, min(args.runs, 3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
