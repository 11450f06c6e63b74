"""Every error code of generator/engine/problems.py, from a bad rule file, with its exact output lines.

Each file tests/fixtures/bad/mcNNN-<what>.yaml ends with its golden lines as comments:
`# expect: <line>` for every problem line `mcref check` must print (`# expect-without-libyaml:`
where PyYAML's pure-Python parser words it differently), `# summary: <line>`, and
optionally `# args: <arguments after check>` (default: the file's name). The file is copied
to a temporary folder (with the _sections.yaml beside it) and checked from there.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from generator.engine.problems import CODES

from engine_support import BAD, PROBLEM_LINE, Run, run_inprocess, run_subprocess, write_rule

BAD_FILES = sorted(BAD.glob("mc*.yaml"))
# Codes whose fixture cannot be a file in the repository: the test writes it.
GENERATED = {"MC001": "non-UTF-8 bytes, a missing path, an oversized file", "MC004": "an empty file (also mc004-not-a-mapping.yaml)",
             # folder-level files (_sections.yaml, _redirects.yaml): tests/test_where_order.py writes its folders
             "MC017": "a rule not placed, placed twice, an unknown id", "MC018": "a redirect to nowhere, of a live id, not a mapping",
             "MC019": "a concordance file beside the rules: tests/test_concordance.py writes each case"}
VERDICT_LINE = re.compile(r"^(verified|refuted|undecided) ")
VALID_RULE = """
title: Trace of a product A X B, by the middle factor
section: traces
layout: denominator
symbols: {A: [m, n], X: [n, p], B: [p, m]}
of: trace(A @ X @ B)
wrt: X
expect: A.T @ B.T
"""


def golden(path: Path) -> tuple[list[str], list[str], str]:
    """(args, expected problem lines, expected summary) from a bad fixture's trailing comments."""
    args, lines, summary = [path.name], [], ""
    # The YAML parser's own words differ between libyaml (used when installed) and pure-Python PyYAML.
    expect = "# expect: " if hasattr(yaml, "CSafeLoader") else "# expect-without-libyaml: "
    text = path.read_text(encoding="utf-8")
    if expect not in text:
        expect = "# expect: "
    for line in text.splitlines():
        if line.startswith("# args: "):
            args = line[len("# args: "):].split()
        elif line.startswith(expect):
            lines.append(line[len(expect):])
        elif line.startswith("# summary: "):
            summary = line[len("# summary: "):]
    return args, lines, summary


def stage(path: Path, args: list[str], folder: Path) -> None:
    """Copy the fixture to every .yaml path named in args, each beside a copy of _sections.yaml."""
    for arg in args:
        if arg.endswith(".yaml"):
            target = folder / arg
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            shutil.copy(BAD / "_sections.yaml", target.parent / "_sections.yaml")


def problem_lines(run: Run) -> list[str]:
    return [line for line in run.lines if re.match(PROBLEM_LINE, line)]


def assert_rejected(run: Run) -> None:
    assert run.code == 2, run.out + run.err
    assert "Traceback" not in run.err and "Traceback" not in run.out


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_fixture_prints_exactly_its_golden_lines(path: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """`mcref check` on the bad file prints exactly the golden problem lines and summary and exits 2."""
    args, expected, summary = golden(path)
    assert expected and summary, f"{path.name} has no golden lines"
    stage(path, args, tmp_path)
    run = run_inprocess(["check", *args], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == expected
    assert run.lines[-2] == summary


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_fixture_code_matches_its_name(path: Path) -> None:
    """The code in a bad fixture's name is the code of every golden line, so each file tests what it says."""
    code = path.name[:5].upper()
    _, expected, _ = golden(path)
    assert code in CODES
    assert {re.match(PROBLEM_LINE + r"?", line) is not None for line in expected} == {True}
    assert {line.split(": ")[1].split()[0] for line in expected} == {code}


def test_every_code_has_a_bad_fixture() -> None:
    """Each documented code has a bad fixture file, or a test that writes its file (MC001, MC004)."""
    covered = {p.name[:5].upper() for p in BAD_FILES} | set(GENERATED)
    assert covered >= set(CODES), sorted(set(CODES) - covered)


def test_codes_table_in_readme_matches_problems_module() -> None:
    """rules/README.md lists exactly the codes of generator/engine/problems.py."""
    readme = (BAD.parent.parent.parent / "rules" / "README.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| (MC\d{3}) \|", readme, re.MULTILINE)) == set(CODES)


def test_rules_with_invalid_expressions_are_not_verified(tmp_path: Path, monkeypatch, capsys) -> None:
    """A file rejected before verification gets no verdict line: nothing of it reaches SymPy."""
    for path in BAD_FILES:
        if path.name[:5] in ("mc014", "mc016", "mc040", "mc041"):
            continue  # problems of the catalogue or of style: the expressions themselves are fine
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(BAD / "_sections.yaml", tmp_path / "_sections.yaml")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert not [line for line in run.lines if VERDICT_LINE.match(line)]
    assert run.lines[-2].startswith("0 verified, 0 refuted, 0 undecided, ")


def test_whole_folder_reports_every_file_at_once(tmp_path: Path, monkeypatch, capsys) -> None:
    """Checking the folder of bad files prints the union of all their golden lines, sorted, in one run."""
    expected: list[str] = []
    for path in BAD_FILES:
        args, lines, _ = golden(path)
        if args != [path.name]:
            continue  # needs its own arguments
        shutil.copy(path, tmp_path / path.name)
        expected += lines
    shutil.copy(BAD / "_sections.yaml", tmp_path / "_sections.yaml")
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == sorted(expected, key=lambda l: (l.split(":")[0], int(l.split(":")[1]), int(l.split(":")[2])))


def test_several_problems_in_one_file_are_all_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    """A file with an unknown field, a bad layout, a wrong id, forbidden LaTeX and a full stop gets every problem."""
    (tmp_path / "several.yaml").write_text(
        "id: other-name\n"
        "title: Trace of A X B.\n"
        "section: traces\n"
        "layout: upside-down\n"
        "symbols: {A: [m, n], X: [n, p], B: [p, m]}\n"
        "of: trace(A @ X @ B)\n"
        "wrt: X\n"
        "expect: A.T @ B.T\n"
        "display: \\input{x}\n"
        "tagz: [trace]\n",
        encoding="utf-8",
    )
    run = run_inprocess(["check", "several.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == [
        "several.yaml:1:5: MC013 id must equal the file name's stem 'several' (found 'other-name'); rename the file or the id",
        "several.yaml:2:8: MC041 title must not end with a full stop (found 'Trace of A X B.')",
        "several.yaml:4:9: MC012 layout must be one of numerator, denominator (found 'upside-down')",
        "several.yaml:9:10: MC030 display must use only whitelisted LaTeX commands (found \\input)",
        "several.yaml:10:1: MC011 tagz must not be there: not a field of a rule (found unknown field tagz; did you mean tags?)",
    ]


def test_several_expression_problems_are_all_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    """Problems in `of`, `expect` and the example's expressions are reported together, each at its own position."""
    write_rule(tmp_path, "exprs", """
title: Several broken expressions
section: traces
layout: numerator
symbols: {x: [n], A: [m, n]}
of: A @ y
wrt: x
expect: x[0]
example:
  of: x ** 2.5
  expect: x
""")
    run = run_inprocess(["check", "exprs.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == [
        "exprs.yaml:6:9: MC022 of name y must be declared under symbols (found it undeclared)",
        "exprs.yaml:8:9: MC021 expect expression must use whole vectors and matrices: entries cannot be indexed (found a subscript, x[0])",
        "exprs.yaml:10:12: MC021 example.of constants must be integers; write rationals as 5/2 (found 2.5)",
    ]


def test_problems_of_several_files_are_all_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    """Two broken files and a good one: both files' problems are printed, the good rule is still verified."""
    write_rule(tmp_path, "good-one", VALID_RULE)
    write_rule(tmp_path, "bad-one", VALID_RULE.replace("expect: A.T @ B.T", "expect: A.T @ Q"))
    write_rule(tmp_path, "bad-two", VALID_RULE.replace("layout: denominator", "layout: diagonal"))
    run = run_inprocess(["check", "."], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert [line.split(": ")[1][:5] for line in problem_lines(run)] == ["MC022", "MC012"]
    assert [line.split(":")[0] for line in problem_lines(run)] == ["bad-one.yaml", "bad-two.yaml"]
    assert any(line.startswith("verified   good-one") for line in run.lines)
    assert run.lines[-2] == "1 verified, 0 refuted, 0 undecided, 2 invalid"


# ---------------------------------------------------------------- generated files: MC001, MC004

def test_non_utf8_file_is_mc001(tmp_path: Path, monkeypatch, capsys) -> None:
    """A rule file with Latin-1 bytes is reported as MC001 with the line of the first bad byte."""
    (tmp_path / "latin.yaml").write_bytes(b"id: latin\ntitle: Caf\xe9 rule\n")
    run = run_inprocess(["check", "latin.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == ["latin.yaml:2:1: MC001 file must be UTF-8 (found byte 0xe9)"]


def test_missing_path_is_mc001(tmp_path: Path, monkeypatch, capsys) -> None:
    """A path that does not exist is reported as MC001, not as a crash."""
    run = run_inprocess(["check", "nowhere.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == [f"nowhere.yaml:1:1: MC001 path must exist (found nothing at nowhere.yaml)"]


def test_oversized_file_is_mc001(tmp_path: Path, monkeypatch, capsys) -> None:
    """A file over 256 KiB is refused as MC001 before YAML parsing."""
    (tmp_path / "big.yaml").write_text("id: big\n" + "# padding\n" * 30000, encoding="utf-8")
    size = (tmp_path / "big.yaml").stat().st_size
    run = run_inprocess(["check", "big.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == [f"big.yaml:1:1: MC001 file must be at most {256 * 1024} bytes (found {size})"]


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n"], ids=["empty", "blank", "comment-only"])
def test_empty_file_is_mc004(content: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """An empty, blank or comment-only file is MC004."""
    (tmp_path / "empty.yaml").write_text(content, encoding="utf-8")
    run = run_inprocess(["check", "empty.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == ["empty.yaml:1:1: MC004 file must hold a YAML mapping (found an empty file)"]


@pytest.mark.parametrize("content,what", [("just words\n", "a string"), ("42\n", "a number")])
def test_scalar_document_is_mc004(content: str, what: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """A YAML document that is a string or a number, not a mapping, is MC004 naming what was found."""
    (tmp_path / "scalar.yaml").write_text(content, encoding="utf-8")
    run = run_inprocess(["check", "scalar.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == [f"scalar.yaml:1:1: MC004 file must hold a YAML mapping (found {what})"]


# ---------------------------------------------------------------- nothing is ever executed

def test_import_expression_runs_nothing(tmp_path: Path) -> None:
    """An expression calling __import__('os').system is refused and the command never runs (subprocess, no traceback)."""
    write_rule(tmp_path, "pwn", VALID_RULE.replace("expect: A.T @ B.T", "expect: \"__import__('os').system('touch PWNED')\""))
    run = run_subprocess(["check", "pwn.yaml"], tmp_path)
    assert_rejected(run)
    assert not (tmp_path / "PWNED").exists()
    assert [line.split(": ")[1][:5] for line in problem_lines(run)] == ["MC021"]


def test_python_tag_constructs_nothing(tmp_path: Path) -> None:
    """A !!python/object/apply tag is refused as MC003 and its command never runs (subprocess, no traceback)."""
    write_rule(tmp_path, "tag", VALID_RULE + "notes: !!python/object/apply:os.system [\"touch PWNED\"]\n")
    run = run_subprocess(["check", "tag.yaml"], tmp_path)
    assert_rejected(run)
    assert not (tmp_path / "PWNED").exists()
    assert [line.split(": ")[1][:5] for line in problem_lines(run)] == ["MC003"]


def test_echo_fixture_prints_nothing_of_its_command(tmp_path: Path) -> None:
    """The import fixture, checked in a fresh interpreter, prints its golden line and no 'hi' from echo."""
    path = BAD / "mc021-import.yaml"
    args, expected, summary = golden(path)
    stage(path, args, tmp_path)
    run = run_subprocess(["check", *args], tmp_path)
    assert_rejected(run)
    assert "hi" not in run.lines
    assert run.lines == expected + [summary, "0 of 0 verified rules proved for all sizes"]
    assert run.err == ""


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """A billion-laughs file is refused as MC003 in a fresh interpreter, within seconds and without expanding it."""
    import time

    path = BAD / "mc003-alias-bomb.yaml"
    args, expected, summary = golden(path)
    stage(path, args, tmp_path)
    start = time.monotonic()
    run = run_subprocess(["check", *args], tmp_path, timeout=60)
    assert time.monotonic() - start < 30
    assert_rejected(run)
    assert run.lines == expected + [summary, "0 of 0 verified rules proved for all sizes"]


def test_deeply_nested_parentheses_do_not_crash(tmp_path: Path, monkeypatch, capsys) -> None:
    """Thousands of nested parentheses are an MC021 problem, not a RecursionError or a MemoryError."""
    write_rule(tmp_path, "deep", VALID_RULE.replace("expect: A.T @ B.T", "expect: " + "(" * 990 + "A" + ")" * 990))
    run = run_inprocess(["check", "deep.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert [line.split(": ")[1] for line in problem_lines(run)] == ["MC021 expect expression must nest at most 40 levels deep"]


@pytest.mark.parametrize("expr", ["x ** 65", "x ** -65", "x ** (2 ** 64)", "1000001 * x"])
def test_huge_numbers_are_refused(expr: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """Exponents beyond 64 (even computed ones) and constants beyond 10^6 are MC021, before any algebra."""
    write_rule(tmp_path, "huge", f"""
title: Huge numbers
section: traces
layout: numerator
symbols: {{x: []}}
of: x
wrt: x
expect: {expr}
""")
    run = run_inprocess(["check", "huge.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert [line.split(": ")[1][:5] for line in problem_lines(run)] == ["MC021"]


# ---------------------------------------------------------------- more validation rules, one line each

@pytest.mark.parametrize("change,expected", [
    (("layout: denominator\n", ""), "1:1: MC010 layout must be present for a derivative: numerator or denominator (found it missing)"),
    (("symbols: {A: [m, n], X: [n, p], B: [p, m]}", "symbols: {A: [m, 0], X: [n, p], B: [p, m]}"),
     "5:18: MC012 symbols.A[1] must be a dimension: a letter or a positive integer (found 0)"),
    (("symbols: {A: [m, n], X: [n, p], B: [p, m]}", "symbols: {A: [m, n], X: [n, p], B: [p, m], n: []}"),
     "5:44: MC012 symbols.n must not share its name with a dimension (found n used as both)"),
    (("symbols: {A: [m, n], X: [n, p], B: [p, m]}", "symbols: {A: [m, n], X: [n, p], B: [p, m], exp: []}"),
     "5:44: MC012 symbols.exp must not have the name of a function (found exp)"),
    (("wrt: X\n", "wrt: X\nsizes: [{m: 2, n: 3}]\n"), "8:9: MC012 sizes[0] must give every dimension a size: m, n, p (found m, n)"),
    (("wrt: X\n", "wrt: X\nassume: {Y: [symmetric]}\n"), "8:10: MC022 assume.Y must name a declared symbol (found Y undeclared)"),
    (("wrt: X\n", "wrt: X\nassume: {X: [probability]}\n"), "8:10: MC026 assume.X probability must apply to a vector (found shape ['n', 'p'])"),
    (("wrt: X\n", "wrt: X\nassume: {X: [convex]}\n"),
     "8:14: MC012 assume.X[0] must be one of symmetric, spd, invertible, diagonal, positive, nonzero, probability (found 'convex')"),
    (("wrt: X\n", "wrt: Z\n"), "7:6: MC022 wrt must be a declared symbol (found Z)"),
    (("wrt: X\n", "wrt: X\nnotes: Costs $\\input{x}$ and more.\n"), "8:8: MC030 notes must use only whitelisted LaTeX commands (found \\input)"),
    (("wrt: X\n", "wrt: X\nnotes: An odd $ sign.\n"), "8:8: MC012 notes must close every $...$ math span (found an odd number of $)"),
    (("wrt: X\n", "wrt: X\ndisplay: \\frac{a}{b\n"), "8:10: MC030 display must have balanced braces (found an unclosed {)"),
    (("section: traces", "section: tracs"), "3:10: MC015 section must be a slug from rules/_sections.yaml (found 'tracs'; did you mean traces?)"),
    (("title: Trace of a product A X B, by the middle factor", "title: Trace  of A X B"),
     "2:8: MC041 title must not have extra spaces (found 'Trace  of A X B')"),
], ids=["layout-missing", "zero-dimension", "symbol-is-dimension", "symbol-is-function", "sizes-incomplete",
        "assume-undeclared", "probability-matrix", "unknown-property", "wrt-undeclared", "notes-latex", "notes-dollar",
        "display-braces", "section-typo", "title-spaces"])
def test_validation_rule(change: tuple[str, str], expected: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """One edit of a valid rule gives exactly one problem line, at the position of the offending field."""
    text = "id: rule\n" + VALID_RULE.strip() + "\n"
    assert change[0] in text
    (tmp_path / "rule.yaml").write_text(text.replace(change[0], change[1]), encoding="utf-8")
    shutil.copy(BAD / "_sections.yaml", tmp_path / "_sections.yaml")
    run = run_inprocess(["check", "rule.yaml"], tmp_path, monkeypatch, capsys)
    assert_rejected(run)
    assert problem_lines(run) == ["rule.yaml:" + expected]


def test_sizes_may_name_dimensions_of_functions_only(tmp_path: Path, monkeypatch, capsys) -> None:
    """A dimension used only in a function's signature (U: [] -> [n, n]) may be given a size; a missing one is MC012."""
    body = """
title: Inverse of a matrix function
section: traces
layout: numerator
symbols: {x: []}
functions: {U: {args: [[]], to: [n, n]}}
of: inv(U(x))
wrt: x
expect: -inv(U(x)) @ D(U, x) @ inv(U(x))
sizes: [%s]
"""
    shutil.copy(BAD / "_sections.yaml", tmp_path / "_sections.yaml")
    write_rule(tmp_path, "fn-dims", body % "{n: 2}")
    run = run_inprocess(["check", "fn-dims.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 0 and problem_lines(run) == [], run.out
    write_rule(tmp_path, "fn-dims", body % "{m: 2}")
    run = run_inprocess(["check", "fn-dims.yaml"], tmp_path, monkeypatch, capsys)
    assert problem_lines(run) == ["fn-dims.yaml:10:9: MC012 sizes[0] must give every dimension a size: n (found m)"]


def test_differential_rule_needs_no_layout(tmp_path: Path, monkeypatch, capsys) -> None:
    """A kind: differential rule without layout is valid (layout is required for derivatives only)."""
    shutil.copy(BAD.parent / "good" / "differential-product.yaml", tmp_path / "differential-product.yaml")
    run = run_inprocess(["check", "differential-product.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 0 and problem_lines(run) == []


def test_publish_fields_are_not_needed_for_check(tmp_path: Path, monkeypatch, capsys) -> None:
    """Without --publish the MC040 fixture is valid and verified; with it, the missing fields are reported."""
    shutil.copy(BAD / "mc040-publish-fields.yaml", tmp_path / "mc040-publish-fields.yaml")
    run = run_inprocess(["check", "mc040-publish-fields.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 0 and run.lines[-2] == "1 verified, 0 refuted, 0 undecided, 0 invalid"



def test_position_inside_a_folded_expression(tmp_path: Path, monkeypatch, capsys) -> None:
    """An undeclared name on the second line of a folded (>-) expression is reported at that line and column."""
    write_rule(tmp_path, "fold", VALID_RULE.replace("of: trace(A @ X @ B)", "of: >-\n  trace(A @ X @\n  Q)"))
    run = run_inprocess(["check", "fold.yaml"], tmp_path, monkeypatch, capsys)
    assert problem_lines(run) == ["fold.yaml:8:3: MC022 of name Q must be declared under symbols (found it undeclared)"]
