"""LaTeX for parsed expressions: what readers see is printed from the checked tree.

The same LaTeX feeds KaTeX on the site and pdfLaTeX in the cheat sheet; MACROS is the
one set of macros both are given.
"""

from __future__ import annotations

import re

from generator.engine.parse import ELEMENTWISE, Expr, FunctionSig, Scope, is_scalar, is_vector

MACROS: dict[str, str] = {
    "\\tr": "\\operatorname{tr}",
    "\\diag": "\\operatorname{diag}",
    "\\softmax": "\\operatorname{softmax}",
    "\\softplus": "\\operatorname{softplus}",
    "\\logsumexp": "\\operatorname{logsumexp}",
    "\\step": "\\operatorname{step}",
    "\\sign": "\\operatorname{sign}",
    "\\sumop": "\\operatorname{sum}",
}

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
    "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}

# `lambda` is a Python keyword, so rules write `lam`; it prints as the Greek letter.
ALIASES = {"lam": "lambda", "Lam": "Lambda"}

# Binding strength: a child binding less tightly than its parent needs parentheses.
ADD, NEG, PROD, POW, ATOM = 1, 2, 3, 5, 6


ACCENTS = {"hat": "\\hat", "bar": "\\bar", "tilde": "\\tilde"}


def name_latex(name: str, bold: bool) -> str:
    """x -> x, x1 -> x_{1}, mu -> \\mu, x_i -> x_{\\mathrm{i}}; bold for vectors and matrices.

    Accents: x_hat, x_bar, x_tilde -> \\hat{x}, ... A `where:` name such as dS (a lower-case
    d before a letter, a capitalised word or a Greek name) is read as a gradient or differential: \\mathrm{d}\\mathbf{S}.
    """
    base, sub = name, ""
    if "_" in name:
        base, sub = name.split("_", 1)
    else:
        match = re.fullmatch(r"([A-Za-z]+?)([0-9]+)", name)
        if match:
            base, sub = match.group(1), match.group(2)
    rest = base[1:]
    if base[:1] == "d" and base not in GREEK and (re.fullmatch(r"[A-Za-z]|[A-Z][A-Za-z]*", rest) or rest in GREEK or rest in ALIASES):
        return "\\mathrm{d}" + name_latex(rest + (f"_{sub}" if sub else ""), bold)
    base = ALIASES.get(base, base)
    if base in GREEK:
        core = f"\\{base}"
        core = f"\\boldsymbol{{{core}}}" if bold else core
    elif len(base) > 1:
        core = f"\\mathbf{{{base}}}" if bold else f"\\mathit{{{base}}}"
    else:
        core = f"\\mathbf{{{base}}}" if bold else base
    if sub in ACCENTS:
        return f"{ACCENTS[sub]}{{{core}}}"
    if sub:
        sub_tex = sub if sub.isdigit() else f"\\mathrm{{{sub}}}"
        return f"{core}_{{{sub_tex}}}"
    return core


def symbol_latex(name: str, shape: tuple[object, object]) -> str:
    return name_latex(name, bold=not is_scalar(shape))  # type: ignore[arg-type]


def function_latex(name: str, sig: FunctionSig) -> str:
    return name_latex(name, bold=not is_scalar(sig.to))


class Printer:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def latex(self, expr: Expr) -> str:
        return self._print(expr)[0]

    def _wrap(self, expr: Expr, min_prec: int) -> str:
        text, prec = self._print(expr)
        return f"\\left({text}\\right)" if prec < min_prec else text

    def _print(self, e: Expr) -> tuple[str, int]:
        op = e.op
        if op in ("sym", "ref"):
            return symbol_latex(e.name, e.shape), ATOM
        if op == "const":
            return (str(e.value), ATOM) if e.value >= 0 else (str(e.value), NEG)
        if op == "dim":
            return e.name, ATOM
        if op == "neg":
            return "-" + self._wrap(e.args[0], PROD), NEG
        if op in ("add", "sub"):
            left = self._wrap(e.args[0], ADD)
            right = self._wrap(e.args[1], PROD)  # a - (b + c), a + (-b): never "+ -" or "- -"
            return f"{left} {'+' if op == 'add' else '-'} {right}", ADD
        if op == "mul":
            positive = _without_leading_minus(e)
            if positive is not None:  # (-2) x prints as -2 x
                return "-" + self._wrap(positive, PROD), NEG
            return self._mul(e), PROD
        if op == "div":
            num, den = e.args
            if den.is_scalar:
                positive = _without_leading_minus(num)
                if positive is not None:  # -1 / x^2 prints as -\frac{1}{x^2}, the minus before the fraction
                    return f"-\\frac{{{self._print(positive)[0]}}}{{{self._print(den)[0]}}}", NEG
                return f"\\frac{{{self._print(num)[0]}}}{{{self._print(den)[0]}}}", ATOM
            return f"{self._hadamard_side(num)} \\oslash {self._hadamard_side(den)}", PROD
        if op == "pow":
            base, exponent = e.args
            mark = "" if base.is_scalar else "\\circ "
            return f"{self._wrap(base, ATOM)}^{{{mark}{self._print(exponent)[0]}}}", POW
        if op == "matmul":
            left, right = e.args
            positive = _without_leading_minus(e)
            if positive is not None:  # ((-A) B) C prints as -A B C, the way people write it
                return "-" + self._wrap(positive, PROD), NEG
            sep = " \\, " if _is_differential(left, -1) or _is_differential(right, 0) else " "  # X^{-1} dX X^{-1}, never dXX^{-1}
            return f"{self._product_side(left)}{sep}{self._product_side(right)}", PROD
        if op == "T":
            inner = e.args[0]
            if inner.op == "call" and inner.name == "inv":
                return f"{self._wrap(inner.args[0], ATOM)}^{{-\\top}}", POW
            text = self._wrap(inner, ATOM)
            if text.startswith("\\frac") or inner.op == "d":  # (df/dw)^T, never df/dw^T; (dX)^T, as d(X^T) = (dX)^T says
                text = f"\\left({text}\\right)"
            return f"{text}^{{\\top}}", POW
        if op == "call":
            return self._call(e)
        if op == "apply":
            sig = self.scope.functions[e.name]
            args = ", ".join(self._print(a)[0] for a in e.args)
            return f"{function_latex(e.name, sig)}\\left({args}\\right)", ATOM
        if op == "D":
            return self._jacobian(e), ATOM
        if op == "DD":
            return self._second(e), ATOM
        if op == "d":
            return f"\\mathrm{{d}}{symbol_latex(e.name, e.shape)}", ATOM
        raise ValueError(f"cannot print {op}")  # pragma: no cover - parse makes only the ops above

    def _product_side(self, e: Expr) -> str:
        text, prec = self._print(e)
        return f"\\left({text}\\right)" if prec < PROD or _is_hadamard(e) else text

    def _hadamard_side(self, e: Expr) -> str:
        text, prec = self._print(e)
        return f"\\left({text}\\right)" if prec <= PROD and e.op in ("mul", "div", "matmul", "neg", "add", "sub") else text

    def _mul(self, e: Expr) -> str:
        left, right = e.args
        if left.is_scalar or right.is_scalar:
            scalar, other = (left, right) if left.is_scalar else (right, left)
            s_text = self._wrap(scalar, PROD)
            o_text = self._hadamard_side(other) if _is_hadamard(other) else self._wrap(other, PROD)
            if scalar.op == "d":  # a differential dx follows its coefficient: du/dx dx, never dx du/dx
                return f"{o_text} \\, {s_text}"
            sep = " \\cdot " if other.op == "const" or (other.op == "neg") else " \\, " if _is_differential(other, 0) else " "
            return f"{s_text}{sep}{o_text}"
        # the Hadamard product is associative: a chain prints without inner brackets
        sides = [self._print(side)[0] if _is_hadamard_product(side) else self._hadamard_side(side) for side in (left, right)]
        return f"{sides[0]} \\odot {sides[1]}"

    def _call(self, e: Expr) -> tuple[str, int]:
        name = e.name
        if name in ("ones", "zeros"):
            # The size is printed, so a ones matrix never reads as the ones vector: 1_n, 1_{m x n}.
            symbol = "\\mathbf{1}" if name == "ones" else "\\mathbf{0}"
            rows, cols = e.shape
            size = f"{rows}" if cols == 1 else f"{rows} \\times {cols}"
            return f"{symbol}_{{{size}}}", ATOM
        if name == "eye":
            return "\\mathbf{I}", ATOM
        if name in ("vstack", "hstack"):
            return self._stack(e), ATOM
        (arg,) = e.args
        inner = self._print(arg)[0]
        if name == "inv":
            return f"{self._wrap(arg, ATOM)}^{{-1}}", POW
        if name == "norm":
            sub = "2" if is_vector(arg.shape) or arg.is_scalar else "F"
            return f"\\left\\lVert {inner} \\right\\rVert_{{{sub}}}", ATOM
        if name == "sqrt":
            return f"\\sqrt{{{inner}}}", ATOM
        if name == "relu":
            return f"\\max\\left(0, {inner}\\right)", ATOM
        if name == "abs":
            return f"\\left\\lvert {inner} \\right\\rvert", ATOM
        command = {
            "trace": "\\tr", "det": "\\det", "log": "\\log", "exp": "\\exp", "sin": "\\sin", "cos": "\\cos",
            "tanh": "\\tanh", "sigmoid": "\\sigma", "step": "\\step", "sign": "\\sign", "softplus": "\\softplus",
            "softmax": "\\softmax", "logsumexp": "\\logsumexp", "sum": "\\sumop", "diag": "\\diag",
        }[name]
        return f"{command}\\left({inner}\\right)", ATOM

    def _stack(self, e: Expr) -> str:
        """A block matrix: vstack(a, b) is a column of blocks, hstack(a, b) a row of blocks.

        A vstack of hstacks with the same number of blocks (or an hstack of such vstacks,
        its transpose) prints as one matrix, the way a 2 x 2 Jacobian is written.
        """
        inner = "hstack" if e.name == "vstack" else "vstack"
        grid = [list(a.args) if a.op == "call" and a.name == inner else [a] for a in e.args]
        if len({len(g) for g in grid}) != 1:
            grid = [[a] for a in e.args]
        if e.name == "hstack":
            grid = [list(col) for col in zip(*grid)]  # the blocks of the vstacks are the rows
        body = " \\\\ ".join(" & ".join(self._print(b)[0] for b in row) for row in grid)
        return f"\\begin{{bmatrix}} {body} \\end{{bmatrix}}"

    def _second(self, e: Expr) -> str:
        """f''(x) for a scalar function; d2U/dx2 or d2U/dx dy by the names of the points where it can."""
        sig = self.scope.functions[e.name]
        fn = function_latex(e.name, sig)
        if sig.elementwise:
            return f"{fn}''\\left({self._print(e.args[0])[0]}\\right)"
        j, k = e.value // 10 - 1, e.value % 10 - 1
        names = []
        for index in (j, k):
            point = e.args[index]
            if point.op != "sym":
                args = ", ".join(self._print(a)[0] for a in e.args)
                return f"\\partial_{{{j + 1}{k + 1}}} {fn}\\left({args}\\right)"
            names.append(symbol_latex(point.name, point.shape))
        by = f"\\partial {names[0]}^{{2}}" if j == k else f"\\partial {names[0]} \\, \\partial {names[1]}"
        return f"\\frac{{\\partial^{{2}} {fn}}}{{{by}}}"

    def _jacobian(self, e: Expr) -> str:
        sig = self.scope.functions[e.name]
        fn = function_latex(e.name, sig)
        if sig.elementwise:
            return f"{fn}'\\left({self._print(e.args[0])[0]}\\right)"
        point = e.args[e.value - 1]
        if point.op == "apply":
            by = function_latex(point.name, self.scope.functions[point.name])
        elif point.op in ("sym", "ref"):  # a symbol, or a `where:` name standing for the point: dL/dy
            by = self._print(point)[0]
        else:
            args = ", ".join(self._print(a)[0] for a in e.args)
            return f"\\partial_{{{e.value}}} {fn}\\left({args}\\right)"
        return f"\\frac{{\\partial {fn}}}{{\\partial {by}}}"


def _is_differential(e: Expr, end: int) -> bool:
    """Does e print with a differential dX (or dX^T) at its end (-1) or its start (0), where it meets a neighbour?"""
    if e.op == "d":
        return True
    if e.op == "T":
        return _is_differential(e.args[0], end)
    if e.op == "matmul":
        return _is_differential(e.args[end], end)
    return False


def _without_leading_minus(e: Expr) -> Expr | None:
    """For a product whose leftmost factor is negated, the product without that minus."""
    if e.op == "neg":
        return e.args[0]
    if e.op == "const" and e.value < 0:
        return Expr("const", shape=e.shape, value=-e.value)
    if e.op == "mul" and e.args[0].is_scalar:
        inner = _without_leading_minus(e.args[0])
        if inner is not None:
            return Expr("mul", (inner, e.args[1]), e.shape)
    if e.op == "matmul":
        inner = _without_leading_minus(e.args[0])
        if inner is not None:
            return Expr("matmul", (inner, e.args[1]), e.shape)
    return None


def _is_hadamard_product(e: Expr) -> bool:
    """An element-wise product of two non-scalars (not a quotient)."""
    return e.op == "mul" and not any(a.is_scalar for a in e.args)


def _is_hadamard(e: Expr) -> bool:
    """An element-wise product or quotient of two non-scalars, printed with an operator."""
    return e.op in ("mul", "div") and not any(a.is_scalar for a in e.args)


def derivative_latex(of_tex: str, of: Expr, wrt_tex: str, kind: str, single_variable: bool = False, *,
                     order: int = 1, wrt_is_scalar: bool = True) -> str:
    """The left-hand side: d(of)/d(wrt), or the differential d(of).

    A function of the one scalar variable wrt gets an upright d (a total derivative);
    anything with other symbols gets a partial. Order 2 prints the second derivative
    (d^2 y / d x^2; a Hessian d^2 f / dx dx^T by a vector) or the second differential d^2(of).
    """
    if kind == "differential":
        mark = "^{2}" if order == 2 else ""
        return f"\\mathrm{{d}}{mark}\\left({of_tex}\\right)"
    if of.op == "call" and of.name in ("vstack", "hstack") and order == 1:  # a bracketed block needs no parentheses
        operator = f"\\frac{{\\mathrm{{d}}}}{{\\mathrm{{d}} {wrt_tex}}}" if single_variable else f"\\frac{{\\partial}}{{\\partial {wrt_tex}}}"
        return f"{operator} {of_tex}"
    if order == 2:
        d = "\\mathrm{d}" if single_variable else "\\partial"
        by = f"{d} {wrt_tex}^{{2}}" if wrt_is_scalar else f"{d} {wrt_tex} \\, {d} {wrt_tex}^{{\\top}}"
        simple = of.op in ("sym", "ref", "call", "apply") and len(of_tex) <= 48
        if simple:
            return f"\\frac{{{d}^{{2}} {of_tex}}}{{{by}}}"
        return f"\\frac{{{d}^{{2}}}}{{{by}}}\\left({of_tex}\\right)"
    if single_variable:
        if len(of_tex) <= 48 and of.op in ("sym", "ref", "call", "apply", "pow"):
            return f"\\frac{{\\mathrm{{d}} {of_tex}}}{{\\mathrm{{d}} {wrt_tex}}}"
        return f"\\frac{{\\mathrm{{d}}}}{{\\mathrm{{d}} {wrt_tex}}}\\left({of_tex}\\right)"
    simple = of.op in ("sym", "ref", "call", "apply", "T", "D", "matmul") or (of.op == "pow" and of.args[0].op in ("sym", "call"))
    if simple and len(of_tex) <= 48 and not of_tex.startswith("-"):  # never \partial -A B
        return f"\\frac{{\\partial {of_tex}}}{{\\partial {wrt_tex}}}"
    return f"\\frac{{\\partial}}{{\\partial {wrt_tex}}}\\left({of_tex}\\right)"


def uses_elementwise(expr: Expr) -> bool:
    return expr.op == "call" and expr.name in ELEMENTWISE
