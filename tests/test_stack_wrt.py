"""Derivatives by several variables at once (`wrt: [x, y]`) and block vectors (vstack, hstack)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.engine import verify
from generator.catalogue import rule_entry
from generator.engine.parse import Scope, dim_sum, dim_value, parse_expression, transposed, walk
from generator.engine.rational import Unsupported
from generator.engine.verify import check_claim

from engine_support import GOOD, parse_file, write_rule

GRADIENT = """
title: Gradient of 3x^2 y by x and y
section: partials
layout: numerator
symbols: {x: [], y: []}
of: 3 * x**2 * y
wrt: [x, y]
expect: EXPECT
"""
BIAS_TRICK = """
title: Affine function by its weights and bias stacked
section: neuron
layout: numerator
symbols: {w: [n], x: [n], b: []}
where:
  x_hat: vstack(x, 1)
of: w.T @ x + b
wrt: [w, b]
expect: EXPECT
"""


def claim_of(tmp_path: Path, body: str, expect: str):
    rule, problems = parse_file(write_rule(tmp_path, "r", body.replace("EXPECT", expect)))
    assert problems == [], [p.format() for p in problems]
    return rule


@pytest.mark.parametrize("parts, total", [
    (["n", 1], "n+1"), ([2, 1], 3), (["n", "m", 2], "m+n+2"), (["n", "n"], "2n"), (["n"], "n"), (["n+1", "n"], "2n+1"),
])
def test_stacked_lengths_are_written_one_way(parts, total) -> None:
    """A sum of dimensions has one canonical form, so shapes built two ways compare equal."""
    assert dim_sum(parts) == total


def test_stacked_lengths_evaluate_at_sizes() -> None:
    """n+1, 2n+1 and m+n+2 take their values from a size assignment."""
    sizes = {"n": 3, "m": 5}
    assert [dim_value(d, sizes) for d in ("n+1", "2n+1", "m+n+2", "n", 4)] == [4, 7, 10, 3, 4]


def test_vstack_and_hstack_shapes_and_transposes() -> None:
    """vstack(x, 1) is an (n+1)-column; its transpose is the row hstack(x^T, 1)."""
    scope = Scope({"x": ("n", 1), "X": ("N", "n")}, dims=("n", "N"))
    column = parse_expression("vstack(x, 1)", scope)
    assert column.shape == ("n+1", 1)
    row = transposed(column)
    assert (row.name, row.shape) == ("hstack", (1, "n+1"))
    assert parse_expression("hstack(X, ones(N))", scope).shape == ("N", "n+1")


def test_a_wrt_list_is_checked_as_one_stacked_vector(tmp_path: Path) -> None:
    """The checked trees hold parts of the stacked vector "(x, y)", never x or y themselves."""
    rule = claim_of(tmp_path, GRADIENT, "hstack(6 * y * x, 3 * x**2)")
    claim = rule.claim
    assert claim.wrt == "(x, y)" and claim.scope.symbols["(x, y)"] == (2, 1)
    for tree in (claim.of, claim.expect, claim.other()):
        names = {e.name for e in walk(tree) if e.op == "sym"}
        assert names == {"(x, y)"}
    assert [e.name for e in walk(claim.of) if e.op == "part"] == ["0", "1"]


def test_a_wrt_list_prints_with_its_names(tmp_path: Path) -> None:
    """Readers see d/d(x, y) and the gradient as a row; the other layout is the column."""
    rule = claim_of(tmp_path, GRADIENT, "hstack(6 * y * x, 3 * x**2)")
    assert rule.latex["wrt"] == r"\left(x, y\right)"
    assert rule.latex["derivative"] == r"\frac{\partial}{\partial \left(x, y\right)}\left(3 x^{2} y\right)"
    assert rule.latex["numerator"] == r"\begin{bmatrix} 6 y x & 3 x^{2} \end{bmatrix}"
    assert rule.latex["denominator"] == r"\begin{bmatrix} 6 y x \\ 3 x^{2} \end{bmatrix}"


def test_a_two_by_two_jacobian_prints_as_one_matrix() -> None:
    """A vstack of hstacks is one matrix in print, and so is its transpose."""
    rule, _ = parse_file(GOOD / "wrt-list-jacobian.yaml")
    assert rule.latex["denominator"] == r"\begin{bmatrix} 6 y x & 2 \\ 3 x^{2} & 8 y^{7} \end{bmatrix}"
    assert rule.latex["numerator"] == r"\begin{bmatrix} 6 y x & 3 x^{2} \\ 2 & 8 y^{7} \end{bmatrix}"
    assert rule.latex["derivative"] == r"\frac{\partial}{\partial \left(x, y\right)} \begin{bmatrix} 3 x^{2} y \\ 2 x + y^{8} \end{bmatrix}"


@pytest.mark.parametrize("body, expect, status", [
    (GRADIENT, "hstack(6 * y * x, 3 * x**2)", "verified"),
    (GRADIENT, "hstack(3 * x**2, 6 * y * x)", "refuted"),      # the partials swapped
    (GRADIENT, "vstack(6 * y * x, 3 * x**2)", None),           # a column where a row is due: invalid shape
    (BIAS_TRICK, "x_hat.T", "verified"),
    (BIAS_TRICK, "(x_hat * 2).T", "refuted"),                  # twice the gradient
    (BIAS_TRICK, "x_hat.T + hstack(zeros(n).T, 1)", "refuted"),  # the bias enters with slope 1, not 2
    (BIAS_TRICK, "vstack(1 + 0 * sum(x_hat), x).T", "refuted"),  # the stacked order matters
])
def test_stacked_derivatives_are_verified_or_refuted(tmp_path: Path, body: str, expect: str, status: str | None) -> None:
    """True stacked gradients are verified; a swapped, misplaced or wrongly scaled entry is refuted."""
    rule, problems = parse_file(write_rule(tmp_path, "r", body.replace("EXPECT", expect)))
    if status is None:
        assert [p.code for p in problems] == ["MC024"]
        return
    assert problems == []
    assert check_claim(rule.claim).status == status


@pytest.mark.parametrize("name", ["wrt-list-gradient", "wrt-list-jacobian", "stack-bias-trick", "stack-loss-batch"])
def test_the_sympy_path_agrees(name: str) -> None:
    """With the rational path switched off, the SymPy path verifies the stacked fixtures too."""
    rule, _ = parse_file(GOOD / f"{name}.yaml")
    original = verify.rational_check

    def refuse(*_args, **_kwargs):
        raise Unsupported("forced")

    verify.rational_check = refuse
    try:
        for sizes in rule.claim.sizes:
            verify.symbolic_check(rule.claim, dict(sizes))
    finally:
        verify.rational_check = original


def test_export_keeps_wrt_a_string_and_lists_the_parts() -> None:
    """rules.json keeps `wrt` a string ("w, b") and lists the stacked names in `wrt_parts`."""
    rule, _ = parse_file(GOOD / "stack-bias-trick.yaml")
    entry = rule_entry(rule, check_claim(rule.claim))
    assert (entry["wrt"], entry["wrt_parts"]) == ("w, b", ["w", "b"])
    single, _ = parse_file(GOOD / "fn-exp-sin-cos.yaml")
    entry = rule_entry(single, check_claim(single.claim))
    assert (entry["wrt"], entry["wrt_parts"]) == ("x", ["x"])


@pytest.mark.parametrize("name", ["wrt-list-gradient", "wrt-list-jacobian", "stack-bias-trick"])
def test_the_all_sizes_check_proves_stacked_variables_and_blocks(name: str) -> None:
    """wrt lists (slices of one stacked variable) and vstack/hstack blocks are inside the all-sizes theory: proved."""
    from generator.engine.allsizes import decide

    rule, _ = parse_file(GOOD / f"{name}.yaml")
    decision = decide(rule.claim)
    assert decision.status == "proved", decision.reason
    assert decision.grid and decision.error_bound < 1e-15
