"""`mcref build` end to end on a small real corpus: complete, atomic, reproducible, incremental.

Every build runs the CLI as a subprocess with its own verdict/PDF cache (MCREF_CACHE_DIR) and
a fixed SOURCE_DATE_EPOCH, on eight rules copied from rules/ (see build_support.SMALL_CORPUS).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from build_support import SMALL_CORPUS, cli_env, copy_rules, mcref, pdf_tools_missing, site_tools_missing, tree

_missing = site_tools_missing() or pdf_tools_missing()
pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with rules/ (the small corpus) and cache/ shared by the tests of this module."""
    ws = tmp_path_factory.mktemp("build")
    copy_rules(ws / "rules")
    write_cheatsheet(ws)
    return ws


def write_cheatsheet(folder: Path) -> Path:
    """folder/sheets/cheatsheet.yaml for the small corpus: the build prints it as the two-page sheet."""
    path = folder / "sheets" / "cheatsheet.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("title: Small corpus\npages: 2\ngroups:\n  - heading: Basics\n    compact: true\n"
                    "    rules: [scalar-power, scalar-sin, scalar-cos]\n  - heading: Matrices\n"
                    "    rules: [trace-x, trace-x-squared, trace-axb, bilinear-axb, chain-single-variable]\n",
                    encoding="utf-8")
    return path


PDF_NAMES = [f"{kind}-{paper}-{layout}.pdf" for kind in ("cheatsheet", "reference") for paper in ("a4", "letter")
             for layout in ("numerator", "denominator")]


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


def test_a_build_writes_rules_json_the_pdfs_the_latex_and_the_site(first_build: Path) -> None:
    """rules.json, the 4 cheat sheets and 4 references with their .tex (and the first release's two names as
    copies), mcref.bib, latex/mcref.sty, one .tex per rule and layout, and the site serving all of them."""
    out = first_build
    for rel in ("rules.json", "mcref.bib", "latex/mcref.sty", "latex/example.tex", "site/index.html", "site/rules.json",
                "site/mcref.bib", "site/latex/mcref.sty", *(f"pdf/{n}" for n in PDF_NAMES),
                *(f"pdf/{n[:-4]}.tex" for n in PDF_NAMES), "pdf/cheatsheet-a4.pdf", "pdf/cheatsheet-letter.pdf",
                *(f"latex/{layout}/{rid}.tex" for layout in ("numerator", "denominator") for rid in SMALL_CORPUS)):
        assert (out / rel).is_file(), f"{rel} is missing from the build"
        assert (out / rel).stat().st_size > 0, f"{rel} is empty"
    for name in PDF_NAMES:
        pdf = out / "pdf" / name
        assert pdf.read_bytes().startswith(b"%PDF-")
        assert (out / "site" / "pdf" / name).read_bytes() == pdf.read_bytes(), "the site serves another PDF"
    for paper in ("a4", "letter"):
        assert (out / "pdf" / f"cheatsheet-{paper}.pdf").read_bytes() == (out / "pdf" / f"cheatsheet-{paper}-numerator.pdf").read_bytes()
    assert sorted(p.name for p in (out / "site" / "pdf").glob("*.pdf")) == sorted(PDF_NAMES + ["cheatsheet-a4.pdf", "cheatsheet-letter.pdf"])
    assert tree(out / "latex") == {k: v for k, v in tree(out / "site" / "latex").items()}
    bib = (out / "mcref.bib").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^@misc\{([^,]+),", bib, re.M)) == sorted(["mcref", *(f"mcref:{r}" for r in SMALL_CORPUS)])
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
    shutil.copytree(workspace / "sheets", tmp_path / "sheets")
    cache = workspace / "cache"
    again = mcref("build", "--rules", rules, "--out", tmp_path / "out", cwd=tmp_path, cache=cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "8 PDFs (8 unchanged)" in again.stdout, again.stdout
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


# ---------------------------------------------------------------------------------------
# The site's address: one place to configure it, no placeholder host


def _grep(folder: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes())


def test_without_an_address_no_host_appears_and_the_build_says_so(first_build: Path) -> None:
    """No site_url anywhere: `grep -r example.org build/` is empty, citations carry no URL, links are relative."""
    assert _grep(first_build, b"example.org") == []
    export = json.loads((first_build / "rules.json").read_text(encoding="utf-8"))
    assert export["site_url"] == "" and all(r["url"] is None and r["cite"]["url"] is None for r in export["rules"])
    assert "\\url{" not in (first_build / "mcref.bib").read_text(encoding="utf-8")
    assert "{../rules/trace-axb/}{trace-axb}" in (first_build / "pdf" / "reference-a4-numerator.tex").read_text(encoding="utf-8")


@pytest.mark.parametrize("how", ["--site-url", "MCREF_SITE_URL"])
def test_a_build_with_an_address_uses_it_everywhere(workspace: Path, first_build: Path, tmp_path: Path, how: str) -> None:
    """--site-url (or MCREF_SITE_URL) reaches rules.json, mcref.bib, the PDFs' links, the site's pages and sitemap."""
    url = "https://course.example/mcref/"
    args = ["build", "--rules", workspace / "rules", "--out", tmp_path / "out"]
    extra = {}
    if how == "--site-url":
        args += ["--site-url", url.rstrip("/")]  # the trailing slash is added
    else:
        extra["MCREF_SITE_URL"] = url
    proc = mcref(*args, cwd=tmp_path, cache=workspace / "cache", **extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"site address {url}: rule links and citations use it" in proc.stdout
    out = tmp_path / "out"
    assert _grep(out, b"example.org") == []
    export = json.loads((out / "rules.json").read_text(encoding="utf-8"))
    assert export["site_url"] == url
    assert all(r["url"] == f"{url}rules/{r['id']}/" == r["cite"]["url"] for r in export["rules"])
    assert f"\\url{{{url}rules/trace-axb/}}" in (out / "mcref.bib").read_text(encoding="utf-8")
    assert f"{{{url}rules/trace-axb/}}{{trace-axb}}" in (out / "pdf" / "cheatsheet-a4-numerator.tex").read_text(encoding="utf-8")
    sitemap = out / "site" / "sitemap.xml"
    assert sitemap.is_file() and f"<loc>{url}".encode() in sitemap.read_bytes()


def test_a_bad_address_is_refused_before_anything_is_written(workspace: Path, tmp_path: Path) -> None:
    proc = mcref("build", "--rules", workspace / "rules", "--out", tmp_path / "out", "--site-url", "javascript:alert(1)",
                 cwd=tmp_path, cache=workspace / "cache")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("--site-url must be the site's public address, an http(s) URL made of letters, digits "
                                   "and ._~+-/ such as https://course.example/mcref/ (found 'javascript:alert(1)')")
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------------
# A build killed at any moment


def _changed_rules(workspace: Path, dest: Path) -> Path:
    """A copy of the small corpus (with its cheat sheet) whose trace-axb title differs: a build must redo work."""
    rules = shutil.copytree(workspace / "rules", dest / "rules")
    shutil.copytree(workspace / "sheets", dest / "sheets")
    path = rules / "trace-axb.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Renamed ", 1), encoding="utf-8")
    return rules


def test_builds_killed_at_each_stage_leave_the_last_build_whole_and_the_next_build_cleans_up(
        workspace: Path, first_build: Path, tmp_path: Path) -> None:
    """kill -9 after staging, after the PDFs, after the site, after the swap: the output is always a whole
    build (the old one, or the new one once swapped); the next build removes every leftover folder."""
    out = shutil.copytree(first_build, tmp_path / "out")
    before = tree(out)
    rules = _changed_rules(workspace, tmp_path)
    for point in ("staging", "pdf", "site", "after-swap"):
        proc = mcref("build", "--rules", rules, "--out", out, cwd=tmp_path, cache=workspace / "cache",
                     MCREF_BUILD_KILL_AT=point)
        assert proc.returncode == -signal.SIGKILL, f"{point}: {proc.stdout + proc.stderr}"
        now = tree(out)
        if point == "after-swap":
            assert now != before and "Renamed " in (out / "rules.json").read_text(encoding="utf-8")
            after = now
        else:
            assert now == before, f"a build killed at {point} changed the previous build"
        # What this build left; the one killed before it was removed when this one started.
        left = _leftovers(tmp_path)
        assert len(left) == 2 and left[0].startswith(".out.staging-") and left[1] == left[0] + ".lock", left
    proc = mcref("build", "--rules", rules, "--out", out, cwd=tmp_path, cache=workspace / "cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("cleaned up after a build that did not finish: removed .out.staging-") == 1, proc.stdout
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "rules", "sheets"]
    assert tree(out) == after


def test_a_build_killed_between_two_renames_is_put_back(workspace: Path, first_build: Path, tmp_path: Path) -> None:
    """Where the system cannot swap two folders atomically, a kill between the two renames leaves the old
    build in .out.old-<pid>: the next build puts it back before it starts, then replaces it as usual."""
    shutil.copytree(first_build, tmp_path / ".out.old-4194301")
    assert not (tmp_path / "out").exists()
    proc = mcref("build", "--rules", workspace / "rules", "--out", tmp_path / "out", cwd=tmp_path, cache=workspace / "cache")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cleaned up after a build that did not finish: restored out from .out.old-4194301" in proc.stdout
    assert _leftovers(tmp_path) == [] and tree(tmp_path / "out") == tree(first_build)


@pytest.mark.parametrize("seconds", [0.5, 2.0, 5.0])
def test_a_build_killed_at_a_random_moment(workspace: Path, first_build: Path, tmp_path: Path, seconds: float) -> None:
    """kill -9 of the build and all its processes after a while: the output is the old build or the new one, whole."""
    out = shutil.copytree(first_build, tmp_path / "out")
    before = tree(out)
    rules = _changed_rules(workspace, tmp_path)
    cache = tmp_path / "cache"  # cold for the changed rule's PDFs: the build is busy when killed
    shutil.copytree(workspace / "cache", cache)
    proc = subprocess.Popen([sys.executable, "-m", "generator", "build", "--rules", str(rules), "--out", str(out)],
                            cwd=tmp_path, env=cli_env(cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(seconds)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)
    now = tree(out)
    assert now == before or "Renamed " in (out / "rules.json").read_text(encoding="utf-8"), "the output is not a whole build"
    assert (out / "site" / "index.html").is_file() and (out / "pdf" / "reference-a4-numerator.pdf").is_file()
    again = mcref("build", "--rules", rules, "--out", out, cwd=tmp_path, cache=cache)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _leftovers(tmp_path) == []


def test_the_folders_of_a_running_build_are_left_alone(tmp_path: Path) -> None:
    """clean_leftovers removes a staging folder only when no process holds its lock."""
    from generator import build

    out = tmp_path / "build"
    staging = tmp_path / ".build.staging-123"
    lock = build._lock(staging.with_name(staging.name + ".lock"))
    staging.mkdir()
    assert build.clean_leftovers(out) == [] and staging.is_dir()
    lock.close()
    assert build.clean_leftovers(out) == ["removed .build.staging-123"] and not staging.exists()
    assert not (tmp_path / ".build.staging-123.lock").exists()
    unlocked = tmp_path / ".build.staging-456"
    unlocked.mkdir()  # killed before it took its lock? No: a build takes the lock first, so this one is dead
    assert build.clean_leftovers(out) == ["removed .build.staging-456"]


def test_the_swap_without_an_atomic_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback of two renames puts the new build in place and removes the old one."""
    from generator import build

    monkeypatch.setattr(build, "_exchange", lambda a, b: False)
    out, staging = tmp_path / "build", tmp_path / ".build.staging-1"
    out.mkdir()
    (out / "old").write_text("old", encoding="utf-8")
    staging.mkdir()
    (staging / "new").write_text("new", encoding="utf-8")
    build._swap(staging, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"] and (out / "new").is_file()
