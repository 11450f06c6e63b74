"""Time `mcref build` (check + site + 8 PDFs + LaTeX files): cold, with nothing changed, with one rule changed.

    python bench/build_bench.py

Works on a temporary copy of rules/ (and errata/ and sheets/, which belong beside it) with an empty
cache folder (MCREF_CACHE_DIR, PDFs in its sibling pdf/), building into a temporary --out:
rules/, build/ and ~/.cache are never touched. Numbers, not assertions.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_bench import RULES, env_with_cache, run_check  # noqa: E402

GOAL_COLD_S = 30.0
GOAL_NOCHANGE_S = 3.0
GOAL_ONE_RULE_S = 5.0

# The rule whose `expect` the one-rule rebuilds rewrite, with equal expressions: the first is
# a new claim to prove with the same printed forms (the PDFs whose .tex is unchanged stay
# cached); the second also changes the printed formula, so the PDFs holding it are typeset again.
CHANGED_RULE = "trace-axb"
CHANGES = (
    ("expect: A.T @ B.T\n", "expect: (B @ A).T\n"),
    ("expect: (B @ A).T\n", "expect: 2 * (B @ A).T - A.T @ B.T\n"),
)


def run_build(work: Path, cache: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "generator", "build", "--rules", "rules", "--out", "out"], cwd=work,
                          env=env_with_cache(cache), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode == 0:
        note = output.splitlines()[-1] if output else ""
    else:
        note = f"FAILED (exit {proc.returncode}): " + " | ".join(output.splitlines()[-5:])
    return seconds, proc.returncode, note


def change_one_rule(rules: Path, change: tuple[str, str]) -> str:
    path = rules / f"{CHANGED_RULE}.yaml"
    text = path.read_text(encoding="utf-8")
    if change[0] in text:
        path.write_text(text.replace(*change), encoding="utf-8")
        return f"{CHANGED_RULE}: {change[0].strip()} -> {change[1].strip()}"
    # The corpus changed under us: add zero times the first rule's expect (a new claim and formula).
    path = sorted(p for p in rules.glob("[!_]*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^expect: (.+)$", text, re.M)
    assert m, f"{path} has no one-line expect"
    path.write_text(text.replace(m.group(0), f"expect: {m.group(1)} + 0 * ({m.group(1)})"), encoding="utf-8")
    return f"{path.stem}: expect + 0 * (expect)"


def bench_build(work: Path) -> dict[str, float]:
    shutil.copytree(RULES, work / "rules")
    for beside in ("errata", "sheets"):
        if (ROOT / beside).is_dir():
            shutil.copytree(ROOT / beside, work / beside)
    cache = work / "cache"
    results = {}
    cold, rc, note = run_build(work, cache)
    results["cold"] = cold
    print(f"build, cold (empty cache)   : {cold:7.2f} s   (goal < {GOAL_COLD_S:g} s)   {note}")
    again, rc2, note = run_build(work, cache)
    results["nochange"] = again
    print(f"build, nothing changed      : {again:7.2f} s   (goal < {GOAL_NOCHANGE_S:g} s)   {note}")
    for label, change in zip(("same printed form", "new formula"), CHANGES):
        what = change_one_rule(work / "rules", change)
        one, rc3, note = run_build(work, cache)
        results[f"one_rule ({label})"] = one
        print(f"build, one rule changed     : {one:7.2f} s   (goal < {GOAL_ONE_RULE_S:g} s)   {note}")
        print(f"  ({label}) {what}")
    # Where the no-change time goes: the build's phases, timed inside one more (cached) build.
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--phases"], cwd=work, env=env_with_cache(cache),
                          capture_output=True, text=True)
    print(f"  phases of a rebuild with nothing changed: {proc.stdout.strip() or proc.stderr.strip()[-300:]}")
    return results


def phases() -> int:
    """Run `mcref build --rules rules --out out` in this process with a timer on each phase; print them."""
    sys.path.insert(0, str(ROOT))
    from generator import build, cli
    from generator.render import pdf

    times: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - t
        return wrapper

    build.export_rules = timed("check", build.export_rules)
    build._compile_cached = timed("PDFs", build._compile_cached)
    pdf.render_sheet = timed("render .tex", pdf.render_sheet)
    build.write_latex = timed("LaTeX files", build.write_latex)
    build._build_site = timed("site (mkdocs + KaTeX)", build._build_site)
    build._swap = timed("swap", build._swap)
    started = time.perf_counter()
    import io, contextlib

    with contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["build", "--rules", "rules", "--out", "out"])
    total = time.perf_counter() - started
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
    print(f"{parts}; in-process total {total:.2f} s (+ interpreter and imports){'' if rc == 0 else f' [exit {rc}]'}")
    return rc


def main() -> int:
    if sys.argv[1:] == ["--phases"]:
        return phases()
    with tempfile.TemporaryDirectory(prefix="mcref-build-bench-") as tmp:
        bench_build(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
