"""Sheet files: which rules a printed sheet holds, in which order and groups (sheets/README.md).

A sheet file is YAML, read like a rule file (generator.engine.load: no anchors, tags or duplicate
keys, at most 256 KB). Two pure steps:

- `parse_sheet(doc)` checks the fields and returns a `SheetSpec` (what the file asks for),
  or problems;
- `resolve_sheet(spec, export)` turns the ids, sections and tags into the rules of the
  export, in order, and returns a `Sheet`, or problems (an unknown id, section or tag
  comes with a did-you-mean).

`read_sheet(path, export)` does both and raises SheetError with every problem, each as
`path:line:col: MSnnn message`. `reference_sheet(export)` is the complete reference: every
rule, one group per section. Nothing in a sheet file is executed: its text is printed
literally (generator.render.texescape), its ids only select rules of the export.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.engine.load import Document, read_yaml
from generator.engine.problems import display_path
from generator.render.texescape import TexError, latex_escape

__all__ = [
    "CODES",
    "LAYOUTS",
    "PAPERS",
    "Group",
    "Sheet",
    "SheetError",
    "SheetProblem",
    "SheetSpec",
    "parse_sheet",
    "read_sheet",
    "reference_sheet",
    "resolve_sheet",
    "suggestions",
]

LAYOUTS = ("numerator", "denominator")
PAPERS = ("a4", "letter")
ORIENTATIONS = ("landscape", "portrait")
STYLES = ("cards", "table")
HEADINGS = ("sections", "none")
MAX_ENTRIES = 2000  # ids, sections or tags in one list; the corpus has a few hundred rules
MAX_TEXT = 200  # characters of a title, subtitle, heading or note
MAX_GROUPS = 100
MAX_SHOWN = 25  # problems printed before "... and N more"
DEFAULT_FONT_SIZE = 8.5  # points: formulas legible in print (the bar is 7)
REFERENCE_FONT_SIZE = 8.0

# Every code a sheet file may get; sheets/README.md has the same table.
CODES: dict[str, str] = {
    "MS001": "the file cannot be read, is missing, too large or not UTF-8",
    "MS002": "the file is not valid YAML",
    "MS003": "YAML anchors, aliases, tags or duplicate keys are not allowed",
    "MS004": "the file is empty or not a mapping",
    "MS010": "a required field is missing",
    "MS011": "an unknown field",
    "MS012": "a field has the wrong type or value",
    "MS013": "an unknown rule id",
    "MS014": "an unknown section",
    "MS015": "an unknown tag",
    "MS016": "a rule is listed twice",
    "MS017": "an exclusion that excludes nothing",
    "MS018": "a selected rule is not verified",
    "MS019": "the sheet or a group selects no rule",
    "MS020": "a list is too long",
    "MS021": "text that pdfLaTeX cannot print",
    "MS022": "the sheet takes more pages than its `pages` allows",
}
# The codes generator.engine.load gives any YAML file, and the sheet codes they become.
_LOAD_CODES = {"MC001": "MS001", "MC002": "MS002", "MC003": "MS003", "MC004": "MS004", "MC012": "MS012"}


@dataclass(frozen=True, order=True)
class SheetProblem:
    """One thing wrong with a sheet file, at a 1-based line and column."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown sheet problem code {self.code}")

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


class SheetError(Exception):
    """The sheet file cannot be used; str() lists every problem, one per line."""

    def __init__(self, problems: Sequence[SheetProblem]) -> None:
        self.problems = sorted(set(problems))
        lines = [p.format() for p in self.problems[:MAX_SHOWN]]
        if len(self.problems) > MAX_SHOWN:
            lines.append(f"... and {len(self.problems) - MAX_SHOWN} more problem(s) in {self.problems[0].path}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class GroupSpec:
    """A group as the file writes it."""

    heading: str | None
    note: str
    compact: bool
    rules: tuple[tuple[str, tuple[int, int]], ...]
    sections: tuple[tuple[str, tuple[int, int]], ...]
    tags: tuple[tuple[str, tuple[int, int]], ...]
    exclude: tuple[tuple[str, tuple[int, int]], ...]
    at: tuple[int, int]
    where: str  # "groups[2]" or "the sheet"


@dataclass(frozen=True)
class SheetSpec:
    """What a sheet file asks for, checked for form but not yet against the rules."""

    source: str
    title: str
    subtitle: str
    layout: str
    paper: str
    orientation: str
    style: str
    columns: int
    details: bool
    font_size: float
    pages: int | None
    headings: str
    groups: tuple[GroupSpec, ...]
    exclude: tuple[tuple[str, tuple[int, int]], ...]
    grouped: bool
    pages_at: tuple[int, int] = (1, 1)


@dataclass(frozen=True)
class Group:
    """A run of rules under one heading (None: no heading); `compact` runs the formulas on."""

    heading: str | None
    note: str
    compact: bool
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Sheet:
    """A sheet ready to print: text fields as written (printing escapes them), rules by id."""

    source: str
    title: str
    subtitle: str
    layout: str
    paper: str
    orientation: str
    style: str
    columns: int
    details: bool
    pages: int | None
    groups: tuple[Group, ...]
    font_size: float = 8.5
    pages_at: tuple[int, int] = (1, 1)
    redirected: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def ids(self) -> list[str]:
        return [rid for g in self.groups for rid in g.ids]


# ---------------------------------------------------------------------------------------
# Reading and checking the fields

_TOP_FIELDS = ("title", "subtitle", "layout", "paper", "orientation", "style", "columns", "details", "font_size", "pages",
               "headings",
               "rules", "sections", "tags", "exclude", "groups")
_GROUP_FIELDS = ("heading", "note", "compact", "rules", "sections", "tags", "exclude")
_SELECTORS = ("rules", "sections", "tags")


def _kind(value: Any) -> str:
    return {list: "a list", dict: "a mapping", str: "a string", int: "a number", float: "a number",
            bool: "true or false", type(None): "nothing"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _kind(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _distance(a: str, b: str, limit: int = 3) -> int:
    """Edit distance counting a swap of two neighbours as one edit (optimal string alignment)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def suggestions(word: str, known: Sequence[str], n: int = 3) -> list[str]:
    """The known words closest to `word`: the nearest typos (swapped, missing, extra or wrong letters), else look-alikes."""
    near = sorted((d, k) for k in known if (d := _distance(word, k)) <= 2)
    if near:
        return [k for d, k in near if d == near[0][0]][:n]
    return difflib.get_close_matches(word, list(known), n=n, cutoff=0.6)


def _hint(word: str, known: Sequence[str]) -> str:
    close = suggestions(word, known)
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"


class _Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[SheetProblem] = []

    def add(self, keys: tuple[Any, ...], code: str, message: str, *, key: bool = False) -> None:
        line, col = self.doc.key_at(*keys) if key else self.doc.at(*keys)
        self.problems.append(SheetProblem(self.doc.shown, line, col, code, message))

    @staticmethod
    def name(keys: tuple[Any, ...]) -> str:
        out = ""
        for k in keys:
            out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
        return out or "the sheet"

    def text(self, data: Mapping[str, Any], keys: tuple[Any, ...], key: str, *, required: bool = False) -> str:
        value = data.get(key)
        where = keys + (key,)
        if value is None:
            if required:
                self.add(keys, "MS010", f"{self.name(where)} must be present: the text printed at the top of the sheet (found it missing)")
            elif key in data:
                self.add(where, "MS012", f"{self.name(where)} must be text (found nothing)")
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # `subtitle: 2026` is meant as text
        if not isinstance(value, str):
            self.add(where, "MS012", f"{self.name(where)} must be text (found {_kind(value)})")
            return ""
        value = " ".join(value.split())
        if not value and required:
            self.add(where, "MS012", f"{self.name(where)} must not be empty")
        if len(value) > MAX_TEXT:
            self.add(where, "MS012", f"{self.name(where)} must be at most {MAX_TEXT} characters (found {len(value)})")
            return ""
        try:
            latex_escape(value)
        except TexError as err:
            detail = str(err).split(" in ", 1)[0]
            self.add(where, "MS021", f"{self.name(where)} must be printable by pdfLaTeX ({detail}); write it in ASCII")
            return ""
        return value

    def choice(self, data: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> str:
        value = data.get(key, default)
        if value not in choices:
            self.add((key,), "MS012", f"{key} must be one of {', '.join(choices)} (found {_show(value)}{_hint(str(value), choices)})")
            return default
        return str(value)

    def integer(self, data: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
        if key not in data:
            return None
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add((key,), "MS012", f"{key} must be a whole number from {low} to {high} (found {_show(value) if not isinstance(value, int) or isinstance(value, bool) else value})")
            return None
        return value

    def words(self, data: Mapping[str, Any], keys: tuple[Any, ...], key: str) -> tuple[tuple[str, tuple[int, int]], ...]:
        """A list of ids, slugs or tags (a single word is accepted as a list of one)."""
        if key not in data:
            return ()
        value = data[key]
        where = keys + (key,)
        if isinstance(value, str):
            return ((value, self.doc.at(*where)),)
        if not isinstance(value, list):
            self.add(where, "MS012", f"{self.name(where)} must be a list of {'rule ids' if key in ('rules', 'exclude') else key} (found {_kind(value)})")
            return ()
        if len(value) > MAX_ENTRIES:
            self.add(where, "MS020", f"{self.name(where)} must list at most {MAX_ENTRIES} entries (found {len(value)}); the corpus is smaller than that")
            return ()
        out = []
        for i, item in enumerate(value):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                self.add(where + (i,), "MS012", f"{self.name(where + (i,))} must be a word such as trace-axb (found {_show(item)})")
                continue
            out.append((item.strip(), self.doc.at(*where, i)))
        return tuple(out)

    def unknown_fields(self, data: Mapping[str, Any], keys: tuple[Any, ...], known: Sequence[str], what: str) -> None:
        for key in data:
            if key not in known:
                self.add(keys + (key,), "MS011", f"{self.name(keys + (key,))} must not be there: not a field of {what} "
                         f"(found unknown field {key!r}{_hint(str(key), known)})", key=True)

    def group(self, data: Any, keys: tuple[Any, ...]) -> GroupSpec | None:
        where = self.name(keys)
        if not isinstance(data, dict):
            self.add(keys, "MS012", f"{where} must be a mapping with heading and rules, sections or tags (found {_kind(data)})")
            return None
        self.unknown_fields(data, keys, _GROUP_FIELDS, "a group")
        compact = data.get("compact", False)
        if not isinstance(compact, bool):
            self.add(keys + ("compact",), "MS012", f"{where}.compact must be true or false (found {_show(compact)})")
            compact = False
        spec = GroupSpec(
            heading=self.text(data, keys, "heading") or None,
            note=self.text(data, keys, "note"),
            compact=compact,
            rules=self.words(data, keys, "rules"),
            sections=self.words(data, keys, "sections"),
            tags=self.words(data, keys, "tags"),
            exclude=self.words(data, keys, "exclude"),
            at=self.doc.at(*keys),
            where=where,
        )
        if not any(k in data for k in _SELECTORS):
            self.add(keys, "MS010", f"{where} must select rules: give rules, sections or tags (found none)")
        return spec


def parse_sheet(doc: Document) -> tuple[SheetSpec | None, list[SheetProblem]]:
    """Check a sheet file's fields; the spec is None when a problem was found."""
    check = _Checker(doc)
    data = doc.data
    if not isinstance(data, dict):
        check.add((), "MS004", f"a sheet file must hold a YAML mapping with title and rules (found {_kind(data)})")
        return None, check.problems
    check.unknown_fields(data, (), _TOP_FIELDS, "a sheet")
    title = check.text(data, (), "title", required=True)
    subtitle = check.text(data, (), "subtitle")
    layout = check.choice(data, "layout", LAYOUTS, "numerator")
    paper = check.choice(data, "paper", PAPERS, "a4")
    orientation = check.choice(data, "orientation", ORIENTATIONS, "landscape")
    style = check.choice(data, "style", STYLES, "cards")
    headings = check.choice(data, "headings", HEADINGS, "sections")
    columns = check.integer(data, "columns", 1, 4)
    if columns is not None and style == "table" and columns != 1:
        check.add(("columns",), "MS012", f"columns must be 1 for style: table, which prints one row per rule (found {columns})")
    pages = check.integer(data, "pages", 1, 100)
    font_size = data.get("font_size", DEFAULT_FONT_SIZE)
    if isinstance(font_size, bool) or not isinstance(font_size, (int, float)) or not 7 <= font_size <= 12:
        check.add(("font_size",), "MS012", f"font_size must be a size in points from 7 to 12, e.g. 8.5 "
                  f"(found {_show(font_size) if not isinstance(font_size, (int, float)) or isinstance(font_size, bool) else font_size})")
        font_size = DEFAULT_FONT_SIZE
    details = data.get("details", style == "table")
    if not isinstance(details, bool):
        check.add(("details",), "MS012", f"details must be true or false (found {_show(details)})")
        details = False
    exclude = check.words(data, (), "exclude")
    groups: list[GroupSpec] = []
    grouped = "groups" in data
    if grouped:
        if any(k in data for k in _SELECTORS):
            both = next(k for k in _SELECTORS if k in data)
            check.add((both,), "MS012", f"{both} must not be given beside groups: put it into a group (found both)", key=True)
        raw = data["groups"]
        if not isinstance(raw, list) or not raw:
            check.add(("groups",), "MS012", f"groups must be a non-empty list of groups (found {_kind(raw)})")
        elif len(raw) > MAX_GROUPS:
            check.add(("groups",), "MS020", f"groups must have at most {MAX_GROUPS} groups (found {len(raw)})")
        else:
            for i, item in enumerate(raw):
                spec = check.group(item, ("groups", i))
                if spec is not None:
                    groups.append(spec)
    elif not any(k in data for k in _SELECTORS):
        check.add((), "MS010", "the sheet must select rules: give rules (ids, in order), sections, tags or groups (found none)")
    else:
        groups.append(GroupSpec(None, "", False, check.words(data, (), "rules"), check.words(data, (), "sections"),
                                check.words(data, (), "tags"), (), doc.at(), "the sheet"))
    if check.problems:
        return None, check.problems
    return SheetSpec(
        source=doc.shown,
        title=title,
        subtitle=subtitle,
        layout=layout,
        paper=paper,
        orientation=orientation,
        style=style,
        columns=(columns or (3 if orientation == "landscape" else 2)) if style == "cards" else 1,
        details=details,
        font_size=float(font_size),
        pages=pages,
        headings=headings,
        groups=tuple(groups),
        exclude=exclude,
        grouped=grouped,
        pages_at=doc.at("pages") if "pages" in data else doc.at(),
    ), []


# ---------------------------------------------------------------------------------------
# Resolving against the export


def resolve_sheet(spec: SheetSpec, export: Mapping[str, Any]) -> tuple[Sheet | None, list[SheetProblem]]:
    """The rules the sheet selects, in order and groups; problems for anything unknown."""
    problems: list[SheetProblem] = []

    def add(at: tuple[int, int], code: str, message: str) -> None:
        problems.append(SheetProblem(spec.source, at[0], at[1], code, message))

    rules = list(export.get("rules") or [])
    by_id = {str(r["id"]): r for r in rules}
    redirects = {str(k): str(v) for k, v in (export.get("redirects") or {}).items()}
    sections = [str(s["slug"]) for s in export.get("sections") or []]
    section_titles = {str(s["slug"]): str(s.get("title") or s["slug"]) for s in export.get("sections") or []}
    tags: dict[str, list[str]] = {}
    for r in rules:
        for t in r.get("tags") or []:
            tags.setdefault(str(t), []).append(str(r["id"]))
    known_ids = sorted(set(by_id) | set(redirects))
    placed: dict[str, tuple[int, int]] = {}
    redirected: list[tuple[str, str]] = []

    unknown = [0]

    def hint(word: str, known: Sequence[str]) -> str:
        """A did-you-mean for the first problems only: a file of thousands of typos stays fast."""
        unknown[0] += 1
        return _hint(word, known) if unknown[0] <= MAX_SHOWN else ""

    def lookup(word: str, at: tuple[int, int], where: str) -> str | None:
        rid = redirects.get(word, word) if word not in by_id else word
        if rid not in by_id:
            add(at, "MS013", f"{where} must be the id of a rule (found {word!r}{hint(word, known_ids)})")
            return None
        if rid != word:
            redirected.append((word, rid))
        status = str((by_id[rid].get("verification") or {}).get("status", "missing"))
        if status != "verified":
            add(at, "MS018", f"{where} names rule {rid!r}, which is {status}, not verified: a sheet prints only verified rules (run `mcref check rules/{rid}.yaml`)")
            return None
        return rid

    top_excluded: dict[str, tuple[int, int]] = {}
    for word, at in spec.exclude:
        rid = lookup(word, at, "exclude")
        if rid:
            top_excluded[rid] = at
    used_exclusions: set[str] = set()
    groups: list[Group] = []
    for g in spec.groups:
        chosen: list[str] = []
        excluded: dict[str, tuple[int, int]] = {}
        for word, at in g.exclude:
            rid = lookup(word, at, f"{g.where}.exclude" if spec.grouped else "exclude")
            if rid:
                excluded[rid] = at
        prefix = f"{g.where}." if spec.grouped else ""
        for word, at in g.rules:
            rid = lookup(word, at, f"{prefix}rules")
            if rid is None:
                continue
            if rid in placed or rid in chosen:
                first = placed.get(rid)
                again = f" (first at line {first[0]})" if first else ""
                add(at, "MS016", f"{prefix}rules must list each rule once: {rid!r} is already on the sheet{again}")
                continue
            if rid in excluded or rid in top_excluded:
                used_exclusions.add(rid)
                continue
            chosen.append(rid)
            placed[rid] = at
        for word, at in g.sections:
            if word not in section_titles:
                add(at, "MS014", f"{prefix}sections must be section slugs (found {word!r}{hint(word, sections)})")
                continue
            for r in rules:
                rid = str(r["id"])
                if r.get("section") != word or rid in placed or rid in chosen:
                    continue
                if rid in excluded or rid in top_excluded:
                    used_exclusions.add(rid)
                    continue
                if str((r.get("verification") or {}).get("status")) != "verified":
                    add(at, "MS018", f"{prefix}sections selects rule {rid!r}, which is not verified: exclude it or fix it")
                    continue
                chosen.append(rid)
                placed[rid] = at
        for word, at in g.tags:
            if word not in tags:
                add(at, "MS015", f"{prefix}tags must be tags of rules (found {word!r}{hint(word, sorted(tags))})")
                continue
            for rid in tags[word]:
                if rid in placed or rid in chosen:
                    continue
                if rid in excluded or rid in top_excluded:
                    used_exclusions.add(rid)
                    continue
                if str((by_id[rid].get("verification") or {}).get("status")) != "verified":
                    add(at, "MS018", f"{prefix}tags selects rule {rid!r}, which is not verified: exclude it or fix it")
                    continue
                chosen.append(rid)
                placed[rid] = at
        for rid, at in excluded.items():
            if rid not in used_exclusions:
                add(at, "MS017", f"{prefix}exclude names {rid!r}, which nothing in {'this group' if spec.grouped else 'the sheet'} selects: remove it from exclude")
        if not chosen and not problems:
            add(g.at, "MS019", f"{g.where} must select at least one rule (everything it names is excluded or already on the sheet)")
        if spec.grouped or spec.headings == "none":
            groups.append(Group(g.heading, g.note, g.compact, tuple(chosen)))
        else:  # one heading for each run of rules of the same section
            run: list[str] = []
            for rid in chosen:
                if run and by_id[run[-1]].get("section") != by_id[rid].get("section"):
                    groups.append(Group(section_titles.get(str(by_id[run[-1]].get("section"))), "", False, tuple(run)))
                    run = []
                run.append(rid)
            if run:
                groups.append(Group(section_titles.get(str(by_id[run[-1]].get("section"))), "", False, tuple(run)))
    for rid, at in top_excluded.items():
        if rid not in used_exclusions:
            add(at, "MS017", f"exclude names {rid!r}, which nothing on the sheet selects: remove it from exclude")
    if problems:
        return None, problems
    return Sheet(
        source=spec.source,
        title=spec.title,
        subtitle=spec.subtitle,
        layout=spec.layout,
        paper=spec.paper,
        orientation=spec.orientation,
        style=spec.style,
        columns=spec.columns,
        details=spec.details,
        font_size=spec.font_size,
        pages=spec.pages,
        groups=tuple(g for g in groups if g.ids),
        pages_at=spec.pages_at,
        redirected=tuple(redirected),
    ), []


def read_sheet(path: Path, export: Mapping[str, Any]) -> Sheet:
    """Read, check and resolve a sheet file; SheetError lists every problem."""
    path = Path(path)
    if not path.is_file():
        shown = display_path(path)
        what = "a folder" if path.is_dir() else "nothing"
        raise SheetError([SheetProblem(shown, 1, 1, "MS001", f"the sheet file must exist (found {what} at {path})")])
    doc, load_problems = read_yaml(path)
    problems = [
        SheetProblem(p.path, p.line, p.col, _LOAD_CODES.get(p.code, "MS012"), p.message.replace("rule files", "sheet files"))
        for p in load_problems
    ]
    if doc is None or problems:
        raise SheetError(problems)
    spec, problems = parse_sheet(doc)
    if spec is None:
        raise SheetError(problems)
    sheet, problems = resolve_sheet(spec, export)
    if sheet is None:
        raise SheetError(problems)
    return sheet


def reference_sheet(export: Mapping[str, Any], *, layout: str = "numerator", paper: str = "a4") -> Sheet:
    """The complete reference: every rule of the export, one group per section, as a table."""
    rules = list(export.get("rules") or [])
    groups = []
    for section in export.get("sections") or []:
        ids = tuple(str(r["id"]) for r in rules if r.get("section") == section["slug"])
        if ids:
            groups.append(Group(str(section.get("title") or section["slug"]), str(section.get("summary") or ""), False, ids))
    return Sheet(
        source="(the complete reference)",
        title="Matrix calculus: the complete reference",
        subtitle="",
        layout=layout,
        paper=paper,
        orientation="landscape",
        style="cards",
        columns=2,
        details=True,
        font_size=REFERENCE_FONT_SIZE,
        pages=None,
        groups=tuple(groups),
    )
