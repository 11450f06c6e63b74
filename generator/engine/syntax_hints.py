"""Friendly syntax: what a student probably meant when an expression does not parse.

Pure functions over the expression text (no SymPy, no NumPy, no YAML), used by
generator.engine.parse; they run in the browser too. Every diagnosis is computed here from the
text itself, not from Python's SyntaxError wording, so the command line and the browser
(another Python version) print the same message at the same column.

Accepted spellings, rewritten before parsing (`normalize`): `x'` and `xᵀ` are `x.T`
(MATLAB and printed notation), a typographic minus `−` is `-`. Everything else that
students write from NumPy, MATLAB or paper notation gets a precise hint instead: `^`,
`.*`, `tr(...)`, `logdet(...)`, `np.trace(...)`, `A.transpose()`, a missing `@` ...
"""

from __future__ import annotations

import ast
import difflib
import keyword
from typing import Any
from fractions import Fraction

# ------------------------------------------------------------------ rewriting

TRANSPOSE_MARKS = ("'", "\u1d40", "\u22a4")  # x'  xᵀ  x⊤
MINUS_SIGNS = ("\u2212", "\u2013")  # − (minus sign), – (en dash)


def normalize(text: str, primes: bool = True) -> tuple[str, list[int]]:
    """The text with the accepted spellings rewritten, and where each character came from.

    `x'` (after a name, a closing bracket or another transpose mark), `xᵀ` and `x⊤` become
    `x.T`; `−` becomes `-`. origin[i] is the index in `text` of character i of the result
    (one past the end is included), so error columns point into what the user typed.
    With primes=False a ' is left alone (the text is valid Python, where ' opens a string).
    """
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        prev = text[i - 1] if i else ""
        if ch in TRANSPOSE_MARKS and (ch != "'" or primes and (prev != "" and (prev.isalnum() or prev in "_)]'\u1d40\u22a4"))):
            out += [".", "T"]
            origin += [i, i]
            following = text[i + 1 : i + 2]
            if following.isalnum() or following in "_(":  # x'Ax: the transpose ends here, a new operand starts
                out.append(" ")
                origin.append(i)
        elif ch in MINUS_SIGNS:
            out.append("-")
            origin.append(i)
        else:
            out.append(ch)
            origin.append(i)
    origin.append(len(text))
    return "".join(out), origin


# ------------------------------------------------------------------ characters outside the language

UNICODE_HINTS = {
    "\u2299": "write * for the element-wise (Hadamard) product",  # ⊙
    "\u2218": "write * for the element-wise (Hadamard) product",  # ∘
    "\u25cb": "write * for the element-wise (Hadamard) product",  # ○
    "\u00b7": "write @ for a matrix product, * for an element-wise product or a scalar factor",  # ·
    "\u22c5": "write @ for a matrix product, * for an element-wise product or a scalar factor",  # ⋅
    "\u00d7": "write @ for a matrix product, * for an element-wise product or a scalar factor",  # ×
    "\u2297": "Kronecker products are not part of the rule language",  # ⊗
    "\u207b": "write inv(A) for an inverse and x ** -1 for a reciprocal",  # ⁻
    "\u00b9": "write x ** 1, or inv(A) for an inverse",
    "\u00b2": "write x ** 2 for an element-wise square, A @ A for a matrix square",  # ²
    "\u00b3": "write x ** 3 for an element-wise cube",
    "\u221a": "write sqrt(x)",  # √
    "\u2211": "write sum(x) for the sum of all entries",  # ∑
    "\u03a3": "write sum(x) for the sum of all entries, or name the symbol Sigma",  # Σ
    "\u2016": "write norm(x) for the 2-norm (Frobenius for a matrix)",  # ‖
    "\u2202": "write only the expression to differentiate; the derivative goes in expect",  # ∂
    "\u2207": "write only the expression to differentiate; the derivative goes in expect",  # ∇
    "\u03c3": "write sigmoid(z) for the logistic sigmoid, or name the symbol sigma_",  # σ
    "\u03bb": "write lam for the Greek letter lambda",  # λ
    "\u2212": "write - for minus",
}
GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta", "θ": "theta",
         "μ": "mu", "ν": "nu", "ρ": "rho", "τ": "tau", "φ": "phi", "ψ": "psi", "ω": "omega", "Λ": "Lam"}


def non_ascii(text: str) -> tuple[int, str] | None:
    """The first character outside ASCII, with what to write instead."""
    for i, ch in enumerate(text):
        if ord(ch) < 128:
            continue
        code = f"U+{ord(ch):04X}"
        if ch in UNICODE_HINTS:
            return i, f"expression must be plain ASCII: {UNICODE_HINTS[ch]} (found {ch} {code})"
        if ch in GREEK:
            return i, f"expression must be plain ASCII: write {GREEK[ch]} for {ch}, declared under symbols (found {ch} {code})"
        return i, f"expression must be plain ASCII (found {ch} {code})"
    return None


# ------------------------------------------------------------------ a small lexer for diagnosing syntax errors

NAME, NUMBER, OP, OTHER = "name", "number", "op", "other"
_TWO_CHAR = ("**", "==", "!=", "<=", ">=", ".*", "./", ".^", "||", "//")


def tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, index) for every token; spaces separate tokens and are dropped."""
    out: list[tuple[str, str, int]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            out.append((NAME, text[i:j], i))
            i = j
        elif ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit()):
            j = i
            while j < len(text) and (text[j].isdigit() or text[j] == "."):
                if text[j] == "." and not text[j + 1 : j + 2].isdigit():
                    break
                j += 1
            out.append((NUMBER, text[i:j], i))
            i = j
        elif text[i : i + 2] in _TWO_CHAR:
            out.append((OP, text[i : i + 2], i))
            i += 2
        elif ch in "+-*/@()[]{},.^'=|\\;:<>!&%~\"":
            out.append((OP, ch, i))
            i += 1
        else:
            out.append((OTHER, ch, i))
            i += 1
    return out


def _ends_operand(tok: tuple[str, str, int]) -> bool:
    return tok[0] in (NAME, NUMBER) or tok[1] in (")", "]")


def _starts_operand(tok: tuple[str, str, int]) -> bool:
    return tok[0] in (NAME, NUMBER) or tok[1] == "("


def _operand_before(toks: list[tuple[str, str, int]], k: int, text: str) -> str:
    """Source text of the operand that ends at token k (a name, number, x.T or a bracket group)."""
    end = toks[k][2] + len(toks[k][1])
    j = k
    depth = 0
    while j >= 0:
        kind, tok, _ = toks[j]
        if tok in (")", "]"):
            depth += 1
        elif tok in ("(", "["):
            depth -= 1
        if depth == 0:
            if j > 0 and toks[j - 1][1] == "." and tok == "T":
                j -= 1
                continue
            if tok in ("(",) and j > 0 and toks[j - 1][0] == NAME:
                j -= 1
            if tok == "." :
                j -= 1
                continue
            break
        j -= 1
    start = toks[max(j, 0)][2]
    return text[start:end].strip()


def _operand_after(toks: list[tuple[str, str, int]], k: int, text: str) -> str:
    """Source text of the operand that starts at token k."""
    j = k
    depth = 0
    while j < len(toks):
        tok = toks[j][1]
        if tok in ("(", "["):
            depth += 1
        elif tok in (")", "]"):
            depth -= 1
        if depth == 0 and not (toks[j][0] == NAME and j + 1 < len(toks) and toks[j + 1][1] == "("):
            if j + 2 < len(toks) and toks[j + 1][1] == "." and toks[j + 2][1] == "T":
                j += 2
            break
        j += 1
    j = min(j, len(toks) - 1)
    return text[toks[k][2] : toks[j][2] + len(toks[j][1])].strip()


def diagnose_syntax(text: str, functions: frozenset[str] = frozenset()) -> tuple[int, str] | None:
    """Why text is not valid syntax, with a fix: (index into text, message), or None if unsure.

    `functions` are the names that may be called (the language's and the declared ones), so
    `exp x` reads as a missing bracket rather than a missing product.
    """
    toks = tokens(text)
    for k, (kind, tok, at) in enumerate(toks):
        if kind == NAME and keyword.iskeyword(tok):
            hint = "; write lam for the Greek letter lambda" if tok == "lambda" else ""
            return at, f"expression must be valid syntax of the rule language (found the Python keyword {tok}){hint}"
        if kind == OTHER:
            return at, f"expression must use only the characters of the rule language (found {tok!r})"
        if tok in (".*", "./", ".^"):
            fix = {".*": "* (element-wise product)", "./": "/ (element-wise division)", ".^": "** (element-wise power)"}[tok]
            return at, f"expression must write {fix}: {tok} is MATLAB's spelling (found {tok})"
        if tok == "=" or tok == "==":
            return at, ("expression must be one expression, without = (found =): put what is differentiated in of "
                        "and the claimed derivative in expect")
        if tok in ("|", "||"):
            close = text.find(tok, at + len(tok))
            if close > at:
                inner = text[at + len(tok) : close].strip()
                return at, f"expression must write norm({inner}) for a norm (found {text[at : close + len(tok)]})"
            return at, f"expression must write norm(x) for a norm (found {tok})"
        if tok == "\\":
            return at, "expression must write inv(A) @ b for a left division (found \\)"
        if tok == ";":
            return at, "expression must be one expression (found ;)"
        if tok == ":":
            return at, "expression must not hold a colon (found :); shapes go under symbols, and where names are separated by ;"
        if tok in ("'", '"'):
            return at, f"expression must not hold quotes; a transpose is x.T or x' right after a name or a bracket (found {tok})"
        if tok == "//":
            return at, "expression must write / for division (found //)"
        if kind == NUMBER and k + 1 < len(toks) and toks[k + 1][0] == NAME and toks[k + 1][2] == at + len(tok):
            name = toks[k + 1][1]
            return at, f"expression must write {tok} * {name} for a number times {name} (found {tok}{name})"
        if k > 0 and _starts_operand(toks[k]) and _ends_operand(toks[k - 1]) and not (tok == "(" and toks[k - 1][0] == NAME):
            prev = toks[k - 1]
            if prev[0] == NAME and (prev[1] in functions or prev[1] in FUNCTION_FIXES) and kind != NUMBER and tok != "(":
                names = [prev[1]]
                j = k
                while j < len(toks) and toks[j][0] == NAME and (toks[j][1] in functions or toks[j][1] in FUNCTION_FIXES) \
                        and j + 1 < len(toks) and _starts_operand(toks[j + 1]) and toks[j + 1][1] != "(":
                    names.append(toks[j][1])
                    j += 1
                arg = _operand_after(toks, j, text) if j < len(toks) else ""
                fixed = arg
                for name in reversed(names):
                    fixed = _fill(FUNCTION_FIXES[name], [fixed]) if name in FUNCTION_FIXES else f"{name}({fixed})"
                found = " ".join(names + [arg])
                return at, f"expression must put a function's argument in brackets: {fixed} (found {found})"
            left = _operand_before(toks, k - 1, text)
            right = _operand_after(toks, k, text)
            return at, (f"expression must join {left} and {right} with an operator: @ for a matrix product, "
                        f"* for element-wise or by a scalar (found {left} {right})")
    depth: list[int] = []
    for kind, tok, at in toks:
        if tok in ("(", "["):
            depth.append(at)
        elif tok in (")", "]"):
            if not depth:
                return at, f"expression must close only brackets it opened (found an extra {tok})"
            depth.pop()
    if depth:
        return depth[-1], "expression must close every bracket (found a ( that is never closed)"
    if toks and toks[-1][1] in ("+", "-", "*", "/", "@", "**", ".", ","):
        return toks[-1][2], f"expression must not end with an operator (found {toks[-1][1]} at the end)"
    for k in range(1, len(toks)):
        a, b = toks[k - 1][1], toks[k][1]
        if a in ("+", "*", "/", "@", "**") and b in ("*", "/", "@", "**", ")"):
            return toks[k][2], f"expression must have an operand between {a} and {b} (found {a} {b})"
        if a == "(" and b in ("*", "/", "@", "**"):
            return toks[k][2], f"expression must have an operand before {b} (found ( {b})"
    return None


# ------------------------------------------------------------------ ^ and other operators

def caret(text: str) -> tuple[int, str, str, str] | None:
    """The first ^ in text: (index, kind, left operand, right operand) with kind transpose, inverse or power.

    Read from the text, not the tree: ^ binds more loosely than @ in Python, so x^T @ A
    parses as x ^ (T @ A), while the student meant (x^T) @ A.
    """
    toks = tokens(text)
    for k, (_, tok, at) in enumerate(toks):
        if tok != "^":
            continue
        left = _operand_before(toks, k - 1, text) if k > 0 else ""
        following = toks[k + 1 :]
        rest = [t[1] for t in following]
        used = 0
        if rest[:1] == ["{"] or rest[:1] == ["("]:
            depth, end = 0, len(rest)
            for i, t in enumerate(rest):
                depth += t in ("(", "{")
                depth -= t in (")", "}")
                if depth == 0:
                    end = i
                    break
            inner = rest[1:end]
            used = min(end + 1, len(rest))
        else:
            inner = rest[:2] if rest[:1] == ["-"] else rest[:1]
            used = len(inner)
        if inner in (["T"], ["t"], ["top"]):
            kind = "transpose"
        elif inner == ["-", "1"]:
            kind = "inverse"
        else:
            kind = "power"
        right = text[following[0][2] : following[used - 1][2] + len(following[used - 1][1])] if used else ""
        return at, kind, left, right or "?"
    return None

def caret_message(left: str, right: str, kind: str, left_is_scalar: bool, left_is_square: bool = False,
                  left_known: bool = False) -> str:
    """The message for left ^ right: a transpose, an inverse or a power, from what follows ^."""
    found = f"(found {left}^{right}; ^ is not a power in Python)"
    base = _wrap(left)
    if kind == "transpose":
        return f"expression must write a transpose as {base}.T {found}"
    if kind == "inverse":
        if left_is_scalar:
            return f"expression must write a reciprocal as 1 / {base} or {base} ** -1 {found}"
        if left_known and not left_is_square:
            return f"expression must write 1 / {base} for the element-wise reciprocal: only a square matrix has an inverse {found}"
        return f"expression must write an inverse as inv({left}) {found}"
    power = right[1:-1] if right[:1] in "({" and right[-1:] in ")}" else right
    if left == "e":
        return f"expression must write exp({power}) for e to a power {found}"
    if left_is_square and power == "2":
        return f"expression must write a power as {base} ** 2 (element-wise) or {base} @ {base} (matrix square) {found}"
    shown = power if _is_atom(power) or (power.startswith("-") and _is_atom(power[1:])) else f"({power})"
    return f"expression must write a power as {base} ** {shown} {found}"


def _is_atom(text: str) -> bool:
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        return True
    return text.replace("_", "a").replace(".T", "").isalnum() or (text.endswith(")") and text[:1].isalpha() and text.count("(") == 1)


def operator_message(what: str, source: str) -> str | None:
    """Hints for Python operators that are not in the language."""
    if what == "|":
        inner = source.strip("| ")
        return f"expression must write norm({inner}) for a norm (found {source})"
    if what == "&":
        return f"expression must use the operators of the rule language (found & in {source})"
    if what == "%":
        return f"expression must use the operators of the rule language: % is not one (found {source})"
    if what == "//":
        return f"expression must write / for division (found // in {source})"
    return None


def float_message(value: float, source: str) -> str:
    """0.5 -> 'write 1/2'."""
    try:
        frac = Fraction(source).limit_denominator(10**6)
    except (ValueError, ZeroDivisionError):
        frac = Fraction(value).limit_denominator(10**6)
    if frac.denominator == 1:
        return f"constants must be integers: write {frac.numerator} (found {source})"
    return f"constants must be integers; write rationals as {frac.numerator}/{frac.denominator} (found {source})"


# ------------------------------------------------------------------ names and functions

# name (as written) -> template of the fix; {0}, {1} are the arguments' texts
FUNCTION_FIXES: dict[str, str] = {
    # trace
    "tr": "trace({0})", "Tr": "trace({0})", "TR": "trace({0})", "Trace": "trace({0})", "TRACE": "trace({0})",
    "trace_": "trace({0})", "trc": "trace({0})",
    # determinant
    "Det": "det({0})", "DET": "det({0})", "determinant": "det({0})", "Determinant": "det({0})",
    "logdet": "log(det({0}))", "log_det": "log(det({0}))", "logDet": "log(det({0}))", "LogDet": "log(det({0}))",
    "ldet": "log(det({0}))", "slogdet": "log(det({0}))", "logabsdet": "log(det({0}))", "lndet": "log(det({0}))",
    # inverse
    "inverse": "inv({0})", "Inverse": "inv({0})", "invert": "inv({0})", "Inv": "inv({0})", "INV": "inv({0})",
    "inv_": "inv({0})", "pinv": "inv({0}) (for a square invertible matrix)",
    # transpose
    "transpose": "{0}.T", "Transpose": "{0}.T", "t": "{0}.T", "trans": "{0}.T", "ctranspose": "{0}.T", "permutedims": "{0}.T",
    # products
    "dot": "{0}.T @ {1} for vectors, {0} @ {1} for matrices", "inner": "{0}.T @ {1}", "vdot": "{0}.T @ {1}",
    "matmul": "{0} @ {1}", "mm": "{0} @ {1}", "mtimes": "{0} @ {1}", "bmm": "{0} @ {1}", "mv": "{0} @ {1}",
    "outer": "{0} @ {1}.T", "ger": "{0} @ {1}.T",
    "multiply": "{0} * {1}", "hadamard": "{0} * {1}", "times": "{0} * {1}", "mul": "{0} * {1}", "prod": "{0} * {1}",
    "square": "{0} ** 2", "power": "{0} ** {1}", "pow": "{0} ** {1}", "mpower": "{0} ** {1} (element-wise)",
    "divide": "{0} / {1}", "true_divide": "{0} / {1}", "rdivide": "{0} / {1}", "add": "{0} + {1}", "subtract": "{0} - {1}",
    "negative": "-{0}", "reciprocal": "1 / {0}",
    # sums and norms
    "Sum": "sum({0})", "total": "sum({0})", "mean": "sum({0}) / n (n the number of entries)", "average": "sum({0}) / n",
    "norm2": "norm({0})", "nrm2": "norm({0})", "frobenius": "norm({0})", "Frobenius": "norm({0})", "fro": "norm({0})",
    "l2norm": "norm({0})", "Norm": "norm({0})", "vecnorm": "norm({0})", "normest": "norm({0})",
    # element-wise functions
    "ln": "log({0})", "Log": "log({0})", "log1p": "log(1 + {0})", "Exp": "exp({0})", "expm1": "exp({0}) - 1",
    "Sqrt": "sqrt({0})", "Tanh": "tanh({0})", "Sin": "sin({0})", "Cos": "cos({0})",
    "sigma": "sigmoid({0})", "sig": "sigmoid({0})", "logistic": "sigmoid({0})", "expit": "sigmoid({0})",
    "Sigmoid": "sigmoid({0})", "logsig": "sigmoid({0})",
    "ReLU": "relu({0})", "Relu": "relu({0})", "RELU": "relu({0})", "maximum": "max(0, {1}) (the ReLU)",
    "sgn": "sign({0})", "Abs": "abs({0})", "fabs": "abs({0})", "absolute": "abs({0})", "signum": "sign({0})",
    "heaviside": "step({0})", "Heaviside": "step({0})", "H": "step({0})", "theta": "step({0})", "unit_step": "step({0})",
    "Softplus": "softplus({0})", "SoftPlus": "softplus({0})",
    "Softmax": "softmax({0})", "soft_max": "softmax({0})", "log_softmax": "log(softmax({0}))", "logsoftmax": "log(softmax({0}))",
    "lse": "logsumexp({0})", "LSE": "logsumexp({0})", "logSumExp": "logsumexp({0})", "LogSumExp": "logsumexp({0})",
    "log_sum_exp": "logsumexp({0})", "reduce_logsumexp": "logsumexp({0})",
    # constructors
    "identity": "eye({0})", "Identity": "eye({0})", "I": "eye({0})", "Eye": "eye({0})",
    "Ones": "ones({0})", "Zeros": "zeros({0})", "ones_like": "ones(n) with the shape of {0}",
    "zeros_like": "zeros(n) with the shape of {0}",
    "diagm": "diag({0})", "diagflat": "diag({0})", "Diag": "diag({0})", "Diagonal": "diag({0})", "diag_embed": "diag({0})",
}
UNSUPPORTED = {
    "kron": "Kronecker products are not part of the rule language",
    "vec": "vec is not part of the rule language", "expm": "the matrix exponential is not part of the rule language",
    "logm": "the matrix logarithm is not part of the rule language", "sqrtm": "the matrix square root is not part of the rule language",
    "adj": "the adjugate is not part of the rule language: write det(A) * inv(A)",
    "adjugate": "the adjugate is not part of the rule language: write det(A) * inv(A)",
    "cross": "the cross product is not part of the rule language",
    "tan": "tan is not part of the rule language: write sin(x) / cos(x)",
    "sinh": "sinh is not part of the rule language: write (exp(x) - exp(-x)) / 2",
    "cosh": "cosh is not part of the rule language: write (exp(x) + exp(-x)) / 2",
    "min": "min is not part of the rule language; max(0, z) is the ReLU",
    "size": "sizes are written as the dimension letters of the shapes (n, m, ...)",
    "numel": "sizes are written as the dimension letters of the shapes (n, m, ...)",
    "len": "sizes are written as the dimension letters of the shapes (n, m, ...)",
}
MODULE_PREFIXES = frozenset({"np", "numpy", "torch", "jnp", "jax", "tf", "math", "la", "linalg", "sp", "scipy", "special",
                             "LinearAlgebra", "F", "nn", "functional", "cp", "sympy", "ag", "autograd"})
# method or attribute as written -> template with {0} the object
METHOD_FIXES: dict[str, str] = {
    "transpose": "{0}.T", "t": "{0}.T", "H": "{0}.T", "mT": "{0}.T", "mH": "{0}.T", "adjoint": "{0}.T", "conj": "{0}",
    "inverse": "inv({0})", "inv": "inv({0})", "I": "inv({0})", "pinverse": "inv({0})",
    "det": "det({0})", "logdet": "log(det({0}))", "trace": "trace({0})", "sum": "sum({0})", "norm": "norm({0})",
    "exp": "exp({0})", "log": "log({0})", "sqrt": "sqrt({0})", "tanh": "tanh({0})", "sigmoid": "sigmoid({0})",
    "relu": "relu({0})", "softmax": "softmax({0})", "logsumexp": "logsumexp({0})", "diag": "diag({0})",
    "dot": "{0} @ {1}", "matmul": "{0} @ {1}", "mm": "{0} @ {1}", "mul": "{0} * {1}", "pow": "{0} ** {1}",
    "square": "{0} ** 2", "mean": "sum({0}) / n",
}


def function_message(name: str, args: list[str], known: list[str]) -> str:
    """Why `name(...)` is not a function here, and what to write instead."""
    found = f"{name}({', '.join(args)})"
    if name in FUNCTION_FIXES:
        return f"function {name} is not in the rule language: write {_fill(FUNCTION_FIXES[name], args)} (found {found})"
    if name in UNSUPPORTED:
        return f"function {name} must be one of the rule language's functions: {UNSUPPORTED[name]} (found {found})"
    lower = {k.lower(): k for k in known}
    if name.lower() in lower:
        fix = lower[name.lower()]
        return f"function {name} is not in the rule language: write {fix}({', '.join(args)}); names are case-sensitive (found {found})"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    suggestion = f"; did you mean {close[0]}?" if close else ""
    return f"function {name} must be one of the rule language's functions or declared under functions (found {name}){suggestion}"


def pythonic(node: Any, src: Any) -> str:
    """Rule-language text of a NumPy / PyTorch spelling, converted all the way down.

    x.T.dot(A).dot(x) -> x.T @ A @ x, np.sum(np.exp(x)) -> sum(exp(x)); what it does not
    know stays as written (src(node) gives a node's source text).
    """
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        attr = node.func.attr
        args = [pythonic(a, src) for a in node.args]
        owner = _dotted(node.func.value)
        if owner is not None and owner.split(".")[0] in MODULE_PREFIXES:
            return _module_function_fix(attr, args) or src(node)
        obj = pythonic(node.func.value, src)
        if attr == "T":
            return f"{_wrap(obj)}.T"
        if attr in METHOD_FIXES:
            return _fill(METHOD_FIXES[attr], [obj, *args])
        return src(node)
    if isinstance(node, ast.Attribute):
        obj = pythonic(node.value, src)
        if node.attr == "T":
            return f"{_wrap(obj)}.T"
        if node.attr in METHOD_FIXES:
            return _fill(METHOD_FIXES[node.attr], [obj])
        return src(node)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"{node.func.id}({', '.join(pythonic(a, src) for a in node.args)})"
    if isinstance(node, ast.BinOp):
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@", ast.Pow: "**"}.get(type(node.op))
        if symbol is not None:
            left, right = pythonic(node.left, src), pythonic(node.right, src)
            if (left, right) != (src(node.left), src(node.right)):
                return f"{_wrap_sum(left)} {symbol} {_wrap_sum(right)}"
    return src(node)


def _dotted(node: Any) -> str | None:
    """np.linalg -> 'np.linalg' for a chain of names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def method_fix_message(node: Any, src: Any) -> str | None:
    """The message for a method call or attribute the rule language spells otherwise; None if unknown."""
    fixed = pythonic(node, src)
    found = src(node)
    owner = _dotted(node.func.value) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
    if owner is not None and owner.split(".")[0] in MODULE_PREFIXES:
        if fixed != found:
            return f"expression must call functions without a module prefix: write {fixed} (found {found})"
        from generator.engine.parse import FUNCTIONS

        known = [f for f in FUNCTIONS if f not in ("D", "d")]
        return function_message(node.func.attr, [src(a) for a in node.args], known).replace(
            f"(found {node.func.attr})", f"(found {found})")
    if fixed == found:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "T":
        return f"expression must write a transpose as {fixed}, without brackets (found {found})"
    return f"expression must write {fixed} (found {found})"


def _module_function_fix(attr: str, args: list[str]) -> str | None:
    from generator.engine.parse import FUNCTIONS  # the language's function names (a pure module)

    if attr in FUNCTIONS and attr not in ("D", "d"):
        return f"{attr}({', '.join(args)})"
    if attr in FUNCTION_FIXES:
        return _fill(FUNCTION_FIXES[attr], args)
    if attr in ("linalg",):
        return None
    return None


def _fill(template: str, args: list[str]) -> str:
    padded = [_wrap(a) for a in args] + ["x", "y"]
    plain = list(args) + ["x", "y"]
    try:
        # .T and ** bind tightly: a compound argument needs brackets there; inside f(...) it does not
        out = template
        for i in range(2):
            out = out.replace("{%d}.T" % i, f"{padded[i]}.T").replace("{%d} **" % i, f"{padded[i]} **")
        return out.format(*plain)
    except (IndexError, KeyError):
        return template


def _wrap(text: str) -> str:
    return text if _is_atom(text) else f"({text})"


SPECIAL_NAMES = {
    "I": "write eye(n) for the n x n identity",
    "Id": "write eye(n) for the n x n identity",
    "e": "write exp(x) for e to the power x",
    "pi": "pi is not part of the rule language",
    "inf": "infinity is not part of the rule language",
    "T": "write x.T for the transpose of x",
    "lambda": "write lam for the Greek letter lambda (lambda is a Python keyword)",
    "True": "booleans are not part of the rule language",
    "False": "booleans are not part of the rule language",
    "None": "None is not part of the rule language",
}


def name_hint(name: str, symbols: list[str], functions: list[str], dims: list[str]) -> str:
    """'; did you mean x?' for an undeclared name, or '' when nothing fits."""
    if name in SPECIAL_NAMES:
        return f"; {SPECIAL_NAMES[name]}"
    if name in functions:
        return f"; {name} is a function: call it as {name}(...)"
    for sym in symbols:
        if sym.lower() == name.lower():
            return f"; did you mean {sym}? Names are case-sensitive"
    if name.endswith("T") and name[:-1] in symbols:
        return f"; did you mean {name[:-1]}.T, the transpose?"
    if name.endswith("t") and name[:-1] in symbols and len(name) > 1:
        return f"; did you mean {name[:-1]}.T, the transpose?"
    close = difflib.get_close_matches(name, symbols + dims, n=1, cutoff=0.7)
    if close:
        return f"; did you mean {close[0]}?"
    return ""


def product_hint(op: str, left_shape: tuple[object, object], right_shape: tuple[object, object], left: str, right: str,
                 left_t: str = "", right_t: str = "") -> str:
    """A suggestion when * or @ joins shapes that do not fit: use the other product, or a transpose.

    left_t, right_t: the transposes of the operands as text (x.T, 2 * A.T), if known.
    """
    left_t = left_t or f"{_wrap_src(left)}.T"
    right_t = right_t or f"{_wrap_src(right)}.T"
    if op == "mul" and left_shape[1] == right_shape[0]:
        return f"; for a matrix product write {_wrap_sum(left)} @ {_wrap_sum(right)} (* is element-wise, as in NumPy)"
    if op == "mul":
        for vec, vec_t, vec_shape, mat, mat_shape in ((left, left_t, left_shape, right, right_shape),
                                                      (right, right_t, right_shape, left, left_shape)):
            if vec_shape[1] == 1 and vec_shape[0] == mat_shape[0] and mat_shape[1] != 1:
                return (f"; * does not stretch a column over a matrix: to scale the rows of {_wrap_sum(mat)} write "
                        f"diag({vec}) @ {_wrap_sum(mat)}")
            if vec_shape[0] == 1 and vec_shape[1] == mat_shape[1] and mat_shape[0] != 1:
                return (f"; * does not stretch a row over a matrix: to scale the columns of {_wrap_sum(mat)} write "
                        f"{_wrap_sum(mat)} @ diag({vec_t})")
    if op in ("mul", "matmul"):
        if (left_shape[0], left_shape[1]) != (1, 1) and left_shape[0] == right_shape[0] and left_shape[1] != right_shape[0]:
            return f"; did you mean {_wrap_sum(left_t)} @ {_wrap_sum(right)}?"
        if left_shape[1] == right_shape[1] and right_shape[0] != left_shape[1]:
            return f"; did you mean {_wrap_sum(left)} @ {_wrap_sum(right_t)}?"
    return ""


def _wrap_sum(text: str) -> str:
    """Brackets around a sum or difference written next to @."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0 and ch in "+-" and i > 0 and text[i - 1] == " ":
            return f"({text})"
    return text


def _wrap_src(text: str) -> str:
    return text if _is_atom(text) else f"({text})"
