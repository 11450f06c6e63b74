"""Time the cheat sheet: render and pdfLaTeX compile of each sheet (goal: < 3 s for the full sheet).

    python bench/pdf_bench.py                 # a synthetic export of 150 rules (as in the tests)
    python bench/pdf_bench.py --rules 300     # ... of 300 rules
    python bench/pdf_bench.py --export build/rules.json   # a real export (`mcref export --out ...`)

Prints one line per sheet: layout, paper, rules, pages, render time, compile time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import pdf  # noqa: E402

GOAL_S = 3.0


def synthetic(n: int) -> dict[str, Any]:
    """The tests' synthetic export (tests/test_pdf.py: synthetic_export)."""
    spec = importlib.util.spec_from_file_location("test_pdf", ROOT / "tests" / "test_pdf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.synthetic_export(n)  # type: ignore[no-any-return]


def pages(path: Path) -> str:
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, help="an export JSON file (default: synthetic)")
    parser.add_argument("--rules", type=int, default=150, help="rules in the synthetic export")
    args = parser.parse_args()
    export = json.loads(args.export.read_text(encoding="utf-8")) if args.export else synthetic(args.rules)
    source = str(args.export) if args.export else f"synthetic export, {args.rules} rules"
    print(f"cheat sheet bench: {source}; goal < {GOAL_S:.0f} s per full sheet")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs (wall times grow with load)")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="mcref-pdf-bench-") as tmp:
        for layout in pdf.LAYOUTS:
            for paper in pdf.PAPERS:
                t0 = time.perf_counter()
                tex = pdf.render_tex(export, layout=layout, paper=paper)
                t1 = time.perf_counter()
                cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                out = Path(tmp) / f"{layout}-{paper}.pdf"
                pdf.compile_pdf(tex, out, source_date_epoch=0)
                t2 = time.perf_counter()
                cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
                worst = max(worst, t2 - t1)
                print(
                    f"  {layout:<11} {paper:<6} {len(pdf.select_rules(export)):>4} rules "
                    f"{pages(out):>3} pages  render {1000 * (t1 - t0):6.1f} ms  "
                    f"compile {t2 - t1:5.2f} s wall, {cpu:4.2f} s CPU (latexmk + pdflatex)"
                )
    verdict = "ok" if worst < GOAL_S else "OVER GOAL"
    print(f"slowest compile {worst:.2f} s ({verdict})")
    return 0 if worst < GOAL_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
