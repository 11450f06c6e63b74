"""The fast rational path of the symbolic check agrees with the general SymPy path."""

from __future__ import annotations

import dataclasses

import pytest

from engine_support import GOOD, RULES, claim_from, parse_file
from generator.engine import verify
from generator.engine.rational import Unsupported
from generator.engine.verify import Refuted, Undecided, rational_check


def sympy_path(claim, sizes) -> None:
    """symbolic_check with the rational path switched off."""
    original = verify.rational_check

    def refuse(*_args, **_kwargs):
        raise Unsupported("forced")

    verify.rational_check = refuse
    try:
        verify.symbolic_check(claim, sizes)
    finally:
        verify.rational_check = original


def rational_claims() -> list:
    """Good fixtures and a sample of real rules whose claims lie in the rational fragment."""
    params = []
    for path in sorted(GOOD.glob("*.yaml")) + sorted(RULES.glob("[a-z]*.yaml"))[::6]:
        rule, _ = parse_file(path)
        if rule is None:
            continue
        try:
            rational_check(rule.claim, dict(rule.claim.sizes[0]))
        except (Unsupported, Refuted):
            continue
        params.append(pytest.param(rule.claim, id=f"{path.parent.name}/{path.stem}"))
    return params


@pytest.mark.parametrize("claim", rational_claims())
def test_rational_and_sympy_paths_both_verify(claim) -> None:
    """Each claim the rational path verifies is verified by the SymPy path too (within a time budget)."""
    sizes = dict(claim.sizes[0])
    try:
        sympy_path(claim, sizes)
    except Undecided:
        pytest.skip("the SymPy path cannot decide this claim quickly")


@pytest.mark.parametrize("wrong, why", [
    ("B.T @ A.T", "transposed answer on square sizes"),
    ("-(A.T @ B.T)", "flipped sign"),
    ("2 * A.T @ B.T", "extra factor of 2"),
])
def test_rational_path_refutes_wrong_claims(wrong: str, why: str) -> None:
    """A wrong trace rule is refuted by the rational path, with the entry and sizes named."""
    claim = claim_from({"A": ["n", "n"], "X": ["n", "n"], "B": ["n", "n"]}, "trace(A @ X @ B)", "X", wrong,
                       sizes=((("n", 3),),))
    with pytest.raises(Refuted, match=r"at n=3, entry \(\d, \d\)"):
        rational_check(claim, {"n": 3})


def test_rational_path_refuses_what_it_cannot_express() -> None:
    """exp, softmax and generic functions leave the rational fragment: Unsupported, not a verdict."""
    for of, expect in (("sum(exp(x))", "exp(x)"), ("logsumexp(x)", "softmax(x)")):
        claim = claim_from({"x": ["n"]}, of, "x", expect, sizes=((("n", 2),),))
        with pytest.raises(Unsupported):
            rational_check(claim, {"n": 2})


def test_log_det_is_checked_through_its_derivative_only() -> None:
    """log det X is verified on the rational path (d log u = du / u), and inv(X) (no transpose) is refuted."""
    good = claim_from({"X": ["n", "n"]}, "log(det(X))", "X", "inv(X).T", sizes=((("n", 3),),))
    rational_check(good, {"n": 3})
    bad = dataclasses.replace(good, expect=claim_from({"X": ["n", "n"]}, "log(det(X))", "X", "inv(X)").expect)
    with pytest.raises(Refuted):
        rational_check(bad, {"n": 3})


def test_symmetric_assumption_on_wrt_is_imposed_after_differentiation() -> None:
    """x^T A x by A is x x^T even for symmetric A (entries independent), never the 'symmetric gradient'."""
    right = claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "A", "x @ x.T", assume={"A": ("symmetric",)},
                       sizes=((("n", 3),),))
    rational_check(right, {"n": 3})
    wrong = claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "A", "2 * x @ x.T - diag(x * x)",
                       assume={"A": ("symmetric",)}, sizes=((("n", 3),),))
    with pytest.raises(Refuted):
        rational_check(wrong, {"n": 3})


def test_differential_of_the_inverse_on_the_rational_path() -> None:
    """d(X^-1) = -X^-1 dX X^-1 is verified on sparse polynomials; the sign-flipped claim is refuted."""
    good = claim_from({"X": ["n", "n"]}, "inv(X)", "X", "-inv(X) @ d(X) @ inv(X)", kind="differential",
                      sizes=((("n", 3),),))
    rational_check(good, {"n": 3})
    bad = claim_from({"X": ["n", "n"]}, "inv(X)", "X", "inv(X) @ d(X) @ inv(X)", kind="differential",
                     sizes=((("n", 3),),))
    with pytest.raises(Refuted, match=r"as a differential at n=3"):
        rational_check(bad, {"n": 3})


def test_rat_sum_keeps_the_larger_denominator_when_one_divides_the_other() -> None:
    """a/d^2 + b/d has denominator d^2 (not d^3), and the value is right."""
    import sympy as sp

    from generator.engine.rational import Rat, make_ring

    x, y = sp.symbols("x y")
    ring, gen = make_ring([x, y])
    d = gen[x] + gen[y]
    total = Rat(gen[x], d**2) + Rat(gen[y], d)
    assert total.den == d**2
    assert sp.simplify(total.num.as_expr() / total.den.as_expr() - (x / (x + y) ** 2 + y / (x + y))) == 0


def test_log_beside_a_rational_term_stays_on_the_rational_path() -> None:
    """-log det S - x^T S^-1 x by S: the quadratic term joins the log through its derivatives."""
    claim = claim_from({"S": ["n", "n"], "x": ["n"]}, "-log(det(S)) - x.T @ inv(S) @ x", "S",
                       "-inv(S).T + inv(S).T @ x @ x.T @ inv(S).T", sizes=((("n", 3),),))
    rational_check(claim, {"n": 3})


def test_rat_second_derivative_over_the_cubed_denominator() -> None:
    """Rat.diff2(x, y) equals diff(x).diff(y) as a rational function, with denominator den^3 instead of den^4."""
    from sympy import QQ
    from sympy.polys.rings import ring

    from generator.engine.rational import Rat

    R, x, y, z = ring("x, y, z", QQ)
    value = Rat(x**2 * y + z, x * y + 1 + z * x)
    for a, b in ((x, x), (x, y), (y, z), (z, z)):
        fast, slow = value.diff2(a, b), value.diff(a).diff(b)
        assert fast.den == value.den**3
        assert (fast - slow).is_zero()
    constant_den = Rat(x**3 * y, R(2))
    assert constant_den.diff2(x, y).den == R(2)
    assert (constant_den.diff2(x, y) - Rat(R(3) * x**2, R(2))).is_zero()
