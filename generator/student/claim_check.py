"""`mcref check` for claims: one-line claims and minimal claim files, judged and printed.

The command line's side of generator.student.claim and generator.student.hints: it reads claim files
(YAML, validated like rules but with only the math fields), decides claims with the
checkers available here, and prints each verdict with its hints.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from generator.student.claim import CLAIM_FIELDS, StudentClaim, build_claim, from_command_line, is_claim_document
from generator.engine.claims import Claim, Verdict
from generator.student.exprtext import to_text
from generator.student.hints import Decision, Judgement, judge
from generator.engine.load import SECTIONS_FILE, Document, expression_position, read_yaml
from generator.engine.problems import Problem
from generator.engine.runner import DEFAULT_TIMEOUT, verify_claims


# ------------------------------------------------------------------ checkers

def _plural_sizes(sizes: Sequence[dict[str, int]]) -> str:
    shown = [", ".join(f"{k} = {v}" for k, v in s.items()) or "scalars" for s in sizes]
    return " and ".join(shown)


def decision_from_verdict(verdict: Verdict, claim: Claim) -> Decision:
    """The SymPy verifier's verdict as a Decision."""
    sizes = [dict(s) for s in claim.sizes]
    scalars = all(not s for s in sizes)
    at = _plural_sizes(sizes)
    where = "" if scalars else f" at {at}"
    checks = (f"SymPy: exact symbolic equality{where}",
              f"NumPy: central finite differences at {verdict.numeric_points or 3} random points{'' if scalars else ' per size'}")
    if verdict.precise_sizes:
        checks += (f"200-digit arithmetic: the claim against the derivative along random directions at "
                   f"{_plural_sizes([dict(s) for s in verdict.precise_sizes])}",)
    if verdict.status == "verified":
        statement = ("Verified (exact symbolic check and finite differences)" if scalars else
                     f"Verified at {at} (exact symbolic check and finite differences); not a proof for every size")
    elif verdict.status == "refuted":
        statement = f"Refuted{where}"
    else:
        statement = "Undecided"
    return Decision(verdict.status, "listed-sizes", statement, checks, verdict.detail)


@dataclasses.dataclass
class SympyChecker:
    """Decides claims with generator.engine.verify (SymPy and NumPy at the claim's sizes), in worker processes."""

    jobs: int | None = None
    timeout: float = DEFAULT_TIMEOUT

    def decide(self, claims: Sequence[Claim]) -> list[Decision]:
        if not claims:
            return []
        results = verify_claims(list(claims), jobs=self.jobs, timeout=self.timeout)
        return [decision_from_verdict(results[c.label], c) for c in claims]


def default_checker(jobs: int | None, timeout: float) -> Any:
    """The exact all-sizes engine; SymPy (and finite differences) only for what it cannot decide."""
    from generator.student.claim_deciders import EngineChecker, FirstThat

    return FirstThat(EngineChecker(), SympyChecker(jobs, timeout))


# ------------------------------------------------------------------ claim files

def claim_schema() -> dict[str, Any]:
    """The rule schema cut down to a claim's fields: symbols, of, wrt, expect required."""
    from generator.engine.validate import schema

    full = copy.deepcopy(schema())
    full["title"] = "mcref claim"
    full["description"] = "A claim to check: only the math, no id, title or section."
    full["properties"] = {k: v for k, v in full["properties"].items() if k in CLAIM_FIELDS}
    full["required"] = ["symbols", "of", "wrt", "expect"]
    return full


def claim_file_problems(doc: Document) -> list[Problem]:
    import jsonschema

    from generator.engine.validate import _explain

    validator = jsonschema.Draft202012Validator(claim_schema())
    problems: list[Problem] = []
    for error in validator.iter_errors(doc.data):
        for p in _explain(doc, error, tuple(error.absolute_path)):
            message = p.message.replace("not a field of a rule", "not a field of a claim (" + ", ".join(CLAIM_FIELDS) + ")")
            problems.append(dataclasses.replace(p, message=message))
    return sorted(set(problems))


def file_locator(doc: Document) -> Any:
    def locate(path: tuple[Any, ...], line: int, col: int) -> tuple[str, int, int]:
        if path and path[0] in ("of", "expect"):
            at_line, at_col = expression_position(doc, path, line, col)
            return doc.shown, at_line, at_col
        if len(path) == 2:
            return (doc.shown, *doc.key_at(*path))
        return (doc.shown, *doc.at(*path))

    return locate


def claim_from_document(doc: Document) -> tuple[StudentClaim | None, list[Problem]]:
    problems = claim_file_problems(doc)
    if problems:
        return None, problems
    return build_claim(doc.data, file_locator(doc), label=doc.shown)


def in_corpus(path: Path) -> bool:
    """A file in a folder with _sections.yaml is a rule of a corpus and keeps every rule check."""
    return (path.parent / SECTIONS_FILE).is_file()


def split_claim_files(files: list[Path], publish: bool) -> tuple[list[Path], list[Document], list[Problem]]:
    """Rule files, claim documents (no id, title or section; outside a corpus) and read problems."""
    rules: list[Path] = []
    claims: list[Document] = []
    problems: list[Problem] = []
    for path in files:
        if publish or in_corpus(path):
            rules.append(path)
            continue
        doc, read_problems = read_yaml(path)
        if doc is not None and not read_problems and is_claim_document(doc.data):
            claims.append(doc)
        else:
            rules.append(path)
    return rules, claims, problems


# ------------------------------------------------------------------ printing

INDENT = " " * 11


def verdict_of(j: Judgement) -> Verdict:
    """The judgement as a Verdict, so claims count in the summary lines like rules."""
    d = j.decision
    scope = d.scope if j.status == "verified" else "listed-sizes"  # seam 4: proved for every size, or listed sizes
    return Verdict(j.status, layouts=j.holds_in, seconds=j.seconds, detail=d.detail or d.statement, scope=scope,
                   statement=d.statement)


def restated(sc: StudentClaim) -> str:
    """The claim as it was read (x' shown as x.T): what is printed is what was checked."""
    names = ", ".join(f"{name} = {to_text(expr)}" for name, expr in _short_where(sc))
    where = f"; where {names}" if names else ""
    d = "d2" if sc.order == 2 else "d"
    if sc.kind == "differential":
        return f"{d}({to_text(sc.written_of)}) = {to_text(sc.written_expect)}{where}"
    by = f"d{sc.wrt}2" if sc.order == 2 else f"d{sc.wrt}"
    return f"{d}({to_text(sc.written_of)})/{by} = {to_text(sc.written_expect)}{where}"


def _short_where(sc: StudentClaim) -> list[tuple[str, Any]]:
    return [(name, expr) for name, expr in sc.where_written]


def print_judgement(j: Judgement, sc: StudentClaim, out: TextIO | None = None, cached: bool = False) -> None:
    out = out or sys.stdout  # looked up at the call: tests and pipes replace sys.stdout
    note = "cached" if cached else f"{j.seconds:.2f} s"
    print(f"{j.status:<10} {j.label}  ({note})", file=out)
    lines = [restated(sc)] + j.lines()
    for line in lines:
        print(INDENT + line, file=out)
    out.flush()


def caret_lines(problem: Problem, texts: dict[str, str]) -> list[str]:
    """The typed text of a flag with a caret under the problem's column."""
    flag = problem.path
    text = texts.get(flag)
    if text is None or "\n" in text:
        return []
    return ["    " + text, "    " + " " * max(problem.col - 1, 0) + "^"]


def run_command_line_claim(args: Any, out: TextIO | None = None) -> tuple[list[Problem], dict[str, Verdict], list[str]]:
    """Judge the claim given with --of/--wrt/--expect/--symbols; (problems, verdicts, caret lines)."""
    sc, problems = from_command_line(args.of, args.wrt, args.expect, args.symbols, args.assume, args.layout, args.functions,
                                     args.where, order=args.order)
    texts = {f"--{k}": v for k, v in (("of", args.of), ("wrt", args.wrt), ("expect", args.expect), ("symbols", args.symbols),
                                      ("assume", args.assume), ("functions", args.functions), ("where", args.where)) if v is not None}
    if sc is None:
        extra = [line for p in problems for line in [p.format(), *caret_lines(p, texts)]]
        return problems, {}, extra
    j = _judge_or_undecided(sc, default_checker(args.jobs, args.timeout), "cli")
    print_judgement(j, sc, out)
    return [], {sc.label: verdict_of(j)}, []


def _judge_or_undecided(sc: StudentClaim, checker: Any, surface: str) -> Judgement:
    """judge(), with a failure of the checker itself reported as an undecided verdict, never a traceback."""
    try:
        return judge(sc, checker, surface)
    except Exception as err:  # noqa: BLE001 - a bug must not show a user a traceback
        d = Decision("undecided", detail=f"the checker failed on this claim ({type(err).__name__}: {err}); please report it")
        return Judgement(sc.label, "undecided", sc.kind, (), "", {"numerator": d}, text=sc.text)


def run_claim_documents(docs: list[Document], args: Any, out: TextIO | None = None) -> tuple[list[Problem], dict[str, Verdict]]:
    problems: list[Problem] = []
    verdicts: dict[str, Verdict] = {}
    checker = default_checker(args.jobs, args.timeout)
    for doc in docs:
        sc, found = claim_from_document(doc)
        if sc is None:
            problems += found
            continue
        j = _judge_or_undecided(sc, checker, "file")
        print_judgement(j, sc, out)
        verdicts[sc.label] = verdict_of(j)
    return problems, verdicts


# ------------------------------------------------------------------ a refuted rule of a corpus

def rule_refutation_hints(rule: Any) -> tuple[tuple[str, ...], list[str]]:
    """For a refuted rule: the path of the field to fix (("expect",), or ("example", "expect") when the rule's
    own claim holds and its worked example does not), and the "probably: ..." lines of the usual slips
    (layout, transpose, symmetric-only shortcut, factor 2, sign, swapped factors) that the exact all-sizes
    check confirms, in the words a claim file gets. Help on top of the verdict: any failure gives no lines."""
    from generator.student.claim_deciders import EngineChecker

    data = rule.doc.data if isinstance(rule.doc.data, dict) else {}
    wrt = data.get("wrt")
    written = str(data.get("expect", "")) + " ".join(str(v) for v in (data.get("where") or {}).values()) \
        if isinstance(data.get("where") or {}, dict) else str(data.get("expect", ""))
    if data.get("kind") == "differential" and isinstance(wrt, str) and f"d({wrt})" not in written.replace(" ", ""):
        return ("expect",), [f"probably: a differential is linear in d({wrt}): expect must hold d({wrt}) "
                             f"(e.g. d(inv(X)) = -inv(X) @ d(X) @ inv(X)); without it, it is not a differential"]
    fields = {k: v for k, v in data.items() if k in CLAIM_FIELDS}
    try:
        sc, problems = build_claim(fields, file_locator(rule.doc), label=rule.id)
        if sc is None or problems:
            return ("expect",), []
        j = judge(sc, EngineChecker(), "file")
    except Exception:  # noqa: BLE001 - the hints are help; the verdict stands without them
        return ("expect",), []
    if j.status == "verified" and isinstance(data.get("example"), dict):
        return ("example", "expect"), []
    return ("expect",), [line for line in j.lines() if line.startswith("probably: ")]
