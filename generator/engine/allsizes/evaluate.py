"""Evaluate a model graph at concrete sizes, exactly: modulo a prime, or in rationals.

Leaves get pseudo-random values drawn from (seed, point, leaf key, sizes), so a run is
reproducible and a second seed gives an independent point. A division by a value that is
0 raises ZeroDenominator, naming the node; the caller tries another point, and calls the
denominator exactly zero when every point gives 0.

Standard library only.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any, Callable, Optional

from generator.engine.allsizes.ir import Dim, Node, walk
from generator.engine.parse import dim_value

P61 = (1 << 61) - 1  # a Mersenne prime; p = 3 mod 4
P62 = (1 << 62) - 57  # a second prime of the same size (for the height bound and the second-prime test)
# More primes p = 3 mod 4 below 2^62 (tests/test_allsizes.py checks them): a numerator that is not zero over the
# integers is not zero modulo at least one of r primes when its coefficients stay below their product.
PRIMES = (P61, P62) + tuple((1 << 62) - d for d in (117, 153, 273, 317, 581, 633, 765))

Matrix = list[list[Any]]


class ZeroDenominator(ArithmeticError):
    """A division (or an inverse) by zero at the point evaluated."""

    def __init__(self, node: Node) -> None:
        super().__init__(f"division by zero at node {node.id}")
        self.node = node


class NotSquare(ArithmeticError):
    """A square root of a value that has none in the field: try another point."""


class ModP:
    """The integers modulo a prime."""

    def __init__(self, p: int) -> None:
        self.p = p

    def frac(self, v: Fraction) -> int:
        return v.numerator % self.p * pow(v.denominator, -1, self.p) % self.p

    def inv(self, x: int) -> int:
        return pow(x, -1, self.p)

    def norm(self, x: int) -> int:
        return x % self.p

    def power(self, x: int, k: int) -> int:
        return pow(x, k, self.p)

    def is_zero(self, x: int) -> bool:
        return x % self.p == 0

    def random(self, rng: random.Random) -> int:
        return rng.randrange(1, self.p)

    def sqrt(self, x: int) -> int:
        """A square root of x (p = 3 mod 4), or NotSquare."""
        x %= self.p
        if x == 0:
            return 0
        if pow(x, (self.p - 1) // 2, self.p) != 1:
            raise NotSquare()
        return pow(x, (self.p + 1) // 4, self.p)

    def __repr__(self) -> str:
        return f"ModP({self.p})"


class Rationals:
    """Exact rational numbers (fractions.Fraction); random values are small integers."""

    def frac(self, v: Fraction) -> Fraction:
        return v

    def inv(self, x: Fraction) -> Fraction:
        return 1 / Fraction(x)

    def norm(self, x: Any) -> Fraction:
        return Fraction(x)

    def power(self, x: Any, k: int) -> Fraction:
        return Fraction(x) ** k

    def is_zero(self, x: Any) -> bool:
        return x == 0

    def random(self, rng: random.Random) -> Fraction:
        return Fraction(rng.choice([-3, -2, -1, 1, 2, 3]))


LeafValues = Callable[[Node, tuple[int, int]], Optional[Matrix]]


class Evaluator:
    """Values of the nodes of one graph at one size tuple and one point."""

    def __init__(self, field: Any, sizes: dict[str, int], seed: int, point: int = 0,
                 override: Optional[LeafValues] = None, roots: Optional[dict[int, int]] = None) -> None:
        self.F, self.sizes, self.seed, self.point = field, sizes, seed, point
        self.override = override
        self.roots = roots or {}  # sqrt node id -> -1 for the other square root
        self.memo: dict[int, Matrix] = {}
        self.size_text = ",".join(f"{k}={v}" for k, v in sorted(sizes.items()))

    def dim(self, d: Dim) -> int:
        return dim_value(d, self.sizes)  # a letter, an integer or a sum such as n+1

    def shape(self, n: Node) -> tuple[int, int]:
        return self.dim(n.shape[0]), self.dim(n.shape[1])

    def rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}|{self.point}|{self.size_text}|{key}")

    def leaf_values(self, n: Node) -> Matrix:
        r, c = self.shape(n)
        if self.override is not None:
            given = self.override(n, (r, c))
            if given is not None:
                return given
        leaf = n.attr
        rng = self.rng(f"{leaf.key}|{r}x{c}")  # a key met with two shapes (never, by construction) gets independent values
        F = self.F
        if leaf.kind == "diagval":
            return [[F.random(rng) if i == j else F.norm(0) for j in range(c)] for i in range(r)]
        if leaf.kind in ("sym", "idemsym", "signsym", "symval"):
            m = [[None] * c for _ in range(r)]
            for i in range(r):
                for j in range(i, c):
                    m[i][j] = m[j][i] = F.random(rng)
            return m
        return [[F.random(rng) for _ in range(c)] for _ in range(r)]

    def vleaf_values(self, n: Node, args: list[Matrix]) -> Matrix:
        """A generic function's value or derivative keyed by the values of its arguments."""
        leaf, component = n.attr
        r, c = self.shape(n)
        F = self.F
        if component.startswith("elementwise:"):
            (u,) = args
            return [[F.random(random.Random(f"{self.seed}|{leaf.key}|{u[i][j]}")) for j in range(c)] for i in range(r)]
        rng = random.Random(f"{self.seed}|{leaf.key}|{args!r}")
        if leaf.kind in ("sym", "symval"):
            m = [[None] * c for _ in range(r)]
            for i in range(r):
                for j in range(i, c):
                    m[i][j] = m[j][i] = F.random(rng)
            return m
        return [[F.random(rng) for _ in range(c)] for _ in range(r)]

    def value(self, root: Node) -> Matrix:
        for n in walk([root]):
            if n.id not in self.memo:
                self.memo[n.id] = self._eval(n)
        return self.memo[root.id]

    def _eval(self, n: Node) -> Matrix:
        F = self.F
        op = n.op
        m = self.memo
        if op == "leaf":
            return self.leaf_values(n)
        if op == "vleaf":
            return self.vleaf_values(n, [m[a.id] for a in n.args])
        if op == "const":
            return [[F.frac(n.attr)]]
        if op == "dim":
            return [[F.norm(self.dim(n.attr))]]
        r, c = self.shape(n)
        if op == "eye":
            return [[F.norm(1 if i == j else 0) for j in range(c)] for i in range(r)]
        if op == "ones":
            return [[F.norm(1)] * c for _ in range(r)]
        if op == "zeros":
            return [[F.norm(0)] * c for _ in range(r)]
        if op == "neg":
            return [[F.norm(-x) for x in row] for row in m[n.args[0].id]]
        if op == "T":
            return [list(col) for col in zip(*m[n.args[0].id])]
        if op in ("add", "sub", "mul", "div"):
            a, b = m[n.args[0].id], m[n.args[1].id]
            if op == "div":
                b = self._inverses(b, n)
            A = a if len(a) == r and len(a[0]) == c else [[a[0][0]] * c for _ in range(r)]
            B = b if len(b) == r and len(b[0]) == c else [[b[0][0]] * c for _ in range(r)]
            if op == "add":
                return [[F.norm(x + y) for x, y in zip(ra, rb)] for ra, rb in zip(A, B)]
            if op == "sub":
                return [[F.norm(x - y) for x, y in zip(ra, rb)] for ra, rb in zip(A, B)]
            return [[F.norm(x * y) for x, y in zip(ra, rb)] for ra, rb in zip(A, B)]
        if op == "pow":
            k = n.attr
            return [[F.power(x, k) for x in row] for row in m[n.args[0].id]]
        if op == "matmul":
            a, b = m[n.args[0].id], m[n.args[1].id]
            cols = list(zip(*b))
            return [[F.norm(sum(x * y for x, y in zip(row, col))) for col in cols] for row in a]
        if op == "trace":
            a = m[n.args[0].id]
            return [[F.norm(sum(a[i][i] for i in range(len(a))))]]
        if op == "sum":
            return [[F.norm(sum(sum(row) for row in m[n.args[0].id]))]]
        if op == "diag":
            v = m[n.args[0].id]
            k = len(v)
            return [[v[i][0] if i == j else F.norm(0) for j in range(k)] for i in range(k)]
        if op == "slice":
            start = self.dim(n.attr)
            return [list(row) for row in m[n.args[0].id][start:start + r]]
        if op == "stack":
            blocks = [m[a.id] for a in n.args]
            if n.attr == "v":
                return [list(row) for b in blocks for row in b]
            return [[x for b in blocks for x in b[i]] for i in range(r)]
        if op == "sqrt":
            root = F.sqrt(m[n.args[0].id][0][0])
            return [[F.norm(-root) if self.roots.get(n.id, 1) < 0 else root]]
        if op == "detx":
            return [[self._det(m[n.args[0].id])]]
        if op == "invx":
            return self._inverse(m[n.args[0].id], n)
        raise ValueError(f"cannot evaluate {op}")  # pragma: no cover

    def _inverses(self, b: Matrix, n: Node) -> Matrix:
        F = self.F
        out = []
        for row in b:
            new = []
            for x in row:
                if F.is_zero(x):
                    raise ZeroDenominator(n)
                new.append(F.inv(x))
            out.append(new)
        return out

    def _det(self, a: Matrix) -> Any:
        F = self.F
        k = len(a)
        m = [list(row) for row in a]
        det = F.norm(1)
        for col in range(k):
            pivot = next((r for r in range(col, k) if not F.is_zero(m[r][col])), None)
            if pivot is None:
                return F.norm(0)
            if pivot != col:
                m[col], m[pivot] = m[pivot], m[col]
                det = F.norm(-det)
            det = F.norm(det * m[col][col])
            inv = F.inv(m[col][col])
            for r in range(col + 1, k):
                if not F.is_zero(m[r][col]):
                    f = F.norm(m[r][col] * inv)
                    m[r] = [F.norm(x - f * y) for x, y in zip(m[r], m[col])]
        return det

    def _inverse(self, a: Matrix, n: Node) -> Matrix:
        F = self.F
        k = len(a)
        m = [list(row) + [F.norm(1 if i == j else 0) for j in range(k)] for i, row in enumerate(a)]
        for col in range(k):
            pivot = next((r for r in range(col, k) if not F.is_zero(m[r][col])), None)
            if pivot is None:
                raise ZeroDenominator(n)
            m[col], m[pivot] = m[pivot], m[col]
            inv = F.inv(m[col][col])
            m[col] = [F.norm(x * inv) for x in m[col]]
            for r in range(k):
                if r != col and not F.is_zero(m[r][col]):
                    f = m[r][col]
                    m[r] = [F.norm(x - f * y) for x, y in zip(m[r], m[col])]
        return [row[k:] for row in m]


def leaves(roots: list[Node]) -> list[Node]:
    """The leaves reachable from roots."""
    return [n for n in walk(roots) if n.op == "leaf"]
