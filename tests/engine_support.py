"""Helpers for the engine tests (tests/test_load.py ... tests/test_cache.py): paths, CLI runners, rules from text."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
RULES = ROOT / "rules"
PROBLEM_LINE = r"^\S+:\d+:\d+: MC\d{3} "


@dataclass
class Run:
    """What one `mcref` command printed and returned."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def run_inprocess(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """`mcref ARGS` through generator.cli.main, from the folder cwd."""
    from generator.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def run_subprocess(args: list[str], cwd: Path, timeout: float = 300) -> Run:
    """`python -m generator ARGS` in a fresh interpreter, from the folder cwd (the repo only on PYTHONPATH)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def write_rule(folder: Path, rule_id: str, body: str) -> Path:
    """A rule file <folder>/<rule_id>.yaml with the given fields after its id."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rule_id}.yaml"
    path.write_text(f"id: {rule_id}\n{body.strip()}\n", encoding="utf-8")
    return path


def parse_file(path: Path):
    """Load, validate and parse one rule file: (rule or None, problems)."""
    from generator.pipeline import load_and_parse

    report = load_and_parse([path], publish=False)
    return (report.rules[0] if report.rules else None), report.problems


def claim_from(symbols: dict[str, list], of: str, wrt: str, expect: str, layout: str = "denominator",
               assume: dict[str, tuple[str, ...]] | None = None, functions: dict | None = None,
               kind: str = "derivative", sizes: tuple | None = None, label: str = "test-claim"):
    """A Claim built from rule-language text, the way generator.engine.rule builds one."""
    from generator.engine.parse import parse_expression
    from generator.engine.rule import build_scope, default_sizes, dims_in_order
    from generator.engine.verify import Claim

    functions = functions or {}
    scope = build_scope(symbols, functions, kind, wrt)
    of_expr = parse_expression(of, type(scope)(scope.symbols, scope.functions, scope.dims, None))
    expect_expr = parse_expression(expect, scope)
    if sizes is None:
        sizes = default_sizes(dims_in_order(symbols, functions))
    return Claim(label, kind, layout, scope, of_expr, wrt, expect_expr, dict(assume or {}), sizes)


def elementary(k: int) -> dict[tuple[int, ...], Fraction]:
    """k! e_k as a polynomial in the power sums p_1..p_k (Newton's identities): exponent tuple -> coefficient.

    The trap families of the verifier's tests: k! e_k is 0 for every size below k and not 0 from k
    (written with traces of matrix powers, or with power sums of a vector's entries)."""
    e: list[dict[tuple[int, ...], Fraction]] = [{(0,) * k: Fraction(1)}]
    for j in range(1, k + 1):
        new: dict[tuple[int, ...], Fraction] = {}
        for i in range(1, j + 1):
            for mono, c in e[j - i].items():
                m = list(mono)
                m[i - 1] += 1
                new[tuple(m)] = new.get(tuple(m), 0) + Fraction((-1) ** (i - 1), j) * c
        e.append(new)
    return {m: c * math.factorial(k) for m, c in e[k].items() if c}
