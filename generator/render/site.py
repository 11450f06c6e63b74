"""Render the pages of the docs site from the export: data in, page texts out.

`render_pages(export, errata, theory)` returns relative doc path -> text. It reads no file
(the templates are package data), writes no file and reads no clock: the MkDocs hook
(generator/render/mkdocs_hooks.py) feeds it the export and hands the texts to MkDocs as virtual
files. Paths ending in `.md` are pages; paths ending in `.html` (redirect pages) and
`.json` (the search documents) are written as they are.

Python decides *what* is shown (the view of a rule, the order of rows, the checks that
refuse an export); the Jinja2 templates of generator/templates/site decide *how*
(autoescaping on, so every string of a rule is escaped). Pages are a few lines of YAML
front matter followed by raw HTML, which keeps Markdown away from rule text. Math is
written the way pymdownx.arithmatex (generic mode) writes it,
`<span class="arithmatex">\\(...\\)</span>`, and typeset at build time by the hook.

The pages:
- `rules/<id>.md` (served at rules/<id>/): the rule's permanent home, the full card;
- `<section>.md`: the section as a dense table in teaching order, one row per rule, the row
  anchored at the rule's id (the published anchors `<section>/#<id>` land on it);
- `all-rules.md`, `verification.md`, `errata.md`, `concordance/<source>.md`;
- `rules/<old>/index.html`: a redirect page for every renamed id of `redirects`;
- `assets/mcref-search.json`: the documents of the site's search box.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from generator.render.cite import with_where_tex
from generator.render.plaintext import tex_to_text

__all__ = [
    "EXPORT_FORMAT",
    "LAYOUTS",
    "RESERVED_SLUGS",
    "SEARCH_DOCUMENTS",
    "SiteError",
    "VERIFIED_STATEMENT",
    "render_pages",
    "render_section_list",
    "render_verification_summary",
    "rule_path",
    "rule_url",
    "search_documents",
    "tex_to_text",
    "title_text",
]

EXPORT_FORMAT = "mcref-rules/1"
LAYOUTS = ("numerator", "denominator")
LAYOUT_LABELS = {"numerator": "Numerator layout", "denominator": "Denominator layout"}
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "site"
#: Where the search box finds its documents (relative to the site root).
SEARCH_DOCUMENTS = "assets/mcref-search.json"

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
        "rules",
        "rules.json",
        "concordance",
        "check",
    }
)

#: What a verdict of the listed-sizes kind means, printed when the export has no `statement`.
VERIFIED_STATEMENT = (
    "Exact symbolic equality at the sizes named plus numeric agreement at random points: "
    "strong evidence, not a proof for every size."
)

CONCORDANCE_TITLES = {
    "cookbook-2012": "The Matrix Cookbook (2012) and mcref",
    "wikipedia": "Wikipedia's matrix-calculus tables and mcref",
}
CONCORDANCE_STATUS = {
    "verified": "verified",
    "verified-corrected": "verified, corrected",
    "not-applicable": "not applicable",
}

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9.-]*\Z")
_INLINE_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")


class SiteError(ValueError):
    """The export (or the errata list) cannot be published; str() lists every problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("the site cannot be built from this export:\n" + "\n".join(f"  - {p}" for p in self.problems))


# --------------------------------------------------------------------------- templates


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["front"] = _front_value
    env.tests["typed_formula"] = _typed_formula
    return env


def _typed_formula(alias: object) -> bool:
    """An alias that is a formula as typed (x^T A x, X^{-T}, d(X^{-1})) rather than words: shown
    in code type, so a reader sees a spelling to search for, not mathematics left untypeset."""
    return bool(re.search(r"[\^_{}()'|/*@=]", str(alias)))


def _render(name: str, **context: Any) -> str:
    return _env().get_template(name).render(**context)


def _front_value(text: object) -> str:
    """A YAML (JSON) string for front matter. `<`, `>` and `&` are dropped because the theme
    prints the page title unescaped in <title>."""
    return Markup(json.dumps(re.sub(r"[<>&]", "", str(text)), ensure_ascii=False))


# --------------------------------------------------------------------------- text and math


def _segments(text: str, where: str, problems: list[str]) -> list[tuple[str, str]]:
    """`text` cut into ("text", ...) and ("math", tex) pieces at its `$...$` spans.

    LaTeX commands outside `$...$` would be printed raw, so they are reported as a
    problem of `where` instead.
    """
    out: list[tuple[str, str]] = []
    pos = 0
    for match in _INLINE_MATH.finditer(text):
        out.append(("text", _plain(text[pos : match.start()], where, problems)))
        out.append(("math", match.group(1).strip()))
        pos = match.end()
    out.append(("text", _plain(text[pos:], where, problems)))
    return [(kind, value) for kind, value in out if value]


def _plain(text: str, where: str, problems: list[str]) -> str:
    command = _TEX_COMMAND.search(text)
    if command:
        problems.append(f"{where}: LaTeX {command.group(0)} outside $...$ would be printed raw; put the math between $ signs")
    if "$" in text.replace("\\$", ""):
        problems.append(f"{where}: unbalanced $ (inline math is written $...$)")
    return text.replace("\\$", "$")


def title_text(rule: Mapping[str, Any], macros: Mapping[str, str] | None = None) -> str:
    """The title as plain Unicode text: the export's `title_text`, else the title with its
    `$...$` math read as text."""
    if rule.get("title_text"):
        return str(rule["title_text"])
    title = str(rule.get("title", ""))
    return _INLINE_MATH.sub(lambda m: tex_to_text(m.group(1), macros), title).replace("\\$", "$")


def _dim(d: object) -> str:
    """A dimension as text; a stacked length is parenthesised: 1 × (n+1), never 1 × n+1."""
    return f"({d})" if "+" in str(d) else str(d)


def _dims(shape: Sequence[object]) -> str:
    return " × ".join(_dim(d) for d in shape)


def _shape_text(shape: Sequence[object] | None) -> str:
    if shape is None:
        return ""
    if len(shape) == 0:
        return "scalar"
    if len(shape) == 1:
        return f"{_dim(shape[0])} × 1"
    return _dims(shape)


def _space(shape: Sequence[object]) -> str:
    if len(shape) == 0:
        return "\\mathbb{R}"
    return "\\mathbb{R}^{" + " \\times ".join(str(d) for d in shape) + "}"


def _sizes_text(sizes: Sequence[Mapping[str, object]]) -> str:
    parts = [", ".join(f"{k} = {v}" for k, v in size.items()) for size in sizes]
    return "; ".join(p if p else "scalars (no sizes)" for p in parts)


def _site_base(export: Mapping[str, Any]) -> str | None:
    base = export.get("site_url")
    if not base:
        return None
    base = str(base)
    return base if base.endswith("/") else base + "/"


def rule_path(rule_id: str) -> str:
    """The permanent page of a rule, relative to the site root (seam 3)."""
    return f"rules/{rule_id}/"


def rule_url(export: Mapping[str, Any], rule: Mapping[str, Any]) -> str:
    """The permanent link of a rule: the export's `url`, else site_url + rules/<id>/, else
    the path from the site root."""
    if rule.get("url"):
        return str(rule["url"])
    base = _site_base(export)
    path = str(rule.get("path") or rule_path(str(rule["id"])))
    return (base or "/") + path


def _rule_layouts(rule: Mapping[str, Any]) -> list[str]:
    """The layouts a rule has a formula in: one for a differential, both otherwise."""
    if rule.get("kind", "derivative") == "differential":
        return [str(rule.get("layout") or "numerator")]
    return list(LAYOUTS)


# --------------------------------------------------------------------------- checks


def _sections(export: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return sorted(export.get("sections") or [], key=lambda s: (s.get("order", 0), str(s.get("slug"))))


def _grouped(export: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Each section's rules in teaching order: the section's `rules` list when the export
    has one (seam 2), else the order of the export."""
    by_id = {str(r["id"]): r for r in export.get("rules") or []}
    listed = {str(s["slug"]): s["rules"] for s in export.get("sections") or [] if isinstance(s.get("rules"), list)}
    out: dict[str, list[Mapping[str, Any]]] = {slug: [by_id[i] for i in ids if i in by_id] for slug, ids in listed.items()}
    for rule in export.get("rules") or []:
        slug = str(rule.get("section"))
        if slug not in listed:
            out.setdefault(slug, []).append(rule)
    return out


def _section_by_slug(export: Mapping[str, Any], slug: str) -> Mapping[str, Any]:
    for section in export.get("sections") or []:
        if section.get("slug") == slug:
            return section
    return {}


def _retired(export: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """(old id, new id, the section the old id was published in or None) of every retired
    id whose target is a rule of the export: the export's `retired` list (seam 3), with the
    plain `redirects` map for the ids it does not name."""
    ids = {str(r.get("id")) for r in export.get("rules") or []}
    out: dict[str, tuple[str, str, str | None]] = {}
    for entry in export.get("retired") or []:
        if not isinstance(entry, Mapping) or str(entry.get("to")) not in ids:
            continue
        section = entry.get("section")
        out[str(entry.get("id"))] = (str(entry.get("id")), str(entry["to"]), str(section) if section else None)
    for old, new in (export.get("redirects") or {}).items():
        if str(new) in ids and str(old) not in out:
            out[str(old)] = (str(old), str(new), None)
    return [out[k] for k in sorted(out)]


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
    by_id = {str(r.get("id")): r for r in rules}
    for section in sections:
        listed = section.get("rules")
        if not isinstance(listed, list):
            continue
        slug = str(section.get("slug"))
        for rid in listed:
            if rid not in by_id:
                problems.append(f"section {slug}: lists rule {rid!r}, which is not in the export")
            elif by_id[rid].get("section") != slug:
                problems.append(f"section {slug}: lists rule {rid!r} of section {by_id[rid].get('section')!r}")
        for rule in rules:
            if rule.get("section") == slug and rule.get("id") not in listed:
                problems.append(f"section {slug}: rule {rule.get('id')!r} is not in its teaching order (rules: list)")
    for rule in rules:
        for other in rule.get("related") or []:
            if other not in ids:
                problems.append(f"rule {rule.get('id')}: related rule {other!r} is not in the export")
    for old, new in (export.get("redirects") or {}).items():
        if old in ids:
            problems.append(f"redirect {old} -> {new}: {old!r} is still a rule id; a redirect names an id that is gone")
        elif not _RULE_ID.match(str(old)):
            problems.append(f"redirect {old!r} must be lower-case letters, digits, - and .")
        if new not in ids:
            problems.append(f"redirect {old} -> {new}: {new!r} is not a rule of the export")
    redirects = export.get("redirects") or {}
    for entry in export.get("retired") or []:
        if not isinstance(entry, Mapping):
            problems.append(f"retired entry {entry!r} must be a mapping {{id, to, section}}")
            continue
        old, new, section = entry.get("id"), entry.get("to"), entry.get("section")
        if old in ids:
            problems.append(f"retired {old} -> {new}: {old!r} is still a rule id; a retired id names an id that is gone")
        elif not _RULE_ID.match(str(old)):
            problems.append(f"retired id {old!r} must be lower-case letters, digits, - and .")
        if new not in ids:
            problems.append(f"retired {old} -> {new}: {new!r} is not a rule of the export")
        if redirects and redirects.get(old) not in (None, new):
            problems.append(f"retired {old} -> {new}: redirects maps it to {redirects.get(old)!r}")
        if section is not None and (not _SLUG.match(str(section)) or str(section) in RESERVED_SLUGS):
            problems.append(f"retired {old}: its old section {section!r} is not a section slug "
                            "(lower-case letters, digits and -, not a page name)")
    counts = export.get("counts") or {}
    if counts.get("verified") != len(rules) or counts.get("total") != len(rules):
        problems.append(
            f"export counts {dict(counts)} do not match its {len(rules)} verified rules; a refuted or undecided rule must stop the build"
        )
    for entry in errata or []:
        target = entry.get("rule")
        if target and target not in ids:
            problems.append(f"erratum {entry.get('number')}: rule {target!r} is not a verified rule")
    for source, entries in (export.get("concordance") or {}).items():
        if not _SLUG.match(str(source)):
            problems.append(f"concordance {source!r}: the name must be lower-case letters, digits and -")
        for entry in entries or []:
            for rid in entry.get("rules") or []:
                if rid not in ids and rid not in (export.get("redirects") or {}):
                    problems.append(f"concordance {source}, {entry.get('ref')}: rule {rid!r} is not in the export")
    if problems:
        raise SiteError(problems)


# --------------------------------------------------------------------------- views


class _Ctx:
    """What the views of one export share: the rules by id, the macros, the redirects, and
    the problems found while rendering."""

    def __init__(self, export: Mapping[str, Any]) -> None:
        self.export = export
        self.by_id = {str(r["id"]): r for r in export.get("rules") or []}
        self.macros = dict(export.get("macros") or {})
        self.sections = {str(s["slug"]): s for s in export.get("sections") or []}
        self.redirected_from: dict[str, list[str]] = {}
        for old, new in sorted((export.get("redirects") or {}).items()):
            self.redirected_from.setdefault(str(new), []).append(str(old))
        #: old section slug -> the retired ids published there whose rule now lives in
        #: another section: their old anchors land on a "moved" row of that section's table
        self.moved: dict[str, list[tuple[str, str]]] = {}
        for old, new, section in _retired(export):
            if section and section != str(self.by_id[new]["section"]):
                self.moved.setdefault(section, []).append((old, new))
        self.problems: list[str] = []

    def segs(self, text: object, where: str) -> list[tuple[str, str]]:
        return _segments(str(text), where, self.problems)


#: The primes of the exact arithmetic, as a reader knows them.
_PRIMES = {2305843009213693951: "2^61 - 1", 4611686018427387847: "2^62 - 57"}


def _sizes_span(grid: Sequence[Mapping[str, object]]) -> str:
    """The size tuples of an all-sizes grid: all of them when few, else how many and the ends."""
    if not grid:
        return "one point (no dimension letters)"
    if len(grid) <= 6:
        return _sizes_text(grid)
    return f"{len(grid)} size tuples, from {_sizes_text(grid[:1])} to {_sizes_text(grid[-1:])}"


def _per_letter(values: object) -> str:
    if isinstance(values, Mapping):
        return ", ".join(f"{k} {v}" for k, v in values.items()) or "none"
    return str(values)


def _all_sizes_rows(detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What an all-sizes proof rests on, in words (seam 4's `all_sizes`)."""
    rows: list[tuple[str, str]] = []
    grid = detail.get("grid")
    if isinstance(grid, list) and all(isinstance(g, Mapping) for g in grid):
        rows.append(("Sizes that settle every size", _sizes_span(grid)))
    elif grid not in (None, ""):
        rows.append(("Sizes that settle every size", json.dumps(grid, ensure_ascii=False)))
    bounds = detail.get("bounds")
    if isinstance(bounds, Mapping) and {"B", "L", "U", "D"} <= set(bounds):
        degrees = bounds["L"]
        if isinstance(bounds["L"], Mapping) and isinstance(bounds["U"], Mapping):
            degrees = {k: bounds["L"].get(k, 0) + bounds["U"].get(k, 0) for k in bounds["L"]}
        rows.append(("Bounds of the proof", f"index values per letter (B): {_per_letter(bounds['B'])}; degree in each size "
                                            f"(L + U): {_per_letter(degrees)}; total degree D = {bounds['D']}"))
    elif bounds not in (None, "", {}):
        rows.append(("Bounds of the proof", json.dumps(bounds, ensure_ascii=False)))
    primes = detail.get("primes") or ([detail["prime"]] if detail.get("prime") not in (None, "") else [])
    if primes:
        rows.append(("Exact arithmetic", "modulo " + " and ".join(_PRIMES.get(p, str(p)) if isinstance(p, int) else str(p)
                                                                for p in primes)))
    if detail.get("seeds") not in (None, ""):
        rows.append(("Random points per size", str(detail["seeds"])))
    if detail.get("error_bound") not in (None, ""):
        rows.append(("Chance a false rule passes", f"less than {detail['error_bound']}"))
    return rows


def _split_statement(statement: str) -> tuple[str, str]:
    """The statement cut after its head, for the badge: "Proved for every size" + " (exact, ...)",
    "Verified at (m, n) = (2, 3) and (3, 2):" + " the all-sizes ...". The cut is after the first ": "
    outside brackets, else the first " (" outside brackets. Together they are the statement verbatim."""
    depth, paren = 0, -1
    for i, ch in enumerate(statement):
        if ch == "(":
            if depth == 0 and paren < 0 and i > 0 and statement[i - 1] == " ":
                paren = i - 1
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ":" and depth == 0 and statement[i + 1 : i + 2] == " " and i > 0:
            return statement[: i + 1], statement[i + 1 :]
    if paren > 0:
        return statement[:paren], statement[paren:]
    return statement, ""


def _verification_view(rule: Mapping[str, Any]) -> dict[str, Any]:
    v = rule.get("verification") or {}
    scope = str(v.get("scope") or "listed-sizes")
    all_sizes = scope == "all-sizes"
    if v.get("statement"):
        statement = str(v["statement"])
        badge, rest = _split_statement(statement)
    else:  # an export of an engine without seam 4: the old detail text, as listed sizes
        statement = str(v.get("detail") or VERIFIED_STATEMENT)
        badge, rest = "Verified at the listed sizes", " " + statement
    detail = v.get("all_sizes") if isinstance(v.get("all_sizes"), Mapping) else None
    grid = (detail or {}).get("grid")
    scalars_only = all_sizes and isinstance(grid, list) and all(isinstance(g, Mapping) and not g for g in grid)
    rows: list[tuple[str, str]] = []
    if scalars_only:  # nothing has a size: "proved" is the whole story
        rows.append(("Scope", "proved (every symbol is a scalar: there are no sizes)"))
    else:
        rows.append(("Scope", "every size (proved)" if all_sizes else "the sizes listed below"))
    if not all_sizes and v.get("reason"):
        rows.append(("Why not every size", str(v["reason"])))
    if all_sizes and detail:
        rows.extend(row for row in _all_sizes_rows(detail)
                    if not (scalars_only and row[0] in ("Sizes that settle every size", "Bounds of the proof")))
    if v.get("sizes") is not None:
        label = "Witness sizes (SymPy, finite differences)" if all_sizes else "Sizes checked exactly"
        rows.append((label, _sizes_text(v.get("sizes") or [])))
    if v.get("layouts"):
        rows.append(("Layouts checked", ", ".join(str(x) for x in v["layouts"])))
    if v.get("numeric_points") not in (None, ""):
        rows.append(("Numeric points", str(v["numeric_points"])))
    if v.get("max_rel_error") not in (None, ""):
        rows.append(("Largest relative error", str(v["max_rel_error"])))
    # the engine's own version (part of the verdict cache key), not mcref's: "mcref 0.5.0" beside a
    # citation of "mcref version 0.1.0" read as two versions of mcref
    engine = f"verification engine {v.get('engine', '')}"
    if v.get("sympy"):
        engine += f", SymPy {v['sympy']}"
    rows.append(("Engine", engine))
    return {
        "all_sizes": all_sizes,
        "badge": badge,
        "rest": rest,
        "statement": statement,
        # the engine's own paragraph, unless the rows below say it all (a proof: its grid, bounds,
        # prime and witnesses each have a row; the paragraph would list every size tuple again)
        "detail": (str(v.get("detail") or "") if v.get("statement") and v.get("detail") != v.get("statement")
                   and not (all_sizes and detail) else ""),
        "rows": rows,
    }


def _cite_view(ctx: _Ctx, rule: Mapping[str, Any]) -> dict[str, Any]:
    cite = rule.get("cite")  # the export's cite forms (generator/render/cite.py), printed as they are
    if isinstance(cite, Mapping) and cite.get("bibtex"):
        return {
            "text": str(cite.get("text") or ""),
            "bibtex": str(cite.get("bibtex") or ""),
            "biblatex": str(cite.get("biblatex") or ""),
            "markdown": str(cite.get("markdown") or ""),
            "url": str(cite.get("url") or ""),
            "key": str(cite.get("key") or f"mcref:{rule['id']}"),
        }
    raise SiteError([f"rule {rule['id']}: the export has no cite forms (an export of mcref before seam 5?)"])


def _forms(ctx: _Ctx, rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    latex = rule["latex"]
    standalone = latex.get("standalone") if isinstance(latex.get("standalone"), Mapping) else {}
    result_shape = rule.get("result_shape") or {}
    forms = []
    for layout in _rule_layouts(rule):
        tex = f"{latex['derivative']} = {latex[layout]}"
        # the copied formula carries its where lines: without them P, dP, x̂ ... are undefined on a slide
        if standalone and standalone.get(layout):
            equation, where = str(standalone[layout]), standalone.get("where") or []
        else:
            equation, where = tex, latex.get("where") or []
        copy = with_where_tex(equation, [w for w in where if isinstance(w, Mapping) and w.get("name")])
        forms.append(
            {
                "layout": layout,
                "label": LAYOUT_LABELS[layout] if rule.get("kind", "derivative") != "differential" else "Differential (the same in both layouts)",
                "tex": tex,
                "latex_copy": copy,
                "shape": _shape_text(result_shape.get(layout)),
                "own": layout == rule.get("layout"),
            }
        )
    return forms


def _where(rule: Mapping[str, Any]) -> list[str]:
    return [f"{w['name']} = {w['value']}" for w in (rule.get("latex") or {}).get("where") or [] if w.get("name")]


def _symbols(ctx: _Ctx, rule: Mapping[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, sym in (rule.get("symbols") or {}).items():
        shape = sym.get("shape") or []
        tex = str(sym.get("latex") or name)
        words = "scalar" if not shape else (f"column vector, {shape[0]} × 1" if len(shape) == 1 else f"matrix, {_dims(shape)}")
        out.append({"tex": f"{tex} \\in {_space(shape)}", "words": words,
                    "text": f"{tex_to_text(tex, ctx.macros)}: {_shape_text(shape)}"})
    for name, fn in (rule.get("functions") or {}).items():
        args = fn.get("args") or []
        dom = " \\times ".join(_space(a) for a in args) or "\\mathbb{R}"
        tex = str(fn.get("latex") or name)
        out.append({"tex": f"{tex} : {dom} \\to {_space(fn.get('to') or [])}", "words": "any differentiable function",
                    "text": f"{tex_to_text(tex, ctx.macros)}: {' × '.join(_shape_text(a) for a in args) or 'scalar'} → {_shape_text(fn.get('to') or [])}"})
    return out


#: How a condition written in words says what an `assume` property says (so it is not repeated).
_ASSUME_WORDS = {
    "positive": ("> 0", "positive", "> 0"),
    "nonzero": ("≠ 0", "!= 0", "nonzero", "non-zero", "≠0", " is 0", "not 0"),
    "invertible": ("invertible", "nonsingular", "non-singular"),
    "spd": ("positive definite", "spd"),
    "symmetric": ("symmetric", "spd"),
    "probability": ("probability", "sum to 1", "sums to 1"),
}


def _conditions(rule: Mapping[str, Any]) -> list[str]:
    """The rule's conditions in words, then each `assume` property the words do not already say
    ("a > 0" says "a positive"; "X invertible" says "X invertible")."""
    parts = []
    conditions = rule.get("conditions")
    if conditions not in (None, "", "none"):
        parts.append(str(conditions))
    said = " ".join(parts)
    for sym, props in (rule.get("assume") or {}).items():
        # a symbol is named by its identifier (epsilon), as it prints (ε) or as a word (lambda for lam)
        shown = _symbol_text(rule, str(sym))
        names = {str(sym), shown, _SPELLED.get(str(sym), str(sym))}
        named = any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", said) for n in names if n)
        missing = [str(p) for p in props
                   if not (named and any(w in said for w in _ASSUME_WORDS.get(str(p), (str(p),))))]
        if missing:
            parts.append(f"{shown} {', '.join(missing)}")
    return parts


#: Identifiers that the rule language spells otherwise than a writer does (lambda is a Python keyword).
_SPELLED = {"lam": "lambda"}


def _symbol_text(rule: Mapping[str, Any], sym: str) -> str:
    """The symbol as it prints, in plain text (epsilon -> ε, sigma_q -> σ_q); its identifier when unknown."""
    decl = (rule.get("symbols") or {}).get(sym)
    tex = decl.get("latex") if isinstance(decl, Mapping) else None
    if not tex:
        return sym
    try:
        return tex_to_text(str(tex), {}) or sym
    except Exception:  # noqa: BLE001 - only a nicer name; the identifier always reads
        return sym


def _rule_view(ctx: _Ctx, rule: Mapping[str, Any]) -> dict[str, Any]:
    rid = str(rule["id"])
    where = f"rule {rid}"
    section = ctx.sections.get(str(rule["section"]), {})
    example = None
    ex = rule.get("example")
    if ex:
        latex = ex.get("latex") or {}
        layout = str(rule.get("layout") or "numerator")
        tex = ""
        if latex.get("derivative") and (latex.get(layout) or latex.get("expect")):
            tex = f"{latex['derivative']} = {latex.get(layout) or latex.get('expect')}"
        example = {
            "text": ctx.segs(ex.get("text") or "", f"{where}: example"),
            "tex": tex,
            "where": [f"{w['name']} = {w['value']}" for w in latex.get("where") or [] if w.get("name")],
            "code": None if tex else (str(ex.get("of", "")), str(ex.get("wrt", rule.get("wrt", ""))), str(ex.get("expect", ""))),
        }
    latex = rule.get("latex") or {}
    forms = _forms(ctx, rule)
    by_layout = {f["layout"]: f for f in forms}
    result_shape = rule.get("result_shape") or {}
    cells = [{"layout": lay, "tex": (by_layout.get(lay) or forms[0])["tex"], "shape": _shape_text(result_shape.get(lay))}
             for lay in LAYOUTS]
    return {
        "id": rid,
        "path": str(rule.get("path") or rule_path(rid)),
        "url": rule_url(ctx.export, rule),
        # the public address when the site has one; else the page says its own (mcref.js)
        "public_url": rule_url(ctx.export, rule) if (rule.get("url") or _site_base(ctx.export)) else "",
        "title": ctx.segs(rule["title"], f"{where}: title"),
        "title_text": title_text(rule, ctx.macros),
        "section_slug": str(rule["section"]),
        "section_title": str(section.get("title", rule["section"])),
        "differential": rule.get("kind", "derivative") == "differential",
        "forms": forms,
        "cells": cells,
        "same": cells[0]["tex"] == cells[1]["tex"],
        "where": _where(rule),
        "display": str(latex["display"]) if latex.get("display") else "",
        "symbols": _symbols(ctx, rule),
        "conditions": _conditions(rule),
        "verification": _verification_view(rule),
        "notes": ctx.segs(rule.get("notes") or "", f"{where}: notes"),
        "example": example,
        "aliases": [str(a) for a in rule.get("aliases") or []],
        "sources": [str(s.get("text") or s.get("ref")) for s in rule.get("sources") or []],
        "related": [
            {"id": other, "path": str(ctx.by_id[other].get("path") or rule_path(other)),
             "title": ctx.segs(ctx.by_id[other]["title"], f"rule {other}: title")}
            for other in rule.get("related") or [] if other in ctx.by_id
        ],
        "tags": [str(t) for t in rule.get("tags") or []],
        "cite": _cite_view(ctx, rule),
        "redirected_from": ctx.redirected_from.get(rid, []),
        "moved_to": None,
        "new_id": rid,
    }


# --------------------------------------------------------------------------- pages


def _moved_rows(ctx: _Ctx, slug: str) -> list[dict[str, Any]]:
    """The rows that keep the retired anchors of section `slug` working: each shows the rule
    the old id now is (its title, formula, shapes), anchored at the old id, and says where
    the rule lives now."""
    rows = []
    for old, new in ctx.moved.get(slug, []):
        view = dict(_rule_view(ctx, ctx.by_id[new]))
        target = ctx.sections.get(view["section_slug"], {})
        view.update(
            id=old,
            new_id=new,
            redirected_from=[],
            moved_to={"slug": view["section_slug"], "title": str(target.get("title", view["section_slug"]))},
        )
        rows.append(view)
    return rows


def _section_page(ctx: _Ctx, section: Mapping[str, Any], rules: Sequence[Mapping[str, Any]]) -> str:
    return _render(
        "section.md.j2",
        section={"slug": str(section["slug"]), "title": str(section["title"]), "summary": str(section.get("summary") or "")},
        rows=[_rule_view(ctx, r) for r in rules],
        moved=_moved_rows(ctx, str(section["slug"])),
        depth=1,
    )


def _rule_page(ctx: _Ctx, rule: Mapping[str, Any], position: int, count: int,
               neighbours: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]) -> str:
    view = _rule_view(ctx, rule)
    prev, nxt = neighbours
    return _render(
        "rule.md.j2",
        rule=view,
        position=position,
        count=count,
        prev=({"path": str(prev.get("path") or rule_path(str(prev["id"]))), "title": title_text(prev, ctx.macros)} if prev else None),
        next=({"path": str(nxt.get("path") or rule_path(str(nxt["id"]))), "title": title_text(nxt, ctx.macros)} if nxt else None),
        depth=2,
    )


def _index_page(ctx: _Ctx, sections: Sequence[Mapping[str, Any]], grouped: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    groups = []
    for section in sections:
        rules = grouped.get(str(section["slug"]), [])
        if rules:
            groups.append({"slug": str(section["slug"]), "title": str(section["title"]), "rows": [_rule_view(ctx, r) for r in rules]})
    return _render("index.md.j2", groups=groups, total=sum(len(g["rows"]) for g in groups), depth=1)


def _verification_page(ctx: _Ctx, sections: Sequence[Mapping[str, Any]], grouped: Mapping[str, Sequence[Mapping[str, Any]]],
                       theory: str | None) -> str:
    export = ctx.export
    groups = []
    listed_rows = []
    for section in sections:
        rows = []
        for rule in grouped.get(str(section["slug"]), []):
            view = _verification_view(rule)
            v = rule.get("verification") or {}
            row = {"id": str(rule["id"]), "path": str(rule.get("path") or rule_path(str(rule["id"]))),
                   "title": title_text(rule, ctx.macros), "section": str(section["title"]),
                   "all_sizes": view["all_sizes"], "statement": view["statement"], "reason": str(v.get("reason") or ""),
                   "sizes": _sizes_text(v.get("sizes") or [])}
            rows.append(row)
            if not row["all_sizes"]:
                listed_rows.append(row)
        if rows:
            groups.append({"slug": str(section["slug"]), "title": str(section["title"]), "rows": rows})
    total = sum(len(g["rows"]) for g in groups)
    counts = dict(export.get("counts") or {})
    all_sizes = counts.get("all_sizes")
    if all_sizes is None:
        all_sizes = total - len(listed_rows)
    return _render(
        "verification.md.j2",
        export={"version": str(export.get("version", "")), "build_date": str(export.get("build_date", "")),
                "engine": str(export.get("engine", "")), "sympy": str(export.get("sympy", ""))},
        counts=[(k, counts.get(k, 0)) for k in ("verified", "refuted", "undecided", "total")],
        all_sizes=all_sizes,
        listed=total - all_sizes,
        total=total,
        groups=groups,
        listed_rows=listed_rows,
        theory=theory or "",
        depth=1,
    )


#: The sources an errata list may belong to: (label of the source's form, heading, anchor prefix).
ERRATA_SOURCES = {
    "paper": ("The paper", "Parr and Howard, The Matrix Calculus You Need For Deep Learning", "erratum"),
    "cookbook": ("The Cookbook", "The Matrix Cookbook (2012 edition)", "cookbook-erratum"),
}


def _erratum_view(ctx: _Ctx, entry: Mapping[str, Any], source: str) -> dict[str, Any]:
    number = str(entry.get("number", ""))
    where = f"erratum {number}" if source == "paper" else f"{source} erratum {number}"

    def field(name: str) -> list[tuple[str, str]]:
        value = entry.get(name)
        if value in (None, ""):
            return []
        return ctx.segs(value, f"{where}, field {name}")

    rule = ctx.by_id.get(str(entry.get("rule"))) if entry.get("rule") else None
    prefix = ERRATA_SOURCES.get(source, ("", "", f"{source}-erratum"))[2]
    return {
        "anchor": f"{prefix}-{re.sub(r'[^a-z0-9-]+', '-', number.lower()).strip('-') or 'x'}",
        "number": number,
        "title": ctx.segs(entry.get("title", ""), f"{where}, field title"),
        "where": field("where"),
        "source_form": field(source),
        "source_label": ERRATA_SOURCES.get(source, (source.capitalize(),))[0],
        "problem": field("problem"),
        "correction": field("correction"),
        "note": field("note"),
        "rule": _rule_view(ctx, rule) if rule is not None else None,
    }


def _errata_page(ctx: _Ctx, errata: Sequence[Mapping[str, Any]],
                 cookbook_errata: Sequence[Mapping[str, Any]] | None = None) -> str:
    groups = [{"source": "paper", "heading": ERRATA_SOURCES["paper"][1],
               "entries": [_erratum_view(ctx, e, "paper") for e in errata]}]
    if cookbook_errata:
        groups.append({"source": "cookbook", "heading": ERRATA_SOURCES["cookbook"][1],
                       "entries": [_erratum_view(ctx, e, "cookbook") for e in cookbook_errata]})
    return _render("errata.md.j2", groups=groups, depth=1)


def _concordance_page(ctx: _Ctx, source: str, entries: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    counts: dict[str, int] = {}
    numbers: dict[str, int] = {}
    redirects = ctx.export.get("redirects") or {}
    info = (ctx.export.get("concordance_sources") or {}).get(source) or {}
    for entry in entries:
        status = str(entry.get("status", ""))
        counts[status] = counts.get(status, 0) + 1
        number = str(entry.get("number") or "")
        if number:
            numbers[number] = numbers.get(number, 0) + 1
        where = f"concordance {source}, {entry.get('ref')}"
        links = []
        for rid in entry.get("rules") or []:
            target = ctx.by_id.get(str(redirects.get(rid, rid)))
            if target is not None:
                links.append({"id": str(target["id"]), "path": str(target.get("path") or rule_path(str(target["id"]))),
                              "title": ctx.segs(target["title"], f"rule {target['id']}: title")})
        erratum = entry.get("erratum") if isinstance(entry.get("erratum"), Mapping) else None
        rows.append(
            {
                "ref": str(entry.get("ref", "")),
                "anchor": "eq-" + (re.sub(r"[^a-z0-9]+", "-", str(entry.get("ref", "")).lower()).strip("-") or "x"),
                "formula": str(entry.get("formula") or ""),
                "status": status,
                "status_text": CONCORDANCE_STATUS.get(status, status),
                "number": number,
                "confirmed_by": str(entry.get("confirmed_by") or ""),
                "note": ctx.segs(entry.get("note") or "", f"{where}: note"),
                "rules": links,
                "erratum": ({"number": str(erratum.get("number", "")),
                             "anchor": f"cookbook-erratum-{erratum.get('number')}" if source.startswith("cookbook")
                             else f"erratum-{erratum.get('number')}"} if erratum else None),
            }
        )
    # Row labels "<table> <n>" (Wikipedia's tables) are grouped under their table's name; plain
    # numbers (the Cookbook's equations) stay one list.
    labelled = [re.fullmatch(r"(.*[A-Za-z].*?) (\S+)", r["ref"]) for r in rows]
    groups: list[dict[str, Any]] = []
    if rows and all(labelled):
        for row, match in zip(rows, labelled):
            assert match is not None
            row["short"] = match.group(2)
            if not groups or groups[-1]["title"] != match.group(1):
                groups.append({"title": match.group(1), "anchor": "table-" + re.sub(r"[^a-z0-9]+", "-", match.group(1).lower()).strip("-"),
                               "rows": []})
            groups[-1]["rows"].append(row)
    else:
        for row in rows:
            row["short"] = row["ref"]
        groups = [{"title": "", "anchor": "", "rows": rows}]
    return _render(
        "concordance.md.j2",
        source=source,
        groups=groups,
        corrected=counts.get("verified-corrected", 0),
        title=CONCORDANCE_TITLES.get(source, str(info.get("title") or f"Concordance: {source}")),
        citation=str(info.get("citation") or ""),
        rows=rows,
        counts=[(CONCORDANCE_STATUS.get(k, k), counts[k]) for k in ("verified", "verified-corrected", "not-applicable") if counts.get(k)]
        + [(CONCORDANCE_STATUS.get(k, k), v) for k, v in sorted(counts.items())
           if k not in ("verified", "verified-corrected", "not-applicable")],
        numbers=numbers,
        depth=2,
    )


def _redirect_page(ctx: _Ctx, old: str, new: str) -> str:
    target = ctx.by_id[new]
    return _render("redirect.html.j2", old=old, new=new, title=title_text(target, ctx.macros),
                   url=rule_url(ctx.export, target) if (target.get("url") or _site_base(ctx.export)) else f"../{new}/")


def concordance_pages(export: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(title, page path) of the concordance pages the export has, for the navigation."""
    return [(CONCORDANCE_TITLES.get(str(s), f"Concordance: {s}"), f"concordance/{s}.md")
            for s, entries in sorted((export.get("concordance") or {}).items()) if entries]


def render_section_list(export: Mapping[str, Any], depth: int = 0) -> str:
    """An HTML list of the sections with rules, for the home page."""
    grouped = _grouped(export)
    items = [
        {"slug": str(s["slug"]), "title": str(s["title"]), "summary": str(s.get("summary") or ""),
         "count": len(grouped.get(str(s["slug"]), []))}
        for s in _sections(export)
    ]
    return _render("section_list.html.j2", sections=[i for i in items if i["count"]], root="../" * depth)


def render_verification_summary(export: Mapping[str, Any]) -> str:
    """The home page's paragraph on verification (Markdown): how many rules are proved for
    every size, from the export (an export without seam 4 says "listed sizes" for all)."""
    rules = export.get("rules") or []
    proved = sum(1 for r in rules if (r.get("verification") or {}).get("scope") == "all-sizes")
    counts = export.get("counts") or {}
    all_sizes = int(counts.get("all_sizes", proved) or 0)
    return _render("verification_summary.md.j2", all_sizes=all_sizes, total=len(rules), listed=len(rules) - all_sizes,
                   root="").strip() + "\n"


def render_pages(export: Mapping[str, Any], errata: Sequence[Mapping[str, Any]] | None = None,
                 theory: str | None = None, cookbook_errata: Sequence[Mapping[str, Any]] | None = None) -> dict[str, str]:
    """Render every generated file: a page per rule, a table per section with rules, the
    index of all rules, the verification report (with `theory`, the Markdown of
    site/verification-theory.md, when given), the errata page (when `errata`, the paper's, or
    `cookbook_errata` is given),
    a concordance page per source of the export, a redirect page per renamed id and the
    search documents.

    Raises SiteError, listing every problem, when the export holds a rule that is not
    verified, refers to an unknown section or rule, or would print raw LaTeX.
    """
    _check(export, list(errata or []) + [dict(e, number=f"cookbook {e.get('number')}") for e in cookbook_errata or []])
    ctx = _Ctx(export)
    sections = _sections(export)
    grouped = _grouped(export)
    pages: dict[str, str] = {}
    for section in sections:
        slug = str(section["slug"])
        rules = grouped.get(slug, [])
        if not rules:
            continue
        pages[f"{slug}.md"] = _section_page(ctx, section, rules)
        for i, rule in enumerate(rules):
            neighbours = (rules[i - 1] if i > 0 else None, rules[i + 1] if i + 1 < len(rules) else None)
            pages[f"rules/{rule['id']}.md"] = _rule_page(ctx, rule, i + 1, len(rules), neighbours)
    # A section that is gone (or has no rules left) keeps its page for its old anchors.
    for slug in sorted(ctx.moved):
        if f"{slug}.md" not in pages:
            section = ctx.sections.get(slug) or {"slug": slug, "title": slug.replace("-", " ").capitalize(), "summary": ""}
            pages[f"{slug}.md"] = _section_page(ctx, section, [])
    pages["all-rules.md"] = _index_page(ctx, sections, grouped)
    pages["verification.md"] = _verification_page(ctx, sections, grouped, theory)
    if errata is not None or cookbook_errata:
        pages["errata.md"] = _errata_page(ctx, errata or [], cookbook_errata)
    for _title, path in concordance_pages(export):
        source = path[len("concordance/") : -len(".md")]
        pages[path] = _concordance_page(ctx, source, export["concordance"][source])
    for old, new in sorted((export.get("redirects") or {}).items()):
        pages[f"rules/{old}/index.html"] = _redirect_page(ctx, str(old), str(new))
    pages[SEARCH_DOCUMENTS] = json.dumps(search_documents(export), ensure_ascii=False, separators=(",", ":")) + "\n"
    if ctx.problems:
        raise SiteError(ctx.problems)
    return pages


# --------------------------------------------------------------------------- search documents


def search_documents(export: Mapping[str, Any]) -> dict[str, Any]:
    """The documents of the site's search box (site/assets/js/mcref-search.js indexes them
    with MiniSearch in the browser; its normaliser runs on both these fields and the query).

    One document per rule, in teaching order (`r` is the position, a tie-breaker), and one
    per section page. Previews are the formula in each layout as plain text (`pn`, `pd`).
    """
    macros = dict(export.get("macros") or {})
    grouped = _grouped(export)
    redirects: dict[str, list[str]] = {}
    for old, new in (export.get("redirects") or {}).items():
        redirects.setdefault(str(new), []).append(str(old))
    docs: list[dict[str, Any]] = []
    rank = 0
    for section in _sections(export):
        slug = str(section["slug"])
        rules = grouped.get(slug, [])
        if not rules:
            continue
        docs.append({"k": "s", "id": slug, "t": str(section["title"]), "u": f"{slug}/",
                     "x": str(section.get("summary") or ""), "n": len(rules)})
        for rule in rules:
            rid = str(rule["id"])
            latex = rule["latex"]
            layouts = _rule_layouts(rule)
            preview = {lay: tex_to_text(f"{latex['derivative']} = {latex[lay]}", macros) for lay in layouts}
            where = [tex_to_text(f"{w['name']} = {w['value']}", macros) for w in latex.get("where") or [] if w.get("name")]
            docs.append(
                {
                    "k": "r",
                    "id": rid,
                    "t": title_text(rule, macros),
                    "u": str(rule.get("path") or rule_path(rid)),
                    "s": str(section["title"]),
                    "a": [str(a) for a in rule.get("aliases") or []],
                    "g": [str(t) for t in rule.get("tags") or []],
                    "f": [str(rule.get("of") or "")] + [str(w.get("expr", "")) for w in rule.get("where") or [] if isinstance(w, Mapping)],
                    "w": str(rule.get("wrt") or ""),
                    "x": re.sub(r"\s+", " ", _INLINE_MATH.sub(lambda m: tex_to_text(m.group(1), macros), str(rule.get("notes") or ""))).strip(),
                    "pn": preview.get("numerator") or preview[layouts[0]],
                    "pd": preview.get("denominator") or preview[layouts[0]],
                    "pw": where,
                    "o": redirects.get(rid, []),
                    "r": rank,
                    # a second derivative: the search prefers first-order rules unless asked
                    **({"d": 2} if rule.get("order") == 2 else {}),
                }
            )
            rank += 1
    return {"format": "mcref-search/1", "docs": docs}
