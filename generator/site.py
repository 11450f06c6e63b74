"""Render the pages of the docs site from the export: data in, page texts out.

`render_pages(export, errata)` returns relative doc path -> page text. It reads no file,
writes no file and reads no clock: the MkDocs hook (generator/mkdocs_hooks.py) feeds it
the export and hands the texts to MkDocs as virtual files.

Every page is a few lines of YAML front matter followed by raw HTML. Raw HTML keeps
Markdown away from rule text (a `*` in a title stays a `*`, a `\\(` stays a `\\(`), and
every string taken from a rule goes through `html.escape`. Math is written the way
pymdownx.arithmatex (generic mode) writes it, `<span class="arithmatex">\\(...\\)</span>`,
so hand-written and generated pages are rendered by the same KaTeX call in the browser.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from generator.plaintext import tex_to_text

__all__ = [
    "EXPORT_FORMAT",
    "GENERATED_PAGES",
    "LAYOUTS",
    "RESERVED_SLUGS",
    "SiteError",
    "render_pages",
    "render_section_list",
    "rule_url",
    "tex_to_text",
]

EXPORT_FORMAT = "mcref-rules/1"
LAYOUTS = ("numerator", "denominator")
LAYOUT_LABELS = {"numerator": "Numerator layout", "denominator": "Denominator layout"}

#: Generated pages that are not section pages.
GENERATED_PAGES = ("all-rules.md", "verification.md", "errata.md")

#: Names a section slug may not take: hand-written pages, generated pages and folders of
#: the built site (a section called `assets` would shadow the site's own files).
RESERVED_SLUGS = frozenset(
    {
        "index",
        "notation",
        "layouts",
        "cite",
        "contributing",
        "export-format",
        "all-rules",
        "verification",
        "errata",
        "assets",
        "pdf",
        "search",
        "overrides",
        "rules.json",
    }
)

VERIFIED_STATEMENT = (
    "Exact symbolic equality at the sizes named plus numeric agreement at random points: strong evidence, not a proof for every size."
)

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9.-]*\Z")
_INLINE_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")


class SiteError(ValueError):
    """The export (or the errata list) cannot be published; str() lists every problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the site cannot be built from this export:\n" + "\n".join(f"  - {p}" for p in self.problems))


# --------------------------------------------------------------------------- helpers


def _e(value: object) -> str:
    """HTML-escape any value (quotes too, so the result is safe in attributes)."""
    return html.escape(str(value), quote=True)


def _math(tex: str, *, display: bool = False) -> str:
    """An arithmatex-style math element holding `tex`, escaped."""
    if display:
        return f'<div class="arithmatex">\\[{_e(tex)}\\]</div>'
    return f'<span class="arithmatex">\\({_e(tex)}\\)</span>'


def _text_with_math(text: str, where: str, problems: list[str]) -> str:
    """Escape `text`, turning `$...$` spans into inline math.

    LaTeX commands outside `$...$` would be printed raw, so they are reported as a
    problem of `where` instead.
    """
    out: list[str] = []
    pos = 0
    for match in _INLINE_MATH.finditer(text):
        out.append(_plain(text[pos : match.start()], where, problems))
        out.append(_math(match.group(1).strip()))
        pos = match.end()
    out.append(_plain(text[pos:], where, problems))
    return "".join(out)


def _plain(text: str, where: str, problems: list[str]) -> str:
    command = _TEX_COMMAND.search(text)
    if command:
        problems.append(f"{where}: LaTeX {command.group(0)} outside $...$ would be printed raw; put the math between $ signs")
    if "$" in text.replace("\\$", ""):
        problems.append(f"{where}: unbalanced $ (inline math is written $...$)")
    return _e(text.replace("\\$", "$"))


def _dims(shape: Sequence[object]) -> str:
    return " \\times ".join(str(d) for d in shape)


def _shape_words(shape: Sequence[object]) -> str:
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return f"column vector, {shape[0]} × 1"
    return f"matrix, {shape[0]} × {shape[1]}"


def _space(shape: Sequence[object]) -> str:
    if len(shape) == 0:
        return "\\mathbb{R}"
    return "\\mathbb{R}^{" + _dims(shape) + "}"


def _result_shape_words(shape: Sequence[object]) -> str:
    if len(shape) == 0:
        return "a scalar"
    if len(shape) == 1:
        return f"{shape[0]} × 1"
    return f"{shape[0]} × {shape[1]}"


def _sizes_text(sizes: Iterable[Mapping[str, object]]) -> str:
    parts = [", ".join(f"{k} = {v}" for k, v in size.items()) for size in sizes]
    return "; ".join(p if p else "no dimensions" for p in parts)


def rule_url(export: Mapping[str, Any], rule: Mapping[str, Any]) -> str:
    """The permanent link of a rule: `<site_url><section>/#<id>`."""
    base = str(export.get("site_url") or "/")
    if not base.endswith("/"):
        base += "/"
    return f"{base}{rule['section']}/#{rule['id']}"


def _formula(rule: Mapping[str, Any], layout: str) -> str:
    """The LaTeX of the rule in one layout: `derivative = expression`."""
    latex = rule["latex"]
    return f"{latex['derivative']} = {latex[layout]}"


def _rule_layouts(rule: Mapping[str, Any]) -> list[str]:
    """The layouts to show, the rule's own first (a differential has one form)."""
    if rule.get("kind", "derivative") == "differential":
        return [str(rule.get("layout") or "numerator")]
    own = str(rule.get("layout") or "numerator")
    return [own] + [lay for lay in LAYOUTS if lay != own]


def _bibtex_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "&%$#_{}":
            out.append("\\" + ch)
        elif ch == "\\":
            out.append("\\textbackslash{}")
        elif ch == "^":
            out.append("\\textasciicircum{}")
        elif ch == "~":
            out.append("\\textasciitilde{}")
        else:
            out.append(ch)
    return "".join(out)


def _front_matter(title: str, description: str | None = None) -> str:
    # JSON strings are YAML strings; `<`, `>` and `&` are dropped because the theme
    # prints the page title unescaped in <title>.
    def clean(s: str) -> str:
        return re.sub(r"[<>&]", "", s)

    lines = ["---", f"title: {json.dumps(clean(title), ensure_ascii=False)}"]
    if description:
        lines.append(f"description: {json.dumps(clean(description), ensure_ascii=False)}")
    lines.append("---")
    return "\n".join(lines) + "\n\n"


def _rel(from_depth: int) -> str:
    return "../" * from_depth


# --------------------------------------------------------------------------- checks


def _check(export: Mapping[str, Any], errata: Sequence[Mapping[str, Any]] | None) -> None:
    problems: list[str] = []
    if export.get("format") != EXPORT_FORMAT:
        problems.append(f"export format must be {EXPORT_FORMAT!r}, found {export.get('format')!r}")
    sections = export.get("sections") or []
    slugs: set[str] = set()
    for section in sections:
        slug = str(section.get("slug"))
        if not _SLUG.match(slug):
            problems.append(f"section slug {slug!r} must be lower-case letters, digits and -")
        if slug in RESERVED_SLUGS:
            problems.append(f"section slug {slug!r} is the name of a page of the site")
        if slug in slugs:
            problems.append(f"section slug {slug!r} appears twice")
        slugs.add(slug)
    rules = export.get("rules") or []
    ids: set[str] = set()
    for rule in rules:
        rid = str(rule.get("id"))
        if not _RULE_ID.match(rid):
            problems.append(f"rule id {rid!r} must be lower-case letters, digits, - and .")
        if rid in ids:
            problems.append(f"rule {rid}: the id appears twice")
        ids.add(rid)
        status = (rule.get("verification") or {}).get("status")
        if status != "verified":
            problems.append(f"rule {rid}: verification status is {status!r}; only verified rules are published")
        if rule.get("section") not in slugs:
            problems.append(f"rule {rid}: unknown section {rule.get('section')!r}")
        latex = rule.get("latex") or {}
        for layout in _rule_layouts(rule):
            if not latex.get(layout) or not latex.get("derivative"):
                problems.append(f"rule {rid}: the export has no LaTeX for the {layout} layout")
    for rule in rules:
        for other in rule.get("related") or []:
            if other not in ids:
                problems.append(f"rule {rule.get('id')}: related rule {other!r} is not in the export")
    counts = export.get("counts") or {}
    if counts.get("verified") != len(rules) or counts.get("total") != len(rules):
        problems.append(
            f"export counts {dict(counts)} do not match its {len(rules)} verified rules; a refuted or undecided rule must stop the build"
        )
    for entry in errata or []:
        target = entry.get("rule")
        if target and target not in ids:
            problems.append(f"erratum {entry.get('number')}: rule {target!r} is not a verified rule")
    if problems:
        raise SiteError(problems)


# --------------------------------------------------------------------------- blocks


def _symbols_html(rule: Mapping[str, Any]) -> str:
    rows = []
    for name, sym in (rule.get("symbols") or {}).items():
        shape = sym.get("shape") or []
        tex = sym.get("latex") or name
        math = _math(tex + " \\in " + _space(shape))
        rows.append(f'<li>{math} <span class="mc-shape-words">({_e(_shape_words(shape))})</span></li>')
    for name, fn in (rule.get("functions") or {}).items():
        args = fn.get("args") or []
        dom = " \\times ".join(_space(a) for a in args) or "\\mathbb{R}"
        tex = fn.get("latex") or name
        math = _math(f"{tex} : {dom} " + "\\to " + _space(fn.get("to") or []))
        rows.append(f'<li>{math} <span class="mc-shape-words">(generic function)</span></li>')
    return '<ul class="mc-symbols" data-search-exclude="1">' + "".join(rows) + "</ul>"


def _tabs_html(rule: Mapping[str, Any], n: int) -> str:
    layouts = _rule_layouts(rule)
    rid = str(rule["id"])
    if rule.get("kind", "derivative") == "differential":
        formula = _formula(rule, layouts[0])
        return '<div class="mc-formula">' + _math(formula, display=True) + _copy_button(formula) + "</div>"
    name = f"mc-tabs-{n}"
    inputs = "".join(f'<input{" checked" if i == 0 else ""} id="{name}-{i + 1}" name="{name}" type="radio">' for i in range(len(layouts)))
    labels = "".join(f'<label for="{name}-{i + 1}">{_e(LAYOUT_LABELS[lay])}</label>' for i, lay in enumerate(layouts))
    blocks = []
    for lay in layouts:
        formula = _formula(rule, lay)
        shape = (rule.get("result_shape") or {}).get(lay)
        shape_txt = (
            f'<p class="mc-result-shape" data-search-exclude="1">Result: {_e(_result_shape_words(shape))}'
            + (" (the layout this rule is stated in)" if lay == rule.get("layout") else " (the transpose of the other layout)")
            + "</p>"
            if shape is not None
            else ""
        )
        blocks.append(
            f'<div class="tabbed-block" data-layout="{_e(LAYOUT_LABELS[lay])}">'
            + _math(formula, display=True)
            + shape_txt
            + _copy_button(formula)
            + "</div>"
        )
    return (
        f'<div class="tabbed-set tabbed-alternate mc-formula" data-tabs="{n}:{len(layouts)}"'
        f' data-rule="{_e(rid)}">'
        + inputs
        + f'<div class="tabbed-labels" data-search-exclude="1">{labels}</div>'
        + f'<div class="tabbed-content">{"".join(blocks)}</div></div>'
    )


def _copy_button(latex: str) -> str:
    return (
        f'<button type="button" class="mc-copy" data-search-exclude="1" data-latex="{_e(latex)}"'
        ' title="Copy the LaTeX of this formula">Copy LaTeX</button>'
    )


def _verification_html(rule: Mapping[str, Any]) -> str:
    v = rule["verification"]
    items = [
        ("Sizes checked", _sizes_text(v.get("sizes") or [])),
        ("Layouts checked", ", ".join(str(x) for x in v.get("layouts") or [])),
        ("Numeric points", str(v.get("numeric_points", ""))),
        ("Largest relative error", str(v.get("max_rel_error", ""))),
        ("Engine", f"mcref {v.get('engine', '')}, SymPy {v.get('sympy', '')}"),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(val)}</dd>" for k, val in items)
    detail = f'<p class="mc-detail">{_e(v.get("detail", ""))}</p>' if v.get("detail") else ""
    return (
        '<details class="mc-verification" data-search-exclude="1">'
        '<summary><span class="mc-badge">✓ Verified</span>'
        ' <span class="mc-summary-hint">how it was checked</span></summary>'
        f"<p>{_e(VERIFIED_STATEMENT)}</p>{detail}<dl>{dl}</dl></details>"
    )


def _conditions_html(rule: Mapping[str, Any]) -> str:
    parts = []
    assume = rule.get("assume") or {}
    if assume:
        words = "; ".join(f"{sym}: {', '.join(str(p) for p in props)}" for sym, props in assume.items())
        parts.append(f"<li>Imposed at the checked points: {_e(words)}</li>")
    conditions = rule.get("conditions")
    if conditions is not None:
        parts.append(f"<li>Conditions: {_e(conditions)}</li>")
    if not parts:
        return ""
    return '<ul class="mc-conditions" data-search-exclude="1">' + "".join(parts) + "</ul>"


def _cite_html(export: Mapping[str, Any], rule: Mapping[str, Any]) -> str:
    rid = str(rule["id"])
    version = str(export.get("version", ""))
    url = rule_url(export, rule)
    year = str(export.get("build_date", ""))[:4]
    title = str(rule["title"])
    plain = f"mcref contributors. “{title}” (rule {rid}). mcref: a verified matrix-calculus reference, version {version}, {year}. {url}"
    bib = "\n".join(
        [
            f"@misc{{mcref:{rid},",
            f"  title        = {{{{{_bibtex_escape(title)}}} (mcref rule {_bibtex_escape(rid)})}},",
            "  author       = {{mcref contributors}},",
            f"  year         = {{{year}}},",
            f"  version      = {{{_bibtex_escape(version)}}},",
            f"  howpublished = {{\\url{{{url}}}}},",
            (
                f"  note         = {{Rule {_bibtex_escape(rid)}, verified with SymPy "
                f"{_bibtex_escape(str(rule['verification'].get('sympy', '')))}}}"
            ),
            "}",
        ]
    )
    return (
        '<details class="mc-cite" data-search-exclude="1"><summary>Cite this rule</summary>'
        f'<p class="mc-cite-plain">{_e(plain)}</p>'
        f'<pre><code class="language-bibtex">{_e(bib)}</code></pre></details>'
    )


def _example_html(rule: Mapping[str, Any], problems: list[str]) -> str:
    ex = rule.get("example")
    if not ex:
        return ""
    rid = rule["id"]
    body = []
    if ex.get("text"):
        body.append(f"<p>{_text_with_math(str(ex['text']), f'rule {rid}: example', problems)}</p>")
    latex = ex.get("latex") or {}
    layout = str(rule.get("layout") or "numerator")
    if latex.get("derivative") and (latex.get(layout) or latex.get("expect")):
        body.append(_math(f"{latex['derivative']} = {latex.get(layout) or latex.get('expect')}", display=True))
    elif ex.get("of") is not None:
        body.append(
            "<p>"
            f"<code>{_e(ex.get('of'))}</code> by <code>{_e(ex.get('wrt', rule.get('wrt')))}</code>"
            f" is <code>{_e(ex.get('expect'))}</code></p>"
        )
    return '<div class="mc-example"><p class="mc-label">Worked example (verified)</p>' + "".join(body) + "</div>"


def _rule_html(
    export: Mapping[str, Any],
    rule: Mapping[str, Any],
    by_id: Mapping[str, Mapping[str, Any]],
    n: int,
    depth: int,
    problems: list[str],
) -> str:
    rid = str(rule["id"])
    section = str(rule["section"])
    parts = [f'<article class="mc-rule" data-rule-id="{_e(rid)}">']
    parts.append(
        f'<h2 id="{_e(rid)}" class="mc-rule-title">{_e(rule["title"])}'
        f'<a class="headerlink" href="#{_e(rid)}" title="Permanent link">¶</a></h2>'
    )
    parts.append(
        '<p class="mc-meta">'
        f'<a class="mc-permalink" href="#{_e(rid)}" title="Permanent link of this rule">'
        f"/{_e(section)}/#{_e(rid)}</a> "
        f'<code class="mc-id">{_e(rid)}</code></p>'
    )
    parts.append(_tabs_html(rule, n))
    display = (rule.get("latex") or {}).get("display")
    if display:
        parts.append('<div class="mc-display"><p class="mc-label">As usually written</p>' + _math(str(display), display=True) + "</div>")
    parts.append('<p class="mc-label" data-search-exclude="1">Shapes</p>' + _symbols_html(rule))
    parts.append(_conditions_html(rule))
    parts.append(_verification_html(rule))
    if rule.get("notes"):
        parts.append(
            '<p class="mc-notes"><span class="mc-label-inline">Note.</span> '
            + _text_with_math(str(rule["notes"]), f"rule {rid}: notes", problems)
            + "</p>"
        )
    parts.append(_example_html(rule, problems))
    aliases = rule.get("aliases") or []
    if aliases:
        parts.append(
            '<p class="mc-aliases"><span class="mc-label-inline">Also known as:</span> '
            + ", ".join(f"<span>{_e(a)}</span>" for a in aliases)
            + "</p>"
        )
    sources = rule.get("sources") or []
    if sources:
        parts.append(
            '<div class="mc-sources-block" data-search-exclude="1"><p class="mc-label">Sources</p><ul class="mc-sources">'
            + "".join(f"<li>{_e(s.get('text') or s.get('ref'))}</li>" for s in sources)
            + "</ul></div>"
        )
    related = rule.get("related") or []
    if related:
        links = []
        for other in related:
            target = by_id[other]
            links.append(
                f'<li><a href="{_rel(depth)}{_e(target["section"])}/#{_e(other)}">{_e(target["title"])}</a> <code>{_e(other)}</code></li>'
            )
        parts.append(
            '<div class="mc-related-block" data-search-exclude="1"><p class="mc-label">Related rules</p>'
            '<ul class="mc-related">' + "".join(links) + "</ul></div>"
        )
    tags = rule.get("tags") or []
    if tags:
        parts.append('<p class="mc-tags">' + " ".join(f'<span class="mc-tag">{_e(t)}</span>' for t in tags) + "</p>")
    parts.append(_cite_html(export, rule))
    parts.append("</article>")
    return "\n".join(p for p in parts if p)


# --------------------------------------------------------------------------- pages


def _section_page(
    export: Mapping[str, Any],
    section: Mapping[str, Any],
    rules: Sequence[Mapping[str, Any]],
    by_id: Mapping[str, Mapping[str, Any]],
    problems: list[str],
) -> str:
    slug = str(section["slug"])
    title = str(section["title"])
    out = [_front_matter(title, section.get("summary"))]
    out.append(f'<h1 id="{_e(slug)}">{_e(title)}</h1>')
    if section.get("summary"):
        out.append(f'<p class="mc-summary">{_e(section["summary"])}</p>')
    count = len(rules)
    out.append(
        f'<p class="mc-count">{count} verified rule{"s" if count != 1 else ""}. '
        "Switch every formula on the page between numerator and denominator layout with "
        'the tabs; see <a href="../layouts/">Layouts</a>.</p>'
    )
    out.append('<div class="mc-rules">')
    for n, rule in enumerate(rules, start=1):
        out.append(_rule_html(export, rule, by_id, n, 1, problems))
    out.append("</div>")
    return "\n\n".join(out) + "\n"


def _index_page(
    export: Mapping[str, Any],
    sections: Sequence[Mapping[str, Any]],
    grouped: Mapping[str, Sequence[Mapping[str, Any]]],
) -> str:
    out = [_front_matter("Index of all rules", "Every verified rule: id, title, section and formula.")]
    out.append('<h1 id="index-of-all-rules">Index of all rules</h1>')
    total = sum(len(v) for v in grouped.values())
    out.append(
        f"<p>{total} verified rules by section, each in the layout it is stated in. The id is "
        "the permanent name of a rule; its link never changes.</p>"
    )
    for section in sections:
        slug = str(section["slug"])
        rules = grouped.get(slug, [])
        if not rules:
            continue
        rows = []
        for rule in rules:
            rid = str(rule["id"])
            layout = _rule_layouts(rule)[0]
            rows.append(
                "<tr>"
                f'<td class="mc-index-id"><a href="../{_e(slug)}/#{_e(rid)}"><code>{_e(rid)}</code></a></td>'
                f"<td>{_e(rule['title'])}</td>"
                f"<td>{_math(_formula(rule, layout))}"
                f' <span class="mc-layout-note">({_e(layout)})</span></td>'
                "</tr>"
            )
        out.append(
            f'<h2 id="index-{_e(slug)}"><a href="../{_e(slug)}/">{_e(section["title"])}</a>'
            f'<a class="headerlink" href="#index-{_e(slug)}" title="Permanent link">¶</a></h2>'
        )
        out.append(_table("mc-index", ("Id", "Title", "Formula"), rows))
    return "\n\n".join(out) + "\n"


def _table(css_class: str, headers: Sequence[str], rows: Sequence[str]) -> str:
    """A scrollable Material table that search leaves out (rows are ready-made <tr> HTML)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return (
        '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">'
        f'<table class="{css_class}" data-search-exclude="1"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows) + "</tbody></table></div></div>"
    )


def _verification_page(
    export: Mapping[str, Any],
    sections: Sequence[Mapping[str, Any]],
    grouped: Mapping[str, Sequence[Mapping[str, Any]]],
) -> str:
    counts = export.get("counts") or {}
    out = [_front_matter("Verification report", "How every published rule was checked.")]
    out.append('<h1 id="verification-report">Verification report</h1>')
    out.append(
        f"<p>Export {_e(export.get('version', ''))} of {_e(export.get('build_date', ''))}, "
        f"checked by mcref {_e(export.get('engine', ''))} with SymPy "
        f"{_e(export.get('sympy', ''))}.</p>"
    )
    out.append(
        '<table class="mc-counts"><tbody>'
        + "".join(f"<tr><th>{_e(k)}</th><td>{_e(counts.get(k, 0))}</td></tr>" for k in ("verified", "refuted", "undecided", "total"))
        + "</tbody></table>"
    )
    out.append(
        "<p>For every rule the engine first compares the claimed formula with central finite "
        "differences at random well-conditioned points (NumPy, independent of SymPy). Then it "
        "builds explicit matrices of scalar symbols at two size assignments in which every "
        "dimension differs, differentiates entry by entry, assembles the derivative in both "
        "layouts and requires the difference with the claimed formula to be exactly zero "
        "(with SymPy; rational rules such as traces, determinants and inverses on SymPy's "
        f"sparse polynomials). {_e(VERIFIED_STATEMENT)} "
        "Only verified rules are published.</p>"
    )
    rows = []
    for section in sections:
        for rule in grouped.get(str(section["slug"]), []):
            v = rule["verification"]
            rid = str(rule["id"])
            rows.append(
                "<tr>"
                f'<td><a href="../{_e(rule["section"])}/#{_e(rid)}"><code>{_e(rid)}</code></a></td>'
                f"<td>{_e(section['title'])}</td>"
                f'<td class="mc-status">{_e(v.get("status"))}</td>'
                f"<td>{_e(_sizes_text(v.get('sizes') or []))}</td>"
                f"<td>{_e(v.get('numeric_points', ''))}</td>"
                f"<td>{_e(v.get('max_rel_error', ''))}</td>"
                "</tr>"
            )
    out.append("<p>Proof times are not published, so two builds of the same rules give the same bytes; "
               "<code>mcref check</code> prints them.</p>")
    out.append(_table("mc-report", ("Rule", "Section", "Status", "Sizes", "Numeric points", "Max. rel. error"), rows))
    return "\n\n".join(out) + "\n"


def _errata_page(
    export: Mapping[str, Any],
    errata: Sequence[Mapping[str, Any]],
    by_id: Mapping[str, Mapping[str, Any]],
    problems: list[str],
) -> str:
    out = [
        _front_matter(
            "Errata of the paper",
            "Known problems in Parr & Howard, The Matrix Calculus You Need For Deep Learning.",
        )
    ]
    out.append('<h1 id="errata">Errata of the paper</h1>')
    out.append(
        "<p>Known problems in Parr &amp; Howard, <em>The Matrix Calculus You Need For Deep "
        "Learning</em> (arXiv:1802.01528), each beside the verified rule that states the "
        "corrected form.</p>"
    )
    if not errata:
        out.append("<p>No errata are listed yet.</p>")
    for entry in errata:
        number = str(entry.get("number", ""))
        where = f"erratum {number}"
        anchor = f"erratum-{re.sub(r'[^a-z0-9-]+', '-', number.lower()).strip('-') or 'x'}"

        def field(name: str, entry: Mapping[str, Any] = entry, where: str = where) -> str:
            value = entry.get(name)
            if value in (None, ""):
                return ""
            return _text_with_math(str(value), f"{where}, field {name}", problems)

        parts = ['<article class="mc-erratum">']
        parts.append(
            f'<h2 id="{_e(anchor)}">{_e(number)}. {_e(entry.get("title", ""))}'
            f'<a class="headerlink" href="#{_e(anchor)}" title="Permanent link">¶</a></h2>'
        )
        if entry.get("where"):
            parts.append(f'<p class="mc-where">In the paper: {field("where")}</p>')
        rule_id = entry.get("rule")
        rule = by_id.get(str(rule_id)) if rule_id else None
        paper_cell = f'<p class="mc-label">The paper</p><p>{field("paper")}</p>'
        if rule is not None:
            layout = _rule_layouts(rule)[0]
            rule_cell = (
                '<p class="mc-label">Verified rule</p>'
                + _math(_formula(rule, layout), display=True)
                + f'<p><a href="../{_e(rule["section"])}/#{_e(rule["id"])}">{_e(rule["title"])}</a>'
                f" <code>{_e(rule['id'])}</code> ({_e(layout)} layout)</p>"
            )
        else:
            rule_cell = f'<p class="mc-label">Correction</p><p>{field("correction")}</p>'
        parts.append(f'<div class="mc-side-by-side"><div>{paper_cell}</div><div>{rule_cell}</div></div>')
        if entry.get("problem"):
            parts.append(f'<p><span class="mc-label-inline">Problem.</span> {field("problem")}</p>')
        if rule is not None and entry.get("correction"):
            parts.append(f'<p><span class="mc-label-inline">Correction.</span> {field("correction")}</p>')
        if entry.get("note"):
            parts.append(f'<p class="mc-notes"><span class="mc-label-inline">Note.</span> {field("note")}</p>')
        parts.append("</article>")
        out.append("\n".join(parts))
    return "\n\n".join(out) + "\n"


def render_section_list(export: Mapping[str, Any], depth: int = 0) -> str:
    """An HTML list of the sections with rules, for the home page."""
    items = []
    for section in sorted(export.get("sections") or [], key=lambda s: s.get("order", 0)):
        count = sum(1 for r in export.get("rules") or [] if r.get("section") == section["slug"])
        if not count:
            continue
        items.append(
            f'<li><a href="{_rel(depth)}{_e(section["slug"])}/">{_e(section["title"])}</a> ({count}): {_e(section.get("summary", ""))}</li>'
        )
    return '<ul class="mc-section-list">\n' + "\n".join(items) + "\n</ul>"


def render_pages(export: Mapping[str, Any], errata: Sequence[Mapping[str, Any]] | None = None) -> dict[str, str]:
    """Render every generated page: one per section with rules, the index of all rules,
    the verification report and (when `errata` is given) the errata page.

    Raises SiteError, listing every problem, when the export holds a rule that is not
    verified, refers to an unknown section or rule, or would print raw LaTeX.
    """
    _check(export, errata)
    problems: list[str] = []
    sections = sorted(export["sections"], key=lambda s: (s.get("order", 0), s["slug"]))
    by_id = {str(r["id"]): r for r in export["rules"]}
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for rule in export["rules"]:
        grouped.setdefault(str(rule["section"]), []).append(rule)
    pages: dict[str, str] = {}
    for section in sections:
        slug = str(section["slug"])
        if grouped.get(slug):
            pages[f"{slug}.md"] = _section_page(export, section, grouped[slug], by_id, problems)
    pages["all-rules.md"] = _index_page(export, sections, grouped)
    pages["verification.md"] = _verification_page(export, sections, grouped)
    if errata is not None:
        pages["errata.md"] = _errata_page(export, errata, by_id, problems)
    if problems:
        raise SiteError(problems)
    return pages
