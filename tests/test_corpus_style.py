"""What readers see, corpus-wide and section by section: titles, notation, sources, teaching order.

Every test is parametrised by section, so `pytest tests/test_corpus_style.py -k traces` shows
one section's state and a failure names the rule file, line and the fix. The checks of
titles and notation live in generator/engine/style.py (pure, code MC041).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from generator.engine.parse import walk
from generator.pipeline import DEFAULT_RULES, load_and_parse
from generator.engine.style import conditions_problems, notation_problems, title_problems
from generator.engine.validate import PAPER_SECTIONS

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = [s["slug"] for s in yaml.safe_load((DEFAULT_RULES / "_sections.yaml").read_text(encoding="utf-8"))]
CONCORDANCE = DEFAULT_RULES / "_concordance-cookbook-2012.yaml"


@pytest.fixture(scope="module")
def corpus():
    """The corpus parsed for publishing (no verification: these tests are about presentation)."""
    return load_and_parse([DEFAULT_RULES], publish=True)


def rules_of(corpus, section: str) -> list:
    return [r for r in corpus.rules if r.data["section"] == section]


@pytest.mark.parametrize("section", SECTIONS)
def test_titles_have_no_code_style_operators(corpus, section: str) -> None:
    """Titles typeset math between $...$ or use words: no *, @, .T, ^, _ or ' . ' outside math."""
    problems = [p.format() for r in rules_of(corpus, section) for p in title_problems(r.doc)]
    assert problems == []


@pytest.mark.parametrize("section", SECTIONS)
def test_hand_written_math_uses_the_house_notation(corpus, section: str) -> None:
    """Notes, displays and examples write ^\\top, bold vectors, a sized ones vector and \\odot for Hadamard."""
    problems = [p.format() for r in rules_of(corpus, section) for p in notation_problems(r.doc)]
    assert problems == []


def _printed(rule) -> list[tuple[str, str]]:
    """Every formula the engine prints for a rule (both layouts, where lines, the example)."""
    out = []
    for latex, label in ((rule.latex, "rule"), (rule.example_latex or {}, "example")):
        for key, value in latex.items():
            if isinstance(value, str):
                out.append((f"{label} {key}", value))
            elif isinstance(value, list):
                out += [(f"{label} {key}", line["value"]) for line in value if isinstance(line, dict)]
    return out


@pytest.mark.parametrize("section", SECTIONS)
def test_printed_formulas_never_show_an_ambiguous_ones_symbol(corpus, section: str) -> None:
    """A printed ones vector or matrix always carries its size (1_n, 1_{m x n}), in every layout."""
    bad = [(r.id, where, tex) for r in rules_of(corpus, section) for where, tex in _printed(r)
           if re.search(r"\\mathbf\{1\}(?!_)", tex) or "\\vec" in tex]
    assert bad == []


def _reference_is_specific(text: str) -> bool:
    """A book or paper named so a reader can find it: a year or an arXiv number, and no 'any textbook'."""
    return bool(re.search(r"\b(19|20)\d\d\b|arXiv:\d{4}\.\d{4,5}", text)) and not re.search(r"\bany\b", text, re.I)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_source_resolves(corpus, section: str) -> None:
    """Paper sections exist in the paper, Cookbook numbers are in the concordance, references name a findable work."""
    concordance = yaml.safe_load(CONCORDANCE.read_text(encoding="utf-8")) if CONCORDANCE.is_file() else None
    listed: dict[str, set[str]] = defaultdict(set)
    entries = concordance if isinstance(concordance, list) else (concordance or {}).get("entries") or []
    for entry in entries:
        if isinstance(entry, dict):
            for rule_id in entry.get("rules") or []:
                listed[str(entry.get("ref"))].add(rule_id)
    bad = []
    for rule in rules_of(corpus, section):
        for source in rule.data.get("sources", []):
            ((kind, ref),) = source.items()
            if kind == "paper" and ref not in PAPER_SECTIONS:
                bad.append(f"{rule.id}: paper section {ref} does not exist")
            elif kind == "cookbook" and concordance is None:
                bad.append(f"{rule.id}: cites Cookbook eq. {ref} but {CONCORDANCE.name} is missing")
            elif kind == "cookbook" and rule.id not in listed[str(ref)]:
                bad.append(f"{rule.id}: cites Cookbook eq. {ref}, which the concordance does not map to it")
            elif kind == "reference" and not _reference_is_specific(str(ref)):
                bad.append(f"{rule.id}: reference {ref!r} names no findable work (give authors, title, year and section)")
            elif kind not in ("paper", "cookbook", "reference", "derived"):
                bad.append(f"{rule.id}: unknown source kind {kind}")
    assert bad == []


@pytest.mark.parametrize("section", SECTIONS)
def test_paper_citations_carry_the_paper_tag_and_only_then(corpus, section: str) -> None:
    """The `paper` tag marks exactly the rules that cite the paper (a paper-only sheet prints those)."""
    bad = [r.id for r in rules_of(corpus, section)
           if any("paper" in s for s in r.data.get("sources", [])) != ("paper" in r.data.get("tags", []))]
    assert bad == []


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_has_a_teaching_order(corpus, section: str) -> None:
    """The section lists each of its rules once, in an order chosen for readers, not the alphabet."""
    order = next(s.get("rules") for s in corpus.sections if s["slug"] == section) or []
    ids = {r.id for r in rules_of(corpus, section)}
    assert sorted(order) == sorted(ids), "the rules: list must name each rule of the section exactly once"
    if len(order) >= 4:
        assert order != sorted(order), f"{section}: the teaching order is still alphabetical (a placeholder)"


def _canonical(claim) -> tuple:
    """A claim with its symbols, functions and dimensions renamed in order of appearance."""
    names: dict[str, str] = {}
    dims: dict[object, object] = {}

    def dim(d: object) -> object:
        return d if isinstance(d, int) else dims.setdefault(d, f"d{len(dims)}")

    def node(e) -> tuple:
        name = names.setdefault(e.name, f"n{len(names)}") if e.op in ("sym", "apply", "D") else e.name
        return (e.op, name, e.value, (dim(e.shape[0]), dim(e.shape[1])), tuple(node(a) for a in e.args))

    of, expect = node(claim.of), node(claim.expect)
    assume = tuple(sorted((names.get(k, k), v) for k, v in claim.assume.items()))
    return (claim.kind, claim.layout, of, names.get(claim.wrt, claim.wrt), expect, assume)


# The same algebra stated twice on purpose, each with its own meaning a reader searches for.
# Adding a pair here needs a reason a reviewer accepts; a plain duplicate gets a redirect.
SAME_ALGEBRA_ON_PURPOSE = {
}


def test_no_two_rules_state_the_same_claim(corpus) -> None:
    """Two ids for one rule (as scalar-chain and chain-single-variable were) resolve to one: see rules/_redirects.yaml."""
    by_claim: dict[tuple, list[str]] = defaultdict(list)
    for rule in corpus.rules:
        by_claim[_canonical(rule.claim)].append(rule.id)
    twins = [sorted(ids) for ids in by_claim.values() if len(ids) > 1 and frozenset(ids) not in SAME_ALGEBRA_ON_PURPOSE]
    assert twins == []


def test_the_duplicate_check_can_fail(corpus) -> None:
    """The same rule with its symbols renamed counts as a duplicate."""
    rule = next(r for r in corpus.rules if r.id == "trace-axb")
    assert _canonical(rule.claim) == _canonical(rule.claim)
    renamed = {n: f"{n}{n}" for n in rule.claim.scope.symbols}
    from generator.engine.parse import Expr

    def rename(e: Expr) -> Expr:
        return Expr(e.op, tuple(rename(a) for a in e.args), e.shape, renamed.get(e.name, e.name) if e.op == "sym" else e.name, e.value)

    import dataclasses

    twin = dataclasses.replace(rule.claim, of=rename(rule.claim.of), expect=rename(rule.claim.expect), wrt=renamed[rule.claim.wrt])
    assert _canonical(twin) == _canonical(rule.claim)
    assert [e.name for e in walk(twin.of) if e.op == "sym"] != [e.name for e in walk(rule.claim.of) if e.op == "sym"]


def _derivative_asked(claim) -> tuple:
    """What a rule differentiates, by what and where, with names renamed: its answer and layout left out.

    Two rules with the same key state one derivative (both are verified, so their answers agree),
    whatever layout or form their `expect` takes: a reader sees the same row twice.
    """
    names: dict[str, str] = {}
    dims: dict[object, object] = {}

    def dim(d: object) -> object:
        return d if isinstance(d, int) else dims.setdefault(d, f"d{len(dims)}")

    def shape(s) -> tuple:
        return tuple(dim(d) for d in s)

    def node(e) -> tuple:
        name = names.setdefault(e.name, f"n{len(names)}") if e.op in ("sym", "apply", "D") else e.name
        return (e.op, name, e.value, shape(e.shape), tuple(node(a) for a in e.args))

    of = node(claim.of)
    wrt_parts = [name for name, _ in claim.parts] or [claim.wrt]
    wrt = tuple((names.setdefault(w, f"n{len(names)}"), shape(claim.scope.symbols.get(w, (1, 1)))) for w in wrt_parts)
    functions = tuple(sorted(
        (names[f], tuple(shape(a) for a in sig.args), shape(sig.to))
        for f, sig in claim.scope.functions.items() if f in names))
    assume = tuple(sorted((names.get(k, k), tuple(v)) for k, v in claim.assume.items()))
    return (claim.kind, claim.order, of, wrt, functions, assume)


# One derivative asked twice on purpose: the same function by the same variable, stated by two
# rules a reader meets in different places or for a different lesson. Each pair needs a reason.
SAME_DERIVATIVE_ON_PURPOSE = {
    frozenset({"chain-single-variable", "chain-single-variable-forward"}):
        "the paper's aside on forward and backward differentiation writes the scalar product in the other order",
    frozenset({"chain-vector-three-backward", "chain-vector-three-forward"}):
        "the two groupings of one product of Jacobians, reverse and forward accumulation: the grouping is the lesson",
    frozenset({"linear-form-atx", "reduce-dot-x"}):
        "the Cookbook's eq. 69 in the forms section and the paper's dot product, derived through sum(w * x), in the reductions section",
    frozenset({"linear-form-xta", "reduce-dot-w"}):
        "the Cookbook's eq. 69 (x^T a) in the forms section and the paper's dot product by the weights in the reductions section",
    frozenset({"gradient-dot-constant", "vjp-definition"}):
        "Wikipedia's row d(a . u)/dx among the product rules, and the same product read as a vector-Jacobian product in the autodiff section",
}


def test_no_two_rules_ask_for_the_same_derivative(corpus) -> None:
    """Two rules that differentiate the same function by the same variable, in any layout or form, are one rule unless listed with a reason."""
    by_derivative: dict[tuple, list[str]] = defaultdict(list)
    for rule in corpus.rules:
        by_derivative[_derivative_asked(rule.claim)].append(rule.id)
    twins = [sorted(ids) for ids in by_derivative.values()
             if len(ids) > 1 and frozenset(ids) not in SAME_DERIVATIVE_ON_PURPOSE]
    assert twins == []
    known = {rule.id for rule in corpus.rules}
    assert [sorted(pair) for pair in SAME_DERIVATIVE_ON_PURPOSE if not pair <= known] == []


def test_the_same_derivative_in_the_other_layout_counts_as_a_duplicate(corpus) -> None:
    """A rule restated in the other layout (its expect transposed) asks for the same derivative; another wrt does not."""
    import dataclasses

    rule = next(r for r in corpus.rules if r.id == "jacobian-linear-map")
    twin = dataclasses.replace(rule.claim, layout=rule.claim.other_layout, expect=rule.claim.other())
    assert _derivative_asked(twin) == _derivative_asked(rule.claim)
    assert _canonical(twin) != _canonical(rule.claim)  # the older check alone would miss it
    by_w = next(r for r in corpus.rules if r.id == "reduce-dot-w")
    by_x = next(r for r in corpus.rules if r.id == "reduce-dot-x")
    assert _derivative_asked(by_w.claim) != _derivative_asked(by_x.claim)


@pytest.mark.parametrize("section", SECTIONS)
def test_conditions_are_plain_text(corpus, section: str) -> None:
    """Conditions print as text on the site and in the PDF: no code-style ^, _, *, @ or .T (write x³, Xᵀ or words)."""
    bad = [(r.id, str(r.data.get("conditions"))) for r in rules_of(corpus, section)
           if re.search(r"[\^_*@]|\.T\b", str(r.data.get("conditions", "")))]
    assert bad == []


@pytest.mark.parametrize("section", SECTIONS)
def test_conditions_name_greek_symbols_as_they_print(corpus, section: str) -> None:
    """Σ symmetric positive definite, λ > 0: the letter the formula shows, never its spelled name."""
    problems = [p.format() for r in rules_of(corpus, section) for p in conditions_problems(r.doc)]
    assert problems == []


def test_spelled_greek_in_conditions_is_a_problem(tmp_path: Path) -> None:
    """The check can fail: a declared Sigma named 'Sigma' in the conditions, and lam named 'lam'."""
    from generator.engine.load import read_yaml
    rule = tmp_path / "gauss.yaml"
    rule.write_text("conditions: Sigma symmetric positive definite; lam > 0; sigmoid differentiable\n"
                    "symbols: {Sigma: [n, n], lam: [], x: [n]}\n", encoding="utf-8")
    doc, problems = read_yaml(rule)
    assert doc is not None and problems == []
    got = [p.message for p in conditions_problems(doc)]
    assert any("name Sigma as it prints, Σ" in m for m in got) and any("name lam as it prints, λ" in m for m in got)
    assert len(got) == 2, got  # "sigmoid" is not the symbol sigma
