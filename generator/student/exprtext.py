"""Expression trees back to rule-language text, and the small rewrites hints need.

`to_text` prints a tree the way a person types it (fewest brackets Python's precedence
allows), so a suggested repair reads `(A + A.T) @ x`; `gather_constants` moves numeric
factors to the front of each product (2 * ((A + A.T) / 2) @ x -> (A + A.T) @ x). Pure.
"""

from __future__ import annotations

from fractions import Fraction

from generator.engine.parse import SCALAR, Expr

ADD, MUL, NEG, POW, ATOM = 1, 2, 3, 4, 5
_BINARY = {"add": (" + ", ADD), "sub": (" - ", ADD), "mul": (" * ", MUL), "div": (" / ", MUL), "matmul": (" @ ", MUL)}
_ASSOCIATIVE = ("add", "mul", "matmul")


def _is_hadamard(e: Expr) -> bool:
    """An element-wise product of two non-scalars, possibly under scalar factors (2 * (a * b))."""
    if e.op != "mul" or e.is_scalar:
        return False
    if not e.args[0].is_scalar and not e.args[1].is_scalar:
        return True
    return any(_is_hadamard(a) for a in e.args)


def _mixes(op: str, child: Expr) -> bool:
    """A Hadamard product next to a matrix product (either way round)."""
    return (op == "matmul" and _is_hadamard(child)) or (op == "mul" and child.op == "matmul" and not child.is_scalar)


def to_text(e: Expr) -> str:
    return _print(e)[0]


def _wrap(e: Expr, min_prec: int) -> str:
    text, prec = _print(e)
    return text if prec >= min_prec else f"({text})"


def _print(e: Expr) -> tuple[str, int]:
    op = e.op
    if op in ("sym", "dim", "ref"):
        return e.name, ATOM
    if op == "const":
        return (str(e.value), ATOM) if e.value >= 0 else (str(e.value), NEG)
    if op == "neg":
        return "-" + _wrap(e.args[0], NEG), NEG
    if op in _BINARY:
        sym, prec = _BINARY[op]
        left, right = e.args
        if op in ("mul", "matmul"):
            # Python reads A * B @ C as (A * B) @ C; people do not: brackets between @ and a Hadamard *
            if _mixes(op, left):
                return f"({to_text(left)}){sym}{_wrap(right, prec + 1)}", prec
        left_text = _wrap(left, prec)
        same_assoc = op in _ASSOCIATIVE and right.op == op
        right_text = _print(right)[0] if same_assoc and _print(right)[1] >= prec else _wrap(right, prec + 1)
        return left_text + sym + right_text, prec
    if op == "pow":
        base, exponent = e.args
        exp_text, exp_prec = _print(exponent)
        if exp_prec < ATOM and not (exponent.op == "neg" and exponent.args[0].op == "const"):
            exp_text = f"({exp_text})"
        return f"{_wrap(base, ATOM)} ** {exp_text}", POW
    if op == "T":
        return _wrap(e.args[0], ATOM) + ".T", ATOM
    if op == "call":
        if e.name in ("ones", "zeros") and e.shape[1] == 1:
            return f"{e.name}({e.shape[0]})", ATOM
        if e.name in ("ones", "zeros"):
            return f"{e.name}({e.shape[0]}, {e.shape[1]})", ATOM
        if e.name == "eye":
            return f"eye({e.shape[0]})", ATOM
        return f"{e.name}({', '.join(to_text(a) for a in e.args)})", ATOM
    if op == "apply":
        return f"{e.name}({', '.join(to_text(a) for a in e.args)})", ATOM
    if op == "D":
        return f"D({e.name}, {', '.join(to_text(a) for a in e.args)})" if e.value <= 1 and len(e.args) == 1 else \
            f"D{e.value}({e.name}, {', '.join(to_text(a) for a in e.args)})", ATOM
    if op == "DD":  # second derivative of a function of scalars: by argument j, then k (value 10 j + k)
        j, k = e.value // 10, e.value % 10
        points = ", ".join(to_text(a) for a in e.args)
        if len(e.args) == 1 and j == k == 1:
            return f"D(D({e.name}), {points})", ATOM
        return f"D{k}(D{j}({e.name}), {points})", ATOM
    if op == "d":
        return f"d({e.name})", ATOM
    raise ValueError(f"{op} has no rule-language spelling of its own")  # "part": print the written form, with x and y


# ------------------------------------------------------------------ numeric factors

def constant(q: Fraction) -> Expr:
    """The tree of a rational number: 2, -2, 1/2, -3/4."""
    if q < 0:
        return Expr("neg", (constant(-q),), SCALAR)
    if q.denominator == 1:
        return Expr("const", shape=SCALAR, value=q.numerator)
    return Expr("div", (Expr("const", shape=SCALAR, value=q.numerator), Expr("const", shape=SCALAR, value=q.denominator)), SCALAR)


def scaled(q: Fraction, core: Expr | None, shape: tuple) -> Expr:
    """q * core, written the way a person would: core, -core, 2 * core, core / 2, 3/4 * core.

    In a product the factor goes on its leftmost operand, so it prints -A @ x, 2 * A @ x.
    """
    if core is None:
        return constant(q)
    if q == 1:
        return core
    if core.op in ("mul", "matmul") and q.denominator == 1:
        left, right = core.args
        return Expr(core.op, (scaled(q, left, left.shape), right), core.shape)
    shape = core.shape
    if q == -1:
        return Expr("neg", (core,), shape)
    if q.numerator == 1 and q.denominator > 1:
        return Expr("div", (core, constant(Fraction(q.denominator))), shape)
    if q.numerator == -1 and q.denominator > 1:
        return Expr("neg", (Expr("div", (core, constant(Fraction(q.denominator))), shape),), shape)
    return Expr("mul", (constant(q), core), shape)


def split_constant(e: Expr) -> tuple[Fraction, Expr | None]:
    """e = q * core, with q the numeric factor of a product and the core's own constants gathered (core None: e is q)."""
    op = e.op
    if op == "const":
        return Fraction(e.value), None
    if op == "neg":
        q, core = split_constant(e.args[0])
        return -q, core
    if op in ("mul", "matmul"):
        (qa, a), (qb, b) = split_constant(e.args[0]), split_constant(e.args[1])
        if a is None or b is None:
            return qa * qb, a if b is None else b
        return qa * qb, Expr(op, (a, b), e.shape)
    if op == "div":
        (qa, a), (qb, b) = split_constant(e.args[0]), split_constant(e.args[1])
        if b is None and qb != 0:
            return qa / qb, a
        if b is None or qb == 0:
            return Fraction(1), Expr("div", (scaled(qa, a, e.args[0].shape), scaled(qb, b, e.args[1].shape)), e.shape)
        # (qa a) / (qb b) = (qa / qb) * (a / b), with a = 1 when the numerator is a number
        numerator = a if a is not None else Expr("const", shape=e.args[0].shape, value=1)
        return qa / qb, Expr("div", (numerator, b), e.shape)
    if op == "T":
        q, core = split_constant(e.args[0])
        return q, None if core is None else Expr("T", (core,), e.shape)
    if not e.args:
        return Fraction(1), e
    return Fraction(1), Expr(op, tuple(gather_constants(a) for a in e.args), e.shape, e.name, e.value)


def gather_constants(e: Expr) -> Expr:
    """Numeric factors of every product moved to its front and multiplied out."""
    q, core = split_constant(e)
    return scaled(q, core, e.shape)


def substitute(e: Expr, name: str, replacement: Expr) -> Expr:
    """e with every occurrence of symbol `name` replaced."""
    if e.op == "sym" and e.name == name:
        return replacement
    if not e.args:
        return e
    return Expr(e.op, tuple(substitute(a, name, replacement) for a in e.args), e.shape, e.name, e.value)
