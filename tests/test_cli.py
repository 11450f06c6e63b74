"""The `mcref` command line: check lines and summary, exit codes, export JSON, and running from any folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from generator.pipeline import check

from engine_support import FIXTURES, GOOD, run_inprocess, run_subprocess, write_rule

GOOD_FILES = sorted(GOOD.glob("*.yaml"))
VERDICT = re.compile(r"^(verified|refuted|undecided) +(\S+)  \((cached|\d+\.\d\d s)\)$")
SUMMARY = re.compile(r"^(\d+) verified, (\d+) refuted, (\d+) undecided, (\d+) invalid$")
TRACE = """
title: Trace of a product A X B, by the middle factor
section: traces
layout: denominator
symbols: {A: [m, n], X: [n, p], B: [p, m]}
of: trace(A @ X @ B)
wrt: X
"""


@pytest.fixture(scope="module")
def good_report():
    """One check of the whole good-fixture folder, shared by the per-file tests."""
    return check([GOOD], use_cache=False)


def test_good_fixtures_are_valid(good_report) -> None:
    """The good fixtures have no problems at all."""
    assert [p.format() for p in good_report.problems] == []


@pytest.mark.parametrize("path", GOOD_FILES, ids=[p.stem for p in GOOD_FILES])
def test_good_fixture_is_verified(path: Path, good_report) -> None:
    """Each good fixture (one per supported form) is verified, its example too when it has one."""
    verdict = good_report.verdicts[path.stem]
    assert verdict.status == "verified", verdict.detail
    rule = next(r for r in good_report.rules if r.id == path.stem)
    if rule.example is not None:
        assert verdict.example is not None and verdict.example.status == "verified"


def test_good_fixtures_cover_every_form(good_report) -> None:
    """Together the good fixtures use every function, assumption, derivative kind and layout of the language."""
    from generator.engine.parse import FUNCTIONS, walk

    ops: set[str] = set()
    names: set[str] = set()
    kinds: set[tuple] = set()
    for rule in good_report.rules:
        claim = rule.claim
        for expr in (claim.of, claim.expect):
            for e in walk(expr):
                ops.add(e.op)
                if e.op == "call":
                    names.add(e.name)
                if e.op == "D":
                    names.add("D" if len(claim.scope.functions[e.name].args) == 1 else "Dk")
        wrt = claim.scope.symbols[claim.wrt]
        shape_kind = lambda s: "scalar" if s == (1, 1) else ("vector" if s[1] == 1 else "matrix")
        kinds.add((claim.kind, shape_kind(claim.of.shape), shape_kind(wrt)))
    raw_text = "\n".join(p.read_text(encoding="utf-8") for p in GOOD_FILES)
    assert "max(0, " in raw_text  # parsed as relu
    assert set(FUNCTIONS) - {"max", "d"} <= names | {"D"}
    assert {"D", "Dk"} <= names and "d" in ops and "apply" in ops
    assert {("derivative", "scalar", "scalar"), ("derivative", "scalar", "vector"), ("derivative", "scalar", "matrix"),
            ("derivative", "vector", "scalar"), ("derivative", "vector", "vector"), ("derivative", "matrix", "scalar")} <= kinds
    assert any(k[0] == "differential" for k in kinds)
    orders = {(r.claim.kind, r.claim.order, shape_kind(r.claim.of.shape), shape_kind(r.claim.scope.symbols[r.claim.wrt]))
              for r in good_report.rules}
    assert {("derivative", 2, "scalar", "vector"), ("derivative", 2, "matrix", "scalar"), ("differential", 2, "scalar", "matrix")} <= orders
    generic_shapes = {(shape_kind(s.args[0]), shape_kind(s.to)) for r in good_report.rules for s in r.claim.scope.functions.values()}
    assert {("scalar", "matrix"), ("matrix", "scalar")} <= generic_shapes
    assert "DD" in ops
    assumptions = {p for r in good_report.rules for props in r.claim.assume.values() for p in props}
    assert assumptions == {"symmetric", "spd", "invertible", "diagonal", "positive", "nonzero", "probability"}
    assert {r.claim.layout for r in good_report.rules if r.claim.kind == "derivative"} == {"numerator", "denominator"}
    assert any(r.example is not None for r in good_report.rules)
    softmax_shapes = {e.args[0].shape[1] == 1 for r in good_report.rules for e in walk(r.claim.of) if e.op == "call" and e.name == "softmax"}
    assert softmax_shapes == {True, False}  # a vector and a matrix (row by row)


# ---------------------------------------------------------------- check: from any folder, lines, exit codes

def test_issue_example_is_accepted_from_any_folder(tmp_path: Path) -> None:
    """`mcref check tests/fixtures/good/trace-axb.yaml`, run from an unrelated folder, verifies it and exits 0."""
    run = run_subprocess(["check", str(GOOD / "trace-axb.yaml")], tmp_path)
    assert run.code == 0, run.out + run.err
    assert len(run.lines) == 3
    assert VERDICT.match(run.lines[0]) and VERDICT.match(run.lines[0]).group(1, 2) == ("verified", "trace-axb")
    assert run.lines[1] == "1 verified, 0 refuted, 0 undecided, 0 invalid"
    assert run.lines[2] == "1 of 1 verified rules proved for all sizes"
    assert "Traceback" not in run.err


def test_relative_path_from_a_copy_prints_relative_locations(tmp_path: Path, monkeypatch, capsys) -> None:
    """A copy of the issue's example checked by a relative path is verified; problems would print that path."""
    (tmp_path / "sub").mkdir()
    shutil.copy(GOOD / "trace-axb.yaml", tmp_path / "sub" / "trace-axb.yaml")
    run = run_inprocess(["check", "sub/trace-axb.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 0
    assert run.lines[-2] == "1 verified, 0 refuted, 0 undecided, 0 invalid"


def test_one_line_per_rule_and_a_summary(tmp_path: Path, monkeypatch, capsys) -> None:
    """check prints one verdict line per rule and the summary 'N verified, N refuted, N undecided, N invalid'."""
    write_rule(tmp_path, "right", TRACE + "expect: A.T @ B.T\n")
    write_rule(tmp_path, "also-right", TRACE + "expect: (B @ A).T\n")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 0
    assert sorted(VERDICT.match(line).group(2) for line in run.lines[:-2]) == ["also-right", "right"]
    assert run.lines[-1] == "2 of 2 verified rules proved for all sizes"
    assert run.lines[-2] == "2 verified, 0 refuted, 0 undecided, 0 invalid"


def test_refuted_rule_exits_1_and_says_why(tmp_path: Path, monkeypatch, capsys) -> None:
    """A well-formed but wrong rule is reported refuted with its file and the detail, and the exit code is 1."""
    write_rule(tmp_path, "wrong", TRACE + "expect: -A.T @ B.T\n")
    write_rule(tmp_path, "right", TRACE + "expect: A.T @ B.T\n")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    i = next(i for i, line in enumerate(run.lines) if line.startswith("refuted"))
    assert VERDICT.match(run.lines[i]).group(2) == "wrong"
    assert run.lines[i + 1].strip().startswith("wrong.yaml:8:9: expect: in ")
    assert "entry (" in run.lines[i + 1]
    assert run.lines[i + 2].strip() == "probably: the sign is wrong: A.T @ B.T holds"
    assert run.lines[-2] == "1 verified, 1 refuted, 0 undecided, 0 invalid"


@pytest.mark.parametrize("expect,hint", [
    ("2 * A.T @ B.T", "probably: there is a factor 2 too many: A.T @ B.T holds"),
    ("B @ A", "probably: your expression is the derivative in numerator layout (layout: numerator); "
              "in denominator layout the derivative is its transpose, A.T @ B.T"),
    ("A.T @ B.T + A.T", "fix expect (or a where line): none of the usual slips (layout, transpose, factor 2, sign, "
                        "swapped factors) explains the difference"),
], ids=["factor-2", "layout", "no-slip"])
def test_refuted_rule_names_the_line_of_expect_and_the_likely_slip(tmp_path: Path, monkeypatch, capsys,
                                                                     expect: str, hint: str) -> None:
    """A refuted rule file is reported at the line and column of its expect field, with the usual slip that the
    exact check confirms (as a claim file gets it), or the field to fix when no slip explains it."""
    write_rule(tmp_path, "wrong", TRACE.replace("{A: [m, n], X: [n, p], B: [p, m]}", "{A: [n, n], X: [n, n], B: [n, n]}")
               + f"expect: {expect}\n")
    run = run_inprocess(["check", "wrong.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    assert run.lines[1].strip().startswith("wrong.yaml:8:9: expect: in denominator layout")
    assert run.lines[2].strip() == hint
    assert "Traceback" not in run.err


def test_refuted_example_is_reported_at_the_example(tmp_path: Path, monkeypatch, capsys) -> None:
    """When the rule holds and its worked example does not, the message points at example.expect, not expect."""
    write_rule(tmp_path, "wrong-example", TRACE + "expect: A.T @ B.T\nexample:\n  text: With B = I.\n"
               "  symbols: {A: [n, n], X: [n, n]}\n  of: trace(A @ X)\n  expect: A\n")
    run = run_inprocess(["check", "wrong-example.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    assert run.lines[1].strip().startswith("wrong-example.yaml:13:11: example.expect: ")


def test_invalid_input_wins_over_refuted(tmp_path: Path, monkeypatch, capsys) -> None:
    """With one refuted and one invalid rule the exit code is 2, and both are counted in the summary."""
    write_rule(tmp_path, "wrong", TRACE + "expect: -A.T @ B.T\n")
    write_rule(tmp_path, "broken", TRACE + "expect: A.T @@ B.T\n")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert run.lines[-2] == "0 verified, 1 refuted, 0 undecided, 1 invalid"


def test_undecided_exits_1(tmp_path: Path, monkeypatch, capsys) -> None:
    """A rule that runs past --timeout is undecided and the exit code is 1."""
    write_rule(tmp_path, "slow", """
title: Softmax entropy
section: activations
layout: denominator
symbols: {x: [n]}
of: sum(softmax(x) * log(softmax(x)))
wrt: x
expect: (log(softmax(x)) + 1) * softmax(x) - softmax(x) * sum(softmax(x) * (log(softmax(x)) + 1))
sizes: [{n: 6}]
""")
    run = run_inprocess(["check", "--timeout", "0.05", "slow.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    assert run.lines[0].startswith("undecided  slow")
    assert "time limit" in run.lines[1]
    assert run.lines[-2] == "0 verified, 0 refuted, 1 undecided, 0 invalid"


def test_no_rule_files_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    """An empty folder is a usage problem: a message on stderr and exit code 2."""
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert "no rule files found" in run.err


def test_unknown_option_exits_2(tmp_path: Path, monkeypatch, capsys) -> None:
    """A usage error is exit code 2 with argparse's message, no traceback."""
    run = run_inprocess(["check", "--no-such-option"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert "unrecognized arguments" in run.err


def test_github_format(tmp_path: Path, monkeypatch, capsys) -> None:
    """--format github prints problems as workflow error annotations."""
    write_rule(tmp_path, "broken", TRACE + "expect: A.T @ C\n")
    run = run_inprocess(["check", "--format", "github", "broken.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert run.lines[0] == "::error file=broken.yaml,line=8,col=15,title=MC022::expect name C must be declared under symbols (found it undeclared)"


def test_invalid_input_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    """Broken YAML, bad bytes and forbidden syntax together, in a fresh interpreter: exit 2, messages only."""
    (tmp_path / "bytes.yaml").write_bytes(b"id: bytes\xff\n")
    (tmp_path / "yaml.yaml").write_text("id: [yaml\n", encoding="utf-8")
    write_rule(tmp_path, "syntax", TRACE + "expect: A.T.__dict__\n")
    run = run_subprocess(["check", "."], tmp_path)
    assert run.code == 2
    assert "Traceback" not in run.err and run.err == ""
    assert [line.split(": ")[1][:5] for line in run.lines[:-2]] == ["MC001", "MC021", "MC002"]
    assert run.lines[-2] == "0 verified, 0 refuted, 0 undecided, 3 invalid"


# ---------------------------------------------------------------- export

def key_paths(value, prefix: str = "") -> set[str]:
    """Dotted key paths of a JSON value; list items as []."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            paths.add(prefix + k)
            paths |= key_paths(v, prefix + k + ".")
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, prefix + "[].")
    return paths


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`mcref export --out FILE` of two good fixtures with a sections file, from a temporary folder."""
    folder = tmp_path_factory.mktemp("export")
    rules = folder / "rules"
    rules.mkdir()
    for name in ("trace-axb", "with-example"):
        shutil.copy(GOOD / f"{name}.yaml", rules / f"{name}.yaml")
    with open(rules / "trace-axb.yaml", "a", encoding="utf-8") as f:
        f.write("sources:\n  - paper: \"4.2\"\n  - derived: a copy for the export test\n")
    (rules / "_sections.yaml").write_text("- slug: elementwise\n  title: Element-wise\n  summary: Hadamard.\n"
                                          "- slug: traces\n  title: Traces\n  summary: Traces.\n", encoding="utf-8")
    run = run_subprocess(["export", "rules", "--out", "out/rules.json"], folder)
    assert run.code == 0, run.err
    assert run.out == ""
    return json.loads((folder / "out" / "rules.json").read_text(encoding="utf-8"))


def test_export_has_the_documented_keys(exported: dict) -> None:
    """Every key of tests/fixtures/export-sample.json appears in the export (rules, latex and verification included)."""
    sample = json.loads((FIXTURES / "export-sample.json").read_text(encoding="utf-8"))
    missing = key_paths(sample) - key_paths(exported)
    assert not missing, sorted(missing)


def test_export_values(exported: dict) -> None:
    """The export states its format, counts, sections in order, and each rule's verdict and both layouts' LaTeX."""
    assert exported["format"] == "mcref-rules/1"
    assert exported["counts"] == {"verified": 2, "refuted": 0, "undecided": 0, "total": 2, "all_sizes": 2}
    assert [s["slug"] for s in exported["sections"]] == ["elementwise", "traces"]
    assert [r["id"] for r in exported["rules"]] == ["with-example", "trace-axb"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", exported["build_date"])
    trace = exported["rules"][1]
    assert trace["latex"]["numerator"] == r"\mathbf{B} \mathbf{A}"
    assert trace["latex"]["denominator"] == r"\mathbf{A}^{\top} \mathbf{B}^{\top}"
    assert trace["symbols"]["X"] == {"shape": ["n", "p"], "kind": "matrix", "latex": r"\mathbf{X}"}
    assert trace["verification"]["status"] == "verified"
    assert trace["verification"]["scope"] == "all-sizes" and trace["verification"]["reason"] == ""
    assert trace["verification"]["statement"].startswith("Proved for every size (exact, randomized: error < 1e-")
    assert trace["verification"]["all_sizes"]["grid"] == [{"m": 2, "n": 2, "p": 2}]
    assert trace["verification"]["all_sizes"]["prime"] == 2**61 - 1 and trace["verification"]["all_sizes"]["seeds"] == 2
    assert trace["result_shape"] == {"denominator": ["n", "p"], "numerator": ["p", "n"]}
    assert exported["rules"][0]["example"]["latex"]
    assert [(s["kind"], s["ref"]) for s in trace["sources"]] == [("paper", "4.2"), ("derived", "a copy for the export test")]


def test_export_to_stdout_and_refusing_invalid_input(tmp_path: Path, monkeypatch, capsys) -> None:
    """Without --out the JSON goes to stdout; with an invalid rule nothing is exported and the exit code is 2."""
    shutil.copy(GOOD / "trace-axb.yaml", tmp_path / "trace-axb.yaml")
    run = run_inprocess(["export", "trace-axb.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 0
    assert [r["id"] for r in json.loads(run.out)["rules"]] == ["trace-axb"]
    write_rule(tmp_path, "broken", TRACE + "expect: A.T @ C\n")
    run = run_inprocess(["export", ".", "--out", "x.json"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert "MC022" in run.err
    assert not (tmp_path / "x.json").exists()


def test_export_of_a_refuted_rule_exits_1(tmp_path: Path, monkeypatch, capsys) -> None:
    """A refuted rule is exported with its status, and the exit code says the corpus is not all verified."""
    write_rule(tmp_path, "wrong", TRACE + "expect: -A.T @ B.T\n")
    run = run_inprocess(["export", "wrong.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    data = json.loads(run.out)
    assert data["counts"]["refuted"] == 1 and data["rules"][0]["verification"]["status"] == "refuted"


def test_an_invalid_tag_does_not_hide_an_undeclared_name(tmp_path: Path, monkeypatch, capsys) -> None:
    """A rule with a problem in a field the parser does not read (tags) still has its expressions read: one run
    reports the undeclared name too, so the author does not fix one problem only to meet the next."""
    write_rule(tmp_path, "two-problems", "title: Quadratic form, by the vector\nsection: traces\nlayout: denominator\n"
               "symbols: {x: [n]}\nof: x.T @ A @ x\nwrt: x\nexpect: (A + A.T) @ x\ntags: [Quadratic]\n")
    run = run_inprocess(["check", "two-problems.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert run.lines[:-2] == [
        "two-problems.yaml:6:11: MC022 of name A must be declared under symbols (found it undeclared)",
        "two-problems.yaml:8:10: MC022 expect name A must be declared under symbols (found it undeclared)",
        "two-problems.yaml:9:8: MC012 tags[0] must be lower-case kebab-case, like chain-rule (found 'Quadratic')",
    ]
    assert run.lines[-2] == "0 verified, 0 refuted, 0 undecided, 1 invalid"


def test_an_invalid_expression_field_is_not_parsed(tmp_path: Path, monkeypatch, capsys) -> None:
    """When a field the parser reads is itself invalid (layout), the expressions are not read: only that problem."""
    write_rule(tmp_path, "bad-layout", TRACE.replace("layout: denominator", "layout: sideways") + "expect: A.T @ C\n")
    run = run_inprocess(["check", "bad-layout.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 2
    assert [line.split(": ")[1].split()[0] for line in run.lines[:-2]] == ["MC012"]


def test_a_differential_without_d_of_wrt_says_so(tmp_path: Path, monkeypatch, capsys) -> None:
    """A kind: differential rule whose expect holds no d(X) is refuted with the reason: a differential is linear in
    d(X)."""
    write_rule(tmp_path, "no-dx", "title: Differential of the inverse\nsection: inverses\nkind: differential\n"
               "symbols: {X: [n, n]}\nassume: {X: [invertible]}\nof: inv(X)\nwrt: X\nexpect: -inv(X) @ inv(X)\n")
    run = run_inprocess(["check", "no-dx.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 1
    assert run.lines[2].strip().startswith("probably: a differential is linear in d(X): expect must hold d(X)")
