"""Every book or paper a rule cites was checked: rules/_references.yaml lists each `reference:`
string exactly as the rules cite it, with what was checked (`checked`) and where
(`confirmed_by`). A citation from memory fails here, naming the rule file, its line and the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
REGISTRY = RULES / "_references.yaml"


def load_registry(path: Path = REGISTRY) -> dict[str, dict]:
    """The registry flattened: cited text -> {work, confirmed_by, checked}. Malformed entries raise ValueError."""
    works = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(works, list):
        raise ValueError(f"{path.name}: expected a list of works")
    out: dict[str, dict] = {}
    for i, work in enumerate(works, 1):
        if not isinstance(work, dict) or not all(str(work.get(k) or "").strip() for k in ("work", "confirmed_by")):
            raise ValueError(f"{path.name}: work #{i} needs a non-empty `work` and `confirmed_by`")
        for cite in work.get("cites") or []:
            text, checked = str(cite.get("text") or ""), str(cite.get("checked") or "").strip()
            if not text or not checked:
                raise ValueError(f"{path.name}: under {work['work']!r}, every cite needs `text` and `checked` (what the source shows)")
            if text in out:
                raise ValueError(f"{path.name}: {text!r} is listed twice")
            out[text] = {"work": work["work"], "confirmed_by": work["confirmed_by"], "checked": checked}
    return out


def cited_references(rules_dir: Path = RULES) -> list[tuple[str, int, str, str]]:
    """(file name, line, rule id, reference text) for every `reference:` source of every rule file."""
    out = []
    for path in sorted(rules_dir.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        lines = text.splitlines()
        for source in data.get("sources") or []:
            if isinstance(source, dict) and "reference" in source:
                ref = str(source["reference"])
                line = next((n for n, s in enumerate(lines, 1) if "reference:" in s and ref in s), 0)
                out.append((path.name, line, str(data.get("id")), ref))
    return out


def unchecked(cited: list[tuple[str, int, str, str]], registry: dict[str, dict]) -> list[str]:
    """The problem lines for references that no registry entry vouches for."""
    return [f"rules/{name}:{line}: sources: reference {ref!r} is not in rules/_references.yaml; check it against the "
            f"work or a source that quotes it and add it there with `checked` and `confirmed_by`, or cite it as "
            f"`derived:` with the derivation in words"
            for name, line, _rid, ref in cited if ref not in registry]


def test_the_registry_is_well_formed() -> None:
    registry = load_registry()
    assert len(registry) >= 1


def test_every_reference_a_rule_cites_was_checked() -> None:
    assert unchecked(cited_references(), load_registry()) == []


def test_every_registry_entry_is_cited_by_a_rule() -> None:
    """No stale entries: a citation that no rule uses any more is removed (or the rule was renamed)."""
    used = {ref for *_, ref in cited_references()}
    assert sorted(set(load_registry()) - used) == []


def test_the_sigmoid_identity_is_cited_from_section_3_10() -> None:
    """Issue 11: sigmoid's identity is in Goodfellow et al. section 3.10, not 6.2.2.2."""
    bad = [(name, ref) for name, _line, _rid, ref in cited_references() if "6.2.2.2" in ref]
    assert bad == []
    cites = {rid: ref for _name, _line, rid, ref in cited_references()}
    assert "section 3.10" in cites["sigmoid-scalar"]


def test_an_unchecked_reference_is_reported_with_file_line_and_fix(tmp_path: Path) -> None:
    """The check can fail: a rule citing a book the registry does not list is named with its line."""
    (tmp_path / "toy.yaml").write_text(
        "id: toy\nsources:\n  - derived: \"by hand\"\n  - reference: \"Someone, A Book (2001), section 9\"\n",
        encoding="utf-8")
    (tmp_path / "_references.yaml").write_text(
        "- work: Another, Another Book (2002)\n  confirmed_by: somewhere\n  cites:\n"
        "    - text: \"Another, Another Book (2002), section 1\"\n      checked: the passage\n",
        encoding="utf-8")
    problems = unchecked(cited_references(tmp_path), load_registry(tmp_path / "_references.yaml"))
    assert len(problems) == 1
    assert problems[0].startswith("rules/toy.yaml:4: sources: reference 'Someone, A Book (2001), section 9'")
    assert "rules/_references.yaml" in problems[0]


@pytest.mark.parametrize("bad, message", [
    ("- work: W\n  cites: []\n", "needs a non-empty `work` and `confirmed_by`"),
    ("- work: W\n  confirmed_by: X\n  cites:\n    - text: T\n", "every cite needs `text` and `checked`"),
    ("- work: W\n  confirmed_by: X\n  cites:\n    - {text: T, checked: C}\n    - {text: T, checked: D}\n", "listed twice"),
])
def test_a_malformed_registry_is_refused(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "_references.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("`", ".")):
        load_registry(path)
