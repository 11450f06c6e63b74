"""`mcref build` end to end on a small real corpus: complete, atomic, reproducible, incremental.

Every build runs the CLI as a subprocess with its own verdict/PDF cache (MCREF_CACHE_DIR) and
a fixed SOURCE_DATE_EPOCH, on eight rules copied from rules/ (see build_support.SMALL_CORPUS).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from build_support import copy_rules, mcref, pdf_tools_missing, site_tools_missing, tree

_missing = site_tools_missing() or pdf_tools_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with rules/ (the small corpus) and cache/ shared by the tests of this module."""
    ws = tmp_path_factory.mktemp("build")
    copy_rules(ws / "rules")
    return ws


@pytest.fixture(scope="module")
def first_build(workspace: Path) -> Path:
    """One cold build into workspace/out (verdicts and PDFs land in workspace/cache)."""
    proc = mcref("build", "--rules", "rules", "--out", "out", cwd=workspace, cache=workspace / "cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "8 verified rules" in proc.stdout
    return workspace / "out"


def _leftovers(parent: Path) -> list[str]:
    """Staging or old-build folders a build left beside its output."""
    return sorted(p.name for p in parent.iterdir() if ".staging-" in p.name or ".old-" in p.name)


def test_a_build_writes_rules_json_both_pdfs_and_the_site(first_build: Path) -> None:
    out = first_build
    for rel in ("rules.json", "pdf/cheatsheet-a4.pdf", "pdf/cheatsheet-letter.pdf", "pdf/cheatsheet-a4.tex",
                "pdf/cheatsheet-letter.tex", "site/index.html", "site/rules.json"):
        assert (out / rel).is_file(), f"{rel} is missing from the build"
        assert (out / rel).stat().st_size > 0, f"{rel} is empty"
    for paper in ("a4", "letter"):
        pdf = out / "pdf" / f"cheatsheet-{paper}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF-")
        assert (out / "site" / "pdf" / pdf.name).read_bytes() == pdf.read_bytes(), "the site serves another PDF"
    assert sorted(p.name for p in (out / "site" / "pdf").glob("*.pdf")) == ["cheatsheet-a4.pdf", "cheatsheet-letter.pdf"]
    import json

    export = json.loads((out / "rules.json").read_text(encoding="utf-8"))
    assert sorted(r["id"] for r in export["rules"]) == sorted(p.stem for p in (out.parent / "rules").glob("[!_]*.yaml"))
    assert all(r["verification"]["status"] == "verified" for r in export["rules"])
    assert json.loads((out / "site" / "rules.json").read_text(encoding="utf-8"))["rules"], "the site's rules.json is empty"
    assert _leftovers(out.parent) == []


def _refuted(rules: Path) -> str:
    # The published rule itself goes wrong (a flipped sign): a new id would also need a place in the teaching order.
    path = rules / "trace-axb.yaml"
    text = path.read_text(encoding="utf-8")
    assert "expect: A.T @ B.T\n" in text
    path.write_text(text.replace("expect: A.T @ B.T\n", "expect: -(A.T @ B.T)\n"), encoding="utf-8")
    return "trace-axb.yaml"


def _invalid(rules: Path) -> str:
    text = (rules / "trace-x.yaml").read_text(encoding="utf-8").replace("id: trace-x\n", "id: trace-x-broken\n")
    text = re.sub(r"^of: .*$", "of: trace(X @ )", text, flags=re.M)  # MC020
    (rules / "trace-x-broken.yaml").write_text(text, encoding="utf-8")
    return "trace-x-broken.yaml"


def _untypesettable(rules: Path) -> str:
    # Valid and verified, fine on the site, but pdfLaTeX (T1, utf8) cannot print the title.
    path = rules / "scalar-sin.yaml"
    text = re.sub(r"^title: .*$", "title: Derivative of sine, 正弦", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text, encoding="utf-8")
    return "scalar-sin"


@pytest.mark.parametrize(("breaks", "code"), [(_refuted, 1), (_invalid, 2), (_untypesettable, 2)],
                         ids=["refuted-rule", "invalid-rule", "latex-cannot-print"])
def test_a_failed_build_leaves_the_previous_build_byte_for_byte(workspace: Path, first_build: Path, tmp_path: Path,
                                                                  breaks, code: int) -> None:
    rules = shutil.copytree(workspace / "rules", tmp_path / "rules")
    out = tmp_path / "out"
    good = mcref("build", "--rules", rules, "--out", out, cwd=tmp_path, cache=workspace / "cache")
    assert good.returncode == 0, good.stdout + good.stderr
    before = tree(out)
    assert "site/index.html" in before

    culprit = breaks(rules)
    bad = mcref("build", "--rules", rules, "--out", out, cwd=tmp_path, cache=workspace / "cache")
    output = bad.stdout + bad.stderr
    assert bad.returncode == code, output
    assert culprit in output, f"the message does not name {culprit}:\n{output}"
    assert "Traceback" not in output
    assert tree(out) == before, "a failed build changed the previous build"
    assert _leftovers(tmp_path) == [], "a failed build left its staging folder behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "rules"]


def _two_builds(workspace: Path, tmp_path: Path, share_verdicts: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Two builds of the same rules into different folders, from different cwd, each typesetting its own PDFs."""
    rules = shutil.copytree(workspace / "rules", tmp_path / "rules")
    one = mcref("build", "--rules", rules, "--out", tmp_path / "one", cwd=tmp_path, cache=tmp_path / "cache-one")
    assert one.returncode == 0, one.stdout + one.stderr
    if share_verdicts:  # the verdicts only: the PDF cache (cache-*/pdf) stays empty
        shutil.copytree(tmp_path / "cache-one" / "verdicts", tmp_path / "cache-two" / "verdicts",
                        ignore=shutil.ignore_patterns("pdf"))
    two = mcref("build", "--rules", rules, "--out", tmp_path / "elsewhere" / "two", cwd=tmp_path / "rules",
                cache=tmp_path / "cache-two")
    assert two.returncode == 0, two.stdout + two.stderr
    assert "(0 unchanged)" in one.stdout and "(0 unchanged)" in two.stdout, "a PDF came from a cache"
    a, b = tree(tmp_path / "one"), tree(tmp_path / "elsewhere" / "two")
    assert sorted(a) == sorted(b), f"different files: {sorted(set(a) ^ set(b))}"
    assert any(rel.endswith(".pdf") for rel in a) and "rules.json" in a and "site/index.html" in a
    return a, b


def test_two_builds_are_byte_identical(workspace: Path, tmp_path: Path) -> None:
    """Different output folders and cwd, PDFs typeset twice, same verdicts and SOURCE_DATE_EPOCH: the same bytes.

    Covers pdfLaTeX's and mkdocs' timestamps, ordering, and any absolute path leaking into output.
    """
    a, b = _two_builds(workspace, tmp_path, share_verdicts=True)
    differ = [rel for rel in a if a[rel] != b[rel]]
    assert differ == [], f"files that differ between two builds: {differ}"


def test_two_cold_builds_are_byte_identical(workspace: Path, tmp_path: Path) -> None:
    """Two builds that each verify every rule themselves give the same bytes: proof times are not published."""
    a, b = _two_builds(workspace, tmp_path, share_verdicts=False)
    assert sorted(a) == sorted(b)
    assert [rel for rel in a if a[rel] != b[rel]] == []
    assert '"seconds"' not in (tmp_path / "one" / "rules.json").read_text(encoding="utf-8")


def test_a_rebuild_with_nothing_changed_reuses_pdfs_and_verdicts(workspace: Path, first_build: Path, tmp_path: Path) -> None:
    rules = shutil.copytree(workspace / "rules", tmp_path / "rules")
    cache = workspace / "cache"
    again = mcref("build", "--rules", rules, "--out", tmp_path / "out", cwd=tmp_path, cache=cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 PDFs (2 unchanged)" in again.stdout, again.stdout
    assert tree(tmp_path / "out") == tree(first_build)

    check = mcref("check", rules, cwd=tmp_path, cache=cache)
    assert check.returncode == 0, check.stdout + check.stderr
    lines = [ln for ln in check.stdout.splitlines() if ln.startswith("verified")]
    assert len(lines) == 8, check.stdout
    assert all(ln.endswith("(cached)") for ln in lines), f"a rule was verified again:\n{check.stdout}"
    assert "8 verified, 0 refuted, 0 undecided, 0 invalid" in check.stdout


def test_a_rebuild_into_the_same_folder_reuses_the_site_until_a_rule_changes(workspace: Path, tmp_path: Path) -> None:
    """Nothing changed: the previous site is reused byte for byte; a changed rule rebuilds it."""
    rules = shutil.copytree(workspace / "rules", tmp_path / "rules")
    cache = tmp_path / "cache"
    first = mcref("build", "--rules", rules, "--out", tmp_path / "out", cwd=tmp_path, cache=cache)
    assert first.returncode == 0 and ", site, " in first.stdout, first.stdout + first.stderr
    before = tree(tmp_path / "out")
    again = mcref("build", "--rules", rules, "--out", tmp_path / "out", cwd=tmp_path, cache=cache)
    assert again.returncode == 0 and "site unchanged" in again.stdout, again.stdout + again.stderr
    assert tree(tmp_path / "out") == before
    path = rules / "trace-axb.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Renamed ", 1), encoding="utf-8")
    changed = mcref("build", "--rules", rules, "--out", tmp_path / "out", cwd=tmp_path, cache=cache)
    assert changed.returncode == 0 and ", site, " in changed.stdout, changed.stdout + changed.stderr
    assert "Renamed " in (tmp_path / "out" / "site" / "traces" / "index.html").read_text(encoding="utf-8")


def test_changing_one_rule_verifies_only_that_rule(workspace: Path, first_build: Path, tmp_path: Path) -> None:
    rules = shutil.copytree(workspace / "rules", tmp_path / "rules")
    path = rules / "trace-axb.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("expect: A.T @ B.T\n", "expect: (B @ A).T\n"), encoding="utf-8")
    check = mcref("check", rules, cwd=tmp_path, cache=workspace / "cache")
    assert check.returncode == 0, check.stdout + check.stderr
    fresh = [ln for ln in check.stdout.splitlines() if ln.startswith("verified") and not ln.endswith("(cached)")]
    assert [ln.split()[1] for ln in fresh] == ["trace-axb"], check.stdout


@pytest.mark.parametrize("kind", ["folder-of-other-files", "file"])
def test_a_build_never_replaces_a_folder_that_is_not_a_build(workspace: Path, first_build: Path, tmp_path: Path, kind: str) -> None:
    """`mcref build --out .` (or any folder of other files) must not swap the user's files away."""
    rules = shutil.copytree(workspace / "rules", tmp_path / "rules")
    target = tmp_path / "precious"
    if kind == "file":
        target.write_text("not a folder\n", encoding="utf-8")
    else:
        target.mkdir()
        (target / "thesis.tex").write_text("years of work\n", encoding="utf-8")
    before = tree(tmp_path)
    proc = mcref("build", "--rules", rules, "--out", target, cwd=tmp_path, cache=workspace / "cache")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "precious" in output and "Traceback" not in output
    assert tree(tmp_path) == before
    assert _leftovers(tmp_path) == []
