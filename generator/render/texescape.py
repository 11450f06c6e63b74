"""Text and formulas on their way into LaTeX: escaping, checking and expanding macros.

Pure (standard library only). Used by the PDFs (generator/render/pdf.py), the citations and the
portable LaTeX (generator/render/cite.py):

- `latex_escape(text)` prints plain text literally: every TeX special becomes a command,
  so nothing in a title or a condition is ever executed. Its output compiles in a default
  LaTeX document (OT1 or T1, no package) and holds no brace character of its own except
  in `{}` pairs, so it is also safe inside a BibTeX field.
- `text_with_math(text)` is the same for text with inline `$...$` math (titles, seam 6):
  the math passes through `check_formula`.
- `check_formula(latex, where)` accepts an engine-printed formula only if it cannot read
  or write files, change how TeX reads its input or break the document around it.
- `expand_macros(latex, macros)` replaces the export's macros (`\\tr` -> `\\operatorname{tr}`)
  so a formula compiles with `\\usepackage{amsmath,bm}` alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = ["TexError", "check_formula", "expand_macros", "latex_escape", "text_with_math"]


class TexError(ValueError):
    """Text or a formula cannot go into LaTeX; the message says which and why."""


_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedblright{}",  # \textquotedbl does not exist in the default OT1 encoding
    "`": r"\textasciigrave{}",
    "@": "{@}",  # harmless in LaTeX; keeps BibTeX from reading an entry start
    "\t": " ",
    "\n": " ",
    "\r": " ",
    # Characters rule authors write in titles and conditions, and title_text prints.
    "\u00d7": r"\ensuremath{\times}",
    "\u2212": r"\ensuremath{-}",
    "\u2013": r"\textendash{}",
    "\u2014": r"\textemdash{}",
    "\u2018": r"\textquoteleft{}",
    "\u2019": r"\textquoteright{}",
    "\u201c": r"\textquotedblleft{}",
    "\u201d": r"\textquotedblright{}",
    "\u2026": r"\textellipsis{}",
    "\u00b7": r"\ensuremath{\cdot}",
    "\u22c5": r"\ensuremath{\cdot}",
    "\u2299": r"\ensuremath{\odot}",
    "\u2297": r"\ensuremath{\otimes}",
    "\u2298": r"\ensuremath{\oslash}",
    "\u2218": r"\ensuremath{\circ}",
    "\u2202": r"\ensuremath{\partial}",
    "\u2207": r"\ensuremath{\nabla}",
    "\u2211": r"\ensuremath{\sum}",
    "\u221a": r"\ensuremath{\surd}",
    "\u2016": r"\ensuremath{\Vert}",
    "\u2264": r"\ensuremath{\le}",
    "\u2265": r"\ensuremath{\ge}",
    "\u2260": r"\ensuremath{\ne}",
    "\u2248": r"\ensuremath{\approx}",
    "\u2192": r"\ensuremath{\to}",
    "\u2208": r"\ensuremath{\in}",
    "\u221e": r"\ensuremath{\infty}",
    "\u22a4": r"\ensuremath{\top}",
    "\u1d40": r"\ensuremath{^{\top}}",
    "\u207b\u00b9": r"\ensuremath{^{-1}}",
    "\u207b\u1d40": r"\ensuremath{^{-\top}}",
    "\u00b9": r"\ensuremath{^{1}}",
    "\u00b2": r"\ensuremath{^{2}}",
    "\u00b3": r"\ensuremath{^{3}}",
    "\u2074": r"\ensuremath{^{4}}",
    "\u207f": r"\ensuremath{^{n}}",
    "\u1d4f": r"\ensuremath{^{k}}",
    "\u2032": r"\ensuremath{'}",
    "\u2080": r"\ensuremath{_{0}}",
    "\u2081": r"\ensuremath{_{1}}",
    "\u2082": r"\ensuremath{_{2}}",
    "\u2083": r"\ensuremath{_{3}}",
    "\u1d62": r"\ensuremath{_{i}}",
    "\u2c7c": r"\ensuremath{_{j}}",
    "\u211d": r"\ensuremath{\mathbf{R}}",  # \mathbb needs amssymb; bold R is the portable form
    "\u2115": r"\ensuremath{\mathbf{N}}",
    "\u2124": r"\ensuremath{\mathbf{Z}}",
    "\U0001d7d9": r"\ensuremath{\mathbf{1}}",
    "\U0001d53c": r"\ensuremath{\mathbf{E}}",
    "\u2295": r"\ensuremath{\oplus}",
    "\u220f": r"\ensuremath{\prod}",
    "\u22ef": r"\ensuremath{\cdots}",
    "\u22ee": r"\ensuremath{\vdots}",
    "\u25cb": r"\ensuremath{\bigcirc}",
    "\u27e8": r"\ensuremath{\langle}",
    "\u27e9": r"\ensuremath{\rangle}",
    "\u2200": r"\ensuremath{\forall}",
    "\u2192": r"\ensuremath{\to}",
}
# Superscripts as generator/render/plaintext.py writes them (title_text): x², eⁿ, A⁻¹, ...
_ESCAPES.update({sup: f"\\ensuremath{{^{{{plain}}}}}" for plain, sup in zip(
    "0123456789+-()ni", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207a\u207b\u207d\u207e\u207f\u2071", strict=True)})
_ESCAPES.update({sub: f"\\ensuremath{{_{{{plain}}}}}" for plain, sub in zip(
    "0123456789+-()aeoxhklmnpstijruv", "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089\u208a\u208b\u208d\u208e"
    "\u2090\u2091\u2092\u2093\u2095\u2096\u2097\u2098\u2099\u209a\u209b\u209c\u1d62\u2c7c\u1d63\u1d64\u1d65", strict=True)})
# Accents the plain-text titles put after their letter as combining marks (x̂, x̄, x̃).
_ACCENTS = {"\u0302": "hat", "\u0304": "bar", "\u0305": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0308": "ddot",
            "\u20d7": "vec"}
# A letter (Latin or Greek) and its combining accent.
_ACCENTED = re.compile("([A-Za-z\u0391-\u03a9\u03b1-\u03c9])([" + "".join(_ACCENTS) + "])")
_GREEK = "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ"
_GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
    "sigma tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()
_ESCAPES.update({g: f"\\ensuremath{{\\{n}}}" for g, n in zip(_GREEK, _GREEK_NAMES, strict=True)})
_ESCAPES["\u03f5"] = r"\ensuremath{\epsilon}"
_LIGATURE_STARTS = "-',"
_MULTI = sorted((k for k in _ESCAPES if len(k) > 1), key=len, reverse=True)


def _typesettable(ch: str) -> bool:
    """True for characters pdfLaTeX prints as they are (ASCII, Latin-1 and Latin Extended-A letters)."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return True
    return 0xC0 <= code <= 0x17F and ch not in "\u00d7\u00f7"


def _accent(letter: str, mark: str) -> str:
    """A letter with a math accent: x and U+0302 -> \\ensuremath{\\hat{x}}, σ -> \\hat{\\sigma}."""
    inner = _ESCAPES.get(letter, letter)
    if inner.startswith("\\ensuremath{") and inner.endswith("}"):
        inner = inner[len("\\ensuremath{") : -1]
    return f"\\ensuremath{{\\{_ACCENTS[mark]}{{{inner}}}}}"


def latex_escape(text: str, *, strict: bool = True) -> str:
    """Return `text` as LaTeX that prints it literally (titles, ids, conditions, BibTeX fields).

    Raises TexError for a character pdfLaTeX cannot print, naming it; with strict=False such a
    character is kept as it is (for XeLaTeX and LuaLaTeX users of a .bib; never executed), and
    a control character becomes a space: it never raises.
    """
    if not isinstance(text, str):
        raise TexError(f"expected text, found {type(text).__name__}: {text!r}")
    out: list[str] = []
    i = 0
    while i < len(text):
        accented = _ACCENTED.match(text, i)
        if accented:  # x̂ (x and a combining hat): \hat{x}; σ̂: \hat{\sigma}
            out.append(_accent(accented.group(1), accented.group(2)))
            i += 2
            continue
        for multi in _MULTI:
            if text.startswith(multi, i):
                out.append(_ESCAPES[multi])
                i += len(multi)
                break
        else:
            ch = text[i]
            if ch in _ESCAPES:
                out.append(_ESCAPES[ch])
            elif ch in _LIGATURE_STARTS and text[i + 1 : i + 2] == ch:
                out.append(ch + "{}")  # "--", "''", ",,": no dash or quote ligature, printed as typed
            elif _typesettable(ch) or (not strict and ch.isprintable() and not _ACCENTED.fullmatch(unicodedata.normalize("NFD", ch))):
                out.append(ch)
            elif _ACCENTED.fullmatch(unicodedata.normalize("NFD", ch)):  # ỹ, one character: \tilde{y}
                letter, mark = unicodedata.normalize("NFD", ch)
                out.append(_accent(letter, mark))
            elif not strict:
                out.append(" ")  # a control character: nothing to print
            else:
                raise TexError(
                    f"character {ch!r} (U+{ord(ch):04X}) in {text!r} cannot be typeset by "
                    "pdfLaTeX; write it in ASCII or $...$ math, or add it to generator/render/texescape.py _ESCAPES"
                )
            i += 1
    return "".join(out)


# Primitives and commands that read or write files, run programs, define commands or change
# how TeX reads its input: never accepted in engine-printed formulas or macros.
_FORBIDDEN_CS = re.compile(
    r"\\(input|include|includeonly|InputIfFileExists|openin|openout|read|readline|write|"
    r"immediate|special|pdfliteral|pdfobj|pdffiledump|pdfximage|catcode|lccode|uccode|"
    r"csname|endcsname|expandafter|def|edef|gdef|xdef|let|futurelet|newcommand|"
    r"renewcommand|providecommand|DeclareRobustCommand|makeatletter|usepackage|"
    r"RequirePackage|documentclass|directlua|ShellEscape|scantokens|newline|par|cr|crcr|"
    r"noalign|omit|span|endinput|dump|batchmode|nonstopmode|errorstopmode|"
    r"href|url|hyperlink|hypertarget|pdfstartlink|pdfendlink|pdfannot|pdfinfo|pdfcatalog|"
    r"afterassignment|aftergroup|everypar|everymath|everydisplay|output|shipout|vadjust|insert|mark|"
    r"halign|valign|multicolumn|columnbreak|newpage|clearpage|pagebreak)(?![A-Za-z])"
)
# Environments the engine prints inside math; any other \begin/\end is refused.
_ENVIRONMENTS = frozenset({"matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix",
                           "aligned", "cases", "array", "subarray"})
_ENV = re.compile(r"\\(begin|end)\s*\{([^}]*)\}")


def check_formula(latex: Any, where: str) -> str:
    """Accept an engine-printed formula as LaTeX, or raise TexError naming `where`."""
    if not isinstance(latex, str) or not latex.strip():
        raise TexError(f"{where}: expected a LaTeX formula, found {latex!r}")
    problem = None
    depth = 0
    prev = ""
    for ch in latex:
        if prev != "\\":
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    problem = "a '}' closes a group that was never opened"
                    break
            elif ch in "%#$":
                problem = f"an unescaped {ch!r}"
                break
            elif ch in "\n\r":
                problem = "a line break"
                break
        prev = "" if prev == "\\" else ch
    if problem is None and depth != 0:
        problem = f"{depth} unclosed '{{'"
    if problem is None and (m := _FORBIDDEN_CS.search(latex)):
        problem = f"the forbidden command {m.group(0)!r}"
    if problem is None:
        for m in _ENV.finditer(latex):
            if m.group(2).strip() not in _ENVIRONMENTS:
                problem = f"the environment {m.group(0)!r} (only {', '.join(sorted(_ENVIRONMENTS))} may appear)"
                break
    if problem is None and "^^" in latex:
        problem = "a '^^' character code"
    if problem is None and any(ord(ch) < 0x20 or ord(ch) > 0x7E for ch in latex):
        problem = "a character outside printable ASCII"
    if problem is not None:
        raise TexError(f"{where}: the formula {latex!r} has {problem}; it was not printed")
    return latex


def text_with_math(text: Any, where: str) -> str:
    """Text with inline `$...$` math (a title, seam 6) as LaTeX: the text escaped, the math checked."""
    if not isinstance(text, str):
        raise TexError(f"{where}: expected text, found {text!r}")
    parts = re.split(r"(?<!\\)\$", text)
    if len(parts) % 2 == 0:
        raise TexError(f"{where}: {text!r} has an unclosed '$' (inline math is written $...$)")
    out = []
    for i, part in enumerate(parts):
        try:
            out.append(f"${check_formula(part, where)}$" if i % 2 else latex_escape(part.replace("\\$", "$")))
        except TexError as err:
            msg = str(err)
            raise TexError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    return "".join(out)


_CS = re.compile(r"\\([A-Za-z]+)")
MAX_EXPANSION_DEPTH = 8


def _group(latex: str, start: int) -> tuple[str, int] | None:
    """The braced group (or single token) at `start` after spaces, and the index after it."""
    i = start
    while i < len(latex) and latex[i] == " ":
        i += 1
    if i >= len(latex):
        return None
    if latex[i] == "{":
        depth = 0
        j = i
        while j < len(latex):
            if latex[j] == "\\":
                j += 2
                continue
            if latex[j] == "{":
                depth += 1
            elif latex[j] == "}":
                depth -= 1
                if depth == 0:
                    return latex[i + 1 : j], j + 1
            j += 1
        return None
    if latex[i] == "\\":
        m = _CS.match(latex, i)
        end = m.end() if m else i + 2
        return latex[i:end], end
    return latex[i], i + 1


def expand_macros(latex: str, macros: Mapping[str, str], _depth: int = 0) -> str:
    """`latex` with every macro of `macros` (name -> body with #1..#9) replaced by its body."""
    if _depth > MAX_EXPANSION_DEPTH:
        raise TexError(f"macros nest more than {MAX_EXPANSION_DEPTH} levels deep (a macro that uses itself?)")
    out: list[str] = []
    i = 0
    changed = False
    while i < len(latex):
        if latex[i] != "\\":
            out.append(latex[i])
            i += 1
            continue
        m = _CS.match(latex, i)
        if m is None:  # \\, \{, \, ...: a control symbol, kept with its character
            out.append(latex[i : i + 2])
            i += 2
            continue
        name = "\\" + m.group(1)
        body = macros.get(name)
        if body is None:
            out.append(name)
            i = m.end()
            continue
        arity = max((int(n) for n in re.findall(r"#([1-9])", body)), default=0)
        j = m.end()
        args = []
        for _ in range(arity):
            got = _group(latex, j)
            if got is None:
                raise TexError(f"the macro {name} takes {arity} argument(s); {latex!r} gives fewer")
            args.append(got[0])
            j = got[1]
        text = re.sub(r"#([1-9])", lambda g: args[int(g.group(1)) - 1], body)
        # A macro followed by a letter must stay separated from it: \tr x -> \operatorname{tr} x.
        if arity == 0 and j < len(latex) and latex[j].isalpha() and re.search(r"\\[A-Za-z]+$", text):
            text += " "
        out.append(text)
        changed = True
        i = j
    result = "".join(out)
    return expand_macros(result, macros, _depth + 1) if changed else result
