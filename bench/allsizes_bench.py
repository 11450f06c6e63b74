"""The all-sizes check on the corpus: coverage, time of the stage alone, slowest rules, largest grids.

    python bench/allsizes_bench.py              # the all-sizes stage, then the witnesses' CPU per stage
    python bench/allsizes_bench.py --mutants    # also: every mutant of every rule (none may be proved)

In-process, one core (the stage is pure Python and needs no worker); CPU seconds are printed
beside wall seconds because the machine may be shared. Numbers, not assertions.
Goals (issue 9): >= 95% of the corpus proved for all sizes; the all-sizes stage alone <= 5 s.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

GOAL_PROVED = 0.95
GOAL_STAGE_S = 5.0


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def bench_stage(slowest: int = 10) -> dict[str, float]:
    from generator.engine.allsizes import decide
    from generator.pipeline import load_and_parse

    rules = load_and_parse([ROOT / "rules"], publish=False).rules
    rows = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for rule in rules:
        w, c = time.perf_counter(), time.process_time()
        d = decide(rule.claim)
        rows.append((time.process_time() - c, time.perf_counter() - w, rule.id, d))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    status = collections.Counter(d.status for *_, d in rows)
    proved = status["proved"] / max(len(rows), 1)
    print(f"all-sizes stage: {len(rows)} rules in {wall:.2f} s wall, {cpu:.2f} s CPU (goal <= {GOAL_STAGE_S:g} s)   load {_load()}")
    print(f"  proved for every size: {status['proved']} of {len(rows)} = {100 * proved:.1f}% (goal >= {100 * GOAL_PROVED:.0f}%)   "
          + ", ".join(f"{k} {v}" for k, v in sorted(status.items()) if k != "proved"))
    for cpu_s, _, rid, d in rows:
        if d.status != "proved":
            print(f"    {d.status:9} {rid}: {d.reason[:110]}")
    print(f"  the {slowest} slowest rules (CPU seconds of the stage):")
    for cpu_s, _, rid, d in sorted(rows, key=lambda r: -r[0])[:slowest]:
        top = {k: max(s[k] for s in d.grid) for k in d.grid[0]} if d.grid and d.grid[0] else {}
        print(f"    {cpu_s:6.3f}  {rid}  ({len(d.grid)} size tuples, up to {top or 'scalars'})")
    print("  the largest grids (size tuples; largest letter):")
    for *_, rid, d in sorted(rows, key=lambda r: -len(r[3].grid))[:slowest]:
        biggest = max((max(s.values()) for s in d.grid if s), default=0)
        print(f"    {len(d.grid):4d} tuples, up to {biggest:3d}  {rid}  B={d.bounds.get('B')} L+U={_lu(d)} D={d.bounds.get('D')}")
    return {"wall": wall, "cpu": cpu, "proved": proved}


def _lu(d) -> dict[str, int]:
    b = d.bounds
    return {t: b["L"][t] + b["U"][t] for t in b.get("L", {})} if b else {}


def bench_witnesses() -> None:
    """CPU of the three checks per rule, in one process (what a cold `mcref check` spreads over the cores)."""
    from generator.engine import verify
    from generator.engine.allsizes import decide
    from generator.pipeline import load_and_parse

    rules = load_and_parse([ROOT / "rules"], publish=False).rules
    totals = collections.Counter()
    for rule in rules:
        claim = rule.claim
        c0 = time.process_time()
        d = decide(claim)
        c1 = time.process_time()
        sizes = verify.witness_sizes(claim)
        for s in sizes:
            try:
                verify.numeric_check(claim, s)
            except (verify.Refuted, verify.Undecided):
                pass
        c2 = time.process_time()
        for s in (sizes[:1] if d.status == "proved" else sizes):
            try:
                verify.symbolic_check(claim, s)
            except (verify.Refuted, verify.Undecided):
                pass
        c3 = time.process_time()
        totals["all-sizes"] += c1 - c0
        totals["numeric witness"] += c2 - c1
        totals["SymPy witness"] += c3 - c2
    print("CPU per stage over the corpus (one process): " + ", ".join(f"{k} {v:.1f} s" for k, v in totals.items())
          + f"   load {_load()}")


def bench_mutants() -> None:
    from generator.engine.allsizes import decide
    from test_mutants import KINDS, corpus, mutant_claims

    counts = collections.Counter()
    proved = []
    start = time.perf_counter()
    for rid, rule in corpus().items():
        for kind, claim in mutant_claims(rule, len(KINDS)).items():
            status = decide(claim).status
            counts[status] += 1
            if status == "proved":
                proved.append(f"{rid}/{kind}")
    print(f"mutants: {sum(counts.values())} of {len(corpus())} rules in {time.perf_counter() - start:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"   proved (must be none): {proved or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", action="store_true", help="also decide every mutant of every rule")
    parser.add_argument("--no-witnesses", action="store_true", help="skip the per-stage CPU of the witnesses")
    args = parser.parse_args(argv)
    bench_stage()
    if not args.no_witnesses:
        bench_witnesses()
    if args.mutants:
        bench_mutants()
    return 0


if __name__ == "__main__":
    sys.exit(main())
