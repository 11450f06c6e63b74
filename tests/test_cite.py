"""Citations and LaTeX for instructors (seam 5): cite forms, mcref.bib, mcref.sty, latex.standalone, `mcref show`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.render.cite import bib_file, example_tex, reference_cite, rule_cite, rule_tex, standalone, sty_file, with_where_tex
from generator.render.texescape import TexError, expand_macros

from sheets_support import needs_latex, pdflatex, real_export

ROOT = Path(__file__).resolve().parent.parent
URL = "https://course.example/mcref/"
RULE = {"id": "quad-form-xax", "title": "Quadratic form $\\mathbf{x}^{\\top}\\mathbf{A}\\mathbf{x}$, by $\\mathbf{x}$",
        "title_text": "Quadratic form x\u1d40Ax, by x"}


def test_rule_cite_with_an_address() -> None:
    """With a site address: the permanent URL in every form, the version in BibTeX's note, biblatex's version and urldate."""
    cite = rule_cite(RULE, version="0.2.0", build_date="2026-11-27", url=f"{URL}rules/quad-form-xax/")
    assert cite["key"] == "mcref:quad-form-xax"
    assert cite["url"] == f"{URL}rules/quad-form-xax/"
    assert cite["text"] == ("mcref contributors, \u201cQuadratic form x\u1d40Ax, by x\u201d (rule quad-form-xax), "
                            "mcref: a verified matrix-calculus reference, version 0.2.0, 2026. "
                            f"{URL}rules/quad-form-xax/")
    assert cite["markdown"] == (f"[Quadratic form x\u1d40Ax, by x]({URL}rules/quad-form-xax/) "
                                "(mcref rule `quad-form-xax`, version 0.2.0)")
    assert cite["bibtex"] == "\n".join([
        "@misc{mcref:quad-form-xax,",
        "  author       = {{mcref contributors}},",
        "  title        = {{Quadratic form x\\ensuremath{^{\\top}}Ax, by x}},",
        f"  howpublished = {{\\url{{{URL}rules/quad-form-xax/}}}},",
        "  year         = {2026},",
        "  note         = {Rule \\texttt{quad-form-xax} of mcref: a verified matrix-calculus reference, version 0.2.0},",
        "}"])
    assert "@online{mcref:quad-form-xax," in cite["biblatex"]
    for field in ("version      = {0.2.0}", "date         = {2026-11-27}", f"url          = {{{URL}rules/quad-form-xax/}}",
                  "urldate      = {2026-11-27}", "titleaddon   = {rule \\texttt{quad-form-xax}}"):
        assert field in cite["biblatex"]


def test_rule_cite_without_an_address_names_id_title_and_version_only() -> None:
    """No site address: no URL anywhere, a Markdown label instead of a link."""
    cite = rule_cite(RULE, version="0.2.0", build_date="2026-11-27", url=None)
    assert cite["url"] is None
    joined = json.dumps(cite)
    assert "http" not in joined and "example" not in joined
    assert cite["text"].endswith("version 0.2.0, 2026.")
    assert cite["markdown"] == "*Quadratic form x\u1d40Ax, by x* (mcref rule `quad-form-xax`, version 0.2.0)"
    assert "howpublished" not in cite["bibtex"] and "urldate" not in cite["biblatex"]


def test_hostile_titles_stay_text_in_every_form() -> None:
    """A title with TeX, BibTeX and Markdown specials is escaped for each; BibTeX braces stay balanced."""
    rule = {"id": "x", "title_text": "}{@misc{evil, \\input{/etc/passwd} [a](javascript:x) *b* 100%"}
    cite = rule_cite(rule, version="1", build_date="2026-01-01", url=None)
    bib = cite["bibtex"]
    assert "\\input{" not in bib and "@misc{evil" not in bib
    depth = 0
    for ch in bib:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    assert "\\[a\\](javascript:x) \\*b\\*" in cite["markdown"]


def test_reference_cite() -> None:
    """The whole reference has its own entry, key mcref, with the version."""
    cite = reference_cite(version="0.2.0", build_date="2026-11-27", url=URL)
    assert cite["key"] == "mcref" and cite["url"] == URL
    assert cite["bibtex"].startswith("@misc{mcref,") and "Version 0.2.0" in cite["bibtex"]
    assert cite["text"] == f"mcref contributors, mcref: a verified matrix-calculus reference, version 0.2.0, 2026. {URL}"


@pytest.mark.parametrize(("latex", "expected"), [
    (r"\tr\left(\mathbf{X}\right)", r"\operatorname{tr}\left(\mathbf{X}\right)"),
    (r"\tr X + \trace", r"\operatorname{tr} X + \trace"),
    (r"\tr x", r"\operatorname{tr} x"),
    (r"\pair{a}{\tr b} \\ \pair x y", r"\left(a, \operatorname{tr} b\right) \\ \left(x, y\right)"),
    (r"\outer", r"\operatorname{tr}"),
])
def test_expand_macros(latex: str, expected: str) -> None:
    """Macros expand with their arguments, inside other macros' bodies, never inside longer names."""
    macros = {"\\tr": "\\operatorname{tr}", "\\pair": "\\left(#1, #2\\right)", "\\outer": "\\tr"}
    assert expand_macros(latex, macros) == expected


def test_expand_macros_refuses_a_macro_that_uses_itself() -> None:
    with pytest.raises(TexError, match="nest more than"):
        expand_macros(r"\loop", {"\\loop": "x\\loop"})


def test_sty_file_provides_every_macro() -> None:
    """mcref.sty: amsmath and bm, then \\providecommand for every macro of the export, with its arity."""
    sty = sty_file({"version": "0.2.0", "build_date": "2026-11-27",
                    "macros": {"\\tr": "\\operatorname{tr}", "\\norm": "\\left\\lVert #1\\right\\rVert"}})
    assert "\\ProvidesPackage{mcref}[2026/11/27 v0.2.0 macros of the mcref matrix-calculus reference]" in sty
    assert "\\RequirePackage{amsmath}\n\\RequirePackage{bm}\n" in sty
    assert "\\providecommand{\\norm}[1]{\\left\\lVert #1\\right\\rVert}\n\\providecommand{\\tr}{\\operatorname{tr}}\n" in sty
    with pytest.raises(TexError, match="forbidden command"):
        sty_file({"macros": {"\\x": "\\input{/etc/passwd}"}})


# ---------------------------------------------------------------------------------------
# The real corpus


def test_every_rule_of_the_export_has_its_citation_and_standalone_forms() -> None:
    """Each rule carries cite (key mcref:<id>) and latex.standalone without any mcref macro; keys are unique."""
    export = real_export()
    macros = set(export["macros"])
    keys = [r["cite"]["key"] for r in export["rules"]]
    assert keys == [f"mcref:{r['id']}" for r in export["rules"]] and len(set(keys)) == len(keys)
    assert export["cite"]["key"] == "mcref"
    leftovers = {}
    for rule in export["rules"]:
        forms = rule["latex"]["standalone"]
        texts = [forms["numerator"], forms["denominator"]] + [w[k] for w in forms["where"] for k in ("name", "value")]
        used = {m for t in texts if t for m in re.findall(r"\\[A-Za-z]+", t)} & macros
        if used:
            leftovers[rule["id"]] = sorted(used)
        assert len(forms["where"]) == len(rule["latex"].get("where") or [])
    assert leftovers == {}


def test_every_title_text_is_printable_by_pdflatex() -> None:
    """The BibTeX title (title_text) of every rule escapes for pdfLaTeX: no character is left raw."""
    from generator.render.texescape import latex_escape

    unprintable = {}
    for rule in real_export()["rules"]:
        try:
            latex_escape(rule["title_text"])
        except ValueError as err:
            unprintable[rule["id"]] = str(err)
    assert unprintable == {}


def _document(preamble: str, bodies: list[str]) -> str:
    return "\n".join(["\\documentclass{article}", preamble, "\\begin{document}", *bodies, "\\end{document}", ""])


@needs_latex
def test_every_standalone_formula_compiles_with_amsmath_and_bm_alone(tmp_path: Path) -> None:
    """A document with every rule's formula in both layouts (and its where lines), copied from
    latex.standalone, compiles with pdflatex -no-shell-escape and \\usepackage{amsmath,bm} only."""
    export = real_export()
    bodies = []
    for rule in export["rules"]:
        forms = rule["latex"]["standalone"]
        for layout in ("numerator", "denominator"):
            bodies.append(f"% {rule['id']} {layout}\n\\begin{{equation*}}{forms[layout]}\\end{{equation*}}")
        for w in forms["where"]:
            bodies.append(f"\\[{w['name']} = {w['value']}\\]")
    (tmp_path / "all.tex").write_text(_document("\\usepackage{amsmath,bm}", bodies), encoding="utf-8")
    proc = pdflatex(tmp_path, "all")
    assert proc.returncode == 0, proc.stdout[-3000:]


@needs_latex
def test_where_lines_stay_inside_the_page_of_a_course_document(tmp_path: Path) -> None:
    """A rule with named intermediates, pasted as its snippet or as its Copy LaTeX (gathered, inside \\[...\\]), compiles
    with amsmath and bm, and its where lines stack one binding a line: layer normalisation's six bindings and
    attention's three fit an article's text width (on one line they ran 200 pt off the page)."""
    export = real_export()
    with_where = [r for r in export["rules"] if r["latex"]["standalone"].get("where")]
    assert len(with_where) > 100
    bodies = []
    for rule in with_where:
        forms = rule["latex"]["standalone"]
        bodies += [rule_tex(export, rule, "numerator"), f"\\[{with_where_tex(forms['denominator'], forms['where'])}\\]"]
    (tmp_path / "all.tex").write_text(_document("\\usepackage{amsmath,bm}", bodies), encoding="utf-8")
    assert pdflatex(tmp_path, "all").returncode == 0
    by_id = {r["id"]: r for r in with_where}
    for rid in ("layer-norm-backward", "attention-scores"):
        forms = by_id[rid]["latex"]["standalone"]
        (tmp_path / f"{rid}.tex").write_text(_document("\\usepackage{amsmath,bm}", [
            rule_tex(export, by_id[rid], "numerator"), f"\\[{with_where_tex(forms['numerator'], forms['where'])}\\]"]), encoding="utf-8")
        proc = pdflatex(tmp_path, rid)
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert "Overfull \\hbox" not in (tmp_path / f"{rid}.log").read_text(encoding="utf-8", errors="replace"), rid


@needs_latex
def test_every_formula_compiles_with_the_generated_package(tmp_path: Path) -> None:
    """The export's formulas as they are (with \\tr, \\diag, ...) compile with \\usepackage{mcref} alone,
    and so does every rule's snippet of latex/<layout>/<id>.tex."""
    export = real_export()
    (tmp_path / "mcref.sty").write_text(sty_file(export), encoding="utf-8")
    bodies = []
    for rule in export["rules"]:
        latex = rule["latex"]
        for layout in ("numerator", "denominator"):
            bodies.append(f"\\begin{{equation*}}{latex['derivative']} = {latex[layout]}\\end{{equation*}}")
            bodies.append(rule_tex(export, rule, layout))
        for w in latex.get("where") or []:
            bodies.append(f"\\[{w['name']} = {w['value']}\\]")
    (tmp_path / "all.tex").write_text(_document("\\usepackage{mcref}", bodies), encoding="utf-8")
    proc = pdflatex(tmp_path, "all")
    assert proc.returncode == 0, proc.stdout[-3000:]


@needs_latex
def test_the_bibliography_and_the_example_compile_with_bibtex(tmp_path: Path) -> None:
    """mcref.bib (every rule and the reference) goes through BibTeX with no error or warning, in a plain
    OT1 document, and the example of latex/example.tex compiles."""
    for url in ("", URL):
        export = real_export()
        if url:  # the same export as a build with --site-url gives
            export["site_url"] = url
            for rule in export["rules"]:
                rule["url"] = f"{url}{rule['path']}"
                rule["cite"] = rule_cite(rule, version=export["version"], build_date=export["build_date"], url=rule["url"])
            export["cite"] = reference_cite(version=export["version"], build_date=export["build_date"], url=url)
        folder = tmp_path / ("url" if url else "none")
        (folder / "latex").mkdir(parents=True)
        bib = bib_file(export)
        assert bib.count("@misc{") == len(export["rules"]) + 1
        assert ("\\url{" in bib) == bool(url)
        (folder / "mcref.bib").write_text(bib, encoding="utf-8")
        (folder / "all.tex").write_text(_document("\\usepackage{url}", ["\\nocite{*}", "\\bibliographystyle{plain}",
                                                                        "\\bibliography{mcref}"]), encoding="utf-8")
        proc = pdflatex(folder, "all", bibtex=True)
        assert proc.returncode == 0, proc.stdout[-3000:]
        blg = (folder / "all.blg").read_text(encoding="utf-8", errors="replace")
        assert "Warning" not in blg and "error" not in blg.lower(), blg[-2000:]
        latex = folder / "latex"
        (latex / "mcref.sty").write_text(sty_file(export), encoding="utf-8")
        (latex / "example.tex").write_text(example_tex(export), encoding="utf-8")
        (latex / "denominator").mkdir()
        for rule in export["rules"]:
            (latex / "denominator" / f"{rule['id']}.tex").write_text(rule_tex(export, rule, "denominator"), encoding="utf-8")
        proc = pdflatex(latex, "example", bibtex=True)
        assert proc.returncode == 0, proc.stdout[-3000:]


# ---------------------------------------------------------------------------------------
# mcref show


def _show(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "MCREF_SITE_URL"}
    env.update(PYTHONPATH=str(ROOT), SOURCE_DATE_EPOCH="1795219200")  # the date of real_export()
    return subprocess.run([sys.executable, "-m", "generator", "show", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_show_prints_a_rule_in_each_format() -> None:
    """`mcref show ID` prints LaTeX by default, and Markdown, text and JSON on request, with the citation."""
    latex = _show("softmax-jacobian")
    assert latex.returncode == 0, latex.stderr
    assert latex.stdout.startswith("% mcref rule softmax-jacobian: Softmax Jacobian\n% numerator layout; needs \\usepackage{amsmath,bm}")
    assert "\\begin{equation*}" in latex.stdout and "\\operatorname{softmax}" in latex.stdout and "\\softmax" not in latex.stdout
    markdown = _show("softmax-jacobian", "--format", "markdown", "--layout", "denominator")
    assert markdown.stdout.startswith("**Softmax Jacobian** (denominator layout)\n\n$$\n")
    assert "Source: *Softmax Jacobian* (mcref rule `softmax-jacobian`, version " in markdown.stdout
    text = _show("softmax-jacobian", "--format", "text", "--site-url", URL)
    assert "\u2202softmax(x)/\u2202x = diag(softmax(x))" in text.stdout
    assert "as written in rules/softmax-jacobian.yaml (numerator layout): d/dx softmax(x) = " in text.stdout
    assert f"{URL}rules/softmax-jacobian/" in text.stdout
    data = json.loads(_show("softmax-jacobian", "--format", "json").stdout)
    assert data["id"] == "softmax-jacobian" and data["cite"]["key"] == "mcref:softmax-jacobian"
    assert data == next(r for r in real_export()["rules"] if r["id"] == "softmax-jacobian")


def test_show_an_unknown_id_suggests_and_exits_2() -> None:
    """A mistyped id: one line with a did-you-mean on stderr, exit 2, nothing on stdout, no traceback."""
    proc = _show("softmax-jacobain")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == "mcref show: no rule has the id 'softmax-jacobain'; did you mean softmax-jacobian?\n"
    for hostile in ("../README", "_sections", "/etc/passwd"):
        proc = _show(hostile)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


def test_show_follows_a_redirect(tmp_path: Path) -> None:
    """An id retired in _redirects.yaml shows the rule it resolves to, with a note."""
    from build_support import copy_rules

    rules = copy_rules(tmp_path / "rules", ("trace-x",))
    (rules / "_redirects.yaml").write_text("trace-of-x: trace-x\n", encoding="utf-8")
    proc = _show("trace-of-x", "--rules", str(rules), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["id"] == "trace-x"
    assert "note: rule 'trace-of-x' is now 'trace-x'" in proc.stderr
