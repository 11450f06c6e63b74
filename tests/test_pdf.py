"""The printed sheets: rendering (pure) and compiling with real pdfLaTeX, read back with poppler."""

from __future__ import annotations

import argparse
import copy
import json
import math
import shutil
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.render import pdf
from generator.render.pdf import PdfError, compile_pdf, latex_escape, render_sheet, render_tex, select_rules
from generator.render.sheets import Group, Sheet, read_sheet, reference_sheet

from sheets_support import id_pattern, needs_latex, needs_poppler, pdf_pages, poppler, real_export

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "export-sample.json"
CHEATSHEET = ROOT / "sheets" / "cheatsheet.yaml"
EPOCH = 1_795_219_200  # 2026-11-21T00:00:00Z
URL = "https://course.example/mcref/"

HOSTILE = [
    r"\input{/etc/passwd}",
    r"\write18{rm -rf /}",
    "#$%&_{}~^\\",
    r"\end{longtable}\end{multicols*}\end{document}",
    "a--b---c << >> `` '' !` ?` ~~ ^^41",
]

# Formulas as the engine prints them (generator/render/latex.py): fractions, \left(...\right),
# \boldsymbol, a matrix with '&', a differential, and one too long for one line.
FORMULAS = [
    (r"\frac{\partial \mathbf{x}^{\top} \mathbf{A} \mathbf{x}}{\partial \mathbf{x}}",
     r"\mathbf{x}^{\top} \left(\mathbf{A} + \mathbf{A}^{\top}\right)"),
    (r"\frac{\partial \softmax\left(\mathbf{z}\right)}{\partial \mathbf{z}}",
     r"\diag\left(\softmax\left(\mathbf{z}\right)\right) - \softmax\left(\mathbf{z}\right) "
     r"\softmax\left(\mathbf{z}\right)^{\top}"),
    (r"\frac{\partial \boldsymbol{\mu}^{\top} \boldsymbol{\Sigma}^{-1} \boldsymbol{\mu}}{\partial \boldsymbol{\mu}}",
     r"2 \boldsymbol{\mu}^{\top} \boldsymbol{\Sigma}^{-1}"),
    (r"\frac{\partial f}{\partial \left(x, y\right)}", r"\begin{bmatrix} 6 y x & 3 x^{2} \end{bmatrix}"),
    (r"\mathrm{d}\left(\mathbf{X}^{-1}\right)", r"-\mathbf{X}^{-1} \mathrm{d}\mathbf{X} \mathbf{X}^{-1}"),
    (r"\frac{\partial \max\left(0, z\right)}{\partial z}", r"\step\left(z\right)"),
    (r"\frac{\partial \left\lVert \mathbf{X} \mathbf{W} - \mathbf{Y} \right\rVert_{F}^{2}}{\partial \mathbf{W}}",
     " + ".join(rf"2 \mathbf{{X}}_{{{i}}}^{{\top}} \left(\mathbf{{X}}_{{{i}}} \mathbf{{W}} - "
                rf"\mathbf{{Y}}_{{{i}}}\right) \circ \sigma\left(\mathbf{{Z}}_{{{i}}}\right)" for i in range(1, 9))),
]
EXTRA_MACROS = {"\\softmax": "\\operatorname{softmax}", "\\step": "\\operatorname{step}"}


def load_sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def synthetic_export(n: int = 150) -> dict[str, Any]:
    """An export of `n` verified rules built from the sample's, spread over every real
    section, with varied ids (long, dotted, digits), titles and formulas."""
    sample = load_sample()
    sections = yaml.safe_load((ROOT / "rules" / "_sections.yaml").read_text(encoding="utf-8"))
    export = copy.deepcopy(sample)
    export["site_url"] = URL
    export["macros"] = {**sample["macros"], **EXTRA_MACROS}
    export["sections"] = [{"slug": s["slug"], "title": s["title"], "summary": s.get("summary", ""),
                           "order": 10 * (i + 1), "count": 0} for i, s in enumerate(sections)]
    words = ["efficient", "affine", "office", "flow", "fluffy", "first", "final", "softmax"]
    rules = []
    for i in range(n):
        base = copy.deepcopy(sample["rules"][i % len(sample["rules"])])
        section = export["sections"][i % len(sections)]
        if i % 37 == 0:
            rid = f"chain-rule-total-derivative-single-{i:03d}"
        elif i % 11 == 0:
            rid = f"norm.l2-squared.x-{i}"
        else:
            rid = f"{section['slug']}-{base['id']}-{i}"
        base["id"] = rid
        base["path"] = f"rules/{rid}/"
        base["section"] = section["slug"]
        base["title"] = f"{base['title']}, {words[i % len(words)]} case {i}"
        lhs, rhs = FORMULAS[-1] if i % 25 == 24 else FORMULAS[i % (len(FORMULAS) - 1)]
        base["latex"].update({"derivative": lhs, "numerator": rhs, "denominator": f"\\left({rhs}\\right)^{{\\top}}"})
        base["conditions"] = ["none", "A symmetric", "X invertible, entries positive"][i % 3]
        section["count"] += 1
        rules.append(base)
    export["rules"] = rules
    export["counts"] = {"verified": n, "refuted": 0, "undecided": 0, "total": n}
    return export


def with_rule(export: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `export` whose first rule has `changes` applied."""
    changed = copy.deepcopy(export)
    changed["rules"][0].update(changes)
    return changed


def sheet_of(export: dict[str, Any], ids: list[str], **fields: Any) -> Sheet:
    """A cards sheet of `ids` under one heading."""
    base = Sheet(source="test.yaml", title="Test sheet", subtitle="", layout="numerator", paper="a4",
                 orientation="landscape", style="cards", columns=3, details=False, pages=None,
                 groups=(Group("Group", "", False, tuple(ids)),))
    return Sheet(**{**base.__dict__, **fields})


# ---------------------------------------------------------------------------------------
# Rendering (pure)


def test_reference_links_every_rule_to_its_page_under_the_site_address() -> None:
    """Every rule of the sample appears in the reference, its id linked to <site_url>rules/<id>/."""
    export = load_sample()
    export["site_url"] = URL
    tex = render_tex(export)
    for rule in export["rules"]:
        assert f"% rule: {rule['id']}\n" in tex
        assert f"\\mccard}}{{{URL}rules/{rule['id']}/}}{{{rule['id']}}}" in tex.replace("\\begin{mccard", "\\mccard")


def test_without_a_site_address_links_are_relative_and_no_host_is_printed() -> None:
    """No site_url: each id links to ../rules/<id>/ (the site's pdf/ folder), and no http address is printed."""
    export = load_sample()
    export["site_url"] = ""
    tex = render_tex(export)
    assert "{../rules/trace-axb/}{trace-axb}" in tex
    assert "http" not in tex.split("% ---- end of macros ----")[1]
    assert "example.org" not in tex
    assert "rules/\\textless{}id\\textgreater{}/ on the mcref site" in tex


def test_render_prints_the_layout_in_force() -> None:
    """The numerator sheet prints latex.numerator and says so; the denominator one likewise."""
    export = load_sample()
    numerator = render_tex(export)
    denominator = render_tex(export, layout="denominator")
    assert r"{\mathbf{B} \mathbf{A}}" in numerator and r"{\mathbf{A}^{\top} \mathbf{B}^{\top}}" not in numerator
    assert r"{\mathbf{A}^{\top} \mathbf{B}^{\top}}" in denominator
    assert "{\\large\\bfseries Numerator layout}" in numerator
    assert "{\\large\\bfseries Denominator layout}" in denominator
    assert "\\textbf{Denominator layout} (\\emph{not} the paper's)" in denominator
    assert "result $p{\\times}n$" in numerator and "result $n{\\times}p$" in denominator


def test_render_emits_the_export_macros() -> None:
    """The export's macros become \\newcommand lines in the preamble, with their arity."""
    export = load_sample()
    export["macros"]["\\norm"] = "\\left\\lVert #1 \\right\\rVert"
    tex = render_tex(export)
    assert "\\newcommand{\\tr}{\\operatorname{tr}}\n" in tex
    assert "\\newcommand{\\norm}[1]{\\left\\lVert #1 \\right\\rVert}\n" in tex


def test_render_is_deterministic() -> None:
    """Rendering twice gives the same text."""
    assert render_tex(load_sample()) == render_tex(load_sample())


def test_where_lines_print_under_the_formula() -> None:
    """A rule with named intermediates prints them as a where line, in both styles."""
    export = load_sample()
    export["rules"][1]["latex"]["where"] = [{"name": "\\mathbf{P}", "value": "\\softmax\\left(\\mathbf{S}\\right)"},
                                            {"name": "\\mathrm{d}\\mathbf{P}", "value": "\\mathbf{G} \\mathbf{V}^{\\top}"}]
    export["macros"]["\\softmax"] = "\\operatorname{softmax}"
    cards = render_sheet(export, sheet_of(export, ["trace-axb"]))
    assert "\\mcwhere{\\mcwhereitem{\\mathbf{P}}{\\softmax\\left(\\mathbf{S}\\right)},\\hskip 0.6em plus 0.3em\\relax " \
           "\\mcwhereitem{\\mathrm{d}\\mathbf{P}}{\\mathbf{G} \\mathbf{V}^{\\top}}}" in cards
    table = render_sheet(export, sheet_of(export, ["trace-axb"], style="table", columns=1, details=True))
    assert "{$\\displaystyle \\mathbf{P} = \\softmax\\left(\\mathbf{S}\\right)$,\\enspace $\\displaystyle \\mathrm{d}\\mathbf{P}" in table


def test_the_verification_mark_follows_the_scope() -> None:
    """A rule proved for every size gets the all-sizes mark, others the listed-sizes mark; the reference prints
    the engine's statement under a rule verified at listed sizes only, the legend counts the proved rules."""
    export = load_sample()
    old = render_tex(export)  # an export from before the all-sizes engine: listed marks, no statements
    assert "\\mcmarkall{} proved for every size;" in old and "\\mcstatement{" not in old
    export["rules"][0]["verification"].update(scope="all-sizes", statement="Proved for every size (exact)")
    export["rules"][1]["verification"].update(scope="listed-sizes", statement="Verified at n = 2 and 3: 50% of it")
    tex = render_tex(export)
    first, second = tex.split("% rule: trace-axb")
    assert "\\mcmarkall{}" in first.split("% rule: elementwise-hadamard-x")[1]
    assert "\\mcmarklisted{}" in second
    assert "\\mcstatement{Verified at n = 2 and 3: 50\\% of it}" in second and "Proved for every size (exact)" not in tex
    assert "\\mcmarkall{} proved for every size (1 of 2 here)" in tex
    cards = render_sheet(export, sheet_of(export, ["elementwise-hadamard-x", "trace-axb"]))
    assert "\\mcstatement" not in cards.split("% ---- end of macros ----")[1].split("\\begin{document}")[1]


def test_titles_with_math_are_typeset() -> None:
    """A title's $...$ math (seam 6) is typeset; the text around it is escaped."""
    export = with_rule(load_sample(), title="Quadratic form $\\mathbf{x}^{\\top}\\mathbf{A}\\mathbf{x}$, 100% by x")
    tex = render_tex(export)
    assert "Quadratic form $\\mathbf{x}^{\\top}\\mathbf{A}\\mathbf{x}$, 100\\% by x" in tex
    with pytest.raises(PdfError, match=r"rule elementwise-hadamard-x: title: .*forbidden command '\\\\input'"):
        render_tex(with_rule(load_sample(), title="bad $\\input{x}$"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#$%&_{}~^\\", r"\#\$\%\&\_\textbraceleft{}\textbraceright{}\textasciitilde{}\textasciicircum{}\textbackslash{}"),
        (r"\input{/etc/passwd}", r"\textbackslash{}input\textbraceleft{}/etc/passwd\textbraceright{}"),
        ("w-x << y", r"w-x \textless{}\textless{} y"),
        ("a--b '' ,,", r"a-{}-b '{}' ,{},"),
        ("A\u1d40 \u2299 B, \u03c3(z)", r"A\ensuremath{^{\top}} \ensuremath{\odot} B, \ensuremath{\sigma}(z)"),
        ("Schur's r\u00e9sum\u00e9 @home", "Schur's r\u00e9sum\u00e9 {@}home"),
    ],
)
def test_latex_escape(text: str, expected: str) -> None:
    """latex_escape turns every TeX special into a command that prints it."""
    assert latex_escape(text) == expected


def test_latex_escape_refuses_what_pdflatex_cannot_print() -> None:
    """A character outside the supported set is an error naming it, not a LaTeX crash."""
    with pytest.raises(ValueError, match=r"character '☃' \(U\+2603\)"):
        latex_escape("snow \u2603")
    with pytest.raises(PdfError, match=r"rule elementwise-hadamard-x: title: .*U\+2603"):
        render_tex(with_rule(load_sample(), title="snow \u2603"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_render_escapes_hostile_text(hostile: str) -> None:
    """A hostile rule title, condition, section title, sheet title, subtitle, heading and note
    reach the source only escaped."""
    export = with_rule(load_sample(), title=hostile.replace("$", "\\$"), conditions=hostile)
    export["sections"][0]["title"] = hostile
    tex = render_tex(export)
    body = tex.split("% ---- end of macros ----")[1]
    assert hostile not in body
    assert "\\input{" not in body and "\\write18" not in body
    assert body.count(latex_escape(hostile)) >= 2
    sheet = Sheet(**{**sheet_of(export, ["trace-axb"]).__dict__, "title": hostile, "subtitle": hostile,
                     "groups": (Group(hostile, hostile, False, ("trace-axb",)),)})
    body = render_sheet(export, sheet).split("% ---- end of macros ----")[1]
    assert hostile not in body and "\\input{" not in body
    assert body.count(latex_escape(hostile)) >= 4


def test_select_refuses_unverified_rules() -> None:
    """A refuted or undecided rule in the selection stops the sheet, naming it."""
    export = load_sample()
    export["rules"][1]["verification"]["status"] = "refuted"
    with pytest.raises(PdfError, match=r"not verified: trace-axb \(refuted\)"):
        select_rules(export)
    with pytest.raises(PdfError, match=r"trace-axb \(refuted\)"):
        render_tex(export)
    with pytest.raises(PdfError, match=r"rule trace-axb \(refuted\)"):
        render_sheet(export, sheet_of(export, ["trace-axb"]))
    del export["rules"][1]["verification"]
    with pytest.raises(PdfError, match=r"trace-axb \(missing\)"):
        render_tex(export)


def test_select_filters_by_section_and_tag() -> None:
    """--section and --tag keep the matching rules, in export order."""
    export = load_sample()
    assert [r["id"] for r in select_rules(export, sections=["traces"])] == ["trace-axb"]
    assert [r["id"] for r in select_rules(export, tags=["hadamard"])] == ["elementwise-hadamard-x"]
    assert [r["id"] for r in select_rules(export, tags=["paper", "trace"])] == ["elementwise-hadamard-x", "trace-axb"]
    with pytest.raises(PdfError, match="no rule matches"):
        select_rules(export, sections=["traces"], tags=["hadamard"])
    tex = render_tex(export, sections=["traces"])
    assert "% rule: trace-axb" in tex and "elementwise-hadamard-x" not in tex
    assert "Matrix calculus: traces" in tex


def test_select_rejects_unknown_section_and_tag() -> None:
    """A mistyped section or tag is an error listing the known ones."""
    export = load_sample()
    with pytest.raises(PdfError, match="unknown section 'trace'; the export has: elementwise, traces"):
        select_rules(export, sections=["trace"])
    with pytest.raises(PdfError, match="unknown tag 'hadamart'"):
        select_rules(export, tags=["hadamart"])


@pytest.mark.parametrize(
    ("formula", "problem"),
    [
        (r"\input{/etc/passwd}", r"forbidden command '\\\\input'"),
        (r"x \immediate\write18{rm}", r"forbidden command '\\\\immediate'"),
        (r"\frac{a}{b", "1 unclosed '{'"),
        (r"a} + {b", "a '}' closes a group"),
        (r"x % comment", r"an unescaped '%'"),
        (r"x $ y", r"an unescaped '\$'"),
        (r"x \end{multicols*}", r"the environment '\\\\end\{multicols\*\}'"),
        (r"\href{http://x}{y}", r"forbidden command '\\\\href'"),
        (r"^^5cinput", "'\\^\\^' character code"),
        ("x \u2603", "a character outside printable ASCII"),
    ],
)
def test_render_refuses_unsafe_formulas(formula: str, problem: str) -> None:
    """An engine formula that could escape its card or touch files is refused, naming the rule."""
    export = load_sample()
    export["rules"][1]["latex"]["numerator"] = formula
    with pytest.raises(PdfError, match=rf"rule trace-axb: latex.numerator: .*{problem}"):
        render_tex(export)


def test_template_prints_only_escaped_values() -> None:
    """A plain string reaching the template is an error, not printed raw."""
    with pytest.raises(TypeError, match="unescaped value"):
        pdf._finalize("\\input{x}")
    assert pdf._finalize(pdf.Tex("\\ok")) == "\\ok"


def test_render_rejects_bad_ids_urls_paths_and_dates() -> None:
    """Ids, the site URL, the rule's path and the build date are checked before they reach TeX."""
    with pytest.raises(PdfError, match="a rule id must match"):
        render_tex(with_rule(load_sample(), id="Bad id}"))
    export = load_sample()
    export["site_url"] = "https://x.org/}\\input{y}/"
    with pytest.raises(PdfError, match="site_url must be"):
        render_tex(export)
    with pytest.raises(PdfError, match="path must be 'rules/elementwise-hadamard-x/'"):
        render_tex(with_rule(load_sample(), path="rules/x}/"))
    export = load_sample()
    export["build_date"] = "today"
    with pytest.raises(PdfError, match="build_date must be YYYY-MM-DD, found 'today'"):
        render_tex(export)


def test_compile_without_latexmk_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no latexmk on PATH, the error names the Debian packages to install."""
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(PdfError) as info:
        compile_pdf(render_tex(load_sample()), tmp_path / "x.pdf", source_date_epoch=EPOCH)
    message = str(info.value)
    assert message.startswith("latexmk not found on PATH")
    assert ("apt-get install -y --no-install-recommends texlive-latex-base texlive-latex-recommended "
            "texlive-latex-extra texlive-fonts-recommended latexmk lmodern") in message


def test_cli_arguments() -> None:
    """`mcref pdf` takes --sheet, --layout, --paper, repeatable --section/--tag and --out."""
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.sheet, args.layout, args.paper, args.sections, args.tags, args.out) == (None,) * 6
    args = parser.parse_args("--sheet s.yaml --layout denominator --paper letter --section a --section b --tag t "
                             "--out x.pdf".split())
    assert (args.sheet, args.layout, args.paper, args.sections, args.tags, args.out) == (
        Path("s.yaml"), "denominator", "letter", ["a", "b"], ["t"], Path("x.pdf"))
    with pytest.raises(SystemExit):
        parser.parse_args(["--layout", "mixed"])


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_reports_errors_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mcref pdf` on an export with an undecided rule prints one error line and exits 1."""
    export = load_sample()
    export["rules"][0]["verification"]["status"] = "undecided"
    assert pdf.run(_args("--out", str(tmp_path / "s.pdf")), export) == 1
    err = capsys.readouterr().err
    assert err.startswith("mcref pdf: error: refusing to print 1 rule(s) that are not verified:")
    assert not (tmp_path / "s.pdf").exists()


def test_cli_sheet_problems_exit_2_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sheet file with an unknown id: its problems on stderr (file:line:col), exit 2, no PDF."""
    sheet = tmp_path / "s.yaml"
    sheet.write_text("title: T\nrules: [trace-axb, trace-abx]\n", encoding="utf-8")
    out = tmp_path / "s.pdf"
    assert pdf.run(_args("--sheet", str(sheet), "--out", str(out)), load_sample()) == 2
    err = capsys.readouterr().err
    assert "s.yaml:2:20: MS013 rules must be the id of a rule (found 'trace-abx'; did you mean 'trace-axb'?)" in err
    assert "Traceback" not in err
    assert not out.exists() and not out.with_suffix(".tex").exists()
    assert pdf.run(_args("--sheet", str(sheet), "--section", "traces"), load_sample()) == 1
    assert "--section and --tag choose rules of the reference" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# Compiling with pdfLaTeX and reading the PDF back


def build(export: dict[str, Any], out: Path, **options: Any) -> Path:
    compile_pdf(render_tex(export, **options), out, source_date_epoch=EPOCH)
    return out


PAGE_SIZES = {"a4": "841.89 x 595.276 pts (A4)", "letter": "792 x 612 pts (letter)"}
# The reference holds at least 25 rules a page (synthetic rules are long-titled, so 20 here).
MAX_PAGES = {"sample": 1, "synthetic": math.ceil(150 / 20)}


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[dict[str, Any], Path]]:
    out = tmp_path_factory.mktemp("references")
    exports = {"sample": load_sample(), "synthetic": synthetic_export(150)}
    return {(name, paper): (export, build(export, out / f"{name}-{paper}.pdf", paper=paper))
            for name, export in exports.items() for paper in ("a4", "letter")}


REFERENCES = [(name, paper) for name in ("sample", "synthetic") for paper in ("a4", "letter")]


@needs_latex
@needs_poppler
@pytest.mark.parametrize("key", REFERENCES, ids=["-".join(k) for k in REFERENCES])
def test_reference_text_has_every_id_and_the_count(references: dict, key: tuple[str, str]) -> None:
    """pdftotext finds every rule id whole, and every page's footer gives the rule count and page."""
    export, path = references[key]
    text = poppler("pdftotext", str(path), "-")
    missing = [r["id"] for r in export["rules"] if not id_pattern(r["id"]).search(text)]
    assert missing == []
    pages = pdf_pages(path)
    counts = re.findall(r"(\d+) rules?, each verified by mcref \(SymPy 1\.14\.0\)", text)
    assert counts == [str(len(export["rules"]))] * pages
    assert re.search(r"mcref 0\.1\.0 · built 2026-11-21( · https?://\S+)?", text)
    assert [int(n) for n in re.findall(r"· page (\d+)$", text, re.M)] == list(range(1, pages + 1))


@needs_latex
@needs_poppler
@pytest.mark.parametrize("key", REFERENCES, ids=["-".join(k) for k in REFERENCES])
def test_reference_page_size_count_and_fonts(references: dict, key: tuple[str, str]) -> None:
    """The reference is landscape on the asked paper, within its page bound, every font embedded Type 1."""
    _, path = references[key]
    info = poppler("pdfinfo", str(path))
    assert re.search(r"Page size:\s+" + re.escape(PAGE_SIZES[key[1]]), info), info
    assert 1 <= pdf_pages(path) <= MAX_PAGES[key[0]]
    assert "CreationDate:    Sat Nov 21 00:00:00 2026 UTC" in info
    fonts = poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "no fonts listed"
    assert [line for line in fonts if line.split()[-5] != "yes"] == []
    assert all("Type 1" in line for line in fonts)


@needs_latex
@needs_poppler
def test_pdf_prints_hostile_titles_literally(tmp_path: Path) -> None:
    """Hostile titles are printed character for character, not executed."""
    export = synthetic_export(len(HOSTILE))
    for rule, hostile in zip(export["rules"], HOSTILE, strict=True):
        rule["title"] = hostile.replace("$", "\\$")
        rule["sources"] = []
    text = poppler("pdftotext", str(build(export, tmp_path / "h.pdf")), "-")
    text = text.replace("\u2019", "'").replace("\u2018", "`")
    for hostile in HOSTILE:
        assert hostile in text
    assert "root:" not in text


@needs_latex
def test_pdf_is_reproducible(tmp_path: Path) -> None:
    """Two builds of the same export, in different folders, give identical bytes."""
    export = synthetic_export(40)
    first = build(export, tmp_path / "one" / "s.pdf")
    second = build(export, tmp_path / "two" / "other-name.pdf")
    assert first.read_bytes() == second.read_bytes()
    assert b"/ID" not in first.read_bytes()


@needs_latex
def test_pdf_keeps_the_tex_beside_it_and_counts_pages(tmp_path: Path) -> None:
    """compile_pdf writes the PDF, keeps the LaTeX source next to it and returns the page count."""
    tex = render_tex(load_sample())
    out = tmp_path / "deep" / "sheet.pdf"
    assert compile_pdf(tex, out, source_date_epoch=EPOCH) == 1
    assert out.read_bytes().startswith(b"%PDF-")
    assert out.with_suffix(".tex").read_text(encoding="utf-8") == tex


@needs_latex
def test_latex_error_names_the_rule(tmp_path: Path) -> None:
    """A formula pdfLaTeX rejects is reported with its line, message and rule id."""
    export = synthetic_export(20)
    bad = export["rules"][13]
    bad["latex"]["numerator"] = r"\mathbf{x} \undefinedmacro"
    with pytest.raises(PdfError) as info:
        build(export, tmp_path / "bad.pdf")
    message = str(info.value)
    assert f"in rule {bad['id']}: Undefined control sequence." in message
    assert "\\undefinedmacro" in message
    assert message.count("\n") < 8, message
    assert (tmp_path / "bad.tex").exists() and (tmp_path / "bad.log").exists()
    assert not (tmp_path / "bad.pdf").exists()


@needs_latex
def test_latex_error_in_macros_names_the_macros(tmp_path: Path) -> None:
    """A macro of the export that clashes with LaTeX is reported as coming from the macros."""
    export = load_sample()
    export["macros"]["\\det"] = "\\operatorname{det}"
    with pytest.raises(PdfError, match=r"in the macros of the export \(export\['macros'\]\): "
                       r"LaTeX Error: Command \\det already defined"):
        build(export, tmp_path / "m.pdf")


@needs_latex
def test_a_formula_too_wide_for_its_column_is_kept_inside_it(tmp_path: Path) -> None:
    """One long product that cannot break is scaled to the column, not printed across its neighbour."""
    export = synthetic_export(3)
    long = r" \mathbf{A}_{1}".join([r"\left(\mathbf{X}^{\top} \mathbf{W} \mathbf{Y}\right)"] * 30)
    export["rules"][1]["latex"]["numerator"] = long
    tex = render_sheet(export, sheet_of(export, [r["id"] for r in export["rules"]]))
    out = tmp_path / "wide.pdf"
    compile_pdf(tex, out, source_date_epoch=EPOCH)
    log = (out.parent / "wide.tex").read_text(encoding="utf-8")
    assert long in log
    # pdfLaTeX would report "Overfull \hbox" for a formula sticking out; compile again to read the log.
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "w.tex").write_text(tex, encoding="utf-8")
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "w.tex"], cwd=tmp,
                       capture_output=True, check=False)
        overfull = [ln for ln in Path(tmp, "w.log").read_text(errors="replace").splitlines() if "Overfull \\hbox" in ln]
    assert [ln for ln in overfull if float(re.search(r"\(([\d.]+)pt too wide", ln).group(1)) > 1] == []  # type: ignore[union-attr]


@needs_latex
def test_cli_run_writes_the_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mcref pdf --section traces --out FILE` writes a one-section reference and says where."""
    out = tmp_path / "t.pdf"
    assert pdf.run(_args("--section", "traces", "--layout", "denominator", "--out", str(out)), load_sample()) == 0
    assert capsys.readouterr().out == f"wrote {out} (1 rule, 1 page, denominator layout, a4)\n"
    text = poppler("pdftotext", str(out), "-")
    assert "trace-axb" in text and "elementwise-hadamard-x" not in text
    assert "Denominator layout" in text and "1 rule, each verified" in text


# ---------------------------------------------------------------------------------------
# The real corpus: the cheat sheet and the complete reference


@pytest.fixture(scope="module")
def corpus_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Sheet, Path]]:
    """The cheat sheet in its 4 variants and the reference in its 4 variants, of the real corpus."""
    export = real_export()
    out = tmp_path_factory.mktemp("corpus")
    sheet = read_sheet(CHEATSHEET, export)
    made: dict[str, tuple[Sheet, Path]] = {}
    for paper in ("a4", "letter"):
        for layout in ("numerator", "denominator"):
            variant = Sheet(**{**sheet.__dict__, "paper": paper, "layout": layout})
            path = out / f"cheatsheet-{paper}-{layout}.pdf"
            compile_pdf(render_sheet(export, variant), path, source_date_epoch=EPOCH)
            made[path.stem] = (variant, path)
            ref = pdf.reference_for(export, layout=layout, paper=paper)
            path = out / f"reference-{paper}-{layout}.pdf"
            compile_pdf(render_sheet(export, ref), path, source_date_epoch=EPOCH)
            made[path.stem] = (ref, path)
    return made


VARIANTS = [f"{paper}-{layout}" for paper in ("a4", "letter") for layout in ("numerator", "denominator")]


@needs_latex
@needs_poppler
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_cheat_sheet_is_one_sheet_of_paper(corpus_pdfs: dict, variant: str) -> None:
    """The shipped cheat sheet takes exactly two pages, holds every id of its sheet file, embeds its fonts."""
    sheet, path = corpus_pdfs[f"cheatsheet-{variant}"]
    assert pdf_pages(path) == 2
    assert 70 <= len(sheet.ids) <= 100, f"the cheat sheet holds {len(sheet.ids)} rules"
    text = poppler("pdftotext", str(path), "-")
    assert [rid for rid in sheet.ids if not id_pattern(rid).search(text)] == []
    fonts = poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts and [line for line in fonts if line.split()[-5] != "yes"] == []
    info = poppler("pdfinfo", str(path))
    paper = variant.split("-")[0]
    assert re.search(r"Page size:\s+" + re.escape(PAGE_SIZES[paper]), info), info
    layout = variant.split("-")[1]
    assert f"{layout.capitalize()} layout" in text


@needs_latex
@needs_poppler
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_reference_holds_every_verified_rule_densely(corpus_pdfs: dict, variant: str) -> None:
    """The complete reference holds every verified rule's id, at 25 rules a page or more."""
    sheet, path = corpus_pdfs[f"reference-{variant}"]
    export = real_export()
    verified = [r["id"] for r in export["rules"] if r["verification"]["status"] == "verified"]
    assert sheet.ids == verified
    text = poppler("pdftotext", str(path), "-")
    assert [rid for rid in verified if not id_pattern(rid).search(text)] == []
    assert len(verified) / pdf_pages(path) >= 25, f"{pdf_pages(path)} pages for {len(verified)} rules"


def test_the_cheat_sheet_has_no_calculus_1_beyond_one_compact_block_and_no_worked_examples() -> None:
    """Scalar rules only in one compact group; no worked example (tag worked-example) anywhere."""
    export = real_export()
    sheet = read_sheet(CHEATSHEET, export)
    by_id = {r["id"]: r for r in export["rules"]}
    scalar_groups = [g for g in sheet.groups if any(by_id[i]["section"] == "scalar" for i in g.ids)]
    assert len(scalar_groups) == 1 and scalar_groups[0].compact
    assert [i for i in sheet.ids if "worked-example" in by_id[i]["tags"]] == []


def test_the_reference_sheet_follows_the_teaching_order() -> None:
    """The reference lists every rule, section by section, in the export's (teaching) order."""
    export = real_export()
    sheet = reference_sheet(export)
    assert sheet.ids == [r["id"] for r in export["rules"]]
    assert [g.heading for g in sheet.groups] == [s["title"] for s in export["sections"] if s.get("count", 1)]


@needs_latex
@pytest.mark.parametrize("name", ["cheatsheet-a4-numerator", "cheatsheet-letter-denominator",
                                  "reference-a4-numerator", "reference-letter-denominator"])
def test_nothing_sticks_out_of_its_column(corpus_pdfs: dict, name: str, tmp_path: Path) -> None:
    """pdfLaTeX reports no overfull line (a formula or title printed across its neighbour) in the real sheets."""
    import shutil
    import subprocess

    _, path = corpus_pdfs[name]
    shutil.copyfile(path.with_suffix(".tex"), tmp_path / "s.tex")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape", "s.tex"], cwd=tmp_path,
                   capture_output=True, check=False, timeout=300)
    log = (tmp_path / "s.log").read_text(encoding="utf-8", errors="replace")
    overfull = [ln for ln in log.splitlines() if "Overfull \\hbox" in ln
                and float(re.search(r"\(([\d.]+)pt too wide", ln).group(1)) > 1]  # type: ignore[union-attr]
    assert overfull == []


@needs_latex
@pytest.mark.skipif(shutil.which("pdftohtml") is None, reason="poppler-utils' pdftohtml not installed")
def test_the_reference_has_an_outline_of_sections_and_rules(corpus_pdfs: dict, tmp_path: Path) -> None:
    """The reference's PDF outline (bookmarks) lists every section, and under it every rule with its id."""
    import subprocess

    sheet, path = corpus_pdfs["reference-a4-numerator"]
    subprocess.run(["pdftohtml", "-i", "-q", str(path), str(tmp_path / "r")], check=True, capture_output=True)
    html = (tmp_path / "rs.html").read_text(encoding="utf-8", errors="replace")
    outline = html.split('name="outline"', 1)[1]
    entries = re.findall(r'<li><a href="rs.html#\d+">([^<]*)</a>', outline)
    assert [e for e in entries if not e.endswith(")")] == [g.heading for g in sheet.groups]
    assert [e.rsplit("(", 1)[1][:-1] for e in entries if e.endswith(")")] == sheet.ids


@pytest.mark.parametrize(("text", "expected"), [
    ("Bias trick \u0175 \u00b7 x\u0302", r"Bias trick \u0175 \ensuremath{\cdot} \ensuremath{\hat{x}}"),
    ("\u03c3\u0302 and y\u0304 and \u0233", r"\ensuremath{\hat{\sigma}} and \ensuremath{\bar{y}} and \ensuremath{\bar{y}}"),
])
def test_latex_escape_puts_combining_accents_on_their_letter(text: str, expected: str) -> None:
    """title_text writes x-hat as x + U+0302: it becomes \\hat{x} (and a precomposed letter is decomposed first)."""
    assert latex_escape(text) == expected.replace("\\u0175", "\u0175")
