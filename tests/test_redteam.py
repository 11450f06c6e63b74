"""Red-team attacks on the verifier (issue 9): false claims it must never call verified, true ones it must accept.

Each attack is a minimal rule file. It goes through the same path as `mcref check`
(load -> validate -> parse -> generator.engine.verify.check_claim: the all-sizes engine, then the
SymPy and finite-difference witnesses), and the verdict must be the right one:

  "refuted"   the claim is false and can be refuted exactly (the size where it fails is given);
  "unproved"  the claim is false: it may be refuted or undecided, never verified (soundness only);
  "verified"  the claim is true: it must be verified (never refuted).

For every false claim the all-sizes engine alone (generator.engine.allsizes.decide, which the one-line
claims and the browser checker trust without witnesses) must never say "proved", and the
one-line claim path (`mcref check --of ...`) is attacked too.

An attack whose id starts with H<k> was a hole when it was written (the red team's report on
issue 9 names them H1, H2, ..., each with its fix and its tests in tests/test_allsizes_holes.py and
tests/test_verify_holes.py). Attacks "ok-..." were tried and resisted:
they stay as regression tests. Trap building blocks: e_k(X) written with traces (k! times the
k-th elementary symmetric function of the eigenvalues, zero for n < k), e_k of a vector's
entries written with power sums (zero for n < k).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine_support import elementary, run_inprocess


# ---------------------------------------------------------------- trap building blocks

def _poly(k: int, power_sum) -> str:
    terms = []
    for mono, c in sorted(elementary(k).items()):
        factors = [f"{power_sum(i + 1)}**{a}" if a > 1 else power_sum(i + 1) for i, a in enumerate(mono) if a]
        terms.append(f"({int(c)}) * " + " * ".join(factors))
    return "(" + " + ".join(terms) + ")"


def ek(k: int, m: str = "X") -> str:
    """k! e_k(M) with traces: 0 for every n < k, not 0 from n = k."""
    return _poly(k, lambda j: f"trace({' @ '.join([f'({m})'] * j)})")


def vek(k: int, v: str = "x") -> str:
    """k! e_k of the entries of a vector v with power sums: 0 for every n < k."""
    return _poly(k, lambda j: f"sum(({v})**{j})" if j > 1 else f"sum({v})")


# ---------------------------------------------------------------- the attacks

@dataclass(frozen=True)
class Attack:
    id: str
    verdict: str  # refuted | unproved | verified
    body: str  # the rule's fields after id, title and section
    why: str  # why the verdict is the right one (a counterexample at a size, or why the claim is true)
    at_least: dict[str, int] | None = None  # for "refuted" of a trap: the counterexample's sizes are at least these


E4B = ek(4, "B")

ATTACKS = [
    # ---- H1: an internal-name clash (a function named D1f is the model's key for f')
    Attack("H1-function-named-D1f", "refuted", """
layout: denominator
symbols: {x: [n]}
functions: {f: {args: [[]], to: []}, D1f: {args: [[]], to: []}}
of: sum(f(x))
wrt: x
expect: D1f(x)
""", "D1f is another function: f = sin, D1f = 0 gives cos(x) against 0 at n = 2"),
    Attack("H1-function-named-D1g-of-a-vector", "refuted", """
layout: numerator
symbols: {x: [n]}
functions: {g: {args: [[n]], to: [m]}, D1g: {args: [[n]], to: [m, n]}}
of: g(x)
wrt: x
expect: D1g(x)
""", "D1g is another function than the Jacobian of g"),
    Attack("H1-function-named-H11f", "refuted", """
layout: denominator
symbols: {x: []}
functions: {f: {args: [[]], to: []}, H11f: {args: [[]], to: []}}
of: D(f, x)
wrt: x
expect: H11f(x)
""", "H11f is another function than f''"),
    Attack("H1-function-named-D2f", "refuted", """
layout: denominator
symbols: {x: [n]}
functions: {f: {args: [[]], to: []}, D2f: {args: [[]], to: []}}
of: sum(D(f, x))
wrt: x
expect: D2f(x)
""", "D2f is another function than f''"),
    # ---- H2, H3, H4, H6: a trap that holds at n = 2, 3 (or at the author's sizes), with the all-sizes check outside
    Attack("H2-e4-plus-relu-of-a-matrix", "refuted", f"""
layout: denominator
symbols: {{X: [n, n]}}
of: {ek(4)} + sum(relu(X))
wrt: X
expect: step(X)
""", "d e4(X)/dX is not 0 at n = 4 (relu makes the step pattern too large to enumerate: outside)", {"n": 4}),
    Attack("H2-e4-of-abs-of-a-matrix", "unproved", f"""
layout: denominator
symbols: {{X: [n, n]}}
of: {ek(4, 'abs(X)')}
wrt: X
expect: zeros(n, n)
""", "d e4(|X|)/dX is not 0 at n = 4"),
    Attack("H3-e4-with-a-grid-too-large", "refuted", f"""
layout: denominator
symbols: {{X: [n, n], A: [m, p], B: [q, r]}}
of: {ek(4)} + (m * p * q * r)**3 * trace(X)
wrt: X
expect: (m * p * q * r)**3 * eye(n)
""", "d e4(X)/dX is not 0 at n = 4 (the grid has 512 size tuples: outside)", {"n": 4}),
    Attack("H4-vector-e5-outside-but-rational", "refuted", f"""
layout: denominator
symbols: {{x: [n]}}
of: {vek(5)} + sum(x / (x + n))
wrt: x
expect: n / (x + n)**2
""", "d e5(x)/dx is not 0 at n = 5; the exact listed check stops at n = 4", {"n": 5}),
    Attack("H6-m-equal-n-only-with-author-sizes", "refuted", """
layout: denominator
symbols: {A: [m, n], B: [p, q], C: [r, s]}
of: (p * q * r * s)**3 * m * sum(A)
wrt: A
expect: (p * q * r * s)**3 * n * ones(m, n)
sizes: [{m: 2, n: 2, p: 2, q: 3, r: 4, s: 5}, {m: 3, n: 3, p: 4, q: 2, r: 5, s: 3}]
""", "m = n only: at m = 2, n = 3 the derivative is 2 (pqrs)^3 and the claim 3 (pqrs)^3; sizes: must add, not replace"),
    # ---- H5: a symmetric (spd, diagonal) wrt: the derivative treats the entries as independent (README)
    Attack("H5-symmetric-wrt-true-claim", "verified", """
layout: denominator
symbols: {X: [n, n], A: [n, n]}
assume: {X: [symmetric]}
of: trace(A @ X.T)
wrt: X
expect: A
""", "d tr(A X^T)/dX = A with independent entries, then X symmetric (Cookbook 102; both witnesses agree)"),
    Attack("H5-symmetric-wrt-false-claim", "refuted", """
layout: denominator
symbols: {X: [n, n], A: [n, n]}
assume: {X: [symmetric]}
of: trace(A @ X.T)
wrt: X
expect: A.T
""", "the derivative is A, not A^T (n = 2: entry (1, 2) is A_12, the claim A_21)"),
    Attack("H5-spd-wrt-false-claim", "refuted", """
layout: denominator
symbols: {X: [n, n], A: [n, n]}
assume: {X: [spd]}
of: trace(A @ X.T)
wrt: X
expect: A.T
""", "the derivative is A, not A^T"),
    Attack("H5-diagonal-wrt-false-claim", "refuted", """
layout: denominator
symbols: {X: [n, n], A: [n, n]}
assume: {X: [diagonal]}
of: trace(A @ X.T)
wrt: X
expect: A.T
""", "the derivative is A, not A^T"),
    Attack("H5-symmetric-wrt-differential-false-claim", "refuted", """
kind: differential
symbols: {X: [n, n], A: [n, n]}
assume: {X: [symmetric]}
of: trace(A @ X.T)
wrt: X
expect: trace(A @ d(X))
""", "d tr(A X^T) = tr(A dX^T), and dX need not be symmetric"),
    Attack("H5-symmetric-wrt-exp-false-claim", "refuted", """
layout: denominator
symbols: {X: [n, n], A: [n, n]}
assume: {X: [symmetric]}
of: sum(A * exp(X.T))
wrt: X
expect: A * exp(X)
""", "d sum(A o exp(X^T))/dX = A^T o exp(X) (X symmetric): not A o exp(X)"),
    # ---- H7: an engine error times e4(B) (0 for n <= 3) passes the witnesses at n = 2, 3: a false "proved"
    Attack("H7-symmetric-wrt-times-e4", "refuted", f"""
layout: denominator
symbols: {{X: [n, n], A: [n, n], B: [n, n]}}
assume: {{X: [symmetric]}}
of: {E4B} * trace(A @ X.T) + trace(A @ X)
wrt: X
expect: {E4B} * A.T + A.T
""", "the derivative is e4(B) A + A^T: at n = 4 it differs from the claim wherever e4(B) != 0", {"n": 4}),
    Attack("H7-function-named-D1f-times-e4", "refuted", f"""
layout: denominator
symbols: {{x: [n], B: [n, n]}}
functions: {{f: {{args: [[]], to: []}}, D1f: {{args: [[]], to: []}}}}
of: sum(f(x))
wrt: x
expect: D(f, x) + {E4B} * (D1f(x) - D(f, x))
""", "at n = 4 the claim is f'(x) + e4(B) (D1f(x) - f'(x)), not f'(x)", {"n": 4}),
    # ---- H8: true claims with a denominator that is a polynomial in the sizes
    Attack("H8-size-denominator-named", "verified", """
layout: denominator
symbols: {x: [n]}
where:
  c: 1 / (n - 2)
of: c * sum(x**3)
wrt: x
expect: c * 3 * x**2
""", "true for every n >= 3 (at n = 2 both sides are undefined): d sum(x^3)/(n-2) = 3 x^2/(n-2)"),
    Attack("H8-size-denominator-written-twice", "verified", """
layout: denominator
symbols: {x: [n]}
of: sum(x**3) / ((n - 2) * (n - 3))
wrt: x
expect: 3 * x**2 / ((n - 2) * (n - 3))
""", "true for every n >= 4 (unbiased-kurtosis style denominators)"),
    # ---- attacks that resisted (regression tests): refuted where the trap fails
    Attack("ok-e4-through-a-where-name", "refuted", f"""
layout: denominator
symbols: {{X: [n, n]}}
where:
  Y: X @ X
of: {ek(4, 'Y')}
wrt: X
expect: zeros(n, n)
""", "e4(X^2) is not constant at n = 4", {"n": 4}),
    Attack("ok-e4-of-a-stacked-matrix-n-plus-1", "refuted", f"""
layout: denominator
symbols: {{A: [n, n], a: [n], b: [n], c: []}}
where:
  M: vstack(hstack(A, a), hstack(b.T, c))
of: {ek(4, 'M')}
wrt: A
expect: zeros(n, n)
""", "M is (n+1)x(n+1): e4(M) depends on A from n = 3", {"n": 3}),
    Attack("ok-e3-of-a-wrt-list", "refuted", f"""
layout: denominator
symbols: {{x: [n], b: []}}
where:
  w: vstack(x, b)
of: {vek(3, 'w')}
wrt: [x, b]
expect: 0 * vstack(x, b)
""", "w has n+1 entries: e3(w) is not constant at n = 2", {"n": 2}),
    Attack("ok-hessian-of-vector-e4", "refuted", f"""
layout: denominator
order: 2
symbols: {{x: [n]}}
of: {vek(4)}
wrt: x
expect: zeros(n, n)
""", "the Hessian of e4(x) is not 0 at n = 4", {"n": 4}),
    Attack("ok-second-differential-of-e4", "refuted", f"""
kind: differential
order: 2
symbols: {{X: [n, n]}}
of: {ek(4)}
wrt: X
expect: '0'
""", "the second differential of e4(X) is not 0 at n = 4", {"n": 4}),
    Attack("ok-e4-of-a-matrix-valued-function", "refuted", f"""
layout: denominator
symbols: {{s: []}}
functions: {{U: {{args: [[]], to: [n, n]}}}}
of: {ek(4, 'U(s)')}
wrt: s
expect: '0'
""", "d e4(U(s))/ds is not 0 at n = 4", {"n": 4}),
    Attack("ok-e4-of-an-elementwise-function", "refuted", f"""
layout: denominator
symbols: {{X: [n, n]}}
functions: {{f: {{args: [[]], to: []}}}}
of: {ek(4, 'f(X)')}
wrt: X
expect: zeros(n, n)
""", "d e4(f(X))/dX is not 0 at n = 4", {"n": 4}),
    Attack("ok-vector-e4-of-softmax", "refuted", f"""
layout: denominator
symbols: {{x: [n]}}
of: {vek(4, 'softmax(x)')}
wrt: x
expect: zeros(n)
""", "e4 of the softmax entries is not constant at n = 4", {"n": 4}),
    Attack("ok-e4-of-a-masked-exp", "refuted", f"""
layout: denominator
symbols: {{S: [n, n], M: [n, n]}}
of: {ek(4, 'exp(S) * M')}
wrt: S
expect: zeros(n, n)
""", "e4(exp(S) o M) depends on S from n = 4", {"n": 4}),
    Attack("ok-e4-of-a-probability-vector", "refuted", f"""
layout: denominator
symbols: {{p: [n], A: [n, n]}}
assume: {{p: [probability]}}
of: {vek(4, 'p')} * trace(A)
wrt: A
expect: zeros(n, n)
""", "e4(p) is not 0 at n = 4", {"n": 4}),
    Attack("ok-e4-of-a-rectangular-product-with-sizes-1", "refuted", f"""
layout: denominator
symbols: {{A: [m, n], B: [n, m]}}
of: {ek(4, 'A @ B')}
wrt: A
expect: zeros(m, n)
sizes: [{{m: 5, n: 1}}, {{m: 6, n: 1}}]
""", "A B has rank n: e4(A B) = 0 for n < 4 only", {"m": 4, "n": 4}),
    Attack("ok-e4-times-det", "refuted", f"""
layout: denominator
symbols: {{X: [n, n]}}
of: {ek(4)} * det(X)
wrt: X
expect: zeros(n, n)
""", "e4(X) det(X) is not constant at n = 4", {"n": 4}),
] + [
    Attack(f"ok-e4-with-X-{'-'.join(a.replace(',', '').split())}", "refuted", f"""
layout: denominator
symbols: {{X: [n, n], A: [n, n]}}
assume: {{X: [{a}]}}
of: {ek(4)} * trace(A)
wrt: A
expect: zeros(n, n)
""", "e4(X) is not 0 at n = 4 for such an X", {"n": 4})
    for a in ("symmetric", "spd", "diagonal", "positive", "nonzero", "symmetric, positive", "diagonal, positive",
              "spd, nonzero", "invertible")
]


def _rule(tmp_path: Path, attack: Attack):
    from generator.pipeline import load_and_parse

    path = tmp_path / "rt-attack.yaml"
    path.write_text("id: rt-attack\ntitle: Attack\nsection: traces\n" + textwrap.dedent(attack.body).strip() + "\n",
                    encoding="utf-8")
    report = load_and_parse([path], publish=False)
    assert not report.problems, [p.format() for p in report.problems]
    return report.rules[0]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_the_verdict_is_the_right_one(attack: Attack, tmp_path: Path) -> None:
    from generator.engine.verify import check_claim

    verdict = check_claim(_rule(tmp_path, attack).claim)
    said = f"{verdict.status} ({verdict.scope}): {verdict.statement[:300]}"
    if attack.verdict == "verified":
        assert verdict.status == "verified", f"a true claim is not verified: {said}. True because {attack.why}"
        return
    assert verdict.status != "verified", f"a false claim is verified: {said}. False because {attack.why}"
    if attack.verdict == "refuted":
        assert verdict.status == "refuted", f"not refuted: {said}. False because {attack.why}"
        if attack.at_least:
            # the counterexample is at a size where the trap fails (the statement names it as "n=4" or "n = 4")
            text = verdict.detail.replace(" = ", "=")
            for letter, size in attack.at_least.items():
                found = [int(t.split("=")[1].rstrip(",;:)]")) for t in text.split() if t.startswith(f"{letter}=")
                         and t.split("=")[1].rstrip(",;:)]").isdigit()]
                assert found and found[0] >= size, f"refuted at sizes where the trap holds: {verdict.detail[:300]}"


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.verdict != "verified"], ids=lambda a: a.id)
def test_the_engine_alone_never_proves_a_false_claim(attack: Attack, tmp_path: Path) -> None:
    """The one-line claims and the browser checker publish the engine's "proved" without witnesses."""
    from generator.engine.allsizes import decide

    decision = decide(_rule(tmp_path, attack).claim)
    assert decision.status != "proved", f"proved for every size, but false: {attack.why}"


# ---------------------------------------------------------------- the one-line claim path (README: mcref check --of ...)

CLAIMS = [
    # (id, arguments, right status, why)
    ("H1-claim-function-named-D1f", ["--of", "sum(f(x))", "--wrt", "x", "--expect", "D1f(x)", "--symbols", "x: [n]",
                                     "--functions", "f: [] -> []; D1f: [] -> []"], "refuted",
     "D1f is not the derivative of f"),
    ("H5-claim-symmetric-wrt-false", ["--of", "trace(A @ X.T)", "--wrt", "X", "--expect", "A.T", "--symbols",
                                      "X: [n, n]; A: [n, n]", "--assume", "X: symmetric", "--layout", "denominator"],
     "refuted", "the derivative is A (entries independent, evaluated at a symmetric X)"),
    ("H5-claim-symmetric-wrt-true", ["--of", "trace(A @ X.T)", "--wrt", "X", "--expect", "A", "--symbols",
                                     "X: [n, n]; A: [n, n]", "--assume", "X: symmetric", "--layout", "denominator"],
     "verified", "the derivative is A"),
    ("H2-claim-e4-plus-relu", ["--of", f"{ek(4)} + sum(relu(X))", "--wrt", "X", "--expect", "step(X)", "--symbols",
                               "X: [n, n]", "--layout", "denominator"], "refuted", "d e4(X)/dX is not 0 at n = 4"),
    ("H4-claim-vector-e5-outside", ["--of", f"{vek(5)} + sum(x / (x + n))", "--wrt", "x", "--expect",
                                    "n / (x + n)**2", "--symbols", "x: [n]", "--layout", "denominator"], "refuted",
     "d e5(x)/dx is not 0 at n = 5"),
    ("ok-claim-e4-is-zero", ["--of", ek(4), "--wrt", "X", "--expect", "zeros(n, n)", "--symbols", "X: [n, n]",
                             "--layout", "denominator"], "refuted", "d e4(X)/dX is not 0 at n = 4"),
]


@pytest.mark.parametrize("case", CLAIMS, ids=[c[0] for c in CLAIMS])
def test_one_line_claims(case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, args, right, why = case
    run = run_inprocess(["check", *args], tmp_path, monkeypatch, capsys)
    summary = next(line for line in run.lines if line.endswith("invalid"))
    got = {"verified": summary.startswith("1 verified"), "refuted": ", 1 refuted," in summary,
           "undecided": ", 1 undecided," in summary}
    if right == "verified":
        assert got["verified"], f"a true claim is not verified ({why}):\n{run.out}"
    else:
        assert not got["verified"], f"a false claim is verified ({why}):\n{run.out}"
        assert got["refuted"], f"a false claim is not refuted ({why}):\n{run.out}"
