"""Printed sheets, typeset by pdfLaTeX: the two-page cheat sheet, the complete reference and
the sheets an instructor composes (sheets/README.md).

`render_sheet(export, sheet)` turns the export and a `generator.render.sheets.Sheet` into LaTeX
source (pure) with the templates of generator/templates: `cards.tex.j2` (rules flowing in
columns, for cheat sheets and handouts) or `table.tex.j2` (one row per rule, for the
complete reference). `compile_pdf` runs latexmk on it (the only I/O) and returns the page
count; `add_arguments` and `run` are the `mcref pdf` subcommand.

LaTeX is an input boundary: every text field (titles, conditions, sheet titles) is escaped
by `generator.render.texescape.latex_escape`; only the engine-printed formula fields (`latex.*`,
`symbols.*.latex`) and the export's macros pass through as they are, after
`check_formula` made sure they cannot read or write files or break the page.
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
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from generator.render.sheets import PAPERS, Group, Sheet, SheetError, read_sheet, reference_sheet
from generator.render.texescape import TexError, check_formula, latex_escape, text_with_math

__all__ = [
    "LAYOUTS",
    "PAPERS",
    "PdfError",
    "Tex",
    "add_arguments",
    "compile_pdf",
    "latex_escape",
    "render_sheet",
    "render_tex",
    "run",
    "select_rules",
]

LAYOUTS = ("numerator", "denominator")
EXPORT_FORMAT = "mcref-rules/1"
TEMPLATES = {"cards": "cards.tex.j2", "table": "table.tex.j2"}
TEX_NAME = "sheet.tex"
LATEXMK_TIMEOUT_S = 180

INSTALL_HINT = (
    "install TeX Live and latexmk; on Debian/Ubuntu:\n"
    "  sudo apt-get install -y --no-install-recommends texlive-latex-base "
    "texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk lmodern"
)

_PAPER_OPTION = {"a4": "a4paper", "letter": "letterpaper"}
# A rule's link without a site address: its page relative to the PDF as the site serves it
# (build/site/pdf/x.pdf -> build/site/rules/<id>/).
RELATIVE_BASE = "../"

_LAYOUT_TEXT = {
    "numerator": (
        "\\textbf{Numerator layout} (as in Parr \\& Howard): for $\\mathbf{y}\\in\\mathbb{R}^m$, "
        "$\\mathbf{x}\\in\\mathbb{R}^n$, $\\partial\\mathbf{y}/\\partial\\mathbf{x}$ is $m\\times n$, "
        "one row per $y_i$. The derivative of a scalar by $\\mathbf{x}$ is a row ($1\\times n$); "
        "by $\\mathbf{X}\\in\\mathbb{R}^{m\\times n}$ it is $n\\times m$. "
        "Chain rule: $\\frac{\\partial\\mathbf{f}}{\\partial\\mathbf{x}} = "
        "\\frac{\\partial\\mathbf{f}}{\\partial\\mathbf{g}}\\,\\frac{\\partial\\mathbf{g}}{\\partial\\mathbf{x}}$. "
        "Denominator layout is the transpose of every result."
    ),
    "denominator": (
        "\\textbf{Denominator layout} (\\emph{not} the paper's): for $\\mathbf{y}\\in\\mathbb{R}^m$, "
        "$\\mathbf{x}\\in\\mathbb{R}^n$, $\\partial\\mathbf{y}/\\partial\\mathbf{x}$ is $n\\times m$, "
        "one column per $y_i$. The derivative of a scalar by $\\mathbf{x}$ is a column ($n\\times 1$); "
        "by $\\mathbf{X}\\in\\mathbb{R}^{m\\times n}$ it is $m\\times n$, the shape of $\\mathbf{X}$ (the gradient). "
        "Chain rule: $\\frac{\\partial\\mathbf{f}}{\\partial\\mathbf{x}} = "
        "\\frac{\\partial\\mathbf{g}}{\\partial\\mathbf{x}}\\,\\frac{\\partial\\mathbf{f}}{\\partial\\mathbf{g}}$. "
        "Numerator layout (Parr \\& Howard) is the transpose of every result."
    ),
}
_NOTATION = (
    "$x$ scalar, $\\mathbf{x}$ column vector, $\\mathbf{X}$ matrix; "
    "${}^{\\top}$ transpose; $\\odot$, $\\oslash$ element-wise product and division; "
    "$\\mathbf{1}$ vector of ones; $\\mathbf{I}$ identity; "
    "$\\operatorname{tr}$ trace; $\\operatorname{diag}(\\mathbf{x})$ diagonal matrix of $\\mathbf{x}$; "
    "$\\sigma$ sigmoid; $f'$ derivative of an element-wise $f$; "
    "$\\mathrm{d}\\mathbf{X}$ differential: $\\mathrm{d}f = \\operatorname{tr}(\\mathbf{G}^{\\top}\\mathrm{d}\\mathbf{X})$ "
    "means $\\partial f/\\partial\\mathbf{X} = \\mathbf{G}$ in denominator layout."
)
_LEGEND = (
    "\\mcmarkall{} proved for every size;\\enspace \\mcmarklisted{} verified exactly at the sizes listed on the rule's page "
    "and numerically (mcref's engine, SymPy \\VERSION)."
)
# With the all-sizes engine's verdicts (seam 4): how many rules of the sheet it proved.
_LEGEND_SCOPE = (
    "\\mcmarkall{} proved for every size (\\PROVED{} of \\COUNT{} here);\\enspace \\mcmarklisted{} verified exactly at "
    "listed sizes (why: on the rule's page\\DETAILS)."
)


class PdfError(Exception):
    """A sheet cannot be rendered or compiled; the message says why and what to do."""


class PageLimitError(PdfError):
    """The compiled sheet takes more pages than its sheet file allows (MS022): a problem of the sheet file."""


class Tex(str):
    """A string that is already LaTeX: the only kind of value the template will print."""


# ---------------------------------------------------------------------------------------
# Checks of what reaches TeX

_IDENT = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MACRO_NAME = re.compile(r"^\\[A-Za-z]+$")
_DIM = re.compile(r"^[A-Za-z0-9]+(\+[A-Za-z0-9]+)*$")  # a letter, an integer, or a stacked length like n+1
_SITE_URL = re.compile(r"^https?://[A-Za-z0-9.:/_~+-]+/$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _formula(latex: Any, where: str) -> Tex:
    try:
        return Tex(check_formula(latex, where))
    except TexError as err:
        raise PdfError(str(err)) from None


def _text(text: Any, where: str) -> Tex:
    try:
        return Tex(latex_escape(str(text)))
    except TexError as err:
        raise PdfError(f"{where}: {err}") from None


def _status(rule: Mapping[str, Any]) -> str:
    verification = rule.get("verification") or {}
    return str(verification.get("status", "missing"))


def select_rules(
    export: Mapping[str, Any],
    *,
    sections: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The rules of the reference, in export order: those in any of `sections` and carrying
    any of `tags` (no filter when None).

    Raises PdfError if a selected rule is not verified (a sheet prints only what was
    verified), if a section or tag is unknown, or if nothing is selected.
    """
    _check_format(export)
    rules: list[dict[str, Any]] = list(export.get("rules") or [])
    known_sections = [s["slug"] for s in export.get("sections") or []]
    if sections:
        unknown = sorted(set(sections) - set(known_sections))
        if unknown:
            raise PdfError(f"unknown section {', '.join(map(repr, unknown))}; the export has: {', '.join(known_sections)}")
    if tags:
        known_tags = {t for r in rules for t in r.get("tags") or []}
        unknown = sorted(set(tags) - known_tags)
        if unknown:
            raise PdfError(f"unknown tag {', '.join(map(repr, unknown))}; the export has: {', '.join(sorted(known_tags))}")
    chosen = [
        r
        for r in rules
        if (not sections or r.get("section") in sections) and (not tags or set(tags) & set(r.get("tags") or []))
    ]
    unverified = [r for r in chosen if _status(r) != "verified"]
    if unverified:
        listing = ", ".join(f"{r.get('id')} ({_status(r)})" for r in unverified)
        raise PdfError(
            f"refusing to print {len(unverified)} rule(s) that are not verified: {listing}; "
            "a sheet prints only verified rules (run `mcref check` to see why)"
        )
    if not chosen:
        raise PdfError("no rule matches the selection; the sheet would be empty")
    return chosen


def _check_format(export: Mapping[str, Any]) -> None:
    if export.get("format") != EXPORT_FORMAT:
        raise PdfError(f"the export has format {export.get('format')!r}; this sheet reads {EXPORT_FORMAT!r}")


# ---------------------------------------------------------------------------------------
# What the templates print


@dataclass(frozen=True)
class _Row:
    id: Tex
    url: Tex
    title: Tex
    sources: Tex
    lhs: Tex
    rhs: Tex
    where: tuple[tuple[Tex, Tex], ...]
    shapes: Tex
    conditions: Tex
    mark: Tex
    statement: Tex
    bookmark: Tex


@dataclass(frozen=True)
class _Group:
    heading: Tex
    bookmark: Tex
    note: Tex
    compact: bool
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
        sym_tex = _formula(sym.get("latex"), f"{where}: symbols.{name}.latex")
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


def _verification(rule: Mapping[str, Any]) -> tuple[str, str]:
    """(mark, note): \\mcmarkall for a rule proved for every size, else \\mcmarklisted; the note is the
    engine's statement of a rule verified at listed sizes only (seam 4), printed by sheets with details.
    An export from before the all-sizes engine (no `scope`) has listed-sizes marks and no notes."""
    verification = rule.get("verification") or {}
    scope = verification.get("scope")
    if scope == "all-sizes":
        return "\\mcmarkall{}", ""
    return "\\mcmarklisted{}", str(verification.get("statement") or "") if scope else ""


_BOOKMARK_MAP = {"\u1d40": "^T", "\u207b\u00b9": "^-1", "\u2016": "||", "\u2212": "-", "\u00d7": "x", "\u2299": "*",
                 "\u2202": "d", "\u2207": "grad ", "\u2211": "sum ", "\u00b2": "^2", "\u221a": "sqrt"}


def bookmark_text(text: str) -> Tex:
    """Plain ASCII for a PDF outline entry: title_text with its math spelled out, accents dropped, and
    nothing TeX or PDF reads specially (pdfTeX escapes the parentheses: \\pdfescapestring)."""
    for key in sorted(_BOOKMARK_MAP, key=len, reverse=True):
        text = text.replace(key, _BOOKMARK_MAP[key])
    text = unicodedata.normalize("NFKD", text).replace("^^", "^ ^")  # ^^41 would be read as a character code
    kept = "".join(ch if re.match(r"[A-Za-z0-9 ,.;:()'/+=*|<>^-]", ch) else " " for ch in text)
    return Tex(" ".join(kept.split()))


def _legend(export: Mapping[str, Any], rules: Sequence[Mapping[str, Any]], sympy: str, details: bool) -> str:
    scoped = [r for r in rules if (r.get("verification") or {}).get("scope")]
    if not scoped:
        return _LEGEND.replace("\\VERSION", sympy)
    proved = sum(1 for r in scoped if r["verification"]["scope"] == "all-sizes")
    return (_LEGEND_SCOPE.replace("\\PROVED{}", str(proved)).replace("\\COUNT{}", str(len(rules)))
            .replace("\\DETAILS", " and under the rule" if details else ""))


def rule_link(rule: Mapping[str, Any], site_url: str) -> str:
    """Where a rule's id links: its page under the site address, or relative to the site's pdf/ folder."""
    path = str(rule.get("path") or f"rules/{rule['id']}/")
    return f"{site_url}{path}" if site_url else f"{RELATIVE_BASE}{path}"


def _row(rule: Mapping[str, Any], layout: str, site_url: str) -> _Row:
    rid = rule.get("id")
    if not isinstance(rid, str) or not _IDENT.match(rid):
        raise PdfError(f"a rule id must match {_IDENT.pattern}, found {rid!r}")
    where = f"rule {rid}"
    latex = rule.get("latex") or {}
    lhs = _formula(latex.get("derivative"), f"{where}: latex.derivative")
    own = str(rule.get("layout") or "numerator")
    # A differential has one form, the same in both layouts.
    rhs_tex = latex.get(layout) if latex.get(layout) else latex.get(own)
    rhs = _formula(rhs_tex, f"{where}: latex.{layout}")
    where_lines = []
    for i, w in enumerate(latex.get("where") or []):
        if not isinstance(w, Mapping):
            raise PdfError(f"{where}: latex.where[{i}] must be a mapping {{name, value}}, found {w!r}")
        where_lines.append((_formula(w.get("name"), f"{where}: latex.where[{i}].name"),
                            _formula(w.get("value"), f"{where}: latex.where[{i}].value")))
    path = str(rule.get("path") or f"rules/{rid}/")
    if path != f"rules/{rid}/":
        raise PdfError(f"{where}: path must be 'rules/{rid}/', found {path!r}")
    try:
        title = text_with_math(str(rule.get("title", "")), f"{where}: title")
        conditions = str(rule.get("conditions") or "none")
        cond_tex = "" if conditions.strip().lower() == "none" else latex_escape(conditions)
        sources = latex_escape(_sources_text(rule.get("sources") or []))
    except TexError as err:
        msg = str(err)
        raise PdfError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    mark, statement = _verification(rule)
    return _Row(
        id=Tex(rid),
        url=Tex(rule_link(rule, site_url).replace("#", "\\#")),
        title=Tex(title),
        sources=Tex(sources),
        lhs=lhs,
        rhs=rhs,
        where=tuple(where_lines),
        shapes=Tex(_shapes(rule, layout, where)),
        conditions=Tex(cond_tex),
        mark=Tex(mark),
        statement=_text(statement, f"{where}: verification.statement"),
        bookmark=bookmark_text(f"{rule.get('title_text') or rule.get('title', '')} ({rid})"),
    )


def _macros(export: Mapping[str, Any]) -> list[dict[str, Tex]]:
    out = []
    for name, body in sorted((export.get("macros") or {}).items()):
        if not isinstance(name, str) or not _MACRO_NAME.match(name):
            raise PdfError(f"macros: a macro name must look like \\name, found {name!r}")
        # The body is checked like a formula, except that it may use its arguments #1..#9.
        _formula(re.sub(r"#[1-9]", "", str(body)), f"macros: {name}")
        arity = max((int(n) for n in re.findall(r"#([1-9])", str(body))), default=0)
        out.append({"name": Tex(name), "arity": Tex(f"[{arity}]" if arity else ""), "body": Tex(str(body))})
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
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent.parent / "templates")),
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


def render_sheet(export: Mapping[str, Any], sheet: Sheet) -> str:
    """Return the LaTeX source of `sheet` (pure: no file, clock or environment)."""
    _check_format(export)
    if sheet.layout not in LAYOUTS:
        raise PdfError(f"layout must be one of {', '.join(LAYOUTS)}, found {sheet.layout!r}")
    if sheet.paper not in PAPERS:
        raise PdfError(f"paper must be one of {', '.join(PAPERS)}, found {sheet.paper!r}")
    if sheet.style not in TEMPLATES:
        raise PdfError(f"style must be one of {', '.join(TEMPLATES)}, found {sheet.style!r}")
    site_url = str(export.get("site_url") or "")
    if site_url and not _SITE_URL.match(site_url):
        raise PdfError(f"site_url must be an http(s) URL ending in '/' made of [A-Za-z0-9.:/_~+-], found {site_url!r}")
    build_date = str(export.get("build_date", ""))
    if not _DATE.match(build_date):
        raise PdfError(f"build_date must be YYYY-MM-DD, found {build_date!r}")
    by_id = {str(r.get("id")): r for r in export.get("rules") or []}
    groups = []
    count = 0
    for group in sheet.groups:
        rows = []
        for rid in group.ids:
            rule = by_id.get(rid)
            if rule is None:
                raise PdfError(f"{sheet.source}: rule {rid!r} is not in the export")
            if _status(rule) != "verified":
                raise PdfError(f"refusing to print rule {rid} ({_status(rule)}): a sheet prints only verified rules")
            rows.append(_row(rule, sheet.layout, site_url))
        count += len(rows)
        groups.append(_Group(
            heading=_text(group.heading or "", f"{sheet.source}: heading"),
            bookmark=bookmark_text(group.heading or ""),
            note=_text(group.note, f"{sheet.source}: note"),
            compact=group.compact,
            rows=tuple(rows),
        ))
    if count == 0:
        raise PdfError(f"{sheet.source}: the sheet selects no rule; it would be empty")
    all_ids = [r.id for g in groups for r in g.rows]
    longest = max(all_ids, key=lambda s: (len(s), s))
    sympy = latex_escape(str(export.get("sympy", "?")))
    version = latex_escape(str(export.get("version", "?")))
    if site_url:
        where_text = f"each id links to its rule's page at \\url{{{site_url}rules/}}"
        footer_url = f"\\url{{{site_url}}}"
    else:
        where_text = "each id names the rule's page, rules/\\textless{}id\\textgreater{}/ on the mcref site"
        footer_url = ""
    context = {
        "style": Tex(sheet.style),
        "layout": Tex(sheet.layout),
        "paper": Tex(sheet.paper),
        "paper_option": Tex(_PAPER_OPTION[sheet.paper]),
        "orientation": Tex(sheet.orientation),
        "columns": sheet.columns,
        "details": sheet.details,
        "font_size": Tex(f"{sheet.font_size:g}"),
        "font_skip": Tex(f"{sheet.font_size * 1.18:.1f}"),
        "count": count,
        "count_text": Tex(f"{count} rule{'s' if count != 1 else ''}"),
        "title": _text(sheet.title, f"{sheet.source}: title"),
        "pdf_title": _text(sheet.title + (f" ({sheet.subtitle})" if sheet.subtitle else ""), f"{sheet.source}: title"),
        "subtitle": _text(sheet.subtitle, f"{sheet.source}: subtitle"),
        "version": Tex(version),
        "sympy": Tex(sympy),
        "build_date": Tex(build_date),
        "pdf_date": Tex("D:" + build_date.replace("-", "") + "000000Z"),
        "site_url": Tex(site_url),
        "footer_url": Tex(footer_url),
        "where_text": Tex(where_text),
        "macros": _macros(export),
        "longest_id": Tex(longest),
        "layout_title": Tex(f"{sheet.layout.capitalize()} layout"),
        "layout_text": Tex(_LAYOUT_TEXT[sheet.layout]),
        "notation": Tex(_NOTATION),
        "legend": Tex(_legend(export, [by_id[i] for g in sheet.groups for i in g.ids], sympy, sheet.details)),
        "groups": groups,
    }
    return _environment().get_template(TEMPLATES[sheet.style]).render(context)


def reference_for(
    export: Mapping[str, Any],
    *,
    layout: str = "numerator",
    paper: str = "a4",
    sections: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> Sheet:
    """The complete reference as a sheet, or its rules of `sections` / `tags` (see select_rules)."""
    if layout not in LAYOUTS:
        raise PdfError(f"layout must be one of {', '.join(LAYOUTS)}, found {layout!r}")
    if paper not in PAPERS:
        raise PdfError(f"paper must be one of {', '.join(PAPERS)}, found {paper!r}")
    chosen = {str(r["id"]) for r in select_rules(export, sections=sections, tags=tags)}
    sheet = reference_sheet(export, layout=layout, paper=paper)
    groups = tuple(Group(g.heading, g.note, g.compact, tuple(i for i in g.ids if i in chosen)) for g in sheet.groups)
    stray = chosen - {i for g in groups for i in g.ids}
    if stray:
        raise PdfError(f"rules {', '.join(sorted(stray))} name sections missing from export['sections']")
    title = sheet.title
    if sections or tags:
        title = "Matrix calculus: " + ", ".join([*(sections or []), *(f"tag {t}" for t in tags or [])])
    return Sheet(**{**sheet.__dict__, "title": title, "groups": tuple(g for g in groups if g.ids)})


def render_tex(
    export: Mapping[str, Any],
    *,
    layout: str = "numerator",
    paper: str = "a4",
    sections: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> str:
    """The LaTeX of the complete reference (one table row per rule), or of its rules of `sections`/`tags`."""
    return render_sheet(export, reference_for(export, layout=layout, paper=paper, sections=sections, tags=tags))


# ---------------------------------------------------------------------------------------
# Compiling


_ERROR_LINE = re.compile(r"^(?:\./)?" + re.escape(TEX_NAME) + r":(\d+): (.*)$")
_BANG = re.compile(r"^! (.*)$")
_LNUM = re.compile(r"^l\.(\d+) ?(.*)$")
_PAGES = re.compile(r"Output written on .*\((\d+) pages?,")


def _where(tex_lines: Sequence[str], lineno: int) -> str:
    """Name what line `lineno` (1-based) of the source belongs to: a rule, or the preamble."""
    for line in reversed(tex_lines[: max(lineno, 0)]):
        if line.startswith("% rule: "):
            return "rule " + line[len("% rule: ") :].strip()
        if line.startswith("% group: "):
            return "the group heading " + line[len("% group: ") :].strip()
        if line.startswith("% ---- end of macros"):
            return "the template (generator/templates/)"
        if line.startswith("% ---- macros shared"):
            return "the macros of the export (export['macros'])"
    return "the preamble (generator/templates/)"


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


def compile_pdf(tex: str, out_pdf: Path, *, source_date_epoch: int, accept: Callable[[int], None] | None = None) -> int:
    """Typeset `tex` with latexmk (pdfLaTeX) into `out_pdf`, keep the source beside it, and
    return the number of pages.

    Runs in a temporary folder with shell escape off. On a LaTeX error raises PdfError
    showing the error line(s) and the rule they came from; the .tex and .log are kept
    next to `out_pdf` for inspection. `accept(pages)` may refuse the result by raising before the
    PDF is written (a sheet longer than it allows leaves the last good PDF in place).
    """
    latexmk = shutil.which("latexmk")
    if latexmk is None or shutil.which("pdflatex") is None:
        missing = "latexmk" if latexmk is None else "pdflatex"
        raise PdfError(f"{missing} not found on PATH: the sheets need it; {INSTALL_HINT}")
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
        cmd = [latexmk, "-pdf", "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape",
               "-file-line-error", "-norc", "-quiet", TEX_NAME]
        try:
            proc = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  errors="replace", timeout=LATEXMK_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"latexmk did not finish within {LATEXMK_TIMEOUT_S} s on {tex_copy}") from None
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
        found = _PAGES.findall(log)
        pages = int(found[-1]) if found else 0
        if accept is not None:
            accept(pages)
        shutil.copyfile(pdf, out_pdf)
    return pages


def check_pages(sheet: Sheet, pages: int) -> None:
    """PdfError (with the sheet file's line) when the sheet takes more pages than it allows."""
    if sheet.pages is not None and pages > sheet.pages:
        line, col = sheet.pages_at
        raise PageLimitError(
            f"{sheet.source}:{line}:{col}: MS022 the sheet must fit on {sheet.pages} page(s) (found {pages}): "
            "remove rules, make groups compact, or raise pages"
        )


# ---------------------------------------------------------------------------------------
# The `mcref pdf` subcommand


def epoch_of(build_date: str) -> int:
    """Seconds since 1970 at midnight UTC of `build_date` (YYYY-MM-DD)."""
    try:
        day = dt.datetime.strptime(build_date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise PdfError(f"build_date must be YYYY-MM-DD, found {build_date!r}") from None
    return int(day.timestamp())


_epoch = epoch_of  # the name before the sheets; kept for callers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of `mcref pdf`."""
    parser.add_argument(
        "--sheet",
        type=Path,
        default=None,
        metavar="FILE",
        help="a sheet file (see sheets/README.md), e.g. sheets/cheatsheet.yaml; "
        "without it, the complete reference (one row per rule)",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=None,
        help="layout convention of the formulas (default: the sheet's, else numerator, as in the paper)",
    )
    parser.add_argument(
        "--paper", choices=PAPERS, default=None, help="paper size (default: the sheet's, else a4)"
    )
    parser.add_argument(
        "--section",
        action="append",
        dest="sections",
        metavar="S",
        help="reference only: print only this section (a slug; repeatable)",
    )
    parser.add_argument(
        "--tag",
        action="append",
        dest="tags",
        metavar="T",
        help="reference only: print only rules with this tag (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="output PDF (default: build/pdf/<sheet name or reference>-<paper>-<layout>.pdf); "
        "the .tex is kept beside it",
    )


def sheet_for(args: argparse.Namespace, export: Mapping[str, Any]) -> tuple[Sheet, str]:
    """The sheet `mcref pdf` prints and its default output name; PdfError or SheetError if wrong."""
    if args.sheet is not None:
        if args.sections or args.tags:
            raise PdfError("--section and --tag choose rules of the reference; a sheet file chooses its own "
                           "(write sections: or tags: in it)")
        sheet = read_sheet(args.sheet, export)
        sheet = Sheet(**{**sheet.__dict__, "layout": args.layout or sheet.layout, "paper": args.paper or sheet.paper})
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(args.sheet).stem) or "sheet"
        return sheet, f"{stem}-{sheet.paper}-{sheet.layout}.pdf"
    layout, paper = args.layout or "numerator", args.paper or "a4"
    sheet = reference_for(export, layout=layout, paper=paper, sections=args.sections, tags=args.tags)
    return sheet, f"reference-{paper}-{layout}.pdf"


def run(args: argparse.Namespace, export: Mapping[str, Any]) -> int:
    """Build one sheet; print where it went. Returns the exit status (0, 1 or 2)."""
    try:
        sheet, name = sheet_for(args, export)
        out = args.out or Path("build") / "pdf" / name
        tex = render_sheet(export, sheet)
        pages = compile_pdf(tex, out, source_date_epoch=epoch_of(str(export.get("build_date"))),
                            accept=lambda pages: check_pages(sheet, pages))
    except (SheetError, PageLimitError) as err:
        print(f"mcref pdf: the sheet file has problems:\n{err}", file=sys.stderr)
        return 2
    except PdfError as err:
        print(f"mcref pdf: error: {err}", file=sys.stderr)
        return 1
    count = len(sheet.ids)
    for old, new in sheet.redirected:
        print(f"note: {sheet.source}: rule {old!r} is now {new!r}; the sheet prints {new!r}", file=sys.stderr)
    print(f"wrote {out} ({count} rule{'s' if count != 1 else ''}, {pages} page{'s' if pages != 1 else ''}, "
          f"{sheet.layout} layout, {sheet.paper})")
    if not export.get("site_url"):
        print("note: no site address is configured (mkdocs.yml site_url, --site-url or MCREF_SITE_URL): "
              "the ids link to ../rules/<id>/, relative to the site's pdf/ folder", file=sys.stderr)
    return 0


def _main(argv: Iterable[str] | None = None) -> int:
    """`python -m generator.render.pdf EXPORT.json [options]`: build a sheet from an export file."""
    import json

    parser = argparse.ArgumentParser(prog="python -m generator.render.pdf", description=_main.__doc__)
    parser.add_argument("export", type=Path, help="an export JSON file")
    add_arguments(parser)
    args = parser.parse_args(list(argv) if argv is not None else None)
    export = json.loads(args.export.read_text(encoding="utf-8"))
    return run(args, export)


if __name__ == "__main__":
    raise SystemExit(_main())
