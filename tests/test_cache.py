"""The verdict cache: an unchanged claim is not proved again; a changed claim always is."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import generator.engine.cache as cache
from generator.engine.cache import VerdictCache, claim_key, default_cache_dir
from generator.engine.verify import Verdict

from engine_support import GOOD, claim_from, run_inprocess, run_subprocess

LINE_CACHED = "verified   trace-axb  (cached)"


def check_line(tmp_path: Path, monkeypatch, capsys, *extra: str) -> str:
    run = run_inprocess(["check", *extra, "trace-axb.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 0, run.out + run.err
    assert run.lines[-2] == "1 verified, 0 refuted, 0 undecided, 0 invalid"
    return run.lines[0]


@pytest.fixture
def rule_copy(tmp_path: Path) -> Path:
    """A copy of the issue's example in a temporary folder."""
    path = tmp_path / "trace-axb.yaml"
    shutil.copy(GOOD / "trace-axb.yaml", path)
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_second_run_uses_the_cache(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """The first check proves the rule, the second prints '(cached)'."""
    first = check_line(tmp_path, monkeypatch, capsys)
    assert first.startswith("verified   trace-axb  (") and first != LINE_CACHED
    assert check_line(tmp_path, monkeypatch, capsys) == LINE_CACHED


def test_cache_survives_a_new_process(rule_copy: Path, tmp_path: Path) -> None:
    """A second `mcref check` in a fresh interpreter reads the verdict written by the first."""
    assert run_subprocess(["check", "trace-axb.yaml"], tmp_path).lines[0] != LINE_CACHED
    assert run_subprocess(["check", "trace-axb.yaml"], tmp_path).lines[0] == LINE_CACHED


def test_editing_expect_proves_again(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Changing `expect` (even to an equal expression) is a new claim: it is proved, not read from the cache."""
    check_line(tmp_path, monkeypatch, capsys)
    edit(rule_copy, "expect: A.T @ B.T", "expect: (B @ A).T")
    assert check_line(tmp_path, monkeypatch, capsys) != LINE_CACHED
    assert check_line(tmp_path, monkeypatch, capsys) == LINE_CACHED


def test_editing_expect_to_a_wrong_claim_is_refuted_not_cached(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """A verified verdict in the cache never covers an edited, wrong `expect`."""
    check_line(tmp_path, monkeypatch, capsys)
    edit(rule_copy, "expect: A.T @ B.T", "expect: 2 * A.T @ B.T")
    run = run_inprocess(["check", "trace-axb.yaml"], tmp_path, monkeypatch, capsys)
    assert run.code == 1 and run.lines[0].startswith("refuted    trace-axb  (") and "(cached)" not in run.lines[0]


@pytest.mark.parametrize("old,new", [
    ("expect: A.T @ B.T", "expect: A.T @ B.T\nnotes: Only the notes changed."),
    ("title: Trace of a product A X B, by the middle factor", "title: Trace of A X B by X"),
    ("expect: A.T @ B.T          # the claimed derivative, in `layout`", "expect: A.T @ B.T"),
    ("expect: A.T @ B.T", "expect: A.T @ B.T\ntags: [trace]\naliases: [trace rule]"),
], ids=["notes", "title", "comment", "tags"])
def test_editing_only_prose_does_not_prove_again(old: str, new: str, rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Editing notes, title, comments or tags leaves the claim unchanged, so the verdict comes from the cache."""
    check_line(tmp_path, monkeypatch, capsys)
    edit(rule_copy, old, new)
    assert check_line(tmp_path, monkeypatch, capsys) == LINE_CACHED


@pytest.mark.parametrize("old,new", [
    ("layout: denominator", "layout: numerator"),
    ("  B: [p, m]", "  B: [p, m]\nassume: {}\nsizes: [{m: 2, n: 3, p: 5}]"),
    ("  A: [m, n]", "  A: [m, n]\n  C: [m]"),
], ids=["layout", "sizes", "symbols"])
def test_editing_the_claim_proves_again(old: str, new: str, rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Changing the layout, the sizes or the symbols changes the claim, so it is proved again."""
    check_line(tmp_path, monkeypatch, capsys)
    if old == "layout: denominator":
        edit(rule_copy, "expect: A.T @ B.T", "expect: B @ A")
    edit(rule_copy, old, new)
    assert check_line(tmp_path, monkeypatch, capsys) != LINE_CACHED


def test_no_cache_option_proves_again(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """--no-cache ignores a cached verdict."""
    check_line(tmp_path, monkeypatch, capsys)
    assert check_line(tmp_path, monkeypatch, capsys, "--no-cache") != LINE_CACHED


def test_cache_lives_in_mcref_cache_dir(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Verdicts are written as JSON files under MCREF_CACHE_DIR."""
    folder = tmp_path / "my-cache"
    monkeypatch.setenv("MCREF_CACHE_DIR", str(folder))
    assert default_cache_dir() == folder
    check_line(tmp_path, monkeypatch, capsys)
    files = list(folder.glob("*.json"))
    assert len(files) == 1
    assert json.loads(files[0].read_text(encoding="utf-8"))["status"] == "verified"


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without MCREF_CACHE_DIR the cache is under XDG_CACHE_HOME/mcref/verdicts."""
    monkeypatch.delenv("MCREF_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "mcref" / "verdicts"


def test_damaged_entry_is_proved_again(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """A cache file that is not valid JSON is ignored: the rule is proved again and the entry repaired."""
    check_line(tmp_path, monkeypatch, capsys)
    (entry,) = list(Path(os.environ["MCREF_CACHE_DIR"]).glob("*.json"))
    entry.write_text("{not json", encoding="utf-8")
    assert check_line(tmp_path, monkeypatch, capsys) != LINE_CACHED
    assert check_line(tmp_path, monkeypatch, capsys) == LINE_CACHED


def test_undecided_verdicts_are_not_cached(tmp_path: Path) -> None:
    """An undecided verdict (perhaps a time-out) is not stored, so the next run tries again."""
    store = VerdictCache(tmp_path)
    claim = claim_from({"x": ["n"]}, "sum(x)", "x", "ones(n)")
    store.put(claim, Verdict("undecided", detail="ran past its time limit"))
    assert store.get(claim) is None
    store.put(claim, Verdict("refuted", detail="no"))
    assert store.get(claim).status == "refuted"


def test_disabled_cache_stores_nothing(tmp_path: Path) -> None:
    """VerdictCache(None) never stores or returns a verdict."""
    store = VerdictCache(None)
    claim = claim_from({"x": ["n"]}, "sum(x)", "x", "ones(n)")
    store.put(claim, Verdict("verified"))
    assert store.get(claim) is None


def test_key_depends_on_the_claim_and_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key changes with expect, assumptions, sizes and the engine version, not with the label."""
    base = claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A + A.T) @ x")
    key = claim_key(base)
    assert claim_key(claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A.T + A) @ x")) != key
    assert claim_key(claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A + A.T) @ x",
                                assume={"A": ("symmetric",)})) != key
    assert claim_key(claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A + A.T) @ x",
                                sizes=((("n", 5),),))) != key
    assert claim_key(claim_from({"x": ["n"], "A": ["n", "n"]}, "x.T @ A @ x", "x", "(A + A.T) @ x", label="other")) == key
    monkeypatch.setattr(cache, "ENGINE_VERSION", "999")
    assert claim_key(base) != key


def test_read_only_cache_folder_costs_time_not_correctness(rule_copy: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """If the cache folder cannot be written, checks still run and report verified."""
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("MCREF_CACHE_DIR", str(blocker / "verdicts"))
    assert check_line(tmp_path, monkeypatch, capsys) != LINE_CACHED
    assert check_line(tmp_path, monkeypatch, capsys) != LINE_CACHED
