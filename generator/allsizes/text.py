"""Print a parsed expression back as rule-language text (for messages; standard library only)."""

from __future__ import annotations

from generator.parse import Expr

_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "matmul": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**"}


def to_text(e: Expr) -> str:
    """Rule-language text that parses back to e (parenthesised only where needed)."""
    return _text(e, 0)


def _text(e: Expr, outer: int) -> str:
    op = e.op
    if op in ("sym", "dim"):
        return e.name
    if op == "const":
        return str(e.value)
    if op == "d":
        return f"d({e.name})"
    if op == "T":
        inner = e.args[0]
        body = _text(inner, 9) if inner.op in ("sym", "call", "apply", "D", "DD", "d", "T") else f"({_text(inner, 0)})"
        return body + ".T"
    if op == "neg":
        return _wrap(f"-{_text(e.args[0], 3)}", 3, outer)
    if op in _SYMBOL:
        prec = _PREC[op]
        left, right = e.args
        if op == "pow":  # right-associative
            text = f"{_text(left, prec + 1)} ** {_text(right, prec)}"
        else:
            text = f"{_text(left, prec)} {_SYMBOL[op]} {_text(right, prec + 1)}"
        return _wrap(text, prec, outer)
    if op == "call":
        if e.name in ("ones", "zeros"):
            r, c = e.shape
            return f"{e.name}({r})" if c == 1 else f"{e.name}({r}, {c})"
        if e.name == "eye":
            return f"eye({e.shape[0]})"
        return f"{e.name}(" + ", ".join(_text(a, 0) for a in e.args) + ")"
    if op == "apply":
        return f"{e.name}(" + ", ".join(_text(a, 0) for a in e.args) + ")"
    if op == "D":
        return f"D{e.value if e.value > 1 else ''}({e.name}, " + ", ".join(_text(a, 0) for a in e.args) + ")"
    if op == "DD":  # by argument j, then k (value 10 j + k); D(D(f), a) for a function of one argument
        j, k = e.value // 10, e.value % 10
        inner, outer_d = ("D", "D") if e.value == 11 and len(e.args) == 1 else (f"D{j}", f"D{k}")
        return f"{outer_d}({inner}({e.name}), " + ", ".join(_text(a, 0) for a in e.args) + ")"
    raise ValueError(op)  # pragma: no cover


def _wrap(text: str, prec: int, outer: int) -> str:
    return f"({text})" if prec < outer else text
