"""`mcref check` with a one-line claim or a claim file: the verdict block, the summary line and the exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine_support import run_inprocess, run_subprocess

VERDICT = re.compile(r"^(verified|refuted|undecided) +(\S+)  \((cached|\d+\.\d\d s)\)$")
SUMMARY = re.compile(r"^(\d+) verified, (\d+) refuted, (\d+) undecided, (\d+) invalid$")
QUADRATIC = ["--of", "x' @ A @ x", "--wrt", "x", "--symbols", "x: [n]; A: [n, n]"]


def test_a_true_claim_prints_its_verdict_block_and_exits_0(tmp_path: Path) -> None:
    """A fresh process: the verdict line (as for rules), the claim as read, the layout, the proof, the checks, the summary."""
    run = run_subprocess(["check", *QUADRATIC, "--expect", "(A + A.T) @ x"], tmp_path)
    assert run.code == 0, run.err
    lines = run.lines
    assert VERDICT.match(lines[0]) and lines[0].startswith("verified   claim  (")
    assert lines[1:3] == [
        "           d(x.T @ A @ x)/dx = (A + A.T) @ x",
        "           holds in denominator layout; in numerator layout the derivative is its transpose, x.T @ (A.T + A)",
    ]
    assert lines[3].startswith("           Proved for every size (exact, randomized: error < ")
    assert lines[4].startswith("           checks run: all-sizes exact check: the identity at n = 2")
    assert lines[-2:] == ["1 verified, 0 refuted, 0 undecided, 0 invalid", "1 of 1 verified rules proved for all sizes"]
    assert run.err == ""


def test_a_false_claim_shows_the_counterexample_and_the_slip_and_exits_1(tmp_path: Path, monkeypatch, capsys) -> None:
    """2 A x: the exact counterexample with 1-based entries, the true derivative, the symmetric hint; exit 1."""
    run = run_inprocess(["check", *QUADRATIC, "--expect", "2 * A @ x"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    body = [line.strip() for line in run.lines[1:-2]]
    assert body[:7] == [
        "d(x.T @ A @ x)/dx = 2 * A @ x",
        "does not hold in denominator layout (the only layout its shape fits)",
        "counterexample at n = 2 with x = [1; 2], A = [-1 3; -2 1]:",
        "entry 1 of the derivative (denominator layout) is 0, the claim gives 10",
        "true derivative [0; 5], claim [10; 0]",
        "(entries are numbered from 1)",
        "probably: it holds only when A is symmetric: add --assume 'A: symmetric', or write (A + A.T) @ x, which holds for every A",
    ]
    assert run.lines[-2:] == ["0 verified, 1 refuted, 0 undecided, 0 invalid", "0 of 0 verified rules proved for all sizes"]


def test_a_syntax_slip_prints_the_problem_with_a_caret_and_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    """x^T: the problem line (flag, line 1, column), the text typed and a caret under the slip; exit 2."""
    run = run_inprocess(["check", "--of", "x^T @ A @ x", "--wrt", "x", "--expect", "2 * A @ x", "--symbols", "x: [n]; A: [n, n]"],
                        tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert run.lines == [
        "--of:1:2: MC021 of expression must write a transpose as x.T (found x^T; ^ is not a power in Python)",
        "    x^T @ A @ x",
        "     ^",
        "0 verified, 0 refuted, 0 undecided, 1 invalid",
        "0 of 0 verified rules proved for all sizes",
    ]


def test_parsable_and_github_formats_carry_the_flag_and_column(tmp_path: Path, monkeypatch, capsys) -> None:
    """--format parsable prints path:line:col lines only; github prints annotations."""
    args = ["check", "--of", "tr(A)", "--wrt", "A", "--expect", "eye(n)", "--symbols", "A: [n, n]"]
    run = run_inprocess([*args, "--format", "parsable"], tmp_path, monkeypatch, capsys)
    assert run.lines[0] == "--of:1:1: MC023 of function tr is not in the rule language: write trace(A) (found tr(A))"
    run = run_inprocess([*args, "--format", "github"], tmp_path, monkeypatch, capsys)
    assert run.lines[0].startswith("::error file=--of,line=1,col=1,title=MC023::")


def test_a_claim_and_rule_paths_together_are_a_usage_error(tmp_path: Path, monkeypatch, capsys) -> None:
    """Flags of a one-line claim and paths cannot be mixed: exit 2 with one sentence, no traceback."""
    run = run_inprocess(["check", "rules", *QUADRATIC, "--expect", "2 * A @ x"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert run.err.strip() == "mcref check: give rule or claim files, or a one-line claim (--of ...), not both"


def test_missing_flags_are_named(tmp_path: Path, monkeypatch, capsys) -> None:
    """--expect forgotten: MC010 on --expect; no symbols: MC010 with a guess of the declarations."""
    run = run_inprocess(["check", "--of", "x.T @ A @ x", "--wrt", "x", "--symbols", "x: [n]; A: [n, n]"], tmp_path, monkeypatch, capsys)
    assert run.code == 2 and run.lines[0] == "--expect:1:1: MC010 expect must be present (found it missing)"
    run = run_inprocess(["check", "--of", "x.T @ A @ x", "--wrt", "x", "--expect", "2 * A @ x"], tmp_path, monkeypatch, capsys)
    assert run.lines[0] == ("--symbols:1:1: MC010 symbols must be present (found it missing); declare every symbol with its shape, "
                            "like 'x: [n]; A: [n, n]' (a guess: [] scalar, [n] column vector, [m, n] matrix)")


def test_claim_files_are_checked_beside_rule_checks(tmp_path: Path, monkeypatch, capsys) -> None:
    """A folder of homework claims (no id, title, section): each judged, problems at file:line:col, one summary."""
    (tmp_path / "hw1.yaml").write_text("symbols: {x: [n], A: [n, n]}\nof: x' @ A @ x\nwrt: x\nexpect: 2 * A @ x\n", encoding="utf-8")
    (tmp_path / "hw2.yaml").write_text("symbols: {x: [n]}\nof: x.T @ x\nwrt: x\nexpect: 2 * x\n", encoding="utf-8")
    (tmp_path / "hw3.yaml").write_text("symbols: {x: [n]}\nof: x.T @ x\nwrt: x\nexpected: 2 * x\n", encoding="utf-8")
    (tmp_path / "hw4.yaml").write_text("symbols: {x: [n]}\nof: x.T @ x\nwrt: x\nexpect: 2 * x^T\n", encoding="utf-8")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    verdicts = [line for line in run.lines if VERDICT.match(line)]
    assert [v.split()[0] + " " + v.split()[1] for v in verdicts] == ["refuted hw1.yaml", "verified hw2.yaml"]
    assert "           probably: it holds only when A is symmetric: add assume: {A: [symmetric]}, or write (A + A.T) @ x, which holds for every A" in run.lines
    problems = [line for line in run.lines if re.match(r"^hw\d\.yaml:\d+:\d+: MC", line)]
    assert problems == [
        "hw3.yaml:1:1: MC010 expect must be present (found it missing)",
        "hw3.yaml:4:1: MC011 expected must not be there: not a field of a claim (symbols, functions, assume, where, of, wrt, expect, "
        "layout, order) (found unknown field expected; did you mean expect?)",
        "hw4.yaml:4:14: MC021 expect expression must write a transpose as x.T (found x^T; ^ is not a power in Python)",
    ]
    assert run.lines[-2:] == ["1 verified, 1 refuted, 0 undecided, 2 invalid", "1 of 1 verified rules proved for all sizes"]


def test_a_file_in_a_corpus_folder_is_a_rule_even_without_an_id(tmp_path: Path, monkeypatch, capsys) -> None:
    """Beside _sections.yaml, a file without id/title/section is a rule with missing fields, never a claim."""
    (tmp_path / "_sections.yaml").write_text("- {slug: traces, title: Traces, summary: x, rules: []}\n", encoding="utf-8")
    (tmp_path / "quad.yaml").write_text("symbols: {x: [n]}\nof: x.T @ x\nwrt: x\nexpect: 2 * x\nlayout: denominator\n", encoding="utf-8")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert any("MC010 id must be present" in line for line in run.lines)


def test_a_checker_failure_is_an_undecided_verdict_not_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    """A bug in the checker prints one undecided verdict with the error in a sentence, exit 1, no traceback."""
    import generator.student.claim_check as cc

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cc, "judge", broken)
    run = run_inprocess(["check", *QUADRATIC, "--expect", "2 * A @ x"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    assert run.lines[0].startswith("undecided  claim  (")
    assert "undecided: the checker failed on this claim (KeyError: 'boom'); please report it" in run.out
    assert "Traceback" not in run.out + run.err


def test_a_one_line_claim_with_two_slips_counts_as_one_invalid_input(tmp_path: Path, monkeypatch, capsys) -> None:
    """Problems in --of and --expect are two lines but one claim: the summary says 1 invalid."""
    run = run_inprocess(["check", "--of", "x^T A x", "--wrt", "x", "--expect", "A x", "--symbols", "x: [n]; A: [n, n]"],
                        tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert [line.split(":")[0] for line in run.lines if " MC0" in line] == ["--of", "--expect"]
    assert run.lines[-2] == "0 verified, 0 refuted, 0 undecided, 1 invalid"
