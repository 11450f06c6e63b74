"""Expression trees printed back as rule-language text (hints quote repaired expressions): the text
parses back to the same tree, and gathering constants keeps the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.student.exprtext import gather_constants, to_text
from generator.engine.parse import Scope, inline, parse_expression, transposed
from generator.pipeline import load_and_parse
from generator.student.pointeval import same_value

ROOT = Path(__file__).resolve().parent.parent
SCOPE = Scope({"x": ("n", 1), "y": ("n", 1), "A": ("n", "n"), "B": ("m", "n"), "s": (1, 1), "P": ("n", "m"), "Q": ("n", "m")},
              {}, ("n", "m"))


@pytest.mark.parametrize("text,printed", [
    ("x.T @ A @ x", "x.T @ A @ x"),
    ("A @ (A @ x)", "A @ A @ x"),
    ("(A + A.T) @ x", "(A + A.T) @ x"),
    ("x - (y - x)", "x - (y - x)"),
    ("-x ** 2", "-x ** 2"),
    ("(-x) ** 2", "(-x) ** 2"),
    ("s ** (1/2)", "s ** (1 / 2)"),
    ("(P * Q) @ B", "(P * Q) @ B"),
    ("P * Q @ B", "(P * Q) @ B"),
    ("2 * (P * Q) @ B", "(2 * P * Q) @ B"),
    ("A @ x * s", "(A @ x) * s"),
    ("inv(A).T @ x", "inv(A).T @ x"),
    ("sum(x) / n", "sum(x) / n"),
    ("ones(n) / n", "ones(n) / n"),
])
def test_printed_text_reads_back_with_the_same_value(text: str, printed: str) -> None:
    """The fewest brackets Python allows (A @ (A @ x) is A @ A @ x), brackets between @ and a Hadamard *;
    read back, the same value."""
    tree = parse_expression(text, SCOPE)
    assert to_text(tree) == printed
    assert same_value(_claim(tree), tree, parse_expression(printed, SCOPE))


def _claim(tree):
    from generator.engine.claims import Claim

    return Claim("t", "derivative", "denominator", SCOPE, tree, "x", tree, {}, ((("m", 2), ("n", 3)), (("m", 3), ("n", 2))))


@pytest.mark.parametrize("text,gathered", [
    ("2 * ((A + A.T) / 2) @ x", "(A + A.T) @ x"),
    ("2 * (A @ x) / 4", "A @ x / 2"),
    ("-(2 * A @ x)", "-2 * A @ x"),
    ("2 * -x", "-2 * x"),
    ("-(-1 / x)", "1 / x"),
    ("(A @ x) * 2", "2 * A @ x"),
])
def test_gathered_constants_keep_the_value(text: str, gathered: str) -> None:
    """Numeric factors move to the front and multiply out; the value is unchanged."""
    tree = parse_expression(text, SCOPE)
    out = gather_constants(tree)
    assert to_text(out) == gathered
    assert same_value(_claim(tree), tree, parse_expression(gathered, SCOPE))


def test_every_expression_of_the_corpus_prints_back_to_itself() -> None:
    """Each rule's of and expect as written (with its where names), and the other layout, round-trip through the printer."""
    report = load_and_parse([ROOT / "rules"], publish=False)
    assert report.rules
    failures = []
    for rule in report.rules:
        claim = rule.claim
        written = claim.short_expect if claim.short_expect is not None else claim.expect
        trees = (written, transposed(written)) if claim.where or claim.parts else (claim.of, written, transposed(written))
        for tree in trees:
            text = to_text(tree)
            try:
                back = parse_expression(text, claim.scope)
            except Exception as err:  # noqa: BLE001 - collected and reported below
                failures.append((rule.id, text, str(err)))
                continue
            where = dict(claim.where)
            if back != tree and not same_value(claim, inline(back, where), inline(tree, where)):
                failures.append((rule.id, text, "a different value"))
    assert failures == []


def test_the_checks_run_line_names_the_200_digit_witness_where_it_ran() -> None:
    """A claim outside the all-sizes theory says where the 200-digit witness agreed; the sizes survive the cache."""
    from types import SimpleNamespace

    from generator.engine.claims import Verdict
    from generator.student.claim_check import decision_from_verdict

    claim = SimpleNamespace(sizes=[{"m": 2, "n": 3}, {"m": 4, "n": 2}])
    ran = Verdict("verified", ({"m": 2, "n": 3},), ("denominator", "numerator"), 3, precise_sizes=({"m": 5, "n": 2},))
    checks = decision_from_verdict(Verdict.from_json(ran.to_json()), claim).checks
    assert checks[-1] == "200-digit arithmetic: the claim against the derivative along random directions at m = 5, n = 2"
    not_ran = Verdict("verified", ({"m": 2, "n": 3},), ("denominator", "numerator"), 3)
    assert "precise_sizes" not in not_ran.to_json()
    assert not any("200-digit" in c for c in decision_from_verdict(not_ran, claim).checks)
