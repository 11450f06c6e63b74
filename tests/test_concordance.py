"""Concordances (generator/engine/concordance.py): the loader's checks, the export field, and the real Cookbook map.

The loader tests write a small rules folder with a concordance beside it and assert the exact
problem lines `mcref check` prints. The corpus tests read rules/_concordance-cookbook-2012.yaml.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from generator.engine import concordance as conc
from generator.engine.load import parse_yaml
from generator.pipeline import DEFAULT_RULES, ROOT, load_and_parse

from engine_support import PROBLEM_LINE, Run, run_inprocess, write_rule

SECTIONS = "- slug: traces\n  title: Traces\n"
TRACE_AXB = """
title: Trace of a product, by the middle factor
section: traces
layout: denominator
symbols: {A: [m, n], X: [n, p], B: [p, m]}
of: trace(A @ X @ B)
wrt: X
expect: A.T @ B.T
"""
TRACE_X = """
title: Trace, by the matrix
section: traces
layout: denominator
symbols: {X: [n, n]}
of: trace(X)
wrt: X
expect: eye(n)
"""


def filler(skip: set[int] = frozenset()) -> list[dict]:  # type: ignore[assignment]
    """Not-applicable entries for every Cookbook equation 33-144 except those in skip."""
    return [{"ref": str(n), "formula": "x", "status": "not-applicable", "number": "confirmed", "confirmed_by": "test", "note": "test filler"}
            for n in range(33, 145) if n not in skip]


def folder_with(tmp_path: Path, entries: list[dict], *, extra_rule: str = "", errata: list[dict] | None = None) -> Path:
    """tmp/rules with trace-axb and trace-x (and optionally one more), the given concordance, and errata."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "_sections.yaml").write_text(SECTIONS, encoding="utf-8")
    write_rule(rules, "trace-axb", TRACE_AXB)
    write_rule(rules, "trace-x", TRACE_X)
    if extra_rule:
        write_rule(rules, "cited", extra_rule)
    (rules / conc.COOKBOOK.file).write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    if errata is not None:
        (tmp_path / "errata").mkdir()
        (tmp_path / "errata" / "cookbook.yaml").write_text(yaml.safe_dump(errata, sort_keys=False), encoding="utf-8")
    return rules


def check(rules: Path, monkeypatch, capsys) -> Run:
    return run_inprocess(["check", "--no-cache", "."], rules, monkeypatch, capsys)


def problems(run: Run) -> list[str]:
    import re

    return [line for line in run.lines if re.match(PROBLEM_LINE, line)]


def line_of(path: Path, text: str, after: int = 0) -> int:
    """1-based number of the first line of path containing text, after line `after`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > after and text in line)


GOOD = [
    {"ref": "99", "formula": r"\frac{\partial}{\partial \mathbf{X}} \tr(\mathbf{X}) = \mathbf{I}", "status": "verified",
     "rules": ["trace-x"], "number": "confirmed", "confirmed_by": "SymPy"},
    {"ref": "101", "formula": r"\frac{\partial}{\partial \mathbf{X}} \tr(\mathbf{A}\mathbf{X}\mathbf{B}) = \mathbf{A}^\top\mathbf{B}^\top",
     "status": "verified", "rules": ["trace-axb"], "number": "position-only", "confirmed_by": "position: between 100 and 102",
     "note": "The case $\\mathbf{B} = \\mathbf{I}$ is eq. 100."},
    {"ref": "after 64", "formula": "J", "status": "not-applicable", "number": "unnumbered", "confirmed_by": "position", "note": "test"},
]


# ---------------------------------------------------------------- the loader accepts a good file


def test_good_concordance_checks_clean_and_exports_in_equation_order(tmp_path: Path, monkeypatch, capsys) -> None:
    """A complete, well-formed concordance adds no problem, and the export lists entries by equation number."""
    rules = folder_with(tmp_path, list(reversed(GOOD)) + filler({99, 101}))
    run = check(rules, monkeypatch, capsys)
    assert problems(run) == [] and run.code == 0, run.out + run.err
    out = tmp_path / "rules.json"
    run = run_inprocess(["export", "--no-cache", "--out", str(out), "."], rules, monkeypatch, capsys)
    assert run.code == 0, run.err
    export = json.loads(out.read_text(encoding="utf-8"))
    cookbook = export["concordance"]["cookbook-2012"]
    refs = [e["ref"] for e in cookbook]
    assert refs[:3] == ["33", "34", "35"] and refs.index("after 64") == refs.index("64") + 1
    assert refs.index("101") == refs.index("100") + 1
    assert export["concordance"]["wikipedia"] == []
    assert all("concordance" in r for r in export["rules"])
    entry = next(e for e in cookbook if e["ref"] == "101")
    assert entry == {"ref": "101", "formula": GOOD[1]["formula"], "status": "verified", "rules": ["trace-axb"],
                     "confirmed_by": GOOD[1]["confirmed_by"], "note": GOOD[1]["note"], "number": "position-only", "erratum": None}
    by_id = {r["id"]: r for r in export["rules"]}
    assert by_id["trace-axb"]["concordance"] == [{"source": "cookbook-2012", "ref": "101", "status": "verified"}]
    assert by_id["trace-x"]["concordance"] == [{"source": "cookbook-2012", "ref": "99", "status": "verified"}]
    counts = export["concordance_sources"]["cookbook-2012"]["counts"]
    assert counts == {"verified": 2, "verified-corrected": 0, "not-applicable": 111, "total": 113,
                      "number-confirmed": 111, "number-position-only": 1, "number-unnumbered": 1}


def test_position_only_number_is_printed_with_its_caveat(tmp_path: Path, monkeypatch, capsys) -> None:
    """A rule citing a Cookbook number known only by position carries that caveat in its printed source."""
    rule = TRACE_AXB + "sources:\n  - cookbook: 101\n"
    confirmed = TRACE_X + "sources:\n  - cookbook: 99\n"
    rules = folder_with(tmp_path, GOOD + filler({99, 101}))
    write_rule(rules, "trace-axb", rule)
    write_rule(rules, "trace-x", confirmed)
    out = tmp_path / "rules.json"
    run = run_inprocess(["export", "--no-cache", "--out", str(out), "."], rules, monkeypatch, capsys)
    assert run.code == 0, run.out + run.err
    by_id = {r["id"]: r for r in json.loads(out.read_text(encoding="utf-8"))["rules"]}
    assert by_id["trace-axb"]["sources"] == [{"kind": "cookbook", "ref": "101",
                                              "text": "The Matrix Cookbook (2012 edition), eq. 101 (number inferred from its position)"}]
    assert by_id["trace-x"]["sources"][0]["text"] == "The Matrix Cookbook (2012 edition), eq. 99"


def test_no_concordance_file_means_no_concordance_checks(tmp_path: Path, monkeypatch, capsys) -> None:
    """A rules folder without concordance files (a test corpus, a subset) checks as before; the export has empty lists."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "_sections.yaml").write_text(SECTIONS, encoding="utf-8")
    write_rule(rules, "trace-axb", TRACE_AXB + "sources:\n  - cookbook: 101\n")
    run = check(rules, monkeypatch, capsys)
    assert run.code == 0 and problems(run) == []


# ---------------------------------------------------------------- every problem, at its line


def test_missing_equation_is_reported_with_the_fix(tmp_path: Path, monkeypatch, capsys) -> None:
    """Every Cookbook equation 33-144 must have an entry; a missing one is named."""
    rules = folder_with(tmp_path, GOOD + filler({99, 101, 77}))
    run = check(rules, monkeypatch, capsys)
    assert run.code == 2
    assert problems(run) == [f"{conc.COOKBOOK.file}:1:1: MC019 {conc.COOKBOOK.file} must have an entry for eq. 77 (found none); "
                             "add one, not-applicable with a note if no rule can state it"]


def test_applicable_equation_without_rules_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    """A verified entry must list the rules that state it."""
    entries = [{**GOOD[0], "rules": []}] + GOOD[1:] + filler({99, 101})
    rules = folder_with(tmp_path, entries)
    run = check(rules, monkeypatch, capsys)
    assert problems(run) == [f"{conc.COOKBOOK.file}:1:3: MC019 entry '99': an applicable equation must map to a verified rule: "
                             "give rules, or make it not-applicable with a note saying why (found no rules)"]


def test_unknown_rule_id_is_reported_at_its_position(tmp_path: Path, monkeypatch, capsys) -> None:
    """A listed rule that does not exist is an MC016 at the id's line and column."""
    entries = [{**GOOD[0], "rules": ["trace-x", "trace-nonexistent"]}] + GOOD[1:] + filler({99, 101})
    rules = folder_with(tmp_path, entries)
    run = check(rules, monkeypatch, capsys)
    line = line_of(rules / conc.COOKBOOK.file, "trace-nonexistent")
    assert problems(run) == [f"{conc.COOKBOOK.file}:{line}:5: MC016 entry '99': rules[1] must be the id of a rule (found 'trace-nonexistent')"]


def test_cookbook_entry_says_how_its_number_is_known(tmp_path: Path, monkeypatch, capsys) -> None:
    """A Cookbook entry without confirmed_by is refused: every number's provenance is stated."""
    entries = [{k: v for k, v in GOOD[0].items() if k != "confirmed_by"}] + GOOD[1:] + filler({99, 101})
    rules = folder_with(tmp_path, entries)
    run = check(rules, monkeypatch, capsys)
    assert problems(run) == [f"{conc.COOKBOOK.file}:1:3: MC010 entry '99': confirmed_by must be present, saying how the number is known (found it missing)"]


def test_not_applicable_entries_need_a_reason_and_no_rules(tmp_path: Path, monkeypatch, capsys) -> None:
    """A not-applicable entry says why (note) and lists no rules."""
    entries = GOOD + filler({99, 101, 39, 45})
    entries += [{"ref": "39", "formula": "k", "status": "not-applicable", "number": "confirmed", "confirmed_by": "Lean"},
                {"ref": "45", "formula": "h", "status": "not-applicable", "number": "confirmed", "confirmed_by": "Lean", "note": "complex",
                 "rules": ["trace-x"]}]
    rules = folder_with(tmp_path, entries)
    run = check(rules, monkeypatch, capsys)
    path = rules / conc.COOKBOOK.file
    l39 = line_of(path, "ref: '39'")
    l45 = line_of(path, "ref: '45'")
    assert problems(run) == [
        f"{conc.COOKBOOK.file}:{l39}:3: MC010 entry '39': note must be present for a not-applicable entry, saying why (found it missing)",
        f"{conc.COOKBOOK.file}:{line_of(path, 'rules:', l45) + 1}:3: MC019 entry '45': a not-applicable entry must list no rules "
        "(found trace-x); make it verified if they state it",
    ]


def test_form_problems_are_all_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    """Unknown fields, bad status, number and ref values, duplicates and forbidden LaTeX: every one, at once."""
    entries = GOOD + filler({99, 101, 40, 41, 42})
    entries += [
        {"ref": "40", "formula": r"\input{x}", "status": "verified", "rules": ["trace-x"], "number": "confirmed", "confirmed_by": "L", "rulez": []},
        {"ref": "41", "formula": "y", "status": "correct", "number": "sure", "confirmed_by": "L", "note": "n"},
        {"ref": "200", "formula": "y", "status": "not-applicable", "number": "confirmed", "confirmed_by": "L", "note": "n"},
        {"ref": "41", "formula": "y", "status": "not-applicable", "number": "confirmed", "confirmed_by": "L", "note": "again"},
    ]
    rules = folder_with(tmp_path, entries)
    run = check(rules, monkeypatch, capsys)
    path = rules / conc.COOKBOOK.file
    l40 = line_of(path, "ref: '40'")
    l41 = line_of(path, "ref: '41'")
    l200 = line_of(path, "ref: '200'")
    l41b = line_of(path, "ref: '41'", l200)
    name = conc.COOKBOOK.file
    assert run.code == 2
    assert problems(run) == [
        f"{name}:1:1: MC019 {name} must have an entry for eq. 42 (found none); add one, not-applicable with a note if no rule can state it",
        f"{name}:{line_of(path, 'formula:', l40)}:12: MC030 entry '40': formula must use only whitelisted LaTeX commands (found \\input)",
        f"{name}:{line_of(path, 'rulez', l40)}:3: MC011 entry '40': rulez must not be there: not a field of a concordance entry "
        "(the fields are ref, formula, status, rules, number, confirmed_by, note, erratum)",
        f"{name}:{line_of(path, 'status:', l41)}:11: MC012 entry '41': status must be one of verified, verified-corrected, not-applicable (found 'correct')",
        f"{name}:{line_of(path, 'number:', l41)}:11: MC012 entry '41': number must be one of confirmed, position-only, unnumbered (found 'sure')",
        f"{name}:{l200}:8: MC012 entry '200': ref must be an equation number 33-144, or 'after N' for an unnumbered display after eq. N (found '200')",
        f"{name}:{l41b}:8: MC019 entry '41': ref must appear once (found it again; the first is on line {l41})",
    ]


def test_rule_citing_an_unmapped_number_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    """A rule that cites Cookbook eq. N must be listed under N: the concordance stays the complete map."""
    rules = folder_with(tmp_path, GOOD + filler({99, 101}),
                        extra_rule=TRACE_X + "sources:\n  - derived: \"by hand\"\n  - cookbook: 100\n")
    run = check(rules, monkeypatch, capsys)
    assert problems(run) == ["cited.yaml:11:15: MC019 sources[1].cookbook must be an equation the concordance maps to this rule "
                             f"(found 100: {conc.COOKBOOK.file} does not list cited under eq. 100); add the rule there or cite another source"]


def test_verified_corrected_entry_needs_an_existing_erratum(tmp_path: Path, monkeypatch, capsys) -> None:
    """A corrected equation names its erratum in errata/cookbook.yaml, and the erratum's rule is listed."""
    erratum = {"number": 1, "title": "A slip", "where": "eq. 102", "cookbook": "$x$", "problem": "p", "correction": "c", "rule": "trace-x"}
    entries = GOOD + filler({99, 101, 102, 103, 104})
    entries += [
        {"ref": "102", "formula": "y", "status": "verified-corrected", "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "S", "note": "n"},
        {"ref": "103", "formula": "y", "status": "verified-corrected", "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "S", "erratum": 7},
        {"ref": "104", "formula": "y", "status": "verified-corrected", "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "S", "erratum": 1},
    ]
    rules = folder_with(tmp_path, entries, errata=[erratum])
    run = check(rules, monkeypatch, capsys)
    path = rules / conc.COOKBOOK.file
    l102, l103, l104 = (line_of(path, f"ref: '{n}'") for n in (102, 103, 104))
    name = conc.COOKBOOK.file
    assert problems(run) == [
        f"{name}:{l102}:3: MC010 entry '102': erratum must be present for a verified-corrected entry: the number of its entry in errata/cookbook.yaml (found it missing)",
        f"{name}:{line_of(path, 'erratum:', l103)}:12: MC019 entry '103': erratum must be the number of an entry of {tmp_path / 'errata' / 'cookbook.yaml'} (found 7)",
        f"{name}:{line_of(path, 'erratum:', l104)}:12: MC019 entry '104': erratum 1 corrects with rule 'trace-x', which the entry must list (found trace-axb)",
    ]


def test_corrected_entry_exports_its_erratum(tmp_path: Path, monkeypatch, capsys) -> None:
    """The export carries the erratum inline, so the concordance page can show the printed and the corrected form."""
    erratum = {"number": 1, "title": "A slip", "where": "eq. 102", "cookbook": "$x$", "problem": "p", "correction": "c", "rule": "trace-axb"}
    entries = GOOD + filler({99, 101, 102}) + [
        {"ref": "102", "formula": "y", "status": "verified-corrected", "rules": ["trace-axb"], "number": "confirmed", "confirmed_by": "S", "erratum": 1}]
    rules = folder_with(tmp_path, entries, errata=[erratum])
    out = tmp_path / "rules.json"
    run = run_inprocess(["export", "--no-cache", "--out", str(out), "."], rules, monkeypatch, capsys)
    assert run.code == 0, run.out + run.err
    entry = next(e for e in json.loads(out.read_text(encoding="utf-8"))["concordance"]["cookbook-2012"] if e["ref"] == "102")
    assert entry["erratum"] == erratum


def test_errata_file_form_is_checked(tmp_path: Path, monkeypatch, capsys) -> None:
    """errata/cookbook.yaml entries need every field, known fields only, and whitelisted LaTeX."""
    bad = [{"number": 1, "title": "t", "where": "w", "cookbook": "$\\write18{x}$", "problem": "p", "correction": "c",
            "rule": "trace-axb", "extra": 1},
           {"number": 2, "title": "t"}]
    rules = folder_with(tmp_path, GOOD + filler({99, 101}), errata=bad)
    run = check(rules, monkeypatch, capsys)
    assert [p.split(": ", 1)[1][:5] for p in problems(run)] == ["MC030", "MC011"] + ["MC010"] * 5
    assert all(p.startswith(f"{tmp_path / 'errata' / 'cookbook.yaml'}:") for p in problems(run))


def test_bad_concordance_never_shows_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    """A concordance that is not a list, or holds garbage entries, is reported, never a crash."""
    rules = folder_with(tmp_path, GOOD)
    (rules / conc.COOKBOOK.file).write_text("ref: 33\n", encoding="utf-8")
    run = check(rules, monkeypatch, capsys)
    assert run.code == 2 and "Traceback" not in run.out + run.err
    assert problems(run) == [f"{conc.COOKBOOK.file}:1:1: MC004 {conc.COOKBOOK.file} must hold a YAML list of entries (found a mapping)"]
    (rules / conc.COOKBOOK.file).write_text("- 3\n- [1, 2]\n- {ref: [1], formula: 2, status: verified}\n", encoding="utf-8")
    run = check(rules, monkeypatch, capsys)
    assert run.code == 2 and "Traceback" not in run.out + run.err
    assert len([p for p in problems(run) if "MC019" in p and "must have an entry" in p]) == 112


# ---------------------------------------------------------------- the real Cookbook concordance

REAL = DEFAULT_RULES / conc.COOKBOOK.file


@pytest.fixture(scope="module")
def real():
    doc, read_problems = parse_yaml(REAL.read_text(encoding="utf-8"), REAL, str(REAL))
    assert doc is not None and read_problems == []
    entries, found = conc.read_concordance(doc, conc.COOKBOOK)
    assert [p.format() for p in found] == []
    return {e.ref: e for e in entries}


@pytest.fixture(scope="module")
def corpus():
    from generator.pipeline import verify

    report = load_and_parse([DEFAULT_RULES], publish=True)
    verify(report)
    return report


def test_real_concordance_covers_every_equation_of_the_chapter(real) -> None:
    """rules/_concordance-cookbook-2012.yaml has one entry for each of eqs. 33-144."""
    numbered = sorted(int(r) for r in real if r.isdigit())
    assert numbered == list(range(33, 145))


def test_real_concordance_loads_without_problems(corpus) -> None:
    """The corpus check reports no problem in the concordance, its errata, or a rule's Cookbook citation."""
    assert [p.format() for p in corpus.problems if "concordance" in p.path or "errata" in p.path or p.code == "MC019"] == []
    assert conc.COOKBOOK.key in corpus.concordance


def test_every_applicable_equation_maps_to_verified_rules(real, corpus) -> None:
    """Each verified or corrected equation lists rules, and each of them is verified by the engine."""
    for entry in real.values():
        if entry.status == "not-applicable":
            assert entry.rules == () and entry.note.strip(), entry.ref
            continue
        assert entry.rules, entry.ref
        for rule_id in entry.rules:
            verdict = corpus.verdicts.get(rule_id)
            assert verdict is not None and verdict.status == "verified", f"eq. {entry.ref}: {rule_id}"


def test_every_cookbook_citation_is_in_the_concordance(real, corpus) -> None:
    """A rule citing Cookbook eq. N is listed under N (the loader's MC019, asserted on the real corpus)."""
    for rule in corpus.rules:
        for item in rule.data.get("sources", []):
            if "cookbook" in item:
                assert rule.id in real[str(item["cookbook"])].rules, f"{rule.id} cites eq. {item['cookbook']}"


def test_confirmed_equations_cite_their_number(real, corpus) -> None:
    """Where a rule states a confirmed equation in the Cookbook's own form, it cites the number (the first listed rule)."""
    by_id = {r.id: r for r in corpus.rules}
    missing = []
    for entry in real.values():
        if entry.status == "not-applicable" or entry.number != "confirmed":
            continue
        first = by_id[entry.rules[0]]
        cited = {str(s["cookbook"]) for s in first.data.get("sources", []) if "cookbook" in s}
        if entry.ref not in cited:
            missing.append(f"{entry.ref}: {first.id}")
    assert missing == []


def test_not_applicable_is_a_minority_with_reasons(real) -> None:
    """At most 30 of the 112 equations are not applicable (complex, Kronecker, eigenvectors, structured ...)."""
    na = [e for e in real.values() if e.status == "not-applicable" and e.ref.isdigit()]
    assert len(na) <= 30
    assert all(len(e.note) >= 20 for e in na)


def test_corrected_equations_have_errata(real) -> None:
    """Every verified-corrected equation has an erratum in errata/cookbook.yaml naming a listed rule."""
    errata_doc, read_problems = parse_yaml((ROOT / "errata" / "cookbook.yaml").read_text(encoding="utf-8"),
                                           ROOT / "errata" / "cookbook.yaml", "errata/cookbook.yaml")
    assert errata_doc is not None and read_problems == []
    errata, found = conc.read_errata(errata_doc, conc.COOKBOOK)
    assert found == []
    corrected = [e for e in real.values() if e.status == "verified-corrected"]
    assert corrected, "the known slips of eqs. 92 and 127 must be recorded"
    for entry in corrected:
        assert entry.erratum in errata and errata[entry.erratum]["rule"] in entry.rules
    assert sorted(errata) == sorted(e.erratum for e in corrected)
