"""Stage 4, verify: true claims are verified, false ones refuted with the entry, value and sizes; time-outs are undecided."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import generator.engine.verify as verify
from generator.catalogue import combined
from generator.engine.parse import parse_expression
from generator.pipeline import check
from generator.engine.runner import verify_claims
from generator.engine.verify import Claim, Refuted, Verdict, check_claim, numeric_check, symbolic_check

from engine_support import GOOD, claim_from, write_rule

SQUARE = {"A": ["n", "n"], "X": ["n", "n"], "B": ["n", "n"]}
RECT = {"A": ["m", "n"], "X": ["n", "p"], "B": ["p", "m"]}
ENTRY = re.compile(r"entry \((\d+), (\d+)\)")


def test_trace_axb_is_proved_for_every_size_with_both_witnesses() -> None:
    """The issue's example is proved for every size; SymPy witnesses one assignment in which every dimension differs,
    finite differences two, in both layouts."""
    verdict = check_claim(claim_from(RECT, "trace(A @ X @ B)", "X", "A.T @ B.T"))
    assert verdict.status == "verified", verdict.detail
    assert verdict.scope == "all-sizes" and verdict.all_sizes["grid"] == [{"m": 2, "n": 2, "p": 2}]
    assert len(verdict.sizes) == 1 and len(set(verdict.sizes[0].values())) == 3
    assert "SymPy agrees exactly at m=2, n=3, p=4" in verdict.detail
    assert "finite differences agree at 3 random points per size at m=2, n=3, p=4 and m=3, n=5, p=2" in verdict.detail
    assert set(verdict.layouts) == {"numerator", "denominator"}
    assert 0 < verdict.max_rel_error < 1e-6


def test_swapped_product_on_square_matrices_is_refuted_with_entry_value_and_sizes() -> None:
    """trace(A X B) by X claimed as B^T A^T (well-typed on square matrices, wrong) is refuted, naming entry, value and sizes."""
    claim = claim_from(SQUARE, "trace(A @ X @ B)", "X", "B.T @ A.T")
    verdict = check_claim(claim)
    assert verdict.status == "refuted"
    assert "n=2" in verdict.detail  # the smallest size where it fails
    assert ENTRY.search(verdict.detail)
    assert "denominator layout" in verdict.detail
    # the value: either both numbers of the finite-difference comparison, or the symbolic difference
    assert re.search(r"finite differences give -?\d[\d.e+-]* but the claim gives -?\d[\d.e+-]*|"
                     r"derivative minus claim is .*A\[.*B\[.*, not 0", verdict.detail), verdict.detail


def test_quadratic_form_needs_the_symmetric_assumption() -> None:
    """x^T A x by x claimed as 2 A x is refuted for a general A and verified with A symmetric."""
    symbols = {"x": ["n"], "A": ["n", "n"]}
    general = check_claim(claim_from(symbols, "x.T @ A @ x", "x", "2 * A @ x"))
    assert general.status == "refuted"
    assert ENTRY.search(general.detail) and "n=2" in general.detail
    symmetric = check_claim(claim_from(symbols, "x.T @ A @ x", "x", "2 * A @ x", assume={"A": ("symmetric",)}))
    assert symmetric.status == "verified", symmetric.detail
    exact = check_claim(claim_from(symbols, "x.T @ A @ x", "x", "(A + A.T) @ x"))
    assert exact.status == "verified", exact.detail


def test_assumptions_restrict_the_point_not_the_differentiation() -> None:
    """d(x^T S x)/dS with S symmetric is x x^T (entries independent), not the 'symmetric derivative' 2 x x^T - diag."""
    symbols = {"x": ["n"], "S": ["n", "n"]}
    assume = {"S": ("symmetric",)}
    assert check_claim(claim_from(symbols, "x.T @ S @ x", "S", "x @ x.T", assume=assume)).status == "verified"
    wrong = claim_from(symbols, "x.T @ S @ x", "S", "2 * x @ x.T - diag(x * x)", assume=assume)
    assert check_claim(wrong).status == "refuted"


def test_symbolic_check_alone_refutes_a_wrong_claim() -> None:
    """symbolic_check raises Refuted for a wrong claim without help from the numeric check."""
    claim = claim_from({"x": []}, "sin(x)", "x", "-cos(x)", layout="numerator")
    with pytest.raises(Refuted, match=r"at scalars, entry \(1, 1\)"):
        symbolic_check(claim, {})
    symbolic_check(dataclasses.replace(claim, expect=parse_expression("cos(x)", claim.scope)), {})


def test_numeric_check_alone_refutes_a_wrong_claim() -> None:
    """numeric_check compares with central differences and names the finite-difference value and the claimed one."""
    claim = claim_from({"x": ["n"], "a": ["n"]}, "a.T @ x", "x", "2 * a")
    with pytest.raises(Refuted, match=r"n=3, entry \(\d+, 1\): finite differences give -?[0-9.e-]+ but the claim gives"):
        numeric_check(claim, {"n": 3})
    good = dataclasses.replace(claim, expect=parse_expression("a", claim.scope))
    assert numeric_check(good, {"n": 3}) < 1e-6


def test_symbolic_check_alone_catches_what_the_numeric_check_is_blind_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the numeric check disabled, check_claim still refutes a wrong claim: the symbolic check decides on its own."""
    monkeypatch.setattr(verify, "numeric_check", lambda claim, sizes: 0.0)
    assert check_claim(claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "2 * A @ x")).status == "refuted"


def test_numeric_check_alone_catches_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the symbolic check disabled, check_claim still refutes a wrong claim: the numeric check decides on its own."""
    monkeypatch.setattr(verify, "symbolic_check", lambda claim, sizes: None)
    assert check_claim(claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "2 * A @ x")).status == "refuted"


def test_the_other_layout_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the derived other layout were wrong, the claim would be refuted in that layout (it is compared, not assumed)."""
    claim = claim_from(RECT, "trace(A @ X @ B)", "X", "A.T @ B.T")
    wrong_other = parse_expression("-(B @ A)", claim.scope)
    monkeypatch.setattr(Claim, "other", lambda self: wrong_other)
    with pytest.raises(Refuted, match="numerator layout"):
        symbolic_check(claim, {"m": 2, "n": 3, "p": 4})
    with pytest.raises(Refuted, match="numerator layout"):
        numeric_check(claim, {"m": 2, "n": 3, "p": 4})


def test_other_layout_is_the_transpose() -> None:
    """Claim.other() is the pushed-in transpose: B A for A^T B^T, and verifies as the numerator layout."""
    claim = claim_from(RECT, "trace(A @ X @ B)", "X", "A.T @ B.T")
    assert claim.other() == parse_expression("B @ A", claim.scope)
    numerator = dataclasses.replace(claim, layout="numerator", expect=claim.other())
    assert check_claim(numerator).status == "verified"
    assert check_claim(dataclasses.replace(claim, layout="numerator")).status == "refuted"


def test_layouts_of_a_scalar_by_vector_derivative() -> None:
    """a^T x by x is a in denominator layout and a^T in numerator layout; each wrong the other way."""
    symbols = {"a": ["n"], "x": ["n"]}
    assert check_claim(claim_from(symbols, "a.T @ x", "x", "a", layout="denominator")).status == "verified"
    assert check_claim(claim_from(symbols, "a.T @ x", "x", "a.T", layout="numerator")).status == "verified"


def test_differential_of_inverse() -> None:
    """d(X^{-1}) = -X^{-1} dX X^{-1} is verified; the factors in the wrong order are refuted."""
    kw = dict(kind="differential", assume={"X": ("invertible",)}, sizes=((("n", 2),),))
    symbols = {"X": ["n", "n"]}
    assert check_claim(claim_from(symbols, "inv(X)", "X", "-inv(X) @ d(X) @ inv(X)", **kw)).status == "verified"
    assert check_claim(claim_from(symbols, "inv(X)", "X", "-inv(X) @ inv(X) @ d(X)", **kw)).status == "refuted"


def test_generic_chain_rule_in_the_wrong_order_is_refuted() -> None:
    """For f(g(x)) the Jacobian D(f, g(x)) D(g, x) is verified; the transposed product g'^T f'^T is refuted."""
    functions = {"f": {"args": [["n"]], "to": ["n"]}, "g": {"args": [["n"]], "to": ["n"]}}
    right = claim_from({"x": ["n"]}, "f(g(x))", "x", "D(f, g(x)) @ D(g, x)", layout="numerator", functions=functions)
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = dataclasses.replace(right, expect=parse_expression("D(g, x) @ D(f, g(x))", right.scope))
    assert check_claim(wrong).status == "refuted"


def test_product_rule_of_matrix_functions_of_a_scalar() -> None:
    """d(U V)/dx = U V' + U' V for generic matrix functions U(x), V(x) is verified; V' U' and U' V' are refuted."""
    functions = {"U": {"args": [[]], "to": ["n", "p"]}, "V": {"args": [[]], "to": ["p", "q"]}}
    right = claim_from({"x": []}, "U(x) @ V(x)", "x", "U(x) @ D(V, x) + D(U, x) @ V(x)", layout="numerator", functions=functions)
    verdict = check_claim(right)
    assert verdict.status == "verified", verdict.detail
    for wrong in ("D(U, x) @ D(V, x)", "D(U, x) @ V(x)"):
        claim = dataclasses.replace(right, expect=parse_expression(wrong, right.scope))
        assert check_claim(claim).status == "refuted", wrong


def test_gradient_of_a_scalar_function_of_a_matrix_has_the_numerator_orientation() -> None:
    """D(u, X) of a scalar function of a p x q matrix is the q x p numerator-layout derivative: its transpose is refuted."""
    functions = {"u": {"args": [["p", "q"]], "to": []}, "g": {"args": [[]], "to": []}}
    right = claim_from({"X": ["p", "q"]}, "g(u(X))", "X", "D(g, u(X)) * D(u, X)", layout="numerator", functions=functions)
    assert check_claim(right).status == "verified", check_claim(right).detail
    square = claim_from({"X": ["p", "p"]}, "g(u(X))", "X", "D(g, u(X)) * D(u, X).T", layout="numerator",
                        functions={"u": {"args": [["p", "p"]], "to": []}, "g": {"args": [[]], "to": []}})
    assert check_claim(square).status == "refuted"


def test_chain_rule_through_a_matrix_function_of_a_scalar() -> None:
    """d g(U(x))/dx = tr(D(g, U) D(U, x)) (numerator layout) is verified; tr(D(g, U)^T D(U, x)) is refuted on square U."""
    functions = {"U": {"args": [[]], "to": ["n", "n"]}, "g": {"args": [["n", "n"]], "to": []}}
    right = claim_from({"x": []}, "g(U(x))", "x", "trace(D(g, U(x)) @ D(U, x))", layout="numerator", functions=functions)
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = dataclasses.replace(right, expect=parse_expression("trace(D(g, U(x)).T @ D(U, x))", right.scope))
    assert check_claim(wrong).status == "refuted"


def _second(claim: Claim) -> Claim:
    return dataclasses.replace(claim, order=2)


def test_hessian_is_checked_from_the_function_itself() -> None:
    """order 2: the Hessian of x^T A x is A + A^T; 2 A is refuted unless A is symmetric; a gradient is refuted."""
    symbols = {"x": ["n"], "A": ["n", "n"]}
    assert check_claim(_second(claim_from(symbols, "x.T @ A @ x", "x", "A + A.T"))).status == "verified"
    assert check_claim(_second(claim_from(symbols, "x.T @ A @ x", "x", "2 * A"))).status == "refuted"
    assert check_claim(_second(claim_from(symbols, "x.T @ A @ x", "x", "2 * A", assume={"A": ("symmetric",)}))).status == "verified"
    # the first derivative is not the second: x A^T + ... would not even have the shape; A alone is wrong
    assert check_claim(_second(claim_from(symbols, "x.T @ A @ x", "x", "A"))).status == "refuted"


def test_hessian_of_softmax_cross_entropy_and_its_mutants() -> None:
    """The Hessian of logsumexp(z) - y^T z is diag(p) - p p^T; p p^T - diag(p) (sign) and diag(p) (missing term) are refuted."""
    symbols = {"z": ["n"], "y": ["n"]}
    right = _second(claim_from(symbols, "logsumexp(z) - y.T @ z", "z", "diag(softmax(z)) - softmax(z) @ softmax(z).T"))
    assert check_claim(right).status == "verified"
    for wrong in ("softmax(z) @ softmax(z).T - diag(softmax(z))", "diag(softmax(z))"):
        assert check_claim(dataclasses.replace(right, expect=parse_expression(wrong, right.scope))).status == "refuted", wrong


def test_second_derivative_by_a_scalar() -> None:
    """d2/dt2 of (I + t A)^-1 is 2 (I + tA)^-1 A (I + tA)^-1 A (I + tA)^-1; without the factor 2 it is refuted."""
    symbols = {"t": [], "A": ["n", "n"]}
    inv = "inv(eye(n) + t * A)"
    right = _second(claim_from(symbols, inv, "t", f"2 * {inv} @ A @ {inv} @ A @ {inv}", layout="numerator"))
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = dataclasses.replace(right, expect=parse_expression(f"{inv} @ A @ {inv} @ A @ {inv}", right.scope))
    assert check_claim(wrong).status == "refuted"


def test_second_differential() -> None:
    """d2 log det X = -tr(X^-1 dX X^-1 dX) is verified as a second differential; the first-order claim and a flipped sign are refuted."""
    kw = dict(kind="differential", assume={"X": ("spd",)}, sizes=((("n", 2),), (("n", 3),)))
    symbols = {"X": ["n", "n"]}
    right = _second(claim_from(symbols, "log(det(X))", "X", "-trace(inv(X) @ d(X) @ inv(X) @ d(X))", **kw))
    assert check_claim(right).status == "verified", check_claim(right).detail
    for wrong in ("trace(inv(X) @ d(X) @ inv(X) @ d(X))", "trace(inv(X) @ d(X))"):
        assert check_claim(dataclasses.replace(right, expect=parse_expression(wrong, right.scope))).status == "refuted", wrong
    first = claim_from(symbols, "log(det(X))", "X", "-trace(inv(X) @ d(X) @ inv(X) @ d(X))", **kw)
    assert check_claim(first).status == "refuted"


def test_second_order_on_the_rational_path() -> None:
    """The sparse-polynomial path takes second derivatives too, through a log: right claims pass, a dropped sign is refuted."""
    from generator.engine.verify import rational_check

    claim = _second(claim_from({"t": [], "A": ["n", "n"]}, "log(det(eye(n) + t * A))", "t",
                               "-trace(inv(eye(n) + t * A) @ A @ inv(eye(n) + t * A) @ A)", layout="numerator"))
    rational_check(claim, {"n": 2})  # raises unless exactly equal
    with pytest.raises(Refuted):
        rational_check(dataclasses.replace(claim, expect=claim.expect.args[0]), {"n": 2})
    hessian = _second(claim_from({"x": ["n"], "A": ["n", "n"]}, "(x.T @ A @ x) ** 2", "x",
                                 "2 * (A + A.T) @ x @ x.T @ (A + A.T) + 2 * (x.T @ A @ x) * (A + A.T)"))
    rational_check(hessian, {"n": 3})


def test_second_derivatives_of_generic_functions() -> None:
    """D(D(U), x) is U'': the second derivative of det U(x) (Wikipedia's form) is verified; a flipped sign is refuted."""
    functions = {"U": {"args": [[]], "to": ["n", "n"]}}
    inv_du = "inv(U(x)) @ D(U, x)"
    right = _second(claim_from({"x": []}, "det(U(x))", "x",
                               f"det(U(x)) * (trace(inv(U(x)) @ D(D(U), x)) + trace({inv_du})**2 - trace({inv_du} @ {inv_du}))",
                               layout="numerator", functions=functions))
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = dataclasses.replace(right, expect=parse_expression(
        f"det(U(x)) * (trace(inv(U(x)) @ D(D(U), x)) + trace({inv_du})**2 + trace({inv_du} @ {inv_du}))", right.scope))
    assert check_claim(wrong).status == "refuted"
    ridge = {"g": {"args": [[]], "to": []}}
    hess = _second(claim_from({"x": ["n"], "A": ["m", "n"]}, "sum(g(A @ x))", "x", "A.T @ diag(D(D(g), A @ x)) @ A", functions=ridge))
    assert check_claim(hess).status == "verified"
    first = dataclasses.replace(hess, expect=parse_expression("A.T @ diag(D(g, A @ x)) @ A", hess.scope))
    assert check_claim(first).status == "refuted"


def test_mixed_second_derivative_of_a_function_of_two_scalars() -> None:
    """D2(D1(U), x, y) is the mixed partial: d/dy of dU^-1/dx is verified in Wikipedia's form; D1(D1(U)) in its place is refuted."""
    functions = {"U": {"args": [[], []], "to": ["n", "n"]}}
    text = ("inv(U(x, y)) @ (D1(U, x, y) @ inv(U(x, y)) @ D2(U, x, y) - {} + D2(U, x, y) @ inv(U(x, y)) @ D1(U, x, y)) @ inv(U(x, y))")
    right = claim_from({"x": [], "y": []}, "-inv(U(x, y)) @ D1(U, x, y) @ inv(U(x, y))", "y", text.format("D2(D1(U), x, y)"),
                       layout="numerator", functions=functions, sizes=((("n", 2),),))
    assert check_claim(right).status == "verified", check_claim(right).detail
    wrong = dataclasses.replace(right, expect=parse_expression(text.format("D1(D1(U), x, y)"), right.scope))
    assert check_claim(wrong).status == "refuted"


def test_order_is_part_of_the_cache_key_only_when_it_is_two() -> None:
    """A first-order claim's content is unchanged by the order field (old verdicts stay valid); order 2 changes it."""
    claim = claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "A + A.T")
    assert "order" not in claim.content()
    assert _second(claim).content() != claim.content()


def test_wrong_log_chain_rule_is_refuted_not_undecided() -> None:
    """-f'/f for d/dx log f(x) is refuted: a difference left in generic functions is a witness (regression)."""
    functions = {"f": {"args": [[]], "to": []}}
    claim = claim_from({"x": []}, "log(f(x))", "x", "-D(f, x) / f(x)", layout="numerator", functions=functions)
    verdict = check_claim(claim)
    assert verdict.status == "refuted", verdict.detail


def test_relu_claimed_as_identity_derivative_is_refuted() -> None:
    """sum(relu(x)) by x claimed as ones(n) is refuted: the point is not restricted to x > 0."""
    assert check_claim(claim_from({"x": ["n"]}, "sum(relu(x))", "x", "ones(n)")).status == "refuted"


def test_abs_claimed_with_step_is_refuted() -> None:
    """sum(abs(x)) by x claimed as step(x) is refuted: for a negative entry the derivative is -1, not 0."""
    claim = claim_from({"x": ["n"]}, "sum(abs(x))", "x", "step(x)", assume={"x": ("nonzero",)})
    assert check_claim(claim).status == "refuted"


def test_abs_derivative_is_sign_on_both_paths() -> None:
    """sum(abs(x)) by x is sign(x), symbolically and numerically; claiming abs(x) / x (the same away from 0) too."""
    for expect in ("sign(x)", "abs(x) / x"):
        verdict = check_claim(claim_from({"x": ["n"]}, "sum(abs(x))", "x", expect, assume={"x": ("nonzero",)}))
        assert verdict.status == "verified", verdict.detail


def test_abs_inside_relu_is_decided() -> None:
    """The Huber loss written with relu(abs(r) - 1) is verified, and dropping the sign factor is refuted."""
    of = "sum(r**2 / 2 - relu(abs(r) - 1)**2 / 2)"
    right = claim_from({"r": ["n"]}, of, "r", "r - sign(r) * relu(abs(r) - 1)", assume={"r": ("nonzero",)})
    wrong = claim_from({"r": ["n"]}, of, "r", "r - relu(abs(r) - 1)", assume={"r": ("nonzero",)}, label="wrong")
    assert check_claim(right).status == "verified"
    assert check_claim(wrong).status == "refuted"


def test_sign_is_not_its_own_derivative() -> None:
    """x * sign(x) (that is |x|) by x claimed as 2 sign(x) is refuted: the derivative of sign is 0 away from 0."""
    claim = claim_from({"x": []}, "x * sign(x)", "x", "2 * sign(x)", layout="numerator", assume={"x": ("nonzero",)})
    assert check_claim(claim).status == "refuted"


def test_scalar_claim_against_vector_derivative_is_refuted() -> None:
    """A wrong claim whose shape is right but whose value is constant (sum(x) by x claimed 2 * ones) is refuted."""
    assert check_claim(claim_from({"x": ["n"]}, "sum(x)", "x", "2 * ones(n)")).status == "refuted"


def test_assumptions_shape_the_numeric_points() -> None:
    """sample_values honours every assumption: symmetric, spd, diagonal, positive, nonzero, probability, invertible."""
    claim = claim_from({"S": ["n", "n"], "P": ["n", "n"], "L": ["n", "n"], "p": ["n"], "q": ["n"], "r": ["n"], "X": ["n", "n"]},
                       "sum(p)", "p", "ones(n)", assume={"S": ("symmetric",), "P": ("spd",), "L": ("diagonal",),
                                                        "p": ("probability",), "q": ("positive",), "r": ("nonzero",),
                                                        "X": ("invertible",)})
    values = verify.sample_values(claim, {"n": 4}, np.random.default_rng(3))
    np.testing.assert_allclose(values["S"], values["S"].T)
    assert np.all(np.linalg.eigvalsh(values["P"]) > 0)
    assert np.count_nonzero(values["L"] - np.diag(np.diag(values["L"]))) == 0
    assert np.all(values["p"] > 0) and abs(values["p"].sum() - 1) < 1e-12
    assert np.all(values["q"] > 0) and np.all(values["r"] != 0)
    assert np.linalg.cond(values["X"]) < 1e3


def test_probability_assumption_is_imposed_symbolically() -> None:
    """With p a probability vector, sum(p) is constant at the point, but its derivative by p is still ones (entries independent)."""
    claim = claim_from({"p": ["n"]}, "sum(p)", "p", "ones(n)", assume={"p": ("probability",)})
    assert check_claim(claim).status == "verified"


def test_a_long_check_becomes_undecided_through_the_runner_timeout() -> None:
    """A claim that runs past the runner's time limit is undecided, with the limit in the detail, and the run returns."""
    # Softmax entropy at n = 6 stays on the SymPy path (not rational) and simplifies for seconds.
    claim = claim_from({"x": ["n"]}, "sum(softmax(x) * log(softmax(x)))", "x",
                       "(log(softmax(x)) + 1) * softmax(x) - softmax(x) * sum(softmax(x) * (log(softmax(x)) + 1))",
                       layout="denominator", sizes=((("n", 6),),), label="slow")
    verdicts = verify_claims([claim], jobs=1, timeout=0.05)
    assert verdicts["slow"].status == "undecided"
    assert "time limit of 0.05 s" in verdicts["slow"].detail


def test_runner_runs_claims_in_parallel_and_keeps_labels() -> None:
    """verify_claims returns one verdict per label, right and wrong claims each with their own status."""
    right = claim_from({"x": ["n"]}, "sum(x)", "x", "ones(n)", label="right")
    wrong = claim_from({"x": ["n"]}, "sum(x)", "x", "zeros(n)", label="wrong")
    verdicts = verify_claims([right, wrong], jobs=2, timeout=120)
    assert {k: v.status for k, v in verdicts.items()} == {"right": "verified", "wrong": "refuted"}


def test_engine_failure_in_a_worker_is_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception inside the check becomes an undecided verdict naming it, not a crash of the run."""
    import generator.engine.verify as verify

    def boom(claim: Claim) -> Verdict:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(verify, "check_claim", boom)  # what the runner's workers call
    verdicts = verify_claims([claim_from({"x": []}, "x", "x", "1", label="boom")], jobs=1, timeout=60)
    assert verdicts["boom"].status == "undecided" and "ZeroDivisionError" in verdicts["boom"].detail


def test_verdict_json_round_trip() -> None:
    """A verdict survives to_json/from_json, example included (the cache and the workers rely on it)."""
    inner = Verdict("refuted", ({"n": 2},), ("numerator",), 3, 0.5, 0.1, "bad example")
    verdict = Verdict("verified", ({"n": 2}, {"n": 3}), ("numerator", "denominator"), 3, 1e-9, 1.25, "ok", inner)
    assert Verdict.from_json(verdict.to_json()) == dataclasses.replace(verdict, max_rel_error=1e-9)


def test_combined_verdict_follows_the_example() -> None:
    """A verified rule with a refuted worked example is refuted as a whole, and the detail says it was the example."""
    rule = Verdict("verified", detail="fine")
    example = Verdict("refuted", detail="entry (1, 1) differs")
    assert combined(rule, example).status == "refuted"
    assert combined(rule, example).detail.startswith("worked example:")
    assert combined(rule, Verdict("verified")).status == "verified"
    assert combined(Verdict("refuted", detail="x"), Verdict("verified")).status == "refuted"


def test_wrong_worked_example_refutes_the_rule(tmp_path) -> None:
    """A rule whose own claim is right but whose example is wrong is refuted through the pipeline."""
    text = (GOOD / "with-example.yaml").read_text(encoding="utf-8").replace("expect: c * eye(2)", "expect: 2 * c * eye(2)")
    path = tmp_path / "with-example.yaml"
    path.write_text(text, encoding="utf-8")
    report = check([path], jobs=1, use_cache=False)
    assert report.problems == []
    assert report.verdicts["with-example"].status == "refuted"
    assert "worked example" in report.verdicts["with-example"].detail
    assert report.exit_code == 1


def test_explicit_sizes_are_used(tmp_path) -> None:
    """A rule's `sizes` field decides the witnesses' assignments (SymPy at the first for a proved rule, finite
    differences at each); the all-sizes grid comes from the bound, not from `sizes`."""
    path = write_rule(tmp_path, "sized", """
title: Sum by x
section: reductions
layout: denominator
symbols: {x: [n]}
of: sum(x)
wrt: x
expect: ones(n)
sizes: [{n: 4}, {n: 5}]
""")
    report = check([path], jobs=1, use_cache=False)
    verdict = report.verdicts["sized"]
    assert verdict.sizes == ({"n": 4},)
    assert "finite differences agree at 3 random points per size at n=4 and n=5" in verdict.detail
    assert verdict.all_sizes["grid"] == [{"n": 2}, {"n": 3}]  # ones(n) may leave its index free: U = 1


def test_symbolic_check_still_refutes_when_the_numeric_check_leaves_the_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the numeric check gives up (log of a negative value), the symbolic check still runs and refutes a wrong claim."""
    def out_of_domain(claim, sizes):
        raise verify.Undecided("the numeric check left the domain")

    monkeypatch.setattr(verify, "numeric_check", out_of_domain)
    functions = {"f": {"args": [[]], "to": []}}
    wrong = claim_from({"x": []}, "log(f(x))", "x", "-D(f, x) / f(x)", layout="numerator", functions=functions)
    assert check_claim(wrong).status == "refuted"
    right = dataclasses.replace(wrong, expect=parse_expression("D(f, x) / f(x)", wrong.scope))
    assert check_claim(right).status == "undecided"  # never verified without the numeric check


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6])
def test_default_sizes_never_tie_letters(count: int) -> None:
    """In the two default assignments every letter changes and no distance between two letters repeats (no m = n + 1 in both)."""
    from generator.engine.claims import default_sizes

    letters = list("mnpqrs"[:count])
    first, second = (dict(a) for a in default_sizes(letters))
    assert all(v >= 2 for v in (*first.values(), *second.values()))
    assert len(set(first.values())) == count and len(set(second.values())) == count
    assert all(first[t] != second[t] for t in letters)
    for i, a in enumerate(letters):
        for b in letters[i + 1:]:
            assert abs(first[a] - first[b]) != abs(second[a] - second[b]), (a, b, first, second)


def test_a_verdict_never_rests_on_a_dimension_of_1() -> None:
    """Author sizes that set a letter to 1 are checked, and a size with every letter at least 2 is added."""
    claim = claim_from({"x": ["n"], "A": ["m", "n"]}, "sum(A @ x)", "x", "A.T @ ones(m)", sizes=((("m", 1), ("n", 2)),))
    sizes = verify.witness_sizes(claim)
    assert sizes[0] == {"m": 1, "n": 2} and sizes[-1] == {"m": 3, "n": 2}


def test_a_cached_verdict_gives_the_same_json_as_a_fresh_one() -> None:
    """to_json of a verdict and of its round trip through sorted JSON (the cache) are equal, key order included."""
    import json

    verdict = check_claim(claim_from({"A": ["n", "m"], "x": ["m"], "y": ["n"]}, "y.T @ A @ x", "A", "y @ x.T"))
    fresh = verdict.to_json()
    cached = Verdict.from_json(json.loads(json.dumps(fresh, sort_keys=True))).to_json()
    assert json.dumps(fresh) == json.dumps(cached)
    assert list(fresh["all_sizes"]) == sorted(fresh["all_sizes"])


def test_a_rule_without_sizes_is_proved_by_exact_symbolic_equality(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no dimension letter there is one size; when SymPy shows exact equality there, the rule is proved."""
    import generator.engine.allsizes as allsizes

    monkeypatch.setattr(allsizes, "decide", lambda claim, **kw: allsizes.Decision("nonzero", "a relation the model lacks",
                                                                                 counterexample={"sizes": {}, "exact": False}))
    verdict = check_claim(claim_from({"x": []}, "sin(x)**2 + cos(x)**2", "x", "0", layout="numerator"))
    assert verdict.status == "verified" and verdict.scope == "all-sizes"
    assert verdict.statement == "Proved (exact symbolic equality; the rule has no sizes to vary)"
