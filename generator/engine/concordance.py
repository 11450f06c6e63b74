"""Concordances: an outside reference's equations (or table rows) -> the rules that state them.

One YAML file per source in the rules folder, `_concordance-<source>.yaml` (SOURCES below):
a list with one entry per equation or row,

    - ref: "101"                      # the equation number, or the row's label
      formula: '\\frac{\\partial}{\\partial \\mathbf{X}} \\tr(\\mathbf{A}\\mathbf{X}\\mathbf{B}) = ...'
      status: verified                # verified | verified-corrected | not-applicable
      rules: [trace-axb]              # the verified rules that state it (none when n/a)
      number: confirmed               # the Cookbook only: confirmed | position-only | unnumbered
      confirmed_by: "SymPy, Tensor Cookbook"
      note: "..."                     # why not applicable; what differs; inline math $...$
      erratum: 1                      # verified-corrected only: errata/<source>.yaml entry

Pure: the pipeline reads the files (generator.engine.load.read_yaml) and hands the documents here;
this module validates them (every problem as path:line:col: CODE message) and builds the
export's top-level `concordance` field. Nothing here reads a file or the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from generator.engine.load import Document
from generator.engine.problems import Problem
from generator.engine.validate import latex_problems


@dataclass(frozen=True)
class Source:
    """An outside reference a concordance maps."""

    key: str  # the key in the export's `concordance` mapping
    file: str  # the concordance file in the rules folder
    errata_file: str  # errata/<this>, for verified-corrected entries; "" if the source has none
    title: str
    citation: str
    numbered: bool  # entries are numbered equations with a `number` field (the Cookbook)
    required_refs: tuple[str, ...]  # refs that must each have an entry; () for none


COOKBOOK = Source(
    key="cookbook-2012",
    file="_concordance-cookbook-2012.yaml",
    errata_file="cookbook.yaml",
    title="The Matrix Cookbook (2012 edition), derivative chapter",
    citation="K. B. Petersen and M. S. Pedersen, The Matrix Cookbook, version of November 15, 2012, section 2, eqs. 33-144",
    numbered=True,
    required_refs=tuple(str(n) for n in range(33, 145)),
)
WIKIPEDIA = Source(
    key="wikipedia",
    file="_concordance-wikipedia.yaml",
    errata_file="",
    title="Wikipedia, Matrix calculus: identity tables",
    citation="Wikipedia, Matrix calculus, section Identities (the tables in denominator and numerator layout)",
    numbered=False,
    required_refs=(),
)
SOURCES: tuple[Source, ...] = (COOKBOOK, WIKIPEDIA)

STATUSES = ("verified", "verified-corrected", "not-applicable")
NUMBERS = ("confirmed", "position-only", "unnumbered")
FIELDS = ("ref", "formula", "status", "rules", "number", "confirmed_by", "note", "erratum")
ERRATUM_FIELDS = ("number", "title", "where", "cookbook", "problem", "correction", "rule", "note")
ERRATUM_REQUIRED = ("number", "title", "where", "cookbook", "problem", "correction", "rule")
# An unnumbered Cookbook display is named by the equation it follows: "after 64".
_UNNUMBERED_REF = re.compile(r"^after ([0-9]+)$")
_NUMBER_WORDS = {"confirmed": "confirmed", "position-only": "number inferred from its position", "unnumbered": "unnumbered"}


@dataclass(frozen=True)
class Entry:
    """One equation (or table row) of a source and the rules that state it."""

    source: str
    ref: str
    formula: str
    status: str
    rules: tuple[str, ...]
    number: str  # "" for sources without numbers
    confirmed_by: str
    note: str
    erratum: int | None
    index: int  # position in its file's list, for messages


def read_concordance(doc: Document, source: Source) -> tuple[list[Entry], list[Problem]]:
    """The entries of one concordance file; every problem of its form, at its line and column."""
    problems: list[Problem] = []

    def problem(keys: tuple[Any, ...], code: str, message: str, key: bool = False) -> None:
        line, col = doc.key_at(*keys) if key else doc.at(*keys)
        problems.append(Problem(doc.shown, line, col, code, message))

    data = doc.data
    if not isinstance(data, list):
        problem((), "MC004", f"{source.file} must hold a YAML list of entries (found {_kind(data)})")
        return [], problems
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(data):
        where = f"entry {i + 1}"
        if not isinstance(item, dict):
            problem((i,), "MC012", f"{where} must be a mapping with ref, formula, status (found {_kind(item)})")
            continue
        ref = item.get("ref")
        if isinstance(ref, (str, int)) and not isinstance(ref, bool):
            ref = str(ref)
            where = f"entry {ref!r}"
        for name in item:
            if name not in FIELDS or (name == "number" and not source.numbered):
                allowed = [f for f in FIELDS if f != "number" or source.numbered]
                problem((i, name), "MC011", f"{where}: {name} must not be there: not a field of a concordance entry "
                        f"(the fields are {', '.join(allowed)})", key=True)
        for name in ("ref", "formula", "status") + (("number", "confirmed_by") if source.numbered else ()):
            if name not in item:
                why = ", saying how the number is known" if name == "confirmed_by" else ""
                problem((i,), "MC010", f"{where}: {name} must be present{why} (found it missing)")
        for name in ("ref", "formula", "confirmed_by", "note"):
            if name in item and not (isinstance(item[name], str) or (name == "ref" and isinstance(item[name], int) and not isinstance(item[name], bool))):
                problem((i, name), "MC012", f"{where}: {name} must be a string (found {_kind(item[name])})")
        if not isinstance(ref, str) or not ref.strip():
            continue
        if source.numbered and not (ref in source.required_refs or _UNNUMBERED_REF.match(ref)):
            problem((i, "ref"), "MC012", f"{where}: ref must be an equation number {source.required_refs[0]}-{source.required_refs[-1]}, "
                    f"or 'after N' for an unnumbered display after eq. N (found {ref!r})")
        if ref in seen:
            problem((i, "ref"), "MC019", f"{where}: ref must appear once (found it again; the first is on line {seen[ref]})")
        else:
            seen[ref] = doc.at(i)[0]
        status = item.get("status")
        if "status" in item and status not in STATUSES:
            problem((i, "status"), "MC012", f"{where}: status must be one of {', '.join(STATUSES)} (found {_show(status)})")
        number = item.get("number", "")
        if source.numbered and "number" in item:
            if number not in NUMBERS:
                problem((i, "number"), "MC012", f"{where}: number must be one of {', '.join(NUMBERS)} (found {_show(number)})")
            elif (number == "unnumbered") != bool(_UNNUMBERED_REF.match(ref)):
                problem((i, "number"), "MC012", f"{where}: number must be unnumbered exactly when ref is 'after N' (found {number} for {ref!r})")
        rules = item.get("rules", [])
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            problem((i, "rules"), "MC012", f"{where}: rules must be a list of rule ids (found {_show(rules)})")
            rules = []
        elif len(set(rules)) != len(rules):
            problem((i, "rules"), "MC012", f"{where}: rules must list each rule once (found {', '.join(sorted({r for r in rules if rules.count(r) > 1}))} twice)")
        note = item.get("note", "")
        if status in ("verified", "verified-corrected") and not rules:
            problem((i,), "MC019", f"{where}: an applicable equation must map to a verified rule: give rules, "
                    f"or make it not-applicable with a note saying why (found no rules)")
        if status == "not-applicable":
            if rules:
                problem((i, "rules"), "MC019", f"{where}: a not-applicable entry must list no rules (found {', '.join(rules)}); make it verified if they state it")
            if not (isinstance(note, str) and note.strip()):
                problem((i,), "MC010", f"{where}: note must be present for a not-applicable entry, saying why (found it missing)")
        erratum = item.get("erratum")
        if status == "verified-corrected":
            if not source.errata_file:
                pass  # the source keeps no errata file: the note says what differs
            elif not isinstance(erratum, int) or isinstance(erratum, bool):
                problem((i,), "MC010", f"{where}: erratum must be present for a verified-corrected entry: the number of its entry in errata/{source.errata_file} (found {_show(erratum) if erratum is not None else 'it missing'})")
        elif "erratum" in item:
            problem((i, "erratum"), "MC012", f"{where}: erratum must be given only for a verified-corrected entry (found status {status})")
        for name in ("formula",):
            if isinstance(item.get(name), str):
                for p in latex_problems(doc, (i, name), item[name]):
                    problems.append(_reworded(p, where))
        for name in ("note", "confirmed_by"):
            text = item.get(name)
            if isinstance(text, str):
                for math in re.findall(r"\$([^$]*)\$", text):
                    for p in latex_problems(doc, (i, name), math):
                        problems.append(_reworded(p, where))
                if text.count("$") % 2:
                    problem((i, name), "MC012", f"{where}: {name} must close every $...$ math span (found an odd number of $)")
        if not all(isinstance(item.get(k, ""), str) for k in ("formula", "confirmed_by", "note")):
            continue
        entries.append(Entry(source.key, ref, item.get("formula", ""), status if status in STATUSES else "", tuple(rules),
                             number if isinstance(number, str) else "", item.get("confirmed_by", ""), note,
                             erratum if isinstance(erratum, int) and not isinstance(erratum, bool) else None, i))
    for ref in source.required_refs:
        if ref not in seen:
            problems.append(Problem(doc.shown, 1, 1, "MC019", f"{source.file} must have an entry for eq. {ref} (found none); "
                                    f"add one, not-applicable with a note if no rule can state it"))
    return entries, problems


def _reworded(p: Problem, where: str) -> Problem:
    """A LaTeX problem of an entry's field, named by the entry rather than by list index."""
    message = re.sub(r"^\[\d+\]\.", "", p.message)
    return Problem(p.path, p.line, p.col, p.code, f"{where}: {message}")


def check_rule_ids(doc: Document, entries: Sequence[Entry], known_ids: set[str], redirects: Mapping[str, str] | None = None) -> list[Problem]:
    """Every listed rule id names a rule file (an old id that now redirects must be replaced by its target)."""
    problems = []
    redirects = redirects or {}
    for entry in entries:
        for j, rule_id in enumerate(entry.rules):
            if rule_id in known_ids:
                continue
            line, col = doc.at(entry.index, "rules", j)
            hint = f"; it now resolves to {redirects[rule_id]}: list that" if rule_id in redirects else ""
            problems.append(Problem(doc.shown, line, col, "MC016", f"entry {entry.ref!r}: rules[{j}] must be the id of a rule (found {rule_id!r}{hint})"))
    return problems


def check_citations(source: Source, doc: Document, entries: Sequence[Entry], rules: Iterable[Any]) -> list[Problem]:
    """A rule citing the source's equation N must be listed under N: the concordance is the complete map.

    `rules` are parsed rules (generator.engine.rule.Rule): their `sources` entries `{cookbook: N}`.
    """
    if source.key != COOKBOOK.key:
        return []
    listed: dict[str, set[str]] = {e.ref: set(e.rules) for e in entries}
    problems = []
    for rule in rules:
        for i, item in enumerate(rule.data.get("sources", [])):
            if not isinstance(item, dict) or "cookbook" not in item:
                continue
            ref = str(item["cookbook"])
            if rule.id in listed.get(ref, set()):
                continue
            line, col = rule.doc.at("sources", i, "cookbook")
            if ref not in listed:
                why = f"{source.file} has no eq. {ref}"
            else:
                why = f"{source.file} does not list {rule.id} under eq. {ref}"
            problems.append(Problem(rule.doc.shown, line, col, "MC019", f"sources[{i}].cookbook must be an equation the concordance maps to this rule "
                                    f"(found {ref}: {why}); add the rule there or cite another source"))
    return problems


def read_errata(doc: Document, source: Source) -> tuple[dict[int, dict[str, Any]], list[Problem]]:
    """A source's errata file (errata/cookbook.yaml): a list of {number, title, where, cookbook, problem, correction, rule, note}."""
    problems: list[Problem] = []
    out: dict[int, dict[str, Any]] = {}
    if not isinstance(doc.data, list):
        return {}, [Problem(doc.shown, 1, 1, "MC004", f"errata/{source.errata_file} must hold a YAML list (found {_kind(doc.data)})")]
    for i, item in enumerate(doc.data):
        line, col = doc.at(i)
        if not isinstance(item, dict):
            problems.append(Problem(doc.shown, line, col, "MC012", f"errata[{i}] must be a mapping (found {_kind(item)})"))
            continue
        for name in item:
            if name not in ERRATUM_FIELDS:
                k_line, k_col = doc.key_at(i, name)
                problems.append(Problem(doc.shown, k_line, k_col, "MC011", f"errata[{i}].{name} must not be there: not a field of an erratum (the fields are {', '.join(ERRATUM_FIELDS)})"))
        for name in ERRATUM_REQUIRED:
            if name not in item:
                problems.append(Problem(doc.shown, line, col, "MC010", f"errata[{i}].{name} must be present (found it missing)"))
        number = item.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            if "number" in item:
                n_line, n_col = doc.at(i, "number")
                problems.append(Problem(doc.shown, n_line, n_col, "MC012", f"errata[{i}].number must be an integer (found {_show(number)})"))
            continue
        if number in out:
            n_line, n_col = doc.at(i, "number")
            problems.append(Problem(doc.shown, n_line, n_col, "MC012", f"errata[{i}].number must be unique (found {number} again)"))
            continue
        for name in ERRATUM_FIELDS:
            text = item.get(name)
            if name == "number" or text is None:
                continue
            if not isinstance(text, str):
                t_line, t_col = doc.at(i, name)
                problems.append(Problem(doc.shown, t_line, t_col, "MC012", f"errata[{i}].{name} must be a string (found {_kind(text)})"))
                continue
            for math in re.findall(r"\$([^$]*)\$", text):
                problems += latex_problems(doc, (i, name), math)
        out[number] = {k: item[k] for k in ERRATUM_FIELDS if k in item}
    return out, problems


def check_errata_links(doc: Document, entries: Sequence[Entry], errata: Mapping[int, Mapping[str, Any]], errata_shown: str,
                       known_ids: set[str]) -> list[Problem]:
    """Each verified-corrected entry names an erratum that exists and whose rule the entry lists."""
    problems = []
    for entry in entries:
        if entry.erratum is None:
            continue
        line, col = doc.at(entry.index, "erratum")
        found = errata.get(entry.erratum)
        if found is None:
            problems.append(Problem(doc.shown, line, col, "MC019", f"entry {entry.ref!r}: erratum must be the number of an entry of {errata_shown} (found {entry.erratum})"))
        elif found.get("rule") not in entry.rules:
            problems.append(Problem(doc.shown, line, col, "MC019", f"entry {entry.ref!r}: erratum {entry.erratum} corrects with rule {found.get('rule')!r}, "
                                    f"which the entry must list (found {', '.join(entry.rules) or 'none'})"))
    for number, erratum in errata.items():
        rule = erratum.get("rule")
        if isinstance(rule, str) and rule not in known_ids:
            problems.append(Problem(errata_shown, 1, 1, "MC016", f"erratum {number}: rule must be the id of a rule (found {rule!r})"))
    return problems


def export_entry(entry: Entry, errata: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ref": entry.ref,
        "formula": entry.formula,
        "status": entry.status,
        "rules": list(entry.rules),
        "confirmed_by": entry.confirmed_by,
        "note": entry.note,
    }
    if entry.number:
        out["number"] = entry.number
    erratum = errata.get(entry.erratum) if entry.erratum is not None else None
    out["erratum"] = dict(erratum) if erratum is not None else None
    return out


def _order(entry: Entry) -> tuple[int, int, str]:
    """Equation order: 64, then 'after 64', then 65; labels (Wikipedia) keep file order."""
    if entry.ref.isdigit():
        return (int(entry.ref), 0, "")
    match = _UNNUMBERED_REF.match(entry.ref)
    if match:
        return (int(match.group(1)), 1, "")
    return (0, 0, "")


def build_concordance(concordances: Mapping[str, Sequence[Entry]], errata: Mapping[str, Mapping[int, Mapping[str, Any]]],
                      ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """The export's `concordance` ({source: [entry, ...]}) and `concordance_sources` ({source: title, counts}).

    Every source has a list (empty when its file is absent). That each listed rule is verified
    needs no check here: a listed id must name a rule file (check_rule_ids), and a corpus with
    a rule that is invalid, refuted or undecided is never published.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for source in SOURCES:
        entries = list(concordances.get(source.key, ()))
        if source.numbered:
            entries.sort(key=_order)
        out[source.key] = [export_entry(e, errata.get(source.key, {})) for e in entries]
        counts = {status: sum(1 for e in entries if e.status == status) for status in STATUSES}
        counts["total"] = len(entries)
        if source.numbered:
            counts.update({f"number-{n}": sum(1 for e in entries if e.number == n) for n in NUMBERS})
        meta[source.key] = {"title": source.title, "citation": source.citation, "counts": counts}
    return out, meta


def rule_refs(concordances: Mapping[str, Sequence[Entry]]) -> dict[str, list[dict[str, str]]]:
    """Rule id -> the entries that list it, `{source, ref, status}`, sources in SOURCES order, refs in file order."""
    out: dict[str, list[dict[str, str]]] = {}
    for source in SOURCES:
        for entry in concordances.get(source.key, ()):
            for rule_id in entry.rules:
                out.setdefault(rule_id, []).append({"source": source.key, "ref": entry.ref, "status": entry.status})
    return out


def number_caveats(entries: Sequence[Entry]) -> dict[str, str]:
    """For each equation of the Cookbook, how its number is known in words (for a citation's text)."""
    return {e.ref: _NUMBER_WORDS.get(e.number, "") for e in entries}


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", dict: "a mapping",
            type(None): "nothing"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
