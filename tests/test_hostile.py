"""Hostile and broken rule files: each gets a clear error code or a safe rendering, and nothing else happens.

For every case: the expected exit code and message, nothing executed (no PWNED file
anywhere), nothing written beside the input (the working folder is hashed before and
after), no Python traceback. The CLI runs as a subprocess (`python -m generator`) in a
folder of tmp_path, with its own verdict cache. The static cases live in
tests/fixtures/hostile/ (their first lines say what to expect, see its README.md); cases
made of odd bytes or many files are generated here.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from build_support import ROOT, copy_rules, mcref, pdf_tools_missing, site_tools_missing, tree

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
MARKER = "PWNED"
SMALL_RULE = """id: {rid}
title: Sine, copy {n}
section: scalar
layout: numerator
symbols:
  x: []
of: {of}
wrt: x
expect: {expect}
"""


def _header(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"# (expect|args|xfail): (.*)$", line)
        if not m:
            break
        found[m.group(1)] = m.group(2).strip()
    return found


def _static_cases() -> list:
    cases = []
    for path in sorted(HOSTILE.glob("[!_]*.yaml")):
        head = _header(path)
        marks = [pytest.mark.xfail(reason=head["xfail"], strict=False)] if "xfail" in head else []
        cases.append(pytest.param(path, head, id=path.stem, marks=marks))
    return cases


def _no_marker(*folders: Path) -> None:
    for folder in folders:
        assert not (folder / MARKER).exists(), f"{folder / MARKER} exists: something was executed"
    for folder in folders[:1]:
        assert not list(folder.rglob(MARKER)), "a PWNED file exists: something was executed"


def _run_case(tmp_path: Path, files: dict[str, bytes | Path], *args: str, paths: list[str] | None = None,
              sections: bool = True):
    """Copy files into tmp_path/work, run `mcref check` there; return the finished process and its output."""
    work = tmp_path / "work"
    work.mkdir()
    if sections:
        shutil.copyfile(HOSTILE / "_sections.yaml", work / "_sections.yaml")
    for name, content in files.items():
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    before = tree(work)
    proc = mcref("check", *args, *(paths or list(files)), cwd=work, cache=tmp_path / "cache", timeout=300)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert tree(work) == before, "mcref check wrote beside the rules it checked"
    assert {p.name for p in tmp_path.iterdir()} <= {"work", "cache"}, "mcref check wrote outside its cache"
    _no_marker(tmp_path, work, ROOT, HOSTILE, Path.home())
    return proc, output


@pytest.mark.parametrize(("path", "head"), _static_cases())
def test_a_hostile_rule_file_gets_its_expected_outcome(tmp_path: Path, path: Path, head: dict[str, str]) -> None:
    exit_code, _, wanted = head["expect"].partition(" ")
    proc, output = _run_case(tmp_path, {path.name: path}, *head.get("args", "").split())
    assert proc.returncode == int(exit_code), output
    assert re.search(wanted.replace(" ", r"\s"), output), f"expected {wanted!r} in:\n{output}"
    if wanted.startswith("MC"):
        assert re.search(rf"^{re.escape(path.name)}:\d+:\d+: {wanted} ", output, re.M), f"no '{path.name}:line:col: {wanted}' line:\n{output}"
    else:
        assert path.stem in output


GENERATED = {
    "empty": (b"", "MC004"),
    "blank-lines": (b"\n\n   \n", "MC004"),
    "not-utf8": (b"id: not-utf8\ntitle: Caf\xe9 \xff\xfe\nsection: scalar\n", "MC001"),
    "utf16": ("id: utf16\ntitle: UTF-16\n".encode("utf-16"), "MC001"),
    "nul-byte": (b"id: nul-byte\ntitle: a\x00b\n", "MC002"),
    "oversize": (b"id: oversize\nnotes: " + b"a" * 300_000 + b"\n", "MC001"),
    "nested-parentheses-5000": (SMALL_RULE.format(rid="nested-parentheses-5000", n=1, of="(" * 5000 + "x" + ")" * 5000,
                                                  expect="cos(x)").encode(), "MC012"),
    "long-expression": (SMALL_RULE.format(rid="long-expression", n=1, of="x" + " + x" * 40_000, expect="cos(x)").encode(), "MC012"),
    "long-expect": (SMALL_RULE.format(rid="long-expect", n=1, of="sin(x)", expect="cos(x)" + " + 0*x" * 30_000).encode(), "MC012"),
    "deep-yaml": (b"id: deep-yaml\nnotes: " + b"[" * 20_000 + b"]" * 20_000 + b"\n", "MC002"),
}

@pytest.mark.parametrize("name", list(GENERATED))
def test_a_generated_hostile_file_gets_a_clear_error(tmp_path: Path, name: str) -> None:
    content, code = GENERATED[name]
    proc, output = _run_case(tmp_path, {f"{name}.yaml": content})
    assert proc.returncode == 2, output
    assert re.search(rf"^{re.escape(name)}\.yaml:\d+:\d+: {code} ", output, re.M), output


def test_an_id_in_two_folders_is_mc014(tmp_path: Path) -> None:
    files = {f"{d}/{p.name}": p for d in ("dup-one", "dup-two") for p in (HOSTILE / d).glob("*.yaml")}
    proc, output = _run_case(tmp_path, files, paths=["dup-one", "dup-two"], sections=False)
    assert proc.returncode == 2, output
    assert re.search(r"^dup-two/dup-id\.yaml:\d+:\d+: MC014 ", output, re.M) or re.search(r"dup-id\.yaml:\d+:\d+: MC014 ", output), output
    assert "dup-one/dup-id.yaml" in output and "dup-two/dup-id.yaml" in output, output


def test_one_file_of_each_kind_at_once_reports_every_problem(tmp_path: Path) -> None:
    """A folder of everything hostile: every file is reported, the run neither crashes nor hangs."""
    files = {p.name: p for p in HOSTILE.glob("[!_]*.yaml") if "xfail" not in _header(p) and p.stem != "slow-rule"}
    proc, output = _run_case(tmp_path, files, "--timeout", "20", paths=["."])
    assert proc.returncode == 2, output
    for name in files:
        assert name in output, f"{name} is not reported"


def test_ten_thousand_rule_files_are_checked_in_bounded_time(tmp_path: Path) -> None:
    """10,000 copies of one rule under different ids: proved once (equal claims share a verdict), all verified."""
    rules = tmp_path / "many"
    rules.mkdir()
    shutil.copyfile(HOSTILE / "_sections.yaml", rules / "_sections.yaml")
    for n in range(10_000):
        rid = f"many-{n:05d}"
        (rules / f"{rid}.yaml").write_text(SMALL_RULE.format(rid=rid, n=n, of="sin(x)", expect="cos(x)"), encoding="utf-8")
    before = tree(rules)
    started = time.monotonic()
    proc = mcref("check", "many", cwd=tmp_path, cache=tmp_path / "cache", timeout=600)
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert "10000 verified, 0 refuted, 0 undecided, 0 invalid" in output
    assert sum(1 for ln in proc.stdout.splitlines() if ln.startswith("verified ")) == 10_000
    assert len(list((tmp_path / "cache" / "verdicts").glob("*.json"))) == 1, "equal claims should share one verdict"
    assert tree(rules) == before
    print(f"mcref check of 10,000 rule files: {seconds:.1f} s")
    assert seconds < 300, f"mcref check of 10,000 rule files took {seconds:.0f} s"


_site_missing = site_tools_missing() or pdf_tools_missing()


def _set(path: Path, field: str, value: str) -> None:
    """Set a top-level field (replacing its block, continuation lines included)."""
    text = path.read_text(encoding="utf-8")
    line = f"{field}: {value}\n"
    text, n = re.subn(rf"^{field}:.*\n(?:[ \t]+.*\n)*", lambda _: line, text, flags=re.M)
    if not n:
        text += line
    path.write_text(text, encoding="utf-8")


@pytest.mark.skipif(_site_missing is not None, reason=_site_missing or "")
def test_hostile_titles_are_text_in_the_pdf_and_on_the_site(tmp_path: Path) -> None:
    rules = copy_rules(tmp_path / "rules")
    _set(rules / "scalar-sin.yaml", "title", "'<script>alert(1)</script> & <img src=x onerror=alert(2)>'")
    _set(rules / "scalar-sin.yaml", "conditions", "'</td><script>alert(3)</script>'")
    # LaTeX outside $...$ in a title is refused by the check (MC030, below), and so are code-style
    # ^ and _ at publish time (MC041); what a title may hold outside math is text, and TeX's
    # special characters in it are printed, never obeyed.
    _set(rules / "trace-x.yaml", "title", r"'Trace % # ~ { } & $x^2_1$ <b>bold</b>, by X'")
    _set(rules / "trace-x.yaml", "conditions", r"'\immediate\write18{touch PWNED}\end{document}'")
    before = tree(rules)
    proc = mcref("build", "--rules", "rules", "--out", "out", cwd=tmp_path, cache=tmp_path / "cache")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    _no_marker(tmp_path, ROOT, Path.home())
    assert tree(rules) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out", "rules"], "the build wrote outside --out"

    out = tmp_path / "out"
    for paper in ("a4", "letter"):
        tex = (out / "pdf" / f"reference-{paper}-numerator.tex").read_text(encoding="utf-8")
        for raw in (r"\write18", r"\immediate", r"\end{document}\\"):
            assert raw not in tex.replace(r"\end{document}" + "\n", ""), f"{raw} reached the .tex unescaped"
        assert r"Trace \% \# " in tex, "the title's special characters are not printed as text"
        assert tex.count(r"\end{document}") == 1
    pages = {p: p.read_text(encoding="utf-8") for p in (out / "site").rglob("*.html")}
    live = [str(p.relative_to(out)) for p, html in pages.items() if re.search(r"<script>\s*alert|<img src=x", html)]
    assert live == [], f"a title became live HTML in {live}"
    escaped = [p for p, html in pages.items() if "&lt;script&gt;alert(1)&lt;/script&gt;" in html]
    assert escaped, "the <script> title is not shown as text on any page"
    assert any("&lt;/td&gt;&lt;script&gt;alert(3)" in html for html in pages.values()), "the conditions are not shown as text"
    if shutil.which("pdftotext"):
        import subprocess

        text = subprocess.run(["pdftotext", str(out / "pdf" / "reference-a4-numerator.pdf"), "-"], capture_output=True, text=True).stdout
        assert "root:x:0" not in text, "/etc/passwd was read into the PDF"
        assert "Trace % # ~ { } &" in text, "the title is not printed literally"


def test_latex_commands_outside_math_in_a_title_are_refused(tmp_path: Path) -> None:
    """A title with TeX commands outside $...$ stops at the check (MC030), before anything typesets it."""
    rules = copy_rules(tmp_path / "rules")
    _set(rules / "trace-x.yaml", "title", r"'\input{/etc/passwd} \write18{touch PWNED} \catcode`\^^M=13 $x$'")
    proc = mcref("build", "--rules", "rules", "--out", "out", cwd=tmp_path, cache=tmp_path / "cache")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "rules/trace-x.yaml:3:8: MC030 title must put LaTeX between $...$ (found \\input outside math)" in output
    assert "Traceback" not in output
    _no_marker(tmp_path, ROOT, Path.home())


@pytest.mark.skipif(_site_missing is not None, reason=_site_missing or "")
@pytest.mark.parametrize(("field", "value"), [
    ("notes", r"'Display math $$\input{/etc/passwd}$$ too.'"),
    ("example", "{text: 'See $\\input{/etc/passwd}$', of: sin(2*x), expect: 2*cos(2*x)}"),
], ids=["notes-double-dollar", "example-text-math"])
def test_latex_check_lets_through_is_refused_by_the_build(tmp_path: Path, field: str, value: str) -> None:
    """LaTeX in notes and example text must never be typeset as commands or executed by a build.

    `$$...$$` in notes is MC030 since 951467e; the math of example.text is not vetted by the
    engine (`mcref check` passes it) but the site refuses it (KaTeX: undefined control
    sequence). Either way: the build fails, no traceback, the previous build is kept.
    """
    rules = copy_rules(tmp_path / "rules")
    good = mcref("build", "--rules", "rules", "--out", "out", cwd=tmp_path, cache=tmp_path / "cache")
    assert good.returncode == 0, good.stdout + good.stderr
    built = tree(tmp_path / "out")
    _set(rules / "scalar-sin.yaml", field, value)
    check = mcref("check", "rules", cwd=tmp_path, cache=tmp_path / "cache")
    assert "Traceback" not in check.stdout + check.stderr
    proc = mcref("build", "--rules", "rules", "--out", "out", cwd=tmp_path, cache=tmp_path / "cache")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a build typeset \\input"
    assert "Traceback" not in output
    # The site names the rule (notes) or the formula (KaTeX errors of example text).
    assert "scalar-sin" in output or "\\input{/etc/passwd}" in output, output
    assert tree(tmp_path / "out") == built
    _no_marker(tmp_path, ROOT)
