"""Stage 1, load: read rule files and turn YAML into plain data that remembers positions.

Only this module reads rule files. YAML is read with the safe parser; anchors, aliases,
explicit tags and duplicate keys are refused before any object is built, so an alias bomb
costs nothing and no YAML tag can construct a Python object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.engine.problems import Problem, display_path

MAX_FILE_BYTES = 256 * 1024
# Where a value sits in its file: path of keys/indices -> (line, column), 1-based.
Marks = dict[tuple[Any, ...], tuple[int, int]]
SECTIONS_FILE = "_sections.yaml"
REDIRECTS_FILE = "_redirects.yaml"
# libyaml's parser when PyYAML was built with it (10x faster); the same safe grammar either way.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """A YAML file read into plain data, with the position of every value."""

    path: Path
    shown: str  # the path as messages print it
    data: Any
    marks: Marks = field(default_factory=dict)
    key_marks: Marks = field(default_factory=dict)

    def at(self, *keys: Any) -> tuple[int, int]:
        """Position of the value at keys, or of its nearest present parent."""
        while keys not in self.marks and keys:
            keys = keys[:-1]
        return self.marks.get(keys, (1, 1))

    def key_at(self, *keys: Any) -> tuple[int, int]:
        return self.key_marks.get(keys, self.at(*keys))


def find_rule_files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Expand folders to their *.yaml rule files (files starting with _ are not rules)."""
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.glob("*.yaml")) if not p.name.startswith("_"))
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Problem(display_path(path), 1, 1, "MC001", f"path must exist (found nothing at {path})"))
    return found, problems


def read_yaml(path: Path) -> tuple[Document | None, list[Problem]]:
    """Read one YAML file; problems instead of exceptions for anything wrong with it."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        return None, [Problem(shown, 1, 1, "MC001", f"file must be readable (found {err.strerror})")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(shown, 1, 1, "MC001", f"file must be at most {MAX_FILE_BYTES} bytes (found {len(raw)})")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        return None, [Problem(shown, line, 1, "MC001", f"file must be UTF-8 (found byte 0x{raw[err.start]:02x})")]
    return parse_yaml(text, path, shown)


def parse_yaml(text: str, path: Path, shown: str) -> tuple[Document | None, list[Problem]]:
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        return None, [Problem(shown, 1, 1, "MC004", "file must hold a YAML mapping (found an empty file)")]
    try:
        problems = _refuse_aliases_and_tags(text, shown)
        if problems:
            return None, problems
        node = yaml.compose(text, Loader=SafeLoader)
    except RecursionError:
        return None, [Problem(shown, 1, 1, "MC002", f"file must nest at most {MAX_YAML_DEPTH} levels deep (found more)")]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        field, fix = yaml_error_hint(text, err)
        where = f" in {field}" if field else ""
        return None, [Problem(shown, line, col, "MC002", f"file must be valid YAML (found a syntax error{where}: {what}); {fix}")]
    marks: Marks = {}
    key_marks: Marks = {}
    problems = []
    data = _to_plain(node, (), marks, key_marks, problems, shown)
    return Document(path, shown, data, marks, key_marks), problems


_TEXT_FIELDS = frozenset({"title", "subtitle", "notes", "conditions", "display", "text"})


def _spaces(count: int) -> str:
    return "1 space" if count == 1 else f"{count} spaces"


def yaml_error_hint(text: str, err: yaml.YAMLError) -> tuple[str, str]:
    """(the top-level field a YAML syntax error sits in, or ""; the fix in words) from the
    text around the error, so a rule author learns what to change, not only what the parser
    expected. Works the same for libyaml's and PyYAML's wording."""
    lines = text.splitlines()
    mark = getattr(err, "problem_mark", None)
    context = getattr(err, "context_mark", None)
    problem = str(getattr(err, "problem", "") or "")
    context_text = str(getattr(err, "context", "") or "")
    at = mark.line if mark else 0
    opened = context.line if context and ("flow" in context_text or "quoted" in context_text) else at

    def field_of(index: int) -> str:
        for i in range(min(index, len(lines) - 1), -1, -1):
            top = re.match(r"([A-Za-z_][\w-]*)\s*:", lines[i])
            if top:
                return top.group(1)
        return ""

    def indent(index: int) -> int:
        line = lines[index] if 0 <= index < len(lines) else ""
        return len(line) - len(line.lstrip(" "))

    field = field_of(opened)
    here = lines[at] if at < len(lines) else ""
    if "\t" in here[: len(here) - len(here.lstrip())] or "'\\t'" in problem:
        return field, f"indent with spaces, not tabs (line {at + 1} starts with a tab)"
    if context is not None and "flow" in context_text:
        start = lines[context.line][context.column] if context.line < len(lines) and context.column < len(lines[context.line]) else "["
        close = {"[": "]", "{": "}"}.get(start, "]")
        text_too = ", or put the whole value between double quotes if the bracket is text" if field in _TEXT_FIELDS else ""
        return field, (f"close the {start} opened at line {context.line + 1}, column {context.column + 1} with {close} "
                       f"(items inside are separated by commas){text_too}")
    if context is not None and "quoted" in context_text:
        return field, f"close the quote opened at line {context.line + 1}, column {context.column + 1}"
    if "mapping values are not allowed" in problem:
        return field, 'a value that holds ": " must be quoted: write it between double quotes'
    if "expected key" in problem or "<block end>" in problem or "block mapping" in problem:
        if mark is not None and mark.column > indent(at):  # the parser stopped in the middle of the line
            return field, (f"line {at + 1} goes on after its value at column {mark.column + 1}: put the whole value "
                           f"between double quotes, or start the next entry on its own line")
        above = next((i for i in range(at - 1, -1, -1) if lines[i].strip() and not lines[i].lstrip().startswith("#")), -1)
        if above >= 0 and indent(above) != indent(at):
            return field, (f"line {at + 1} is indented {_spaces(indent(at))} and line {above + 1} {_spaces(indent(above))}: "
                           f"the entries of one mapping or list start in the same column")
        return field, "the entries of one mapping or list start in the same column; check the indentation of this line"
    return field, "check the brackets, quotes and indentation of this line and the line above"


MAX_YAML_DEPTH = 20  # a rule nests 4 levels; deeper files are refused before they are built


def _refuse_aliases_and_tags(text: str, shown: str) -> list[Problem]:
    problems = []
    depth = 0
    for event in yaml.parse(text, Loader=SafeLoader):
        line, col = event.start_mark.line + 1, event.start_mark.column + 1
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return [Problem(shown, line, col, "MC002", f"file must nest at most {MAX_YAML_DEPTH} levels deep (found more)")]
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            problems.append(Problem(shown, line, col, "MC003", "rule files must not use YAML anchors or aliases (found one)"))
            return problems  # one is enough; an alias bomb may hold millions
        tag = getattr(event, "tag", None)
        implicit = getattr(event, "implicit", True)
        explicit = tag is not None and (implicit is False or (isinstance(implicit, tuple) and not any(implicit)))
        if explicit and not isinstance(event, yaml.DocumentStartEvent):
            problems.append(Problem(shown, line, col, "MC003", f"rule files must not use YAML tags (found {tag})"))
    return problems


_constructor = yaml.constructor.SafeConstructor()


def _to_plain(node: yaml.Node, keys: tuple[Any, ...], marks: Marks, key_marks: Marks, problems: list[Problem], shown: str) -> Any:
    marks[keys] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _constructor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                problems.append(Problem(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1, "MC012", f"keys must be plain words (found {type(key).__name__})"))
                continue
            if key in result:
                problems.append(Problem(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1, "MC003", f"key '{key}' must appear once (found it again)"))
                continue
            key_marks[keys + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _to_plain(value_node, keys + (key,), marks, key_marks, problems, shown)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_plain(item, keys + (i,), marks, key_marks, problems, shown) for i, item in enumerate(node.value)]
    return _constructor.construct_object(node, deep=True)


def expression_position(doc: Document, keys: tuple[Any, ...], line_in: int, col_in: int) -> tuple[int, int]:
    """Where (line_in, 0-based col_in) of an expression's text lies in the file.

    Plain and quoted scalars start at their mark (after the quote); a folded or literal
    block scalar (> or |) starts on the next line, and its lines were joined by spaces.
    """
    line, col = doc.at(*keys)
    try:
        lines = doc.path.read_text(encoding="utf-8").splitlines()
        mark = lines[line - 1][col - 1 : col]
        if mark in (">", "|"):
            offset = col_in
            row = line  # 0-based index of the first content line
            while row < len(lines):
                text = lines[row]
                indent = len(text) - len(text.lstrip())
                width = len(text.strip())
                if offset <= width:
                    return row + 1, indent + offset + 1
                offset -= width + 1
                row += 1
            return line + 1, 1
        if mark in ("\"", "'"):
            col += 1
    except (OSError, IndexError, UnicodeDecodeError):
        pass
    return line + line_in - 1, col + col_in
