"""Which sizes settle a claim for every size: the bound analysis of a model graph.

The theorem (see site/verification-theory.md for the full argument and references).
Write the claim as one identity F = 0 with F = D_V(of) - claim(V), a matrix whose entries
are sums of *terms*: a coefficient c(N), polynomial in the sizes N = (n_t) of the
dimension letters t, times a sum over index variables (each ranging over 1..n_t for its
letter t) of a product of entries of generic tensors (the leaves). Scalar denominators
(sums like x^T x, det atoms, sizes) are cleared by multiplying through. For each letter t,
if
    B(t)  bounds the number of distinct index variables of letter t in one term,
    L(t)  bounds the degree in n_t of c(N),
    U(t)  bounds the number of index variables of letter t in one term that may end up
          in no leaf entry (they come from ones, eye and broadcast scalars; with entrywise
          division by leaf entries, x_a / x_a = 1, any index variable may),
then F vanishes for every size as soon as it vanishes at every size tuple
    { (B(t) + k_t)_t : 0 <= k_t <= L(t) + U(t), sum_t k_t <= D }
where D bounds, over the terms, sum_t (L(t) + U(t)). Proof sketch: group the monomials of F
by their pattern (which leaf entries, with which coincidences of indices); a pattern uses
at most B(t) index values of letter t, so it occurs at every size n_t >= B(t), and its
coefficient is a polynomial in N of degree <= L(t) + U(t) in n_t and <= D in total; a
polynomial that vanishes on that grid is zero. Distinct patterns have disjoint sets of
monomials, so F is zero at a size exactly when every pattern's coefficient is.

What is counted, node by node (`Count`, per letter), over the terms of a node's entries:
  k  index variables, each free position (row, column) counted as its own variable;
  l  degree of the coefficient in the size;
  u  index variables that may be in no leaf (ones, eye, broadcast);
  tu max over terms of sum_t (l + u);  tk  max over terms of sum_t (l + k).
A product of terms adds counts; a sum takes the larger; contracting two positions into one
variable (matrix product, trace, entrywise product) subtracts one per contracted pair, because
each term has those positions. Every rule here may over-count (that only costs time: larger
sizes); none may under-count. tests/test_allsizes_bounds.py checks hand-counted expressions
and that an under-count by one lets a false claim through.

Denominators. A quotient a / b is split into b's multiplicative factors (mul, div, neg,
pow). A 1x1 factor is *global*: it is cleared, so the numerator of a sum gets the other
terms' global factors (a common denominator with multiplicities). A factor with rows or
columns is *local*: every entry must be a rational function of the leaf entries at that
entry's own index tuple (x_a, 1 - s_a, p_a / q_a); then nothing new is counted, but any
index variable may become free (x_a / x_a), so U(t) = B(t). A factor whose entries sum over
an index (a row sum, (A x)_a) is outside the theory. A sign leaf (abs) counts like a local
factor (s_a s_a = 1 frees a). A square root s of a scalar u = N / prod D_f^m_f is w / prod
D_f^ceil(m_f/2) with w^2 = N prod_{m_f odd} D_f: w counts half of that.

The full proof (patterns, the reduction to a base point that explains U = B for local factors,
separation by symmetrisation, interpolation on a lower set), with the arguments for signs,
square roots and the row-softmax model, is in site/verification-theory.md, "The arguments in
full". With lenient=True, index_bounds does not stop where the theory does not reach: it counts
on (a division outside the theory counted as an entrywise one) and lists why in Bounds.outside;
such a grid proves nothing, it says where a trap of the claim's shape would show first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from generator.engine.allsizes.ir import Dim, Node, Shape, walk
from generator.engine.parse import dim_value


def letters_of(d: Dim) -> list[str]:
    """The dimension letters in a dimension: [] for an integer, ["n"] for n, ["m", "n"] for m+n+2 (2n gives ["n"])."""
    if isinstance(d, int):
        return []
    out = []
    for term in str(d).split("+"):
        name = term.lstrip("0123456789")
        if name and name not in out:
            out.append(name)
    return out


class OutsideBounds(Exception):
    """The graph leaves the theory (a division by an index sum entrywise, ...); the message says why."""


@dataclass(frozen=True)
class Count:
    """Bounds over the terms of one polynomial, per letter (tuples follow Analysis.letters)."""

    k: tuple[int, ...]
    l: tuple[int, ...]
    u: tuple[int, ...]
    tu: int = 0
    tk: int = 0

    def plus(self, other: "Count") -> "Count":
        """A product of one term of each."""
        return Count(_add(self.k, other.k), _add(self.l, other.l), _add(self.u, other.u), self.tu + other.tu, self.tk + other.tk)

    def join(self, other: "Count") -> "Count":
        """The terms of both (a sum): the larger bound of each."""
        return Count(_max(self.k, other.k), _max(self.l, other.l), _max(self.u, other.u), max(self.tu, other.tu), max(self.tk, other.tk))

    def half(self) -> "Count":
        """Each bound halved, rounded up (a square root: two of them make one)."""
        up = lambda v: -(-v // 2)  # noqa: E731
        return Count(tuple(map(up, self.k)), tuple(map(up, self.l)), tuple(map(up, self.u)), up(self.tu), up(self.tk))

    def times(self, m: int) -> "Count":
        return Count(tuple(m * x for x in self.k), tuple(m * x for x in self.l), tuple(m * x for x in self.u), m * self.tu, m * self.tk)

    def merge(self, i: int, pairs: int = 1) -> "Count":
        """`pairs` pairs of positions of letter i become one variable each, in every term."""
        if pairs == 0:
            return self
        k = list(self.k)
        k[i] -= pairs
        if k[i] < 0:
            raise AssertionError("internal: a merge below zero variables")  # pragma: no cover
        return Count(tuple(k), self.l, self.u, self.tu, self.tk - pairs)


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


def _max(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(max(x, y) for x, y in zip(a, b))


@dataclass(frozen=True)
class Rat:
    """Bounds of a node's entries as cleared numerator over global denominator factors.

    den maps a factor (the id of a 1x1 node whose numerator is the factor) to its multiplicity.
    local: an entrywise (local) division occurs inside.
    """

    num: Count
    den: tuple[tuple[int, int], ...] = ()
    local: bool = False

    def den_dict(self) -> dict[int, int]:
        return dict(self.den)


@dataclass
class Bounds:
    """The result: the letters, B, L + U per letter, the total degree, and the grid it implies."""

    letters: tuple[str, ...]
    B: dict[str, int]
    L: dict[str, int]
    U: dict[str, int]
    D: int
    local: bool
    # why the theory does not reach, for bounds computed leniently (index_bounds(..., lenient=True)): then the grid
    # is not a proof, only the sizes where a trap of this shape would show (the witnesses look there)
    outside: tuple[str, ...] = ()
    # the smallest size of any letter in the grid (2, or more: see tied())
    floor: int = 2
    # the sizes each letter takes in the grid, k -> nodes[t][k] (default base + k): any distinct sizes >= B(t) settle
    # the same identities (interpolation on a lower set works with any distinct nodes per letter); chosen to avoid the
    # sizes where a denominator made of sizes alone (1 / (n - 2)) vanishes
    nodes: Optional[dict[str, tuple[int, ...]]] = None

    def node(self, t: str, k: int) -> int:
        return self.nodes[t][k] if self.nodes else self.base()[t] + k

    def with_nodes(self, nodes: dict[str, tuple[int, ...]]) -> "Bounds":
        return Bounds(self.letters, self.B, self.L, self.U, self.D, self.local, self.outside, self.floor, dict(nodes))

    def tied(self) -> "Bounds":
        """The same grid shifted so that every letter starts at the largest base: every letter >= B(t) still, so it
        settles the same identities (the theorem holds for any shift), and it holds tuples with the letters in every
        order (m >= n and m <= n), inside domains such as an invertible X^T X (m >= n) that the base grid may miss."""
        top = max((max(2, self.B[t]) for t in self.letters), default=2)
        return Bounds(self.letters, self.B, self.L, self.U, self.D, self.local, self.outside, max(self.floor, top))

    def degrees(self) -> dict[str, int]:
        return {t: self.L[t] + self.U[t] for t in self.letters}

    def base(self) -> dict[str, int]:
        """The smallest size of each letter in the grid: B(t), and never below 2."""
        return {t: max(self.floor, self.B[t]) for t in self.letters}

    def grid(self) -> list[dict[str, int]]:
        """Every size tuple base + k with k_t <= L(t) + U(t) and sum k_t <= D, smallest first."""
        return self.first(self.count())

    def count(self) -> int:
        """How many tuples grid() has (counted, not built)."""
        ways = [1] + [0] * self.D  # ways[k]: tuples of the letters so far with sum k_t = k
        for t in self.letters:
            d = self.degrees()[t]
            ways = [sum(ways[k - j] for j in range(min(d, k) + 1)) for k in range(self.D + 1)]
        return sum(ways)

    def first(self, count: int) -> list[dict[str, int]]:
        """The first `count` tuples of grid(), in the same order, without building a grid that may be huge."""
        base, deg = self.base(), self.degrees()
        letters = self.letters
        out: list[dict[str, int]] = []

        def compositions(i: int, left: int) -> Iterator[tuple[int, ...]]:
            if i == len(letters):
                if left == 0:
                    yield ()
                return
            for k in range(min(left, deg[letters[i]]) + 1):
                for rest in compositions(i + 1, left - k):
                    yield (k, *rest)

        for total in range(self.D + 1):
            level = sorted(tuple(self.node(t, k) for t, k in zip(letters, ks)) for ks in compositions(0, total))
            for values in level:
                out.append(dict(zip(letters, values)))
                if len(out) >= count:
                    return out
        return out

    def to_json(self) -> dict[str, object]:
        return {"B": dict(self.B), "L": dict(self.L), "U": dict(self.U), "D": self.D, "local": self.local}


class Analysis:
    """The index bounds of every node of a graph (memoised by node id)."""

    def __init__(self, letters: Iterable[str], lenient: bool = False) -> None:
        self.letters = tuple(letters)
        # lenient: where the theory does not reach, note why and count on as if it did (a division outside the theory
        # counted as an entrywise one): not a proof, but the sizes where a trap of this shape shows
        self.lenient = lenient
        self.outside: list[str] = []
        self.index = {t: i for i, t in enumerate(self.letters)}
        self.zero = Count(self.zeros(), self.zeros(), self.zeros())
        self.memo: dict[int, Rat] = {}
        self.factor: dict[int, Count] = {}  # global factor id -> the count of its numerator
        self.nodes: dict[int, Node] = {}  # global factor id -> its node
        self.sites: dict[int, object] = {}

    def zeros(self) -> tuple[int, ...]:
        return tuple(0 for _ in self.letters)

    def not_covered(self, why: str) -> None:
        """The theory does not reach: raise, or (lenient) note why and go on."""
        if not self.lenient:
            raise OutsideBounds(why)
        if why not in self.outside:
            self.outside.append(why)

    def positions(self, shape: Shape) -> tuple[int, ...]:
        """Per letter: how many of the shape's positions have that letter.

        A stacked dimension such as n+1 or m+n ranges over blocks: its index is a variable of one of
        its letters (or a fixed value), so it counts once for each letter in it (an over-count)."""
        out = [0] * len(self.letters)
        for d in shape:
            for letter in letters_of(d):
                out[self.index[letter]] += 1
        return tuple(out)

    def merge_dim(self, r: "Rat", d: Dim) -> "Rat":
        """Two positions of dimension d become one variable, in every term."""
        num = r.num
        for letter in letters_of(d):
            num = num.merge(self.index[letter])
        return Rat(num, r.den, r.local)

    def free(self, shape: Shape, unsupported: bool = False) -> Count:
        """The count of a shape's free positions: each a variable; `unsupported` when nothing pins them."""
        pos = self.positions(shape)
        u = pos if unsupported else self.zeros()
        return Count(pos, self.zeros(), u, sum(u), sum(pos))

    # -- rational combinations
    def den_count(self, den: dict[int, int]) -> Count:
        total = self.zero
        for fid, m in den.items():
            total = total.plus(self.factor[fid].times(m))
        return total

    def rat_sum(self, a: Rat, b: Rat) -> Rat:
        da, db = a.den_dict(), b.den_dict()
        lcm = {f: max(da.get(f, 0), db.get(f, 0)) for f in set(da) | set(db)}
        na = a.num.plus(self.den_count({f: m - da.get(f, 0) for f, m in lcm.items()}))
        nb = b.num.plus(self.den_count({f: m - db.get(f, 0) for f, m in lcm.items()}))
        return Rat(na.join(nb), tuple(sorted(lcm.items())), a.local or b.local)

    def rat_product(self, a: Rat, b: Rat) -> Rat:
        den = a.den_dict()
        for f, m in b.den:
            den[f] = den.get(f, 0) + m
        return Rat(a.num.plus(b.num), tuple(sorted(den.items())), a.local or b.local)

    def broadcast(self, r: Rat, shape: Shape) -> Rat:
        """A 1x1 value used in every entry of `shape`: its free positions are new, unpinned variables."""
        return Rat(r.num.plus(self.free(shape, unsupported=True)), r.den, r.local)

    # -- the analysis
    def of(self, node: Node) -> Rat:
        for n in walk([node]):
            if n.id not in self.memo:
                self.memo[n.id] = self._rule(n)
        return self.memo[node.id]

    def _rule(self, n: Node) -> Rat:
        op = n.op
        m = self.memo
        if op == "leaf":
            kind = n.attr.kind
            if kind in ("sign", "signsym"):  # the sign of abs: s_a * s_a = 1 frees an index
                return Rat(self.free(n.shape), (), True)
            return Rat(self.free(n.shape))
        if op in ("const", "zeros"):
            return Rat(self.free(n.shape, unsupported=True))
        if op == "dim":  # a size used as a number (n, or a sum of sizes such as n+1): degree 1 in each letter in it
            l = list(self.zeros())
            for letter in letters_of(n.attr):
                l[self.index[letter]] = 1
            return Rat(Count(self.zeros(), tuple(l), self.zeros(), sum(l), sum(l)))
        if op == "ones":
            return Rat(self.free(n.shape, unsupported=True))
        if op == "eye":
            d = n.shape[0]
            letters = letters_of(d)
            if not letters:
                return Rat(self.zero)
            c = self.free(n.shape, unsupported=True)  # two positions, one variable (per letter), unpinned
            u = tuple(1 if t in letters else 0 for t in self.letters)
            return Rat(Count(c.k, c.l, u, sum(u), c.tk))
        if op in ("neg", "T"):
            return m[n.args[0].id]
        if op in ("add", "sub"):
            a, b = (self._shaped(x, n.shape) for x in n.args)
            return self.rat_sum(a, b)
        if op == "mul":
            x, y = n.args
            if x.is_scalar or y.is_scalar:
                return self.rat_product(m[x.id], m[y.id])
            r = self.rat_product(m[x.id], m[y.id])
            return self._merge_positions(r, n.shape)
        if op == "div":
            return self.division(n)
        if op == "pow":
            k = n.attr
            r = m[n.args[0].id]
            den = tuple((f, mult * k) for f, mult in r.den)
            out = Rat(r.num.times(k), den, r.local)
            for _ in range(k - 1):
                out = self._merge_positions(out, n.shape)
            return out
        if op == "matmul":
            a, b = n.args
            return self.merge_dim(self.rat_product(m[a.id], m[b.id]), a.shape[1])
        if op == "trace":
            return self.merge_dim(m[n.args[0].id], n.args[0].shape[0])
        if op == "slice":  # rows of a column: its entries are entries of the column (positions counted as the column's)
            return m[n.args[0].id]
        if op == "stack":  # each entry is an entry of one block; a block's positions are padded to the stacked ones
            total: Rat | None = None
            full = self.positions(n.shape)
            for block in n.args:
                r = m[block.id]
                pad = tuple(f - b for f, b in zip(full, self.positions(block.shape)))
                r = Rat(r.num.plus(Count(pad, self.zeros(), self.zeros(), 0, sum(pad))), r.den, r.local)
                total = r if total is None else self.rat_sum(total, r)
            assert total is not None
            return total
        if op == "sum":
            return m[n.args[0].id]
        if op == "sqrt":
            # s with s^2 = u = N / prod_f D_f^(m_f) (N the cleared numerator, D_f the global factors). Write
            # s = w / prod_f D_f^ceil(m_f / 2) with w^2 = W := N * prod_{f: m_f odd} D_f, a polynomial. Everything is
            # then a polynomial in the leaves and w over global factors; reduced by w^2 = W, w^j is W^(j // 2) w^(j % 2),
            # and counting each w as half of W (rounded up) over-counts every power; the last w is the basis element of
            # A + B w, not a variable of A or B. (Counting w as half of N alone, without the odd factors D_f, under-counts:
            # tests/test_allsizes_bounds.py has the trap it let through.)
            r = m[n.args[0].id]
            odd = self.den_count({f: 1 for f, mult in r.den if mult % 2})
            return Rat(r.num.plus(odd).half(), tuple((f, -(-mult // 2)) for f, mult in r.den), r.local)
        if op == "diag":
            r = m[n.args[0].id]
            extra = self.free((1, n.shape[1]))  # the column position is a new position of the same letter
            return Rat(r.num.plus(extra), r.den, r.local)
        raise OutsideBounds(f"the operation {op} belongs to the exact mode, not to an all-sizes proof")

    def _shaped(self, x: Node, shape: Shape) -> Rat:
        r = self.memo[x.id]
        return self.broadcast(r, shape) if x.is_scalar and shape != x.shape else r

    def _merge_positions(self, r: Rat, shape: Shape) -> Rat:
        """Two entrywise operands share their row and column variables."""
        num = r.num
        for i, p in enumerate(self.positions(shape)):
            num = num.merge(i, p)
        return Rat(num, r.den, r.local)

    def division(self, n: Node) -> Rat:
        a, b = n.args
        r = self._shaped(a, n.shape)
        for factor, power in multiplicative_factors(b):
            fr = self.of(factor)
            if power < 0:  # a factor of the divisor's denominator multiplies the numerator
                part = Rat(fr.num, fr.den, fr.local)
                if not factor.is_scalar and factor.shape != n.shape:
                    part = self.broadcast(part, n.shape)
                for _ in range(-power):
                    r = self.rat_product(r, part) if factor.is_scalar else self._merge_positions(self.rat_product(r, part), n.shape)
                continue
            # the factor's own global denominators move up into the numerator
            lifted = self.den_count(fr.den_dict()).times(power)
            r = Rat(r.num.plus(lifted), r.den, r.local)
            if factor.is_scalar:
                if fr.local:
                    self.not_covered("it divides by a sum of entrywise quotients, which the all-sizes theory does not cover")
                self.factor[factor.id] = fr.num
                self.nodes[factor.id] = factor
                den = r.den_dict()
                den[factor.id] = den.get(factor.id, 0) + power
                r = Rat(r.num, tuple(sorted(den.items())), r.local)
            else:
                site = self.site(factor)
                if any(x.op == "dim" for x in walk([factor])):
                    self.not_covered("it divides entrywise by an expression that contains a size, which the all-sizes "
                                     "theory does not cover")
                elif site == "nonlocal":
                    self.not_covered("it divides entrywise by a sum over an index (a row sum, as in a row-wise softmax), "
                                     "which the all-sizes theory does not cover")
                r = Rat(r.num, r.den, True)
        return r

    # -- sites: is every entry a function of the leaf entries at that entry's own index tuple?
    def site(self, n: Node) -> object:
        """"const" (no leaf entry with an index), frozenset of positions (all leaf entries at that
        sub-tuple of the entry's indices), or "nonlocal"."""
        if n.id in self.sites:
            return self.sites[n.id]
        out = self._site(n)
        self.sites[n.id] = out
        return out

    def _site(self, n: Node) -> object:
        op = n.op
        if op == "leaf":
            if n.is_scalar:
                return "const"  # a 1x1 leaf has no index: it is a coefficient
            return frozenset(i for i, d in enumerate(n.shape) if d != 1)
        if op in ("const", "dim", "eye", "ones", "zeros"):
            return "const"
        if op in ("neg", "pow"):
            return self.site(n.args[0])
        if op == "slice":
            inner = self.site(n.args[0])
            if n.is_scalar:  # one entry of a column, at a fixed index: a coefficient
                return "const" if inner in ("const",) or isinstance(inner, frozenset) else "nonlocal"
            return inner
        if op == "T":
            s = self.site(n.args[0])
            return s if not isinstance(s, frozenset) else frozenset(1 - i for i in s)
        if op in ("add", "sub", "mul", "div"):
            if op == "div" and n.args[1].is_scalar and not n.is_scalar:
                parts = [self.site(n.args[0])]  # a global denominator is not part of the local function
            else:
                parts = [self.site(x) if not (x.is_scalar and not n.is_scalar) else self._scalar_site(x) for x in n.args]
            return _combine(parts)
        if op == "matmul":
            a, b = n.args
            if a.shape[1] == 1:  # an outer product: entry (i, j) = a_i b_j
                sa, sb = self.site(a), self.site(b)
                sa = sa if not isinstance(sa, frozenset) else frozenset({0} & sa)
                sb = sb if not isinstance(sb, frozenset) else frozenset({1} if 1 in sb else set())
                if sa == "const":
                    return sb
                if sb == "const":
                    return sa
                return "nonlocal"
            return "nonlocal"
        if op in ("trace", "sum"):
            return "const" if self.site(n.args[0]) == "const" else "nonlocal"
        return "nonlocal"

    def _scalar_site(self, x: Node) -> object:
        """A 1x1 operand broadcast over a matrix: fine inside a local function only if it has no index."""
        return "const" if self.site(x) == "const" else "nonlocal"


def _combine(parts: list[object]) -> object:
    out: object = "const"
    for p in parts:
        if p == "nonlocal":
            return "nonlocal"
        if p == "const":
            continue
        if out == "const":
            out = p
        elif out != p:
            return "nonlocal"
    return out


def multiplicative_factors(b: Node) -> list[tuple[Node, int]]:
    """b as a product of factors with integer powers (a constant factor is dropped; it is not zero)."""
    if b.op == "mul":
        return multiplicative_factors(b.args[0]) + multiplicative_factors(b.args[1])
    if b.op == "div":
        return multiplicative_factors(b.args[0]) + [(f, -p) for f, p in multiplicative_factors(b.args[1])]
    if b.op == "neg":
        return multiplicative_factors(b.args[0])
    if b.op == "pow":
        return [(f, p * b.attr) for f, p in multiplicative_factors(b.args[0])]
    if b.op == "const":
        if b.attr == 0:
            raise ZeroDivisionError("division by the constant 0")
        return []
    return [(b, 1)]


def _square_root_denominators(an: "Analysis", roots: list[Node], total: Rat) -> Count:
    """With square roots s (s^2 = u) the identity is written A + B s over a denominator free of s: a power s^M of the
    denominator becomes u^(M // 2), times s in the numerator when M is odd (one more s, counted at half of u).

    A denominator factor with a square root inside a sum (1 + s) would need a conjugate: outside the theory.
    """
    extra = an.zero
    sqrt_ids = {n.id for n in walk(list(roots)) if n.op == "sqrt"}
    if not sqrt_ids:
        return extra
    for fid, mult in total.den:
        if fid in sqrt_ids:
            if mult % 2:
                extra = extra.plus(an.factor[fid])
            continue
        if fid >= 0 and any(x.op == "sqrt" for x in walk([an.nodes[fid]])):
            an.not_covered("it divides by a sum that contains a square root, which the all-sizes theory does not cover")
    return extra


def index_bounds(roots: list[Node], letters: Iterable[str], lenient: bool = False) -> Bounds:
    """B, L, U and D of the identity roots[0] = roots[1] = ... (each root is one side).

    Raises OutsideBounds where the theory does not reach; with lenient, goes on and lists why in Bounds.outside
    (then the grid proves nothing: it says where a trap of the claim's shape would show)."""
    an = Analysis(letters, lenient)
    total: Rat | None = None
    for r in roots:
        rat = an.of(r)
        total = rat if total is None else an.rat_sum(total, rat)
    assert total is not None
    num = total.num
    num = num.plus(_square_root_denominators(an, roots, total))
    B = {t: num.k[i] for i, t in enumerate(an.letters)}
    L = {t: num.l[i] for i, t in enumerate(an.letters)}
    U = {t: (num.k[i] if total.local else num.u[i]) for i, t in enumerate(an.letters)}
    D = num.tk if total.local else num.tu
    return Bounds(an.letters, B, L, U, D, total.local, tuple(an.outside))


# ---------------------------------------------------------------- degree and height at one size

@dataclass(frozen=True)
class Poly:
    """Degree and log2 of the 1-norm of the integer coefficients of one polynomial."""

    d: int = 0
    h: float = 0.0

    def times(self, other: "Poly") -> "Poly":
        return Poly(self.d + other.d, self.h + other.h)

    def power(self, k: int) -> "Poly":
        return Poly(self.d * k, self.h * k)

    def plus(self, other: "Poly") -> "Poly":
        """A bound for a sum of one polynomial of each kind."""
        return Poly(max(self.d, other.d), _lse(self.h, other.h))


@dataclass(frozen=True)
class Frac:
    """An entry as num / (global factors * local denominator): global factors are 1x1 nodes shared by
    every entry (cleared once), the local denominator may differ from entry to entry."""

    num: Poly
    gden: tuple[tuple[int, int], ...] = ()
    lden: Poly = Poly()


def _lse(a: float, b: float) -> float:
    """log2(2^a + 2^b)."""
    hi, lo = max(a, b), min(a, b)
    return hi + math.log2(1 + 2 ** (lo - hi)) if lo > -math.inf else hi


class SizeAnalysis:
    """Degree and height of the cleared numerator of a graph's values at concrete sizes.

    The degree bounds the Schwartz-Zippel error of one random evaluation (degree / p); the
    height (log2 of the sum of the absolute values of the integer coefficients) must stay
    below log2 p, so that a numerator that is not zero over the integers is not zero modulo p.
    """

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.memo: dict[int, Frac] = {}
        self.factor: dict[int, Poly] = {}
        self.memo_node: dict[int, Node] = {}

    def dim(self, d: Dim) -> int:
        return dim_value(d, self.sizes)

    def gpoly(self, gden: dict[int, int]) -> Poly:
        out = Poly()
        for f, m in gden.items():
            out = out.times(self.factor[f].power(m))
        return out

    def add(self, a: Frac, b: Frac) -> Frac:
        ga, gb = dict(a.gden), dict(b.gden)
        lcm = {f: max(ga.get(f, 0), gb.get(f, 0)) for f in set(ga) | set(gb)}
        ta = a.num.times(self.gpoly({f: m - ga.get(f, 0) for f, m in lcm.items()})).times(b.lden)
        tb = b.num.times(self.gpoly({f: m - gb.get(f, 0) for f, m in lcm.items()})).times(a.lden)
        return Frac(ta.plus(tb), tuple(sorted(lcm.items())), a.lden.times(b.lden))

    def mul(self, a: Frac, b: Frac) -> Frac:
        g = dict(a.gden)
        for f, m in b.gden:
            g[f] = g.get(f, 0) + m
        return Frac(a.num.times(b.num), tuple(sorted(g.items())), a.lden.times(b.lden))

    def summed(self, a: Frac, count: int) -> Frac:
        """A sum of `count` entries: the global factors are shared, the local denominators are not."""
        if count <= 1:
            return a
        num = Poly(a.num.d + (count - 1) * a.lden.d, math.log2(count) + a.num.h + (count - 1) * a.lden.h)
        return Frac(num, a.gden, a.lden.power(count))

    def of(self, roots: list[Node]) -> Frac:
        for n in walk(roots):
            if n.id not in self.memo:
                self.memo[n.id] = self._rule(n)
        total = self.memo[roots[0].id]
        for r in roots[1:]:
            total = self.add(total, self.memo[r.id])
        return total

    def _rule(self, n: Node) -> Frac:
        op = n.op
        m = self.memo
        if op in ("leaf", "vleaf"):
            return Frac(Poly(1, 0.0))
        if op == "const":
            v = n.attr
            num = Poly(0, math.log2(abs(v.numerator)) if v.numerator else 0.0)
            if v.denominator == 1:
                return Frac(num)
            # a constant denominator is the same in every entry: a global factor, keyed by its value
            self.factor[-v.denominator] = Poly(0, math.log2(v.denominator))
            return Frac(num, ((-v.denominator, 1),))
        if op == "dim":
            return Frac(Poly(0, math.log2(self.dim(n.attr))))
        if op in ("eye", "ones", "zeros"):
            return Frac(Poly())
        if op == "sqrt":
            # u = N / (G L), G the global factors, L the local denominator: s = w / (G^ceil(m/2) L) with
            # w^2 = W := N * G_odd * L; half of W's degree and height per w (see Analysis)
            a = m[n.args[0].id]
            odd = self.gpoly({f: 1 for f, mult in a.gden if mult % 2})
            w = a.num.times(odd).times(a.lden)
            return Frac(Poly(-(-w.d // 2), w.h / 2), tuple((f, -(-mult // 2)) for f, mult in a.gden), a.lden)
        if op in ("neg", "T", "diag", "slice"):
            return m[n.args[0].id]
        if op == "stack":
            total = m[n.args[0].id]
            for block in n.args[1:]:
                total = self.add(total, m[block.id])
            return total
        if op in ("add", "sub"):
            return self.add(m[n.args[0].id], m[n.args[1].id])
        if op == "mul":
            return self.mul(m[n.args[0].id], m[n.args[1].id])
        if op == "div":
            out = m[n.args[0].id]
            for factor, power in multiplicative_factors(n.args[1]):
                fr = m[factor.id] if factor.id in m else self.of([factor])
                if power < 0:
                    for _ in range(-power):
                        out = self.mul(out, fr)
                    continue
                lifted = self.gpoly(dict(fr.gden)).power(power).times(fr.lden.power(power))
                out = Frac(out.num.times(lifted), out.gden, out.lden)
                if factor.is_scalar:
                    self.factor[factor.id] = fr.num
                    self.memo_node[factor.id] = factor
                    g = dict(out.gden)
                    g[factor.id] = g.get(factor.id, 0) + power
                    out = Frac(out.num, tuple(sorted(g.items())), out.lden)
                else:
                    out = Frac(out.num, out.gden, out.lden.times(fr.num.power(power)))
            return out
        if op == "pow":
            a = m[n.args[0].id]
            k = n.attr
            return Frac(a.num.power(k), tuple((f, mult * k) for f, mult in a.gden), a.lden.power(k))
        if op == "matmul":
            return self.summed(self.mul(m[n.args[0].id], m[n.args[1].id]), self.dim(n.args[0].shape[1]))
        if op == "trace":
            return self.summed(m[n.args[0].id], self.dim(n.args[0].shape[0]))
        if op == "sum":
            shape = n.args[0].shape
            return self.summed(m[n.args[0].id], self.dim(shape[0]) * self.dim(shape[1]))
        raise OutsideBounds(f"the operation {op} belongs to the exact mode")  # detx, invx: never in a proof


def size_bounds(roots: list[Node], sizes: dict[str, int]) -> Poly:
    """Degree and height of the cleared numerator of the identity roots[0] = roots[1] = ... at `sizes`.

    With square roots the numerator is multiplied by conjugates of the denominator (see index_bounds): their
    degree and height are added, as for the index counts.
    """
    sa = SizeAnalysis(sizes)
    total = sa.of(roots)
    num = total.num
    for f, mult in total.gden:  # an odd power of a square root in the denominator: one more s in the numerator
        if f >= 0 and mult % 2 and sa.memo_node.get(f) is not None and sa.memo_node[f].op == "sqrt":
            num = num.times(sa.factor[f])
    return num
