"""Citations and portable LaTeX: how an instructor quotes a rule (seam 5).

Pure: every function maps export data to text. The catalogue puts, per rule,
`cite: {key, url, text, markdown, bibtex, biblatex}` and `latex.standalone` into the export,
and a top-level `cite` for the reference as a whole; the build writes `mcref.bib`,
`latex/mcref.sty` and one `.tex` per rule and layout; `mcref show` prints one rule.

With no site address configured (`url` is None) no citation holds a URL: it names the
rule's id, title and the mcref version instead, and a link in Markdown becomes plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from generator.render.texescape import TexError, check_formula, expand_macros, latex_escape

__all__ = [
    "AUTHOR",
    "REFERENCE_KEY",
    "REFERENCE_TITLE",
    "bib_file",
    "example_tex",
    "reference_cite",
    "rule_cite",
    "rule_tex",
    "standalone",
    "sty_file",
]

AUTHOR = "mcref contributors"
REFERENCE_TITLE = "mcref: a verified matrix-calculus reference"
REFERENCE_KEY = "mcref"
LAYOUTS = ("numerator", "denominator")


def _title_text(rule: Mapping[str, Any]) -> str:
    """The title as plain Unicode text on one line (seam 6 `title_text`; the title until that lands)."""
    return " ".join(str(rule.get("title_text") or rule.get("title") or rule.get("id")).split())


def _bib_text(text: str, where: str) -> str:
    """Text for a BibTeX/biblatex field: LaTeX that prints it, with balanced braces only.

    A character pdfLaTeX cannot print stays as it is (the PDFs report it; the export never fails on it).
    """
    return latex_escape(text, strict=False)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def _md_text(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _year(build_date: str) -> str:
    return str(build_date)[:4]


def _bib_entry(kind: str, key: str, fields: Sequence[tuple[str, str]]) -> str:
    width = max(len(name) for name, _ in fields)
    lines = [f"@{kind}{{{key},"]
    lines += [f"  {name:<{width}} = {{{value}}}," for name, value in fields]
    lines.append("}")
    return "\n".join(lines)


def rule_cite(rule: Mapping[str, Any], *, version: str, build_date: str, url: str | None) -> dict[str, Any]:
    """The citation forms of one rule: key, url, text, markdown, bibtex, biblatex."""
    rid = str(rule["id"])
    key = f"mcref:{rid}"
    title = _title_text(rule)
    year = _year(build_date)
    where = f"rule {rid}: title"
    text = f"{AUTHOR}, \u201c{title}\u201d (rule {rid}), {REFERENCE_TITLE}, version {version}, {year}."
    if url:
        text += f" {url}"
    shown = f"[{_md_text(title)}]({url})" if url else f"*{_md_text(title)}*"
    markdown = f"{shown} (mcref rule `{rid}`, version {_md_text(version)})"
    bib_title = "{" + _bib_text(title, where) + "}"
    note = f"Rule \\texttt{{{_bib_text(rid, where)}}} of {_bib_text(REFERENCE_TITLE, where)}, version {_bib_text(version, where)}"
    bibtex_fields = [("author", "{" + AUTHOR + "}"), ("title", bib_title)]
    if url:
        bibtex_fields.append(("howpublished", f"\\url{{{url}}}"))
    bibtex_fields += [("year", year), ("note", note)]
    biblatex_fields = [
        ("author", "{" + AUTHOR + "}"),
        ("title", bib_title),
        ("titleaddon", f"rule \\texttt{{{_bib_text(rid, where)}}}"),
        ("organization", _bib_text(REFERENCE_TITLE, where)),
        ("version", _bib_text(version, where)),
        ("date", str(build_date)),
    ]
    if url:
        biblatex_fields += [("url", url), ("urldate", str(build_date))]
    return {
        "key": key,
        "url": url,
        "text": text,
        "markdown": markdown,
        "bibtex": _bib_entry("misc", key, bibtex_fields),
        "biblatex": _bib_entry("online", key, biblatex_fields),
    }


def reference_cite(*, version: str, build_date: str, url: str | None) -> dict[str, Any]:
    """The citation forms of the whole reference (key `mcref`)."""
    year = _year(build_date)
    text = f"{AUTHOR}, {REFERENCE_TITLE}, version {version}, {year}."
    if url:
        text += f" {url}"
    markdown = (f"[{_md_text(REFERENCE_TITLE)}]({url}) (version {_md_text(version)})" if url
                else f"*{_md_text(REFERENCE_TITLE)}* (version {_md_text(version)})")
    title = "{" + _bib_text(REFERENCE_TITLE, "reference") + "}"
    ver = _bib_text(version, "reference")
    bibtex_fields = [("author", "{" + AUTHOR + "}"), ("title", title)]
    if url:
        bibtex_fields.append(("howpublished", f"\\url{{{url}}}"))
    bibtex_fields += [("year", year), ("note", f"Version {ver}; every rule verified with SymPy")]
    biblatex_fields = [("author", "{" + AUTHOR + "}"), ("title", title), ("version", ver), ("date", str(build_date))]
    if url:
        biblatex_fields += [("url", url), ("urldate", str(build_date))]
    return {
        "key": REFERENCE_KEY,
        "url": url,
        "text": text,
        "markdown": markdown,
        "bibtex": _bib_entry("misc", REFERENCE_KEY, bibtex_fields),
        "biblatex": _bib_entry("online", REFERENCE_KEY, biblatex_fields),
    }


def standalone(latex: Mapping[str, Any], macros: Mapping[str, str]) -> dict[str, Any]:
    """The rule's formulas with every mcref macro expanded (compile with amsmath and bm alone).

    `numerator` and `denominator` are whole equations (`derivative = right-hand side`);
    `where` lists the named intermediates (seam 1) as {name, value}.
    """
    lhs = str(latex.get("derivative", ""))
    out: dict[str, Any] = {}
    for layout in LAYOUTS:
        rhs = latex.get(layout)
        out[layout] = expand_macros(f"{lhs} = {rhs}", macros) if rhs else None
    out["where"] = [
        {"name": expand_macros(str(w["name"]), macros), "value": expand_macros(str(w["value"]), macros)}
        for w in latex.get("where") or []
    ]
    return out


def bib_file(export: Mapping[str, Any]) -> str:
    """build/mcref.bib: the reference as a whole, then one @misc per rule (keys mcref:<id>)."""
    version = str(export.get("version", ""))
    head = [
        f"% mcref {version}: one BibTeX entry per rule (key mcref:<id>) and one for the whole reference (key mcref).",
        f"% Built {export.get('build_date', '')}. The biblatex forms (type online) are in rules.json, field cite.biblatex.",
    ]
    if not export.get("site_url"):
        head.append("% No site address was configured (mkdocs.yml site_url, --site-url, MCREF_SITE_URL): no entry has a URL.")
    else:
        head.append("% The URLs are printed with \\url: load the url or hyperref package.")
    cite = export.get("cite") or reference_cite(version=version, build_date=str(export.get("build_date", "")),
                                                url=str(export.get("site_url") or "") or None)
    parts = ["\n".join(head), cite["bibtex"]]
    parts += [rule["cite"]["bibtex"] for rule in export.get("rules") or [] if rule.get("cite")]
    return "\n\n".join(parts) + "\n"


def sty_file(export: Mapping[str, Any]) -> str:
    """build/latex/mcref.sty: every macro the formulas use, for `\\usepackage{mcref}`."""
    version = str(export.get("version", "0"))
    date = str(export.get("build_date", "1970-01-01")).replace("-", "/")
    lines = [
        "% mcref.sty -- the macros of mcref's formulas, generated by mcref; do not edit.",
        "% \\usepackage{mcref} after your own macros: a macro you already define is kept (\\providecommand).",
        "\\NeedsTeXFormat{LaTeX2e}",
        f"\\ProvidesPackage{{mcref}}[{date} v{latex_escape(version)} macros of the mcref matrix-calculus reference]",
        "\\RequirePackage{amsmath}",
        "\\RequirePackage{bm}",
    ]
    for name, body in sorted((export.get("macros") or {}).items()):
        if not re.fullmatch(r"\\[A-Za-z]+", str(name)):
            raise TexError(f"macros: a macro name must look like \\name, found {name!r}")
        check_formula(re.sub(r"#[1-9]", "", str(body)), f"macros: {name}")
        arity = max((int(n) for n in re.findall(r"#([1-9])", str(body))), default=0)
        args = f"[{arity}]" if arity else ""
        lines.append(f"\\providecommand{{{name}}}{args}{{{body}}}")
    lines.append("\\endinput")
    return "\n".join(lines) + "\n"


def rule_tex(export: Mapping[str, Any], rule: Mapping[str, Any], layout: str, *, portable: bool = True) -> str:
    """One rule as a LaTeX snippet to \\input or paste: a comment header, then the equation.

    `portable` (the default) expands the macros, so it compiles with amsmath and bm alone;
    otherwise it needs `\\usepackage{mcref}`.
    """
    rid = str(rule["id"])
    latex = rule.get("latex") or {}
    macros = export.get("macros") or {}
    form = standalone(latex, macros) if portable else {
        "where": list(latex.get("where") or []),
        **{lay: f"{latex.get('derivative')} = {latex.get(lay)}" for lay in LAYOUTS if latex.get(lay)},
    }
    equation = form.get(layout) or form.get(str(rule.get("layout") or "numerator"))
    cite = rule.get("cite") or {}
    needs = "\\usepackage{amsmath,bm}" if portable else "\\usepackage{mcref} (build/latex/mcref.sty)"
    lines = [
        f"% mcref rule {rid}: {_title_text(rule)}",
        f"% {layout} layout; needs {needs}",
    ]
    if cite.get("text"):
        lines.append(f"% cite: {cite['text']}  (BibTeX key {cite.get('key')})")
    where = form.get("where") or []
    if where:
        lines += ["\\begin{gather*}", f"  {equation} \\\\", f"  {where_tex(where)}", "\\end{gather*}"]
    else:
        lines += ["\\begin{equation*}", f"  {equation}", "\\end{equation*}"]
    return "\n".join(lines) + "\n"


def where_tex(where: Sequence[Mapping[str, Any]]) -> str:
    """The where lines under a formula, one binding a line, aligned at =: a row of six bindings runs off the page."""
    # "where" inside the first row (not aligned[t], which KaTeX prints as the text "[t]" on a slide)
    rows = " \\\\ ".join(("\\text{where } " if i == 0 else "") + f"{w['name']} &= {w['value']}" for i, w in enumerate(where))
    return f"\\begin{{aligned}} {rows} \\end{{aligned}}"


def with_where_tex(equation: str, where: Sequence[Mapping[str, Any]]) -> str:
    """A formula and its where lines as one piece of display math (amsmath's gathered), to paste into $$...$$ or \\[...\\]."""
    if not where:
        return equation
    return f"\\begin{{gathered}} {equation} \\\\ {where_tex(where)} \\end{{gathered}}"


EXAMPLE_RULES = ("trace-axb", "softmax-jacobian", "det-log")


def example_tex(export: Mapping[str, Any]) -> str:
    """build/latex/example.tex: a course document that uses the package, two rule snippets and mcref.bib."""
    rules = list(export.get("rules") or [])
    by_id = {str(r["id"]): r for r in rules}
    chosen = [rid for rid in EXAMPLE_RULES if rid in by_id][:2] or [str(r["id"]) for r in rules[:2]]
    lines = [
        "% example.tex: mcref's LaTeX in a course document. Compile it in this folder:",
        "%   pdflatex example && bibtex example && pdflatex example && pdflatex example",
        "% latex/<layout>/<id>.tex holds each rule as an equation that needs only amsmath and bm;",
        "% mcref.sty defines the macros of the formulas as the export prints them (\\tr, \\diag, ...).",
        "\\documentclass{article}",
        "\\usepackage{amsmath,bm}",
        "\\usepackage{mcref}",
        "\\usepackage{url}",
        "\\begin{document}",
        f"\\section*{{Rules from mcref {latex_escape(str(export.get('version', '')))}}}",
    ]
    for rid in chosen:
        lines += [
            f"{latex_escape(_title_text(by_id[rid]))} \\cite{{mcref:{rid}}}:",
            f"\\input{{denominator/{rid}}}",
        ]
    lines += [
        "With the package, the export's formulas work as they are, e.g. "
        "$\\tr(\\mathbf{A}\\mathbf{X}\\mathbf{B})$ and $\\diag(\\mathbf{x})$.",
        "The whole reference: \\cite{mcref}.",
        "\\bibliographystyle{plain}",
        "\\bibliography{../mcref}",
        "\\end{document}",
    ]
    return "\n".join(lines) + "\n"
