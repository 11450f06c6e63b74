"""Stage 3, parse (whole rules): a validated document -> a Rule with claims and printed LaTeX.

Expressions go through generator.engine.parse (whitelist, shapes); the LaTeX readers see is printed
here from the same trees the verifier checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from generator.render.latex import Printer, derivative_latex, symbol_latex
from generator.engine.load import Document, expression_position
from generator.engine.parse import (
    transposed,
    FUNCTIONS, Expr, ExprError, FunctionSig, Scope, Shape, derivative_shape, inline, is_scalar, is_vector, parse_expression,
    shape_from_decl, show_shape, stacked_parts, substitute, walk,
)
from generator.engine.problems import Problem
from generator.engine.claims import Claim, default_sizes, dims_in_order


@dataclass(frozen=True)
class Rule:
    """A rule whose fields and expressions are valid: ready to verify and to print."""

    id: str
    doc: Document
    data: dict[str, Any]
    claim: Claim
    example: Claim | None
    latex: dict[str, Any]
    example_latex: dict[str, Any] | None


def build_scope(symbols: dict[str, list[Any]], functions: dict[str, Any], kind: str, wrt: str) -> Scope:
    sym_shapes = {name: shape_from_decl(decl) for name, decl in symbols.items()}
    fn_sigs = {name: FunctionSig(tuple(shape_from_decl(a) for a in f["args"]), shape_from_decl(f["to"])) for name, f in functions.items()}
    dims = tuple(dims_in_order(symbols, functions))
    return Scope(sym_shapes, fn_sigs, dims, wrt if kind == "differential" else None)


def parse_rule(doc: Document) -> tuple[Rule | None, list[Problem]]:
    """Parse the expressions of a schema-valid rule document; every problem is reported."""
    data = doc.data
    kind = data.get("kind", "derivative")
    order = data.get("order", 1)
    layout = data.get("layout", "numerator")
    functions = data.get("functions", {})
    assume = {k: tuple(v) for k, v in data.get("assume", {}).items()}
    problems: list[Problem] = []

    claim, latex = _parse_claim(doc, (), data["symbols"], functions, kind, layout, assume, data, problems, data["id"], order=order)
    example_claim, example_latex = None, None
    if "example" in data:
        ex = data["example"]
        ex_symbols = ex.get("symbols", data["symbols"])
        ex_assume = {k: v for k, v in assume.items() if k in ex_symbols}
        example_claim, example_latex = _parse_claim(doc, ("example",), ex_symbols, functions, kind, layout, ex_assume,
                                                    ex, problems, f"{data['id']} example", data["wrt"], order=order)
    if problems or claim is None or latex is None:
        return None, problems
    return Rule(data["id"], doc, data, claim, example_claim, latex, example_latex), []


def _parse_claim(doc: Document, base: tuple[Any, ...], symbols: dict[str, Any], functions: dict[str, Any], kind: str,
                 layout: str, assume: dict[str, tuple[str, ...]], fields: dict[str, Any], problems: list[Problem],
                 label: str, defaults_wrt: str = "", order: int = 1) -> tuple[Claim | None, dict[str, Any] | None]:
    wrt_field = fields.get("wrt", defaults_wrt) if base else fields["wrt"]
    names = _wrt_names(doc, base, wrt_field, symbols, kind, assume, problems)
    if names is None:
        return None, None
    wrt = names[0]
    scope = build_scope(symbols, functions, kind, wrt)
    parsed = _parse_where(doc, base, fields.get("where", {}), scope, problems)
    if parsed is None:
        return None, None
    short_where, bindings = parsed
    shapes = {name: e.shape for name, e in bindings}
    scope = Scope(scope.symbols, scope.functions, scope.dims, scope.differential_of, shapes)
    of_scope = Scope(scope.symbols, scope.functions, scope.dims, None, shapes)
    short_of = _expr(doc, base + ("of",), fields["of"], of_scope, problems)
    short_expect = _expr(doc, base + ("expect",), fields["expect"], scope, problems)
    if short_of is None or short_expect is None:
        return None, None
    full = dict(bindings)
    of, expect = inline(short_of, full), inline(short_expect, full)
    if any(e.op == "d" for e in walk(of)):
        line, col = doc.at(*base, "of")
        problems.append(Problem(doc.shown, line, col, "MC023", f"{_name(base, 'of')} must not use d(...), even through a where name (found one)"))
        return None, None
    used = {e.name for tree in (short_of, short_expect, *(e for _, e in short_where)) for e in walk(tree) if e.op == "ref"}
    for name, _ in bindings:
        if name not in used:
            line, col = doc.key_at(*base, "where", name)
            problems.append(Problem(doc.shown, line, col, "MC041", f"{_name(base, 'where')}.{name} must be used in of, expect or a later name (found it unused); remove it"))
    parts: dict[str, Expr] = {}
    if len(names) > 1:
        # `wrt: [x, y]`: the derivative is by one stacked vector; every listed symbol is a
        # part of it in the checked trees (the printed short forms keep x and y).
        wrt, stacked_shape, parts = stacked_parts(names, scope.symbols)
        scope = Scope({**scope.symbols, wrt: stacked_shape}, scope.functions, scope.dims, scope.differential_of, scope.bindings)
        of, expect = substitute(of, parts), substitute(expect, parts)
    wrt_shape = scope.symbols[wrt]
    if kind == "differential":
        want: Shape = of.shape
    elif order == 2:
        if not (is_scalar(wrt_shape) or (is_scalar(of.shape) and is_vector(wrt_shape))):
            line, col = doc.at(*base, "of")
            problems.append(Problem(doc.shown, line, col, "MC025", f"{_name(base, 'of')} must be a scalar by a vector (a Hessian) or anything "
                                    f"by a scalar for order: 2 (found {show_shape(of.shape)} by {show_shape(wrt_shape)}; use kind: differential)"))
            return None, None
        want = derivative_shape(of.shape, wrt_shape, layout) if is_scalar(wrt_shape) else (wrt_shape[0], wrt_shape[0])
    else:
        try:
            want = derivative_shape(of.shape, wrt_shape, layout)
        except ValueError as err:
            line, col = doc.at(*base, "of")
            problems.append(Problem(doc.shown, line, col, "MC025", _derivative_shape_message(_name(base, "of"), of, wrt, wrt_shape, err)))
            return None, None
    if not _same_shape(expect.shape, want):
        line, col = doc.at(*base, "expect")
        what = "the differential" if kind == "differential" else f"d({show_shape(of.shape)})/d({show_shape(wrt_shape)}) in {layout} layout"
        if order == 2:
            what = "the second differential" if kind == "differential" else f"the second derivative of a {show_shape(of.shape)} value by {show_shape(wrt_shape)}"
        fix = ""
        if kind != "differential" and order == 1 and layout in ("numerator", "denominator"):
            other = "denominator" if layout == "numerator" else "numerator"
            try:
                if _same_shape(expect.shape, derivative_shape(of.shape, wrt_shape, other)):
                    fix = (f"; that is its shape in {other} layout: write layout: {other}, or write the transpose"
                           if not base else f"; that is its shape in {other} layout: the example is in the rule's layout, {layout}: transpose its expect")
            except ValueError:
                fix = ""
        problems.append(Problem(doc.shown, line, col, "MC024", f"{_name(base, 'expect')} must be {show_shape(want)}, the shape of {what} (found {show_shape(expect.shape)}){fix}"))
        return None, None
    dims = dims_in_order(symbols, functions)
    sizes = tuple(tuple(sorted(a.items())) for a in fields["sizes"]) if "sizes" in fields else default_sizes(dims)
    claim = Claim(label, kind, layout, scope, of, wrt, expect, assume, sizes,
                  where=tuple(bindings), short_expect=short_expect if bindings or parts else None,
                  parts=tuple(parts.items()), order=order)
    return claim, _latex(claim, scope, short_of, short_expect, short_where, names)


def _wrt_names(doc: Document, base: tuple[Any, ...], wrt: Any, symbols: dict[str, Any], kind: str,
               assume: dict[str, tuple[str, ...]], problems: list[Problem]) -> list[str] | None:
    """The symbol(s) of `wrt`: one name, or a list of two or more scalars and vectors stacked in order."""
    names = list(wrt) if isinstance(wrt, list) else [wrt]
    field = _name(base, "wrt")
    ok = True
    for i, name in enumerate(names):
        if name not in symbols:
            line, col = doc.at(*base, "wrt", i) if isinstance(wrt, list) else doc.at(*base, "wrt")
            where = f"{field}[{i}]" if isinstance(wrt, list) else field
            problems.append(Problem(doc.shown, line, col, "MC022", f"{where} must be a declared symbol (found {name})"))
            ok = False
    if not ok or len(names) == 1:
        return names if ok else None
    line, col = doc.at(*base, "wrt")
    if kind == "differential":
        problems.append(Problem(doc.shown, line, col, "MC025", f"{field} must be one symbol in a differential rule (found a list of {len(names)})"))
        return None
    for i, name in enumerate(names):
        if len(symbols[name]) > 1:
            i_line, i_col = doc.at(*base, "wrt", i)
            problems.append(Problem(doc.shown, i_line, i_col, "MC025", f"{field}[{i}] must be a scalar or a vector to be stacked (found {name}, a matrix)"))
            ok = False
        if assume.get(name):
            a_line, a_col = doc.key_at("assume", name)
            problems.append(Problem(doc.shown, a_line, a_col, "MC026", f"assume.{name} must not be given for a symbol of a wrt list (found {', '.join(assume[name])}); "
                                                                     "the stacked variable takes no assumptions"))
            ok = False
    return names if ok else None


Bindings = list[tuple[str, Expr]]


def _parse_where(doc: Document, base: tuple[Any, ...], where: dict[str, str], scope: Scope,
                 problems: list[Problem]) -> tuple[Bindings, Bindings] | None:
    """The `where:` names in order, each parsed with the names before it.

    Returns them as written (later names kept as names, for printing) and inlined (for
    the checks); None if any is invalid (the problems say why).
    """
    short: Bindings = []
    inlined: Bindings = []
    taken = set(scope.symbols) | set(scope.functions) | set(scope.dims) | set(FUNCTIONS) | {"sigma", "T"}
    ok = True
    for name, text in where.items():
        if name in taken:
            line, col = doc.key_at(*base, "where", name)
            problems.append(Problem(doc.shown, line, col, "MC012", f"{_name(base, 'where')}.{name} must be a new name (found the name of a symbol, function or dimension); rename it"))
            ok = False
            continue
        inner = Scope(scope.symbols, scope.functions, scope.dims, scope.differential_of, {n: e.shape for n, e in short})
        expr = _expr(doc, base + ("where", name), text, inner, problems)
        if expr is None:
            ok = False
            _explain_order(problems, name, list(where)[list(where).index(name) + 1:])
            continue
        short.append((name, expr))
        inlined.append((name, inline(expr, dict(inlined))))
    return (short, inlined) if ok else None


def _explain_order(problems: list[Problem], name: str, later: list[str]) -> None:
    """A where name used before its own line gets the fix: names are read in order."""
    last = problems[-1]
    used = re.search(r"name (\w+) must be declared", last.message)
    if last.code == "MC022" and used and used.group(1) in later:
        message = last.message[: used.start()] + f"name {used.group(1)} must be defined above {name} (where names are read in order; found it below)"
        problems[-1] = Problem(last.path, last.line, last.col, last.code, message)


def _derivative_shape_message(field: str, of: Expr, wrt: str, wrt_shape: Shape, err: ValueError) -> str:
    """MC025 for an `of` whose derivative is not a matrix; a row by a vector gets its column form suggested."""
    if of.shape[0] == 1 and of.shape[1] != 1 and (is_vector(wrt_shape) or is_scalar(wrt_shape)):
        from generator.engine.allsizes.text import to_text

        column = to_text(transposed(of))
        return (f"{field} must be a scalar or a column vector to be differentiated by the vector {wrt} (found a row, "
                f"{show_shape(of.shape)}); write the column {column} instead (its Jacobian by {wrt} is "
                f"{of.shape[1]}x{wrt_shape[0]} in numerator layout)")
    return f"{field} must be a scalar, a vector by a vector, or a matrix by a scalar: {err} (use kind: differential)"


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


def _latex(claim: Claim, scope: Scope, short_of: Expr, short_expect: Expr, where: list[tuple[str, Expr]],
           names: list[str]) -> dict[str, Any]:
    """The rule as readers see it: the short forms (with `where:` names) and one line per name."""
    printer = Printer(scope)
    of_tex = printer.latex(short_of)
    wrt_tex = ", ".join(symbol_latex(n, scope.symbols[n]) for n in names)
    if len(names) > 1:
        wrt_tex = f"\\left({wrt_tex}\\right)"
    expect_tex = printer.latex(short_expect)
    if claim.kind == "differential":
        layouts = {"numerator": expect_tex, "denominator": expect_tex}
    else:
        other_tex = printer.latex(claim.short_other())
        layouts = {claim.layout: expect_tex, claim.other_layout: other_tex}
    symbols_used = {e.name for e in walk(claim.of) if e.op == "sym"}
    single = not claim.parts and is_scalar(scope.symbols[claim.wrt]) and symbols_used <= {claim.wrt}
    where_tex = [{"name": printer.latex(Expr("ref", shape=e.shape, name=name)), "value": printer.latex(e)} for name, e in where]
    lhs = derivative_latex(of_tex, short_of, wrt_tex, claim.kind, single, order=claim.order,
                           wrt_is_scalar=is_scalar(scope.symbols[claim.wrt]))
    return {"of": of_tex, "wrt": wrt_tex, "derivative": lhs, **layouts, "where": where_tex}


def functions_used(expr: Expr) -> set[str]:
    return {e.name for e in walk(expr) if e.op == "call"}
