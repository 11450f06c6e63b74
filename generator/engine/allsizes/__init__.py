"""Proved for every size: an exact, randomized check of a derivative claim at every size at once.

The all-sizes verifier of mcref (issue 9). Pure Python: the standard library, plus
generator.engine.parse and generator.engine.claims, so it runs in the browser under Pyodide.

How it works (site/verification-theory.md explains it for a student, with references):
the claim is compiled into a model (generator.engine.allsizes.model): det, inv, exp, log, sqrt,
generic functions ... become generic tensors that keep only their derivative rules, and
the derivative of `of` along a generic direction V is built by forward-mode
differentiation. A bound analysis (generator.engine.allsizes.bounds) finds a finite grid of size
tuples such that the identity holds at every size as soon as it holds on the grid. At each
grid size both sides are evaluated exactly, modulo the prime p = 2^61 - 1, at random
points (generator.engine.allsizes.evaluate): a false identity of degree d survives one random
point with probability at most d / p (Schwartz-Zippel), two seeds square it.

API (seam 8; stable, add-only):

    decide(claim, *, seed=0, prime=P61, seeds=2) -> Decision
        Decision.status is one of
          "proved"   the identity holds at every size (grid, bounds, primes, seeds,
                     error_bound say how it was checked);
          "refuted"  an exact counterexample: Decision.counterexample =
                     {"sizes": {...}, "layout": "numerator" | "denominator" | "differential",
                      "entry": [i, j] (1-based), "exact": True};
          "listed"   outside the theory, but checked exactly (randomized) at
                     Decision.checked_sizes; Decision.reason says why the theory does not reach;
          "nonzero"  the model differs at Decision.counterexample["sizes"], but the model drops
                     relations of the claim's functions (exp(a + b) = exp(a) exp(b), ...), so this is
                     not a counterexample: check the real functions there (the numeric check does);
          "outside"  the theory does not reach and nothing was checked (Decision.reason);
          "undefined" a denominator is exactly zero (Decision.reason names it; side "of" or "expect").
    test_candidate(claim, expect, layout=None, **kw) -> Decision
        decide() for the same claim with another `expect` (an Expr parsed in claim.scope), e.g. a
        repair (transposed, other layout, symmetrised, factor 2, sign, swapped factors).
    true_derivative(claim, sizes, values=None, seed=0) -> list[list[Fraction]]
        the true derivative of claim.of by claim.wrt in claim.layout (the differential along
        values["d(<wrt>)"] for kind: differential), at concrete sizes, in exact rationals, at the
        point `values` (symbol name -> matrix of numbers; missing symbols get small random integers).
        Raises Outside for claims that are not rational (exp, log, relu, generic functions ...).
    claimed_value(claim, sizes, values=None, seed=0) -> list[list[Fraction]]
        the value of claim.expect at the same point (same conventions).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Optional

from generator.engine.claims import Claim
from generator.engine.parse import Expr, derivative_shape, dim_value, is_scalar, is_vector, show_shape
from generator.engine.allsizes.bounds import Bounds, OutsideBounds, index_bounds, size_bounds
from generator.engine.allsizes.evaluate import P61, P62, PRIMES, Evaluator, ModP, NotSquare, Rationals, ZeroDenominator
from generator.engine.allsizes.ir import Node, walk
from generator.engine.allsizes.model import LOSSY, TRANSCENDENTAL, Outside, Program, compile_claim

__all__ = ["Decision", "Outside", "P61", "P62", "claimed_value", "decide", "size_only_zero", "test_candidate", "true_derivative"]

MAX_GRID = 4000  # size tuples of a proof grid (checked within TIME_BUDGET)
LISTED_GRID = 400  # size tuples of a grid checked at listed sizes (outside the theory)
MAX_ENTRIES = 4096  # entries of the largest matrix at the largest grid size
PATTERN_KINDS = ("idem", "idemsym", "sign", "signsym")  # leaves with finitely many values per entry, enumerated
MAX_STEP_ENTRIES = 12  # 0/1 entries of relu steps enumerated at one size (2^12 evaluations)
RANDOM_PATTERNS = 64  # random 0/1 (-1/+1) patterns tried at a size with more entries than that (evidence, not a proof)
PROBE_TUPLES = 12  # size tuples of a lenient grid checked where the theory does not reach
MAX_LISTED_ENTRIES = 1024  # entries of the largest matrix at a size checked outside the theory
POINTS_FOR_ZERO = 4  # points tried before a denominator is called exactly zero
TIME_BUDGET = 30.0  # seconds for one decision


@dataclass
class Decision:
    status: str
    reason: str = ""
    grid: list[dict[str, int]] = field(default_factory=list)
    bounds: dict[str, Any] = field(default_factory=dict)
    primes: list[int] = field(default_factory=list)
    seeds: int = 0
    error_bound: float = 0.0
    degree: int = 0
    counterexample: Optional[dict[str, Any]] = None
    checked_sizes: list[dict[str, int]] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # sizes where a check at listed sizes must also look, because the bound (or a lenient count where the theory does
    # not reach) says a trap of the claim's shape would show there first: the smallest tuple of the grid, the sizes
    # where a model that drops relations differed. For a proved claim: the smallest grid tuple (a witness there
    # would catch an error of the engine itself).
    probe_sizes: list[dict[str, int]] = field(default_factory=list)
    # divisors made of sizes alone (n - 2): the claim says nothing at the sizes where one is 0, and a proof is for every
    # other size (its grid avoids them); the statement says so
    excluded: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


# ---------------------------------------------------------------- checking one size

@dataclass
class PointResult:
    equal: bool
    layout: str = ""


def _step_leaves(program: Program, sizes: dict[str, int]) -> list[tuple[Node, list[tuple[int, int]]]]:
    """The leaves of finitely many values per entry (relu steps 0/1, signs -1/+1) and their free entries."""
    out = []
    for n in walk(program.roots()):
        if n.op == "leaf" and n.attr.kind in PATTERN_KINDS:
            r, c = dim_value(n.shape[0], sizes), dim_value(n.shape[1], sizes)
            cells = [(i, j) for i in range(r) for j in range(c) if n.attr.kind in ("idem", "sign") or i <= j]
            out.append((n, cells))
    return out


def _compare(program: Program, ev: Evaluator) -> PointResult:
    d = ev.value(program.derivative)
    for layout, node in program.claimed.items():
        if ev.value(node) != d:
            return PointResult(False, layout)
    return PointResult(True)


def _sqrt_nodes(program: Program) -> list[Node]:
    return [n for n in walk(program.roots()) if n.op == "sqrt"]


MAX_POINTS = 64  # points tried to find one where every square root exists (half of the values are squares)


def _check_size(program: Program, sizes: dict[str, int], field_: ModP, seed: int) -> PointResult:
    """Does the identity hold at this size (one random point; both square roots of each sqrt; every 0/1 pattern of
    relu steps and -1/+1 pattern of signs)?"""
    last: Optional[ZeroDenominator] = None
    zeros = 0
    roots = _sqrt_nodes(program)
    patterned = any(n.attr.kind in PATTERN_KINDS for n in walk(program.roots()) if n.op == "leaf")
    for point in range(MAX_POINTS):
        try:
            for mask in range(1 << len(roots)):
                signs = {n.id: (-1 if (mask >> i) & 1 else 1) for i, n in enumerate(roots)}
                result = _compare(program, Evaluator(field_, sizes, seed, point, roots=signs))
                if not result.equal and patterned:
                    result = _check_patterns(program, sizes, field_, seed, point, signs)
                if not result.equal:
                    return result
            return PointResult(True)
        except NotSquare:
            continue
        except ZeroDenominator as err:
            last = err
            zeros += 1
            if zeros >= POINTS_FOR_ZERO:
                raise
    if last is not None:
        raise last
    raise NotSquare()


def _check_patterns(program: Program, sizes: dict[str, int], field_: ModP, seed: int, point: int,
                    signs: Optional[dict[int, int]] = None) -> PointResult:
    """Every 0/1 value of the step entries (H^2 = H) and every -1/+1 value of the sign entries (S^2 = 1):
    the identity must hold on each pattern."""
    steps = _step_leaves(program, sizes)
    cells = [(n, cell) for n, cs in steps for cell in cs]
    if len(cells) > MAX_STEP_ENTRIES:
        masks: Any = _random_masks(len(cells), f"{seed}|{point}|{sorted(sizes.items())}")
    else:
        masks = range(1 << len(cells))
    for mask in masks:
        values: dict[int, list[list[int]]] = {}
        for bit, (n, (i, j)) in enumerate(cells):
            r, c = dim_value(n.shape[0], sizes), dim_value(n.shape[1], sizes)
            m = values.setdefault(n.id, [[0] * c for _ in range(r)])
            bit_value = (mask >> bit) & 1
            m[i][j] = 2 * bit_value - 1 if n.attr.kind in ("sign", "signsym") else bit_value
            if n.attr.kind in ("idemsym", "signsym"):
                m[j][i] = m[i][j]

        def override(node: Node, shape: tuple[int, int], values: dict = values) -> Optional[list[list[int]]]:
            return values.get(node.id)

        result = _compare(program, Evaluator(field_, sizes, seed, point, override, roots=signs))
        if not result.equal:
            return result
    if len(cells) > MAX_STEP_ENTRIES:  # every sampled pattern agrees, but not every pattern was tried
        raise _TooMany(len(cells))
    return PointResult(True)


def _random_masks(bits: int, key: str) -> list[int]:
    """All zeros, all ones, and RANDOM_PATTERNS random masks of `bits` bits (reproducible from key)."""
    import random

    rng = random.Random(key)
    return [0, (1 << bits) - 1] + [rng.getrandbits(bits) for _ in range(RANDOM_PATTERNS)]


class _TooMany(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


# ---------------------------------------------------------------- locating a differing entry

def _entries(program: Program, sizes: dict[str, int], field_: Any, seed: int, point: int,
             override: Any = None) -> tuple[dict[str, list[list[Any]]], list[list[Any]]]:
    """The claimed matrices per layout and the true derivative in numerator layout, at one point."""
    claim = program.claim
    base = Evaluator(field_, sizes, seed, point, override)
    if claim.kind == "differential":
        return {"differential": base.value(program.claimed["differential"])}, base.value(program.derivative)
    wrt = program.direction
    second = program.second
    r, c = base.shape(wrt)

    def along(i: int, j: int, k: int = 0) -> Any:
        """The derivative with the direction(s) set to basis matrices: V = E_ij (and W = E_k0)."""
        def basis(node: Node, shape: tuple[int, int]) -> Any:
            if node.id == wrt.id or (second is not None and node.id == second.id):
                a0, b0 = (i, j) if node.id == wrt.id else (k, 0)
                return [[field_.norm(1 if (a, b) == (a0, b0) else 0) for b in range(c)] for a in range(r)]
            return override(node, shape) if override else None
        return Evaluator(field_, sizes, seed, point, basis).value(program.derivative)

    of_shape = claim.of.shape
    wrt_shape = claim.scope.symbols[claim.wrt]
    of_r, of_c = base.shape(program.of_value)
    if second is not None:  # order 2: the matrix of second derivatives, or the Hessian
        if is_scalar(wrt_shape):
            num = along(0, 0, 0)
        else:
            num = [[along(i, 0, k)[0][0] for k in range(r)] for i in range(r)]
    else:
        partials = {(i, j): along(i, j) for i in range(r) for j in range(c)}
        if is_scalar(wrt_shape):
            num = [[partials[(0, 0)][a][b] for b in range(of_c)] for a in range(of_r)]
        elif is_scalar(of_shape):
            num = [[partials[(i, 0)][0][0] for i in range(r)]] if is_vector(wrt_shape) else \
                  [[partials[(i, j)][0][0] for i in range(r)] for j in range(c)]
        else:
            num = [[partials[(i, 0)][a][0] for i in range(r)] for a in range(of_r)]
    claimed = {layout: base.value(node) for layout, node in program.expect_values.items()}
    return claimed, num


def _locate(program: Program, sizes: dict[str, int], field_: Any, seed: int) -> Optional[dict[str, Any]]:
    """Layout and 1-based entry where the claim differs from the derivative, or None."""
    for point in range(POINTS_FOR_ZERO):
        try:
            claimed, num = _entries(program, sizes, field_, seed, point)
        except (ZeroDenominator, NotSquare):
            continue
        if program.claim.kind == "differential":
            got = claimed["differential"]
            # the differential is compared along V: num holds D_V of for the random V of this point
            for a, (row_t, row_c) in enumerate(zip(num, got)):
                for b, (x, y) in enumerate(zip(row_t, row_c)):
                    if x != y:
                        return {"sizes": dict(sizes), "layout": "differential", "entry": [a + 1, b + 1]}
            continue
        for layout in (program.claim.layout, program.claim.other_layout):
            truth = num if layout == "numerator" else [list(col) for col in zip(*num)]
            got = claimed[layout]
            for a, (row_t, row_c) in enumerate(zip(truth, got)):
                for b, (x, y) in enumerate(zip(row_t, row_c)):
                    if x != y:
                        return {"sizes": dict(sizes), "layout": layout, "entry": [a + 1, b + 1]}
    return None


# ---------------------------------------------------------------- the decision

_FAMILY_NAMES = {  # family -> (its name in a sentence, a relation the model does not know)
    "det": ("det and inv", "det(A B) = det(A) det(B) for factors that are not square"),
    "inv": ("det and inv", "inv(X) X = I"),
    "fn": ("the generic functions", "values at arguments written differently"),
    "exp": ("exp", "exp(a + b) = exp(a) exp(b)"),
    "log": ("log", "log(a b) = log(a) + log(b)"),
    "sqrt": ("sqrt", "sqrt(u)^2 = u"),
    "step": ("the relu step", "its sign pattern"),
    "sign": ("abs and sign", "the sign pattern of their argument"),
    "opaque": ("what the model cannot compile", "anything about it"),
    "pow": ("the power", "u^a u^b = u^(a + b)"),
    "sin": ("sin and cos", "sin^2 + cos^2 = 1"),
    "cos": ("sin and cos", "sin^2 + cos^2 = 1"),
    "tanh": ("tanh", "relations beyond tanh' = 1 - tanh^2"),
    "sigmoid": ("the sigmoid", "relations beyond its derivative"),
    "softplus": ("softplus", "relations beyond its derivative"),
}


def lossy_reason(families: set[str]) -> str:
    """Why a model with these leaves may differ where the real functions agree, in plain words."""
    names: list[str] = []
    needs: list[str] = []
    for f in sorted(families & LOSSY, key=lambda f: (f == "fn", f)):
        name, need = _FAMILY_NAMES.get(f, (f, ""))
        if name not in names:
            names.append(name)
            needs.append(need)
    if not names:
        return "the all-sizes model differs from the rule"
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"the all-sizes model keeps only the derivative rules of {listed}, and this rule needs more (such as {needs[0]})"


def _max_sizes(grid: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in grid:
        for k, v in s.items():
            out[k] = max(out.get(k, 0), v)
    return out


def _largest_entries(program: Program, sizes: dict[str, int]) -> int:
    def dim(d: Any) -> int:
        return dim_value(d, sizes)
    return max((dim(n.shape[0]) * dim(n.shape[1]) for n in walk(program.roots())), default=1)


def decide(claim: Claim, *, seed: int = 0, prime: int = P61, seeds: int = 2) -> Decision:
    """Decide a claim for every size: proved, refuted, listed, nonzero, outside or undefined (see the module docstring)."""
    start = time.perf_counter()
    decision = _decide(claim, seed, prime, seeds, start)
    decision.seconds = time.perf_counter() - start
    return decision


EXP_FORM_FAMILIES = frozenset({"tanh", "sigmoid", "softplus"})


def _decide(claim: Claim, seed: int, prime: int, seeds: int, start: float) -> Decision:
    wrong_shape = _shape_problem(claim)
    if wrong_shape:
        return Decision("refuted", wrong_shape)
    first = _decide_model(claim, seed, prime, seeds, start, exp_forms=False)
    if first.status in ("nonzero", "listed", "outside") and EXP_FORM_FAMILIES & set(first.families):
        # a second attempt with tanh, sigmoid and softplus written with exp: it knows how they relate to exp
        second = _decide_model(claim, seed, prime, seeds, start, exp_forms=True)
        if second.status in ("proved", "refuted"):
            return second
    return first


def _decide_model(claim: Claim, seed: int, prime: int, seeds: int, start: float, exp_forms: bool) -> Decision:
    try:
        program = compile_claim(claim, "model", exp_forms=exp_forms)
    except Outside as err:
        return Decision("outside", str(err), probe_sizes=_probe_outside_model(claim))
    except ZeroDivisionError as err:
        return Decision("undefined", f"{err}")
    families = sorted(program.families)
    letters = claim.scope.dims
    try:
        bounds = index_bounds(program.roots(), letters)
    except OutsideBounds as err:
        # not a proof; but a trap of the claim's shape (e_5 beside the division) shows on the grid of a lenient count:
        # the exact check at listed sizes runs over that grid (all of it, or the verdict is not "listed"), and the
        # witnesses look at its corners too (Decision.probe_sizes)
        try:
            lenient: Optional[Bounds] = index_bounds(program.roots(), letters, lenient=True)
        except (OutsideBounds, ZeroDivisionError):
            lenient = None
        if lenient is None:
            return _listed_or_outside(claim, str(err), program, [], False, seed, prime, families, start=start)
        whole = 2 * lenient.count() <= LISTED_GRID
        look = _unique_sizes(lenient.first(LISTED_GRID) + lenient.tied().first(LISTED_GRID)) if whole else \
            _unique_sizes(lenient.first(PROBE_TUPLES) + _corners(lenient))
        return _listed_or_outside(claim, str(err), program, look, whole, seed, prime, families, probes=_corners(lenient),
                                  start=start)
    except ZeroDivisionError as err:
        return Decision("undefined", f"{err}", families=families)
    excluded = _size_only_denominators(program)
    texts: list[str] = []
    if excluded:
        nodes = _nodes_avoiding(bounds, excluded)
        texts = _excluded_texts(program, excluded)
        if nodes is None:
            return Decision("undefined", f"{_side(program, excluded[0][0])} divides by {texts[0]}, which is 0 at every size tried",
                            families=families)
        bounds = bounds.with_nodes(nodes)
    probes = _corners(bounds)
    base = probes[0]
    kink = _kink_everywhere(program, base, seed)
    if kink:
        return Decision("undefined", kink, grid=[base], bounds=bounds.to_json(), families=families)
    count = bounds.count()
    top = _max_sizes(probes)
    if count > MAX_GRID or _largest_entries(program, top) > MAX_ENTRIES:
        # too many sizes to settle every size: not a proof; check the smallest ones and the corners, in the model
        reason = f"the sizes the bound requires are too many or too large to check ({count} size tuples up to {_show_sizes(top)})"
        look = _unique_sizes(bounds.first(min(count, LISTED_GRID)) + probes)
        return _listed_or_outside(claim, reason, program, look, False, seed, prime, families, probes=probes,
                                  model_first=True, start=start)
    grid = bounds.first(count)
    sb = size_bounds(program.roots(), top)
    primes = _primes_for(program, top, prime, sb)
    if primes is None:
        return _listed_or_outside(claim, f"the integer coefficients may reach 2^{sb.h:.0f}, beyond what {len(PRIMES)} primes "
                                  "settle", program, grid[:PROBE_TUPLES] + probes, False, seed, prime, families, probes=probes,
                                  start=start)
    # a point is used only if every square root exists there (about half of the values are squares): that
    # conditioning at most doubles the chance of a miss per square root
    # with relu or abs patterns a false claim may slip through the generic evaluation or, after it, the patterns: twice
    patterned = any(n.op == "leaf" and n.attr.kind in PATTERN_KINDS for n in walk(program.roots()))
    error_bound = max(((2 if patterned else 1) * 2 ** len(_sqrt_nodes(program)) * max(sb.d, 1) / p) ** seeds for p in primes)
    checked: list[dict[str, int]] = []
    for sizes in grid:
        if time.perf_counter() - start > TIME_BUDGET:
            reason = f"the check ran past its time budget of {TIME_BUDGET:g} s after {len(checked)} of {len(grid)} sizes"
            return Decision("outside", reason, grid=grid, bounds=bounds.to_json(), families=families, checked_sizes=checked,
                            probe_sizes=probes)
        outcome = _check_at(program, sizes, primes, seed, seeds)
        if isinstance(outcome, _Differs):
            return _differs(claim, program, sizes, outcome.seed, outcome.prime, grid, bounds, families, start)
        if isinstance(outcome, ZeroDenominator):
            return _undefined(program, outcome, sizes, families)
        if isinstance(outcome, NotSquare):
            return Decision("outside", f"no point with every square root found at {_show_sizes(sizes)}",
                            grid=grid, bounds=bounds.to_json(), families=families, probe_sizes=probes)
        if isinstance(outcome, _TooMany):
            reason = (f"relu steps with {outcome.count} entries at {_show_sizes(sizes)} are too many to enumerate "
                      f"({RANDOM_PATTERNS} random patterns agree)")
            return _listed_or_outside(claim, reason, program, grid[:PROBE_TUPLES], False, seed, prime, families,
                                      probes=_unique_sizes([dict(sizes)] + probes), start=start)
        checked.append(dict(sizes))
    return Decision("proved", grid=grid, bounds=bounds.to_json(), primes=primes, seeds=seeds, error_bound=error_bound,
                    degree=sb.d, checked_sizes=checked, families=families, probe_sizes=probes[:1], excluded=texts)


def size_only_zero(claim: Claim, sizes: dict[str, int]) -> str:
    """The text of a divisor of the claim made of sizes alone (n - 2) that is 0 at these sizes, or "": the claim says
    nothing there, so no check (and no witness) runs at such sizes. Works on the parsed expressions (pure)."""
    from generator.engine.allsizes.text import to_text

    def value(e: Expr) -> Optional[Fraction]:
        if e.op == "const":
            return Fraction(e.value)
        if e.op == "dim":
            return Fraction(dim_value(e.name, sizes))
        if e.op == "neg":
            v = value(e.args[0])
            return None if v is None else -v
        if e.op in ("add", "sub", "mul", "div") and len(e.args) == 2:
            a, b = value(e.args[0]), value(e.args[1])
            if a is None or b is None or (e.op == "div" and b == 0):
                return None
            return {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b if b else None}[e.op]
        if e.op == "pow":
            a, k = value(e.args[0]), value(e.args[1])
            if a is None or k is None or k.denominator != 1 or (a == 0 and k < 0):
                return None
            return a ** int(k)
        return None

    def divisors(e: Expr) -> list[Expr]:
        out = [x for a in e.args for x in divisors(a)]
        if e.op == "div":
            out.append(e.args[1])
        if e.op == "pow" and value(e.args[1]) is not None and value(e.args[1]) < 0:
            out.append(e.args[0])
        return out

    for root in (claim.of, claim.expect):
        for d in divisors(root):
            if _mentions_dim(d) and value(d) == 0:
                return to_text(d)
    return ""


def _mentions_dim(e: Expr) -> bool:
    return e.op == "dim" or any(_mentions_dim(a) for a in e.args)


def _size_only_denominators(program: Program) -> list[tuple[Node, Node]]:
    """(division node, divisor factor) for every factor of a divisor made of sizes and constants alone (1 / (n - 2)):
    the claim says nothing at the sizes where it vanishes, and the grid must avoid them."""
    from generator.engine.allsizes.bounds import multiplicative_factors

    out = []
    for n in walk(program.roots()):
        if n.op != "div":
            continue
        for factor, power in multiplicative_factors(n.args[1]):
            if power > 0 and any(x.op == "dim" for x in walk([factor])) and \
                    not any(x.op in ("leaf", "vleaf") for x in walk([factor])):
                out.append((n, factor))
    return out


def _zero_at(excluded: list[tuple[Node, Node]], sizes: dict[str, int]) -> bool:
    for _, factor in excluded:
        try:
            if Evaluator(Rationals(), sizes, 0).value(factor)[0][0] == 0:
                return True
        except ZeroDenominator:
            return True
    return False


def _nodes_avoiding(bounds: Bounds, excluded: list[tuple[Node, Node]]) -> Optional[dict[str, tuple[int, ...]]]:
    """Sizes per letter (>= the base, distinct) such that no tuple of the grid makes a size-only denominator 0: the
    consecutive sizes first, then spread and shifted ones (a factor such as m - n vanishes on a diagonal only)."""
    import random

    base, deg = bounds.base(), bounds.degrees()
    letters = bounds.letters
    rng = random.Random(0)
    top = max(base.values(), default=2)
    for attempt in range(60):
        if attempt < 6:  # consecutive sizes from the base, shifted past a zero such as n = 2
            nodes = {t: tuple(base[t] + attempt + k for k in range(deg[t] + 1)) for t in letters}
        elif attempt < 12:  # one residue class per letter, from a common start: m and n never equal (m - n)
            step = len(letters)
            nodes = {t: tuple(top + attempt - 6 + i + step * k for k in range(deg[t] + 1)) for i, t in enumerate(letters)}
        else:
            width = 2 * (attempt // 10 + 1)
            nodes = {t: tuple(sorted(rng.sample(range(base[t], base[t] + width * (deg[t] + 1) + attempt), deg[t] + 1)))
                     for t in letters}
        candidate = bounds.with_nodes(nodes)
        if candidate.count() > MAX_GRID:
            return nodes  # too many to test here: the check at listed sizes skips a size where it is 0
        if not any(_zero_at(excluded, sizes) for sizes in candidate.first(candidate.count())):
            return nodes
    return None


def _excluded_texts(program: Program, excluded: list[tuple[Node, Node]]) -> list[str]:
    """The rule-language texts of the size-only divisors, as the claim writes them (n - 2)."""
    out: list[str] = []
    for div, _ in excluded:
        text = program.graph.origin.get(div.id)
        if text and text not in out:
            out.append(text)
    return out or ["an expression of the sizes"]


def _side(program: Program, node: Node) -> str:
    return "of" if _reaches(program.derivative, node) and not any(_reaches(n, node) for n in program.claimed.values()) else "expect"


def _corners(bounds: Bounds) -> list[dict[str, int]]:
    """Where a trap of the claim's shape shows first or last: the grid's smallest tuple, its largest (every letter at its
    largest size), and each letter alone at its largest (the others smallest). A polynomial in the sizes that vanishes
    on the rest of the grid need not vanish there."""
    deg = bounds.degrees()
    base = {t: bounds.node(t, 0) for t in bounds.letters}
    top = {t: bounds.node(t, min(deg[t], bounds.D)) for t in bounds.letters}
    out = [dict(base), dict(top)] + [{**base, t: top[t]} for t in bounds.letters]
    # the corners of the same grid with every letter tied at the largest base: the letters in every order, inside a
    # domain that needs m <= n or m >= n (an invertible X X^T needs m <= n) where the grid's own tuples may all lie
    tied = bounds.tied()
    if tied.base() != base:
        out += _corners(tied)
    out.append({t: max(top.values(), default=2) for t in bounds.letters})  # every letter tied at the largest size
    return _unique_sizes(out)


@dataclass
class _Differs:
    seed: int
    prime: int


def _check_at(program: Program, sizes: dict[str, int], primes: list[int], seed: int, seeds: int) -> Any:
    """One size: None if the identity holds (every prime, every seed), else _Differs or the exception met."""
    for p in primes:
        field_ = ModP(p)
        for s in range(seeds):
            try:
                result = _check_size(program, sizes, field_, seed + s)
            except (ZeroDenominator, NotSquare, _TooMany) as err:
                return err
            if not result.equal:
                return _Differs(seed + s, p)
    return None


def _primes_for(program: Program, sizes: dict[str, int], prime: int, sb: Any = None) -> Optional[list[int]]:
    """The primes whose product exceeds twice the height of the integer coefficients at these sizes (None: too many)."""
    sb = sb or size_bounds(program.roots(), sizes)
    primes = [prime] + [p for p in PRIMES if p != prime]
    needed = 1
    while sum(math.log2(p) for p in primes[:needed]) - 1 <= sb.h:
        needed += 1
        if needed > len(primes):
            return None
    return primes[:needed]


def _probe_outside_model(claim: Claim) -> list[dict[str, int]]:
    """Where to look for a claim the model cannot compile: the lenient count of a model with the parts it cannot
    compile replaced by opaque leaves (see model.compile_claim(..., opaque=True))."""
    try:
        program = compile_claim(claim, "model", opaque=True)
        return _corners(index_bounds(program.roots(), claim.scope.dims, lenient=True))
    except Exception:  # noqa: BLE001 - a probe is evidence only; a failure leaves the listed sizes
        return []


def _shape_problem(claim: Claim) -> str:
    """A claim whose shape is not the derivative's is wrong at every size: say so (its counterexample is None)."""
    wrt_shape = claim.scope.symbols[claim.wrt]
    if claim.kind == "differential":
        want, what = claim.of.shape, "the differential"
    elif getattr(claim, "order", 1) == 2 and not is_scalar(wrt_shape):
        if not (is_scalar(claim.of.shape) and is_vector(wrt_shape)):
            return "a second derivative must be a Hessian (a scalar by a vector) or by a scalar"
        want, what = (wrt_shape[0], wrt_shape[0]), "the Hessian"
    else:
        try:
            want = derivative_shape(claim.of.shape, wrt_shape, claim.layout)
        except ValueError as err:
            return f"the derivative cannot be written as a matrix: {err}"
        what = f"the derivative in {claim.layout} layout"
    if claim.expect.shape != want:
        return f"{what} is {show_shape(want)} but the claim is {show_shape(claim.expect.shape)}"
    return ""


_FUNCTION_OF = {"sqrt": "sqrt", "log": "log", "step": "relu (or step)", "sign": "abs (or sign)"}


def _kink_everywhere(program: Program, sizes: dict[str, int], seed: int) -> str:
    """A reason if the assumptions put an argument of sqrt, log, relu or abs at 0 at every point (no derivative there)."""
    used = {n.id for n in walk([program.derivative])}
    for family, arg, leaf, text in program.domain:
        if leaf.id not in used:
            continue
        zero_everywhere: Optional[set[tuple[int, int]]] = None
        for point in range(2):
            try:
                value = Evaluator(ModP(P61), sizes, seed, 100 + point).value(arg)
            except (ZeroDenominator, NotSquare):
                return ""
            zeros = {(i, j) for i, row in enumerate(value) for j, x in enumerate(row) if x == 0}
            zero_everywhere = zeros if zero_everywhere is None else zero_everywhere & zeros
        if zero_everywhere and family in ("step", "sign") and program.differentiate and program.wrt_value is not None:
            # |u| and relu(u) are differentiable where u and its derivative are both 0 (|u| = O(h^2) there): an entry that
            # is 0 as a function of wrt (the diagonal of X - X^T) is no kink; one that the assumptions put at 0 while
            # the generic direction moves it (X - X^T for a symmetric X) is
            du = program.differentiate(arg, {program.wrt_value.id: program.direction})
            if du is None:
                continue
            for point in range(2):
                try:
                    moving = Evaluator(ModP(P61), sizes, seed, 100 + point).value(du)
                except (ZeroDenominator, NotSquare):
                    return ""
                zero_everywhere = {(i, j) for i, j in zero_everywhere if moving[i][j] != 0}
        if zero_everywhere:
            i, j = min(zero_everywhere)
            where = f"entry ({i + 1}, {j + 1}) of {text}" if leaf.shape != (1, 1) else text
            return (f"of has no derivative at any point the assumptions allow: {where} is 0 there, where "
                    f"{_FUNCTION_OF[family]} has no derivative (at {_show_sizes(sizes)})")
    return ""


def _show_sizes(sizes: dict[str, int]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "scalars"


def _undefined(program: Program, err: ZeroDenominator, sizes: dict[str, int], families: list[str]) -> Decision:
    text = program.graph.origin.get(err.node.id, "an expression")
    side = "of" if _reaches(program.derivative, err.node) and not any(_reaches(n, err.node) for n in program.claimed.values()) else "expect"
    return Decision("undefined", f"{side} divides by {text}, which is exactly 0 at {_show_sizes(sizes)} (at every point tried)",
                    counterexample={"sizes": dict(sizes), "side": side}, families=families)


def _reaches(root: Node, target: Node) -> bool:
    return any(n.id == target.id for n in walk([root]))


def _differs(claim: Claim, program: Program, sizes: dict[str, int], seed: int, prime: int,
             grid: list[dict[str, int]], bounds: Bounds, families: list[str], start: Optional[float] = None) -> Decision:
    """The model differs at `sizes`: a counterexample if nothing was lost, else look closer."""
    field_ = ModP(prime)
    if not program.lossy or _a_real_difference(program, sizes, field_, seed):
        smaller = _smallest_differing(program, sizes, field_, seed)
        if not program.lossy or _a_real_difference(program, smaller, field_, seed):
            sizes = smaller
        where = _locate(program, sizes, field_, seed) or {"sizes": dict(sizes), "layout": "", "entry": None}
        where["exact"] = True
        return Decision("refuted", "", grid=grid, bounds=bounds.to_json(), primes=[prime], counterexample=where, families=families)
    # the exact check at listed sizes runs over the grid and over the same grid with every letter tied at the largest
    # base (the real claim may be defined only where m >= n, say, which the grid may miss)
    whole = 2 * len(grid) <= LISTED_GRID
    look = _unique_sizes(grid + bounds.tied().first(len(grid))) if whole else grid[:PROBE_TUPLES]
    return _listed_or_outside(claim, lossy_reason(set(families)), program, look, whole, seed, prime, families,
                              first=sizes, probes=_unique_sizes([dict(sizes)] + _corners(bounds)), start=start)


def _differences(program: Program, ev: Evaluator) -> list[list[list[Any]]]:
    d = ev.value(program.derivative)
    return [[[ev.F.norm(x - y) for x, y in zip(rd, rc)] for rd, rc in zip(d, ev.value(node))] for node in program.claimed.values()]


def _a_real_difference(program: Program, sizes: dict[str, int], field_: ModP, seed: int) -> bool:
    """Is a difference of a model that drops relations a difference of the real functions too? Two sound cases.

    1. The difference does not depend on the leaves whose relations are dropped (exp, log, det, relu steps, generic
       functions ...) nor on the choice of square roots: re-drawn, it stays the same nonzero value, so it is a nonzero
       function of the symbols alone (a small rational trap beside exp(x) is one).
    2. exp is the only function kept generic (no mask), its arguments are rational functions of the symbols, and their
       entries are Q-linearly independent modulo constants (the evaluation differences at random points have full
       rank modulo p; an integer relation would survive modulo p). Then the values exp(u_1), ..., exp(u_k) are
       algebraically independent over the rational functions (Kolchin-Ostrowski: exponentials are dependent only if a
       product of integer powers is a rational function, exp(sum c_j u_j) = r, so sum c_j u_j' = r'/r, whose residues
       vanish, so r and sum c_j u_j are constant), and a polynomial in them that is not zero as a polynomial is not
       zero as a function.
    Either way a difference at a random point is a counterexample at these sizes (with the error of the check)."""
    for point in range(MAX_POINTS):  # a point where every square root exists (about half of the values are squares)
        try:
            Evaluator(field_, sizes, seed, point).value(program.derivative)
            break
        except NotSquare:
            continue
        except ZeroDenominator:
            return False
    else:
        return False
    try:
        base = _differences(program, Evaluator(field_, sizes, seed, point))
        if all(x == 0 for m in base for row in m for x in row):
            return False
        lossy_leaves = {n.id for n in walk(program.roots()) if n.op == "leaf" and n.attr.family in LOSSY | {"opaque"}}
        roots = _sqrt_nodes(program)
        independent = True
        for salt in (1, 2):
            def redraw(node: Node, shape: tuple[int, int], salt: int = salt) -> Optional[list[list[int]]]:
                if node.id not in lossy_leaves:
                    return None
                import random

                rng = random.Random(f"redraw|{salt}|{seed}|{node.attr.key}|{sorted(sizes.items())}")
                r, c = shape
                m = [[field_.random(rng) for _ in range(c)] for _ in range(r)]
                if node.attr.kind in ("sym", "idemsym", "signsym", "symval"):
                    m = [[m[min(i, j)][max(i, j)] for j in range(c)] for i in range(r)]
                elif node.attr.kind == "diagval":
                    m = [[m[i][j] if i == j else 0 for j in range(c)] for i in range(r)]
                return m
            signs = {n.id: (-1 if (salt + i) % 2 else 1) for i, n in enumerate(roots)}
            if _differences(program, Evaluator(field_, sizes, seed, point, redraw, roots=signs)) != base:
                independent = False
                break
        if independent:
            return True
    except (ZeroDenominator, NotSquare):
        return False
    return _exp_is_exact(program, sizes, field_, seed)


MAX_EXP_ENTRIES = 160  # entries of exp arguments tested for independence at one size


def _exp_is_exact(program: Program, sizes: dict[str, int], field_: ModP, seed: int) -> bool:
    """Case 2 of _a_real_difference: only exp is generic, and its arguments' entries are independent (see there)."""
    if program.families != {"exp"} or program.exp_masked or not program.exp_arguments:
        return False
    for node, _ in program.exp_arguments:  # arguments must be rational functions of the symbols alone
        if any(n.op == "leaf" and n.attr.family != "symbol" for n in walk([node])):
            return False
    try:
        def entries(point: int) -> list[Any]:
            ev = Evaluator(field_, sizes, seed, 1000 + point)
            out: list[Any] = []
            for node, upper in program.exp_arguments:
                m = ev.value(node)
                out += [x for i, row in enumerate(m) for j, x in enumerate(row) if not upper or i <= j]
            return out

        origin = entries(0)
        k = len(origin)
        if k > MAX_EXP_ENTRIES:
            return False
        columns = [[field_.norm(x - o) for x, o in zip(entries(point), origin)] for point in range(1, k + 1)]
    except (ZeroDenominator, NotSquare):
        return False
    return _rank_mod_p([list(row) for row in zip(*columns)], field_.p) == k


def _rank_mod_p(rows: list[list[int]], p: int) -> int:
    rank = 0
    m = [r[:] for r in rows]
    cols = len(m[0]) if m else 0
    for c in range(cols):
        pivot = next((r for r in range(rank, len(m)) if m[r][c] % p), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        inv = pow(m[rank][c], -1, p)
        for r in range(len(m)):
            if r != rank and m[r][c] % p:
                f = m[r][c] * inv % p
                m[r] = [(x - f * y) % p for x, y in zip(m[r], m[rank])]
        rank += 1
    return rank


def _smallest_differing(program: Program, sizes: dict[str, int], field_: ModP, seed: int) -> dict[str, int]:
    """A counterexample at smaller sizes, if there is one (easier to reproduce): every letter from 2 up."""
    smaller: list[dict[str, int]] = [{}]
    for t, top in sizes.items():
        smaller = [{**s, t: v} for s in smaller for v in range(min(2, top), top + 1)]
    smaller.sort(key=lambda s: (sum(s.values()), tuple(s.values())))
    for candidate in smaller[:40]:
        if candidate == sizes:
            break
        try:
            if not _check_size(program, candidate, field_, seed).equal:
                return candidate
        except (ZeroDenominator, NotSquare, _TooMany):
            continue
    return sizes


def _listed_or_outside(claim: Claim, reason: str, program: Program, look: list[dict[str, int]], whole: bool,
                       seed: int, prime: int, families: list[str], first: Optional[dict[str, int]] = None,
                       probes: Optional[list[dict[str, int]]] = None, model_first: bool = False,
                       start: Optional[float] = None) -> Decision:
    """Outside the theory: check exactly at listed sizes: `look` (a whole grid of a lenient count when `whole`, else
    the smallest tuples and the corners of a grid too large), then small default sizes.

    "listed" only when `whole` and every size of `look` was checked (a trap that vanishes on part of a grid of the
    claim's shape is looked for on all of it); otherwise "outside", with the sizes checked and the probe sizes for the
    witnesses. The exact check uses the true det and inverse and generic functions keyed by value (a difference is a
    counterexample). A claim with transcendental functions has no exact form: the model is checked instead
    (agreement at a size proves the claim at that size; a difference is a counterexample only if the model drops
    nothing, else "nonzero" at that size, for the witnesses). model_first: the model even when an exact form exists.
    """
    probes = [dict(p_) for p_ in (probes or [])]
    required = _unique_sizes([dict(s_) for s_ in look])
    sizes_list = _unique_sizes(list(required) + probes + _default_exact_sizes(claim))
    if first is not None and first in sizes_list:
        sizes_list.remove(first)
        sizes_list.insert(0, first)
    exact: Optional[Program] = None
    if not model_first:
        try:
            exact = compile_claim(claim, "exact")
        except (Outside, ZeroDivisionError):
            exact = None
    checker = exact if exact is not None else program
    if checker is program and first is not None:  # the model already differs there
        return Decision("nonzero", reason, counterexample={"sizes": dict(first), "exact": False}, families=families,
                        probe_sizes=probes)
    checked: list[dict[str, int]] = []
    missed = not whole
    for sizes in sizes_list:
        if start is not None and time.perf_counter() - start > TIME_BUDGET:
            missed = True
            break
        if _largest_entries(checker, sizes) > (MAX_ENTRIES if model_first else MAX_LISTED_ENTRIES):
            missed = missed or sizes in required
            continue
        primes = _primes_for(checker, sizes, prime) if checker is program else [prime]
        if primes is None:
            missed = missed or sizes in required
            continue
        outcome = _check_at(checker, sizes, primes, seed, 2)
        if isinstance(outcome, _Differs):
            if checker is program and program.lossy:
                return Decision("nonzero", reason, counterexample={"sizes": dict(sizes), "exact": False}, families=families,
                                probe_sizes=_unique_sizes([dict(sizes)] + probes))
            field_ = ModP(outcome.prime)
            sizes = _smallest_differing(checker, sizes, field_, outcome.seed)
            where = _locate(checker, sizes, field_, outcome.seed) or {"sizes": dict(sizes), "layout": "", "entry": None}
            where["exact"] = True
            return Decision("refuted", "", primes=[outcome.prime], counterexample=where, families=families)
        if outcome is None:
            checked.append(dict(sizes))
        elif not isinstance(outcome, ZeroDenominator):  # NotSquare, _TooMany: nothing shown at this size
            missed = missed or sizes in required
        # ZeroDenominator: singular at this size (a rank forced by the sizes): the claim says nothing there
    if missed or not checked:
        return Decision("outside", reason, families=families, checked_sizes=checked, probe_sizes=probes)
    return Decision("listed", reason, checked_sizes=checked, primes=[prime], seeds=2, families=families, probe_sizes=probes)


def _unique_sizes(sizes: list[dict[str, int]]) -> list[dict[str, int]]:
    out: list[dict[str, int]] = []
    for s_ in sizes:
        if s_ not in out:
            out.append(s_)
    return out


def _default_exact_sizes(claim: Claim) -> list[dict[str, int]]:
    """Size tuples with every letter equal, and with the letters ordered both ways (wide and tall)."""
    letters = claim.scope.dims
    out: list[dict[str, int]] = []
    for base in (2, 3):
        out.append({t: base for t in letters})
        out.append({t: base + i for i, t in enumerate(letters)})
        out.append({t: base + len(letters) - 1 - i for i, t in enumerate(letters)})
    out.append({t: 4 for t in letters})
    seen, unique = set(), []
    for s in out:
        key = tuple(sorted(s.items()))
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique


# ---------------------------------------------------------------- other entry points (seam 8)

def test_candidate(claim: Claim, expect: Expr, layout: Optional[str] = None, **kw: Any) -> Decision:
    """decide() for the claim with `expect` (an Expr parsed in claim.scope) in `layout` (default: the claim's)."""
    return decide(replace(claim, expect=expect, layout=layout or claim.layout), **kw)


def _point_override(program: Program, values: Optional[dict[str, Any]]) -> Any:
    if not values:
        return None
    given = {k: [[Fraction(x) for x in row] for row in v] if isinstance(v, list) else [[Fraction(v)]] for k, v in values.items()}

    def override(node: Node, shape: tuple[int, int]) -> Any:
        key = node.attr.key if node.op == "leaf" else ""
        if key == "dir:" and f"d({program.claim.wrt})" in given:
            return given[f"d({program.claim.wrt})"]
        if key.startswith("sym:"):
            name, _, part = key[4:].partition("#")
            if name in given:
                m = given[name]
                if part == "diagonal":
                    return [[m[i][i]] for i in range(len(m))]
                return m
        return None
    return override


def _exact_program(claim: Claim) -> Program:
    program = compile_claim(claim, "exact")
    if "fn" in program.families:
        raise Outside("generic functions have no exact value")
    return program


def true_derivative(claim: Claim, sizes: dict[str, int], values: Optional[dict[str, Any]] = None, seed: int = 0) -> list[list[Fraction]]:
    """The true derivative in claim.layout, exactly, at `values` (see the module docstring). Raises Outside."""
    program = _exact_program(claim)
    _, num = _entries(program, sizes, Rationals(), seed, 0, _point_override(program, values))
    if claim.kind == "differential" or claim.layout == "numerator":
        return num
    return [list(col) for col in zip(*num)]


def claimed_value(claim: Claim, sizes: dict[str, int], values: Optional[dict[str, Any]] = None, seed: int = 0) -> list[list[Fraction]]:
    """The value of claim.expect at the same point as true_derivative. Raises Outside."""
    program = _exact_program(claim)
    key = "differential" if claim.kind == "differential" else claim.layout
    return Evaluator(Rationals(), sizes, seed, 0, _point_override(program, values)).value(program.expect_values[key])
