"""Values of a derivative at one concrete point, exact where the claim is rational.

Forward-mode differentiation over Python fractions: every entry carries its value and its
partial derivatives by every entry of `wrt` (all entries independent, then evaluated at a
point that satisfies the assumptions, as generator.engine.verify does). Rational operations stay
exact; exp, log, sin, ... turn a value into a float. Used to show a student the true
derivative next to their claim at small integer points, and to test candidate repairs
quickly at random points before the checker proper confirms one. This is not the verdict:
it is evidence at a point, and says so. Pure: standard library only, runs in Pyodide.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Iterable, Union

from generator.engine.claims import Claim, numerator_entries
from generator.engine.parse import ELEMENTWISE, Expr, Shape, dim_value, is_scalar, is_vector, parse_dim

Num = Union[Fraction, float]
Matrix = list[list[Any]]  # of Dual while evaluating, of Num in results


class PointRejected(Exception):
    """The point is outside the claim's domain (a singular matrix, a log of a non-positive value, a ReLU kink)."""


class Dual:
    """A value and its partial derivatives (None: all zero).

    The value and the partials may themselves be Duals: forward mode over forward mode gives
    second derivatives (a Hessian entry is out.t[i].t[j]).
    """

    __slots__ = ("v", "t")

    def __init__(self, v: Any, t: tuple[Any, ...] | None = None) -> None:
        self.v, self.t = v, t

    def __add__(self, o: Any) -> "Dual":
        o = _lift(o)
        return Dual(self.v + o.v, _lin(self.t, 1, o.t, 1))

    __radd__ = __add__

    def __sub__(self, o: Any) -> "Dual":
        o = _lift(o)
        return Dual(self.v - o.v, _lin(self.t, 1, o.t, -1))

    def __rsub__(self, o: Any) -> "Dual":
        return _lift(o) - self

    def __mul__(self, o: Any) -> "Dual":
        o = _lift(o)
        return Dual(self.v * o.v, _lin(self.t, o.v, o.t, self.v))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> "Dual":
        o = _lift(o)
        if _real(o.v) == 0:
            raise PointRejected("a division by zero")
        q = self.v / o.v
        return Dual(q, _lin(self.t, 1 / o.v, o.t, -q / o.v))

    def __rtruediv__(self, o: Any) -> "Dual":
        return _lift(o) / self

    def __neg__(self) -> "Dual":
        return Dual(-self.v, _lin(self.t, -1, None, 0))

    def __pow__(self, k: int) -> "Dual":
        return power(self, Dual(Fraction(k)))

    def chain(self, value: Any, slope: Any) -> "Dual":
        """f(self) given f's value and derivative at self.v."""
        return Dual(value, _lin(self.t, slope, None, 0))


def _lift(x: Any) -> Dual:
    return x if isinstance(x, Dual) else Dual(x)


def _real(x: Any) -> Any:
    """The plain number inside nested Duals (for comparisons: signs, zeros, kinks)."""
    while isinstance(x, Dual):
        x = x.v
    return x


def _zero(c: Any) -> bool:
    return not isinstance(c, Dual) and c == 0


def _lin(a: tuple[Any, ...] | None, ca: Any, b: tuple[Any, ...] | None, cb: Any) -> tuple[Any, ...] | None:
    """ca * a + cb * b for tangent tuples, None standing for zero."""
    if a is None and b is None:
        return None
    if b is None or _zero(cb):
        return None if a is None or _zero(ca) else tuple(ca * x for x in a)
    if a is None or _zero(ca):
        return tuple(cb * y for y in b)
    return tuple(ca * x + cb * y for x, y in zip(a, b))


def _float(v: Num, what: str) -> float:
    try:
        return float(v)
    except OverflowError:
        raise PointRejected(f"{what} overflows") from None


def _exact_sqrt(v: Fraction) -> Fraction | None:
    if v < 0:
        return None
    n, d = math.isqrt(v.numerator), math.isqrt(v.denominator)
    return Fraction(n, d) if n * n == v.numerator and d * d == v.denominator else None


def _value(name: str, v: Any) -> Any:
    """f(v) for a plain number (exact where it can be), or for a Dual (recursively)."""
    if isinstance(v, Dual):
        return scalar_fn(name, v)
    if name == "exp":
        return math.exp(_float(v, "exp"))
    if name == "log":
        return Fraction(0) if v == 1 else math.log(v)
    if name == "sqrt":
        exact = _exact_sqrt(v) if isinstance(v, Fraction) else None
        return exact if exact is not None else math.sqrt(v)
    if name == "sin":
        return math.sin(v)
    if name == "cos":
        return math.cos(v)
    if name == "tanh":
        return math.tanh(v)
    if name == "sigmoid":
        return 1 / (1 + math.exp(-_float(v, "sigmoid")))
    if name == "softplus":
        fv = _float(v, "softplus")
        return math.log1p(math.exp(-abs(fv))) + max(fv, 0.0)
    raise ValueError(name)  # pragma: no cover


def _slope(name: str, v: Any, value: Any) -> Any:
    """f'(v), written with f's value where that is the rule (exp' = exp, tanh' = 1 - tanh^2, ...)."""
    if name == "exp":
        return value
    if name == "log":
        return 1 / v
    if name == "sqrt":
        return 1 / (2 * value)
    if name == "sin":
        return _value("cos", v)
    if name == "cos":
        return -_value("sin", v)
    if name == "tanh":
        return 1 - value * value
    if name == "sigmoid":
        return value * (1 - value)
    if name == "softplus":
        return _value("sigmoid", v)
    raise ValueError(name)  # pragma: no cover


def scalar_fn(name: str, z: Dual) -> Dual:
    """The element-wise functions of the rule language, with their derivatives."""
    v = z.v
    real = _real(v)
    try:
        if name in ("log", "sqrt") and real <= 0:
            raise PointRejected(f"a {name} of a value <= 0")
        if name in ("abs", "sign", "relu", "step"):
            if real == 0:
                raise PointRejected(f"{name} at its kink 0")
            positive = real > 0
            if name == "abs":
                return z if positive else -z
            if name == "relu":
                return z if positive else Dual(Fraction(0))
            if name == "step":
                return Dual(Fraction(1) if positive else Fraction(0))
            return Dual(Fraction(1) if positive else Fraction(-1))
        value = _value(name, v)
        return z.chain(value, _slope(name, v, value))
    except OverflowError:
        raise PointRejected(f"{name} overflows") from None


def power(base: Dual, exponent: Dual) -> Dual:
    k = exponent.v
    if exponent.t is None and isinstance(k, Fraction) and k.denominator == 1:
        n = int(k)
        if _real(base.v) == 0 and n < 1:
            raise PointRejected("0 to a power <= 0")
        if n == 0:
            return Dual(Fraction(1))
        if n == 1:
            return base
        if isinstance(base.v, Dual):
            inner = base.v ** n
            return base.chain(inner, n * base.v ** (n - 1))
        return base.chain(base.v ** n, n * base.v ** (n - 1))
    if _real(base.v) <= 0:
        raise PointRejected("a non-integer power of a value <= 0")
    if exponent.t is None and not isinstance(k, Dual) and not isinstance(base.v, Dual):
        value = _float(base.v, "power") ** _float(k, "power")
        return base.chain(value, _float(k, "power") * value / _float(base.v, "power"))
    log_base = scalar_fn("log", base)
    return scalar_fn("exp", exponent * log_base)


# ------------------------------------------------------------------ matrices

def _map(m: Matrix, fn: Any) -> Matrix:
    return [[fn(x) for x in row] for row in m]


def _shape(m: Matrix) -> tuple[int, int]:
    return len(m), len(m[0]) if m else 0


def matmul(a: Matrix, b: Matrix) -> Matrix:
    rows, inner, cols = len(a), len(b), len(b[0])
    out = []
    for i in range(rows):
        row = []
        for j in range(cols):
            acc = a[i][0] * b[0][j]
            for k in range(1, inner):
                acc = acc + a[i][k] * b[k][j]
            row.append(acc)
        out.append(row)
    return out


def transpose(m: Matrix) -> Matrix:
    return [list(col) for col in zip(*m)]


def _elimination(m: Matrix) -> tuple[Dual, Matrix]:
    """Determinant and inverse by Gauss-Jordan elimination with a non-zero pivot (exact in fractions)."""
    n = len(m)
    work = [list(row) + [Dual(Fraction(int(i == j))) for j in range(n)] for i, row in enumerate(m)]
    det = Dual(Fraction(1))
    for c in range(n):
        pivot = next((r for r in range(c, n) if _real(work[r][c].v) != 0), None)
        if pivot is None:
            raise PointRejected("a singular matrix")
        if pivot != c:
            work[c], work[pivot] = work[pivot], work[c]
            det = -det
        p = work[c][c]
        det = det * p
        work[c] = [x / p for x in work[c]]
        for r in range(n):
            if r != c and (_real(work[r][c].v) != 0 or work[r][c].t is not None):
                f = work[r][c]
                work[r] = [x - f * y for x, y in zip(work[r], work[c])]
    return det, [row[n:] for row in work]


# ------------------------------------------------------------------ generic functions

@dataclass(frozen=True)
class _Quadratic:
    """f(u) = c + A u + (B u) * (C u), entries of the output flattened row-major."""

    c: list[Fraction]
    a: list[list[Fraction]]
    b: list[list[Fraction]]
    cc: list[list[Fraction]]


def _coefficients(name: str, n_in: int, n_out: int, seed: int) -> _Quadratic:
    digest = hashlib.sha256(f"{seed}:{name}:{n_in}:{n_out}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))

    def draw() -> Fraction:
        return Fraction(rng.randint(-9, 9), rng.randint(1, 4))

    return _Quadratic([draw() for _ in range(n_out)], [[draw() for _ in range(n_in)] for _ in range(n_out)],
                      [[draw() for _ in range(n_in)] for _ in range(n_out)], [[draw() for _ in range(n_in)] for _ in range(n_out)])


def _dot(row: list[Fraction], u: list[Dual]) -> Dual:
    acc = Dual(Fraction(0))
    for coef, x in zip(row, u):
        if coef:
            acc = acc + Dual(coef) * x
    return acc


# ------------------------------------------------------------------ the evaluator

class Evaluator:
    """An expression tree -> a matrix of Duals at concrete sizes and values."""

    def __init__(self, claim: Claim, sizes: dict[str, int], env: dict[str, Matrix], seed: int = 0) -> None:
        self.scope, self.sizes, self.env, self.seed = claim.scope, sizes, env, seed

    def dim(self, d: object) -> int:
        return dim_value(d, self.sizes)

    def ev(self, e: Expr) -> Matrix:
        op = e.op
        if op == "sym":
            return self.env[e.name]
        if op == "d":
            return self.env[f"d({e.name})"]
        if op == "const":
            return [[Dual(Fraction(e.value))]]
        if op == "dim":
            return [[Dual(Fraction(self.sizes[e.name]))]]
        if op == "D":
            return self.jacobian(e)
        if op == "DD":
            return self.second_derivative(e)
        args = [self.ev(a) for a in e.args]
        if op == "neg":
            return _map(args[0], lambda x: -x)
        if op in ("add", "sub", "mul", "div", "pow"):
            fn = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
                  "div": lambda x, y: x / y, "pow": power}[op]
            a, b = args
            if _shape(a) == (1, 1) and _shape(b) != (1, 1):
                return _map(b, lambda y: fn(a[0][0], y))
            if _shape(b) == (1, 1) and _shape(a) != (1, 1):
                return _map(a, lambda x: fn(x, b[0][0]))
            return [[fn(x, y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]
        if op == "matmul":
            return matmul(args[0], args[1])
        if op == "T":
            return transpose(args[0])
        if op == "part":  # rows of a stacked `wrt: [x, y]` vector
            start, rows = self.dim(parse_dim(e.name)), self.dim(e.shape[0])
            return args[0][start : start + rows]
        if op == "call":
            return self.call(e, args)
        if op == "apply":
            return self.apply(e, args)
        raise ValueError(op)  # pragma: no cover

    def call(self, e: Expr, args: list[Matrix]) -> Matrix:
        name = e.name
        if name in ("ones", "zeros", "eye"):
            r, c = self.dim(e.shape[0]), self.dim(e.shape[1])
            if name == "eye":
                return [[Dual(Fraction(int(i == j))) for j in range(c)] for i in range(r)]
            return [[Dual(Fraction(1 if name == "ones" else 0)) for _ in range(c)] for _ in range(r)]
        if name == "vstack":
            return [list(row) for block in args for row in block]
        if name == "hstack":
            return [[x for block in args for x in block[i]] for i in range(len(args[0]))]
        (m,) = args
        if name in ELEMENTWISE:
            return _map(m, lambda z: scalar_fn(name, z))
        if name == "trace":
            acc = m[0][0]
            for i in range(1, len(m)):
                acc = acc + m[i][i]
            return [[acc]]
        if name == "det":
            return [[_elimination(m)[0]]]
        if name == "inv":
            return _elimination(m)[1]
        if name == "sum":
            return [[_total(x for row in m for x in row)]]
        if name == "norm":
            return [[scalar_fn("sqrt", _total(x * x for row in m for x in row))]]
        if name == "diag":
            n = len(m)
            return [[m[i][0] if i == j else Dual(Fraction(0)) for j in range(n)] for i in range(n)]
        if name == "softmax":
            if len(m[0]) == 1:
                return transpose([_softmax([row[0] for row in m])])
            return [_softmax(row) for row in m]
        if name == "logsumexp":
            if len(m[0]) == 1:
                return [[scalar_fn("log", _total(scalar_fn("exp", row[0]) for row in m))]]
            return [[scalar_fn("log", _total(scalar_fn("exp", x) for x in row))] for row in m]
        raise ValueError(name)  # pragma: no cover

    def _quadratic(self, name: str) -> tuple[_Quadratic, list[int]]:
        sig = self.scope.functions[name]
        sizes_in = [self.dim(s[0]) * self.dim(s[1]) for s in sig.args]
        n_out = self.dim(sig.to[0]) * self.dim(sig.to[1])
        return _coefficients(name, sum(sizes_in), n_out, self.seed), sizes_in

    def apply(self, e: Expr, args: list[Matrix]) -> Matrix:
        sig = self.scope.functions[e.name]
        if sig.elementwise:
            q, _ = self._quadratic(e.name)
            return _map(args[0], lambda z: self._scalar_quadratic(q, z))
        q, _ = self._quadratic(e.name)
        u = [x for m in args for row in m for x in row]
        bu = [_dot(row, u) for row in q.b]
        cu = [_dot(row, u) for row in q.cc]
        out = [Dual(q.c[i]) + _dot(q.a[i], u) + bu[i] * cu[i] for i in range(len(q.c))]
        rows, cols = self.dim(e.shape[0]), self.dim(e.shape[1])
        return [[out[i * cols + j] for j in range(cols)] for i in range(rows)]

    @staticmethod
    def _scalar_quadratic(q: _Quadratic, z: Dual) -> Dual:
        return Dual(q.c[0]) + Dual(q.a[0][0]) * z + Dual(q.b[0][0]) * z * Dual(q.cc[0][0]) * z

    def second_derivative(self, e: Expr) -> Matrix:
        """DD: the second partial derivative of a function of scalars (by argument j, then k) at the point."""
        sig = self.scope.functions[e.name]
        args = [self.ev(a) for a in e.args]
        q, _ = self._quadratic(e.name)
        if sig.elementwise:
            two = Dual(2 * q.b[0][0] * q.cc[0][0])
            return _map(args[0], lambda z: two)
        j, k = e.value // 10 - 1, e.value % 10 - 1
        out = [Dual(q.b[i][j] * q.cc[i][k] + q.cc[i][j] * q.b[i][k]) for i in range(len(q.c))]
        rows, cols = self.dim(e.shape[0]), self.dim(e.shape[1])
        return [[out[i * cols + c] for c in range(cols)] for i in range(rows)]

    def jacobian(self, e: Expr) -> Matrix:
        """D(f, a): the numerator-layout Jacobian by argument e.value, at the point a."""
        sig = self.scope.functions[e.name]
        args = [self.ev(a) for a in e.args]
        q, sizes_in = self._quadratic(e.name)
        if sig.elementwise:
            two = Dual(2 * q.b[0][0] * q.cc[0][0])
            return _map(args[0], lambda z: Dual(q.a[0][0]) + two * z)
        u = [x for m in args for row in m for x in row]
        bu = [_dot(row, u) for row in q.b]
        cu = [_dot(row, u) for row in q.cc]
        start = sum(sizes_in[: e.value - 1])
        columns = range(start, start + sizes_in[e.value - 1])
        jac = [[Dual(q.a[i][j]) + bu[i] * Dual(q.cc[i][j]) + cu[i] * Dual(q.b[i][j]) for j in columns] for i in range(len(q.c))]
        rows, cols = self.dim(e.shape[0]), self.dim(e.shape[1])
        if (len(jac), len(jac[0])) == (rows, cols):
            return jac
        inp = sig.args[e.value - 1]
        if is_scalar(inp):  # a matrix-valued function of a scalar: D has the value's shape
            return [[jac[i * cols + j][0] for j in range(cols)] for i in range(rows)]
        # a scalar function of a p x q matrix X: D is q x p, D[j][i] = df / dX[i][j], X flattened row-major
        return [[jac[0][col * rows + row] for col in range(cols)] for row in range(rows)]


def _total(items: Iterable[Dual]) -> Dual:
    acc: Dual | None = None
    for x in items:
        acc = x if acc is None else acc + x
    return acc if acc is not None else Dual(Fraction(0))


def _softmax(row: list[Dual]) -> list[Dual]:
    exps = [scalar_fn("exp", z) for z in row]
    total = _total(exps)
    return [x / total for x in exps]


# ------------------------------------------------------------------ points

def concrete(shape: Shape, sizes: dict[str, int]) -> tuple[int, int]:
    return (dim_value(shape[0], sizes), dim_value(shape[1], sizes))


NICE = (1, 2, -1, 3, -2, 1, 2, 3, -1, 2, -3, 1)
MAX_DIM = 16  # concrete sizes beyond this are not evaluated here (exact fractions grow, forward mode multiplies the work)
MAX_WRT_ENTRIES = 64


def too_large(claim: Claim, sizes: dict[str, int]) -> bool:
    """Would evaluating at these sizes take too long for an interactive check?"""
    dims = [d for shape in claim.scope.symbols.values() for d in concrete(shape, sizes)]
    r, c = concrete(claim.scope.symbols[claim.wrt], sizes)
    return max(dims, default=1) > MAX_DIM or r * c > MAX_WRT_ENTRIES


def make_point(claim: Claim, sizes: dict[str, int], attempt: int, mode: str = "nice") -> dict[str, list[list[Fraction]]]:
    """Values for every symbol that satisfy the assumptions.

    mode "nice" (readable): attempt 0 is a fixed pattern of small integers, later attempts
    random integers in [-3, 4]; "big": integers up to 10^6 (identity tests of rational
    claims); "small": tenths in [-2, 2] (identity tests where exp would overflow).
    """
    rng = random.Random(attempt * 7919 + {"nice": 0, "big": 1, "small": 2}[mode])
    counter = 0
    point: dict[str, list[list[Fraction]]] = {}
    for name, shape in claim.scope.symbols.items():
        r, c = concrete(shape, sizes)
        props = set(claim.assume.get(name, ()))

        def draw() -> Fraction:
            nonlocal counter
            counter += 1
            if mode == "big":
                return Fraction(rng.randint(-10**6, 10**6) or 1)
            if mode == "small":
                return Fraction(rng.choice([k for k in range(-20, 21) if k]), 10)
            if attempt == 0:
                return Fraction(NICE[(counter - 1) % len(NICE)])
            return Fraction(rng.choice([-3, -2, -1, 1, 2, 3, 4]))

        m = [[draw() for _ in range(c)] for _ in range(r)]
        if props & {"positive", "probability", "spd"} and not props & {"symmetric"}:
            m = [[abs(x) for x in row] for row in m]
        if "positive" in props:
            m = [[abs(x) or Fraction(1) for x in row] for row in m]
        if "probability" in props:
            m = [[abs(x) or Fraction(1) for x in row] for row in m]
            total = sum((x for row in m for x in row), Fraction(0))
            m = [[x / total for x in row] for row in m]
        if "symmetric" in props:
            m = [[m[min(i, j)][max(i, j)] for j in range(c)] for i in range(r)]
        if "spd" in props:
            g = m
            m = [[sum((g[i][k] * g[j][k] for k in range(c)), Fraction(0)) + (1 if i == j else 0) for j in range(c)] for i in range(r)]
        if "diagonal" in props:
            m = [[(m[i][j] or Fraction(1)) if i == j else Fraction(0) for j in range(c)] for i in range(r)]
        if "nonzero" in props:
            m = [[x or Fraction(1) for x in row] for row in m]
        point[name] = m
    for name, part in getattr(claim, "parts", ()):  # wrt x, y: x and y are the rows of the stacked vector
        start, rows = dim_value(parse_dim(part.name), sizes), dim_value(part.shape[0], sizes)
        point[name] = [list(row) for row in point[claim.wrt][start : start + rows]]
    return point


@dataclass(frozen=True)
class Values:
    """The true derivative (in a layout) and the claim's value at one point."""

    sizes: dict[str, int]
    point: dict[str, list[list[Num]]]
    layout: str
    truth: list[list[Num]]
    claimed: list[list[Num]]
    exact: bool

    def first_difference(self) -> tuple[int, int] | None:
        """0-based (row, col) of the first entry where claim and truth differ, or None."""
        for i, (rt, rc) in enumerate(zip(self.truth, self.claimed)):
            for j, (t, c) in enumerate(zip(rt, rc)):
                if not same(t, c):
                    return i, j
        return None


def same(a: Num, b: Num) -> bool:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return a == b
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))


def values_at(claim: Claim, sizes: dict[str, int], point: dict[str, list[list[Fraction]]], seed: int = 0,
              direction: list[list[Fraction]] | None = None) -> Values:
    """The true derivative of claim.of and the value of claim.expect at `point`, in claim.layout.

    First or second order (claim.order): a second derivative is forward mode over forward mode.
    Raises PointRejected if the point is outside the domain.
    """
    if too_large(claim, sizes):
        raise PointRejected("sizes too large to evaluate here")
    order = getattr(claim, "order", 1)
    wrt_value = point[claim.wrt]
    r, c = len(wrt_value), len(wrt_value[0])
    plain = {name: [[Dual(v) for v in row] for row in m] for name, m in point.items()}
    if claim.kind == "differential":
        direction = direction or [[Fraction((i * c + j) % 5 - 2 or 1) for j in range(c)] for i in range(r)]
        moved = dict(plain)
        if order == 2:
            moved[claim.wrt] = [[Dual(Dual(wrt_value[i][j], (direction[i][j],)), (Dual(direction[i][j]),)) for j in range(c)]
                                for i in range(r)]
        else:
            moved[claim.wrt] = [[Dual(wrt_value[i][j], (direction[i][j],)) for j in range(c)] for i in range(r)]
        out = Evaluator(claim, sizes, moved, seed).ev(claim.of)
        truth = [[(_second(x, 0, 0) if order == 2 else _first(x, 0)) for x in row] for row in out]
        with_d = dict(plain)
        with_d[f"d({claim.wrt})"] = [[Dual(v) for v in row] for row in direction]
        claimed = [[_real(x) for x in row] for row in Evaluator(claim, sizes, with_d, seed).ev(claim.expect)]
        shown = {**point, f"d({claim.wrt})": direction}  # the direction is part of the point a reader needs
        return Values(sizes, shown, "differential", truth, claimed, _all_exact(truth, claimed))
    k = r * c

    def unit(idx: int) -> tuple[Fraction, ...]:
        return tuple(Fraction(int(idx == t)) for t in range(k))

    seeded = dict(plain)
    if order == 2:
        seeded[claim.wrt] = [[Dual(Dual(wrt_value[i][j], unit(i * c + j)), tuple(Dual(x) for x in unit(i * c + j)))
                              for j in range(c)] for i in range(r)]
    else:
        seeded[claim.wrt] = [[Dual(wrt_value[i][j], unit(i * c + j)) for j in range(c)] for i in range(r)]
    out = Evaluator(claim, sizes, seeded, seed).ev(claim.of)
    wrt_shape = claim.scope.symbols[claim.wrt]
    if order == 2 and not is_scalar(wrt_shape):  # the Hessian of a scalar by a vector: symmetric, both layouts
        truth = [[_second(out[0][0], i, j) for j in range(r)] for i in range(r)]
    else:
        def partial(a: int, b: int, i: int, j: int) -> Num:
            return _second(out[a][b], 0, 0) if order == 2 else _first(out[a][b], i * c + j)

        num = numerator_entries(claim.of.shape, wrt_shape, _shape(out), (r, c), partial)
        truth = num if claim.layout == "numerator" else transpose(num)
    claimed = [[_real(x) for x in row] for row in Evaluator(claim, sizes, plain, seed).ev(claim.expect)]
    if _shape(claimed) != _shape(truth):
        raise ValueError("the claim's shape differs from the derivative's")  # the parser's shape check prevents this
    return Values(sizes, point, claim.layout, truth, claimed, _all_exact(truth, claimed))


def _first(x: Dual, i: int) -> Num:
    return _real(x.t[i]) if x.t else Fraction(0)


def _second(x: Dual, i: int, j: int) -> Num:
    """d2 x / d_i d_j from a Dual of Duals."""
    if not x.t:
        return Fraction(0)
    outer = x.t[i]
    if not isinstance(outer, Dual) or not outer.t:
        return Fraction(0)
    return _real(outer.t[j])


def _all_exact(*ms: list[list[Num]]) -> bool:
    return all(isinstance(x, Fraction) for m in ms for row in m for x in row)


def uses_transcendental(claim: Claim) -> bool:
    from generator.engine.parse import walk

    names = {"log", "exp", "sin", "cos", "tanh", "sqrt", "sigmoid", "softplus", "softmax", "logsumexp", "norm"}
    return any(e.op == "call" and e.name in names for ex in (claim.of, claim.expect) for e in walk(ex))


_LAST_DIFFERENCE: list[dict[str, int]] = [{}]  # the sizes where agrees() last found a difference (for the message)


def agrees(claim: Claim, points: int = 2, attempts: int = 12) -> bool | None:
    """Does expect equal the derivative (in claim.layout) at random points of every size assignment?

    Exact for rational claims (large random integers: a false identity survives a point with
    probability <= degree / 10^6), within 1e-9 otherwise. None if no point in the domain was found.
    """
    transcendental = uses_transcendental(claim)
    checked = 0
    for sizes_items in claim.sizes:
        sizes = dict(sizes_items)
        if too_large(claim, sizes):
            continue
        done = 0
        for attempt in range(1, attempts + 1):
            point = make_point(claim, sizes, attempt, "small" if transcendental else "big")
            try:
                values = values_at(claim, sizes, point)
            except (PointRejected, ZeroDivisionError, ValueError, OverflowError, KeyError, IndexError, TypeError):
                continue
            if values.first_difference() is not None:
                _LAST_DIFFERENCE[0] = dict(sizes)
                return False
            done += 1
            checked += 1
            if done >= points:
                break
    return True if checked else None


def witness(claim: Claim, sizes_list: Iterable[dict[str, int]], attempts: int = 24) -> Values | None:
    """A readable counterexample: small integer values where expect and the derivative differ."""
    for sizes in sizes_list:
        for attempt in range(attempts):
            point = make_point(claim, sizes, attempt)
            try:
                values = values_at(claim, sizes, point)
            except (PointRejected, ZeroDivisionError, ValueError, OverflowError, KeyError, IndexError, TypeError):
                continue
            if values.first_difference() is not None:
                return values
    return None


def same_value(claim: Claim, a: Expr, b: Expr, points: int = 2) -> bool:
    """Do two expressions take the same values at random points (of every size assignment)?"""
    mode = "small" if uses_transcendental(claim) else "big"
    for sizes_items in claim.sizes:
        sizes = dict(sizes_items)
        if too_large(claim, sizes):
            continue
        done = 0
        for attempt in range(1, 12):
            point = make_point(claim, sizes, attempt, mode)
            env = {name: [[Dual(v) for v in row] for row in m] for name, m in point.items()}
            try:
                va = Evaluator(claim, sizes, env).ev(a)
                vb = Evaluator(claim, sizes, env).ev(b)
            except (PointRejected, ZeroDivisionError, ValueError, OverflowError, KeyError, IndexError, TypeError):
                continue
            if _shape(va) != _shape(vb) or any(not same(_real(x), _real(y)) for ra, rb in zip(va, vb) for x, y in zip(ra, rb)):
                return False
            done += 1
            if done >= points:
                break
    return True


def _sizes_words(claim: Claim) -> str:
    shown = [", ".join(f"{k} = {v}" for k, v in dict(s).items()) or "scalars" for s in claim.sizes]
    return " and ".join(shown)


class PointChecker:
    """A checker of last resort: exact rational arithmetic (floats for exp, log, ...) at random points.

    Decides at the claim's listed sizes only, and says so; used where neither the all-sizes
    engine nor SymPy can run.
    """

    @staticmethod
    def with_probes(claim: Claim, probes: list[dict[str, int]]) -> Claim:
        """The claim with the sizes the engine names added to its own (those small enough to evaluate here)."""
        have = [dict(s) for s in claim.sizes]
        extra = [p for p in probes if p not in have and set(p) == set(claim.scope.dims)]
        if not extra:
            return claim
        return replace(claim, sizes=tuple(tuple(sorted(s.items())) for s in have + extra))

    def decide(self, claims: Any) -> list[Any]:
        from generator.student.hints import Decision

        out = []
        for claim in claims:
            exact = not uses_transcendental(claim)
            how = "exact rational arithmetic" if exact else "floating point (relative error 1e-9)"
            check = f"evaluation at 2 random points per size, {how}"
            result = agrees(claim)
            at = _sizes_words(claim)
            if result is None and any(too_large(claim, dict(sz)) for sz in claim.sizes):
                out.append(Decision("undecided", "listed-sizes", "Undecided: the sizes are too large for the check that runs here",
                                    (check,), f"sizes up to {MAX_DIM} and at most {MAX_WRT_ENTRIES} entries of wrt are checked "
                                    "here; the command line's SymPy check has no such limit"))
            elif result is None:
                out.append(Decision("undecided", "listed-sizes", "Undecided: no random point inside the claim's domain was found",
                                    (check,), "no random point was inside the domain (log or sqrt of negative values, singular matrices?)"))
            elif result and any(too_large(claim, dict(sz)) for sz in claim.sizes):
                # never "verified at" a size that was not evaluated (the engine may name large sizes to look at)
                skipped = _sizes_words(replace(claim, sizes=tuple(sz for sz in claim.sizes if too_large(claim, dict(sz)))))
                out.append(Decision("undecided", "listed-sizes", "Undecided: some sizes to check are too large for the check "
                                    "that runs here", (check,), f"no difference at the sizes checked, but {skipped} could not "
                                    f"be evaluated here (sizes up to {MAX_DIM}, at most {MAX_WRT_ENTRIES} entries of wrt); "
                                    "the command line's check has no such limit"))
            elif result:
                out.append(Decision("verified", "listed-sizes", f"Verified at {at}; not a proof for every size", (check,)))
            else:
                where = ", ".join(f"{k} = {v}" for k, v in _LAST_DIFFERENCE[0].items()) or at
                out.append(Decision("refuted", "listed-sizes", f"Refuted at {where}", (check,)))
        return out
