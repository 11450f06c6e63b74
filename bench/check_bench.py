"""Time `mcref check`: the corpus cold and cached, the slowest rules, and growth with synthetic corpora.

    python bench/check_bench.py                      # corpus + growth at 150, 500, 2000 rules
    python bench/check_bench.py --sizes 150 500      # smaller growth series
    python bench/check_bench.py --no-corpus          # growth only

Every run is a subprocess (`python -m generator check`) with its own empty verdict cache in a
temporary folder; rules/ is only read. Synthetic rules differ in integer coefficients, so
every one is a distinct claim and neither the cache nor the per-run dedup hides work.
Numbers, not assertions: the machine may be busy.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

GOAL_CHECK_COLD_S = 15.0
GOAL_CHECK_CACHED_S = 1.0

# A small vector rule: a few hundred microseconds of SymPy, like the light half of the corpus.
# {a}, {b} make each claim distinct (and still true).
SYNTHETIC = """id: {rid}
title: Synthetic quadratic form {n}
section: vector-forms
layout: denominator
symbols:
  x: [n]
  A: [n, n]
  b: [n]
of: {a} * x.T @ A @ x + {b} * b.T @ x
wrt: x
expect: {a} * (A + A.T) @ x + {b} * b
"""

_LINE = re.compile(r"^(verified|refuted|undecided)\s+(\S+)\s+\((cached|[\d.]+ s)\)")


@dataclass
class CheckRun:
    seconds: float
    exit_code: int
    summary: str
    per_rule: dict[str, float] = field(default_factory=dict)  # rule id -> seconds of its proof
    cached: int = 0
    output: str = ""

    @property
    def rules(self) -> int:
        return len(self.per_rule) + self.cached


def env_with_cache(cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCREF_")}
    env.update(PYTHONPATH=str(ROOT), MCREF_CACHE_DIR=str(cache / "verdicts"), NO_MKDOCS_2_WARNING="1")
    env.update(extra)
    return env


def run_check(paths: list[Path], cache: Path, *args: str, cwd: Path | None = None) -> CheckRun:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "generator", "check", *args, *map(str, paths)], cwd=cwd or ROOT,
                          env=env_with_cache(cache), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    run = CheckRun(seconds, proc.returncode, "", output=proc.stdout + proc.stderr)
    for line in proc.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            if m.group(3) == "cached":
                run.cached += 1
            else:
                run.per_rule[m.group(2)] = float(m.group(3).split()[0])
        elif re.match(r"^\d+ verified, ", line):
            run.summary = line
    return run


def synthetic_rules(folder: Path, count: int) -> Path:
    """count distinct true rules in folder (with the real _sections.yaml)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(RULES / "_sections.yaml", folder / "_sections.yaml")
    for n in range(count):
        rid = f"synthetic-{n:05d}"
        (folder / f"{rid}.yaml").write_text(SYNTHETIC.format(rid=rid, n=n, a=n % 97 + 2, b=n // 97 + 1), encoding="utf-8")
    return folder


def _failed(run: CheckRun) -> str:
    if run.exit_code == 0:
        return ""
    tail = [ln for ln in run.output.splitlines() if ln.strip() and not ln.startswith("verified")][-6:]
    return f"  [exit {run.exit_code}: " + " | ".join(tail) + "]"


def bench_corpus(work: Path, rules: Path = RULES, slowest: int = 10) -> dict[str, float]:
    """Cold and cached check of the corpus, and its slowest rules."""
    cache = work / "cache-corpus"
    cold = run_check([rules], cache)
    cached = run_check([rules], cache)
    n = max(cold.rules, 1)
    print(f"check, corpus cold   : {cold.seconds:7.2f} s for {cold.rules} rules = {100 * cold.seconds / n:6.2f} s per 100 rules"
          f"   (goal < {GOAL_CHECK_COLD_S:g} s)   {cold.summary}{_failed(cold)}")
    print(f"check, corpus cached : {cached.seconds:7.2f} s for {cached.rules} rules = {100 * cached.seconds / n:6.2f} s per 100 rules"
          f"   (goal < {GOAL_CHECK_CACHED_S:g} s)   {cached.cached} cached{_failed(cached)}")
    proof_total = sum(cold.per_rule.values())
    print(f"  sum of per-rule proof times {proof_total:.1f} s over {len(cold.per_rule)} proofs "
          f"(wall {cold.seconds:.1f} s with {os.cpu_count()} cores)")
    print(f"  the {slowest} slowest rules (seconds of proof, cold):")
    for rid, s in sorted(cold.per_rule.items(), key=lambda kv: -kv[1])[:slowest]:
        print(f"    {s:7.2f}  {rid}")
    return {"cold": cold.seconds, "cached": cached.seconds, "rules": cold.rules}


def bench_growth(work: Path, sizes: list[int]) -> list[tuple[int, float, float]]:
    """Cold and cached check of synthetic corpora of each size; seconds per 100 rules shows (non-)linearity."""
    rows = []
    print(f"check growth (synthetic distinct rules, {os.cpu_count()} cores): cold = verify everything, cached = load + validate + parse only")
    for size in sizes:
        folder = synthetic_rules(work / f"synthetic-{size}" / "rules", size)
        cache = work / f"synthetic-{size}" / "cache"
        cold = run_check([folder], cache)
        cached = run_check([folder], cache)
        rows.append((size, cold.seconds, cached.seconds))
        print(f"  {size:6d} rules: cold {cold.seconds:7.2f} s ({100 * cold.seconds / size:5.2f} s/100)   "
              f"cached {cached.seconds:6.2f} s ({100 * cached.seconds / size:5.2f} s/100)   "
              f"mean proof {sum(cold.per_rule.values()) / max(len(cold.per_rule), 1):.3f} s   {cold.summary}{_failed(cold)}")
        shutil.rmtree(work / f"synthetic-{size}", ignore_errors=True)
    if len(rows) >= 2:
        (n0, c0, k0), (n1, c1, k1) = rows[0], rows[-1]
        print(f"  growth {n0} -> {n1} rules (x{n1 / n0:.1f}): cold x{c1 / c0:.1f}, cached x{k1 / k0:.1f} "
              f"(linear would be x{n1 / n0:.1f}; the fixed start-up of ~1 s makes small runs look dear)   (goal: linear)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[150, 500, 2000])
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mcref-check-bench-") as tmp:
        if not args.no_corpus:
            bench_corpus(Path(tmp))
        if args.sizes:
            bench_growth(Path(tmp), args.sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
