"""The holes of issue 9 in the SymPy and numeric witnesses, each closed by construction; each test can fail.

Names that clash with internal names, function values that keep their shapes, assumptions sampled
jointly, kinks sampled on both sides, round-off of large function values, exact zero denominators,
nonzero rational differences refuted even when small, scalar + vector in either order, and the true
claims the issue lists.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import generator.engine.verify as verify
from generator.engine.parse import parse_expression
from generator.pipeline import check
from generator.engine.verify import check_claim, numeric_check, sample_values, symbolic_check

from engine_support import claim_from, write_rule


def witnesses_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the all-sizes check step aside, so that the SymPy and numeric witnesses decide alone."""
    import generator.engine.allsizes as allsizes

    monkeypatch.setattr(allsizes, "decide", lambda claim, **kw: allsizes.Decision("outside", "switched off for this test"))


# ---------------------------------------------------------------- internal names

@pytest.mark.parametrize("name", ["A_0_1", "A_1_0", "t_", "dX_0_0", "dA_0_0", "f0", "f1", "f_u0_0", "f_d1", "f_u1_0"])
def test_names_like_internal_names_do_not_clash_in_the_witnesses(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scalar named like an entry, a component or a direction of the engine stays its own symbol."""
    witnesses_only(monkeypatch)
    symbols = {"A": ["n", "n"], name: []}
    functions = {"f": {"args": [["n"]], "to": ["n"]}} if name.startswith("f") else {}
    right = claim_from(symbols, f"{name} * trace(A)", "A", f"{name} * eye(n)", functions=functions)
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = claim_from(symbols, f"{name} * trace(A)", "A", f"{name} * eye(n) + trace(A) * ones(n, n)", functions=functions)
    assert check_claim(wrong).status == "refuted"
    differential = claim_from(symbols, f"{name} * A @ A", "A", f"{name} * (d(A) @ A + A @ d(A))", kind="differential",
                              functions=functions)
    assert check_claim(differential).status == "verified", check_claim(differential).detail


# ---------------------------------------------------------------- generic functions keep their shapes

def test_a_matrix_valued_function_keeps_its_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """F: R^n -> R^(n x n) used as a matrix: tr(A F(x)) by A is F(x)^T; claiming F(x) (a wrong transpose) is refuted."""
    witnesses_only(monkeypatch)
    functions = {"F": {"args": [["n"]], "to": ["n", "n"]}}
    right = claim_from({"A": ["n", "n"], "x": ["n"]}, "trace(A @ F(x))", "A", "F(x).T", functions=functions)
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = claim_from({"A": ["n", "n"], "x": ["n"]}, "trace(A @ F(x))", "A", "F(x)", functions=functions)
    assert check_claim(wrong).status == "refuted"


def test_a_row_valued_function_keeps_its_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """r: R^n -> R^(1 x n), a row: r(x) @ y is a scalar; its derivative by y is r(x)^T."""
    witnesses_only(monkeypatch)
    functions = {"r": {"args": [["n"]], "to": [1, "n"]}}
    right = claim_from({"x": ["n"], "y": ["n"]}, "r(x) @ y", "y", "r(x).T", functions=functions)
    assert check_claim(right).status == "verified", check_claim(right).detail


# ---------------------------------------------------------------- assumptions sampled jointly

@pytest.mark.parametrize(("props", "check"), [
    (("positive", "symmetric"), lambda v: np.all(v > 0) and np.allclose(v, v.T)),
    (("diagonal", "positive"), lambda v: np.all(np.diag(v) > 0) and np.count_nonzero(v - np.diag(np.diag(v))) == 0),
    (("nonzero", "spd"), lambda v: np.all(v != 0) and np.all(np.linalg.eigvalsh(v) > 0) and np.allclose(v, v.T)),
    (("positive", "spd"), lambda v: np.all(v > 0) and np.all(np.linalg.eigvalsh(v) > 0) and np.allclose(v, v.T)),
    (("symmetric", "invertible"), lambda v: np.allclose(v, v.T) and np.linalg.cond(v) < 1e3),
])
def test_two_assumptions_on_one_symbol_are_sampled_jointly(props, check) -> None:
    """Every assumption of a symbol holds at every numeric point, not only the first one listed."""
    claim = claim_from({"S": ["n", "n"]}, "trace(S)", "S", "eye(n)", assume={"S": props})
    rng = np.random.default_rng(5)
    for _ in range(20):
        assert check(sample_values(claim, {"n": 3}, rng)["S"]), props


@pytest.mark.parametrize(("props", "of", "expect"), [
    (("positive", "symmetric"), "sum(log(S))", "1 / S"),
    (("diagonal", "positive"), "sum(log(S @ ones(n)))", "(1 / (S @ ones(n))) @ ones(n).T"),
    (("nonzero", "spd"), "log(det(S))", "inv(S)"),
    (("positive", "spd"), "sum(sqrt(S))", "1 / (2 * sqrt(S))"),
])
def test_true_rules_with_two_assumptions_are_verified(props, of, expect) -> None:
    """Rules whose truth needs both assumptions are verified (the numeric points honour both)."""
    verdict = check_claim(claim_from({"S": ["n", "n"]}, of, "S", expect, assume={"S": props}))
    assert verdict.status == "verified", verdict.detail


# ---------------------------------------------------------------- kinks

def test_a_dropped_relu_step_is_refuted_by_the_witnesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """d sum(relu(x))/dx claimed ones(n): the counterexample search tries negative entries too."""
    witnesses_only(monkeypatch)
    verdict = check_claim(claim_from({"x": ["n"]}, "sum(relu(x))", "x", "ones(n)"))
    assert verdict.status == "refuted", verdict.detail


def test_symbolic_check_alone_refutes_a_dropped_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the numeric check switched off, the SymPy check finds the inactive branch of relu(x) * w."""
    witnesses_only(monkeypatch)
    monkeypatch.setattr(verify, "numeric_check", lambda claim, sizes: 0.0)
    verdict = check_claim(claim_from({"x": ["n"], "w": ["n"]}, "sum(relu(x) * w)", "x", "w"))
    assert verdict.status == "refuted", verdict.detail


@pytest.mark.parametrize("seed_offset", range(8))
def test_a_sign_flipped_relu_derivative_is_refuted_numerically(seed_offset: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """max(0, z) claimed -step(z) is refuted by finite differences alone: points fall on both sides of the kink."""
    monkeypatch.setattr(verify, "symbolic_check", lambda claim, sizes: None)
    claim = claim_from({"z": [], "c": []}, f"max(0, z) + {seed_offset} * c", "z", "-step(z)", layout="numerator")
    with pytest.raises(verify.Refuted):
        numeric_check(claim, {})


def test_a_gradient_where_every_point_is_a_kink_is_not_verified() -> None:
    """The entrywise absolute value at a diagonal X has kinks at every off-diagonal entry: no derivative exists."""
    verdict = check_claim(claim_from({"X": ["n", "n"]}, "sum(sqrt(X**2))", "X", "X / sqrt(X**2)", assume={"X": ("diagonal",)}))
    assert verdict.status == "undecided"
    assert "no derivative at any point the assumptions allow" in verdict.detail


# ---------------------------------------------------------------- round-off and small differences

def test_a_large_offset_is_not_refuted_by_round_off() -> None:
    """A constant offset of 10^6 in the value does not make finite differences refute a true gradient."""
    verdict = check_claim(claim_from({"x": ["n"]}, "1000000 + sum(x * x) / 2", "x", "x"))
    assert verdict.status == "verified", verdict.detail


def test_a_small_nonzero_rational_difference_is_refuted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A difference of 10^-12 times a polynomial is not zero: the symbolic check refutes it without a tolerance."""
    witnesses_only(monkeypatch)
    monkeypatch.setattr(verify, "numeric_check", lambda claim, sizes: 0.0)
    verdict = check_claim(claim_from({"x": []}, "x**2 / 2 + x**3 / (1000000 * 1000000)", "x", "x", layout="numerator"))
    assert verdict.status == "refuted", verdict.detail


# ---------------------------------------------------------------- exact zero denominators

@pytest.mark.parametrize(("of", "expect"), [
    ("sum(x) / (sum(x) - sum(x))", "zeros(n)"),
    ("sum(x) * (sum(x) - sum(x))**-1", "zeros(n)"),
    ("sum(x)", "ones(n) + 0 * x / (x - x)"),
])
def test_an_exact_zero_denominator_is_never_verified(of: str, expect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The witnesses alone do not verify a claim that divides by an expression that is exactly 0."""
    witnesses_only(monkeypatch)
    verdict = check_claim(claim_from({"x": ["n"]}, of, "x", expect))
    assert verdict.status != "verified", verdict.detail
    assert check_claim.__module__  # the full check too:
    monkeypatch.undo()
    assert check_claim(claim_from({"x": ["n"]}, of, "x", expect)).status != "verified"


# ---------------------------------------------------------------- true claims the issue lists

@pytest.mark.parametrize(("symbols", "of", "wrt", "expect", "kw"), [
    ({"x": ["n"], "s": []}, "log(s) + x", "x", "eye(n)", {"assume": {"s": ("positive",)}}),
    ({"x": ["n"], "s": []}, "x + log(s)", "x", "eye(n)", {"assume": {"s": ("positive",)}}),
    ({"x": ["n"], "s": []}, "log(s) + x", "s", "ones(n) / s", {"assume": {"s": ("positive",)}, "layout": "numerator"}),
    ({"x": ["n"], "s": []}, "exp(s) - x", "s", "exp(s) * ones(n)", {"layout": "numerator"}),
], ids=["log-s-plus-x-by-x", "x-plus-log-s-by-x", "log-s-plus-x-by-s", "exp-s-minus-x-by-s"])
def test_scalar_plus_vector_in_either_order(symbols, of, wrt, expect, kw) -> None:
    """A scalar plus a vector is verified whichever operand comes first."""
    verdict = check_claim(claim_from(symbols, of, wrt, expect, **kw))
    assert verdict.status == "verified", verdict.detail


def test_d_and_sigma_name_symbols(tmp_path) -> None:
    """D (a diagonal matrix) and sigma (a standard deviation) are accepted as symbol names when unambiguous."""
    path = write_rule(tmp_path, "d-sigma", """
title: Scaled quadratic form
section: vector-forms
layout: denominator
symbols: {x: [n], D: [n, n], sigma: []}
assume: {D: [diagonal], sigma: [positive]}
of: x.T @ D @ x / sigma**2
wrt: x
expect: 2 * D @ x / sigma**2
""")
    report = check([path], jobs=1, use_cache=False)
    assert report.problems == [], [p.format() for p in report.problems]
    assert report.verdicts["d-sigma"].status == "verified"


def test_sigma_is_refused_beside_the_sigmoid(tmp_path) -> None:
    """sigma as a symbol next to sigmoid would print the same letter twice: refused with the fix."""
    path = write_rule(tmp_path, "sigma-sigmoid", """
title: Scaled sigmoid
section: activations
layout: numerator
symbols: {z: [], sigma: []}
of: sigmoid(z / sigma)
wrt: z
expect: sigmoid(z / sigma) * (1 - sigmoid(z / sigma)) / sigma
""")
    report = check([path], jobs=1, use_cache=False)
    assert [p.code for p in report.problems] == ["MC012"]
    assert "sigma" in report.problems[0].message and "sigmoid" in report.problems[0].message


def test_a_dimension_of_a_function_may_be_sized(tmp_path) -> None:
    """A letter used only in a function's shape can be given sizes (no internal KeyError)."""
    path = write_rule(tmp_path, "fn-dim", """
title: Chain rule through a vector function
section: chain-rules
layout: numerator
symbols: {x: [n]}
functions: {f: {args: [[k]], to: []}, g: {args: [[n]], to: [k]}}
of: f(g(x))
wrt: x
expect: D(f, g(x)) @ D(g, x)
sizes: [{n: 2, k: 3}, {n: 3, k: 2}]
""")
    report = check([path], jobs=1, use_cache=False)
    assert report.problems == [], [p.format() for p in report.problems]
    assert report.verdicts["fn-dim"].status == "verified", report.verdicts["fn-dim"].detail


def test_the_derivative_of_a_row_by_a_vector_suggests_the_column(tmp_path) -> None:
    """d(x^T A)/dx is refused with a message that suggests the transposed form A^T x, not 'a tensor'."""
    path = write_rule(tmp_path, "xta", """
title: Row times matrix
section: vector-forms
layout: numerator
symbols: {x: [n], A: [n, m]}
of: x.T @ A
wrt: x
expect: A.T
""")
    report = check([path], jobs=1, use_cache=False)
    assert [p.code for p in report.problems] == ["MC025"]
    message = report.problems[0].message
    assert "tensor" not in message
    assert "A.T @ x" in message and "row" in message


def test_diagonal_and_nonzero_together_are_refused(tmp_path) -> None:
    """A combination the sampler cannot honour is refused with a clear message (MC026), not sampled halfway."""
    path = write_rule(tmp_path, "diag-nonzero", """
title: Trace of a diagonal matrix
section: traces
layout: denominator
symbols: {X: [n, n]}
assume: {X: [diagonal, nonzero]}
of: trace(X)
wrt: X
expect: eye(n)
""")
    report = check([path], jobs=1, use_cache=False)
    assert [p.code for p in report.problems] == ["MC026"]
    assert "diagonal and nonzero" in report.problems[0].message


# ---------------------------------------------------------------- redteam's traps, through the whole check

def test_redteam_traps_are_refuted_by_the_whole_check() -> None:
    """H2 (too many relu steps), H3 (a grid too large), H4 (outside the theory), H6 (an author's sizes that tie m = n):
    each was "verified at listed sizes"; each is refuted, at a size where it fails."""
    from test_allsizes_holes import FAILS_FROM, trap_claims

    for hole, claim in trap_claims().items():
        verdict = check_claim(claim)
        assert verdict.status == "refuted", (hole, verdict.detail)
        for letter, least in FAILS_FROM[hole].items():
            assert f"{letter}={least}" in verdict.detail.replace(" ", "") or f"{letter}={least + 1}" in verdict.detail.replace(" ", ""), \
                (hole, verdict.detail)


def test_h6_an_authors_sizes_add_to_the_default_sizes_of_the_witnesses(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the all-sizes check out of the way, sizes: [{m: 2, n: 2}, {m: 3, n: 3}] no longer hides a claim true only
    when m = n: the numeric witness also runs at the default (untied) sizes."""
    witnesses_only(monkeypatch)
    claim = claim_from({"A": ["m", "n"]}, "m * sum(A)", "A", "n * ones(m, n)", sizes=({"m": 2, "n": 2}, {"m": 3, "n": 3}))
    verdict = check_claim(claim)
    assert verdict.status == "refuted", verdict.detail


def test_h6_a_point_outside_the_domain_at_an_added_size_is_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default sizes are added to look, not to judge the domain: X^T X singular when X is wide there is no verdict."""
    witnesses_only(monkeypatch)
    claim = claim_from({"X": ["m", "n"]}, "log(det(X.T @ X))", "X", "2 * X @ inv(X.T @ X)", sizes=({"m": 4, "n": 2}, {"m": 5, "n": 3}))
    verdict = check_claim(claim)
    assert verdict.status == "verified", verdict.detail


@pytest.mark.parametrize("which", ["symmetric", "function-name"])
def test_h7_an_engine_error_under_a_trap_is_never_proved(which: str) -> None:
    """H7: an error of the engine (H5, H1) multiplied by e4(B), zero for n <= 3, passed witnesses that ran at n = 2, 3
    only. The engine is fixed, and a proved claim's numeric witness also runs at the smallest grid tuple."""
    from test_allsizes_holes import e4

    if which == "symmetric":
        claim = claim_from({"X": ["n", "n"], "A": ["n", "n"], "B": ["n", "n"]}, f"({e4('B')}) * trace(A @ X.T) + trace(A @ X)",
                           "X", f"({e4('B')}) * A.T + A.T", assume={"X": ("symmetric",)})
    else:
        claim = claim_from({"x": ["n"], "B": ["n", "n"]}, "sum(f(x))", "x", f"D(f, x) + ({e4('B')}) * (D1f(x) - D(f, x))",
                           functions={"f": {"args": [[]], "to": []}, "D1f": {"args": [[]], "to": []}})
    verdict = check_claim(claim)
    assert verdict.status == "refuted", verdict.detail
    assert "n=4" in verdict.detail.replace(" ", ""), verdict.detail


def test_h7_a_witness_runs_at_the_smallest_grid_tuple_of_a_proved_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were the engine wrong under a trap that vanishes below the grid, the numeric witness there would say so."""
    import generator.engine.allsizes as allsizes

    from test_allsizes_holes import e4

    real = allsizes.decide

    def wrongly_proved(claim, **kw):
        d = real(claim, **kw)
        return allsizes.Decision("proved", grid=[{"n": 4}], bounds={}, primes=[allsizes.P61], seeds=2, error_bound=1e-30,
                                 probe_sizes=[{"n": 4}], checked_sizes=[{"n": 4}]) if d.status == "refuted" else d

    monkeypatch.setattr(allsizes, "decide", wrongly_proved)
    claim = claim_from({"X": ["n", "n"]}, e4("X"), "X", "zeros(n, n)")
    verdict = check_claim(claim)
    assert verdict.status == "undecided" and "engine is wrong" in verdict.detail, verdict.detail


@pytest.mark.parametrize("factor", ["log(x)", "sqrt(x)", "relu(x)", "ones(n)"])
def test_a_small_trap_beside_a_generic_function_is_refuted_by_the_precise_point_witness(factor: str) -> None:
    """exp(x) + 10^-12 e4(B) f(x): the model differs at n >= 4 but keeps exp, log, sqrt, relu generic ("nonzero" when
    the difference depends on them); finite differences cannot see 10^-12 and SymPy ran at n = 2, 3 only: "verified".
    The witness at the engine's size evaluates the claim along random directions at random points in 200-digit arithmetic."""
    from test_allsizes_holes import e4

    claim = claim_from({"x": ["n"], "B": ["n", "n"]}, "sum(exp(x))", "x", f"exp(x) + (1 / 10**12) * ({e4('B')}) * {factor}",
                       assume={"x": ("positive",)})
    verdict = check_claim(claim)
    assert verdict.status == "refuted", verdict.detail


@pytest.mark.parametrize(("of", "expect"), [
    ("sum(exp(2 * x))", "2 * exp(x) * exp(x)"),
    ("logsumexp(x)", "exp(x - logsumexp(x))"),
    ("sum(sqrt(exp(x)))", "exp(x / 2) / 2"),
    ("sum(exp(x) * exp(1))", "exp(x + 1)"),
    ("sum(sqrt(x**2))", "sign(x)"),
])
def test_true_claims_beyond_the_model_stay_verified_with_the_precise_point_witness(of: str, expect: str) -> None:
    verdict = check_claim(claim_from({"x": ["n"]}, of, "x", expect))
    assert verdict.status == "verified", verdict.detail


# ---------------------------------------------------------------- the precise point witness along random directions

def test_a_tiny_trap_beside_exp_with_hundreds_of_unknowns_is_refuted() -> None:
    """exp(X) + 10^-30 e6(B) tr(C) log(X), with X, B, C square: zero for n < 6, and the engine's model (exp, log kept
    generic) names n = 9 as the size where it differs: 3 * 81 = 243 unknowns. The precise witness used to stop at 100 unknowns
    (a whole symbolic Jacobian), so the claim was "verified at n = 2 and 3"; along a random direction (one symbol t
    left for SymPy) it reaches 300 unknowns and refutes it there."""
    from test_redteam import ek

    claim = claim_from({"X": ["n", "n"], "B": ["n", "n"], "C": ["n", "n"]}, "sum(exp(X))", "X",
                       f"exp(X) + (1 / 10**30) * {ek(6, 'B')} * trace(C) * log(X)", assume={"X": ("positive",)})
    verdict = check_claim(claim)
    assert verdict.status == "refuted", verdict.detail
    sizes = [int(word.split("=")[1].rstrip(",")) for word in verdict.detail.split() if word.startswith("n=")]
    assert sizes and sizes[0] >= 6, verdict.detail


TINY = "(1 / 10**30)"

# (symbols, of, wrt, true claim, a tiny wrong one, options): every shape of claim the precise witness assembles
PRECISE_CASES = {
    "scalar-by-vector": ({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A + A.T) @ x", f"(A + A.T) @ x + {TINY} * x", {}),
    "scalar-by-vector-numerator": ({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "x.T @ (A + A.T)",
                                   f"x.T @ (A + A.T) + {TINY} * x.T", {"layout": "numerator"}),
    "scalar-by-matrix": ({"X": ["m", "n"], "A": ["n", "m"]}, "trace(A @ exp(X))", "X", "A.T * exp(X)",
                         f"A.T * exp(X) + {TINY} * X", {}),
    "vector-by-vector": ({"x": ["n"], "A": ["m", "n"]}, "exp(A @ x)", "x", "A.T @ diag(exp(A @ x))",
                         f"A.T @ diag(exp(A @ x)) + {TINY} * ones(n, m)", {}),
    "vector-by-vector-numerator": ({"x": ["n"], "A": ["m", "n"]}, "exp(A @ x)", "x", "diag(exp(A @ x)) @ A",
                                   f"diag(exp(A @ x)) @ A + {TINY} * ones(m, n)", {"layout": "numerator"}),
    "matrix-by-scalar": ({"s": [], "A": ["m", "n"]}, "exp(s * A)", "s", "A * exp(s * A)", f"A * exp(s * A) + {TINY} * A",
                         {"layout": "numerator"}),
    "matrix-by-scalar-denominator": ({"s": [], "A": ["m", "n"]}, "exp(s * A)", "s", "A.T * exp(s * A.T)",
                                     f"A.T * exp(s * A.T) + {TINY} * A.T", {}),
    "differential": ({"X": ["n", "n"], "A": ["n", "n"]}, "log(det(X)) + trace(A @ X)", "X", "trace((inv(X) + A) @ d(X))",
                     f"trace((inv(X) + A) @ d(X)) + {TINY} * trace(d(X))", {"kind": "differential"}),
    "symmetric-wrt": ({"X": ["n", "n"], "A": ["n", "n"]}, "trace(A @ X.T)", "X", "A", f"A + {TINY} * A.T",
                      {"assume": {"X": ("symmetric",)}}),
    "probability": ({"z": ["n"], "y": ["n"]}, "-(y.T @ log(softmax(z)))", "z", "softmax(z) - y",
                    f"softmax(z) - y + {TINY} * z", {"assume": {"y": ("probability",)}}),
    "relu": ({"x": ["n"], "w": ["n"]}, "sum(relu(x) * w)", "x", "step(x) * w", f"step(x) * w + {TINY} * relu(x)", {}),
}


@pytest.mark.parametrize("case", PRECISE_CASES, ids=list(PRECISE_CASES))
def test_the_precise_point_witness_accepts_the_truth_and_refutes_a_tiny_error(case: str) -> None:
    """Both layouts, a differential, a symmetric wrt (entries independent), a probability vector (its entries sum to 1
    exactly, not to 16 digits: the softmax gradient depends on it), relu (points on both sides of every kink)."""
    symbols, of, wrt, right, wrong, options = PRECISE_CASES[case]
    sizes = {d: 3 + k for k, d in enumerate(sorted({d for shape in symbols.values() for d in shape}))}
    verify.precise_point_check(claim_from(symbols, of, wrt, right, **options), sizes)
    with pytest.raises(verify.Refuted):
        verify.precise_point_check(claim_from(symbols, of, wrt, wrong, **options), sizes)


@pytest.mark.parametrize(("of", "right", "wrong"), [
    ("x.T @ A @ x + sum(exp(x))", "A + A.T + diag(exp(x))", "2 * A + diag(exp(x))"),
    ("x.T @ A @ x + sum(exp(x))", "A + A.T + diag(exp(x))", f"A + A.T + diag(exp(x)) + {TINY} * (A - A.T)"),
])
def test_the_precise_point_witness_sees_an_antisymmetric_error_in_a_hessian(of: str, right: str, wrong: str) -> None:
    """One direction alone (V^T H V) is blind to an antisymmetric error: 2A and A + A^T agree on every V. The witness
    applies the claimed Hessian to two independent directions, U^T H V = d2/ds dt of(x + s U + t V)."""
    symbols = {"x": ["n"], "A": ["n", "n"]}
    verify.precise_point_check(dataclasses.replace(claim_from(symbols, of, "x", right), order=2), {"n": 4})
    with pytest.raises(verify.Refuted):
        verify.precise_point_check(dataclasses.replace(claim_from(symbols, of, "x", wrong), order=2), {"n": 4})


@pytest.mark.parametrize(("of", "right", "wrong"), [
    ("exp(s) * A", "exp(s) * A", f"exp(s) * A + {TINY} * A"),
])
def test_the_precise_point_witness_checks_second_derivatives_by_a_scalar_and_second_differentials(of, right, wrong) -> None:
    symbols = {"s": [], "A": ["m", "n"]}
    sizes = {"m": 2, "n": 3}
    verify.precise_point_check(dataclasses.replace(claim_from(symbols, of, "s", right, layout="numerator"), order=2), sizes)
    with pytest.raises(verify.Refuted):
        verify.precise_point_check(dataclasses.replace(claim_from(symbols, of, "s", wrong, layout="numerator"), order=2), sizes)
    dsym = {"X": ["n", "n"]}
    second = dataclasses.replace(claim_from(dsym, "trace(X @ X @ X)", "X", "6 * trace(X @ d(X) @ d(X))", kind="differential"), order=2)
    verify.precise_point_check(second, {"n": 3})
    with pytest.raises(verify.Refuted):
        verify.precise_point_check(dataclasses.replace(second, expect=claim_from(
            dsym, "trace(X @ X @ X)", "X", f"6 * trace(X @ d(X) @ d(X)) + {TINY} * trace(d(X))**2", kind="differential").expect), {"n": 3})


def test_the_precise_point_witness_refutes_a_claim_of_the_wrong_shape() -> None:
    claim = claim_from({"x": ["n"], "A": ["m", "n"]}, "A @ x", "x", "A")  # denominator layout wants A^T (n x m)
    with pytest.raises(verify.Refuted, match="3x2"):
        verify.precise_point_check(claim, {"m": 2, "n": 3})


@pytest.mark.parametrize("beside", ["exp(x)", "log(x)"])
def test_a_tiny_trap_beside_a_generic_function_is_refuted(beside: str) -> None:
    """D(f, x) + 10^-30 e4(B) exp(x): the model keeps f and exp generic and differs from n = 4 on ("nonzero"); the
    precise witness used to give up on generic functions ("no value at a point"), so the claim was "verified at n = 2
    and 3". It now takes f as one fixed smooth function with seeded coefficients: a claim about every f must hold for it."""
    from test_allsizes_holes import e4

    claim = claim_from({"x": ["n"], "B": ["n", "n"]}, "sum(f(x))", "x", f"D(f, x) + (1 / 10**30) * ({e4('B')}) * {beside}",
                       functions={"f": {"args": [[]], "to": []}}, assume={"x": ("positive",)})
    verdict = check_claim(claim)
    assert verdict.status == "refuted" and "n=5" in verdict.detail, verdict.detail


def test_true_claims_with_generic_functions_agree_with_the_precise_witness() -> None:
    functions = {"f": {"args": [[]], "to": []}, "g": {"args": [[]], "to": []}, "F": {"args": [["n"]], "to": ["m"]}}
    symbols = {"x": ["n"], "A": ["n", "n"]}
    for of, expect, layout in [("f(g(x))", "diag(D(f, g(x)) * D(g, x))", "numerator"),
                               ("F(A @ x)", "D(F, A @ x) @ A", "numerator"),
                               ("F(A @ x)", "A.T @ D(F, A @ x).T", "denominator")]:
        verify.precise_point_check(claim_from(symbols, of, "x", expect, layout=layout, functions=functions), {"n": 3, "m": 4})


def test_a_trap_beyond_three_hundred_unknowns_is_refuted() -> None:
    """exp(X) + 10^-30 (n - 2)(n - 3)...(n - 12) log(X), X and Y square: zero for n <= 12; the engine names n = 15
    (450 unknowns), beyond the 300 the witness took; it now takes up to 1000 (a few seconds)."""
    trap = " * ".join(f"(n - {k})" for k in range(2, 13))
    claim = claim_from({"X": ["n", "n"], "Y": ["n", "n"]}, "sum(exp(X)) + trace(Y)", "X", f"exp(X) + (1 / 10**30) * {trap} * log(X)",
                       assume={"X": ("positive",)})
    verdict = check_claim(claim)
    assert verdict.status == "refuted" and "n=15" in verdict.detail, verdict.detail


def test_seeded_functions_depend_on_every_input() -> None:
    """A seeded function with a coefficient 0 on an input is constant in it: D(f) = 0 and every claim about D(f) agrees
    (one seed in 361 for a scalar function; it hid a wrong chain rule from both the numeric and the precise witness)."""
    from generator.engine.rule import build_scope

    scope = build_scope({"x": []}, {"f": {"args": [[]], "to": []}}, "derivative", "x")
    for seed in range(1500):
        us, (comp,) = verify.Evaluator(scope, {}, {}, concrete_functions=True, seed=seed).components("f")
        assert verify.sp.diff(comp, us[0]).subs(us[0], 0) != 0 or verify.sp.diff(comp, us[0], 2) != 0, seed
        a, c = verify.NumericEvaluator(scope, {}, {}, seed).coeffs("f")
        assert np.all(a != 0) and np.all(c != 0), seed
