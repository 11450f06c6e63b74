"""Stage 1, load: rule files become plain data with positions; unsafe or broken YAML becomes problems."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator.engine.load import MAX_FILE_BYTES, expression_position, find_rule_files, parse_yaml, read_yaml

from engine_support import BAD, GOOD


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def test_good_fixture_loads_with_positions() -> None:
    """trace-axb.yaml loads as a mapping and every value remembers its 1-based line and column."""
    doc, problems = read_yaml(GOOD / "trace-axb.yaml")
    assert problems == [] and doc is not None
    assert doc.data["of"] == "trace(A @ X @ B)"
    assert doc.data["symbols"] == {"A": ["m", "n"], "X": ["n", "p"], "B": ["p", "m"]}
    lines = (GOOD / "trace-axb.yaml").read_text(encoding="utf-8").splitlines()
    for keys in [("id",), ("of",), ("expect",), ("symbols", "X", 1)]:
        line, col = doc.at(*keys)
        value = doc.data
        for k in keys:
            value = value[k]
        assert lines[line - 1][col - 1:].startswith(str(value))


def test_key_positions_point_at_the_key() -> None:
    """key_at gives the position of a key itself, where an unknown field is reported."""
    doc, _ = read_yaml(GOOD / "trace-axb.yaml")
    line, col = doc.key_at("expect")
    text = (GOOD / "trace-axb.yaml").read_text(encoding="utf-8").splitlines()[line - 1]
    assert text[col - 1:].startswith("expect:")


def test_position_of_a_missing_key_falls_back_to_its_parent() -> None:
    """Document.at for a path that does not exist returns the nearest present parent's position."""
    doc, _ = read_yaml(GOOD / "trace-axb.yaml")
    assert doc.at("symbols", "Z", 0) == doc.at("symbols")
    assert doc.at("nothing") == (1, 1)


def test_find_rule_files_expands_folders_and_skips_underscore_files(tmp_path: Path) -> None:
    """A folder expands to its *.yaml files in sorted order, without _sections.yaml or other extensions."""
    for name in ("b.yaml", "a.yaml", "_sections.yaml", "notes.txt", "c.yml"):
        (tmp_path / name).write_text("x: 1\n", encoding="utf-8")
    single = tmp_path / "single.yaml"
    single.write_text("x: 1\n", encoding="utf-8")
    found, problems = find_rule_files([tmp_path, single])
    assert problems == []
    assert [p.name for p in found] == ["a.yaml", "b.yaml", "single.yaml", "single.yaml"]


def test_find_rule_files_reports_missing_paths(tmp_path: Path) -> None:
    """A missing path is an MC001 problem, not an exception."""
    found, problems = find_rule_files([tmp_path / "missing.yaml"])
    assert found == [] and codes(problems) == ["MC001"]
    assert "path must exist" in problems[0].message


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """A UTF-8 file that starts with a byte-order mark (Windows editors) loads like any other."""
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfid: bom\ntitle: Bom\n")
    doc, problems = read_yaml(path)
    assert problems == [] and doc.data == {"id": "bom", "title": "Bom"}


def test_non_utf8_reports_line_of_first_bad_byte(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 give MC001 at the line where they occur and name the byte."""
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"id: x\ntitle: ok\nnotes: na\xefve\n")
    doc, problems = read_yaml(path)
    assert doc is None
    assert [(p.line, p.code) for p in problems] == [(3, "MC001")]
    assert problems[0].message == "file must be UTF-8 (found byte 0xef)"


def test_size_limit(tmp_path: Path) -> None:
    """A file one byte over the limit is refused; one at the limit is read."""
    at_limit = tmp_path / "at.yaml"
    at_limit.write_bytes(b"a: 1\n" + b"#" * (MAX_FILE_BYTES - 6) + b"\n")
    assert at_limit.stat().st_size == MAX_FILE_BYTES
    assert read_yaml(at_limit)[1] == []
    over = tmp_path / "over.yaml"
    over.write_bytes(at_limit.read_bytes() + b"\n")
    assert codes(read_yaml(over)[1]) == ["MC001"]


@pytest.mark.parametrize("text,code", [
    ("a: &x 1\nb: *x\n", "MC003"),
    ("a: &x 1\n", "MC003"),
    ("a: !!str 1\n", "MC003"),
    ("a: !custom 1\n", "MC003"),
    ("a: !!python/object:os.system {}\n", "MC003"),
    ("a: !!python/name:os.system ''\n", "MC003"),
    ("a: 1\na: 2\n", "MC003"),
    ("a: [1\n", "MC002"),
    ("a: 1\n---\nb: 2\n", "MC002"),
    ("\t- a\n", "MC002"),
    ("", "MC004"),
    ("# nothing\n\n", "MC004"),
], ids=["alias", "anchor", "str-tag", "local-tag", "python-object", "python-name", "duplicate", "unclosed",
        "two-documents", "tab", "empty", "comments"])
def test_unsafe_or_broken_yaml_is_a_problem(text: str, code: str) -> None:
    """Anchors, aliases, tags, duplicate keys, syntax errors and empty files each give their code, never an exception."""
    doc, problems = parse_yaml(text, Path("t.yaml"), "t.yaml")
    assert code in codes(problems)


def test_alias_bomb_is_refused_before_expansion() -> None:
    """The billion-laughs fixture is refused at its first anchor in well under a second."""
    text = (BAD / "mc003-alias-bomb.yaml").read_text(encoding="utf-8")
    start = time.perf_counter()
    doc, problems = parse_yaml(text, Path("bomb.yaml"), "bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert doc is None
    assert [(p.line, p.col, p.code) for p in problems] == [(1, 4, "MC003")]


def test_duplicate_key_is_reported_at_the_second_occurrence() -> None:
    """A repeated key is reported where it appears again, and the first value is kept."""
    doc, problems = parse_yaml("id: a\nof: x\nwrt: x\nof: y\n", Path("d.yaml"), "d.yaml")
    assert [(p.line, p.col, p.code) for p in problems] == [(4, 1, "MC003")]
    assert doc.data["of"] == "x"


def test_python_tags_construct_nothing(tmp_path: Path) -> None:
    """A python/object/apply tag is refused without running its call."""
    marker = tmp_path / "PWNED"
    text = f"a: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{marker}']]\n"
    doc, problems = parse_yaml(text, Path("t.yaml"), "t.yaml")
    assert doc is None and "MC003" in codes(problems)
    assert not marker.exists()


def test_complex_keys_are_a_problem() -> None:
    """A mapping key that is a list is an MC012 problem, not a crash."""
    doc, problems = parse_yaml("? [a, b]\n: 1\nc: 2\n", Path("k.yaml"), "k.yaml")
    assert codes(problems) == ["MC012"] and doc.data == {"c": 2}


def test_expression_position_skips_an_opening_quote(tmp_path: Path) -> None:
    """The origin of a quoted expression is the character after its quote; of a plain one, its first character."""
    path = tmp_path / "q.yaml"
    path.write_text("of: \"x + y\"\nexpect: x\nwrt: 'x'\n", encoding="utf-8")
    doc, _ = read_yaml(path)
    assert expression_position(doc, ("of",), 1, 0) == (1, 6)
    assert expression_position(doc, ("expect",), 1, 0) == (2, 9)
    assert expression_position(doc, ("wrt",), 1, 0) == (3, 7)


def test_expression_position_follows_a_folded_block(tmp_path: Path) -> None:
    """In a folded (>-) expression, an offset past the first line lands on its own line and column."""
    path = tmp_path / "f.yaml"
    path.write_text("of: >-\n  trace(A @\n    Q)\n", encoding="utf-8")
    doc, _ = read_yaml(path)
    assert expression_position(doc, ("of",), 1, 0) == (2, 3)
    assert expression_position(doc, ("of",), 1, 10) == (3, 5)


def test_unreadable_file_is_mc001(tmp_path: Path) -> None:
    """A path that is a folder passed to read_yaml (unreadable as a file) gives MC001, not OSError."""
    doc, problems = read_yaml(tmp_path)
    assert doc is None and codes(problems) == ["MC001"]


@pytest.mark.parametrize("text,field,fix", [
    ("id: a\nsymbols: {A: [m, n], X: [n, p}\nof: x\n", "symbols",
     "close the [ opened at line 2, column 25 with ] (items inside are separated by commas)"),
    ("id: a\ntitle: [Trace of a product\nsection: traces\n", "title",
     "close the [ opened at line 2, column 8 with ] (items inside are separated by commas), "
     "or put the whole value between double quotes if the bracket is text"),
    ("id: a\nsymbols:\n  A: [m, n]\n   X: [n, p]\nof: x\n", "symbols",
     "line 4 is indented 3 spaces and line 3 2 spaces: the entries of one mapping or list start in the same column"),
    ("id: a\nsources:\n  - paper: '4.2'\n - derived: x\nof: x\n", "sources",
     "line 4 is indented 1 space and line 3 2 spaces: the entries of one mapping or list start in the same column"),
    ("id: a\nsymbols:\n\tA: [n, n]\n", "symbols", "indent with spaces, not tabs (line 3 starts with a tab)"),
    ("id: a\ntitle: Gradient: of x\n", "title", 'a value that holds ": " must be quoted: write it between double quotes'),
    ("id: a\ntitle: \"Gradient of x\nof: x\n", "title", "close the quote opened at line 2, column 8"),
    ("id: a\nfunctions:\n  f: [n] -> []\nof: x\n", "functions",
     "line 3 goes on after its value at column 10: put the whole value between double quotes, "
     "or start the next entry on its own line"),
], ids=["bracket", "bracket-in-text", "indent-more", "indent-less", "tab", "colon-in-value", "open-quote", "value-goes-on"])
@pytest.mark.parametrize("loader", ["libyaml", "pyyaml"])
def test_yaml_syntax_error_names_the_field_and_the_fix(text: str, field: str, fix: str, loader: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A YAML syntax error names the top-level field it sits in and says what to change (the bracket to close, the
    line whose indentation differs, the tab, the value to quote), with libyaml's and PyYAML's parser alike."""
    import yaml

    import generator.engine.load as load
    if loader == "pyyaml":
        monkeypatch.setattr(load, "SafeLoader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    doc, problems = parse_yaml(text, Path("t.yaml"), "t.yaml")
    assert doc is None and len(problems) == 1
    message = problems[0].message
    assert message.startswith(f"file must be valid YAML (found a syntax error in {field}: ")
    assert message.endswith(f"); {fix}")
