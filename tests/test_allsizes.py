"""The all-sizes check (generator.engine.allsizes): traps that hold at small sizes are refuted at the size where they fail;
true claims are proved; the API of seam 8 behaves as documented.

Trap families (issue 9): e_k of a matrix for k = 3..6 (square, and A B rectangular), e_k of a
vector's entries (Hadamard powers), Cayley-Hamilton polynomials as derivatives and as
differentials, dimension polynomials, claims true only when m = n, a rank forced by the sizes,
names that clash with the engine's internal names, and exactly zero denominators.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import product

import pytest

from generator.engine.allsizes import P61, P62, decide, claimed_value, test_candidate as candidate, true_derivative
from generator.engine.allsizes.model import Outside
from generator.engine.parse import parse_expression

from engine_support import claim_from, elementary


def polynomial_text(poly: dict[tuple[int, ...], Fraction], power_sum) -> str:
    terms = []
    for mono, c in sorted(poly.items()):
        assert c.denominator == 1
        factors = [f"{power_sum(i + 1)}**{a}" if a > 1 else power_sum(i + 1) for i, a in enumerate(mono) if a]
        terms.append(f"({int(c)}) * " + " * ".join(factors))
    return " + ".join(terms)


def matrix_power(name: str, j: int) -> str:
    return " @ ".join([name] * j)


def trace_e(k: int, name: str = "X") -> str:
    return polynomial_text(elementary(k), lambda j: f"trace({matrix_power(name, j)})")


def vector_e(k: int) -> str:
    return polynomial_text(elementary(k), lambda j: f"sum(x**{j})" if j > 1 else "sum(x)")


def cayley_hamilton(k: int) -> str:
    """X^k - e1 X^(k-1) + ... + (-1)^k e_k I, times k!: zero for every n <= k."""
    terms = [f"{math.factorial(k)} * {matrix_power('X', k)}"]
    for j in range(1, k + 1):
        scale = math.factorial(k) // math.factorial(j)
        ej = f"({trace_e(j)})"
        power = matrix_power("X", k - j) if k > j else "eye(n)"
        terms.append(f"{(-1) ** j * scale} * {ej} * {power}")
    return " + ".join(terms)


def refuted_at(decision, **sizes) -> None:
    """Refuted exactly, at sizes where the trap fails: each letter at least the given size (the first one where it fails)."""
    assert decision.status == "refuted", f"{decision.status}: {decision.reason}"
    assert decision.counterexample["exact"]
    found = decision.counterexample["sizes"]
    for letter, size in sizes.items():
        assert found[letter] >= size, f"refuted at {found}, where the trap holds ({letter} < {size})"


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_ek_of_a_square_matrix_is_refuted_at_n_equal_k(k: int) -> None:
    """d e_k(X)/dX = 0 holds for n < k (e_k vanishes); it is refuted at n = k, the first size where it fails."""
    decision = decide(claim_from({"X": ["n", "n"]}, trace_e(k), "X", "zeros(n, n)"))
    refuted_at(decision, n=k)
    assert decision.counterexample["sizes"] == {"n": k}


@pytest.mark.parametrize("k", [3, 4, 5])
def test_ek_of_a_rectangular_product_is_refuted(k: int) -> None:
    """e_k(A B) with A n x m, B m x n vanishes when min(n, m) < k; d/dA = 0 is refuted at n, m >= k."""
    decision = decide(claim_from({"A": ["n", "m"], "B": ["m", "n"]}, trace_e(k, "(A @ B)"), "A", "zeros(n, m)"))
    assert decision.status == "refuted", decision.reason
    found = decision.counterexample["sizes"]
    assert min(found["n"], found["m"]) >= k


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_ek_of_a_vectors_entries_is_refuted_at_n_equal_k(k: int) -> None:
    """The entrywise (Hadamard) power sums give e_k of the entries: zero for n < k, refuted at n = k."""
    refuted_at(decide(claim_from({"x": ["n"]}, vector_e(k), "x", "zeros(n)")), n=k)


@pytest.mark.parametrize("k", [2, 3])
def test_cayley_hamilton_as_a_derivative_is_refuted_beyond_k(k: int) -> None:
    """trace(A p_k(X)) by A, claimed 0: true for n <= k (Cayley-Hamilton), refuted at a size n > k."""
    of = f"trace(A @ ({cayley_hamilton(k)}))"
    refuted_at(decide(claim_from({"X": ["n", "n"], "A": ["n", "n"]}, of, "A", "zeros(n, n)")), n=k + 1)


@pytest.mark.parametrize("k", [2, 3])
def test_cayley_hamilton_as_a_differential_is_refuted(k: int) -> None:
    """d(p_k(X)) = 0 as a differential: true for n <= k, refuted at a size n > k."""
    claim = claim_from({"X": ["n", "n"]}, cayley_hamilton(k), "X", "zeros(n, n)", kind="differential")
    refuted_at(decide(claim), n=k + 1)


def test_cayley_hamilton_with_det_is_refuted() -> None:
    """X^2 - tr(X) X + det(X) I = 0 only for n = 2: the det atom is lossy, the exact check refutes at n = 3."""
    of = "trace(A @ (X @ X - trace(X) * X + det(X) * eye(n)))"
    refuted_at(decide(claim_from({"X": ["n", "n"], "A": ["n", "n"]}, of, "A", "zeros(n, n)")), n=3)


@pytest.mark.parametrize(("of", "expect", "size"), [
    ("(n**2 - 5*n + 8) * sum(x)", "2 * ones(n)", 4),  # 2 at n = 2 and 3
    ("(n - 2) * (n - 3) * (n - 4) * sum(x)", "zeros(n)", 5),
    ("sum(ones(n)) * sum(x) / n", "ones(n)", None),  # true: n / n = 1 (proved below)
], ids=["quadratic", "cubic", "n-over-n"])
def test_dimension_polynomials(of: str, expect: str, size) -> None:
    """A dimension letter used as a number is a polynomial in n: refuted at the first size where it differs."""
    decision = decide(claim_from({"x": ["n"]}, of, "x", expect))
    if size is None:
        assert decision.status == "proved", decision.reason
    else:
        refuted_at(decision, n=size)


@pytest.mark.parametrize(("of", "expect"), [
    ("(m - n) * sum(X)", "zeros(m, n)"),  # true only for m = n
    ("(m - n)**2 * sum(X)", "ones(m, n)"),  # true whenever the sizes differ by one
    ("(m * n - 6) * sum(X)", "zeros(m, n)"),  # true at (2, 3) and (3, 2)
])
def test_claims_that_tie_two_letters_are_refuted(of: str, expect: str) -> None:
    """Letters are sized independently: a claim true only when m = n, or when m = n + 1, is refuted."""
    assert decide(claim_from({"X": ["m", "n"]}, of, "X", expect)).status == "refuted"


def test_a_rank_forced_by_the_sizes_is_refuted() -> None:
    """det(X^T X) = 0 for a wide X (m < n): its derivative claimed 0 is refuted at a size with m >= n."""
    decision = decide(claim_from({"X": ["m", "n"]}, "det(X.T @ X)", "X", "zeros(m, n)"))
    assert decision.status == "refuted"
    assert decision.counterexample["sizes"]["m"] >= decision.counterexample["sizes"]["n"]


def test_a_projection_trace_true_only_for_square_x_is_refuted() -> None:
    """X (X^T X)^-1 X^T is the identity only when X is square: claimed so, it is refuted at m > n."""
    decision = decide(claim_from({"X": ["m", "n"], "A": ["m", "m"]}, "trace(A @ X @ inv(X.T @ X) @ X.T)", "A", "eye(m)"))
    assert decision.status == "refuted"
    assert decision.counterexample["sizes"]["m"] > decision.counterexample["sizes"]["n"]


@pytest.mark.parametrize("name", ["A_0_1", "A_1_0", "f0", "f1", "t_", "dX_0_0", "f_u0_0", "f_d1", "V", "dir", "sym"])
def test_names_like_the_engines_internal_names_do_not_clash(name: str) -> None:
    """A scalar symbol named like an internal name stays independent of the matrix A and the function f."""
    symbols = {"A": ["n", "n"], name: []}
    functions = {"f": {"args": [["n"]], "to": ["n"]}} if name.startswith("f") else {}
    right = claim_from(symbols, f"{name} * trace(A)", "A", f"{name} * eye(n)", functions=functions)
    assert decide(right).status == "proved"
    wrong = claim_from(symbols, f"{name} * trace(A)", "A", f"{name} * eye(n) + trace(A) * ones(n, n)", functions=functions)
    assert decide(wrong).status == "refuted"


@pytest.mark.parametrize(("of", "expect", "side"), [
    ("sum(x) / (sum(x) - sum(x))", "zeros(n)", "of"),
    ("sum(x) * (sum(x) - sum(x))**-1", "zeros(n)", "of"),
    ("sum(x)", "ones(n) + 0 * x / (x - x)", "expect"),
    ("sum(x / (x - x))", "zeros(n)", "of"),
])
def test_a_division_by_an_exact_zero_is_never_proved(of: str, expect: str, side: str) -> None:
    """A denominator that is exactly 0 makes the claim undefined, named with its side, even when multiplied by 0."""
    decision = decide(claim_from({"x": ["n"]}, of, "x", expect))
    assert decision.status == "undefined", decision
    assert decision.reason.startswith(f"{side} divides by")


# ---------------------------------------------------------------- true claims

@pytest.mark.parametrize(("symbols", "of", "wrt", "expect", "kw"), [
    ({"A": ["m", "n"], "X": ["n", "p"], "B": ["p", "m"]}, "trace(A @ X @ B)", "X", "A.T @ B.T", {}),
    ({"X": ["n", "n"]}, "det(X)", "X", "det(X) * inv(X).T", {}),
    ({"X": ["n", "n"], "A": ["n", "n"]}, "det(A @ X @ A)", "X", "det(A @ X @ A) * inv(X).T", {}),
    ({"X": ["n", "n"]}, "log(det(X @ X))", "X", "2 * inv(X).T", {}),
    ({"x": ["n"], "y": ["n"]}, "det(eye(n) + x @ y.T)", "x", "y", {}),
    ({"a": [], "X": ["n", "n"]}, "det(a * X)", "a", "n * a**(n - 1) * det(X)", {"layout": "numerator"}),
    ({"X": ["n", "n"]}, "inv(X)", "X", "-inv(X) @ d(X) @ inv(X)", {"kind": "differential"}),
    ({"x": ["n"]}, "softmax(x)", "x", "diag(softmax(x)) - softmax(x) @ softmax(x).T", {"layout": "numerator"}),
    ({"x": ["n"], "c": []}, "sum(softmax(x + c) * x)", "c", "0", {"layout": "numerator"}),
    ({"X": ["N", "n"], "y": ["N"], "w": ["n"], "b": []}, "sum((y - max(0, X @ w + b))**2) / N", "w",
     "2 / N * X.T @ (step(X @ w + b) * (X @ w + b - y))", {}),
    ({"x": ["n"]}, "f(g(x))", "x", "D(f, g(x)) @ D(g, x)",
     {"layout": "numerator", "functions": {"f": {"args": [["k"]], "to": ["m"]}, "g": {"args": [["n"]], "to": ["k"]}}}),
    ({"x": ["n"]}, "sum(sqrt(x**2))", "x", "x / sqrt(x**2)", {}),
    ({"x": ["n"]}, "x / norm(x)", "x", "(eye(n) - x @ x.T / norm(x)**2) / norm(x)", {"layout": "numerator"}),
    ({"x": ["n"], "e": []}, "(x - sum(x) / n) / sqrt(sum((x - sum(x) / n)**2) / n + e)", "x",
     "(eye(n) - ones(n, n) / n - (x - sum(x) / n) @ (x - sum(x) / n).T / (n * (sum((x - sum(x) / n)**2) / n + e)))"
     " / sqrt(sum((x - sum(x) / n)**2) / n + e)", {"layout": "numerator"}),
    ({"u": ["d"], "v": ["d"], "U": ["k", "d"]}, "-log(sigmoid(u.T @ v)) - sum(log(sigmoid(-U @ v)))", "v",
     "(sigmoid(u.T @ v) - 1) * u + U.T @ sigmoid(U @ v)", {}),
    ({"r": ["n"]}, "sum(log((exp(r) + exp(-r)) / 2))", "r", "tanh(r)", {}),
], ids=["trace-axb", "det", "det-product", "log-det-square", "det-rank-one", "det-scaled", "inv-differential",
        "softmax-jacobian", "softmax-shift", "relu-loss", "chain-rule", "abs", "normalize", "layer-norm",
        "negative-sampling", "log-cosh"])
def test_true_claims_are_proved(symbols, of, wrt, expect, kw) -> None:
    """Rules from every part of the language are proved for every size, with a grid and an error bound below 1e-15."""
    decision = decide(claim_from(symbols, of, wrt, expect, **kw))
    assert decision.status == "proved", decision.reason
    assert decision.grid and decision.error_bound < 1e-15


def test_a_second_seed_and_prime_give_the_same_decisions() -> None:
    """Seed 1 modulo the second prime decides the same way as seed 0 modulo 2^61 - 1."""
    claims = [claim_from({"X": ["n", "n"]}, trace_e(4), "X", "zeros(n, n)"),
              claim_from({"X": ["n", "n"]}, "trace(X @ X @ X)", "X", "3 * (X @ X).T"),
              claim_from({"x": ["n"]}, "sum(exp(x))", "x", "exp(x)")]
    for claim in claims:
        first, second = decide(claim), decide(claim, seed=1, prime=P62)
        assert first.status == second.status
        assert second.primes[0] == P62


def test_test_candidate_checks_a_repair() -> None:
    """test_candidate decides the claim with another expect: the transposed repair of a wrong claim is proved."""
    claim = claim_from({"A": ["n", "n"], "X": ["n", "n"]}, "trace(A @ X)", "X", "A")
    assert decide(claim).status == "refuted"
    repair = parse_expression("A.T", claim.scope)
    assert candidate(claim, repair).status == "proved"
    assert candidate(claim, parse_expression("A", claim.scope), layout="numerator").status == "proved"
    rect = claim_from({"A": ["m", "n"], "X": ["n", "m"]}, "trace(A @ X)", "X", "A.T")
    wrong_shape = candidate(rect, parse_expression("A", rect.scope))
    assert wrong_shape.status == "refuted" and wrong_shape.reason == "the derivative in denominator layout is nxm but the claim is mxn"


def test_true_derivative_is_exact_and_in_the_layout() -> None:
    """The true derivative of x^T A x at a given point, in exact rationals, in both layouts."""
    claim = claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A + A.T) @ x")
    values = {"x": [[1], [2]], "A": [[1, Fraction(1, 2)], [3, 4]]}
    # (A + A^T) x = [[2, 7/2], [7/2, 8]] [1, 2] = [9, 39/2]
    assert true_derivative(claim, {"n": 2}, values) == [[Fraction(9)], [Fraction(39, 2)]]
    numerator = claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "x.T @ (A + A.T)", layout="numerator")
    assert true_derivative(numerator, {"n": 2}, values) == [[Fraction(9), Fraction(39, 2)]]
    assert claimed_value(claim, {"n": 2}, values) == [[Fraction(9)], [Fraction(39, 2)]]
    with pytest.raises(Outside):
        true_derivative(claim_from({"x": ["n"]}, "sum(exp(x))", "x", "exp(x)"), {"n": 2})


def test_decisions_of_lossy_models_are_never_counterexamples() -> None:
    """A claim that needs a relation the model drops is not refuted by the model: exp(a) exp(b) = exp(a + b)."""
    claim = claim_from({"x": [], "y": []}, "exp(x) * exp(y)", "x", "exp(x + y)", layout="numerator")
    decision = decide(claim)
    assert decision.status == "nonzero" and not decision.counterexample["exact"]
    assert "exp" in decision.reason


def test_the_all_sizes_package_imports_only_the_standard_library() -> None:
    """generator.engine.allsizes runs under Pyodide: importing it and deciding a claim loads no SymPy, NumPy or YAML."""
    import subprocess
    import sys

    from engine_support import ROOT

    code = ("import sys; from generator.engine.parse import parse_expression, Scope; from generator.engine.claims import Claim; "
            "import generator.engine.allsizes as a; s = Scope({'x': ('n', 1)}, {}, ('n',)); "
            "c = Claim('t', 'derivative', 'denominator', s, parse_expression('x.T @ x', s), 'x', parse_expression('2 * x', s), {}, ()); "
            "assert a.decide(c).status == 'proved'; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'numpy', 'yaml', 'jsonschema', 'mpmath')); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize(("of", "expect"), [
    ("sum(abs(x))", "sign(x)"),
    ("sum(abs(x))", "abs(x) / x"),
    ("sum(abs(x)**2)", "2 * x"),  # needs sign(x)^2 = 1: settled on the -1/+1 patterns
    ("sum(x**2 / 2 - max(0, abs(x) - 1)**2 / 2)", "x - sign(x) * max(0, abs(x) - 1)"),  # Huber, delta = 1
    ("sum(sign(x) * x)", "sign(x)"),
])
def test_abs_and_sign_are_proved_for_every_size(of: str, expect: str) -> None:
    """abs(u) = u S and sign(u) = S with S a -1/+1 leaf (S' = 0): L1 and Huber gradients are proved for every size."""
    decision = decide(claim_from({"x": ["n"]}, of, "x", expect, assume={"x": ("nonzero",)}))
    assert decision.status == "proved", decision.reason


@pytest.mark.parametrize(("of", "expect"), [
    ("sum(abs(x))", "-sign(x)"),
    ("sum(abs(x))", "step(x)"),
    ("sum(sign(x) * x)", "2 * sign(x)"),
])
def test_wrong_abs_claims_are_never_proved(of: str, expect: str) -> None:
    """A wrong gradient of |x| is not proved; the sign leaf is lossy, so the model reports it without a counterexample."""
    decision = decide(claim_from({"x": ["n"]}, of, "x", expect, assume={"x": ("nonzero",)}))
    assert decision.status == "nonzero", decision
    assert "sign" in decision.reason


def _order2(claim):
    import dataclasses

    return dataclasses.replace(claim, order=2)


@pytest.mark.parametrize(("symbols", "of", "wrt", "expect", "kw", "status"), [
    ({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "A + A.T", {}, "proved"),
    ({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "2 * A", {}, "refuted"),
    ({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "2 * A", {"assume": {"A": ("symmetric",)}}, "proved"),
    ({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "A", {}, "refuted"),
    ({"X": ["n", "n"]}, "X @ X @ X", "X", "2 * (d(X) @ d(X) @ X + d(X) @ X @ d(X) + X @ d(X) @ d(X))", {"kind": "differential"}, "proved"),
    ({"X": ["n", "n"]}, "X @ X @ X", "X", "6 * d(X) @ d(X) @ X", {"kind": "differential"}, "refuted"),
    ({"x": []}, "exp(2 * x)", "x", "4 * exp(2 * x)", {"layout": "numerator"}, "proved"),
    ({"x": ["n"]}, "f(x)", "x", "D(f, x).T @ D(f, x)", {"layout": "numerator", "functions": {"f": {"args": [["n"]], "to": []}}}, "refuted"),
], ids=["hessian", "hessian-2A", "hessian-2A-symmetric", "hessian-A", "second-differential", "second-differential-wrong",
        "second-derivative-exp", "gradient-is-not-hessian"])
def test_second_derivatives(symbols, of, wrt, expect, kw, status) -> None:
    """order: 2 claims are checked along two directions (the Hessian) or twice along one (the second differential)."""
    assert decide(_order2(claim_from(symbols, of, wrt, expect, **kw))).status == status


def test_chain_rule_through_matrix_valued_functions() -> None:
    """d g(U(x))/dx = tr(D(g, U) D(U, x)) with U: R -> R^(n x n), g: R^(n x n) -> R; the transposed Jacobian is refuted."""
    functions = {"U": {"args": [[]], "to": ["n", "n"]}, "g": {"args": [["n", "n"]], "to": []}}
    right = claim_from({"x": []}, "g(U(x))", "x", "trace(D(g, U(x)) @ D(U, x))", layout="numerator", functions=functions)
    assert decide(right).status == "proved"
    wrong = claim_from({"x": []}, "g(U(x))", "x", "trace(D(g, U(x)).T @ D(U, x))", layout="numerator", functions=functions)
    assert decide(wrong).status == "refuted"


def test_the_primes_are_primes_of_the_right_form() -> None:
    """Every prime of the exact arithmetic is a prime (deterministic Miller-Rabin below 2^64), 3 mod 4, above 2^60."""
    from generator.engine.allsizes.evaluate import PRIMES

    def is_prime(n: int) -> bool:
        bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
        if any(n % b == 0 for b in bases):
            return n in bases
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for a in bases:
            x = pow(a, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = x * x % n
                if x == n - 1:
                    break
            else:
                return False
        return True

    assert len(set(PRIMES)) == len(PRIMES) >= 8
    assert all(is_prime(p) and p % 4 == 3 and p > 2**60 for p in PRIMES)
    assert not is_prime(2**62 - 1)  # the test can fail


@pytest.mark.parametrize(("of", "expect"), [("sum(sqrt(X**2))", "X / sqrt(X**2)"), ("sum(relu(X))", "step(X)"),
                                            ("sum(abs(X))", "sign(X)")], ids=["sqrt-square", "relu", "abs"])
def test_a_kink_at_every_allowed_point_is_undefined_not_proved(of: str, expect: str) -> None:
    """At a diagonal X every off-diagonal entry sits on the kink of |.| or relu: no derivative exists, nothing is proved."""
    decision = decide(claim_from({"X": ["n", "n"]}, of, "X", expect, assume={"X": ("diagonal",)}))
    assert decision.status == "undefined"
    assert decision.reason.startswith("of has no derivative at any point the assumptions allow: entry (1, 2)")
    assert decide(claim_from({"X": ["n", "n"]}, of, "X", expect)).status == "proved"  # without the assumption: fine


@pytest.mark.parametrize(("symbols", "of", "wrt", "expect", "kw", "status"), [
    ({"x": ["n"], "w": ["n"], "b": []}, "vstack(w, b).T @ vstack(x, 1)", "w", "x", {}, "proved"),
    ({"x": ["n"], "w": ["n"], "b": []}, "vstack(w, b).T @ vstack(x, 1)", "b", "1", {}, "proved"),
    ({"x": ["n"], "w": ["n"], "b": []}, "vstack(w, b).T @ vstack(x, 1)", "w", "x + 1", {}, "refuted"),
    ({"x": ["n"]}, "sum(vstack(x, x) * vstack(x, x))", "x", "4 * x", {}, "proved"),
    ({"x": ["n"]}, "sum(vstack(x, ones(n)))", "x", "(n - 1) * ones(n)", {}, "refuted"),
    ({"A": ["m", "n"], "B": ["m", "p"], "x": ["n"], "y": ["p"]}, "sum(hstack(A, B) @ vstack(x, y))", "x", "A.T @ ones(m)", {},
     "proved"),
], ids=["bias-trick-w", "bias-trick-b", "bias-trick-wrong", "stacked-twice", "stacked-size-trap", "block-product"])
def test_stacked_blocks(symbols, of, wrt, expect, kw, status) -> None:
    """vstack and hstack, with dimensions such as n+1 and 2n: the blocks are counted per letter."""
    assert decide(claim_from(symbols, of, wrt, expect, **kw)).status == status


def test_a_second_derivative_of_a_function_of_scalars() -> None:
    """(f o g)'' = f''(g) g'^2 + f'(g) g'' (D(D(f), x) is f''); dropping the second term is never proved."""
    functions = {"f": {"args": [[]], "to": []}, "g": {"args": [[]], "to": []}}
    right = _order2(claim_from({"x": []}, "f(g(x))", "x", "D(D(f), g(x)) * D(g, x)**2 + D(f, g(x)) * D(D(g), x)",
                               layout="numerator", functions=functions))
    assert decide(right).status == "proved"
    wrong = _order2(claim_from({"x": []}, "f(g(x))", "x", "D(D(f), g(x)) * D(g, x)**2", layout="numerator", functions=functions))
    assert decide(wrong).status == "refuted"


def test_a_trap_through_the_row_softmax_model_is_never_proved() -> None:
    """6 e_3 of each softmax row is 0 for rows of length k <= 2: claimed constant, it is not proved, and the witnesses
    refute it at the size the model flags (k >= 3)."""
    from generator.engine.verify import check_claim

    row = "(P @ ones(k))"
    e3 = f"sum({row}**3 - 3 * {row} * ((P * P) @ ones(k)) + 2 * ((P * P * P) @ ones(k)))".replace("P", "softmax(Z)")
    claim = claim_from({"Z": ["m", "k"]}, e3, "Z", "zeros(m, k)")
    decision = decide(claim)
    assert decision.status != "proved"
    assert decision.counterexample is None or decision.counterexample["sizes"].get("k", 3) >= 3
    assert check_claim(claim).status == "refuted"


_SCALAR_FN = {"f": {"args": [[]], "to": []}, "g": {"args": [[]], "to": []}}
_MATRIX_OF_TWO = {"U": {"args": [[], []], "to": ["n", "n"]}}
_MIXED = ("inv(U(x, y)) @ (D1(U, x, y) @ inv(U(x, y)) @ D2(U, x, y) - {} + D2(U, x, y) @ inv(U(x, y)) @ D1(U, x, y))"
          " @ inv(U(x, y))")


@pytest.mark.parametrize(("symbols", "of", "wrt", "expect", "kw", "status"), [
    ({"x": []}, "f(g(x))", "x", "D(D(f), g(x)) * D(g, x)**2 + D(f, g(x)) * D(D(g), x)", {"functions": _SCALAR_FN}, "proved"),
    ({"x": []}, "f(g(x))", "x", "D(D(f), g(x)) * D(g, x)**2", {"functions": _SCALAR_FN}, "refuted"),
    ({"x": ["n"], "A": ["m", "n"]}, "sum(g(A @ x))", "x", "A.T @ diag(D(D(g), A @ x)) @ A", {"functions": _SCALAR_FN}, "proved"),
    ({"x": ["n"], "A": ["m", "n"]}, "sum(g(A @ x))", "x", "A.T @ diag(D(g, A @ x)) @ A", {"functions": _SCALAR_FN}, "refuted"),
], ids=["chain-rule-2", "chain-rule-2-missing-term", "glm-hessian", "glm-first-derivative"])
def test_second_derivatives_of_generic_functions(symbols, of, wrt, expect, kw, status) -> None:
    """D(D(f), a) is f'': second-order chain rules with generic functions are proved, a missing term is refuted."""
    kw = {"layout": "numerator" if not symbols.get("x") else "denominator", **kw}
    assert decide(_order2(claim_from(symbols, of, wrt, expect, **kw))).status == status


def test_mixed_second_derivative_of_a_matrix_function_of_two_scalars() -> None:
    """d/dy of dU^-1/dx with D2(D1(U), x, y) is proved for every size; with the second derivative dropped it is refuted."""
    right = claim_from({"x": [], "y": []}, "-inv(U(x, y)) @ D1(U, x, y) @ inv(U(x, y))", "y", _MIXED.format("D2(D1(U), x, y)"),
                       layout="numerator", functions=_MATRIX_OF_TWO)
    assert decide(right).status == "proved"
    wrong = claim_from({"x": [], "y": []}, "-inv(U(x, y)) @ D1(U, x, y) @ inv(U(x, y))", "y", _MIXED.format("zeros(n, n)"),
                       layout="numerator", functions=_MATRIX_OF_TWO)
    assert decide(wrong).status == "refuted"


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_coefficient_that_is_a_multiple_of_the_primes_is_refuted(count: int) -> None:
    """(p1 p2 ...) * sum(x) claimed constant: zero modulo those primes, not over the integers. The height bound adds
    primes until a nonzero coefficient must show: refuted, never proved."""
    import math

    from generator.engine.allsizes.evaluate import PRIMES

    value, digits = math.prod(PRIMES[:count]), []
    while value:
        value, digit = divmod(value, 10**6)
        digits.append(digit)
    text = " + ".join(" * ".join([str(d)] + ["1000000"] * i) for i, d in enumerate(digits) if d)
    decision = decide(claim_from({"x": ["n"]}, f"({text}) * sum(x)", "x", "zeros(n)"))
    assert decision.status == "refuted", decision.reason
