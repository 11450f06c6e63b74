"""The bound analysis of the all-sizes check: hand-counted expressions, and an under-count that lets a false claim through.

B(t) bounds the distinct index variables of letter t in one term, L(t) the degree of the
coefficients in n_t, U(t) the index variables that may sit in no leaf entry, D the total
degree; the grid is B + k with k_t <= L(t) + U(t) and sum k_t <= D (generator/engine/allsizes/bounds.py).
Over-counting costs time; under-counting lets a false claim be proved, which the last tests show.
"""

from __future__ import annotations

import pytest

import generator.engine.allsizes as allsizes
from generator.engine.allsizes.bounds import Bounds, index_bounds
from generator.engine.allsizes.model import compile_claim

from engine_support import claim_from

RECT = {"A": ["m", "n"], "X": ["n", "p"], "B": ["p", "m"]}


def bounds_of(symbols, of, wrt, expect, derivative_only=False, **kw) -> Bounds:
    claim = claim_from(symbols, of, wrt, expect, **kw)
    program = compile_claim(claim)
    roots = [program.derivative] if derivative_only else program.roots()
    return index_bounds(roots, claim.scope.dims)


@pytest.mark.parametrize(("symbols", "of", "wrt", "expect", "B"), [
    (RECT, "trace(A @ X @ B)", "X", "A.T @ B.T", {"m": 1, "n": 1, "p": 1}),  # A_ij V_jk B_ki
    ({"X": ["n", "n"]}, "trace(X @ X @ X @ X)", "X", "4 * (X @ X @ X).T", {"n": 4}),  # V_ij X_jk X_kl X_li
    ({"X": ["n", "n"]}, "trace(X)**2", "X", "2 * trace(X) * eye(n)", {"n": 2}),  # 2 X_ii V_jj
    ({"x": ["n"]}, "x.T @ x", "x", "2 * x", {"n": 1}),  # 2 x_i V_i
    ({"x": ["n"]}, "sum(x) * sum(x) * sum(x)", "x", "3 * sum(x)**2 * ones(n)", {"n": 3}),  # 3 x_i x_j V_k
    ({"X": ["m", "n"]}, "sum(X * X)", "X", "2 * X", {"m": 1, "n": 1}),  # 2 X_ab V_ab: the Hadamard product shares both indices
    ({"x": ["n"], "y": ["m"]}, "x.T @ x * (y.T @ y)", "x", "2 * (y.T @ y) * x", {"n": 1, "m": 1}),
], ids=["trace-axb", "trace-x4", "trace-squared", "xtx", "sum-cubed", "hadamard", "two-letters"])
def test_index_variables_of_the_derivative_are_counted_exactly(symbols, of, wrt, expect, B) -> None:
    """On expressions counted by hand, B of the derivative D_V(of) is the true number of index variables per letter."""
    assert bounds_of(symbols, of, wrt, expect, derivative_only=True).B == B


def test_sizes_used_as_numbers_raise_the_degree() -> None:
    """n**2 - 5*n + 8 is a coefficient of degree 2 in n: three sizes of n are needed."""
    b = bounds_of({"x": ["n"]}, "(n**2 - 5*n + 8) * sum(x)", "x", "2 * ones(n)", derivative_only=True)
    assert (b.B, b.L, b.U, b.D) == ({"n": 1}, {"n": 2}, {"n": 0}, 2)
    assert [s["n"] for s in b.grid()] == [2, 3, 4]


def test_ones_and_eye_may_leave_an_index_free() -> None:
    """sum(ones(n)) is n in disguise: each ones(n) may leave its index in no leaf, so it counts in U."""
    b = bounds_of({"x": ["n"]}, "(sum(ones(n))**2 - 5*sum(ones(n)) + 8) * sum(x)", "x", "2 * ones(n)", derivative_only=True)
    assert b.L == {"n": 0} and b.U == {"n": 2}
    b = bounds_of({"x": ["n"]}, "sum(eye(n)) * sum(x)", "x", "n * ones(n)", derivative_only=True)
    assert b.U == {"n": 1}  # eye(n): two positions, one variable, in no leaf


def test_entrywise_division_widens_the_grid() -> None:
    """x_a / x_a = 1 frees its index: with an entrywise division every index variable counts in U."""
    b = bounds_of({"x": ["n"], "c": []}, "c * sum(x / x)", "c", "n", layout="numerator")
    assert b.local and b.U == b.B and b.B["n"] >= 1


def test_the_grid_of_two_letters_is_a_simplex_of_total_degree_d() -> None:
    """(m - 2)(n - 2) has degree 1 in each letter and 2 in total: the grid holds (3, 3)."""
    b = bounds_of({"X": ["m", "n"]}, "(m - 2) * (n - 2) * sum(X)", "X", "zeros(m, n)")
    assert b.D == 2
    assert {tuple(sorted(s.items())) for s in b.grid()} == {
        (("m", 2), ("n", 2)), (("m", 2), ("n", 3)), (("m", 3), ("n", 2)), (("m", 3), ("n", 3))}


def test_scalar_denominators_are_cleared_and_counted() -> None:
    """x / (x^T x) has a global denominator with one index: the cleared numerator counts it."""
    b = bounds_of({"x": ["n"]}, "sum(x) / (x.T @ x)", "x", "ones(n) / (x.T @ x) - 2 * sum(x) * x / (x.T @ x)**2",
                  derivative_only=True)
    assert b.B["n"] >= 2 and not b.local


def test_an_entrywise_division_by_an_index_sum_is_outside_the_theory() -> None:
    """y / (A x) divides each entry by a sum over an index: not a function of that entry alone."""
    decision = allsizes.decide(claim_from({"A": ["n", "n"], "x": ["n"], "y": ["n"]}, "sum(y / (A @ x))", "y", "1 / (A @ x)"))
    assert decision.status in ("outside", "listed", "nonzero") and "sum over an index" in decision.reason


def test_a_row_wise_softmax_divides_by_its_row_sums_only() -> None:
    """exp(Z) is modelled as T * P, T its row sums: a row-wise softmax divides by one entry of T, and is proved."""
    claim = claim_from({"S": ["n", "m"], "V": ["m", "p"], "G": ["n", "p"]}, "trace(G.T @ softmax(S) @ V)", "S",
                       "softmax(S) * (G @ V.T - (softmax(S) * (G @ V.T)) @ ones(m, m))")
    b = bounds_of({"S": ["n", "m"], "V": ["m", "p"], "G": ["n", "p"]}, "trace(G.T @ softmax(S) @ V)", "S",
                  "softmax(S) * (G @ V.T - (softmax(S) * (G @ V.T)) @ ones(m, m))")
    assert b.local
    assert allsizes.decide(claim).status == "proved"
    wrong = claim_from({"S": ["n", "m"], "V": ["m", "p"], "G": ["n", "p"]}, "trace(G.T @ softmax(S) @ V)", "S",
                       "softmax(S) * (G @ V.T)")
    assert allsizes.decide(wrong).status != "proved"


def test_a_square_root_counts_half_its_argument() -> None:
    """sqrt(u) with s^2 = u: s^j reduces to u^(j // 2) s, so s counts half of u (rounded up), never less."""
    e4 = TRAPS["B"][1]
    b = bounds_of({"X": ["n", "n"]}, f"sqrt(({e4})**2 + 1)", "X", "zeros(n, n)", derivative_only=True)
    assert b.B["n"] >= 4  # the trap below holds for n <= 3
    decision = allsizes.decide(claim_from({"X": ["n", "n"]}, f"sqrt(({e4})**2 + 1)", "X", "zeros(n, n)"))
    assert decision.status != "proved"
    assert decision.status == "nonzero" and decision.counterexample["sizes"]["n"] >= 4


def e6_of_squares_split_by_p1() -> tuple[str, str]:
    """720 e6(y_1^2, ..., y_m^2) (zero for m <= 5) as p1 Q + R in the power sums p_k = sum(y**(2k)), p1 = y^T y."""
    from engine_support import elementary

    def text(mono, c, drop) -> str:
        mono = list(mono)
        mono[0] -= drop
        return f"({int(c)})" + "".join(f" * sum(y**{2 * (i + 1)})" + (f"**{a}" if a > 1 else "") for i, a in enumerate(mono) if a)
    poly = elementary(6)
    q = " + ".join(text(m, c, 1) for m, c in poly.items() if m[0] >= 1)
    r = " + ".join(text(m, c, 0) for m, c in poly.items() if m[0] == 0)
    return q, r


def test_a_square_root_of_a_quotient_counts_the_odd_denominators() -> None:
    """s = sqrt(1 / y^T y) is w / (y^T y) with w^2 = y^T y: w counts half of N times the odd denominator factors.

    s s Q + R / (y^T y)^2 is 720 e6(y^2) / (y^T y)^2: zero for m <= 5, not at m = 6. Counting s as half of its
    numerator 1 alone gave B(m) = 5 and the grid {m = 5}: the false claim was proved for every size.
    """
    q, r = e6_of_squares_split_by_p1()
    s = "sqrt(1 / sum(y**2))"
    claim = claim_from({"y": ["m"], "t": []}, f"t * ({s} * {s} * ({q}) + ({r}) / sum(y**2)**2)", "t", "0", layout="numerator")
    program = compile_claim(claim)
    assert index_bounds(program.roots(), ["m"]).B["m"] >= 6
    decision = allsizes.decide(claim)
    assert decision.status != "proved", decision
    assert decision.counterexample["sizes"]["m"] >= 6


# ---------------------------------------------------------------- an under-count lets a false claim through

E4 = "trace(X)**4 - 6*trace(X)**2*trace(X@X) + 3*trace(X@X)**2 + 8*trace(X)*trace(X@X@X) - 6*trace(X@X@X@X)"
TRAPS = {  # false claims that hold at small sizes; each needs one component of the bound
    "B": ({"X": ["n", "n"]}, E4, "X", "zeros(n, n)"),
    "L": ({"x": ["n"]}, "(n**2 - 5*n + 8) * sum(x)", "x", "2 * ones(n)"),
    "U": ({"x": ["n"]}, "(sum(ones(n))**2 - 7*sum(ones(n)) + 14) * sum(x)", "x", "2 * ones(n)"),  # holds at n = 3, 4
    "local": ({"x": ["n"], "c": []}, "c * (sum(x / x)**2 - 5 * sum(x / x) + 8)", "c", "2"),
    "D": ({"X": ["m", "n"]}, "(m - 2) * (n - 2) * sum(X)", "X", "zeros(m, n)"),
}


def undercount(component: str):
    """index_bounds with one component reduced by one (never below zero)."""
    real = allsizes.index_bounds

    def fake(roots, letters):
        b = real(roots, letters)
        lower = lambda d: {t: max(0, v - 1) for t, v in d.items()}  # noqa: E731
        if component == "B":
            return Bounds(b.letters, {t: min(v, 3) for t, v in b.B.items()}, b.L, b.U, b.D, b.local)  # e4 needs n >= 4
        if component == "L":
            return Bounds(b.letters, b.B, lower(b.L), b.U, max(0, b.D - 1), b.local)
        if component in ("U", "local"):
            return Bounds(b.letters, b.B, b.L, lower(b.U), max(0, b.D - 1), b.local)
        return Bounds(b.letters, b.B, b.L, b.U, max(0, b.D - 1), b.local)
    return fake


@pytest.mark.parametrize("component", list(TRAPS))
def test_the_real_bound_refutes_each_trap(component: str) -> None:
    """Each trap is refuted with the real bound, at a size beyond the sizes where it holds."""
    symbols, of, wrt, expect = TRAPS[component]
    decision = allsizes.decide(claim_from(symbols, of, wrt, expect, layout="numerator" if component == "local" else "denominator"))
    assert decision.status == "refuted", decision
    assert decision.counterexample["exact"] is True


@pytest.mark.parametrize("component", list(TRAPS))
def test_an_undercount_by_one_proves_a_false_claim(component: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With B, L, U or D one too small, the same trap comes back proved: the trap tests would turn red."""
    monkeypatch.setattr(allsizes, "index_bounds", undercount(component))
    symbols, of, wrt, expect = TRAPS[component]
    decision = allsizes.decide(claim_from(symbols, of, wrt, expect, layout="numerator" if component == "local" else "denominator"))
    assert decision.status == "proved", decision
