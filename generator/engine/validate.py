"""Stage 2, validate: the rule file's fields against the JSON Schema and the style guide.

Every problem is collected, none stops the others; messages read
"<field> must <rule> (found <value>)" and carry the line and column of the field.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jsonschema

from generator.engine.load import Document
from generator.engine.parse import FUNCTIONS
from generator.engine.problems import Problem
from generator.engine.style import presentation_problems

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "rule.schema.json"
PUBLISH_FIELDS = ("conditions", "sources", "tags", "aliases")
SQUARE_ONLY = ("symmetric", "spd", "invertible", "diagonal")
# Function names a symbol may take: D is only ever called as D(f, x), so a symbol D (a diagonal matrix) is
# unambiguous. sigma prints like the sigmoid: it is refused only in a rule that uses sigmoid.
SYMBOL_NAMES_OK = frozenset({"D"})
RESERVED_NAMES = frozenset({"sigma"})

# Hand-written LaTeX (display forms, math in notes, errata) may use these commands only:
# enough for formulas, nothing that reads or writes files or redefines anything.
LATEX_WHITELIST = frozenset(
    """frac dfrac tfrac partial mathbf boldsymbol mathrm mathit mathbb mathcal operatorname text top
    odot oslash otimes oplus circ cdot times sum prod left right lVert rVert lvert rvert vert Vert
    langle rangle ldots cdots dots vdots ddots sqrt log exp sin cos tan tanh det max min sup inf lim
    ln bigcirc ell tr diag softmax softplus logsumexp step sign sumop quad qquad le leq ge geq ne neq approx equiv to mapsto
    in notin subset cup cap forall exists infty nabla mid colon big Big bigg Bigg bigl bigr Bigl Bigr
    overline underline hat tilde bar vec dot ddot prime mathsf textbf textit begin end pmatrix bmatrix
    matrix cases vmatrix displaystyle textstyle phantom
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho
    sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split()
)
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
# The sections of Parr & Howard, arXiv:1802.01528v3 (shared/reference/paper.md): a `paper:`
# source must name one of them.
PAPER_SECTIONS = ("1", "2", "3", "4", "4.1", "4.2", "4.3", "4.4", "4.5", "4.5.1", "4.5.2", "4.5.3", "5", "6", "6.1", "6.2",
                  "7", "8", "8.1", "8.2", "8.3", "8.4", "8.5", "9", "10")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_document(doc: Document, sections: set[str], publish: bool) -> list[Problem]:
    """All problems of one rule file that can be found without reading its expressions."""
    data = doc.data
    if not isinstance(data, dict):
        return [Problem(doc.shown, 1, 1, "MC004", f"file must hold a YAML mapping (found {_kind(data)})")]
    problems = list(_schema_problems(doc))
    problems += _semantic_problems(doc, sections)
    if publish:
        problems += _publish_problems(doc)
        problems += presentation_problems(doc)  # one notation on the site and in the PDFs (MC041)
    return sorted(set(problems))


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean", type(None): "nothing"}.get(type(value), type(value).__name__)


def _field_name(path: Iterable[Any]) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else ("." if parts else "") + str(p))
    return "".join(parts) or "the rule"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_problems(doc: Document) -> Iterable[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    for error in validator.iter_errors(doc.data):
        path = tuple(error.absolute_path)
        yield from _explain(doc, error, path)


def _explain(doc: Document, error: jsonschema.ValidationError, path: tuple[Any, ...]) -> Iterable[Problem]:
    field = _field_name(path)
    line, col = doc.at(*path)
    kind = error.validator
    if kind == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        for name in missing:
            where = _field_name(path + (name,))
            yield Problem(doc.shown, line, col, "MC010", f"{where} must be present (found it missing)")
        return
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        for key in error.instance:
            if key not in known:
                k_line, k_col = doc.key_at(*path, key)
                hint = difflib.get_close_matches(str(key), known, n=1)
                suggestion = f"; did you mean {hint[0]}?" if hint else ""
                yield Problem(doc.shown, k_line, k_col, "MC011", f"{_field_name(path + (key,))} must not be there: not a field of {field if path else 'a rule'} (found unknown field {key}{suggestion})")
        return
    if kind == "propertyNames":
        line, col = doc.key_at(*path, error.instance)
        yield Problem(doc.shown, line, col, "MC012", f"{field} names must be identifiers like x, A, mu, x_1 (found {_show(error.instance)})")
        return
    if kind in ("anyOf", "oneOf") and path and path[-1] == "wrt":
        yield Problem(doc.shown, line, col, "MC012", f"{field} must be a symbol name like x, or a list of two or more different symbol names like [x, y] (found {_show(error.instance)})")
        return
    if kind in ("anyOf", "oneOf") and path and path[-2:-1] and "symbols" in path:
        yield Problem(doc.shown, line, col, "MC012", f"{field} must be a dimension: a letter or a positive integer (found {_show(error.instance)})")
        return
    description = _rule_text(error)
    suggestion = ""
    expected = error.validator_value if kind == "type" else None
    wants = set(expected) if isinstance(expected, list) else {expected}
    if kind == "type" and "string" in wants and isinstance(error.instance, (int, float)) and not isinstance(error.instance, bool):
        suggestion = f'; write it in quotes: "{error.instance}"'  # YAML reads 4.2 as a number
    elif kind == "type" and wants & {"integer", "number"} and isinstance(error.instance, str) and error.instance.strip().isdigit():
        suggestion = f"; write it without quotes: {error.instance.strip()}"
    if kind == "enum" and isinstance(error.instance, str):
        hint = difflib.get_close_matches(error.instance, [str(v) for v in error.validator_value], n=1)
        suggestion = f"; did you mean {hint[0]}?" if hint else ""
    yield Problem(doc.shown, line, col, "MC012", f"{field} must {description} (found {_show(error.instance)}{suggestion})")


def _rule_text(error: jsonschema.ValidationError) -> str:
    kind, value = error.validator, error.validator_value
    if kind == "type":
        names = {"string": "a string", "object": "a mapping", "array": "a list", "integer": "an integer", "number": "a number", "boolean": "true or false"}
        return "be " + (names.get(value, value) if isinstance(value, str) else " or ".join(names.get(v, v) for v in value))
    if kind == "enum":
        return "be one of " + ", ".join(str(v) for v in value)
    if kind == "pattern":
        friendly = {
            r"^[a-z0-9]+([.-][a-z0-9]+)*$": "use lower-case letters, digits, '-' and '.' only",
            r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?$": "be an identifier like x, A, mu, x_1",
            r"^[a-z0-9]+(-[a-z0-9]+)*$": "be lower-case kebab-case, like chain-rule",
            r"^[0-9]+(\.[0-9]+)*$": "be a section number like \"4.2\"",
            r"^[A-Za-z]$": "be a single letter",
        }
        return friendly.get(value, f"match {value}")
    if kind == "minLength":
        return f"have at least {value} characters"
    if kind == "maxLength":
        return f"have at most {value} characters"
    if kind == "minItems":
        return f"have at least {value} item(s)"
    if kind == "maxItems":
        return f"have at most {value} item(s)"
    if kind in ("minProperties", "maxProperties"):
        return f"have {'at least' if kind == 'minProperties' else 'at most'} {value} entr{'y' if value == 1 else 'ies'}"
    if kind == "minimum":
        return f"be at least {value}"
    if kind == "maximum":
        return f"be at most {value}"
    if kind == "uniqueItems":
        return "not repeat an item"
    if kind in ("anyOf", "oneOf"):
        return "be a letter or a positive integer"
    return error.message


def _semantic_problems(doc: Document, sections: set[str]) -> Iterable[Problem]:
    data: dict[str, Any] = doc.data
    rule_id = data.get("id")
    if isinstance(rule_id, str) and rule_id != doc.path.stem:
        line, col = doc.at("id")
        yield Problem(doc.shown, line, col, "MC013", f"id must equal the file name's stem '{doc.path.stem}' (found '{rule_id}'); rename the file or the id")
    section = data.get("section")
    if isinstance(section, str) and sections and section not in sections:
        line, col = doc.at("section")
        hint = difflib.get_close_matches(section, sorted(sections), n=1)
        yield Problem(doc.shown, line, col, "MC015", f"section must be a slug from rules/_sections.yaml (found '{section}'{'; did you mean ' + hint[0] + '?' if hint else ''})")
    if data.get("kind", "derivative") == "derivative" and "layout" not in data:
        yield Problem(doc.shown, 1, 1, "MC010", "layout must be present for a derivative: numerator or denominator (found it missing)")
    symbols = data.get("symbols") if isinstance(data.get("symbols"), dict) else {}
    functions = data.get("functions") if isinstance(data.get("functions"), dict) else {}
    dims = {d for shape in symbols.values() if isinstance(shape, list) for d in shape if isinstance(d, str)}
    for sig in functions.values():  # a letter used only in a function's shape is a dimension too (it may be sized)
        if isinstance(sig, dict):
            for shape in [*(sig.get("args") or []), sig.get("to")]:
                if isinstance(shape, list):
                    dims |= {d for d in shape if isinstance(d, str)}
    uses_sigmoid = any("sigmoid" in text for text in _expression_texts(data))
    for name in symbols:
        if name == "sigma" and uses_sigmoid:
            line, col = doc.key_at("symbols", name)
            yield Problem(doc.shown, line, col, "MC012", "symbols.sigma must not be used beside sigmoid, which prints as the same "
                          "letter (found both); rename the symbol, e.g. s or std")
        elif name in FUNCTIONS and name not in SYMBOL_NAMES_OK or name in functions:
            line, col = doc.key_at("symbols", name)
            yield Problem(doc.shown, line, col, "MC012", f"symbols.{name} must not have the name of a function (found {name})")
        if name in dims:
            line, col = doc.key_at("symbols", name)
            yield Problem(doc.shown, line, col, "MC012", f"symbols.{name} must not share its name with a dimension (found {name} used as both)")
    assume = data.get("assume") if isinstance(data.get("assume"), dict) else {}
    for name, props in assume.items():
        line, col = doc.key_at("assume", name)
        if name not in symbols:
            yield Problem(doc.shown, line, col, "MC022", f"assume.{name} must name a declared symbol (found {name} undeclared)")
            continue
        shape = symbols[name]
        if not isinstance(props, list) or not isinstance(shape, list):
            continue
        for prop in props:
            if prop in SQUARE_ONLY and not (len(shape) == 2 and shape[0] == shape[1]):
                yield Problem(doc.shown, line, col, "MC026", f"assume.{name} {prop} must apply to a square matrix (found shape {shape})")
            if prop == "probability" and len(shape) != 1:
                yield Problem(doc.shown, line, col, "MC026", f"assume.{name} probability must apply to a vector (found shape {shape})")
        if "diagonal" in props and "nonzero" in props:
            yield Problem(doc.shown, line, col, "MC026", f"assume.{name} must not be both diagonal and nonzero: a diagonal matrix "
                          "has zero entries off the diagonal (found both); keep diagonal, and say positive if its diagonal is")
    sizes = data.get("sizes")
    if isinstance(sizes, list):
        for i, assignment in enumerate(sizes):
            if isinstance(assignment, dict) and set(assignment) != dims:
                line, col = doc.at("sizes", i)
                yield Problem(doc.shown, line, col, "MC012", f"sizes[{i}] must give every dimension a size: {', '.join(sorted(dims)) or 'none'} (found {', '.join(sorted(map(str, assignment))) or 'none'})")
    sources = data.get("sources") if isinstance(data.get("sources"), list) else []
    for i, source in enumerate(sources):
        section = source.get("paper") if isinstance(source, dict) else None
        if isinstance(section, str) and section not in PAPER_SECTIONS:
            line, col = doc.at("sources", i, "paper")
            yield Problem(doc.shown, line, col, "MC012", f"sources[{i}].paper must be a section of the paper: {', '.join(PAPER_SECTIONS)} (found '{section}')")
    for key in ("display",):
        if isinstance(data.get(key), str):
            yield from latex_problems(doc, (key,), data[key])
    if isinstance(data.get("title"), str):
        for math in re.findall(r"\$([^$]*)\$", data["title"]):
            yield from latex_problems(doc, ("title",), math)
        if data["title"].count("$") % 2:
            line, col = doc.at("title")
            yield Problem(doc.shown, line, col, "MC012", "title must close every $...$ math span (found an odd number of $)")
        else:
            outside = _COMMAND.search(re.sub(r"\$[^$]*\$", "", data["title"]))
            if outside:
                line, col = doc.at("title")
                yield Problem(doc.shown, line, col, "MC030", f"title must put LaTeX between $...$ (found {outside.group(0)} outside math)")
    if isinstance(data.get("notes"), str):
        for math in re.findall(r"\$([^$]*)\$", data["notes"]):
            yield from latex_problems(doc, ("notes",), math)
        if "$$" in data["notes"]:
            line, col = doc.at("notes")
            yield Problem(doc.shown, line, col, "MC030", "notes must use inline math $...$ only (found $$)")
        elif data["notes"].count("$") % 2:
            line, col = doc.at("notes")
            yield Problem(doc.shown, line, col, "MC012", "notes must close every $...$ math span (found an odd number of $)")
    example = data.get("example")
    if isinstance(example, dict) and isinstance(example.get("text"), str):
        for math in re.findall(r"\$([^$]*)\$", example["text"]):
            yield from latex_problems(doc, ("example", "text"), math)
    yield from _style_problems(doc)


def _expression_texts(data: dict[str, Any]) -> list[str]:
    """The rule-language texts of a rule (of, expect, where values, the example's): for name checks."""
    texts = []
    for fields in (data, data.get("example") if isinstance(data.get("example"), dict) else {}):
        for key in ("of", "expect"):
            if isinstance(fields.get(key), str):
                texts.append(fields[key])
        where = fields.get("where")
        if isinstance(where, dict):
            texts += [v for v in where.values() if isinstance(v, str)]
    return texts


def latex_problems(doc: Document, path: tuple[Any, ...], text: str) -> Iterable[Problem]:
    """Hand-written LaTeX must use whitelisted commands and balanced braces."""
    line, col = doc.at(*path)
    field = _field_name(path)
    for command in _COMMAND.findall(text):
        if command.isalpha() and command not in LATEX_WHITELIST:
            yield Problem(doc.shown, line, col, "MC030", f"{field} must use only whitelisted LaTeX commands (found \\{command})")
        elif not command.isalpha() and command not in ",;:! {}|_^&%#$\\":
            yield Problem(doc.shown, line, col, "MC030", f"{field} must use only whitelisted LaTeX commands (found \\{command})")
    depth = 0
    for ch in text.replace("\\{", "").replace("\\}", ""):
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            break
    if depth != 0:
        yield Problem(doc.shown, line, col, "MC030", f"{field} must have balanced braces (found {'an extra }' if depth < 0 else 'an unclosed {'})")
    if "%" in text.replace("\\%", "") or "#" in text.replace("\\#", ""):
        yield Problem(doc.shown, line, col, "MC030", f"{field} must not contain a bare % or # (found one)")


def _style_problems(doc: Document) -> Iterable[Problem]:
    title = doc.data.get("title")
    if isinstance(title, str):
        line, col = doc.at("title")
        if title.rstrip().endswith("."):
            yield Problem(doc.shown, line, col, "MC041", f"title must not end with a full stop (found {_show(title)})")
        if title[:1].islower():
            yield Problem(doc.shown, line, col, "MC041", f"title must start with a capital letter, sentence case (found {_show(title)})")
        if title != title.strip() or "  " in title:
            yield Problem(doc.shown, line, col, "MC041", f"title must not have extra spaces (found {_show(title)})")


def _publish_problems(doc: Document) -> Iterable[Problem]:
    for name in PUBLISH_FIELDS:
        if name not in doc.data:
            yield Problem(doc.shown, 1, 1, "MC040", f"{name} must be present to publish the rule (found it missing)")


def cross_rule_problems(docs: list[Document], known_ids: set[str]) -> list[Problem]:
    """Duplicate ids and dangling `related` links (known_ids: rule files beside the checked ones)."""
    problems: list[Problem] = []
    seen: dict[str, Document] = {}
    for doc in docs:
        rule_id = doc.data.get("id") if isinstance(doc.data, dict) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id in seen:
            line, col = doc.at("id")
            problems.append(Problem(doc.shown, line, col, "MC014", f"id must be unique (found '{rule_id}' also in {seen[rule_id].shown})"))
        else:
            seen[rule_id] = doc
    for doc in docs:
        related = doc.data.get("related") if isinstance(doc.data, dict) else None
        if isinstance(related, list):
            for i, other in enumerate(related):
                if isinstance(other, str) and other not in seen and other not in known_ids:
                    line, col = doc.at("related", i)
                    problems.append(Problem(doc.shown, line, col, "MC016", f"related[{i}] must be the id of a rule (found '{other}')"))
    return problems


def teaching_order_problems(sections_doc: Document, sections: list[dict[str, Any]], docs: list[Document],
                            known_ids: set[str]) -> list[Problem]:
    """Every rule placed exactly once in its section's `rules:` list (the teaching order).

    Readers see rules in this order, never alphabetically. Applies once the corpus gives
    any section a teaching order; a listed id must be a rule of that section.
    """
    if not any("rules" in s for s in sections):
        return []
    problems: list[Problem] = []
    section_of = {d.data.get("id"): d.data.get("section") for d in docs if isinstance(d.data, dict)}
    placed: dict[str, str] = {}
    for i, section in enumerate(sections):
        slug = section["slug"]
        for j, rule_id in enumerate(section.get("rules", [])):
            line, col = sections_doc.at(i, "rules", j)
            where = f"{slug}: rules[{j}]"
            if rule_id in placed:
                problems.append(Problem(sections_doc.shown, line, col, "MC017", f"{where} must list each rule once (found '{rule_id}' again, also in {placed[rule_id]})"))
            elif rule_id not in known_ids:
                hint = difflib.get_close_matches(rule_id, sorted(known_ids), n=1)
                problems.append(Problem(sections_doc.shown, line, col, "MC017", f"{where} must be the id of a rule file (found '{rule_id}'{'; did you mean ' + hint[0] + '?' if hint else ''})"))
            elif rule_id in section_of and section_of[rule_id] != slug:
                problems.append(Problem(sections_doc.shown, line, col, "MC017", f"{where} must be a rule of section {slug} (found '{rule_id}' of section {section_of[rule_id]}); move it to that section's list"))
            placed.setdefault(rule_id, slug)
    slugs = {s["slug"] for s in sections}
    for doc in docs:
        rule_id, slug = doc.data.get("id"), doc.data.get("section")
        if isinstance(rule_id, str) and slug in slugs and rule_id not in placed:
            line, col = doc.at("section")
            problems.append(Problem(doc.shown, line, col, "MC017", f"section {slug} must place this rule in its teaching order (found '{rule_id}' unlisted); "
                                                                    f"add it to the rules: list of {slug} in {sections_doc.shown}"))
    return problems


def redirect_problems(doc: Document, redirects: dict[str, str], known_ids: set[str]) -> list[Problem]:
    """A retired id resolves to a rule that exists, and is not itself a rule file."""
    problems: list[Problem] = []
    for old, new in redirects.items():
        if old in known_ids:
            line, col = doc.key_at(old)
            problems.append(Problem(doc.shown, line, col, "MC018", f"{old} must be a retired id, not a rule file (found rules/{old}.yaml); delete the redirect or the file"))
        if new not in known_ids:
            line, col = doc.at(old)
            hint = difflib.get_close_matches(new, sorted(known_ids), n=1)
            problems.append(Problem(doc.shown, line, col, "MC018", f"{old} must resolve to the id of a rule file (found '{new}'{'; did you mean ' + hint[0] + '?' if hint else ''})"))
    return problems
