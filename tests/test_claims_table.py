"""Student claims, as a table: each gets exactly its verdict, its layout sentence and its hints."""

from __future__ import annotations

import pytest

from generator.student.claim import from_command_line
from generator.student.claim_check import default_checker
from generator.student.hints import judge

from claims_support import flags_of, student_claims

ROWS = student_claims()


def test_the_table_covers_every_kind_of_slip() -> None:
    """At least 30 claims: true ones, and each kind of mistake the issue names."""
    assert len(ROWS) >= 30
    names = " ".join(r["name"] for r in ROWS)
    for word in ("symmetric", "transpose", "layout", "factor", "sign", "swapped", "caret", "tr for trace"):
        assert word in names, word
    verdicts = {r["verdict"] for r in ROWS}
    assert verdicts == {"verified", "refuted", "invalid"}


@pytest.fixture(scope="module")
def checker():
    return default_checker(jobs=None, timeout=120)


@pytest.mark.parametrize("row", ROWS, ids=[r["name"] for r in ROWS])
def test_student_claim_gets_its_verdict_and_hint(row, checker) -> None:
    """The verdict, the layout sentence and the exact hints the table lists."""
    flags = flags_of(row)
    sc, problems = from_command_line(flags.get("of"), flags.get("wrt"), flags.get("expect"), flags.get("symbols"),
                                     flags.get("assume"), flags.get("layout"), flags.get("functions"), flags.get("where"),
                                     order=flags.get("order"))
    if row["verdict"] == "invalid":
        assert sc is None
        assert [p.format() for p in problems] == row.get("problems", [row.get("problem")])
        return
    assert problems == [] and sc is not None
    j = judge(sc, checker, "cli")
    assert j.status == row["verdict"], j.lines()
    if "holds_in" in row:
        assert list(j.holds_in) == row["holds_in"]
    if "note" in row:
        assert j.layout_note == row["note"]
    if row["verdict"] == "refuted":
        assert [r.message for r in j.repairs] == row["hints"], j.lines()
        cx = j.counterexample
        assert cx is not None, "a refutation shows values where the claim fails"
        assert cx.truth[cx.row - 1][cx.col - 1] != cx.claimed[cx.row - 1][cx.col - 1]
        if not row["hints"]:
            assert any(line.startswith("none of the usual slips") for line in j.lines())
