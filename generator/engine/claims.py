"""The data a verification works on and produces: a Claim in, a Verdict out.

Plain frozen data with no SymPy or NumPy import, so that loading, validating and reading
cached verdicts (a cached `mcref check`) never pays for importing the algebra.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from generator.engine.parse import Expr, Scope, Shape, inline, is_scalar, is_vector, substitute, transposed


@functools.lru_cache(maxsize=1)
def sympy_version() -> str:
    """SymPy's version, read from its metadata once (importing SymPy takes half a second; reading the metadata for
    every cache key took 0.6 s of a cached check)."""
    try:
        return version("sympy")
    except PackageNotFoundError:  # pragma: no cover - sympy is a dependency
        import sympy

        return str(sympy.__version__)


@dataclass(frozen=True)
class Claim:
    """Everything needed to check one derivative claim; plain data, so it can cross processes."""

    label: str  # rule id, or "<id> example"
    kind: str  # derivative | differential (of order 1 or 2, below)
    layout: str  # layout of expect
    scope: Scope
    of: Expr
    wrt: str
    expect: Expr
    assume: dict[str, tuple[str, ...]]
    sizes: tuple[tuple[tuple[str, int], ...], ...]
    # `where:` names with their inlined expressions, and expect as written with the names:
    # of and expect above are always fully inlined, so no check ever sees a name.
    where: tuple[tuple[str, Expr], ...] = ()
    short_expect: Expr | None = None
    # 2: the second derivative (a Hessian for a scalar by a vector, d2/dx2 by a scalar) or
    # the second differential. Out of the repr so that first-order claims keep their keys.
    order: int = field(default=1, repr=False)
    # `wrt: [x, y]`: wrt names the stacked vector "(x, y)" and each listed symbol is a `part`
    # of it in of, expect and other(); the short forms keep x and y for printing. Out of the
    # repr: of and expect already show the substitution, so equal claims keep their cache key.
    parts: tuple[tuple[str, Expr], ...] = field(default=(), repr=False)

    def content(self) -> str:
        """Everything that decides the verdict, without the label: equal claims share a verdict."""
        # The derived other layout is part of it: what is printed must be what was checked.
        text = repr(dataclasses.replace(self, label="")) + repr(self.other())
        return text if self.order == 1 else f"{text} order={self.order}"

    @property
    def other_layout(self) -> str:
        return "denominator" if self.layout == "numerator" else "numerator"

    def symmetric_symbols(self) -> frozenset[str]:
        return frozenset(n for n, props in self.assume.items() if {"symmetric", "spd", "diagonal"} & set(props))

    def other(self) -> Expr:
        """The same derivative in the other layout: the transpose, pushed inward.

        With `where:` names, the transpose of the short form (the names kept, as it is
        printed) is inlined: what readers see in the other layout is what is checked.
        """
        if self.short_expect is None:
            return transposed(self.expect, self.symmetric_symbols())
        return substitute(inline(self.short_other(), dict(self.where)), dict(self.parts))

    def short_other(self) -> Expr:
        """The other layout as printed: the short form's transpose, names kept."""
        return transposed(self.short_expect if self.short_expect is not None else self.expect, self.symmetric_symbols())


def _canonical(value: Any) -> Any:
    """Dictionaries with their keys sorted, at every depth: a verdict read from the cache (sorted JSON) and a fresh one
    give the same bytes in rules.json."""
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim, as data; printers only format it.

    scope: "all-sizes" when the identity is proved for every size, "listed-sizes" otherwise.
    statement: one plain sentence the site badge and the PDF print verbatim.
    all_sizes: for all-sizes, {grid, bounds, prime, seeds, error_bound}; else None.
    reason: for listed-sizes, why the all-sizes theory does not reach (plain words); else "".
    """

    status: str  # verified | refuted | undecided
    sizes: tuple[dict[str, int], ...] = ()
    layouts: tuple[str, ...] = ()
    numeric_points: int = 0
    max_rel_error: float = 0.0
    seconds: float = 0.0
    detail: str = ""
    example: "Verdict | None" = None
    scope: str = "listed-sizes"
    statement: str = ""
    all_sizes: dict[str, Any] | None = None
    reason: str = ""
    precise_sizes: tuple[dict[str, int], ...] = ()  # where the 200-digit witness agreed (rules not proved)

    def __post_init__(self) -> None:
        if not self.statement:  # every verdict has a sentence to print
            object.__setattr__(self, "statement", self.detail)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "sizes": [_canonical(s) for s in self.sizes],
            "layouts": list(self.layouts),
            "numeric_points": self.numeric_points,
            "max_rel_error": float(f"{self.max_rel_error:.3g}"),
            "seconds": round(self.seconds, 3),
            "detail": self.detail,
            "scope": self.scope,
            "statement": self.statement,
            "all_sizes": _canonical(self.all_sizes),  # keys sorted, as the cache stores them: same bytes cached or fresh
            "reason": self.reason,
        }
        if self.precise_sizes:  # only where that witness ran: other rules' entries keep their bytes
            data["precise_sizes"] = [_canonical(s) for s in self.precise_sizes]
        if self.example is not None:
            data["example"] = self.example.to_json()
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> "Verdict":
        example = Verdict.from_json(data["example"]) if data.get("example") else None
        return Verdict(data["status"], tuple(data["sizes"]), tuple(data["layouts"]), data["numeric_points"],
                       data["max_rel_error"], data["seconds"], data["detail"], example,
                       data.get("scope", "listed-sizes"), data.get("statement", ""), data.get("all_sizes"), data.get("reason", ""),
                       tuple(data.get("precise_sizes") or ()))


# ---------------------------------------------------------------- sizes and layouts, shared by every check
# (pure: the SymPy path, the numeric witness and the browser's point evaluator use the same ones)

def dims_in_order(symbols: dict[str, Any], functions: dict[str, Any]) -> list[str]:
    """Dimension letters in order of first use: the symbols' shapes, then the functions' signatures."""
    dims: list[str] = []
    shapes = list(symbols.values()) + [s for f in functions.values() for s in list(f["args"]) + [f["to"]]]
    for shape in shapes:
        for d in shape:
            if isinstance(d, str) and d not in dims:
                dims.append(d)
    return dims


def default_sizes(dims: list[str]) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Two assignments in which every dimension differs and no two letters are tied.

    The first is 2, 3, 4, ... in order. In the second every letter changes and every pair of
    letters is a different distance apart than in the first, so no relation such as m = n + 1
    or (m - n)^2 = 1 holds at both (the all-sizes check does not rely on these sizes; the
    SymPy and numeric witnesses do).
    """
    if not dims:
        return ((),)
    first = [2 + i for i in range(len(dims))]
    second = _untied(first)
    return tuple(tuple(sorted(zip(dims, values))) for values in (first, second))


def _untied(first: list[int]) -> list[int]:
    """The assignment of distinct sizes >= 2 with the smallest total that changes every letter and every distance."""
    k = len(first)
    if k > 5:  # 3, 5, 7, ...: every distance doubles, no letter keeps its size (a search would take too long)
        return [2 * i + 3 for i in range(k)]
    best: list[int] | None = None
    top = k + 3
    while best is None:
        for values in itertools.permutations(range(2, top + 1), k):
            if any(v == f for v, f in zip(values, first)):
                continue
            if any(abs(values[i] - values[j]) == abs(first[i] - first[j]) for i in range(k) for j in range(i + 1, k)):
                continue
            if best is None or (sum(values), values) < (sum(best), tuple(best)):
                best = list(values)
        top += 1
    return best


def numerator_entries(of_shape: Shape, wrt_shape: Shape, of_c: tuple[int, int], wrt_c: tuple[int, int],
                      partial: Callable[[int, int, int, int], Any]) -> list[list[Any]]:
    """The numerator-layout derivative as rows, from partial(a, b, i, j) = d of[a,b] / d wrt[i,j]."""
    if is_scalar(wrt_shape):
        return [[partial(a, b, 0, 0) for b in range(of_c[1])] for a in range(of_c[0])]
    if is_scalar(of_shape):
        if is_vector(wrt_shape):
            return [[partial(0, 0, i, 0) for i in range(wrt_c[0])]]
        return [[partial(0, 0, i, j) for i in range(wrt_c[0])] for j in range(wrt_c[1])]
    return [[partial(a, 0, i, 0) for i in range(wrt_c[0])] for a in range(of_c[0])]


def in_layout(rows: list[list[Any]], layout: str) -> list[list[Any]]:
    return rows if layout == "numerator" else [list(col) for col in zip(*rows)]
