"""Plain Unicode text from the whitelisted LaTeX of formulas and titles.

For search indexes, result previews, PDF bookmarks and BibTeX titles: places where only
text fits. `\\frac{\\partial \\tr(\\mathbf{A})}{\\partial \\mathbf{X}}` reads `∂tr(A)/∂X`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_TEX_SYMBOLS = {
    "partial": "∂",
    "top": "ᵀ",
    "intercal": "ᵀ",
    "odot": "⊙",
    "otimes": "⊗",
    "oplus": "⊕",
    "cdot": "·",
    "times": "×",
    "in": "∈",
    "to": "→",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "neq": "≠",
    "ne": "≠",
    "infty": "∞",
    "sum": "∑",
    "prod": "∏",
    "nabla": "∇",
    "approx": "≈",
    "mid": "|",
    "ldots": "…",
    "cdots": "⋯",
    "dots": "…",
    "vdots": "⋮",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "psi": "ψ",
    "omega": "ω",
    "Sigma": "Σ",
    "Delta": "Δ",
    "Lambda": "Λ",
    "Omega": "Ω",
    "Phi": "Φ",
    "Gamma": "Γ",
    "bigcirc": "○",
    "circ": "∘",
    "lVert": "‖",
    "rVert": "‖",
    "Vert": "‖",
    "|": "‖",
    "lvert": "|",
    "rvert": "|",
    "langle": "⟨",
    "rangle": "⟩",
    "quad": " ",
    "qquad": " ",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "{": "{",
    "}": "}",
    "\\": "; ",
    "prime": "′",
    "oslash": "⊘",
}
_TEX_DROP = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "displaystyle", "limits", "nolimits"}
_TEX_STYLE = {
    "mathbf",
    "boldsymbol",
    "bm",
    "mathrm",
    "mathit",
    "mathsf",
    "mathcal",
    "operatorname",
    "text",
    "textrm",
    "mathbb",
    "vec",
}
# Accents print as combining marks after their letter: \hat{\mathbf{x}} reads x̂.
_TEX_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}
_SUPERSCRIPTS = str.maketrans("0123456789-+()nTi", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ⁿᵀⁱ")
_SUBSCRIPTS = str.maketrans("0123456789+-()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")


def tex_to_text(tex: str, macros: Mapping[str, str] | None = None) -> str:
    """A readable plain-text rendering of (whitelisted) LaTeX, for search previews.

    `\\frac{\\partial \\tr(\\mathbf{A})}{\\partial \\mathbf{X}}` reads
    `∂ tr(A)/∂ X`. It is a preview, not a typesetter: what it does not know it prints as
    the command's name, never with a backslash.
    """
    macros = dict(macros or {})
    pos = 0

    def group() -> str:
        nonlocal pos
        while pos < len(tex) and tex[pos] == " ":
            pos += 1
        if pos >= len(tex):
            return ""
        if tex[pos] == "{":
            depth, start = 1, pos + 1
            pos += 1
            while pos < len(tex) and depth:
                if tex[pos] == "\\":
                    pos += 2
                    continue
                depth += {"{": 1, "}": -1}.get(tex[pos], 0)
                pos += 1
            return tex_to_text(tex[start : pos - 1], macros)
        if tex[pos] == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", tex[pos:])
            assert m
            pos += m.end()
            return convert_command(m.group(1))
        ch = tex[pos]
        pos += 1
        return ch

    def convert_command(name: str) -> str:
        key = "\\" + name
        if key in macros:
            return tex_to_text(macros[key], {})
        if name in _TEX_DROP:
            return ""
        if name in ("begin", "end"):
            env = group()
            if "matrix" in env:
                return "[" if name == "begin" else "]"
            return ""
        if name == "mathbb":
            arg = group()
            return {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "1": "𝟙", "E": "𝔼", "I": "𝕀"}.get(arg, arg)
        if name in _TEX_ACCENTS:
            return group() + _TEX_ACCENTS[name]
        if name in _TEX_STYLE:
            return group()
        if name in ("frac", "dfrac", "tfrac"):
            num, den = group(), group()
            wrap = lambda s: s if re.fullmatch(r"[^\s+\-−/]*|∂ ?\S+", s) else f"({s})"
            return f"{wrap(num)}/{wrap(den)}"
        if name == "sqrt":
            return f"√({group()})"
        if name in _TEX_SYMBOLS:
            return _TEX_SYMBOLS[name]
        if len(name) == 1 and not name.isalpha():
            return name
        return name

    out: list[str] = []
    after_name = False  # the last piece was a function name (log, det, tr)
    while pos < len(tex):
        ch = tex[pos]
        if ch in "^_":
            pos += 1
            after_name = False
            arg = group()
            if ch == "^":
                if arg == "ᵀ" or arg == "T":
                    out.append("ᵀ")
                elif re.fullmatch(r"[0-9n+\-()Ti]+", arg):
                    out.append(arg.translate(_SUPERSCRIPTS))
                else:
                    out.append("^" + (arg if len(arg) == 1 else f"({arg})"))
            elif re.fullmatch(r"[0-9+\-()aehijklmnoprstuvx]+", arg):
                out.append(arg.translate(_SUBSCRIPTS))  # x_1, 1_m: x₁, 1ₘ
            else:
                out.append("_" + (arg if len(arg) == 1 else f"({arg})"))  # 1_(m × m), not 1_m × m
        elif ch == "}":
            pos += 1
        elif ch == "&":
            out.append(", ")
            pos += 1
        elif ch == " ":
            out.append(" ")
            pos += 1
        else:
            word = re.match(r"\\([A-Za-z]+)", tex[pos:])
            piece = group()
            # A function name or fraction after a letter or digit: 2x cos(x), du/dx dy/du.
            if word and word.group(1) not in _TEX_STYLE and piece[:1].isascii() and piece[:1].isalnum() \
                    and out and out[-1][-1:].isascii() and out[-1][-1:].isalnum():
                out.append(" ")
            # A letter or digit after a function name: log det X, tr X (not "detX", "trX").
            elif after_name and piece[:1].isalnum():
                out.append(" ")
            out.append(piece)
            after_name = bool(word and (word.group(1) not in _TEX_STYLE or word.group(1) == "operatorname")
                              and len(piece) >= 2 and piece.isascii() and piece.isalpha())
            continue
    text = "".join(out)
    text = re.sub(r"\s+", " ", text).strip()
    return unicodedata.normalize("NFC", text.replace("∂ ", "∂"))  # ŵ composed where Unicode has it


_INLINE_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")


def text_with_math(text: str, macros: Mapping[str, str] | None = None) -> str:
    """Text whose inline `$...$` math is rendered as plain text ("Form $\\mathbf{x}^\\top$" -> "Form xᵀ")."""
    return _INLINE_MATH.sub(lambda m: tex_to_text(m.group(1), macros), text)
