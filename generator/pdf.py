"""The printable cheat sheet: every verified rule in one landscape table, typeset by pdfLaTeX.

`render_tex` turns the export (see tests/fixtures/export-sample.json) into LaTeX source
(pure); `compile_pdf` runs latexmk on it (the only I/O); `add_arguments` and `run` are
the `mcref pdf` subcommand.

LaTeX is an input boundary: every text field of a rule is escaped by `latex_escape`; only
the engine-printed formula fields (`latex.*`, `symbols.*.latex`) and the shared macros pass
through as they are, after a check that they cannot read or write files or break the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

__all__ = [
    "LAYOUTS",
    "PAPERS",
    "PdfError",
    "Tex",
    "add_arguments",
    "compile_pdf",
    "latex_escape",
    "render_tex",
    "run",
    "select_rules",
]

LAYOUTS = ("numerator", "denominator")
PAPERS = ("a4", "letter")
EXPORT_FORMAT = "mcref-rules/1"
TEMPLATE = "cheatsheet.tex.j2"
TEX_NAME = "cheatsheet.tex"
LATEXMK_TIMEOUT_S = 180

INSTALL_HINT = (
    "install TeX Live and latexmk; on Debian/Ubuntu:\n"
    "  sudo apt-get install -y --no-install-recommends texlive-latex-base "
    "texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk lmodern"
)

_PAPER_OPTION = {"a4": "a4paper", "letter": "letterpaper"}
# Widths of the fixed columns (the formula column takes the rest, the id column is as
# wide as the longest id).
_TITLE_WIDTH = "58mm"
_SHAPE_WIDTH = "66mm"

_LAYOUT_TEXT = {
    "numerator": (
        "Numerator layout (as in Parr \\& Howard): for $\\mathbf{y}\\in\\mathbb{R}^m$ and "
        "$\\mathbf{x}\\in\\mathbb{R}^n$, $\\partial\\mathbf{y}/\\partial\\mathbf{x}$ is "
        "$m\\times n$, one row per $y_i$; the derivative of a scalar by $\\mathbf{x}$ is a "
        "row ($1\\times n$), by an $m\\times n$ matrix it is $n\\times m$. "
        "Chain rule: $\\partial\\mathbf{f}(\\mathbf{g}(\\mathbf{x}))/\\partial\\mathbf{x} = "
        "(\\partial\\mathbf{f}/\\partial\\mathbf{g})\\,(\\partial\\mathbf{g}/\\partial\\mathbf{x})$. "
        "Denominator layout is the transpose of every result."
    ),
    "denominator": (
        "Denominator layout (NOT the paper's): for $\\mathbf{y}\\in\\mathbb{R}^m$ and "
        "$\\mathbf{x}\\in\\mathbb{R}^n$, $\\partial\\mathbf{y}/\\partial\\mathbf{x}$ is "
        "$n\\times m$; the derivative of a scalar by $\\mathbf{x}$ is a column ($n\\times 1$), "
        "by an $m\\times n$ matrix it is $m\\times n$ (the shape of the matrix). "
        "Chain rule: $\\partial\\mathbf{f}(\\mathbf{g}(\\mathbf{x}))/\\partial\\mathbf{x} = "
        "(\\partial\\mathbf{g}/\\partial\\mathbf{x})\\,(\\partial\\mathbf{f}/\\partial\\mathbf{g})$. "
        "Numerator layout (Parr \\& Howard) is the transpose of every result."
    ),
}
_HEAD_LAYOUT = {
    "numerator": "\\textbf{numerator layout}: $\\partial\\mathbf{y}/\\partial\\mathbf{x}$ "
    "is $m\\times n$ (one row per $y_i$)",
    "denominator": "\\textbf{denominator layout}: $\\partial\\mathbf{y}/\\partial\\mathbf{x}$ "
    "is $n\\times m$ (one column per $y_i$)",
}


class PdfError(Exception):
    """The cheat sheet cannot be rendered or compiled; the message says why and what to do."""


class Tex(str):
    """A string that is already LaTeX: the only kind of value the template will print."""


# ---------------------------------------------------------------------------------------
# Escaping and checking what reaches TeX

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
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
    '"': r"\textquotedbl{}",
    "`": r"\textasciigrave{}",
    "-": "-{}",  # no en/em dash ligatures: "--" prints as two hyphens, as typed
    "'": "'{}",  # no '' ligature (a closing double quote)
    "\t": " ",
    "\n": " ",
    "\r": " ",
    # Characters rule authors write in titles and conditions.
    "\u00d7": r"\texttimes{}",
    "\u2212": r"\textminus{}",
    "\u2013": r"\textendash{}",
    "\u2014": r"\textemdash{}",
    "\u2018": r"\textquoteleft{}",
    "\u2019": r"\textquoteright{}",
    "\u201c": r"\textquotedblleft{}",
    "\u201d": r"\textquotedblright{}",
    "\u2026": r"\textellipsis{}",
    "\u00b7": r"\textperiodcentered{}",
    "\u2299": r"\ensuremath{\odot}",
    "\u2297": r"\ensuremath{\otimes}",
    "\u2298": r"\ensuremath{\oslash}",
    "\u2202": r"\ensuremath{\partial}",
    "\u2207": r"\ensuremath{\nabla}",
    "\u2211": r"\ensuremath{\sum}",
    "\u2264": r"\ensuremath{\le}",
    "\u2265": r"\ensuremath{\ge}",
    "\u2260": r"\ensuremath{\ne}",
    "\u2248": r"\ensuremath{\approx}",
    "\u2192": r"\ensuremath{\to}",
    "\u2208": r"\ensuremath{\in}",
    "\u221e": r"\ensuremath{\infty}",
    "\u22a4": r"\ensuremath{\top}",
    "\u1d40": r"\textsuperscript{T}",
    "\u207b\u00b9": r"\textsuperscript{\textminus{}1}",
    "\u00b2": r"\textsuperscript{2}",
    "\u211d": r"\ensuremath{\mathbb{R}}",
}
_GREEK = "αβγδεζηθικλμνξπρστυφχψω"
_GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho "
    "sigma tau upsilon phi chi psi omega"
).split()
_ESCAPES.update({g: f"\\ensuremath{{\\{n}}}" for g, n in zip(_GREEK, _GREEK_NAMES, strict=True)})
_MULTI = sorted((k for k in _ESCAPES if len(k) > 1), key=len, reverse=True)


def _typesettable(ch: str) -> bool:
    """True for characters pdfLaTeX (utf8, T1) prints as they are."""
    code = ord(ch)
    if 0x20 <= code < 0x7F:
        return True
    # Latin-1 Supplement and Latin Extended-A letters are covered by T1 + inputenc utf8.
    return 0xC0 <= code <= 0x17F and ch not in "\u00d7\u00f7"


def latex_escape(text: str) -> str:
    """Return `text` as LaTeX that prints it literally (for titles, ids, conditions).

    Every TeX special is escaped, so no command in `text` is ever executed. Raises
    PdfError for a character pdfLaTeX cannot print, naming it.
    """
    if not isinstance(text, str):
        raise PdfError(f"expected text, found {type(text).__name__}: {text!r}")
    out: list[str] = []
    i = 0
    while i < len(text):
        for multi in _MULTI:
            if text.startswith(multi, i):
                out.append(_ESCAPES[multi])
                i += len(multi)
                break
        else:
            ch = text[i]
            if ch in _ESCAPES:
                out.append(_ESCAPES[ch])
            elif _typesettable(ch):
                out.append(ch)
            else:
                raise PdfError(
                    f"character {ch!r} (U+{ord(ch):04X}) in {text!r} cannot be typeset by "
                    "pdfLaTeX; write it in ASCII or add it to generator/pdf.py _ESCAPES"
                )
            i += 1
    return "".join(out)


# Primitives and commands that read or write files, run programs or change how TeX reads
# its input: never accepted in engine-printed formulas or macros.
_FORBIDDEN_CS = re.compile(
    r"\\(input|include|includeonly|InputIfFileExists|openin|openout|read|readline|write|"
    r"immediate|special|pdfliteral|pdfobj|pdffiledump|pdfximage|catcode|lccode|uccode|"
    r"csname|endcsname|expandafter|def|edef|gdef|xdef|let|futurelet|newcommand|"
    r"renewcommand|providecommand|DeclareRobustCommand|makeatletter|usepackage|"
    r"RequirePackage|documentclass|directlua|ShellEscape|scantokens|newline|par|cr|crcr|"
    r"noalign|omit|span|endinput|dump|batchmode|nonstopmode|errorstopmode)(?![A-Za-z])"
    r"|\\(begin|end)\s*\{\s*(document|longtable|tabular)\b"
)
_IDENT = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MACRO_NAME = re.compile(r"^\\[A-Za-z]+$")
_DIM = re.compile(r"^[A-Za-z0-9]+(\+[A-Za-z0-9]+)*$")  # a letter, an integer, or a stacked length like n+1
_SITE_URL = re.compile(r"^https?://[A-Za-z0-9.:/_~+-]+/$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_formula(latex: Any, where: str) -> Tex:
    """Accept an engine-printed formula as LaTeX, or raise PdfError naming `where`."""
    if not isinstance(latex, str) or not latex.strip():
        raise PdfError(f"{where}: expected a LaTeX formula, found {latex!r}")
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
            elif ch in "%#":
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
    if problem is None and "^^" in latex:
        problem = "a '^^' character code"
    if problem is not None:
        raise PdfError(f"{where}: the formula {latex!r} has {problem}; it was not printed")
    return Tex(latex)


# ---------------------------------------------------------------------------------------
# Selecting and shaping the rules


def _status(rule: Mapping[str, Any]) -> str:
    verification = rule.get("verification") or {}
    return str(verification.get("status", "missing"))


def select_rules(
    export: Mapping[str, Any],
    *,
    sections: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Return the rules of the sheet, in export order: those in any of `sections` and
    carrying any of `tags` (no filter when None).

    Raises PdfError if a selected rule is not verified (the sheet prints only what was
    verified), if a section or tag is unknown, or if nothing is selected.
    """
    if export.get("format") != EXPORT_FORMAT:
        raise PdfError(
            f"the export has format {export.get('format')!r}; this sheet reads {EXPORT_FORMAT!r}"
        )
    rules: list[dict[str, Any]] = list(export.get("rules") or [])
    known_sections = [s["slug"] for s in export.get("sections") or []]
    if sections:
        unknown = sorted(set(sections) - set(known_sections))
        if unknown:
            raise PdfError(
                f"unknown section {', '.join(map(repr, unknown))}; "
                f"the export has: {', '.join(known_sections)}"
            )
    if tags:
        known_tags = {t for r in rules for t in r.get("tags") or []}
        unknown = sorted(set(tags) - known_tags)
        if unknown:
            raise PdfError(
                f"unknown tag {', '.join(map(repr, unknown))}; "
                f"the export has: {', '.join(sorted(known_tags))}"
            )
    chosen = [
        r
        for r in rules
        if (not sections or r.get("section") in sections)
        and (not tags or set(tags) & set(r.get("tags") or []))
    ]
    unverified = [r for r in chosen if _status(r) != "verified"]
    if unverified:
        listing = ", ".join(f"{r.get('id')} ({_status(r)})" for r in unverified)
        raise PdfError(
            f"refusing to print {len(unverified)} rule(s) that are not verified: {listing}; "
            "the cheat sheet prints only verified rules (run `mcref check` to see why)"
        )
    if not chosen:
        raise PdfError("no rule matches the selection; the cheat sheet would be empty")
    return chosen


@dataclass(frozen=True)
class _Row:
    id: Tex
    url: Tex
    title: Tex
    sources: Tex
    lhs: Tex
    rhs: Tex
    shapes: Tex
    conditions: Tex


@dataclass(frozen=True)
class _Section:
    slug: Tex
    title: Tex
    summary: Tex
    rows: tuple[_Row, ...]


def _dims(shape: Any, where: str) -> list[str]:
    if not isinstance(shape, list):
        raise PdfError(f"{where}: expected a shape list, found {shape!r}")
    for d in shape:
        if not _DIM.match(str(d)):
            raise PdfError(f"{where}: a dimension must be a letter or an integer, found {d!r}")
    return [f"({d})" if "+" in str(d) else str(d) for d in shape]  # (n+1){\times}1, never n+1{\times}1


def _space_tex(shape: Any, where: str) -> str:
    """`[]` as R, `[n]` as R^n (a column), `[m, n]` as R^{m x n}."""
    dims = _dims(shape, where)
    if not dims:
        return "\\mathbb{R}"
    return "\\mathbb{R}^{" + "\\times ".join(dims) + "}"


def _size_tex(shape: Any, where: str) -> str:
    """A result's size: `[]` as 1 x 1, `[n]` as n x 1, `[m, n]` as m x n."""
    dims = _dims(shape, where) or ["1"]
    if len(dims) == 1:
        dims.append("1")
    return "{\\times}".join(dims)


def _sources_text(sources: Iterable[Mapping[str, Any]]) -> str:
    """`paper 4.2, 8.2 · cookbook 103`: the printed sources; the rest is on the site."""
    refs: dict[str, list[str]] = {"paper": [], "cookbook": []}
    for source in sources:
        kind = str(source.get("kind", ""))
        ref = str(source.get("ref", "") or "").strip()
        if kind in refs and ref and ref not in refs[kind]:
            refs[kind].append(ref)
    return " \u00b7 ".join(f"{kind} {', '.join(r)}" for kind, r in refs.items() if r)


def _shapes(rule: Mapping[str, Any], layout: str, where: str) -> str:
    """The symbols grouped by space (`w, x in R^n`), the functions, and the result size."""
    groups: dict[str, list[str]] = {}
    for name, sym in (rule.get("symbols") or {}).items():
        sym_tex = _check_formula(sym.get("latex"), f"{where}: symbols.{name}.latex")
        space = _space_tex(sym.get("shape") or [], f"{where}: symbols.{name}")
        groups.setdefault(space, []).append(sym_tex)
    parts = [f"${', '.join(names)} \\in {space}$" for space, names in groups.items()]
    for fname, fn in (rule.get("functions") or {}).items():
        if not re.match(r"^[A-Za-z][A-Za-z0-9]*$", str(fname)):
            raise PdfError(f"{where}: a function name must be a letter and digits, found {fname!r}")
        if not isinstance(fn, Mapping):
            raise PdfError(f"{where}: functions.{fname} must be a mapping, found {fn!r}")
        to = fn.get("to") or []
        name = str(fname) if len(str(fname)) == 1 else f"\\mathit{{{fname}}}"
        name = f"\\mathbf{{{name}}}" if to else name
        args = [_space_tex(a, f"{where}: functions.{fname}.args") for a in fn.get("args") or []]
        domain = " \\times ".join(args) or "\\mathbb{R}"
        parts.append(f"${name}\\colon {domain}\\to {_space_tex(to, f'{where}: functions.{fname}.to')}$")
    result = (rule.get("result_shape") or {}).get(layout)
    text = ", ".join(parts)
    if result is not None:
        text += f"; result ${_size_tex(result, f'{where}: result_shape.{layout}')}$"
    return text


def _row(rule: Mapping[str, Any], layout: str, site_url: str) -> _Row:
    rid = rule.get("id")
    if not isinstance(rid, str) or not _IDENT.match(rid):
        raise PdfError(f"a rule id must match {_IDENT.pattern}, found {rid!r}")
    where = f"rule {rid}"
    section = str(rule.get("section"))
    latex = rule.get("latex") or {}
    lhs = _check_formula(latex.get("derivative"), f"{where}: latex.derivative")
    rhs = _check_formula(latex.get(layout), f"{where}: latex.{layout}")
    try:
        title = latex_escape(str(rule.get("title", "")))
        sources = latex_escape(_sources_text(rule.get("sources") or []))
        conditions = str(rule.get("conditions") or "none")
        cond_tex = "" if conditions.strip().lower() == "none" else latex_escape(conditions)
    except PdfError as err:
        raise PdfError(f"{where}: {err}") from None
    return _Row(
        id=Tex(rid),
        url=Tex(f"{site_url}{section}/\\#{rid}"),
        title=Tex(title),
        sources=Tex(sources),
        lhs=lhs,
        rhs=rhs,
        shapes=Tex(_shapes(rule, layout, where)),
        conditions=Tex(cond_tex),
    )


def _macros(export: Mapping[str, Any]) -> list[dict[str, Tex]]:
    out = []
    for name, body in sorted((export.get("macros") or {}).items()):
        if not isinstance(name, str) or not _MACRO_NAME.match(name):
            raise PdfError(f"macros: a macro name must look like \\name, found {name!r}")
        # The body is checked like a formula, except that it may use its arguments #1..#9.
        _check_formula(re.sub(r"#[1-9]", "", str(body)), f"macros: {name}")
        arity = max((int(n) for n in re.findall(r"#([1-9])", str(body))), default=0)
        out.append(
            {
                "name": Tex(name),
                "arity": Tex(f"[{arity}]" if arity else ""),
                "body": Tex(str(body)),
            }
        )
    return out


def _finalize(value: Any) -> str:
    """Jinja2 prints only Tex and integers: plain text must go through latex_escape first."""
    if isinstance(value, Tex):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"unescaped value reached the LaTeX template: {value!r}")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
    )


def render_tex(
    export: Mapping[str, Any],
    *,
    layout: str = "numerator",
    paper: str = "a4",
    sections: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> str:
    """Return the LaTeX source of the cheat sheet (pure: no file, clock or environment)."""
    if layout not in LAYOUTS:
        raise PdfError(f"layout must be one of {', '.join(LAYOUTS)}, found {layout!r}")
    if paper not in PAPERS:
        raise PdfError(f"paper must be one of {', '.join(PAPERS)}, found {paper!r}")
    rules = select_rules(export, sections=sections, tags=tags)

    site_url = str(export.get("site_url", ""))
    if not _SITE_URL.match(site_url):
        raise PdfError(
            f"site_url must be an http(s) URL ending in '/' made of [A-Za-z0-9.:/_~+-], "
            f"found {site_url!r}"
        )
    build_date = str(export.get("build_date", ""))
    if not _DATE.match(build_date):
        raise PdfError(f"build_date must be YYYY-MM-DD, found {build_date!r}")

    by_section: dict[str, list[_Row]] = {}
    for rule in rules:
        by_section.setdefault(str(rule.get("section")), []).append(_row(rule, layout, site_url))
    known = {s.get("slug") for s in export.get("sections") or []}
    stray = sorted(set(by_section) - known)
    if stray:
        ids = [r["id"] for r in rules if r.get("section") in stray]
        raise PdfError(f"rules {', '.join(ids)} name sections missing from export['sections']: {stray}")

    section_views = []
    for sec in export.get("sections") or []:
        rows = by_section.get(sec["slug"])
        if not rows:
            continue
        slug = str(sec["slug"])
        if not _SLUG.match(slug):
            raise PdfError(f"a section slug must match {_SLUG.pattern}, found {slug!r}")
        try:
            title = latex_escape(str(sec.get("title", slug)))
            summary = latex_escape(str(sec.get("summary", "")))
        except PdfError as err:
            raise PdfError(f"section {slug}: {err}") from None
        section_views.append(_Section(Tex(slug), Tex(title), Tex(summary), tuple(rows)))

    count = len(rules)
    longest = max((r["id"] for r in rules), key=lambda s: (len(s), s))
    context = {
        "layout": Tex(layout),
        "paper": Tex(paper),
        "paper_option": Tex(_PAPER_OPTION[paper]),
        "count": count,
        "count_text": Tex(f"{count} rule{'s' if count != 1 else ''}"),
        "version": Tex(latex_escape(str(export.get("version", "?")))),
        "sympy": Tex(latex_escape(str(export.get("sympy", "?")))),
        "build_date": Tex(build_date),
        "pdf_date": Tex("D:" + build_date.replace("-", "") + "000000Z"),
        "site_url": Tex(site_url),
        "macros": _macros(export),
        "longest_id": Tex(longest),
        "title_width": Tex(_TITLE_WIDTH),
        "shape_width": Tex(_SHAPE_WIDTH),
        "layout_title": Tex(f"{layout.capitalize()} layout"),
        "layout_text": Tex(_LAYOUT_TEXT[layout]),
        "head_layout": Tex(_HEAD_LAYOUT[layout]),
        "sections": section_views,
    }
    return _environment().get_template(TEMPLATE).render(context)


# ---------------------------------------------------------------------------------------
# Compiling


_ERROR_LINE = re.compile(r"^(?:\./)?" + re.escape(TEX_NAME) + r":(\d+): (.*)$")
_BANG = re.compile(r"^! (.*)$")
_LNUM = re.compile(r"^l\.(\d+) ?(.*)$")


def _where(tex_lines: Sequence[str], lineno: int) -> str:
    """Name what line `lineno` (1-based) of the source belongs to: a rule, or the preamble."""
    for line in reversed(tex_lines[: max(lineno, 0)]):
        if line.startswith("% rule: "):
            return "rule " + line[len("% rule: ") :].strip()
        if line.startswith("% section: "):
            return "section " + line[len("% section: ") :].strip()
        if line.startswith("% ---- end of macros"):
            return "the template (generator/templates/" + TEMPLATE + ")"
        if line.startswith("% ---- macros shared"):
            return "the macros of the export (export['macros'])"
    return "the preamble (generator/templates/" + TEMPLATE + ")"


def _explain(log: str, tex: str) -> list[str]:
    """The LaTeX errors of `log`, each with its line and the rule it came from."""
    tex_lines = tex.splitlines()
    lines = log.splitlines()
    found: list[str] = []
    for i, line in enumerate(lines):
        m = _ERROR_LINE.match(line)
        bang = _BANG.match(line)
        if not m and not bang:
            continue
        message = m.group(2) if m else bang.group(1)  # type: ignore[union-attr]
        if message.lstrip().startswith("==> Fatal error occurred"):
            continue
        lineno = int(m.group(1)) if m else None
        context = ""
        for follow in lines[i + 1 : i + 12]:
            lm = _LNUM.match(follow)
            if lm:
                lineno = lineno or int(lm.group(1))
                context = lm.group(2).strip()
                break
        if lineno is None:
            found.append(f"  {message}")
            continue
        source = tex_lines[lineno - 1].strip() if 0 < lineno <= len(tex_lines) else ""
        entry = f"  line {lineno}, in {_where(tex_lines, lineno)}: {message}"
        if context:
            entry += f"\n    TeX stopped at: ...{context}"
        if source:
            entry += f"\n    source line: {source[:200]}"
        found.append(entry)
        if len(found) >= 5:
            break
    return found


def compile_pdf(tex: str, out_pdf: Path, *, source_date_epoch: int) -> None:
    """Typeset `tex` with latexmk (pdfLaTeX) into `out_pdf`; keep the source beside it.

    Runs in a temporary folder with shell escape off. On a LaTeX error raises PdfError
    showing the error line(s) and the rule they came from; the .tex and .log are kept
    next to `out_pdf` for inspection.
    """
    latexmk = shutil.which("latexmk")
    if latexmk is None or shutil.which("pdflatex") is None:
        missing = "latexmk" if latexmk is None else "pdflatex"
        raise PdfError(f"{missing} not found on PATH: the cheat sheet needs it; {INSTALL_HINT}")
    out_pdf = Path(out_pdf)
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    tex_copy = out_pdf.with_suffix(".tex")
    tex_copy.write_text(tex, encoding="utf-8")
    log_copy = out_pdf.with_suffix(".log")
    if log_copy.exists():
        log_copy.unlink()
    env = dict(os.environ)
    env.update(
        {
            "SOURCE_DATE_EPOCH": str(int(source_date_epoch)),
            "FORCE_SOURCE_DATE": "1",
            "TZ": "UTC",
            "max_print_line": "10000",  # one log line per message, so errors parse
            "LC_ALL": "C",
        }
    )
    with tempfile.TemporaryDirectory(prefix="mcref-pdf-") as tmp:
        work = Path(tmp)
        (work / TEX_NAME).write_text(tex, encoding="utf-8")
        cmd = [
            latexmk,
            "-pdf",
            "-halt-on-error",
            "-interaction=nonstopmode",
            "-no-shell-escape",
            "-file-line-error",
            "-norc",
            "-quiet",
            TEX_NAME,
        ]
        try:
            proc = subprocess.run(
                cmd,
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=LATEXMK_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfError(
                f"latexmk did not finish within {LATEXMK_TIMEOUT_S} s on {tex_copy}"
            ) from None
        log_path = work / (Path(TEX_NAME).stem + ".log")
        log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
        pdf = work / (Path(TEX_NAME).stem + ".pdf")
        if proc.returncode != 0 or not pdf.exists():
            if log:
                log_copy.write_text(log, encoding="utf-8")
            errors = _explain(log, tex)
            if not errors:
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
                errors = ["  " + t for t in tail] or ["  (no output)"]
            raise PdfError(
                f"pdfLaTeX failed on {tex_copy} (latexmk exit {proc.returncode}):\n"
                + "\n".join(errors)
                + (f"\n  full log: {log_copy}" if log else "")
            )
        shutil.copyfile(pdf, out_pdf)


# ---------------------------------------------------------------------------------------
# The `mcref pdf` subcommand


def _epoch(build_date: str) -> int:
    """Seconds since 1970 at midnight UTC of `build_date` (YYYY-MM-DD)."""
    try:
        day = dt.datetime.strptime(build_date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise PdfError(f"build_date must be YYYY-MM-DD, found {build_date!r}") from None
    return int(day.timestamp())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `mcref pdf`."""
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="numerator",
        help="layout convention of the formulas (default: numerator, as in the paper)",
    )
    parser.add_argument(
        "--paper", choices=PAPERS, default="a4", help="paper size, landscape (default: a4)"
    )
    parser.add_argument(
        "--section",
        action="append",
        dest="sections",
        metavar="S",
        help="print only this section (a slug; repeatable)",
    )
    parser.add_argument(
        "--tag",
        action="append",
        dest="tags",
        metavar="T",
        help="print only rules with this tag (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="output PDF (default: build/pdf/cheatsheet-<paper>.pdf); the .tex is kept beside it",
    )


def run(args: argparse.Namespace, export: Mapping[str, Any]) -> int:
    """Build the cheat sheet; print where it went. Returns the exit status."""
    out = args.out or Path("build") / "pdf" / f"cheatsheet-{args.paper}.pdf"
    try:
        tex = render_tex(
            export,
            layout=args.layout,
            paper=args.paper,
            sections=args.sections,
            tags=args.tags,
        )
        compile_pdf(tex, out, source_date_epoch=_epoch(str(export.get("build_date"))))
    except PdfError as err:
        print(f"mcref pdf: error: {err}", file=sys.stderr)
        return 1
    count = len(select_rules(export, sections=args.sections, tags=args.tags))
    print(f"wrote {out} ({count} rule{'s' if count != 1 else ''}, {args.layout} layout, {args.paper})")
    return 0


def _main(argv: Iterable[str] | None = None) -> int:
    """`python -m generator.pdf EXPORT.json [options]`: build a sheet from an export file."""
    import json

    parser = argparse.ArgumentParser(prog="python -m generator.pdf", description=_main.__doc__)
    parser.add_argument("export", type=Path, help="an export JSON file")
    add_arguments(parser)
    args = parser.parse_args(list(argv) if argv is not None else None)
    export = json.loads(args.export.read_text(encoding="utf-8"))
    return run(args, export)


if __name__ == "__main__":
    raise SystemExit(_main())
