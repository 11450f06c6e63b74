"""Print a parsed expression back as rule-language text (for messages; standard library only)."""

from __future__ import annotations

from generator.engine.parse import Expr

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
        body = _text(inner, 9) if inner.op in ("sym", "call", "apply", "D", "d", "T") else f"({_text(inner, 0)})"
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
        head = f"D{e.value}" if len(e.args) > 1 else "D"
        return f"{head}({e.name}, " + ", ".join(_text(a, 0) for a in e.args) + ")"
    if op == "DD":
        j, k = divmod(e.value, 10)
        inner, outer = (f"D{j}", f"D{k}") if len(e.args) > 1 else ("D", "D")
        return f"{outer}({inner}({e.name}), " + ", ".join(_text(a, 0) for a in e.args) + ")"
    if op == "part":  # rows of the stacked variable of a `wrt: [x, y]` rule
        return f"{_text(e.args[0], 9)}[{e.name}:{e.name}+{e.shape[0]}]"
    return f"{op}(" + ", ".join(_text(a, 0) for a in e.args) + ")"


def _wrap(text: str, prec: int, outer: int) -> str:
    return f"({text})" if prec < outer else text
