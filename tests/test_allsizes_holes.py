"""Holes an adversary found in the all-sizes check (redteam, /work/coord/status/redteam.md), each closed by
construction, each with a test that fails without its fix.

H1  a function named like an internal key (D1f, H11f, ...) was the derivative of another function;
H5  a symmetric, spd or diagonal wrt was a symmetric *function* (X^T = X in the graph), so d(X^T) = V, not V^T;
H2, H3, H4, H6, H7: traps that the check stepped around (too many relu steps, a grid too large, a division outside the
    theory, an author's sizes, an engine error under a trap), now looked for at the sizes the bound asks for.
"""

from __future__ import annotations

import pytest

from generator.allsizes import decide
from generator.allsizes.model import canon
from generator.parse import parse_expression

from engine_support import claim_from, run_inprocess

E4 = ("trace(X)**4 - 6 * trace(X)**2 * trace(X @ X) + 3 * trace(X @ X)**2 + 8 * trace(X) * trace(X @ X @ X)"
      " - 6 * trace(X @ X @ X @ X)")  # 24 e_4 of the eigenvalues: 0 for n <= 3


def e4(name: str) -> str:
    return E4.replace("X", name)


# ---------------------------------------------------------------- H1: internal names

SCALAR_FN = {"args": [[]], "to": []}


@pytest.mark.parametrize("other", ["D1f", "D2f", "H11f", "f_D1", "D1", "fD1"])
def test_h1_a_function_named_like_a_derivative_is_its_own_function(other: str) -> None:
    """sum(f(x)) by x is D(f, x), not another function's value, whatever that function is called."""
    functions = {"f": SCALAR_FN, other: SCALAR_FN}
    wrong = decide(claim_from({"x": ["n"]}, "sum(f(x))", "x", f"{other}(x)", functions=functions))
    assert wrong.status == "refuted", wrong
    right = decide(claim_from({"x": ["n"]}, "sum(f(x))", "x", "D(f, x)", functions=functions))
    assert right.status == "proved", right


def test_h1_a_vector_function_named_like_a_jacobian_is_its_own_function() -> None:
    functions = {"g": {"args": [["n"]], "to": []}, "D1g": {"args": [["n"]], "to": ["n"]}}
    wrong = decide(claim_from({"x": ["n"]}, "g(x)", "x", "D1g(x)", functions=functions))
    assert wrong.status == "refuted", wrong


def test_h1_keys_of_functions_are_injective() -> None:
    """No (name, component) pair spells another's key: the separator is not a character of a name."""
    from generator.allsizes.model import fn_key

    pairs = [("f", "D1"), ("D1f", ""), ("f", "H11"), ("H11f", ""), ("fD", "1"), ("f", "D"), ("D", "1f")]
    keys = [fn_key(name, comp) for name, comp in pairs]
    assert len(set(keys)) == len(keys)


def test_h1_a_function_value_and_a_call_of_the_language_never_share_a_canonical_text() -> None:
    """A rule's own function exp (it shadows the language's) and the language's exp have different texts."""
    from engine_support import claim_from as build

    own = build({"x": ["n"]}, "sum(exp(x))", "x", "x", functions={"exp": SCALAR_FN})
    language = build({"x": ["n"]}, "sum(exp(x))", "x", "x")
    assert own.of.args[0].op == "apply" and language.of.args[0].op == "call"
    assert canon(own.of) != canon(language.of)


def test_h1_the_one_line_claim_is_refuted_not_proved(tmp_path, monkeypatch, capsys) -> None:
    """`mcref check --of` trusts the engine alone: the clash printed "Proved for every size" and exited 0."""
    run = run_inprocess(["check", "--of", "sum(f(x))", "--wrt", "x", "--expect", "D1f(x)", "--symbols", "x: [n]",
                         "--functions", "f: [] -> []; D1f: [] -> []"], tmp_path, monkeypatch, capsys)
    assert "Proved" not in run.out, run.out
    assert run.code == 1, run.out


# ---------------------------------------------------------------- H5: a symmetric wrt

SQUARE = {"X": ["n", "n"], "A": ["n", "n"]}


@pytest.mark.parametrize("props", [("symmetric",), ("spd",), ("diagonal",), ("symmetric", "positive")])
def test_h5_the_entries_of_a_symmetric_wrt_are_independent(props) -> None:
    """d tr(A X^T)/dX = A (entries independent, evaluated at a symmetric point); A^T is wrong."""
    assume = {"X": props}
    right = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "A", assume=assume))
    assert right.status == "proved", right
    wrong = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "A.T", assume=assume))
    assert wrong.status == "refuted", wrong


@pytest.mark.parametrize("props", [("symmetric",), ("diagonal",)])
def test_h5_the_differential_of_a_symmetric_wrt_keeps_its_transpose(props) -> None:
    assume = {"X": props}
    wrong = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "trace(A @ d(X))", assume=assume, kind="differential",
                              layout="numerator"))
    assert wrong.status == "refuted", wrong
    right = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "trace(A @ d(X).T)", assume=assume, kind="differential",
                              layout="numerator"))
    assert right.status == "proved", right


def test_h5_a_trap_times_the_transpose_error_is_refuted_where_the_trap_fails() -> None:
    """H7 (a): e4(B) tr(A X^T) + tr(A X) with X symmetric: the gradient is e4(B) A + A^T, refuted at n = 4."""
    claim = claim_from({"X": ["n", "n"], "A": ["n", "n"], "B": ["n", "n"]}, f"({e4('B')}) * trace(A @ X.T) + trace(A @ X)",
                       "X", f"({e4('B')}) * A.T + A.T", assume={"X": ("symmetric",)})
    decision = decide(claim)
    assert decision.status == "refuted", decision
    assert decision.counterexample["sizes"]["n"] >= 4


def test_h5_functions_of_a_symmetric_wrt_are_symmetric_values_not_symmetric_functions() -> None:
    """inv(X) at a symmetric X is a symmetric value (both forms of the gradient are proved), but inv(X^T) is not the
    same function as inv(X): its derivative moves with V^T."""
    assume = {"X": ("symmetric",)}
    for expect in ("-inv(X) @ A.T @ inv(X)", "-(inv(X) @ A @ inv(X)).T"):
        assert decide(claim_from(SQUARE, "trace(A @ inv(X))", "X", expect, assume=assume)).status == "proved"
    right = decide(claim_from(SQUARE, "trace(A @ inv(X.T))", "X", "-inv(X) @ A @ inv(X)", assume=assume))
    assert right.status == "proved", right
    wrong = decide(claim_from(SQUARE, "trace(A @ inv(X.T))", "X", "-inv(X) @ A.T @ inv(X)", assume=assume))
    assert wrong.status == "refuted", wrong
