"""`where:` bindings (named intermediates), the teaching order of sections (MC017) and retired ids (MC018)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.engine.parse import walk

from engine_support import PROBLEM_LINE, parse_file, run_inprocess, write_rule

import re

ATTENTION = """
title: Attention scores, by S
section: layers
layout: denominator
symbols: {S: [n, m], V: [m, p], G: [n, p]}
where:
  P: softmax(S)
  dP: G @ V.T
of: trace(G.T @ P @ V)
wrt: S
expect: EXPECT
sizes: [{n: 2, m: 3, p: 4}, {n: 3, m: 2, p: 1}]
"""
TRUE_SCORES = "P * (dP - (P * dP) @ ones(m, m))"


def scores(expect: str) -> str:
    """The attention-scores rule with the given expect."""
    return ATTENTION.replace("EXPECT", expect)


def problems_of(run) -> list[str]:
    return [line for line in run.lines if re.match(PROBLEM_LINE, line)]


def test_where_names_are_inlined_before_any_check(tmp_path: Path) -> None:
    """The claim the engine checks holds no name: of and expect are the substituted expressions."""
    rule, problems = parse_file(write_rule(tmp_path, "scores", scores(TRUE_SCORES)))
    assert problems == []
    for tree in (rule.claim.of, rule.claim.expect, rule.claim.other()):
        assert not [e for e in walk(tree) if e.op == "ref"]
    assert [name for name, _ in rule.claim.where] == ["P", "dP"]


def test_where_prints_the_short_form_and_one_line_per_name(tmp_path: Path) -> None:
    """Readers see P and dP in the formula, in both layouts, and a where line for each name."""
    rule, _ = parse_file(write_rule(tmp_path, "scores", scores(TRUE_SCORES)))
    assert rule.latex["denominator"] == (r"\mathbf{P} \odot \left(\mathrm{d}\mathbf{P} - \left(\mathbf{P} \odot \mathrm{d}\mathbf{P}\right) "
                                         r"\mathbf{1}_{m \times m}\right)")
    assert r"\mathrm{d}\mathbf{P}^{\top}" in rule.latex["numerator"]
    assert r"\mathbf{1}_{m \times m}^{\top}" not in rule.latex["numerator"]  # a ones matrix transposes to a ones matrix
    assert rule.latex["where"] == [
        {"name": r"\mathbf{P}", "value": r"\softmax\left(\mathbf{S}\right)"},
        {"name": r"\mathrm{d}\mathbf{P}", "value": r"\mathbf{G} \mathbf{V}^{\top}"},
    ]
    assert r"\mathbf{P}" in rule.latex["of"]


@pytest.mark.parametrize("expect, status", [
    (TRUE_SCORES, "verified"),
    ("P * (dP - (P * dP) @ ones(m, m)) * 2", "refuted"),
    ("P * (dP - dP @ ones(m, m))", "refuted"),
])
def test_where_rules_are_verified_by_substitution(tmp_path: Path, monkeypatch, capsys, expect: str, status: str) -> None:
    """A true short form is verified; a wrong one is refuted, though its names look the same."""
    write_rule(tmp_path, "scores", scores(expect))
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    run = run_inprocess(["check", "scores.yaml"], tmp_path, monkeypatch, capsys)
    assert run.lines[0].startswith(status), run.out


def test_a_wrong_binding_refutes_the_rule(tmp_path: Path, monkeypatch, capsys) -> None:
    """The names stand for what they say: a wrong where line makes the (unchanged) formula false."""
    body = scores(TRUE_SCORES).replace("dP: G @ V.T", "dP: G @ V.T * 2")
    write_rule(tmp_path, "scores", body)
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    run = run_inprocess(["check", "scores.yaml"], tmp_path, monkeypatch, capsys)
    assert run.lines[0].startswith("refuted"), run.out


@pytest.mark.parametrize("change, line", [
    (("P: softmax(S)", "S: softmax(S)"), "scores.yaml:7:3: MC012 where.S must be a new name (found the name of a symbol, function or dimension); rename it"),
    (("P: softmax(S)", "trace: softmax(S)"), "scores.yaml:7:3: MC012 where.trace must be a new name (found the name of a symbol, function or dimension); rename it"),
    (("  P: softmax(S)\n  dP: G @ V.T", "  dP: G @ V.T @ P.T @ P\n  P: softmax(S)"),
     "scores.yaml:7:17: MC022 where.dP name P must be defined above dP (where names are read in order; found it below)"),
    (("dP: G @ V.T", "dP: G @ V.T\n  Q: S * 2"), "scores.yaml:9:3: MC041 where.Q must be used in of, expect or a later name (found it unused); remove it"),
    (("dP: G @ V.T", "dP: G @ V"), "scores.yaml:8:9: MC024 where.dP @ must join nxp with px k (found nxp @ mxp); did you mean G @ V.T?"),
])
def test_where_mistakes_name_the_line_and_the_fix(tmp_path: Path, monkeypatch, capsys, change: tuple[str, str], line: str) -> None:
    """A name that clashes, is used before it is defined, is unused or is ill-shaped is reported at its line."""
    body = scores(TRUE_SCORES).replace(*change)
    write_rule(tmp_path, "scores", body)
    run = run_inprocess(["check", "scores.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert problems_of(run) == [line.replace("px k", "pxk")]


def test_a_differential_name_cannot_enter_of(tmp_path: Path, monkeypatch, capsys) -> None:
    """d(X) through a where name in `of` is refused: of is what is differentiated, not a differential."""
    write_rule(tmp_path, "dinv", """
title: Differential of the inverse
section: traces
kind: differential
symbols: {X: [n, n]}
assume: {X: [invertible]}
where:
  dX: d(X)
of: trace(dX)
wrt: X
expect: trace(dX)
""")
    run = run_inprocess(["check", "dinv.yaml"], tmp_path, monkeypatch, capsys)
    assert problems_of(run) == ["dinv.yaml:9:5: MC023 of must not use d(...), even through a where name (found one)"]


def test_an_example_has_its_own_where(tmp_path: Path, monkeypatch, capsys) -> None:
    """A worked example may name intermediates too; they are checked like the rule's."""
    body = scores(TRUE_SCORES) + """example:
  text: With one row.
  symbols: {S: [1, m], V: [m, p], G: [1, p]}
  where:
    P: softmax(S)
  of: trace(G.T @ P @ V)
  expect: P * (G @ V.T - (P * (G @ V.T)) @ ones(m, m))
"""
    write_rule(tmp_path, "scores", body)
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    rule, problems = parse_file(tmp_path / "scores.yaml")
    assert problems == [] and rule.example_latex["where"][0]["name"] == r"\mathbf{P}"
    run = run_inprocess(["check", "scores.yaml"], tmp_path, monkeypatch, capsys)
    assert run.lines[0].startswith("verified"), run.out


# ---------------------------------------------------------------- teaching order (MC017)

TRACE = """
title: Trace, by X
section: traces
layout: denominator
symbols: {X: [n, n]}
of: trace(X)
wrt: X
expect: eye(n)
conditions: none
sources: [{derived: "definition"}]
tags: [trace]
aliases: [tr X]
"""


def order_folder(tmp_path: Path, traces_order: str | None) -> Path:
    sections = "- slug: traces\n  title: Traces\n" + (f"  rules: [{traces_order}]\n" if traces_order is not None else "")
    (tmp_path / "_sections.yaml").write_text(sections, encoding="utf-8")
    write_rule(tmp_path, "trace-x", TRACE)
    write_rule(tmp_path, "trace-2x", TRACE.replace("trace(X)", "trace(2 * X)").replace("eye(n)", "2 * eye(n)"))
    return tmp_path


@pytest.mark.parametrize("order, lines", [
    ("trace-x, trace-2x", []),
    ("trace-x", ["trace-2x.yaml:3:10: MC017 section traces must place this rule in its teaching order (found 'trace-2x' unlisted); "
                 "add it to the rules: list of traces in _sections.yaml"]),
    ("trace-x, trace-2x, trace-x", ["_sections.yaml:3:30: MC017 traces: rules[2] must list each rule once (found 'trace-x' again, also in traces)"]),
    ("trace-x, trace-2x, trace-y", ["_sections.yaml:3:30: MC017 traces: rules[2] must be the id of a rule file (found 'trace-y'; did you mean trace-x?)"]),
])
def test_teaching_order_places_every_rule_once(tmp_path: Path, monkeypatch, capsys, order: str, lines: list[str]) -> None:
    """With --publish every rule of a section is listed once in its `rules:`, and every listed id is a rule."""
    order_folder(tmp_path, order)
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    run = run_inprocess(["check", "--publish", "."], tmp_path, monkeypatch, capsys)
    assert problems_of(run) == lines
    assert run.code == (2 if lines else 0)


def test_teaching_order_is_a_publishing_requirement_only(tmp_path: Path, monkeypatch, capsys) -> None:
    """A plain `mcref check` of a rule not yet placed verifies it and says nothing of the order."""
    order_folder(tmp_path, "trace-x")
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 0 and problems_of(run) == []


def test_the_export_follows_the_teaching_order(tmp_path: Path) -> None:
    """Rules appear in the order of `rules:`, not alphabetically, and each section lists its ids."""
    from generator.pipeline import export_rules
    order_folder(tmp_path, "trace-x, trace-2x")
    export = export_rules(tmp_path, use_cache=False, publish=True)
    assert [r["id"] for r in export["rules"]] == ["trace-x", "trace-2x"]
    assert export["sections"][0]["rules"] == ["trace-x", "trace-2x"]
    assert export["rules"][0]["path"] == "rules/trace-x/"


# ---------------------------------------------------------------- retired ids (MC018)

@pytest.mark.parametrize("redirects, lines", [
    ("trace-old: trace-x\n", []),
    ("trace-old: trace-y\n", ["_redirects.yaml:1:12: MC018 trace-old must resolve to the id of a rule file (found 'trace-y'; did you mean trace-x?)"]),
    ("trace-2x: trace-x\n", ["_redirects.yaml:1:1: MC018 trace-2x must be a retired id, not a rule file (found rules/trace-2x.yaml); delete the redirect or the file"]),
    ("trace-old: {to: trace-x, section: traces}\n", []),
    ("- trace-x\n", ["_redirects.yaml:1:1: MC018 redirects must map each old id to {to: id, section: its old section} or to an id (found another form)"]),
])
def test_redirects_resolve_to_rules(tmp_path: Path, monkeypatch, capsys, redirects: str, lines: list[str]) -> None:
    """A retired id maps to an existing rule and is not itself a rule file."""
    order_folder(tmp_path, "trace-x, trace-2x")
    (tmp_path / "_redirects.yaml").write_text(redirects, encoding="utf-8")
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert problems_of(run) == lines


def test_the_export_keeps_retired_ids_resolvable(tmp_path: Path) -> None:
    """rules.json maps a retired id to the rule it now resolves to."""
    from generator.pipeline import export_rules
    order_folder(tmp_path, "trace-x, trace-2x")
    (tmp_path / "_redirects.yaml").write_text("trace-old: {to: trace-x, section: traces}\n", encoding="utf-8")
    export = export_rules(tmp_path, use_cache=False, publish=True)
    assert export["redirects"] == {"trace-old": "trace-x"}
    assert export["retired"] == [{"id": "trace-old", "to": "trace-x", "section": "traces"}]


# ---------------------------------------------------------------- titles with math

@pytest.mark.parametrize("title, lines", [
    (r"Quadratic form $\mathbf{x}^\top \mathbf{x}$, by x", []),
    (r"Quadratic form $\mathbf{x}^\top \input{x}$, by x", ["t.yaml:2:8: MC030 title must use only whitelisted LaTeX commands (found \\input)"]),
    (r"Quadratic form $\mathbf{x}^\top, by x", ["t.yaml:2:8: MC012 title must close every $...$ math span (found an odd number of $)"]),
])
def test_titles_may_hold_whitelisted_inline_math(tmp_path: Path, monkeypatch, capsys, title: str, lines: list[str]) -> None:
    """Math in a title is typeset like math in notes, from the same whitelist."""
    write_rule(tmp_path, "t", f"title: '{title}'\n" + TRACE.replace("title: Trace, by X\n", ""))
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    run = run_inprocess(["check", "t.yaml"], tmp_path, monkeypatch, capsys)
    assert problems_of(run) == lines


def test_title_text_renders_title_math_as_plain_text(tmp_path: Path) -> None:
    """rules.json carries the title as text for search and bookmarks: no dollar, no backslash."""
    from generator.pipeline import export_rules
    order_folder(tmp_path, "trace-x, trace-2x")
    path = tmp_path / "trace-x.yaml"
    path.write_text(path.read_text().replace("title: Trace, by X", r"title: 'Trace of $\mathbf{X}^\top \mathbf{X}$, by X'"))
    export = export_rules(tmp_path, use_cache=False, publish=True)
    assert export["rules"][0]["title_text"] == "Trace of Xᵀ X, by X"


def test_publishing_refuses_code_in_a_title(tmp_path: Path, monkeypatch, capsys) -> None:
    """`mcref check --publish` (so `mcref build`) names a code-style title with its fix; a plain check lets the author work."""
    order_folder(tmp_path, "trace-x, trace-2x")
    path = tmp_path / "trace-x.yaml"
    path.write_text(path.read_text().replace("title: Trace, by X", "title: Trace of X^T X, by X"))
    monkeypatch.setenv("MCREF_CACHE_DIR", str(tmp_path / "cache"))
    assert problems_of(run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)) == []
    run = run_inprocess(["check", "--publish", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert problems_of(run) == ["trace-x.yaml:2:8: MC041 title must write math between $...$ or in words, not code (found '^' outside math); "
                                "write a power or transpose between $...$, e.g. $x^2$, $\\mathbf{x}^\\top$"]
