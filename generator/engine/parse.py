"""Stage 3, parse: rule expressions -> typed expression trees with shapes.

Rule text is parsed with Python's `ast` module and every node is checked against a
whitelist; nothing is ever passed to eval, exec, sympify or parse_expr. Shapes are
checked here, before any algebra, so a mismatch is reported with the shapes involved.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Union

from generator.engine import syntax_hints

Dim = Union[int, str]
Shape = tuple[Dim, Dim]  # always (rows, cols); a scalar is (1, 1), a vector [n] is (n, 1)
SCALAR: Shape = (1, 1)

MAX_NODES = 400
MAX_DEPTH = 40
MAX_EXPONENT = 64

ELEMENTWISE = ("log", "exp", "sin", "cos", "tanh", "sqrt", "sigmoid", "relu", "step", "softplus", "abs", "sign")
FUNCTIONS = ELEMENTWISE + ("trace", "det", "inv", "softmax", "logsumexp", "sum", "diag", "norm", "ones", "zeros", "eye", "max", "D", "d",
                           "vstack", "hstack")


class ExprError(Exception):
    """A problem in one expression: code, message and offset (line, col within the text)."""

    def __init__(self, code: str, message: str, line: int = 1, col: int = 0) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.col = code, message, line, col


@dataclass(frozen=True)
class Expr:
    """A node of a parsed expression. `op` names the operation; `shape` is checked."""

    # sym, const, dim, neg, add, sub, mul, div, pow, matmul, T, call, apply, D, DD (a second derivative), d,
    # ref (a `where:` name), part (rows of the stacked vector of a `wrt: [x, y]` list; `name` holds the first row as dim_text)
    op: str
    args: tuple["Expr", ...] = ()
    shape: Shape = SCALAR
    name: str = ""  # symbol, function or dimension name
    value: int = 0  # constant value; for D: which argument (1-based); for DD: 10 j + k (by argument j, then k)

    @property
    def is_scalar(self) -> bool:
        return is_scalar(self.shape)


def is_scalar(shape: Shape) -> bool:
    return shape == SCALAR


def is_vector(shape: Shape) -> bool:
    return shape[1] == 1 and shape[0] != 1


@dataclass(frozen=True)
class FunctionSig:
    """A generic function declared by a rule: argument shapes and value shape."""

    args: tuple[Shape, ...]
    to: Shape

    @property
    def elementwise(self) -> bool:
        """A scalar function of one scalar acts element-wise on vectors and matrices."""
        return len(self.args) == 1 and is_scalar(self.args[0]) and is_scalar(self.to)


@dataclass(frozen=True)
class Scope:
    """What names an expression may use."""

    symbols: dict[str, Shape]
    functions: dict[str, FunctionSig] = field(default_factory=dict)
    dims: tuple[str, ...] = ()  # a tuple, not a set: its repr is part of the cache key
    differential_of: str | None = None  # the symbol d(...) may name, in differential rules
    bindings: dict[str, Shape] = field(default_factory=dict)  # `where:` names usable here, with their shapes


def shape_from_decl(decl: list[Dim]) -> Shape:
    if len(decl) == 0:
        return SCALAR
    if len(decl) == 1:
        return (decl[0], 1)
    return (decl[0], decl[1])


def show_shape(shape: Shape) -> str:
    if is_scalar(shape):
        return "scalar"
    rows, cols = (f"({d})" if "+" in str(d) else str(d) for d in shape)  # (n+1)x1, never n+1x1
    return f"{rows}x{cols}"


def dim_sum(dims: "list[Dim] | tuple[Dim, ...]") -> Dim:
    """The dimension that is the sum of dims (a stacked length), written canonically.

    Integers add up; letters are counted: [n, 1] -> "n+1", [n, m, 2] -> "m+n+2",
    [n, n] -> "2n", [n] -> "n", [2, 1] -> 3. Equal sums give equal values, so shapes
    built from them compare with ==. dim_value reads the text back.
    """
    const = 0
    letters: dict[str, int] = {}
    for d in dims:
        if isinstance(d, int):
            const += d
            continue
        for term in str(d).split("+"):
            coeff, name = _dim_term(term)
            if name:
                letters[name] = letters.get(name, 0) + coeff
            else:
                const += coeff
    if not letters:
        return const
    if len(letters) == 1 and const == 0 and next(iter(letters.values())) == 1:
        return next(iter(letters))
    parts = [f"{c if c != 1 else ''}{name}" for name, c in sorted(letters.items())]
    if const:
        parts.append(str(const))
    return "+".join(parts)


def _dim_term(term: str) -> tuple[int, str]:
    """'3n' -> (3, 'n'), 'n' -> (1, 'n'), '4' -> (4, '')."""
    match = re.fullmatch(r"([0-9]*)([A-Za-z]?)", term)
    if not match or not term:
        raise ValueError(f"not a dimension: {term!r}")
    digits, name = match.groups()
    return (int(digits) if digits else 1), name


def dim_value(d: object, sizes: "dict[str, int]") -> int:
    """The size of a dimension at a size assignment: an int, a letter, or a sum like n+1."""
    if isinstance(d, int):
        return d
    if d in sizes:
        return sizes[d]  # type: ignore[index]
    total = 0
    for term in str(d).split("+"):
        coeff, name = _dim_term(term)
        total += coeff * (sizes[name] if name else 1)
    return total


def dim_text(d: Dim) -> str:
    """A dimension as text (the `part` node keeps its first row this way)."""
    return str(d)


def parse_dim(text: str) -> Dim:
    """The inverse of dim_text."""
    return int(text) if text.isdigit() else text


def parse_expression(text: str, scope: Scope) -> Expr:
    """Parse and shape-check one expression; raises ExprError."""
    if len(text) > 2000:
        raise ExprError("MC020", f"expression must be at most 2000 characters (found {len(text)})")
    if text.count("(") > MAX_DEPTH * 4:
        raise ExprError("MC021", f"expression must nest at most {MAX_DEPTH} levels deep")
    source, origin = syntax_hints.normalize(text, primes="'" in text and not _is_python(text))
    try:
        return _parse_normalized(source, scope)
    except ExprError as err:
        err.line, err.col = _original_position(text, source, origin, err.line, err.col)
        raise


def _is_python(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False
    return True


def _parse_normalized(text: str, scope: Scope) -> Expr:
    """Parse text in which x' is already x.T; positions are in this text."""
    strange = syntax_hints.non_ascii(text)
    if strange is not None:
        raise ExprError("MC020", strange[1], *_line_col(text, strange[0]))
    caret = syntax_hints.caret(text) if "^" in text and "|" not in text else None  # |x|^2: the norm first
    if caret is not None:
        at, kind, left, right = caret
        try:
            left_shape = _parse_normalized(left, scope).shape if left and "^" not in left else None
        except ExprError:
            left_shape = None
        scalar = left_shape is not None and is_scalar(left_shape)
        square = left_shape is not None and not scalar and left_shape[0] == left_shape[1]
        raise ExprError("MC021", syntax_hints.caret_message(left, right, kind, scalar, square, left_shape is not None),
                        *_line_col(text, at))
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as err:
        callable_names = frozenset(FUNCTIONS) | frozenset(scope.functions)
        found = syntax_hints.diagnose_syntax(text, callable_names)
        if found is not None:
            raise ExprError("MC020", found[1], *_line_col(text, found[0])) from None
        line, col = err.lineno or 1, (err.offset or 1) - 1
        if line == 1:
            col += lead
        raise ExprError("MC020", f"expression must be valid syntax (found {err.msg})", line, col) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("MC021", f"expression must nest at most {MAX_DEPTH} levels deep") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExprError("MC021", f"expression must have at most {MAX_NODES} nodes (found {count})")
    try:
        return _Builder(scope, stripped).build(tree.body, 0)
    except ExprError as err:
        if err.line == 1:
            err.col += lead
        raise


def _line_col(text: str, index: int) -> tuple[int, int]:
    """(1-based line, 0-based column) of a character index."""
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1)


def _original_position(original: str, source: str, origin: list[int], line: int, col: int) -> tuple[int, int]:
    """Map a (line, col) in the normalized text back to the text the user wrote."""
    lines = source.split("\n")
    index = sum(len(x) + 1 for x in lines[: max(line - 1, 0)]) + col
    index = max(0, min(index, len(origin) - 1))
    return _line_col(original, origin[index])


_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}
_SYMBOL_TEXT = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}


class _Builder:
    def __init__(self, scope: Scope, text: str = "") -> None:
        self.scope = scope
        self.text = text

    def src(self, node: ast.AST) -> str:
        """The source text of a node, for messages that quote what was written."""
        segment = ast.get_source_segment(self.text, node) if self.text else None
        return segment if segment is not None else ast.unparse(node)  # type: ignore[attr-defined]

    def operator_at(self, node: ast.BinOp, char: str) -> ast.AST:
        """A stand-in node positioned at the operator character between the operands."""
        marker = ast.Constant(0)
        lines = self.text.split("\n")
        line, start = node.left.end_lineno or 1, node.left.end_col_offset or 0
        found = lines[line - 1].find(char, start) if 0 < line <= len(lines) else -1
        marker.lineno, marker.col_offset = (line, found) if found >= 0 else (node.lineno, node.col_offset)
        return marker

    def fail(self, code: str, message: str, node: ast.AST) -> ExprError:
        return ExprError(code, message, getattr(node, "lineno", 1), getattr(node, "col_offset", 0))

    def build(self, node: ast.AST, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise self.fail("MC021", f"expression must nest at most {MAX_DEPTH} levels deep", node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return self.binop(_BINOPS[type(node.op)], self.build(node.left, depth + 1), self.build(node.right, depth + 1), node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.build(node.operand, depth + 1)
            return Expr("neg", (inner,), inner.shape) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd, ast.Mod, ast.FloorDiv)):
            char = {ast.BitOr: "|", ast.BitAnd: "&", ast.Mod: "%", ast.FloorDiv: "//"}[type(node.op)]
            hint = syntax_hints.operator_message(char, self.src(node))
            if hint:
                raise self.fail("MC021", hint, self.operator_at(node, char))
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            raise self.fail("MC021", syntax_hints.float_message(node.value, self.src(node)), node)
        if isinstance(node, ast.Subscript):
            raise self.fail("MC021", f"expression must use whole vectors and matrices: entries cannot be indexed (found a subscript, {self.src(node)})", node)
        if isinstance(node, ast.Compare):
            raise self.fail("MC021", "expression must be one expression, without comparisons: put what is differentiated in of "
                            f"and the claimed derivative in expect (found a comparison, {self.src(node)})", node)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int):
                raise self.fail("MC021", f"constants must be integers; write rationals as 1/2 (found {node.value!r})", node)
            if abs(node.value) > 10**6:
                raise self.fail("MC021", f"integer constants must be at most 10^6 (found {node.value})", node)
            return Expr("const", shape=SCALAR, value=node.value)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                hint = syntax_hints.method_fix_message(node, self.src)
                if hint:
                    raise self.fail("MC021", hint, node)
                raise self.fail("MC021", f"attribute access must be .T only (found .{node.attr})", node)
            inner = self.build(node.value, depth + 1)
            return Expr("T", (inner,), (inner.shape[1], inner.shape[0]))
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        what = {ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
                ast.SetComp: "a comprehension", ast.DictComp: "a comprehension", ast.Subscript: "a subscript",
                ast.Compare: "a comparison", ast.BoolOp: "a boolean operator", ast.IfExp: "a conditional"}.get(type(node), type(node).__name__)
        raise self.fail("MC021", f"expression must use only the operators and functions of the rule language (found {what})", node)

    def name(self, node: ast.Name) -> Expr:
        ident = node.id
        if ident.startswith("_"):
            raise self.fail("MC021", f"names must not start with an underscore (found {ident})", node)
        if ident in self.scope.symbols:
            return Expr("sym", shape=self.scope.symbols[ident], name=ident)
        if ident in self.scope.bindings:
            return Expr("ref", shape=self.scope.bindings[ident], name=ident)
        if ident in self.scope.dims:
            return Expr("dim", shape=SCALAR, name=ident)
        if ident == "d" and "d" not in self.scope.functions:
            raise self.fail("MC023", "d must be called as d(X), the differential of wrt, in expect (found d alone); "
                            "to state a derivative, put what is differentiated in of and your derivative in expect", node)
        if ident in self.scope.functions or ident in FUNCTIONS:
            raise self.fail("MC023", f"function {ident} must be called with arguments (found it used as a value)", node)
        where = " or earlier under where" if self.scope.bindings else ""
        hint = syntax_hints.name_hint(ident, [*self.scope.symbols, *self.scope.bindings], [*FUNCTIONS, *self.scope.functions], list(self.scope.dims))
        raise self.fail("MC022", f"name {ident} must be declared under symbols{where} (found it undeclared){hint}", node)

    def binop(self, op: str, left: Expr, right: Expr, node: ast.AST) -> Expr:
        sym = _SYMBOL_TEXT[op]
        at = self.operator_at(node, sym) if isinstance(node, ast.BinOp) else node  # errors point at the operator
        if op == "matmul":
            if left.is_scalar or right.is_scalar:
                raise self.fail("MC024", f"@ must join two matrices or vectors; use * with a scalar (found {show_shape(left.shape)} @ {show_shape(right.shape)})", at)
            if left.shape[1] != right.shape[0]:
                hint = syntax_hints.product_hint(op, left.shape, right.shape, self.src(node.left), self.src(node.right),  # type: ignore[attr-defined]
                                                 *_transposes_as_text(left, right))
                raise self.fail("MC024", f"@ must join {show_shape(left.shape)} with {left.shape[1]}xk (found {show_shape(left.shape)} @ {show_shape(right.shape)}){hint}", at)
            return Expr(op, (left, right), (left.shape[0], right.shape[1]))
        if op == "pow":
            if not right.is_scalar:
                raise self.fail("MC024", f"** must have a scalar exponent (found {show_shape(right.shape)})", at)
            exponent = constant_value(right)
            folded = _folded_constant(right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise self.fail("MC021", f"exponents must be at most {MAX_EXPONENT} in size (found {exponent})", at)
            if folded is not None and abs(folded) > MAX_EXPONENT:  # a computed exponent, e.g. 2 ** 64
                raise self.fail("MC021", f"exponents must be at most {MAX_EXPONENT} in size (found {ast.unparse(node.right)})", at)  # type: ignore[attr-defined]
            return Expr(op, (left, right), left.shape)
        if left.is_scalar:
            return Expr(op, (left, right), right.shape)
        if right.is_scalar or left.shape == right.shape:
            return Expr(op, (left, right), left.shape)
        hint = syntax_hints.product_hint(op, left.shape, right.shape, self.src(node.left), self.src(node.right),  # type: ignore[attr-defined]
                                         *_transposes_as_text(left, right)) if op == "mul" else ""
        raise self.fail("MC024", f"{sym} must join equal shapes or a scalar (found {show_shape(left.shape)} {sym} {show_shape(right.shape)}){hint}", at)

    def call(self, node: ast.Call, depth: int) -> Expr:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                hint = syntax_hints.method_fix_message(node, self.src)
                if hint:
                    raise self.fail("MC021", hint, node)
            raise self.fail("MC021", "only named functions may be called (found a call of an expression)", node)
        fname = node.func.id
        if fname.startswith("_"):
            raise self.fail("MC021", f"names must not start with an underscore (found {fname})", node)
        if node.keywords:
            raise self.fail("MC021", f"{fname} must be called without keyword arguments", node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail("MC021", f"{fname} must be called without * arguments", node)
        if fname in self.scope.functions:
            return self.apply(fname, [self.build(a, depth + 1) for a in node.args], node)
        if fname == "D" or (fname[:1] == "D" and fname[1:].isdigit()):
            return self.jacobian(fname, node, depth)
        if fname in ("ones", "zeros", "eye"):
            return self.constructor(fname, node)
        if fname not in FUNCTIONS:
            known = [f for f in FUNCTIONS if f not in ("D", "d")] + list(self.scope.functions)
            raise self.fail("MC023", syntax_hints.function_message(fname, [self.src(a) for a in node.args], known), node)
        args = [self.build(a, depth + 1) for a in node.args]
        if fname in ("vstack", "hstack"):
            return self.stack(fname, args, node)
        if fname == "max":
            if len(args) != 2 or constant_value(args[0]) != 0:
                if len(args) == 2 and constant_value(args[1]) == 0:
                    raise self.fail("MC023", f"max must be written max(0, z), the ReLU: write max(0, {self.src(node.args[0])}) (found {self.src(node)})", node)
                raise self.fail("MC023", "max must be written max(0, z), the ReLU (found another form)", node)
            return Expr("call", (args[1],), args[1].shape, name="relu")
        if fname == "d":
            if self.scope.differential_of is None:
                raise self.fail("MC023", "d(...) must appear only in kind: differential rules", node)
            if len(args) != 1 or args[0].op != "sym" or args[0].name != self.scope.differential_of:
                raise self.fail("MC023", f"d must take the symbol of wrt, d({self.scope.differential_of})", node)
            return Expr("d", (args[0],), args[0].shape, name=args[0].name)
        if len(args) != 1:
            raise self.fail("MC023", f"{fname} must take one argument (found {len(args)})", node)
        (arg,) = args
        shape = arg.shape
        if fname in ELEMENTWISE:
            return Expr("call", (arg,), shape, name=fname)
        if fname in ("trace", "det", "inv"):
            if shape[0] != shape[1] or arg.is_scalar:
                raise self.fail("MC024", f"{fname} must take a square matrix (found {show_shape(shape)})", node)
            return Expr("call", (arg,), shape if fname == "inv" else SCALAR, name=fname)
        if fname in ("sum", "norm"):
            return Expr("call", (arg,), SCALAR, name=fname)
        if fname == "diag":
            if not is_vector(shape):
                raise self.fail("MC024", f"diag must take a column vector (found {show_shape(shape)})", node)
            return Expr("call", (arg,), (shape[0], shape[0]), name=fname)
        if fname == "softmax":
            if arg.is_scalar:
                raise self.fail("MC024", "softmax must take a vector, or a matrix (row by row) (found scalar)", node)
            return Expr("call", (arg,), shape, name=fname)
        if fname == "logsumexp":
            if arg.is_scalar:
                raise self.fail("MC024", "logsumexp must take a vector, or a matrix (row by row) (found scalar)", node)
            return Expr("call", (arg,), SCALAR if is_vector(shape) else (shape[0], 1), name=fname)
        raise self.fail("MC023", f"function {fname} is not supported", node)  # pragma: no cover - FUNCTIONS is exhaustive

    def stack(self, fname: str, args: list[Expr], node: ast.Call) -> Expr:
        """vstack(a, b, ...) stacks blocks top to bottom, hstack(a, b, ...) left to right.

        A scalar is a 1 x 1 block; vstack needs blocks with equal column counts, hstack
        blocks with equal row counts. vstack(x, 1) is the column (x; 1) of length n+1.
        """
        if len(args) < 2:
            raise self.fail("MC023", f"{fname} must take two or more blocks (found {len(args)})", node)
        keep, grow = (1, 0) if fname == "vstack" else (0, 1)
        side = "columns" if fname == "vstack" else "rows"
        first = args[0].shape[keep]
        for i, a in enumerate(args[1:], start=2):
            if a.shape[keep] != first:
                shapes = ", ".join(show_shape(b.shape) for b in args)
                raise self.fail("MC024", f"{fname} must join blocks with the same number of {side} (found {shapes}; block {i} differs)", node)
        total = dim_sum([a.shape[grow] for a in args])
        shape: Shape = (total, first) if fname == "vstack" else (first, total)
        return Expr("call", tuple(args), shape, name=fname)

    def constructor(self, fname: str, node: ast.Call) -> Expr:
        dims: list[Dim] = []
        for a in node.args:
            if isinstance(a, ast.Name) and a.id in self.scope.dims:
                dims.append(a.id)
            elif isinstance(a, ast.Constant) and isinstance(a.value, int) and not isinstance(a.value, bool) and 1 <= a.value <= 64:
                dims.append(a.value)
            else:
                raise self.fail("MC023", f"{fname} must take dimensions (letters used in shapes, or integers 1-64) (found {ast.unparse(a)})", node)
        if fname == "eye" and len(dims) != 1:
            raise self.fail("MC023", f"eye must take one dimension (found {len(dims)})", node)
        if not 1 <= len(dims) <= 2:
            raise self.fail("MC023", f"{fname} must take one or two dimensions (found {len(dims)})", node)
        shape: Shape = (dims[0], dims[0]) if fname == "eye" else (dims[0], dims[1] if len(dims) == 2 else 1)
        return Expr("call", (), shape, name=fname)

    def apply(self, fname: str, args: list[Expr], node: ast.AST) -> Expr:
        sig = self.scope.functions[fname]
        if sig.elementwise and len(args) == 1:
            return Expr("apply", tuple(args), args[0].shape, name=fname)
        if len(args) != len(sig.args):
            raise self.fail("MC023", f"{fname} must take {len(sig.args)} argument(s) (found {len(args)})", node)
        for i, (arg, want) in enumerate(zip(args, sig.args)):
            if arg.shape != want:
                raise self.fail("MC024", f"argument {i + 1} of {fname} must be {show_shape(want)} (found {show_shape(arg.shape)})", node)
        return Expr("apply", tuple(args), sig.to, name=fname)

    def _derivative_index(self, dname: str, fname: str, node: ast.AST) -> int:
        """Which argument D, D1, D2, ... differentiates by (1-based), checked against f's signature."""
        sig = self.scope.functions[fname]
        which = 0 if dname == "D" else int(dname[1:])
        if which == 0:
            if len(sig.args) != 1:
                raise self.fail("MC023", f"D must name a function of one argument; for {fname} of {len(sig.args)} use D1, D2, ...", node)
            which = 1
        if not 1 <= which <= len(sig.args):
            raise self.fail("MC023", f"{dname} must name an argument of {fname} (it has {len(sig.args)})", node)
        return which

    def second_derivative(self, dname: str, node: ast.Call, depth: int) -> Expr:
        """D(D(f), x), Dk(Dj(f), a, b, ...): a second derivative of a function of scalars.

        The inner call names the derivative function (by argument j), the outer one
        differentiates it again (by argument k) at the point. Only functions whose
        arguments are all scalars: the result then has the shape of the value (an
        element-wise f applied to a vector or matrix gives f'' entry by entry).
        Represented as op "DD" with value = 10 j + k.
        """
        inner = node.args[0]
        assert isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
        iname = inner.func.id
        if len(inner.args) != 1 or not isinstance(inner.args[0], ast.Name) or inner.args[0].id not in self.scope.functions:
            raise self.fail("MC023", f"{iname}(...) inside {dname} must name one declared function, as {dname}({iname}(f), ...)", node)
        fname = inner.args[0].id
        sig = self.scope.functions[fname]
        if not all(is_scalar(a) for a in sig.args) or len(sig.args) > 9:
            raise self.fail("MC023", f"a second derivative {dname}({iname}({fname}), ...) needs a function of scalars (found {fname} of "
                            f"{', '.join(show_shape(a) for a in sig.args)})", node)
        j = self._derivative_index(iname, fname, node)
        k = self._derivative_index(dname, fname, node)
        args = [self.build(a, depth + 1) for a in node.args[1:]]
        if sig.elementwise and len(args) == 1:
            return Expr("DD", tuple(args), args[0].shape, name=fname, value=11)
        if len(args) != len(sig.args):
            raise self.fail("MC023", f"{dname}({iname}({fname}), ...) must give {len(sig.args)} point argument(s) (found {len(args)})", node)
        for i, (arg, want) in enumerate(zip(args, sig.args)):
            if arg.shape != want:
                raise self.fail("MC024", f"argument {i + 1} of {fname} must be {show_shape(want)} (found {show_shape(arg.shape)})", node)
        return Expr("DD", tuple(args), sig.to, name=fname, value=10 * j + k)

    def jacobian(self, dname: str, node: ast.Call, depth: int) -> Expr:
        first = node.args[0] if node.args else None
        if (isinstance(first, ast.Call) and isinstance(first.func, ast.Name)
                and (first.func.id == "D" or (first.func.id[:1] == "D" and first.func.id[1:].isdigit()))):
            return self.second_derivative(dname, node, depth)
        if not node.args or not isinstance(node.args[0], ast.Name) or node.args[0].id not in self.scope.functions:
            raise self.fail("MC023", f"{dname} must take a declared function first, as {dname}(f, ...) (found another first argument)", node)
        fname = node.args[0].id
        sig = self.scope.functions[fname]
        args = [self.build(a, depth + 1) for a in node.args[1:]]
        which = self._derivative_index(dname, fname, node)
        if sig.elementwise and len(args) == 1:
            return Expr("D", tuple(args), args[0].shape, name=fname, value=1)
        if len(args) != len(sig.args):
            raise self.fail("MC023", f"{dname}({fname}, ...) must give {len(sig.args)} point argument(s) (found {len(args)})", node)
        for i, (arg, want) in enumerate(zip(args, sig.args)):
            if arg.shape != want:
                raise self.fail("MC024", f"argument {i + 1} of {fname} must be {show_shape(want)} (found {show_shape(arg.shape)})", node)
        inp, out = sig.args[which - 1], sig.to
        if not jacobian_is_matrix(out, inp):
            raise self.fail("MC023", f"{dname} must differentiate a scalar, vector or matrix by a scalar, or a scalar or vector by a vector, "
                            f"or a scalar by a matrix: anything else is a tensor (found {show_shape(out)} by {show_shape(inp)})", node)
        return Expr("D", tuple(args), numerator_shape(out, inp), name=fname, value=which)


def _transposes_as_text(left: Expr, right: Expr) -> tuple[str, str]:
    """The operands' transposes as a person writes them (2 * A -> 2 * A.T), for shape hints."""
    from generator.student.exprtext import to_text  # imports this module: only when a hint is needed

    try:
        return to_text(transposed(left)), to_text(transposed(right))
    except (ValueError, RecursionError):
        return "", ""


def constant_value(expr: Expr) -> int | None:
    """The integer an expression literally is (3 or -3), else None."""
    if expr.op == "const":
        return expr.value
    if expr.op == "neg" and expr.args[0].op == "const":
        return -expr.args[0].value
    return None


def _folded_constant(expr: Expr) -> float | None:
    """Value of an expression of integer constants only (+ - * / **), else None.

    Cheap by construction: a value beyond 10^6 becomes inf and is never raised to a power.
    """
    if expr.op == "const":
        return float(expr.value)
    if expr.op == "neg":
        inner = _folded_constant(expr.args[0])
        return None if inner is None else -inner
    if expr.op not in ("add", "sub", "mul", "div", "pow"):
        return None
    a, b = (_folded_constant(x) for x in expr.args)
    if a is None or b is None:
        return None
    if expr.op == "pow" and (abs(a) > 10**6 or abs(b) > MAX_EXPONENT):
        return float("inf")
    try:
        if expr.op == "add":
            value = a + b
        elif expr.op == "sub":
            value = a - b
        elif expr.op == "mul":
            value = a * b
        elif expr.op == "div":
            value = a / b
        else:
            value = a**b
    except (ZeroDivisionError, OverflowError):
        return None
    if isinstance(value, complex) or value != value:  # a root of a negative number, or nan from inf - inf
        return None
    return value if abs(value) <= 10**6 else float("inf")


def numerator_shape(of: Shape, wrt: Shape) -> Shape:
    """Shape of d(of)/d(wrt) in numerator layout; ValueError for tensors we do not print."""
    if is_scalar(wrt):
        return of
    if is_scalar(of):
        return (1, wrt[0]) if is_vector(wrt) else (wrt[1], wrt[0])
    if is_vector(of) and is_vector(wrt):
        return (of[0], wrt[0])
    raise ValueError(f"the derivative of a {show_shape(of)} value by a {show_shape(wrt)} symbol is a tensor")


def jacobian_is_matrix(out: Shape, inp: Shape) -> bool:
    """Is the numerator-layout derivative of a value of shape out by an argument of shape inp a matrix?

    By a scalar: any value (a matrix-valued function of a scalar gives the matrix of
    derivatives); of a scalar: any argument (by a matrix, the gradient's transpose);
    a vector by a vector: the Jacobian. Everything else is a tensor.
    """
    try:
        numerator_shape(out, inp)
    except ValueError:
        return False
    return True


def derivative_shape(of: Shape, wrt: Shape, layout: str) -> Shape:
    num = numerator_shape(of, wrt)
    return num if layout == "numerator" else (num[1], num[0])


def walk(expr: Expr):
    yield expr
    for arg in expr.args:
        yield from walk(arg)


def inline(expr: Expr, bindings: dict[str, Expr]) -> Expr:
    """expr with every `where:` name replaced by its (already inlined) expression.

    This is what the engine verifies: no check ever sees a name, so a printed short form
    is only as true as the substituted expression it stands for.
    """
    if expr.op == "ref":
        return bindings[expr.name]
    if not expr.args:
        return expr
    args = tuple(inline(a, bindings) for a in expr.args)
    if all(new is old for new, old in zip(args, expr.args)):
        return expr
    return Expr(expr.op, args, expr.shape, expr.name, expr.value)


def substitute(expr: Expr, parts: dict[str, Expr]) -> Expr:
    """expr with each symbol named in parts replaced by its `part` node (a `wrt:` list)."""
    if expr.op == "sym" and expr.name in parts:
        return parts[expr.name]
    if not expr.args:
        return expr
    args = tuple(substitute(a, parts) for a in expr.args)
    if all(new is old for new, old in zip(args, expr.args)):
        return expr
    return Expr(expr.op, args, expr.shape, expr.name, expr.value)


def stacked_parts(names: "list[str] | tuple[str, ...]", shapes: "dict[str, Shape]") -> "tuple[str, Shape, dict[str, Expr]]":
    """For `wrt: [x, y, ...]`: the stacked vector's name and shape, and the part node of each name.

    Each listed scalar or column vector becomes the rows offset .. offset+len-1 of one
    column vector named "(x, y)", the variable the derivative is taken by.
    """
    name = "(" + ", ".join(names) + ")"
    lengths = [shapes[n][0] for n in names]
    total = dim_sum(lengths)
    stacked = Expr("sym", shape=(total, 1), name=name)
    parts: dict[str, Expr] = {}
    for i, n in enumerate(names):
        offset = dim_sum(lengths[:i]) if i else 0
        parts[n] = Expr("part", (stacked,), shapes[n], name=dim_text(offset))
    return name, (total, 1), parts


def uses(expr: Expr, *function_names: str) -> bool:
    return any(e.op == "call" and e.name in function_names for e in walk(expr))


def _scalar_first(product: Expr) -> Expr:
    """(s M) N and M (s N) -> s (M N): a scalar factor moves to the front of a matrix product."""
    left, right = product.args
    for i, side in enumerate((left, right)):
        if side.op == "mul" and side.args[0].is_scalar and not side.args[1].is_scalar:
            scalar, rest = side.args
            inner = Expr("matmul", (rest, right) if i == 0 else (left, rest), product.shape)
            return Expr("mul", (scalar, _scalar_first(inner)), product.shape)
    return product


def _without_leading_neg(product: Expr) -> Expr | None:
    """For a matrix product whose leftmost factor is a negation, the product without it; else None."""
    if product.op == "neg":
        return product.args[0]
    if product.op == "matmul":
        inner = _without_leading_neg(product.args[0])
        if inner is not None:
            return Expr("matmul", (inner, product.args[1]), product.shape)
    return None


def transposed(expr: Expr, symmetric: frozenset[str] = frozenset()) -> Expr:
    """The transpose of expr, pushed inward so it prints the way a person writes it.

    (A B)^T -> B^T A^T, (A^T)^T -> A, S^T -> S for a symbol assumed symmetric,
    diag and eye are symmetric, ones(m, n)^T is ones(n, m), scalars are their own transpose. The result is checked
    by the verifier like any expression, so a wrong rewrite here cannot publish.
    """
    swapped: Shape = (expr.shape[1], expr.shape[0])
    if expr.is_scalar:
        return expr
    if expr.op == "T":
        return expr.args[0]
    if expr.op == "sym" and expr.name in symmetric:
        return expr
    if expr.op == "matmul":
        left, right = expr.args
        positive = _without_leading_neg(expr)
        if positive is not None:  # (-A B C)^T -> -(C^T B^T A^T): the sign stays in front, not inside the last factor
            return Expr("neg", (transposed(positive, symmetric),), swapped)
        return _scalar_first(Expr("matmul", (transposed(right, symmetric), transposed(left, symmetric)), swapped))
    if expr.op in ("add", "sub", "mul", "div"):
        return Expr(expr.op, tuple(transposed(a, symmetric) for a in expr.args), swapped)
    if expr.op == "neg":
        return Expr("neg", (transposed(expr.args[0], symmetric),), swapped)
    if expr.op == "pow":
        return Expr("pow", (transposed(expr.args[0], symmetric), expr.args[1]), swapped)
    if expr.op == "call" and expr.name in ("diag", "eye"):
        return expr
    if expr.op == "call" and expr.name in ("ones", "zeros"):
        return Expr("call", (), swapped, name=expr.name)
    if expr.op == "call" and expr.name in ("vstack", "hstack"):
        other = "hstack" if expr.name == "vstack" else "vstack"
        return Expr("call", tuple(transposed(a, symmetric) for a in expr.args), swapped, name=other)
    if expr.op == "call" and expr.name == "inv":
        inner = expr.args[0]
        if inner.op == "sym" and inner.name in symmetric:
            return expr
    if expr.op == "call" and expr.name in ELEMENTWISE:
        return Expr("call", (transposed(expr.args[0], symmetric),), swapped, name=expr.name)
    return Expr("T", (expr,), swapped)
