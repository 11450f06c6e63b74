"""Mutation tests: for every real rule, small wrong edits of `expect` must be refuted by the verifier.

A verifier that said yes to everything would pass every rule of the corpus; it cannot pass
these tests. Mutants are built on the parsed tree (generator.engine.parse.Expr), printed back to the
rule language and parsed again, so a mutant that is not well-typed is never checked. A mutant
that is mathematically equal to the original (the negation of a zero result, the transpose of a
symmetric one, ...) is recognised by evaluating both at random points, not by a hand list.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from typing import Iterator

import numpy as np
import pytest

import generator.engine.runner
from generator.engine.parse import Expr, ExprError, Scope, inline, parse_expression, substitute
from generator.pipeline import load_and_parse
from generator.engine.rule import Rule
from generator.engine.verify import Claim, NumericEvaluator, Verdict, check_claim, sample_values

from engine_support import GOOD, RULES

RULE_FILES = sorted(p for p in RULES.glob("*.yaml") if not p.name.startswith("_"))
# Seconds one mutant may take; a refutation usually takes well under a second.
MUTANT_TIMEOUT = float(os.environ.get("MCREF_MUTANT_TIMEOUT", "10"))
# Mutant kinds checked per rule, at most (default: all that apply). With MCREF_MUTANT_KINDS=k only the
# first k kinds that apply are checked, in an order rotated by a hash of the rule id, so the corpus
# as a whole still exercises every kind and every rule keeps at least one mutant.
KINDS = ("neg", "times-2", "drop-2", "drop-T", "add-T", "swap-matmul", "plus-1")
MAX_KINDS = int(os.environ.get("MCREF_MUTANT_KINDS", str(len(KINDS))))

# ---------------------------------------------------------------- printing a tree back to text

def to_text(e: Expr, scope: Scope) -> str:
    """The rule-language text of a parsed expression (fully parenthesised)."""
    op = e.op
    if op in ("sym", "dim", "ref"):  # ref: a `where:` name, kept as written
        return e.name
    if op == "const":
        return str(e.value)
    if op == "neg":
        return f"(-{to_text(e.args[0], scope)})"
    binary = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "matmul": "@"}
    if op in binary:
        return f"({to_text(e.args[0], scope)} {binary[op]} {to_text(e.args[1], scope)})"
    if op == "T":
        return f"({to_text(e.args[0], scope)}).T"
    if op == "call":
        if e.name == "eye":
            return f"eye({e.shape[0]})"
        if e.name in ("ones", "zeros"):
            return f"{e.name}({e.shape[0]}, {e.shape[1]})"
        return f"{e.name}({', '.join(to_text(a, scope) for a in e.args)})"
    if op == "apply":
        return f"{e.name}({', '.join(to_text(a, scope) for a in e.args)})"
    if op == "D":
        d_name = "D" if len(scope.functions[e.name].args) == 1 else f"D{e.value}"
        return f"{d_name}({e.name}, {', '.join(to_text(a, scope) for a in e.args)})"
    if op == "DD":  # second derivative: by argument j, then k (value 10 j + k)
        one = len(scope.functions[e.name].args) == 1
        inner, outer = ("D", "D") if one else (f"D{e.value // 10}", f"D{e.value % 10}")
        return f"{outer}({inner}({e.name}), {', '.join(to_text(a, scope) for a in e.args)})"
    if op == "d":
        return f"d({e.name})"
    raise AssertionError(f"unknown op {op}")

def reparse(e: Expr, scope: Scope) -> Expr | None:
    """The expression printed and parsed again: None if it is not well-typed."""
    try:
        return parse_expression(to_text(e, scope), scope)
    except ExprError:
        return None

# ---------------------------------------------------------------- mutants

def positions(e: Expr, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Expr]]:
    yield path, e
    for i, a in enumerate(e.args):
        yield from positions(a, path + (i,))

def replace_at(e: Expr, path: tuple[int, ...], new: Expr) -> Expr:
    if not path:
        return new
    args = list(e.args)
    args[path[0]] = replace_at(args[path[0]], path[1:], new)
    return dataclasses.replace(e, args=tuple(args))

TWO = Expr("const", value=2)

def candidates(kind: str, expect: Expr) -> Iterator[Expr]:
    """Raw mutants of one kind, in tree order; shapes are not yet checked."""
    if kind == "neg":
        yield Expr("neg", (expect,), expect.shape)
    elif kind == "times-2":
        yield Expr("mul", (TWO, expect), expect.shape)
    elif kind == "plus-1":  # the one edit that also changes a zero result
        yield Expr("add", (expect, Expr("const", value=1)), expect.shape)
    elif kind == "drop-2":
        for path, node in positions(expect):
            if node.op in ("mul", "div") and node.args[1] == TWO:
                yield replace_at(expect, path, node.args[0])
            if node.op == "mul" and node.args[0] == TWO:
                yield replace_at(expect, path, node.args[1])
    elif kind == "drop-T":
        for path, node in positions(expect):
            if node.op == "T":
                yield replace_at(expect, path, node.args[0])
    elif kind == "add-T":
        for path, node in positions(expect):
            if not node.is_scalar and node.shape[0] == node.shape[1] and node.op != "T":
                yield replace_at(expect, path, Expr("T", (node,), node.shape))
    elif kind == "swap-matmul":
        for path, node in positions(expect):
            if node.op == "matmul":
                left, right = node.args
                yield replace_at(expect, path, Expr("matmul", (right, left), node.shape))

def numeric_value(claim: Claim, expr: Expr, seed: int) -> np.ndarray:
    """expr in float64 at a random point that satisfies the claim's assumptions."""
    sizes = dict(claim.sizes[0])
    rng = np.random.default_rng(seed)
    values = sample_values(claim, sizes, rng)
    if claim.kind == "differential":
        values[f"d({claim.wrt})"] = rng.normal(size=values[claim.wrt].shape)
    with np.errstate(all="ignore"):
        return np.asarray(NumericEvaluator(claim.scope, sizes, values, seed).ev(expr), dtype=float)

def equal_at_random_points(claim: Claim, a: Expr, b: Expr) -> bool | None:
    """True if a and b agree at three random points, False if not, None if either leaves the domain."""
    for seed in (11, 12, 13):
        va, vb = numeric_value(claim, a, seed), numeric_value(claim, b, seed)
        if not (np.all(np.isfinite(va)) and np.all(np.isfinite(vb))):
            return None
        if va.shape != vb.shape or not np.allclose(va, vb, rtol=1e-9, atol=1e-9):
            return False
    return True

def kinds_for(rule_id: str) -> tuple[str, ...]:
    """The mutant kinds tried for one rule: all of them, rotated by a hash of the id so every kind gets used."""
    start = int(hashlib.sha256(rule_id.encode()).hexdigest(), 16) % len(KINDS)
    return KINDS[start:] + KINDS[:start]

def written_expect(claim: Claim) -> Expr:
    """expect as the author wrote it: the short form when the rule has where names or a wrt list (names kept)."""
    return claim.short_expect if claim.short_expect is not None else claim.expect

def checked_form(claim: Claim, written: Expr) -> Expr:
    """A written form as the engine checks it: where names inlined, a wrt list's names as parts of the stacked vector."""
    inlined = inline(written, dict(claim.where))
    return substitute(inlined, dict(claim.parts)) if claim.parts else inlined

def mutants(claim: Claim, max_kinds: int = MAX_KINDS) -> dict[str, Expr]:
    """Up to max_kinds well-typed mutants of expect as written that differ from it numerically, by kind.

    With `where:` names or a wrt list the short form is mutated (the slips an author makes) and compared as checked.
    """
    found: dict[str, Expr] = {}
    written = written_expect(claim)
    for kind in kinds_for(claim.label):
        if len(found) >= max_kinds:
            break
        for raw in candidates(kind, written):
            mutant = reparse(raw, claim.scope)
            if mutant is None or mutant.shape != written.shape:
                continue  # not well-typed
            if equal_at_random_points(claim, claim.expect, checked_form(claim, mutant)) is not False:
                continue  # mathematically the same (or not comparable): not a mutant
            found[kind] = mutant
            break
    return found

def as_claim(base: Claim, mutant: Expr, label: str) -> Claim:
    """The claim stating the mutant in both layouts: checked as the engine checks the rule (where names inlined,
    a wrt list through its stacked vector); its other layout is the transposed written form."""
    short = base.short_expect is not None
    return dataclasses.replace(base, expect=checked_form(base, mutant), short_expect=mutant if short else None, label=label)

def mutant_claims(rule: Rule, max_kinds: int = MAX_KINDS) -> dict[str, Claim]:
    """Each mutant as a claim at the rule's first size assignment."""
    base = dataclasses.replace(rule.claim, sizes=rule.claim.sizes[:1])
    return {kind: as_claim(base, m, f"{rule.id} mutant {kind}") for kind, m in mutants(base, max_kinds).items()}

def surviving_mutants(claims: dict[str, Claim]) -> dict[str, Verdict]:
    """The mutants the verifier did not refute, with their verdicts (empty: every mutant was caught)."""
    verdicts = generator.engine.runner.verify_claims(list(claims.values()), jobs=2, timeout=MUTANT_TIMEOUT)
    return {kind: verdicts[c.label] for kind, c in claims.items() if verdicts[c.label].status != "refuted"}

def report(survivors: dict[str, Verdict], claims: dict[str, Claim]) -> str:
    lines = []
    for kind, verdict in survivors.items():
        claim = claims[kind]
        lines.append(f"mutant {kind}: expect {to_text(written_expect(claim), claim.scope)} came back {verdict.status} ({verdict.detail})")
    return "\n".join(lines)

# ---------------------------------------------------------------- the corpus

@functools.lru_cache(maxsize=1)
def corpus() -> dict[str, Rule]:
    report_ = load_and_parse([RULES], publish=False)
    return {r.id: r for r in report_.rules}

def corpus_rule(path) -> Rule:
    rule = corpus().get(path.stem)
    if rule is None:
        pytest.skip(f"{path.name} does not parse (mcref check reports why)")
    return rule

@pytest.fixture(scope="module")
def corpus_verdicts(request: pytest.FixtureRequest) -> dict[str, Verdict]:
    """Verdicts of the mutants of every rule selected in this session, verified in one parallel batch."""
    selected = [item.callspec.params["path"] for item in request.session.items
                if item.originalname == "test_mutants_of_rule_are_refuted" and hasattr(item, "callspec")]
    claims = [c for path in selected if path.stem in corpus() for c in mutant_claims(corpus()[path.stem]).values()]
    return generator.engine.runner.verify_claims(claims, timeout=MUTANT_TIMEOUT)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_mutants_of_rule_are_refuted(path, corpus_verdicts: dict[str, Verdict]) -> None:
    """Every well-typed, genuinely different mutant of the rule's `expect` is refuted by the verifier."""
    rule = corpus_rule(path)
    claims = mutant_claims(rule)
    if not claims:
        pytest.skip("no well-typed mutant differs from expect")
    survivors = {k: corpus_verdicts[c.label] for k, c in claims.items() if corpus_verdicts[c.label].status != "refuted"}
    timed_out = {k: v for k, v in survivors.items() if v.status == "undecided" and "time limit" in v.detail}
    wrong = {k: v for k, v in survivors.items() if k not in timed_out}
    assert not wrong, report(wrong, claims)
    if timed_out and len(timed_out) == len(claims):
        pytest.skip(f"every mutant ran past {MUTANT_TIMEOUT:g} s: {', '.join(timed_out)}")


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_expect_prints_back_to_the_same_tree(path) -> None:
    """Printing a rule's parsed `expect` (as written, names kept) back to text and parsing it again gives the same tree."""
    rule = corpus_rule(path)
    written = written_expect(rule.claim)
    assert reparse(written, rule.claim.scope) == written

# ---------------------------------------------------------------- the mutation machinery itself

def good_rule(name: str) -> Rule:
    from generator.pipeline import load_and_parse as lp

    rules = lp([GOOD / f"{name}.yaml"], publish=False).rules
    assert rules, name
    return rules[0]

def test_every_mutant_kind_is_generated_somewhere() -> None:
    """Across the good fixtures each mutant kind produces at least one well-typed, different mutant."""
    seen: set[str] = set()
    for path in sorted(GOOD.glob("*.yaml")):
        rule = good_rule(path.stem)
        base = dataclasses.replace(rule.claim, sizes=rule.claim.sizes[:1])
        seen |= set(mutants(base, max_kinds=len(KINDS)))
    assert seen == set(KINDS)

def test_mutants_of_trace_axb_are_the_expected_edits() -> None:
    """For trace(A X B) by X the mutants are -A^T B^T, 2 A^T B^T, A^T B^T + 1; the swapped product is not well-typed."""
    rule = good_rule("trace-axb")
    base = dataclasses.replace(rule.claim, sizes=rule.claim.sizes[:1])
    texts = {k: to_text(m, base.scope) for k, m in mutants(base, max_kinds=len(KINDS)).items()}
    assert texts == {"neg": "(-((A).T @ (B).T))", "times-2": "(2 * ((A).T @ (B).T))", "plus-1": "(((A).T @ (B).T) + 1)"}

def test_equal_mutants_are_recognised_numerically() -> None:
    """The transpose of a symmetric result and the negation of a zero result are not counted as mutants."""
    rule = good_rule("assume-spd")  # expect inv(S), S symmetric: inv(S).T is the same matrix
    base = dataclasses.replace(rule.claim, sizes=rule.claim.sizes[:1])
    found = mutants(base, max_kinds=len(KINDS))
    assert "add-T" not in found and "neg" in found
    from engine_support import claim_from

    zero = claim_from({"x": ["n"], "a": ["n"]}, "sum(a) + 0 * sum(x)", "x", "zeros(n)")
    zero_mutants = mutants(zero, max_kinds=len(KINDS))
    assert set(zero_mutants) == {"plus-1"}

def test_swap_and_transpose_mutants_on_square_matrices() -> None:
    """On square factors a swapped product and a dropped transpose are well-typed mutants, and both are refuted."""
    from engine_support import claim_from

    claim = claim_from({"A": ["n", "n"], "X": ["n", "n"], "B": ["n", "n"]}, "trace(A @ X @ B)", "X", "A.T @ B.T",
                       sizes=((("n", 3),),), label="square-trace")
    found = mutants(claim, max_kinds=len(KINDS))
    assert {"swap-matmul", "drop-T", "add-T"} <= set(found)
    claims = {k: dataclasses.replace(claim, expect=m, label=f"square-trace {k}") for k, m in found.items()}
    assert surviving_mutants(claims) == {}

def _always_verified(claim: Claim) -> Verdict:
    return Verdict("verified", detail="yes to everything")

def test_a_yes_to_everything_verifier_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """With check_claim replaced by one that always says verified, the mutation test reports surviving mutants."""
    import generator.engine.verify

    monkeypatch.setattr(generator.engine.verify, "check_claim", _always_verified)  # the runner's workers call this
    rule = good_rule("scalar-by-vector-quad-symmetric")
    claims = mutant_claims(rule)
    assert claims
    survivors = surviving_mutants(claims)
    assert set(survivors) == set(claims)
    with pytest.raises(AssertionError):
        assert not survivors, report(survivors, claims)

def test_a_verifier_whose_checks_pass_everything_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the all-sizes, symbolic and numeric checks made to accept anything, check_claim verifies a mutant: the test would fail."""
    import generator.engine.allsizes as allsizes
    import generator.engine.verify as verify

    monkeypatch.setattr(verify, "_all_sizes", lambda claim: allsizes.Decision("outside", "a check that says nothing"))
    monkeypatch.setattr(verify, "symbolic_check", lambda claim, sizes: None)
    monkeypatch.setattr(verify, "numeric_check", lambda claim, sizes: 0.0)
    rule = good_rule("trace-axb")
    claims = mutant_claims(rule)
    assert claims
    assert all(check_claim(c).status == "verified" for c in claims.values())
    assert set(surviving_mutants(claims)) == set(claims)

def test_the_real_verifier_refutes_the_mutants_of_a_good_fixture() -> None:
    """The same mutants that a yes-verifier lets through are all refuted by the real check_claim."""
    rule = good_rule("scalar-by-vector-quad-symmetric")
    claims = mutant_claims(rule)
    assert claims
    for claim in claims.values():
        assert check_claim(claim).status == "refuted", to_text(written_expect(claim), claim.scope)


def test_mutants_of_a_where_rule_edit_the_short_form() -> None:
    """With `where:` names the mutants edit expect as written (names kept) and are checked fully inlined."""
    from generator.engine.parse import walk
    rule = corpus()["softmax-backward"]
    claims = mutant_claims(rule)
    assert claims
    for claim in claims.values():
        assert claim.short_expect is not None and any(e.op == "ref" for e in walk(claim.short_expect))
        assert not any(e.op == "ref" for e in walk(claim.expect))
        assert claim.expect == inline(claim.short_expect, dict(claim.where))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_mutants_of_rule_are_never_proved_for_all_sizes(path) -> None:
    """The all-sizes check alone never proves a mutant of the rule (it refutes it, or leaves it to the witnesses)."""
    from generator.engine.allsizes import decide

    rule = corpus_rule(path)
    claims = mutant_claims(rule, len(KINDS))
    if not claims:
        pytest.skip("no well-typed mutant differs from expect")
    proved = {kind: to_text(written_expect(c), c.scope) for kind, c in claims.items() if decide(c).status == "proved"}
    assert not proved, f"mutants proved for every size: {proved}"


def test_the_all_sizes_check_is_second_seed_and_prime_stable() -> None:
    """Every corpus rule gets the same all-sizes decision with seed 1 modulo 2^62 - 57 as with seed 0 modulo 2^61 - 1."""
    from generator.engine.allsizes import P62, decide

    changed = {rid: (decide(r.claim).status, decide(r.claim, seed=1, prime=P62).status) for rid, r in corpus().items()}
    changed = {rid: pair for rid, pair in changed.items() if pair[0] != pair[1]}
    assert not changed, changed
