"""Sheet files (sheets/README.md): the format, every problem code with its exact message, hostile files."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from generator.render import pdf
from generator.render.sheets import CODES, MAX_ENTRIES, SheetError, read_sheet, reference_sheet, suggestions

from sheets_support import needs_latex, needs_poppler, poppler, real_export

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "sheets"
BAD = sorted((FIXTURES / "bad").glob("ms*.yaml"))
GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
SHIPPED = sorted((ROOT / "sheets").glob("*.yaml"))
SCHEMA = json.loads((ROOT / "generator" / "schema" / "sheet.schema.json").read_text(encoding="utf-8"))
# Codes whose fixture cannot be a file: the test writes the case.
GENERATED = {"MS001": "a missing file, a folder, non-UTF-8 bytes, an oversized file",
             "MS018": "a rule the export holds as refuted", "MS020": "2001 ids in one list",
             "MS022": "a compiled sheet longer than its pages"}
MINIMAL = """title: Week 3 handout
subtitle: Backpropagation          # e.g. the course name
layout: denominator
paper: a4
rules: [trace-axb, det-log, softmax-jacobian]   # ids, in this order
"""


def mini_export() -> dict[str, Any]:
    """A small export with known ids, sections and tags (independent of the growing corpus)."""
    sample = json.loads((ROOT / "tests" / "fixtures" / "export-sample.json").read_text(encoding="utf-8"))
    base = sample["rules"][1]
    sections = [("scalar", "Scalar derivative rules"), ("traces", "Traces"), ("determinants", "Determinants"),
                ("activations", "Activation functions")]
    rules_of = {
        "scalar": [("scalar-power", ["scalar", "power"]), ("scalar-exp", ["scalar"])],
        "traces": [("trace-x", ["trace"]), ("trace-axb", ["trace", "product"]), ("trace-xtx", ["trace"])],
        "determinants": [("det-x", ["determinant"]), ("det-log", ["determinant", "log"])],
        "activations": [("softmax-jacobian", ["softmax", "activation"]), ("sigmoid-scalar", ["activation"])],
    }
    rules = []
    for slug, _ in sections:
        for rid, tags in rules_of[slug]:
            rule = copy.deepcopy(base)
            rule.update(id=rid, section=slug, tags=tags, path=f"rules/{rid}/", title=f"Rule {rid}")
            rules.append(rule)
    export = copy.deepcopy(sample)
    export["sections"] = [{"slug": s, "title": t, "summary": "", "order": i, "count": len(rules_of[s]),
                           "rules": [r for r, _ in rules_of[s]]} for i, (s, t) in enumerate(sections)]
    export["rules"] = rules
    export["redirects"] = {"trace-product": "trace-axb"}
    return export


def golden(path: Path) -> list[str]:
    """The `# expect:` lines (`# expect-without-libyaml:` where PyYAML's own parser words it otherwise)."""
    text = path.read_text(encoding="utf-8")
    mark = "# expect: " if hasattr(yaml, "CSafeLoader") or "# expect-without-libyaml: " not in text else "# expect-without-libyaml: "
    return [line[len(mark):] for line in text.splitlines() if line.startswith(mark)]


def problems_of(path: Path, export: dict[str, Any]) -> list[str]:
    with pytest.raises(SheetError) as info:
        read_sheet(path, export)
    return str(info.value).splitlines()


# ---------------------------------------------------------------------------------------
# Good sheets


def test_the_minimal_file_of_the_issue_works_as_it_stands(tmp_path: Path) -> None:
    """The five-line sheet of issue 13 resolves against the real corpus, in its order and with its values."""
    path = tmp_path / "week3.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    sheet = read_sheet(path, real_export())
    assert sheet.ids == ["trace-axb", "det-log", "softmax-jacobian"]
    assert (sheet.title, sheet.subtitle, sheet.layout, sheet.paper) == ("Week 3 handout", "Backpropagation", "denominator", "a4")
    assert [g.heading for g in sheet.groups] == ["Traces", "Determinants", "Activation functions"]


@pytest.mark.parametrize("path", SHIPPED + GOOD, ids=lambda p: p.name)
def test_shipped_and_good_sheets_resolve_and_match_the_schema(path: Path) -> None:
    """sheets/*.yaml and the good fixtures resolve against the real corpus and validate against the JSON schema."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    sheet = read_sheet(path, real_export())
    assert sheet.ids and len(sheet.ids) == len(set(sheet.ids))


def test_sections_tags_exclusions_and_order() -> None:
    """Within a group: rules, then sections (teaching order), then tags; each rule once; exclusions apply."""
    export = mini_export()
    sheet = _read(export, """
title: T
exclude: [sigmoid-scalar]
groups:
  - heading: A
    rules: [det-log]
    sections: [traces]
    tags: [activation, determinant]
    exclude: [trace-xtx]
  - heading: B
    note: the basics
    compact: true
    sections: [scalar]
""")
    assert [g.heading for g in sheet.groups] == ["A", "B"]
    assert sheet.groups[0].ids == ("det-log", "trace-x", "trace-axb", "softmax-jacobian", "det-x")
    assert sheet.groups[1].ids == ("scalar-power", "scalar-exp") and sheet.groups[1].compact
    assert sheet.groups[1].note == "the basics"


def test_ungrouped_rules_get_their_section_titles_unless_headings_none() -> None:
    """Without groups, each run of rules of one section is headed by its title; `headings: none` prints none."""
    export = mini_export()
    sheet = _read(export, "title: T\nrules: [trace-x, trace-axb, det-x, trace-xtx]\n")
    assert [(g.heading, g.ids) for g in sheet.groups] == [
        ("Traces", ("trace-x", "trace-axb")), ("Determinants", ("det-x",)), ("Traces", ("trace-xtx",))]
    sheet = _read(export, "title: T\nheadings: none\nrules: [trace-x, det-x]\n")
    assert [(g.heading, g.ids) for g in sheet.groups] == [(None, ("trace-x", "det-x"))]


def test_a_retired_id_selects_the_rule_it_resolves_to() -> None:
    """An id of rules/_redirects.yaml selects its new rule and is reported as redirected."""
    sheet = _read(mini_export(), "title: T\nrules: [trace-product]\n")
    assert sheet.ids == ["trace-axb"]
    assert sheet.redirected == (("trace-product", "trace-axb"),)


def test_defaults_and_single_words() -> None:
    """Defaults: numerator, a4, landscape, cards in 3 columns (2 portrait); one word stands for a list of one."""
    export = mini_export()
    sheet = _read(export, "title: T\nsections: traces\n")
    assert (sheet.layout, sheet.paper, sheet.orientation, sheet.style, sheet.columns, sheet.details, sheet.pages) == (
        "numerator", "a4", "landscape", "cards", 3, False, None)
    assert _read(export, "title: T\norientation: portrait\nrules: [trace-x]\n").columns == 2
    table = _read(export, "title: T\nstyle: table\nrules: [trace-x]\n")
    assert (table.columns, table.details) == (1, True)


def _read(export: dict[str, Any], text: str, tmp: Path | None = None) -> Any:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.yaml"
        path.write_text(text, encoding="utf-8")
        return read_sheet(path, export)


# ---------------------------------------------------------------------------------------
# Problems: one fixture per code, exact messages


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_sheet_gives_exactly_its_expected_problems(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each bad fixture yields exactly the problem lines written at its end (`# expect:`)."""
    monkeypatch.chdir(path.parent)
    assert problems_of(Path(path.name), mini_export()) == golden(path)


def test_every_code_has_a_fixture_or_a_generated_case() -> None:
    """The table of codes is complete by construction: a fixture file or a test of its own for each."""
    with_fixture = {p.name[:5].upper() for p in BAD}
    assert sorted(set(CODES) - with_fixture - set(GENERATED)) == []
    assert sorted(with_fixture - set(CODES)) == []
    readme = (ROOT / "sheets" / "README.md").read_text(encoding="utf-8")
    assert [c for c in CODES if f"| {c} |" not in readme] == [], "sheets/README.md misses a code"


def test_ms001_missing_file_folder_bytes_and_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing file, a folder, non-UTF-8 bytes and an oversized file are MS001, naming the path."""
    monkeypatch.chdir(tmp_path)
    export = mini_export()
    assert problems_of(Path("nope.yaml"), export) == [
        f"nope.yaml:1:1: MS001 the sheet file must exist (found nothing at nope.yaml)"]
    (tmp_path / "dir.yaml").mkdir()
    assert problems_of(Path("dir.yaml"), export) == [
        "dir.yaml:1:1: MS001 the sheet file must exist (found a folder at dir.yaml)"]
    Path("latin1.yaml").write_bytes(b"title: caf\xe9\nrules: [trace-x]\n")
    assert problems_of(Path("latin1.yaml"), export) == [
        "latin1.yaml:1:1: MS001 file must be UTF-8 (found byte 0xe9)"]
    Path("big.yaml").write_text("title: T\nrules: [" + ", ".join(["trace-x"] * 40000) + "]\n", encoding="utf-8")
    (line,) = problems_of(Path("big.yaml"), export)
    assert line.startswith("big.yaml:1:1: MS001 file must be at most 262144 bytes (found ")


def test_ms018_a_rule_that_is_not_verified() -> None:
    """A refuted rule named by id, or selected by its section, is MS018."""
    export = mini_export()
    export["rules"][2]["verification"]["status"] = "refuted"  # trace-x
    with pytest.raises(SheetError, match=r"sheet.yaml:2:9: MS018 rules names rule 'trace-x', which is refuted, "
                                         r"not verified: a sheet prints only verified rules"):
        _read(export, "title: T\nrules: [trace-x]\n")
    with pytest.raises(SheetError, match=r"MS018 sections selects rule 'trace-x', which is not verified"):
        _read(export, "title: T\nsections: [traces]\n")


def test_ms020_ten_thousand_ids_are_refused_fast_and_nothing_runs(tmp_path: Path) -> None:
    """A list of 10,000 ids is one clear problem, found in well under a second of work."""
    path = tmp_path / "huge.yaml"
    path.write_text("title: T\nrules:\n" + "".join(f"  - rule-{i}\n" for i in range(10_000)), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(SheetError) as info:
        read_sheet(path, mini_export())
    assert time.perf_counter() - started < 5
    (line,) = str(info.value).splitlines()
    assert line.endswith(f"MS020 rules must list at most {MAX_ENTRIES} entries (found 10000); the corpus is smaller than that")


def test_many_unknown_ids_are_all_counted_but_few_printed(tmp_path: Path) -> None:
    """2000 unknown ids: every one is a problem, 25 are printed, the rest counted; suggestions stay fast."""
    path = tmp_path / "typos.yaml"
    path.write_text("title: T\nrules:\n" + "".join(f"  - trace-x{i}\n" for i in range(MAX_ENTRIES)), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(SheetError) as info:
        read_sheet(path, real_export())
    assert time.perf_counter() - started < 10
    assert len(info.value.problems) == MAX_ENTRIES
    lines = str(info.value).splitlines()
    assert len(lines) == 26 and lines[-1] == f"... and {MAX_ENTRIES - 25} more problem(s) in {path}"
    assert "did you mean 'trace-x'" in lines[0]


def test_ms022_a_sheet_longer_than_its_pages() -> None:
    """A compiled sheet with more pages than `pages` allows is MS022 at the line of `pages`."""
    sheet = _read(mini_export(), "title: T\npages: 1\nrules: [trace-x]\n")
    pdf.check_pages(sheet, 1)
    with pytest.raises(pdf.PdfError, match=r"sheet.yaml:2:8: MS022 the sheet must fit on 1 page\(s\) \(found 3\)"):
        pdf.check_pages(sheet, 3)


@pytest.mark.parametrize("title", [r"\input{/etc/passwd}", r"\write18{touch PWNED}", "$\\input{x}$ }{ %",
                                   r"\end{multicols*}\end{document}"])
def test_latex_in_text_fields_is_text(title: str) -> None:
    """LaTeX in a sheet's title, subtitle, heading and note is accepted as text and reaches the source escaped."""
    export = mini_export()
    quoted = json.dumps(title)
    sheet = _read(export, f"title: {quoted}\nsubtitle: {quoted}\ngroups:\n  - heading: {quoted}\n"
                          f"    note: {quoted}\n    rules: [trace-x]\n")
    body = pdf.render_sheet(export, sheet).split("% ---- end of macros ----")[1]
    assert title not in body
    assert body.count(pdf.latex_escape(title)) >= 4


def test_suggestions_prefer_typos() -> None:
    """A swapped, missing or extra letter is suggested before look-alikes."""
    known = ["trace-axb", "trace-ax", "trace-axbx", "det-log", "softmax-jacobian"]
    assert suggestions("trace-abx", known) == ["trace-ax", "trace-axb", "trace-axbx"]
    assert suggestions("det-lgo", known) == ["det-log"]
    assert suggestions("zzzz", known) == []


def test_the_schema_refuses_what_the_loader_refuses() -> None:
    """The editor schema and the loader agree on the fields: unknown fields and wrong types fail both."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for name in ("ms011-unknown-field", "ms012-wrong-types", "ms004-not-a-mapping"):
        data = yaml.safe_load((FIXTURES / "bad" / f"{name}.yaml").read_text(encoding="utf-8"))
        assert list(validator.iter_errors(data)), f"the schema accepts {name}"


def test_the_reference_sheet_is_every_rule() -> None:
    """reference_sheet: one group per section with its summary, every rule in export order, cards with details."""
    export = mini_export()
    sheet = reference_sheet(export, layout="denominator", paper="letter")
    assert sheet.ids == [r["id"] for r in export["rules"]]
    assert (sheet.style, sheet.columns, sheet.details, sheet.layout, sheet.paper) == ("cards", 2, True, "denominator", "letter")


# ---------------------------------------------------------------------------------------
# The command


@needs_latex
@needs_poppler
def test_mcref_pdf_sheet_prints_the_minimal_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mcref pdf --sheet week3.yaml --out FILE` prints the three rules, in order, titled for the course."""
    import argparse

    path = tmp_path / "week3.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    out = tmp_path / "week3.pdf"
    assert pdf.run(parser.parse_args(["--sheet", str(path), "--out", str(out)]), real_export()) == 0
    assert capsys.readouterr().out == f"wrote {out} (3 rules, 1 page, denominator layout, a4)\n"
    text = poppler("pdftotext", str(out), "-")
    assert "Week 3 handout" in text and "Backpropagation" in text and "Denominator layout" in text
    found = [m.start() for rid in ("trace-axb", "det-log", "softmax-jacobian") for m in [re.search(re.escape(rid), text)] if m]
    assert len(found) == 3 and found == sorted(found)


def test_a_sheet_longer_than_its_pages_is_a_sheet_problem_and_writes_no_pdf(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`mcref pdf --sheet` of a sheet that takes more pages than `pages` allows exits 2 (a problem of the sheet
    file, MS022) and leaves the PDF already at --out as it was: an over-long handout never replaces a good one."""
    import argparse

    path = tmp_path / "long.yaml"
    path.write_text("title: Long\npages: 1\nfont_size: 12\ncolumns: 1\nsections: [traces, determinants]\n", encoding="utf-8")
    out = tmp_path / "long.pdf"
    out.write_bytes(b"%PDF- the last good handout")
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    assert pdf.run(parser.parse_args(["--sheet", str(path), "--out", str(out)]), real_export()) == 2
    err = capsys.readouterr().err
    assert "the sheet file has problems" in err and "long.yaml:2:8: MS022 the sheet must fit on 1 page(s)" in err
    assert out.read_bytes() == b"%PDF- the last good handout"


def _words(path: Path) -> list[tuple[float, float, float, float, str]]:
    """The words of page 1 with their boxes (xMin, yMin, xMax, yMax), from pdftotext -bbox."""
    html = poppler("pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-")
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]


@needs_latex
@needs_poppler
@pytest.mark.parametrize("style", ["cards", "table"])
def test_a_long_course_title_wraps_instead_of_running_into_its_neighbours(tmp_path: Path, style: str) -> None:
    """A long title and subtitle on a portrait sheet: no two words of the page overlap (the footer's title wraps in
    its own third instead of printing over the middle text), and the layout stays on the title's first line."""
    import argparse

    path = tmp_path / "long.yaml"
    path.write_text(f"title: Matrix calculus for deep learning, part 2, traces and determinants\n"
                    f"subtitle: CS 4780 Machine Learning for Intelligent Systems, Fall 2026\n"
                    f"style: {style}\norientation: portrait\nrules: [trace-x, det-log]\n", encoding="utf-8")
    out = tmp_path / "long.pdf"
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    assert pdf.run(parser.parse_args(["--sheet", str(path), "--out", str(out)]), real_export()) == 0
    words = _words(out)
    # two words on one line whose boxes cross (the lines of a wrapped title may touch; words of one line never do)
    overlaps = [(a[4], b[4]) for i, a in enumerate(words) for b in words[i + 1:]
                if abs(a[1] - b[1]) < 2 and a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5]
    assert overlaps == []
    first = next(w for w in words if w[4] == "Matrix")
    layout = next(w for w in words if w[4] == "Numerator" and w[1] < first[3])
    assert abs(layout[1] - first[1]) < 4 and layout[0] > first[0]
