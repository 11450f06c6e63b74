"""Presentation checks of a rule: what readers see must use one notation (the style guide).

Pure functions from a validated rule document to Problems (code MC041, with the fix in the
message). `validate` runs them at publish time (`mcref check --publish`, `mcref build`);
tests/test_corpus_style.py runs them on every section of the corpus.

- titles typeset math between $...$ or use words: no code-style operators (`*`, `@`, `.T`,
  `^`, `_`, ` . `) outside math;
- transpose is `^\\top` (never `^T`); vectors are bold (`\\mathbf{x}`, never `\\vec{x}`);
  the ones vector carries its size (`\\mathbf{1}_n`, `\\mathbf{1}_{m\\times n}`);
- Hadamard is `\\odot`: `\\otimes` (Kronecker) never appears in a display, and in notes only
  where they speak of the paper's notation or of the Kronecker product;
- a vector or matrix symbol of the rule prints bold in hand-written math;
- conditions name a Greek symbol or function of the rule as it prints (Σ, λ), not spelled out.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from generator.engine.load import Document
from generator.engine.problems import Problem

# Outside $...$ in a title: code written where math or words belong.
_TITLE_CODE = [
    (re.compile(r"\*"), "*", "a product in words or $...$"),
    (re.compile(r"@"), "@", "a product in words or $...$"),
    (re.compile(r"\.T\b"), ".T", "a transpose as $\\mathbf{x}^\\top$"),
    (re.compile(r"\^"), "^", "a power or transpose between $...$, e.g. $x^2$, $\\mathbf{x}^\\top$"),
    (re.compile(r"(?<=\w)_(?=[\w{])"), "_", "a subscript between $...$, e.g. $u_{n+1}$"),
    (re.compile(r"\w \. \w"), " . ", "a dot product as $\\mathbf{w} \\cdot \\mathbf{x}$"),
]
_TRANSPOSE_T = re.compile(r"\^\s*(?:T\b|\{\s*T\s*\})")
_VEC = re.compile(r"\\vec\s*(\{[^}]*\}|\w)")
_BARE_ONES = re.compile(r"\\mathbf\{1\}(?!\s*_)")
_OTIMES = re.compile(r"\\otimes")
_MATH = re.compile(r"\$([^$]*)\$")
# Braced arguments whose letters are not symbols: fonts, text, operator names, environments.
_NOT_SYMBOLS = re.compile(r"\\(?:mathbf|boldsymbol|bm|text|mathrm|operatorname|mathbb|mathcal|begin|end|hat|bar|tilde)\s*\{[^{}]*\}")
_COMMANDS = re.compile(r"\\[A-Za-z]+")


def _math_spans(text: str) -> list[str]:
    return _MATH.findall(text)


def _outside_math(text: str) -> str:
    return _MATH.sub(" ", text)


def _fields(data: dict[str, Any]) -> Iterable[tuple[tuple[Any, ...], str, str]]:
    """(path, hand-written LaTeX, label) for every place a reader sees hand-written math."""
    for key in ("title", "notes"):
        if isinstance(data.get(key), str):
            for math in _math_spans(data[key]):
                yield (key,), math, key
    if isinstance(data.get("display"), str):
        yield ("display",), data["display"], "display"
    example = data.get("example")
    if isinstance(example, dict) and isinstance(example.get("text"), str):
        for math in _math_spans(example["text"]):
            yield ("example", "text"), math, "example.text"


def title_problems(doc: Document) -> Iterable[Problem]:
    """A title writes math between $...$ or in words, never in the rule language."""
    title = doc.data.get("title")
    if not isinstance(title, str):
        return
    outside = _outside_math(title)
    line, col = doc.at("title")
    for pattern, shown, fix in _TITLE_CODE:
        if pattern.search(outside):
            yield Problem(doc.shown, line, col, "MC041",
                          f"title must write math between $...$ or in words, not code (found {shown!r} outside math); write {fix}")


def notation_problems(doc: Document) -> Iterable[Problem]:
    """One notation in hand-written math: ^\\top, bold vectors, sized ones, \\odot for Hadamard."""
    data = doc.data
    notes = data.get("notes") if isinstance(data.get("notes"), str) else ""
    speaks_of_otimes = re.search(r"\bpaper\b|Kronecker", notes) is not None
    seen: set[tuple[str, str]] = set()
    for path, math, label in _fields(data):
        line, col = doc.at(*path)
        found: list[tuple[str, str]] = []
        if _TRANSPOSE_T.search(math):
            found.append(("^T", f"{label} must write the transpose as ^\\top (found ^T)"))
        for match in _VEC.finditer(math):
            arg = match.group(1).strip("{}")
            fix = {"1": "\\mathbf{1}_n (\\mathbf{1}_{m\\times n} for a matrix)", "0": "\\mathbf{0}_n"}.get(arg, f"\\mathbf{{{arg}}}")
            found.append((match.group(0), f"{label} must write vectors bold, {fix} (found {match.group(0)})"))
        if _BARE_ONES.search(math):
            found.append(("\\mathbf{1}", f"{label} must give the ones vector its size, \\mathbf{{1}}_n or \\mathbf{{1}}_{{m\\times n}} (found a bare \\mathbf{{1}}, which reads as a vector or a matrix)"))
        if _OTIMES.search(math) and (label == "display" or not speaks_of_otimes):
            found.append(("\\otimes", f"{label} must write the Hadamard product as \\odot (found \\otimes, the Kronecker product)"))
        for symbol in _plain_symbols(math, data):
            found.append((symbol, f"{label} must print the {_kind(data, symbol)} {symbol} bold, \\mathbf{{{symbol}}} (found {symbol} in plain type)"))
        for key, message in found:
            if (label, key) not in seen:
                seen.add((label, key))
                yield Problem(doc.shown, line, col, "MC041", message)


# The letters a Greek name prints as (`lam` is how rules spell lambda, a Python keyword).
_GREEK_LETTERS = dict(zip(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega lam".split(),
    "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩλ"))


def conditions_problems(doc: Document) -> Iterable[Problem]:
    """Conditions print as text beside formulas that show Σ, λ, ...: a symbol of the rule is named as it prints."""
    conditions = doc.data.get("conditions")
    if not isinstance(conditions, str):
        return
    names = set(doc.data.get("symbols") or {}) | set(doc.data.get("functions") or {})
    line, col = doc.at("conditions")
    for name in sorted(names):
        letter = _GREEK_LETTERS.get(name)
        if letter and re.search(rf"(?<![A-Za-z_]){name}(?![A-Za-z_0-9])", conditions):
            yield Problem(doc.shown, line, col, "MC041",
                          f"conditions must name {name} as it prints, {letter} (found the word {name!r})")


def _kind(data: dict[str, Any], name: str) -> str:
    shape = (data.get("symbols") or {}).get(name)
    return "matrix" if isinstance(shape, list) and len(shape) == 2 else "vector"


def _plain_symbols(math: str, data: dict[str, Any]) -> list[str]:
    """Vector and matrix symbols of the rule written in plain (non-bold) type in this math.

    A letter followed by a subscript is an entry (x_i is a scalar) and stays plain; so do
    letters inside \\mathbf{...}, \\text{...}, \\mathrm{...} and the like, and command names.
    """
    symbols = data.get("symbols") if isinstance(data.get("symbols"), dict) else {}
    bold = {n for n, s in symbols.items() if isinstance(s, list) and s and len(n) == 1}
    if not bold:
        return []
    stripped = _COMMANDS.sub(" ", _NOT_SYMBOLS.sub(" ", math))
    found = []
    for match in re.finditer(r"(?<![A-Za-z0-9])([A-Za-z])(?![A-Za-z0-9_])", stripped):
        name = match.group(1)
        if name in bold and name not in found:
            found.append(name)
    return found


def presentation_problems(doc: Document) -> list[Problem]:
    """Every presentation problem of one rule document."""
    if not isinstance(doc.data, dict):
        return []
    return list(title_problems(doc)) + list(notation_problems(doc)) + list(conditions_problems(doc))
