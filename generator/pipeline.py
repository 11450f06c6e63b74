"""The pipeline, end to end: load -> validate -> parse -> verify -> catalogue.

File reading happens here and in generator.engine.load only; everything between is pure.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from generator.engine import concordance as conc
from generator.engine.cache import VerdictCache, default_cache_dir
from generator.catalogue import build_export, combined
from generator.engine.load import REDIRECTS_FILE, SECTIONS_FILE, Document, find_rule_files, read_yaml
from generator.engine.problems import BuildFailed, Problem
from generator.engine.rule import Rule, parse_rule
from generator.engine.runner import DEFAULT_TIMEOUT, verify_claims
from generator.engine.validate import cross_rule_problems, redirect_problems, teaching_order_problems, validate_document
from generator.engine.claims import Claim, Verdict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RULES = ROOT / "rules"
SITE_URL_ENV = "MCREF_SITE_URL"
# A public address as the PDFs, BibTeX, Markdown and HTML print it unescaped: http(s), a host, a path.
_SITE_URL = re.compile(r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[A-Za-z0-9._~+-]*)*$")


@dataclass
class Report:
    """What a check found: the valid rules, their verdicts, and every problem of the input."""

    files: int = 0
    rules: list[Rule] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    sections: list[dict[str, Any]] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)
    redirect_sections: dict[str, str] = field(default_factory=dict)
    cached: int = 0
    # Concordances of outside references (source key -> entries) and their errata (source key -> number -> erratum).
    concordance: dict[str, list[conc.Entry]] = field(default_factory=dict)
    concordance_errata: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for v in self.verdicts.values() if v.status == status)

    # A one-line claim is one input, whatever flag (--of, --expect, ...) a problem names.
    one_input: bool = False

    @property
    def invalid_files(self) -> int:
        inputs = len({p.path for p in self.problems})
        return min(inputs, 1) if self.one_input else inputs

    def summary(self) -> str:
        return (f"{self.count('verified')} verified, {self.count('refuted')} refuted, "
                f"{self.count('undecided')} undecided, {self.invalid_files} invalid")

    def scope_summary(self) -> str:
        """The line after the summary: how many verified rules are proved for every size."""
        proved = sum(1 for v in self.verdicts.values() if v.status == "verified" and v.scope == "all-sizes")
        return f"{proved} of {self.count('verified')} verified rules proved for all sizes"

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        if any(v.status != "verified" for v in self.verdicts.values()):
            return 1
        return 0


def read_sections(folder: Path) -> tuple[list[dict[str, Any]], Document | None, list[Problem]]:
    """The sections of a rules folder, in reading order, each with its teaching order (`rules:`)."""
    path = folder / SECTIONS_FILE
    if not path.is_file():
        return [], None, []
    doc, problems = read_yaml(path)
    if doc is None:
        return [], None, problems
    if not isinstance(doc.data, list) or not all(_is_section(s) for s in doc.data):
        return [], None, [Problem(doc.shown, 1, 1, "MC012", "sections must be a list of {slug, title, summary, rules: [ids]} mappings (found another form)")]
    return doc.data, doc, []


def _is_section(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("slug"), str) or not isinstance(entry.get("title"), str):
        return False
    order = entry.get("rules", [])
    return isinstance(order, list) and all(isinstance(i, str) for i in order)


def read_redirects(folder: Path) -> tuple[dict[str, str], Document | None, list[Problem]]:
    """Retired ids of a rules folder and the ids they now resolve to (ids are never deleted)."""
    path = folder / REDIRECTS_FILE
    if not path.is_file():
        return {}, None, []
    doc, problems = read_yaml(path)
    if doc is None:
        return {}, None, problems
    if doc.data is None:
        return {}, doc, []
    if not isinstance(doc.data, dict) or not all(isinstance(k, str) and _is_redirect(v) for k, v in doc.data.items()):
        return {}, None, [Problem(doc.shown, 1, 1, "MC018", "redirects must map each old id to {to: id, section: its old section} or to an id (found another form)")]
    return {old: (v if isinstance(v, str) else v["to"]) for old, v in doc.data.items()}, doc, []


def _is_redirect(value: Any) -> bool:
    """`new-id`, or `{to: new-id, section: old-section}` (the section keeps /<old-section>/#<old-id> working)."""
    if isinstance(value, str):
        return True
    return isinstance(value, dict) and set(value) <= {"to", "section"} and isinstance(value.get("to"), str) \
        and isinstance(value.get("section", ""), str)


def redirect_sections(folder_docs: list[Document]) -> dict[str, str]:
    """The section each retired id was published in, where the redirect file says it."""
    out: dict[str, str] = {}
    for doc in folder_docs:
        for old, value in (doc.data or {}).items():
            if isinstance(value, dict) and "section" in value:
                out.setdefault(old, value["section"])
    return out


#: The fields parse_rule reads: a problem elsewhere (title, sources, tags, related, ...) does not stop
#: the expressions from being read, so one run reports an undeclared name beside a misspelt tag.
_PARSED_FIELDS = frozenset({"id", "symbols", "functions", "assume", "where", "of", "wrt", "expect", "layout", "kind",
                            "order", "sizes", "example"})


def _expression_problems_too(doc: Document, problems: list[Problem]) -> list[Problem]:
    """The problems of the expressions of a rule whose other fields are invalid; none when a field the
    parser reads is itself invalid (each message starts with its field: "sources[0].paper must ...")."""
    fields = {re.split(r"[.\[ ]", p.message, maxsplit=1)[0] for p in problems if p.code != "MC041"}
    if not isinstance(doc.data, dict) or fields & _PARSED_FIELDS or not fields:
        return []
    try:
        _, found = parse_rule(doc)
    except Exception:  # noqa: BLE001 - only extra help; the file is already reported invalid
        return []
    return [p for p in found if p not in problems]


def load_and_parse(paths: list[Path], publish: bool) -> Report:
    """Stages load, validate and parse for every file; all problems are collected."""
    report = Report()
    files, problems = find_rule_files(paths)
    report.problems += problems
    report.files = len(files)
    folders = sorted({f.parent for f in files})
    section_slugs: set[str] = set()
    section_docs: list[tuple[Document, list[dict[str, Any]]]] = []
    redirect_docs: list[tuple[Document, dict[str, str]]] = []
    for folder in folders:
        sections, sections_doc, problems = read_sections(folder)
        report.problems += problems
        if sections_doc is not None:
            section_docs.append((sections_doc, sections))
        for s in sections:
            if s["slug"] not in section_slugs:
                section_slugs.add(s["slug"])
                report.sections.append(s)
        redirects, redirects_doc, problems = read_redirects(folder)
        report.problems += problems
        if redirects_doc is not None:
            redirect_docs.append((redirects_doc, redirects))
        for old, new in redirects.items():
            report.redirects.setdefault(old, new)
    known_ids = {p.stem for folder in folders for p in folder.glob("*.yaml") if not p.name.startswith("_")}
    for redirects_doc, redirects in redirect_docs:
        report.problems += redirect_problems(redirects_doc, redirects, known_ids)
    report.redirect_sections = redirect_sections([d for d, _ in redirect_docs])
    docs: list[Document] = []
    for path in files:
        doc, problems = read_yaml(path)
        report.problems += problems
        if doc is None or problems:
            continue
        problems = validate_document(doc, section_slugs, publish)
        report.problems += problems
        if any(p.code != "MC041" for p in problems):
            report.problems += _expression_problems_too(doc, problems)
            continue
        docs.append(doc)
    report.problems += cross_rule_problems(docs, known_ids)
    if publish:
        for sections_doc, sections in section_docs:
            report.problems += teaching_order_problems(sections_doc, sections, docs, known_ids)
    for doc in docs:
        rule, problems = parse_rule(doc)
        report.problems += problems
        if rule is not None:
            report.rules.append(rule)
    for folder in folders:
        report.problems += read_concordances(folder, report, known_ids)
    report.problems.sort()
    return report


def read_concordances(folder: Path, report: Report, known_ids: set[str]) -> list[Problem]:
    """The concordance files of a rules folder (and their errata beside it, in ../errata/), validated."""
    problems: list[Problem] = []
    for source in conc.SOURCES:
        path = folder / source.file
        if not path.is_file() or source.key in report.concordance:
            continue
        doc, read_problems = read_yaml(path)
        problems += read_problems
        if doc is None or read_problems:
            continue
        entries, found = conc.read_concordance(doc, source)
        problems += found
        problems += conc.check_rule_ids(doc, entries, known_ids, report.redirects)
        problems += conc.check_citations(source, doc, entries, report.rules)
        errata: dict[int, dict[str, Any]] = {}
        errata_path = folder.resolve().parent / "errata" / source.errata_file if source.errata_file else None
        shown = f"errata/{source.errata_file}"
        if errata_path is not None and errata_path.is_file():
            errata_doc, read_problems = read_yaml(errata_path)
            problems += read_problems
            if errata_doc is not None and not read_problems:
                shown = errata_doc.shown
                errata, found = conc.read_errata(errata_doc, source)
                problems += found
        problems += conc.check_errata_links(doc, entries, errata, shown, known_ids)
        report.concordance[source.key] = entries
        report.concordance_errata[source.key] = errata
    return problems


def verify(report: Report, *, jobs: int | None = None, use_cache: bool = True, timeout: float = DEFAULT_TIMEOUT,
           on_verdict: Callable[[Rule, Verdict, bool], None] | None = None) -> None:
    """Stage verify: fill report.verdicts, from the cache where a claim is unchanged."""
    cache = VerdictCache(default_cache_dir() if use_cache else None)
    claims: list[Claim] = [c for r in report.rules for c in (r.claim, r.example) if c is not None]
    known: dict[str, Verdict] = {}
    todo: list[Claim] = []
    for claim in claims:
        hit = cache.get(claim)
        if hit is None:
            todo.append(claim)
        else:
            known[claim.label] = hit
    report.cached = len(claims) - len(todo)
    by_label = {c.label: c for c in claims}
    rule_of = {c.label: r for r in report.rules for c in (r.claim, r.example) if c is not None}
    done: set[str] = set()

    def rule_finished(rule: Rule, cached: bool) -> None:
        labels = [c.label for c in (rule.claim, rule.example) if c is not None]
        if rule.id in done or any(label not in known for label in labels):
            return
        done.add(rule.id)
        verdict = combined(known[rule.claim.label], known.get(f"{rule.id} example"))
        report.verdicts[rule.id] = verdict
        if on_verdict:
            on_verdict(rule, verdict, cached)

    for label in list(known):
        rule_finished(rule_of[label], True)

    def on_done(claim: Claim, verdict: Verdict) -> None:
        known[claim.label] = verdict
        rule_finished(rule_of[claim.label], False)

    # Claims with the same content (e.g. copies of a rule under other ids) are proved once.
    first_of: dict[str, Claim] = {}
    copies: dict[str, list[Claim]] = {}
    for claim in todo:
        key = claim.content()
        first_of.setdefault(key, claim)
        copies.setdefault(first_of[key].label, []).append(claim)

    def on_unique_done(claim: Claim, verdict: Verdict) -> None:
        cache.put(by_label[claim.label], verdict)  # once: the copies share its cache key
        for copy in copies[claim.label]:
            on_done(copy, verdict)

    verify_claims(list(first_of.values()), jobs=jobs, timeout=timeout, on_done=on_unique_done)
    for rule in report.rules:
        rule_finished(rule, False)


def check(paths: list[Path], *, publish: bool = False, jobs: int | None = None, use_cache: bool = True,
          timeout: float = DEFAULT_TIMEOUT, on_verdict: Callable[[Rule, Verdict, bool], None] | None = None) -> Report:
    report = load_and_parse(paths, publish)
    verify(report, jobs=jobs, use_cache=use_cache, timeout=timeout, on_verdict=on_verdict)
    return report


def _mkdocs_site_url(root: Path) -> str:
    """`site_url` of mkdocs.yml, or '' (read as text: mkdocs.yml may hold Python tags)."""
    try:
        text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    except OSError:
        return ""
    match = re.search(r"^site_url:[ \t]*['\"]?([^'\"\s#]*)", text, re.MULTILINE)
    return match.group(1) if match else ""


def site_url(override: str | None = None, root: Path = ROOT, environ: Mapping[str, str] | None = None) -> str:
    """The site's public address, ending in '/', or '' when none is configured.

    The first that is set wins: `override` (`mcref build --site-url URL`), $MCREF_SITE_URL,
    `site_url` in mkdocs.yml. With none, links stay relative and citations carry no URL.
    Raises BuildFailed (exit 2) for an address that is not a plain http(s) URL.
    """
    env = os.environ if environ is None else environ
    for origin, value in (("--site-url", override), (SITE_URL_ENV, env.get(SITE_URL_ENV)),
                          ("site_url in mkdocs.yml", None)):
        if origin.endswith("mkdocs.yml"):
            value = _mkdocs_site_url(root)
        value = (value or "").strip()
        if not value:
            continue
        url = value if value.endswith("/") else value + "/"
        if not _SITE_URL.match(url):
            raise BuildFailed(f"{origin} must be the site's public address, an http(s) URL made of letters, digits and "
                              f"._~+-/ such as https://course.example/mcref/ (found {value!r})", 2)
        return url
    return ""


def build_date(root: Path = ROOT) -> str:
    """SOURCE_DATE_EPOCH, else the last commit's date: never the clock, so builds repeat."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        try:
            epoch = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%ct"], capture_output=True,
                                   text=True, timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            epoch = ""
    seconds = int(epoch) if epoch.isdigit() else 0
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def source_date_epoch(root: Path = ROOT) -> int:
    date = build_date(root)
    return int(dt.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc).timestamp())


def failure_message(report: Report) -> str:
    lines = [p.format() for p in report.problems]
    for rule in report.rules:
        verdict = report.verdicts.get(rule.id)
        if verdict is not None and verdict.status != "verified":
            lines.append(f"{rule.doc.shown}:1:1: {verdict.status}: {verdict.detail}")
    lines.append(report.summary())
    lines.append(report.scope_summary())
    return "\n".join(lines)


def export_rules(rules_dir: Path = DEFAULT_RULES, *, jobs: int | None = None, use_cache: bool = True,
                 publish: bool = True, timeout: float = DEFAULT_TIMEOUT, url: str | None = None) -> dict[str, Any]:
    """The export document for the whole corpus; BuildFailed unless every rule is verified.

    `url` overrides the configured site address (see `site_url`).
    """
    address = site_url(url)
    report = check([rules_dir], publish=publish, jobs=jobs, use_cache=use_cache, timeout=timeout)
    if report.exit_code != 0:
        raise BuildFailed(failure_message(report), report.exit_code)
    return build_export(report.rules, report.verdicts, report.sections, site_url=address, build_date=build_date(),
                        redirects=report.redirects, redirect_sections=report.redirect_sections,
                        concordance=report.concordance, concordance_errata=report.concordance_errata)
