"""Exact arithmetic for the rational part of the rule language, on sparse polynomials.

Most matrix-calculus rules (traces, determinants, inverses, forms) are identities between
rational functions of the matrix entries. Built as SymPy expression trees they take
seconds to minutes to simplify; built as numerator/denominator pairs of sparse
polynomials over QQ (sympy.polys.rings) the same check takes milliseconds. The ground
truth is unchanged: every derivative is the explicit derivative of an explicit rational
function of the entries (the quotient rule on polynomials), and a difference is zero
exactly when its numerator is the zero polynomial.

Anything outside this fragment (exp, sqrt, softmax, generic functions, ...) raises
Unsupported and the verifier uses its SymPy path instead. `log` is allowed where only
its derivative is needed: d log(u) = du / u for an explicit rational u.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp
from sympy import QQ
from sympy.polys.rings import PolyElement, PolyRing

from generator.engine.parse import Expr, constant_value, dim_value, parse_dim


class Unsupported(Exception):
    """The expression leaves the rational fragment; use the SymPy path."""


@dataclass(frozen=True)
class Rat:
    """num / den, two polynomials; not reduced (no gcds), so arithmetic stays cheap."""

    num: PolyElement
    den: PolyElement

    def __add__(self, other: "Rat") -> "Rat":
        if self.den == other.den:
            return Rat(self.num + other.num, self.den)
        # Denominators are often powers of one determinant: when one divides the other, use
        # the larger as the common denominator instead of their product.
        if self.den.is_ground or other.den.is_ground:
            return Rat(self.num * other.den + other.num * self.den, self.den * other.den)
        for big, small, big_num, small_num in ((self.den, other.den, self.num, other.num),
                                               (other.den, self.den, other.num, self.num)):
            quotient, remainder = divmod(big, small)
            if remainder == 0:
                return Rat(big_num + small_num * quotient, big)
        return Rat(self.num * other.den + other.num * self.den, self.den * other.den)

    def __neg__(self) -> "Rat":
        return Rat(-self.num, self.den)

    def __sub__(self, other: "Rat") -> "Rat":
        return self + (-other)

    def __mul__(self, other: "Rat") -> "Rat":
        return Rat(self.num * other.num, self.den * other.den)

    def __truediv__(self, other: "Rat") -> "Rat":
        if other.num == 0:
            raise ZeroDivisionError("division by a zero rational function")
        return Rat(self.num * other.den, self.den * other.num)

    def __pow__(self, k: int) -> "Rat":
        if k < 0:
            return Rat(self.den**-k, self.num**-k)
        return Rat(self.num**k, self.den**k)

    def diff(self, x: PolyElement) -> "Rat":
        if self.den.degree(x) <= 0:  # a polynomial denominator free of x: no quotient rule needed
            return Rat(self.num.diff(x), self.den)
        return Rat(self.num.diff(x) * self.den - self.num * self.den.diff(x), self.den**2)

    def diff2(self, x: PolyElement, y: PolyElement) -> "Rat":
        """The second partial derivative by x and y over the denominator den^3.

        Differentiating twice with diff would give den^4; den^3 is what a claim built from
        products of inverses has, so the comparison with it needs no polynomial division.
        """
        n, d = self.num, self.den
        if d.degree(x) <= 0 and d.degree(y) <= 0:
            return Rat(n.diff(x).diff(y), d)
        nx, ny, dx, dy = n.diff(x), n.diff(y), d.diff(x), d.diff(y)
        nxy, dxy = nx.diff(y), dx.diff(y)
        num = nxy * d * d - (nx * dy + ny * dx + n * dxy) * d + 2 * n * dx * dy
        return Rat(num, d * d * d)

    def is_zero(self) -> bool:
        return self.num == 0

    def compose(self, pairs: list[tuple[PolyElement, PolyElement]]) -> "Rat":
        if not pairs:
            return self
        return Rat(self.num.compose(pairs), self.den.compose(pairs))


Matrix = list[list[Rat]]


@dataclass
class Opaque:
    """A value known only through its derivatives (a log): d/dx -> Rat matrix."""

    shape: tuple[int, int]
    derivs: dict[int, Matrix]


class RationalEvaluator:
    """Evaluates expressions to matrices of Rat in the ring QQ[entries]."""

    def __init__(self, ring: PolyRing, env: dict[str, Matrix], sizes: dict[str, int], wrt_gens: list[PolyElement]) -> None:
        self.ring, self.env, self.sizes, self.wrt_gens = ring, env, sizes, wrt_gens
        self.one = Rat(ring.one, ring.one)
        self.zero = Rat(ring.zero, ring.one)

    def const(self, value: int) -> Rat:
        return Rat(self.ring(value), self.ring.one)

    def dim(self, d: object) -> int:
        return dim_value(d, self.sizes)

    def ev(self, e: Expr) -> Matrix | Opaque:
        op = e.op
        if op == "sym":
            return self.env[e.name]
        if op == "const":
            return [[self.const(e.value)]]
        if op == "dim":
            return [[self.const(self.sizes[e.name])]]
        if op == "call" and e.name == "log":
            return self._log(self.ev(e.args[0]))
        if op == "d" and f"d({e.name})" in self.env:
            return self.env[f"d({e.name})"]
        if op in ("apply", "D", "DD", "d") or (op == "call" and e.name not in _RATIONAL_CALLS):
            raise Unsupported(op if op != "call" else e.name)
        args = [self.ev(a) for a in e.args]
        if any(isinstance(a, Opaque) for a in args):
            return self._opaque_op(e, args)
        mats: list[Matrix] = args  # type: ignore[assignment]
        if op == "neg":
            return _map(mats[0], lambda v: -v)
        if op in ("add", "sub", "mul", "div"):
            fn: Callable[[Rat, Rat], Rat] = {"add": Rat.__add__, "sub": Rat.__sub__, "mul": Rat.__mul__, "div": Rat.__truediv__}[op]
            return _broadcast(fn, mats[0], mats[1])
        if op == "pow":
            exponent = constant_value(e.args[1])
            if exponent is None:
                raise Unsupported("non-integer power")
            return _map(mats[0], lambda v: v**exponent)
        if op == "matmul":
            return self.matmul(mats[0], mats[1])
        if op == "T":
            return [list(col) for col in zip(*mats[0])]
        if op == "part":
            start, rows = self.dim(parse_dim(e.name)), self.dim(e.shape[0])
            return mats[0][start : start + rows]
        return self.call(e, mats)

    def matmul(self, a: Matrix, b: Matrix) -> Matrix:
        result = []
        for row in a:
            out = []
            for j in range(len(b[0])):
                total = self.zero
                for k, v in enumerate(row):
                    if v.num != 0 and b[k][j].num != 0:
                        total = total + v * b[k][j]
                out.append(total)
            result.append(out)
        return result

    def call(self, e: Expr, args: list[Matrix]) -> Matrix:
        name = e.name
        if name in ("ones", "zeros", "eye"):
            r, c = self.dim(e.shape[0]), self.dim(e.shape[1])
            if name == "eye":
                return [[self.one if i == j else self.zero for j in range(r)] for i in range(r)]
            return [[self.one if name == "ones" else self.zero for _ in range(c)] for _ in range(r)]
        if name == "vstack":
            return [row for block in args for row in block]
        if name == "hstack":
            return [[v for block in args for v in block[i]] for i in range(len(args[0]))]
        (m,) = args
        if name == "trace":
            total = self.zero
            for i in range(len(m)):
                total = total + m[i][i]
            return [[total]]
        if name == "sum":
            total = self.zero
            for row in m:
                for v in row:
                    total = total + v
            return [[total]]
        if name == "diag":
            n = len(m)
            return [[m[i][0] if i == j else self.zero for j in range(n)] for i in range(n)]
        if name == "det":
            return [[self.det(m)]]
        if name == "inv":
            return self.inv(m)
        raise Unsupported(name)  # pragma: no cover - _RATIONAL_CALLS lists the names above

    def _common(self, m: Matrix) -> tuple[list[list[PolyElement]], PolyElement]:
        """m = N / d with one polynomial denominator d, when the entries share it."""
        den = m[0][0].den
        if any(v.den != den for row in m for v in row):
            raise Unsupported("entries with different denominators")
        return [[v.num for v in row] for row in m], den

    def det(self, m: Matrix) -> Rat:
        nums, den = self._common(m)
        n = len(nums)
        value = _poly_det(nums)
        return Rat(value, den**n)

    def inv(self, m: Matrix) -> Matrix:
        nums, den = self._common(m)
        n = len(nums)
        determinant = _poly_det(nums)
        if determinant == 0:
            raise ZeroDivisionError("the matrix is singular at these sizes")
        adj = _poly_adjugate(nums)
        return [[Rat(adj[i][j] * den, determinant) for j in range(n)] for i in range(n)]

    def _as_opaque(self, m: Matrix) -> Opaque:
        return Opaque((len(m), len(m[0])), {k: _map(m, lambda v, g=g: v.diff(g)) for k, g in enumerate(self.wrt_gens)})

    def _log(self, arg: Matrix | Opaque) -> Opaque:
        if isinstance(arg, Opaque):
            raise Unsupported("log of a log")
        derivs = {k: _map(arg, lambda u, g=g: u.diff(g) / u) for k, g in enumerate(self.wrt_gens)}
        return Opaque((len(arg), len(arg[0])), derivs)

    def _opaque_op(self, e: Expr, args: list[Any]) -> Opaque:
        """Linear operations on a log's derivatives; anything else needs its value."""
        op = e.op
        if op in ("add", "sub"):
            # a rational term beside a log is known through its derivatives as well
            args = [a if isinstance(a, Opaque) or _is_constant_matrix(a) else self._as_opaque(a) for a in args]
        if op in ("add", "sub") and all(isinstance(a, Opaque) or _is_constant_matrix(a) for a in args):
            sign = 1 if op == "add" else -1
            derivs = {}
            for k in range(len(self.wrt_gens)):
                left = args[0].derivs[k] if isinstance(args[0], Opaque) else None
                right = args[1].derivs[k] if isinstance(args[1], Opaque) else None
                if left is None:
                    derivs[k] = _map(right, lambda v: v if sign > 0 else -v)  # type: ignore[arg-type]
                elif right is None:
                    derivs[k] = left
                else:
                    derivs[k] = _broadcast(Rat.__add__ if sign > 0 else Rat.__sub__, left, right)
            shapes = [a.shape if isinstance(a, Opaque) else (len(a), len(a[0])) for a in args]
            shape = shapes[1] if shapes[0] == (1, 1) else shapes[0]  # a scalar beside a matrix broadcasts, in either order
            return Opaque(shape, derivs)
        if op == "neg":
            return Opaque(args[0].shape, {k: _map(d, lambda v: -v) for k, d in args[0].derivs.items()})
        if op in ("mul", "div") and _is_constant_matrix(args[1]) and isinstance(args[0], Opaque):
            c = args[1][0][0]
            fn = (lambda v: v * c) if op == "mul" else (lambda v: v / c)
            return Opaque(args[0].shape, {k: _map(d, fn) for k, d in args[0].derivs.items()})
        if op == "mul" and _is_constant_matrix(args[0]) and isinstance(args[1], Opaque):
            c = args[0][0][0]
            return Opaque(args[1].shape, {k: _map(d, lambda v: c * v) for k, d in args[1].derivs.items()})
        if op == "call" and e.name in ("sum", "trace"):
            inner = args[0]
            return Opaque((1, 1), {k: self.call(e, [d]) for k, d in inner.derivs.items()})
        raise Unsupported(f"{op} of a log")


_RATIONAL_CALLS = frozenset({"trace", "sum", "diag", "det", "inv", "ones", "zeros", "eye", "log", "vstack", "hstack"})


def _is_constant_matrix(a: Any) -> bool:
    return isinstance(a, list) and len(a) == 1 and len(a[0]) == 1 and a[0][0].num.is_ground and a[0][0].den.is_ground


def _map(m: Matrix, fn: Callable[[Rat], Rat]) -> Matrix:
    return [[fn(v) for v in row] for row in m]


def _broadcast(fn: Callable[[Rat, Rat], Rat], a: Matrix, b: Matrix) -> Matrix:
    if len(a) == 1 and len(a[0]) == 1 and not (len(b) == 1 and len(b[0]) == 1):
        return [[fn(a[0][0], v) for v in row] for row in b]
    if len(b) == 1 and len(b[0]) == 1 and not (len(a) == 1 and len(a[0]) == 1):
        return [[fn(v, b[0][0]) for v in row] for row in a]
    return [[fn(x, y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def _poly_det(m: list[list[PolyElement]]) -> PolyElement:
    """Determinant by Laplace expansion along the first row (sizes here are at most 6)."""
    n = len(m)
    if n == 1:
        return m[0][0]
    if n == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    total = m[0][0].ring.zero
    for j in range(n):
        if m[0][j] == 0:
            continue
        minor = [row[:j] + row[j + 1 :] for row in m[1:]]
        term = m[0][j] * _poly_det(minor)
        total = total + term if j % 2 == 0 else total - term
    return total


def _poly_adjugate(m: list[list[PolyElement]]) -> list[list[PolyElement]]:
    n = len(m)
    if n == 1:
        return [[m[0][0].ring.one]]
    adj = [[m[0][0].ring.zero] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            minor = [row[:j] + row[j + 1 :] for k, row in enumerate(m) if k != i]
            cofactor = _poly_det(minor)
            adj[j][i] = cofactor if (i + j) % 2 == 0 else -cofactor
    return adj


def make_ring(symbols: list[sp.Symbol]) -> tuple[PolyRing, dict[sp.Symbol, PolyElement]]:
    ring = PolyRing(symbols, QQ)
    return ring, dict(zip(symbols, ring.gens))


def to_sympy(r: Rat, ring: PolyRing) -> sp.Expr:
    return ring.to_sympy(r.num) / ring.to_sympy(r.den) if hasattr(ring, "to_sympy") else r.num.as_expr() / r.den.as_expr()
