"""The engine benchmark (`make bench`): build and check times on this machine, next to their goals.

    python bench/run.py                       # everything (a few minutes)
    python bench/run.py --sizes 150 500       # a shorter growth series
    python bench/run.py --with-pdf --with-site   # also bench/pdf_bench.py, bench/site_bench.py and the check page

Prints:
  - `mcref build` (check + site + both PDFs): cold with an empty cache, with nothing changed,
    with one rule changed (in a temporary copy of rules/; rules/ itself is never modified);
  - `mcref check` of the corpus cold and cached, per 100 rules, and the 10 slowest rules;
  - how check time grows with 150, 500 and 2,000 synthetic, distinct rules;
  - the all-sizes stage alone (bench/allsizes_bench.py): coverage, time, slowest rules, largest grids.
Goals: cold build < 30 s, no-change rebuild < 3 s, one-rule rebuild < 5 s, check cold < 15 s
for the corpus, cached < 1 s, linear growth. Numbers, not assertions: the machine may be busy.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_bench import bench_build  # noqa: E402
from check_bench import bench_corpus, bench_growth  # noqa: E402


def _machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.python_implementation()} {platform.python_version()}, {cores} cores, load average {load}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mcref engine benchmark")
    parser.add_argument("--sizes", type=int, nargs="*", default=[150, 500, 2000], help="synthetic corpus sizes")
    parser.add_argument("--no-build", action="store_true", help="skip the build timings")
    parser.add_argument("--with-pdf", action="store_true", help="also run bench/pdf_bench.py")
    parser.add_argument("--with-site", action="store_true", help="also run bench/site_bench.py (needs chromium)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(f"mcref bench on {_machine()}")
    with tempfile.TemporaryDirectory(prefix="mcref-bench-") as tmp:
        work = Path(tmp)
        if not args.no_build:
            (work / "build").mkdir()
            bench_build(work / "build")
        (work / "check").mkdir()
        bench_corpus(work / "check")
        if args.sizes:
            (work / "growth").mkdir()
            bench_growth(work / "growth", args.sizes)
    for flag, script, extra in ((True, "allsizes_bench.py", []), (True, "search_bench.py", []), (args.with_pdf, "pdf_bench.py", []),
                                (args.with_site, "site_bench.py", []),
                                (True, "claim_bench.py", [] if args.with_site else ["--no-browser"])):
        if flag:
            print(f"--- {script}", flush=True)
            subprocess.run([sys.executable, str(HERE / script), *extra], check=False)
    print(f"bench finished in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
