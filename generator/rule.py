"""Stage 3, parse (whole rules): a validated document -> a Rule with claims and printed LaTeX.

Expressions go through generator.parse (whitelist, shapes); the LaTeX readers see is printed
here from the same trees the verifier checks.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from generator.latex import Printer, derivative_latex, symbol_latex
from generator.load import Document, expression_position
from generator.parse import (
    Expr, ExprError, FunctionSig, Scope, Shape, derivative_shape, is_scalar, parse_expression, shape_from_decl, show_shape, walk,
)
from generator.problems import Problem
from generator.claims import Claim


@dataclass(frozen=True)
class Rule:
    """A rule whose fields and expressions are valid: ready to verify and to print."""

    id: str
    doc: Document
    data: dict[str, Any]
    claim: Claim
    example: Claim | None
    latex: dict[str, Any]
    example_latex: dict[str, str] | None


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


def _dims_in_order(symbols: dict[str, Any], functions: dict[str, Any]) -> list[str]:
    dims: list[str] = []
    shapes = list(symbols.values()) + [s for f in functions.values() for s in list(f["args"]) + [f["to"]]]
    for shape in shapes:
        for d in shape:
            if isinstance(d, str) and d not in dims:
                dims.append(d)
    return dims


def build_scope(symbols: dict[str, list[Any]], functions: dict[str, Any], kind: str, wrt: str) -> Scope:
    sym_shapes = {name: shape_from_decl(decl) for name, decl in symbols.items()}
    fn_sigs = {name: FunctionSig(tuple(shape_from_decl(a) for a in f["args"]), shape_from_decl(f["to"])) for name, f in functions.items()}
    dims = tuple(_dims_in_order(symbols, functions))
    return Scope(sym_shapes, fn_sigs, dims, wrt if kind == "differential" else None)


def parse_rule(doc: Document) -> tuple[Rule | None, list[Problem]]:
    """Parse the expressions of a schema-valid rule document; every problem is reported."""
    data = doc.data
    kind = data.get("kind", "derivative")
    layout = data.get("layout", "numerator")
    functions = data.get("functions", {})
    assume = {k: tuple(v) for k, v in data.get("assume", {}).items()}
    problems: list[Problem] = []

    claim, latex = _parse_claim(doc, (), data["symbols"], functions, kind, layout, assume, data, problems, data["id"])
    example_claim, example_latex = None, None
    if "example" in data:
        ex = data["example"]
        ex_symbols = ex.get("symbols", data["symbols"])
        ex_assume = {k: v for k, v in assume.items() if k in ex_symbols}
        example_claim, example_latex = _parse_claim(doc, ("example",), ex_symbols, functions, kind, layout, ex_assume,
                                                    ex, problems, f"{data['id']} example", data["wrt"])
    if problems or claim is None or latex is None:
        return None, problems
    return Rule(data["id"], doc, data, claim, example_claim, latex, example_latex), []


def _parse_claim(doc: Document, base: tuple[Any, ...], symbols: dict[str, Any], functions: dict[str, Any], kind: str,
                 layout: str, assume: dict[str, tuple[str, ...]], fields: dict[str, Any], problems: list[Problem],
                 label: str, defaults_wrt: str = "") -> tuple[Claim | None, dict[str, Any] | None]:
    wrt = fields.get("wrt", defaults_wrt) if base else fields["wrt"]
    if wrt not in symbols:
        line, col = doc.at(*base, "wrt")
        problems.append(Problem(doc.shown, line, col, "MC022", f"{_name(base, 'wrt')} must be a declared symbol (found {wrt})"))
        return None, None
    scope = build_scope(symbols, functions, kind, wrt)
    of_scope = Scope(scope.symbols, scope.functions, scope.dims, None)
    of = _expr(doc, base + ("of",), fields["of"], of_scope, problems)
    expect = _expr(doc, base + ("expect",), fields["expect"], scope, problems)
    if of is None or expect is None:
        return None, None
    wrt_shape = scope.symbols[wrt]
    if kind == "differential":
        want: Shape = of.shape
    else:
        try:
            want = derivative_shape(of.shape, wrt_shape, layout)
        except ValueError as err:
            line, col = doc.at(*base, "of")
            problems.append(Problem(doc.shown, line, col, "MC025", f"{_name(base, 'of')} must be a scalar, a vector by a vector, or a matrix by a scalar: {err} (use kind: differential)"))
            return None, None
    if not _same_shape(expect.shape, want):
        line, col = doc.at(*base, "expect")
        what = "the differential" if kind == "differential" else f"d({show_shape(of.shape)})/d({show_shape(wrt_shape)}) in {layout} layout"
        problems.append(Problem(doc.shown, line, col, "MC024", f"{_name(base, 'expect')} must be {show_shape(want)}, the shape of {what} (found {show_shape(expect.shape)})"))
        return None, None
    dims = _dims_in_order(symbols, functions)
    sizes = tuple(tuple(sorted(a.items())) for a in fields["sizes"]) if "sizes" in fields else default_sizes(dims)
    claim = Claim(label, kind, layout, scope, of, wrt, expect, assume, sizes)
    return claim, _latex(claim, scope)


def _same_shape(a: Shape, b: Shape) -> bool:
    return a == b


def _name(base: tuple[Any, ...], field: str) -> str:
    return ".".join([*map(str, base), field])


def _expr(doc: Document, path: tuple[Any, ...], text: str, scope: Scope, problems: list[Problem]) -> Expr | None:
    try:
        return parse_expression(text, scope)
    except ExprError as err:
        line, col = expression_position(doc, path, err.line, err.col)
        field = ".".join(map(str, path))
        problems.append(Problem(doc.shown, line, col, err.code, f"{field} {err.message}"))
        return None


def _latex(claim: Claim, scope: Scope) -> dict[str, Any]:
    printer = Printer(scope)
    of_tex = printer.latex(claim.of)
    wrt_tex = symbol_latex(claim.wrt, scope.symbols[claim.wrt])
    expect_tex = printer.latex(claim.expect)
    if claim.kind == "differential":
        layouts = {"numerator": expect_tex, "denominator": expect_tex}
    else:
        other_tex = printer.latex(claim.other())
        layouts = {claim.layout: expect_tex, claim.other_layout: other_tex}
    symbols_used = {e.name for e in walk(claim.of) if e.op == "sym"}
    single = is_scalar(scope.symbols[claim.wrt]) and symbols_used <= {claim.wrt}
    return {"of": of_tex, "wrt": wrt_tex, "derivative": derivative_latex(of_tex, claim.of, wrt_tex, claim.kind, single), **layouts}


def functions_used(expr: Expr) -> set[str]:
    return {e.name for e in walk(expr) if e.op == "call"}
