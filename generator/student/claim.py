"""A student's claim: only the math (symbols, of, wrt, expect; optionally assume, layout).

A claim comes from the command line (`mcref check --of ... --wrt ... --expect ...
--symbols ...`), from a minimal claim file, or from the browser's form; all three end
here as plain text fields and become a `StudentClaim`: the parsed, shape-checked trees
and the layouts the claim can be meant in. Pure: no SymPy, NumPy or YAML, so this module
runs in the browser (Pyodide) too. Problems are `Problem`s with a position in what the
user typed: a flag and a column, or a file, a line and a column.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from generator.engine.claims import Claim, default_sizes, dims_in_order
from generator.engine.parse import (
    FUNCTIONS, Dim, Expr, ExprError, FunctionSig, Scope, Shape, derivative_shape, inline, is_scalar, parse_expression,
    stacked_parts, substitute,
    shape_from_decl, show_shape, walk,
)
from generator.engine.problems import Problem

LAYOUTS = ("denominator", "numerator")
PROPERTIES = ("symmetric", "spd", "invertible", "diagonal", "positive", "nonzero", "probability")
SQUARE_ONLY = ("symmetric", "spd", "invertible", "diagonal")
RESERVED_NAMES = frozenset({"sigma"})  # prints like the sigmoid (generator.engine.validate)
CLAIM_FIELDS = ("symbols", "functions", "assume", "where", "of", "wrt", "expect", "layout", "order")
RULE_ONLY_FIELDS = ("id", "title", "section")  # a file with none of these is a claim, not a rule
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?$")

# Where a problem is: (field path, line within the field's text, 0-based col within it) -> (path, line, col)
Locate = Callable[[tuple[Any, ...], int, int], tuple[str, int, int]]


def flag_locator(flags: dict[str, str], offsets: dict[tuple[Any, ...], int] | None = None) -> Locate:
    """Positions on the command line: the flag a field came from, line 1, the 1-based column.

    offsets: where a sub-field starts within its flag's text (a --where entry's expression).
    """
    offsets = offsets or {}

    def locate(path: tuple[Any, ...], line: int, col: int) -> tuple[str, int, int]:
        return flags.get(str(path[0]), f"--{path[0]}") if path else "claim", 1, col + 1 + offsets.get(tuple(path), 0)

    return locate


# ------------------------------------------------------------------ the spec strings of the command line

class SpecError(Exception):
    def __init__(self, col: int, message: str) -> None:
        super().__init__(message)
        self.col, self.message = col, message


def _split_entries(text: str) -> list[tuple[int, str]]:
    """'x: [n]; A: [n, n]' or 'x: [n], A: [n, n]' -> [(start, 'x: [n]'), (start, 'A: [n, n]')].

    Entries are separated by ; or by a comma outside brackets that is followed by `name:`.
    """
    entries: list[tuple[int, str]] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif depth == 0 and (ch == ";" or (ch == "," and re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*:", text[i + 1 :]))):
            entries.append((start, text[start:i]))
            start = i + 1
    entries.append((start, text[start:]))
    return [(s + len(e) - len(e.lstrip()), e.strip()) for s, e in entries if e.strip()]


def _dim(token: str, col: int) -> Dim:
    token = token.strip()
    if re.fullmatch(r"[A-Za-z]", token):
        return token
    if re.fullmatch(r"[0-9]+", token) and 1 <= int(token) <= 64:
        return int(token)
    raise SpecError(col, f"a dimension must be a letter or an integer 1-64 (found {token or 'nothing'!r})")


def parse_shape(text: str, col: int) -> list[Dim]:
    """'[n]', '[m, n]', '[]', 'scalar', 'n', 'm x n', '(m, n)' -> [dims]."""
    t = text.strip()
    if t in ("[]", "()", "scalar", "1", ""):
        if t == "":
            raise SpecError(col, "a shape must follow the colon: [] for a scalar, [n] for a vector, [m, n] for a matrix (found nothing)")
        return []
    inner = t
    if t[:1] in "[(" and t[-1:] in "])":
        inner = t[1:-1]
    parts = re.split(r"\s*,\s*|\s+x\s+|\s*\*\s*|(?<=[A-Za-z0-9])x(?=[A-Za-z0-9]$)|\s*×\s*", inner.strip())
    parts = [p for p in parts if p != ""]
    if not 1 <= len(parts) <= 2:
        raise SpecError(col, f"a shape must be [] (scalar), [n] (column vector) or [m, n] (matrix) (found {t})")
    return [_dim(p, col) for p in parts]


def parse_symbols_spec(text: str) -> dict[str, list[Dim]]:
    """--symbols 'x: [n]; A: [n, n]; s: []' -> {'x': ['n'], 'A': ['n', 'n'], 's': []}; SpecError with its column."""
    symbols: dict[str, list[Dim]] = {}
    entries = _split_entries(text)
    if not entries:
        raise SpecError(0, "symbols must declare every symbol with its shape, like 'x: [n]; A: [m, n]; s: []' (found nothing)")
    for start, entry in entries:
        name, colon, shape = entry.partition(":")
        name = name.strip()
        if not colon:
            raise SpecError(start, f"each symbol must be written name: shape, like x: [n] (found {entry!r})")
        if not NAME.match(name):
            raise SpecError(start, f"a symbol name must be an identifier like x, A, mu, x_1 (found {name!r})")
        if name in symbols:
            raise SpecError(start, f"symbol {name} must be declared once (found it twice)")
        symbols[name] = parse_shape(shape, start + len(entry) - len(shape.lstrip()))
    return symbols


def parse_assume_spec(text: str) -> dict[str, list[str]]:
    """--assume 'A: symmetric; x: positive' (several properties with commas or spaces) -> {'A': ['symmetric'], ...}."""
    assume: dict[str, list[str]] = {}
    for start, entry in _split_entries(text.replace(",", " ")):
        name, colon, props = entry.partition(":")
        name = name.strip()
        if not colon:
            raise SpecError(start, f"each assumption must be written name: property, like A: symmetric (found {entry!r})")
        words = props.split()
        if not words:
            raise SpecError(start, f"assumption {name} must name a property: {', '.join(PROPERTIES)} (found nothing)")
        for word in words:
            if word not in PROPERTIES:
                close = difflib.get_close_matches(word, PROPERTIES, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise SpecError(start + entry.index(word, len(name)), f"properties must be among {', '.join(PROPERTIES)} (found {word!r}){hint}")
        assume.setdefault(name, []).extend(w for w in words if w not in assume.get(name, []))
    return assume


def parse_where_spec(text: str) -> tuple[dict[str, str], dict[str, int]]:
    """--where 'P: softmax(S); dP: G @ V.T' -> ({'P': 'softmax(S)', ...}, {'P': column of its expression})."""
    where: dict[str, str] = {}
    starts: dict[str, int] = {}
    for match in re.finditer(r"[^;]+", text):
        start, entry = match.start(), match.group()
        if not entry.strip():
            continue
        name, colon, expr = entry.partition(":")
        if not colon:
            raise SpecError(start + len(entry) - len(entry.lstrip()), f"each name must be written name: expression, like P: softmax(S) (found {entry.strip()!r})")
        if name.strip() in where:
            raise SpecError(start, f"where name {name.strip()} must be defined once (found it twice)")
        where[name.strip()] = expr.strip()
        starts[name.strip()] = start + len(name) + 1 + len(expr) - len(expr.lstrip())
    return where, starts


def parse_functions_spec(text: str) -> dict[str, dict[str, Any]]:
    """--functions 'f: [n] -> [m]; g: [], [n] -> []' -> {'f': {'args': [['n']], 'to': ['m']}, ...}."""
    functions: dict[str, dict[str, Any]] = {}
    for match in re.finditer(r"[^;]+", text):
        start, entry = match.start(), match.group()
        if not entry.strip():
            continue
        name, colon, sig = entry.partition(":")
        name = name.strip()
        if not colon or "->" not in sig:
            raise SpecError(start, f"each function must be written name: argument shapes -> value shape, like f: [n] -> [] (found {entry.strip()!r})")
        if not NAME.match(name):
            raise SpecError(start, f"a function name must be an identifier like f, g (found {name!r})")
        args_text, _, to_text = sig.partition("->")
        args = [parse_shape(a, start) for a in re.findall(r"\[[^\]]*\]|\([^)]*\)|[^,\s][^,]*", args_text)]
        functions[name] = {"args": args, "to": parse_shape(to_text, start)}
    return functions


# ------------------------------------------------------------------ from fields to a StudentClaim

@dataclass(frozen=True)
class StudentClaim:
    """A parsed, shape-checked claim, with the layouts it may be meant in."""

    label: str
    kind: str  # derivative | differential
    scope: Scope
    of: Expr
    wrt: str
    expect: Expr
    assume: dict[str, tuple[str, ...]]
    stated_layout: str | None  # the layout the user named, or None
    layouts: tuple[str, ...]  # layouts in which expect has the derivative's shape
    sizes: tuple[tuple[tuple[str, int], ...], ...]
    text: dict[str, str] = field(default_factory=dict)  # of, wrt, expect as typed
    notes: tuple[str, ...] = ()
    where: tuple[tuple[str, Expr], ...] = ()  # `where:` names with their inlined expressions
    short_of: Expr | None = None  # of and expect as written, with where names (None: no names)
    short_expect: Expr | None = None
    where_written: tuple[tuple[str, Expr], ...] = ()  # the where names as written (later names kept)
    order: int = 1  # 2: the second derivative (a Hessian by a vector) or the second differential
    parts: tuple[tuple[str, Expr], ...] = ()  # wrt x, y: each listed symbol as a part of the stacked "(x, y)"
    wrt_names: tuple[str, ...] = ()  # the symbols of a wrt list, as typed

    def claim(self, layout: str, expect: Expr | None = None, assume: dict[str, tuple[str, ...]] | None = None,
              label: str | None = None) -> Claim:
        """The engine's Claim: this claim read in `layout` (optionally with another expect, as written, or assumptions).

        With where names, `expect` may use them; the Claim's trees are inlined (no check sees a name).
        """
        written = self.written_expect if expect is None else expect
        full = inline(written, dict(self.where)) if self.where else written
        if self.parts:
            full = substitute(full, dict(self.parts))
        return Claim(label or self.label, self.kind, layout, self.scope, self.of, self.wrt, full,
                     self.assume if assume is None else assume, self.sizes,
                     where=self.where, short_expect=written if self.where or self.parts else None, order=self.order,
                     parts=self.parts)

    @property
    def written_expect(self) -> Expr:
        """expect as written (with where names)."""
        return self.short_expect if self.short_expect is not None else self.expect

    @property
    def written_of(self) -> Expr:
        return self.short_of if self.short_of is not None else self.of

    @property
    def derivative_shape(self) -> dict[str, Shape]:
        """The shape of the true derivative in each layout."""
        if self.kind == "differential":
            return {"numerator": self.of.shape, "denominator": self.of.shape}
        wrt_shape = self.scope.symbols[self.wrt]
        if self.order == 2 and not is_scalar(wrt_shape):
            return {layout: (wrt_shape[0], wrt_shape[0]) for layout in LAYOUTS}
        return {layout: derivative_shape(self.of.shape, wrt_shape, layout) for layout in LAYOUTS}


def build_claim(fields: dict[str, Any], locate: Locate, label: str = "claim") -> tuple[StudentClaim | None, list[Problem]]:
    """Check the fields of a claim and parse its expressions; every problem is reported at once."""
    problems: list[Problem] = []

    def problem(path: tuple[Any, ...], code: str, message: str, line: int = 1, col: int = 0) -> None:
        shown, at_line, at_col = locate(path, line, col)
        problems.append(Problem(shown, at_line, at_col, code, message))

    for name in ("symbols", "of", "wrt", "expect"):
        if name not in fields or fields[name] in (None, ""):
            hint = ""
            if name == "symbols":
                hint = "; declare every symbol with its shape, " + symbols_example(fields)
            problem((name,), "MC010", f"{name} must be present (found it missing){hint}")
    if problems:
        return None, problems
    symbols: dict[str, list[Dim]] = fields["symbols"]
    functions: dict[str, Any] = fields.get("functions") or {}
    assume_in: dict[str, list[str]] = fields.get("assume") or {}
    layout = fields.get("layout")
    if layout is not None and layout not in LAYOUTS:
        problem(("layout",), "MC012", f"layout must be numerator or denominator (found {layout!r})")
    order = fields.get("order", 1)
    if order not in (1, 2, "1", "2"):
        problem(("order",), "MC012", f"order must be 1 or 2 (found {order!r})")
    order = int(order) if order in (1, 2, "1", "2") else 1
    dims = dims_in_order(symbols, functions)
    for name, decl in symbols.items():
        if name in FUNCTIONS or name in RESERVED_NAMES or name in functions:
            problem(("symbols", name), "MC012", f"symbols.{name} must not have the name of a function (found {name})")
        if name in dims:
            problem(("symbols", name), "MC012", f"symbols.{name} must not share its name with a dimension (found {name} used as both)")
    for name, props in assume_in.items():
        if name not in symbols:
            problem(("assume", name), "MC022", f"assume.{name} must name a declared symbol (found {name} undeclared)")
            continue
        decl = symbols[name]
        for prop in props:
            if prop in SQUARE_ONLY and not (len(decl) == 2 and decl[0] == decl[1]):
                problem(("assume", name), "MC026", f"assume.{name} {prop} must apply to a square matrix (found shape {list(decl)})")
            if prop == "probability" and len(decl) != 1:
                problem(("assume", name), "MC026", f"assume.{name} probability must apply to a vector (found shape {list(decl)})")
    raw_wrt = fields["wrt"]
    names = [str(n).strip() for n in raw_wrt] if isinstance(raw_wrt, list) else \
        [n.strip() for n in str(raw_wrt).strip().strip("[]()").split(",") if n.strip()]
    for name in names:
        if name not in symbols:
            close = [s for s in symbols if s.lower() == name.lower()]
            hint = f"; did you mean {close[0]}?" if close else ""
            if name in dims:
                hint = f"; {name} is a dimension letter (a size), not a symbol"
            problem(("wrt",), "MC022", f"wrt must be a declared symbol (found {name}){hint}")
    if not names:
        problem(("wrt",), "MC010", "wrt must be present (found it missing)")
    if len(names) > 1:
        for name in names:
            if name in symbols and len(symbols[name]) > 1:
                problem(("wrt",), "MC025", f"wrt must list scalars and vectors to be stacked (found {name}, a matrix)")
            if assume_in.get(name):
                problem(("assume", name), "MC026", f"assume.{name} must not be given for a symbol of a wrt list (found "
                        f"{', '.join(assume_in[name])}); the stacked variable takes no assumptions")
    if problems:
        return None, problems
    wrt = names[0]

    sym_shapes = {name: shape_from_decl(decl) for name, decl in symbols.items()}
    sigs = {name: FunctionSig(tuple(shape_from_decl(a) for a in f["args"]), shape_from_decl(f["to"])) for name, f in functions.items()}

    def parse(path: tuple[Any, ...], text: str, scope: Scope) -> Expr | None:
        try:
            return parse_expression(str(text), scope)
        except ExprError as err:
            problem(path, err.code, f"{'.'.join(map(str, path))} {err.message}", err.line, err.col)
            return None

    bindings: list[tuple[str, Expr]] = []
    written: list[tuple[str, Expr]] = []
    shapes: dict[str, Shape] = {}
    for name, text in (fields.get("where") or {}).items():
        if not NAME.match(str(name)) or name in symbols or name in functions or name in dims or name in FUNCTIONS:
            problem(("where", name), "MC012", f"where.{name} must be a new name (found the name of a symbol, function or dimension); rename it")
            return None, problems
        expr = parse(("where", name), text, Scope(sym_shapes, sigs, tuple(dims), None, dict(shapes)))
        if expr is None:
            return None, problems
        shapes[name] = expr.shape
        written.append((name, expr))
        bindings.append((name, inline(expr, dict(bindings))))
    of_scope = Scope(sym_shapes, sigs, tuple(dims), None, dict(shapes))
    expect_scope = Scope(sym_shapes, sigs, tuple(dims), wrt, dict(shapes))
    short_of = parse(("of",), fields["of"], of_scope)
    short_expect = parse(("expect",), fields["expect"], expect_scope)
    if short_of is None or short_expect is None:
        return None, problems
    full = dict(bindings)
    of, expect = inline(short_of, full), inline(short_expect, full)
    differential = any(e.op == "d" for e in walk(expect))
    parts: dict[str, Expr] = {}
    if len(names) > 1:
        if differential:
            problem(("wrt",), "MC025", f"wrt must be one symbol for a differential (found {', '.join(names)})")
            return None, problems
        wrt, stacked_shape, parts = stacked_parts(names, sym_shapes)
        of_scope = Scope({**sym_shapes, wrt: stacked_shape}, sigs, tuple(dims), None, dict(shapes))
        of, expect = substitute(of, parts), substitute(expect, parts)
    kind = "differential" if differential else "derivative"
    wrt_shape = of_scope.symbols[wrt]
    if differential:
        if expect.shape != of.shape:
            problem(("expect",), "MC024", f"expect must be {show_shape(of.shape)}, the shape of the differential of of "
                    f"(found {show_shape(expect.shape)})")
            return None, problems
        layouts: tuple[str, ...] = ("numerator",)
    elif order == 2 and not is_scalar(wrt_shape):
        if not (is_scalar(of.shape) and wrt_shape[1] == 1):
            problem(("of",), "MC025", f"of must be a scalar, by a vector, for a second derivative (found {show_shape(of.shape)} by "
                    f"{show_shape(wrt_shape)}); check its second differential instead, with d({wrt}) in expect")
            return None, problems
        hessian = (wrt_shape[0], wrt_shape[0])
        if expect.shape != hessian:
            problem(("expect",), "MC024", f"expect must be {show_shape(hessian)}, the shape of the Hessian of a scalar by "
                    f"{show_shape(wrt_shape)} (found {show_shape(expect.shape)})")
            return None, problems
        layouts = (layout or "denominator",)  # a Hessian of the language's functions is symmetric: both layouts agree
    else:
        try:
            shapes = {lay: derivative_shape(of.shape, wrt_shape, lay) for lay in LAYOUTS}
        except ValueError as err:
            problem(("of",), "MC025", f"of must be a scalar, a vector by a vector, or a matrix by a scalar: {err}; "
                    f"check its differential instead, with d({wrt}) in expect")
            return None, problems
        fitting = tuple(lay for lay in LAYOUTS if shapes[lay] == expect.shape)
        what = f"d({show_shape(of.shape)})/d({show_shape(wrt_shape)})"
        if layout is not None:
            if layout not in fitting:
                other = [lay for lay in fitting if lay != layout]
                hint = (f"; that is its shape in {other[0]} layout: leave the layout out and mcref finds it, "
                        f"or write the transpose") if other else ""
                problem(("expect",), "MC024", f"expect must be {show_shape(shapes[layout])}, the shape of {what} in {layout} layout "
                        f"(found {show_shape(expect.shape)}){hint}")
                return None, problems
            layouts = (layout,)
        elif not fitting:
            if shapes["numerator"] == shapes["denominator"]:
                wanted = f"{show_shape(shapes['numerator'])} (in both layouts)"
            else:
                wanted = " or ".join(f"{show_shape(shapes[lay])} ({lay} layout)" for lay in LAYOUTS)
            hint = ""
            if expect.op == "const" and expect.value == 0:
                r, c = shapes["denominator"]
                hint = f"; a zero derivative is written zeros({r})" if c == 1 else f"; a zero derivative is written zeros({r}, {c})"
            if order == 1 and is_scalar(of.shape) and wrt_shape[1] == 1 and expect.shape == (wrt_shape[0], wrt_shape[0]):
                hint = "; for the second derivative (the Hessian) say order 2"
            problem(("expect",), "MC024", f"expect must be {wanted}, the shape of {what} (found {show_shape(expect.shape)}){hint}")
            return None, problems
        else:
            layouts = fitting
    assume = {name: tuple(props) for name, props in assume_in.items()}
    sizes = default_sizes(dims)
    text = {"of": str(fields["of"]).strip(), "wrt": ", ".join(names), "expect": str(fields["expect"]).strip()}
    return StudentClaim(label, kind, expect_scope if differential else of_scope, of, wrt, expect, assume, layout, layouts,
                        sizes, text, tuple(style_notes(short_expect, sym_shapes)), tuple(bindings),
                        short_of if bindings or parts else None, short_expect if bindings or parts else None, tuple(written), order,
                        tuple(parts.items()), tuple(names) if parts else ()), []


def symbols_example(fields: dict[str, Any]) -> str:
    """'like x: [n]; A: [n, n]' with the names the expressions use (a guess to edit, not a declaration)."""
    from generator.engine.syntax_hints import NAME as TOKEN_NAME, tokens

    names: list[str] = []
    for key in ("of", "expect", "wrt"):
        text = fields.get(key)
        if not isinstance(text, str):
            continue
        toks = tokens(text)
        for k, (kind, tok, _) in enumerate(toks):
            called = k + 1 < len(toks) and toks[k + 1][1] == "("
            after_dot = k > 0 and toks[k - 1][1] == "."
            if kind == TOKEN_NAME and not called and not after_dot and tok not in FUNCTIONS and tok not in names and tok != "d":
                names.append(tok)
    if not names:
        return "like x: [n]; A: [m, n]; s: []"
    shown = "; ".join(f"{n}: {'[n, n]' if n[:1].isupper() else '[n]'}" for n in names)
    return f"like '{shown}' (a guess: [] scalar, [n] column vector, [m, n] matrix)"


def style_notes(expr: Expr, symbols: dict[str, Shape]) -> list[str]:
    """Things that parse but are probably not what was meant: A ** -1 (element-wise), A ** 2."""
    notes: list[str] = []
    for e in walk(expr):
        if e.op == "pow" and not e.args[0].is_scalar and e.args[0].shape[0] == e.args[0].shape[1]:
            k = e.args[1].value if e.args[1].op == "const" else (-e.args[1].args[0].value if e.args[1].op == "neg" and e.args[1].args[0].op == "const" else None)
            if k == -1:
                notes.append("** is element-wise: M ** -1 is 1 / M entry by entry; the inverse is inv(M)")
            elif k == 2:
                notes.append("** is element-wise: M ** 2 squares each entry; the matrix square is M @ M")
    return list(dict.fromkeys(notes))


def from_command_line(of: str | None, wrt: str | None, expect: str | None, symbols: str | None, assume: str | None = None,
                      layout: str | None = None, functions: str | None = None, where: str | None = None,
                      label: str = "claim", order: str | int | None = None) -> tuple[StudentClaim | None, list[Problem]]:
    """A claim from the flags of `mcref check` (or the browser's fields, which have the same names)."""
    flags = {"of": "--of", "wrt": "--wrt", "expect": "--expect", "symbols": "--symbols", "assume": "--assume",
             "layout": "--layout", "functions": "--functions", "where": "--where", "order": "--order"}
    problems: list[Problem] = []
    offsets: dict[tuple[Any, ...], int] = {}
    where_fields: dict[str, str] = {}
    if where and where.strip():
        try:
            where_fields, starts = parse_where_spec(where)
            offsets = {("where", name): col for name, col in starts.items()}
        except SpecError as err:
            problems.append(Problem("--where", 1, err.col + 1, "MC012", f"where {err.message}"))
    locate = flag_locator(flags, offsets)
    fields: dict[str, Any] = {"of": of, "wrt": wrt, "expect": expect}
    specs = (("symbols", symbols, parse_symbols_spec), ("assume", assume, parse_assume_spec),
             ("functions", functions, parse_functions_spec))
    for name, text, parser in specs:
        if text is None or (name != "symbols" and not text.strip()):
            continue
        try:
            fields[name] = parser(text)  # type: ignore[operator]
        except SpecError as err:
            problems.append(Problem(flags[name], 1, err.col + 1, "MC012", f"{name} {err.message}"))
    if problems:
        return None, problems
    if layout:
        fields["layout"] = layout
    if where_fields:
        fields["where"] = where_fields
    if order not in (None, "", 1, "1"):
        fields["order"] = order
    fields = {k: v for k, v in fields.items() if v is not None}
    return build_claim(fields, locate, label)


def is_claim_document(data: Any) -> bool:
    """A YAML mapping without id, title and section is a claim, not a rule."""
    return isinstance(data, dict) and not any(k in data for k in RULE_ONLY_FIELDS)
