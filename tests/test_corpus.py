"""The real corpus in rules/: everything publishable, everything verified, ids that never go away."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from generator.pipeline import DEFAULT_RULES, load_and_parse, verify
from generator.engine.validate import PAPER_SECTIONS as SECTIONS_OF_THE_PAPER

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED_IDS = DEFAULT_RULES / "_published-ids.txt"
ERRATA = ROOT / "errata" / "paper.yaml"
# Sections of the paper (paper.md) that state rules: each must be the source of at least one rule.
PAPER_SECTIONS = ["2", "3", "4", "4.1", "4.2", "4.3", "4.4", "4.5.1", "4.5.2", "4.5.3", "5", "6", "6.1", "6.2",
                  "8.1", "8.2", "8.3", "8.4", "8.5"]
REDIRECTS = DEFAULT_RULES / "_redirects.yaml"


def redirects() -> dict[str, str]:
    """Retired ids -> the id each resolves to (rules/_redirects.yaml: `old: new` or `old: {to: new, section: s}`)."""
    data = (yaml.safe_load(REDIRECTS.read_text(encoding="utf-8")) or {}) if REDIRECTS.is_file() else {}
    return {old: (new["to"] if isinstance(new, dict) else new) for old, new in data.items()}


@pytest.fixture(scope="session")
def corpus():
    report = load_and_parse([DEFAULT_RULES], publish=True)
    verify(report)  # uses the verdict cache: only changed rules are proved again
    return report


def rule_ids() -> list[str]:
    return sorted(p.stem for p in DEFAULT_RULES.glob("*.yaml") if not p.name.startswith("_"))


def test_every_rule_file_is_valid_for_publishing(corpus):
    """Every rule file passes validation with the fields publishing needs (sources, tags, ...)."""
    assert [p.format() for p in corpus.problems] == []


def test_corpus_has_at_least_150_rules(corpus):
    """The corpus holds at least 150 rules."""
    assert len(corpus.rules) >= 150


@pytest.mark.parametrize("rule_id", rule_ids())
def test_rule_is_verified(corpus, rule_id):
    """Each rule of the corpus is verified by the engine (both checks, both layouts)."""
    verdict = corpus.verdicts.get(rule_id)
    assert verdict is not None, f"{rule_id} was not checked (invalid?)"
    assert verdict.status == "verified", f"{rule_id}: {verdict.status}: {verdict.detail}"


def test_every_section_has_rules(corpus):
    """No section of rules/_sections.yaml is empty."""
    used = {r.data["section"] for r in corpus.rules}
    assert [s["slug"] for s in corpus.sections if s["slug"] not in used] == []


def test_every_paper_section_is_covered(corpus):
    """Every section of the paper that states rules is the source of at least one rule."""
    cited = {str(src["paper"]) for r in corpus.rules for src in r.data.get("sources", []) if "paper" in src}
    assert [s for s in PAPER_SECTIONS if s not in cited] == []


def test_paper_rules_carry_the_paper_tag(corpus):
    """A rule sourced from the paper is tagged `paper`, so a paper-only sheet can be printed."""
    untagged = [r.id for r in corpus.rules
                if any("paper" in s for s in r.data.get("sources", [])) and "paper" not in r.data.get("tags", [])]
    assert untagged == []


def test_cookbook_numbers_lie_in_the_derivative_chapter(corpus):
    """Matrix Cookbook (2012) citations name equations of its derivative chapter, eq. 33 to 144."""
    bad = [(r.id, s["cookbook"]) for r in corpus.rules for s in r.data.get("sources", [])
           if "cookbook" in s and not 33 <= s["cookbook"] <= 144]
    assert bad == []


def published_ids() -> list[str]:
    return [line.strip() for line in PUBLISHED_IDS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def test_published_ids_never_disappear():
    """Every id ever published (rules/_published-ids.txt) still names a rule file, or a redirect to one: ids are permanent."""
    published = published_ids()
    assert len(published) >= 150
    missing = sorted(set(published) - set(rule_ids()) - set(redirects()))
    assert missing == [], f"published ids removed or renamed without a redirect: {missing}"


def test_redirects_resolve_published_ids_to_rules():
    """A retired id was published, has no file any more, and resolves to a rule file (never to another redirect)."""
    live = set(rule_ids())
    for old, new in redirects().items():
        assert old in published_ids(), f"{old} was never published: delete the redirect"
        assert old not in live, f"{old} is still a rule file"
        assert new in live, f"{old} resolves to {new}, which is not a rule file"
    assert redirects().get("scalar-chain") == "chain-single-variable"


def test_published_ids_are_sorted_and_unique():
    """rules/_published-ids.txt stays sorted, one id a line, so additions merge cleanly."""
    published = published_ids()
    assert published == sorted(set(published))


def test_every_rule_is_listed_as_published():
    """A new rule is added to rules/_published-ids.txt, so its id is frozen from then on."""
    published = set(PUBLISHED_IDS.read_text(encoding="utf-8").split())
    assert sorted(set(rule_ids()) - published) == []


def errata() -> list[dict]:
    return yaml.safe_load(ERRATA.read_text(encoding="utf-8"))


def test_errata_point_at_verified_rules(corpus):
    """Each erratum of the paper names a verified rule and quotes the paper beside a correction."""
    entries = errata()
    assert len(entries) >= 11
    for entry in entries:
        assert corpus.verdicts[entry["rule"]].status == "verified"
        assert entry["paper"].strip() and entry["correction"].strip() and entry["problem"].strip()


def test_errata_numbers_are_permanent_anchors():
    """Errata are numbered 1, 2, 3, ... in order (the page's #erratum-N anchors); a new one is added at the end."""
    assert [entry["number"] for entry in errata()] == list(range(1, len(errata()) + 1))


def test_errata_name_sections_of_the_paper():
    """Each erratum says where in the paper it is, by section numbers that exist."""
    for entry in errata():
        sections = re.findall(r"\bsections?\s+([0-9.]+(?:(?:,\s*|\s+and\s+(?:the\s+\w+\s+section\s+)?)[0-9.]+)*)", entry["where"])
        numbers = [n for group in sections for n in re.findall(r"[0-9]+(?:\.[0-9]+)*", group)]
        assert numbers, f"erratum {entry['number']}: where must name a section ({entry['where']!r})"
        assert set(numbers) <= set(SECTIONS_OF_THE_PAPER), f"erratum {entry['number']}: {numbers}"


def test_errata_carry_no_maintainer_notes():
    """The public errata page prints every field: no working notes such as "re-check against arXiv v3"."""
    pattern = re.compile(r"re-?check|TODO|FIXME|to be confirmed|before release|not yet checked", re.I)
    leaks = [(entry["number"], key) for entry in errata() for key, value in entry.items()
             if isinstance(value, str) and pattern.search(value)]
    assert leaks == []


def test_the_hadamard_erratum_holds_for_mcref_itself(corpus):
    """Erratum 6 says mcref prints the Hadamard product as \\odot: no display of the corpus prints \\otimes."""
    displays = [r.id for r in corpus.rules if "\\otimes" in (r.data.get("display") or "")]
    assert displays == []


def test_titles_read_as_search_terms(corpus):
    """Titles are sentence case without a final full stop (the style guide, machine-checked)."""
    bad = [r.id for r in corpus.rules if r.data["title"].endswith(".") or r.data["title"][:1].islower()]
    assert bad == []


def test_symmetric_pitfall_is_covered(corpus):
    """The x^T A x pitfall is in the corpus: the general (A + A^T) x and the symmetric-only 2 A x."""
    forms = {(re.sub(r"\s", "", r.data["of"]), re.sub(r"\s", "", r.data["expect"]), bool(r.data.get("assume")))
             for r in corpus.rules}
    general = any(of == "x.T@A@x" and "A.T" in expect and not assumed for of, expect, assumed in forms)
    symmetric = any(of == "x.T@A@x" and "A.T" not in expect and assumed for of, expect, assumed in forms)
    assert general and symmetric
