"""Time the sheets: render and pdfLaTeX compile of the two-page cheat sheet and of the complete
reference, in each paper and layout (goals: the cheat sheet <= 3 s, the reference <= 5 s).

    python bench/pdf_bench.py                          # the export of rules/ (verdicts from the cache)
    python bench/pdf_bench.py --export build/rules.json   # an export file (`mcref export --out ...`)

Prints one line per PDF: rules, pages, render time, compile time (wall and CPU), and the
machine's load, since wall times grow with it. Numbers, not assertions; exit 1 over a goal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.render import pdf  # noqa: E402
from generator.render.sheets import Sheet, read_sheet  # noqa: E402

GOALS_S = {"cheatsheet": 3.0, "reference": 5.0}


def load_export(path: Path | None) -> dict[str, Any]:
    if path is not None:
        return json.loads(path.read_text(encoding="utf-8"))
    from generator.pipeline import export_rules

    return export_rules(ROOT / "rules")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, help="an export JSON file (default: the export of rules/)")
    parser.add_argument("--sheet", type=Path, default=ROOT / "sheets" / "cheatsheet.yaml", help="the cheat sheet file")
    args = parser.parse_args()
    export = load_export(args.export)
    print(f"sheets bench: {len(export['rules'])} rules; goals: cheat sheet <= {GOALS_S['cheatsheet']:g} s, "
          f"reference <= {GOALS_S['reference']:g} s per compile")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with load)")
    cheatsheet = read_sheet(args.sheet, export)
    worst: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mcref-pdf-bench-") as tmp:
        for kind in ("cheatsheet", "reference"):
            for paper in pdf.PAPERS:
                for layout in pdf.LAYOUTS:
                    if kind == "cheatsheet":
                        sheet = Sheet(**{**cheatsheet.__dict__, "paper": paper, "layout": layout})
                    else:
                        sheet = pdf.reference_for(export, layout=layout, paper=paper)
                    t0 = time.perf_counter()
                    tex = pdf.render_sheet(export, sheet)
                    t1 = time.perf_counter()
                    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    pages = pdf.compile_pdf(tex, Path(tmp) / f"{kind}-{paper}-{layout}.pdf", source_date_epoch=0)
                    t2 = time.perf_counter()
                    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
                    worst[kind] = max(worst.get(kind, 0.0), t2 - t1)
                    print(f"  {kind:<10} {paper:<6} {layout:<11} {len(sheet.ids):>4} rules {pages:>3} pages  "
                          f"render {1000 * (t1 - t0):6.1f} ms  compile {t2 - t1:5.2f} s wall, {cpu:4.2f} s CPU")
    over = [k for k, v in worst.items() if v > GOALS_S[k]]
    for kind, seconds in worst.items():
        print(f"slowest {kind} compile {seconds:.2f} s ({'OVER GOAL' if kind in over else 'ok'})")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
