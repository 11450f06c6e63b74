"""The printable cheat sheet: rendering (pure) and compiling with real pdfLaTeX."""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import pdf
from generator.pdf import PdfError, compile_pdf, latex_escape, render_tex, select_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "export-sample.json"
EPOCH = 1_795_219_200  # 2026-11-21T00:00:00Z

HOSTILE = [
    r"\input{/etc/passwd}",
    r"\write18{rm -rf /}",
    "#$%&_{}~^\\",
    r"\end{longtable}\end{document}",
    "a--b---c << >> `` '' !` ?` ~~ ^^41",
]

# Formulas as the engine prints them (generator/latex.py): fractions, \left(...\right),
# \boldsymbol, a matrix with '&', a differential, and one too long for one line.
FORMULAS = [
    (
        r"\frac{\partial \mathbf{x}^{\top} \mathbf{A} \mathbf{x}}{\partial \mathbf{x}}",
        r"\mathbf{x}^{\top} \left(\mathbf{A} + \mathbf{A}^{\top}\right)",
    ),
    (
        r"\frac{\partial \softmax\left(\mathbf{z}\right)}{\partial \mathbf{z}}",
        r"\diag\left(\softmax\left(\mathbf{z}\right)\right) - \softmax\left(\mathbf{z}\right) "
        r"\softmax\left(\mathbf{z}\right)^{\top}",
    ),
    (
        r"\frac{\partial \boldsymbol{\mu}^{\top} \boldsymbol{\Sigma}^{-1} \boldsymbol{\mu}}"
        r"{\partial \boldsymbol{\mu}}",
        r"2 \boldsymbol{\mu}^{\top} \boldsymbol{\Sigma}^{-1}",
    ),
    (
        r"\frac{\partial f}{\partial \left(x, y\right)}",
        r"\begin{bmatrix} 6 y x & 3 x^{2} \end{bmatrix}",
    ),
    (r"\mathrm{d}\left(\mathbf{X}^{-1}\right)", r"-\mathbf{X}^{-1} \mathrm{d}\mathbf{X} \mathbf{X}^{-1}"),
    (r"\frac{\partial \max\left(0, z\right)}{\partial z}", r"\step\left(z\right)"),
    (
        r"\frac{\partial \left\lVert \mathbf{X} \mathbf{W} - \mathbf{Y} \right\rVert_{F}^{2}}"
        r"{\partial \mathbf{W}}",
        " + ".join(
            rf"2 \mathbf{{X}}_{{{i}}}^{{\top}} \left(\mathbf{{X}}_{{{i}}} \mathbf{{W}} - "
            rf"\mathbf{{Y}}_{{{i}}}\right) \circ \sigma\left(\mathbf{{Z}}_{{{i}}}\right)"
            for i in range(1, 9)
        ),
    ),
]

EXTRA_MACROS = {
    "\\softmax": "\\operatorname{softmax}",
    "\\step": "\\operatorname{step}",
}


def load_sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def synthetic_export(n: int = 150) -> dict[str, Any]:
    """An export of `n` verified rules built from the sample's, spread over every real
    section, with varied ids (long, dotted, digits), titles and formulas."""
    sample = load_sample()
    sections = yaml.safe_load((ROOT / "rules" / "_sections.yaml").read_text(encoding="utf-8"))
    export = copy.deepcopy(sample)
    export["macros"] = {**sample["macros"], **EXTRA_MACROS}
    export["sections"] = [
        {**s, "order": 10 * (i + 1), "count": 0} for i, s in enumerate(sections)
    ]
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
        base["section"] = section["slug"]
        base["title"] = f"{base['title']}, {words[i % len(words)]} case {i}"
        # The long formula (the last) is rare, as in the corpus.
        lhs, rhs = FORMULAS[-1] if i % 25 == 24 else FORMULAS[i % (len(FORMULAS) - 1)]
        base["latex"].update(
            {"derivative": lhs, "numerator": rhs, "denominator": f"\\left({rhs}\\right)^{{\\top}}"}
        )
        base["conditions"] = ["none", "A symmetric", "X invertible, entries positive"][i % 3]
        section["count"] += 1
        rules.append(base)
    export["rules"] = rules
    export["counts"] = {"verified": n, "refuted": 0, "undecided": 0, "total": n}
    return export


def id_pattern(rule_id: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.-])" + re.escape(rule_id) + r"(?![\w.-])")


def with_rule(export: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `export` whose first rule has `changes` applied."""
    changed = copy.deepcopy(export)
    changed["rules"][0].update(changes)
    return changed


# ---------------------------------------------------------------------------------------
# Rendering (pure)


def test_render_contains_every_rule_id_with_its_link() -> None:
    """Every rule of the sample appears in the source, linked to <site_url><section>/#<id>."""
    export = load_sample()
    tex = render_tex(export)
    for rule in export["rules"]:
        assert f"% rule: {rule['id']}\n" in tex
        assert f"\\href{{https://mcref.example.org/{rule['section']}/\\#{rule['id']}}}" in tex


def test_render_prints_the_layout_in_force() -> None:
    """The numerator sheet prints latex.numerator and says so; the denominator one likewise."""
    export = load_sample()
    numerator = render_tex(export)
    denominator = render_tex(export, layout="denominator")
    assert r"\mcformula{\frac{\partial \tr(\mathbf{A} \mathbf{X} \mathbf{B})}{\partial \mathbf{X}}}{\mathbf{B} \mathbf{A}}" in numerator
    assert r"{\mathbf{A}^{\top} \mathbf{B}^{\top}}" in denominator
    assert "{\\large\\bfseries Numerator layout}" in numerator
    assert "{\\large\\bfseries Denominator layout}" in denominator
    assert "Denominator layout (NOT the paper's)" in denominator
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#$%&_{}~^\\", r"\#\$\%\&\_\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}"),
        (r"\input{/etc/passwd}", r"\textbackslash{}input\{/etc/passwd\}"),
        (r"\write18{rm}", r"\textbackslash{}write18\{rm\}"),
        ("w-x << y", r"w-{}x \textless{}\textless{} y"),
        ("A\u1d40 \u2299 B, \u03c3(z)", r"A\textsuperscript{T} \ensuremath{\odot} B, \ensuremath{\sigma}(z)"),
        ("Schur's r\u00e9sum\u00e9", "Schur'{}s r\u00e9sum\u00e9"),
    ],
)
def test_latex_escape(text: str, expected: str) -> None:
    """latex_escape turns every TeX special into a command that prints it."""
    assert latex_escape(text) == expected


def test_latex_escape_refuses_what_pdflatex_cannot_print() -> None:
    """A character outside the supported set is an error naming it, not a LaTeX crash."""
    with pytest.raises(PdfError, match=r"character '☃' \(U\+2603\)"):
        latex_escape("snow \u2603")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_render_escapes_hostile_text(hostile: str) -> None:
    """A hostile title, condition or section title reaches the source only escaped."""
    export = with_rule(load_sample(), title=hostile, conditions=hostile)
    export["sections"][0]["title"] = hostile
    tex = render_tex(export)
    body = tex.split("% ---- end of macros ----")[1]
    assert hostile not in body
    assert "\\input{" not in body and "\\write18" not in body
    assert body.count(latex_escape(hostile)) == 3


def test_select_refuses_unverified_rules() -> None:
    """A refuted or undecided rule in the selection stops the sheet, naming it."""
    export = load_sample()
    export["rules"][1]["verification"]["status"] = "refuted"
    with pytest.raises(PdfError, match=r"not verified: trace-axb \(refuted\)"):
        select_rules(export)
    with pytest.raises(PdfError, match=r"trace-axb \(refuted\)"):
        render_tex(export)
    del export["rules"][1]["verification"]
    with pytest.raises(PdfError, match=r"trace-axb \(missing\)"):
        render_tex(export)


def test_select_filters_by_section_and_tag() -> None:
    """--section and --tag keep the matching rules, in export order."""
    export = load_sample()
    assert [r["id"] for r in select_rules(export, sections=["traces"])] == ["trace-axb"]
    assert [r["id"] for r in select_rules(export, tags=["hadamard"])] == ["elementwise-hadamard-x"]
    assert [r["id"] for r in select_rules(export, tags=["paper", "trace"])] == [
        "elementwise-hadamard-x",
        "trace-axb",
    ]
    with pytest.raises(PdfError, match="no rule matches"):
        select_rules(export, sections=["traces"], tags=["hadamard"])


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
        (r"x \\end{longtable}", "forbidden command"),
        (r"^^5cinput", "'\\^\\^' character code"),
    ],
)
def test_render_refuses_unsafe_formulas(formula: str, problem: str) -> None:
    """An engine formula that could escape its cell or touch files is refused, naming the rule."""
    export = load_sample()
    export["rules"][1]["latex"]["numerator"] = formula
    with pytest.raises(PdfError, match=rf"rule trace-axb: latex.numerator: .*{problem}"):
        render_tex(export)


def test_template_prints_only_escaped_values() -> None:
    """A plain string reaching the template is an error, not printed raw."""
    with pytest.raises(TypeError, match="unescaped value"):
        pdf._finalize("\\input{x}")
    assert pdf._finalize(pdf.Tex("\\ok")) == "\\ok"


def test_render_rejects_bad_ids_urls_and_dates() -> None:
    """Ids, the site URL and the build date are checked before they reach TeX."""
    with pytest.raises(PdfError, match="a rule id must match"):
        render_tex(with_rule(load_sample(), id="Bad id}"))
    export = load_sample()
    export["site_url"] = "https://x.org/}\\input{y}/"
    with pytest.raises(PdfError, match="site_url must be"):
        render_tex(export)
    export = load_sample()
    export["build_date"] = "today"
    with pytest.raises(PdfError, match="build_date must be YYYY-MM-DD, found 'today'"):
        render_tex(export)


def test_compile_without_latexmk_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no latexmk on PATH, the error names the Debian packages to install."""
    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(PdfError) as info:
        compile_pdf(render_tex(load_sample()), tmp_path / "x.pdf", source_date_epoch=EPOCH)
    message = str(info.value)
    assert message.startswith("latexmk not found on PATH")
    assert (
        "apt-get install -y --no-install-recommends texlive-latex-base texlive-latex-recommended "
        "texlive-latex-extra texlive-fonts-recommended latexmk lmodern" in message
    )


def test_cli_arguments() -> None:
    """`mcref pdf` takes --layout, --paper, repeatable --section/--tag and --out."""
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.layout, args.paper, args.sections, args.tags, args.out) == (
        "numerator",
        "a4",
        None,
        None,
        None,
    )
    args = parser.parse_args(
        "--layout denominator --paper letter --section a --section b --tag t --out x.pdf".split()
    )
    assert (args.layout, args.paper, args.sections, args.tags, args.out) == (
        "denominator",
        "letter",
        ["a", "b"],
        ["t"],
        Path("x.pdf"),
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--layout", "mixed"])


def test_cli_reports_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mcref pdf` on an export with a refuted rule prints one error line and exits 1."""
    export = load_sample()
    export["rules"][0]["verification"]["status"] = "undecided"
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path / "s.pdf")])
    assert pdf.run(args, export) == 1
    err = capsys.readouterr().err
    assert err.startswith("mcref pdf: error: refusing to print 1 rule(s) that are not verified:")
    assert not (tmp_path / "s.pdf").exists()


# ---------------------------------------------------------------------------------------
# Compiling with pdfLaTeX and reading the PDF back

needs_latex = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
    reason="latexmk/pdflatex not installed (Debian: texlive-latex-base "
    "texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk lmodern)",
)
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)


def poppler(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build(export: dict[str, Any], out: Path, **options: Any) -> Path:
    compile_pdf(render_tex(export, **options), out, source_date_epoch=EPOCH)
    return out


PAGE_SIZES = {"a4": "841.89 x 595.276 pts (A4)", "letter": "792 x 612 pts (letter)"}
# The sheet is dense: the sample fits on one page; 150 rules on at most 11 (measured: A4 10, letter 11).
MAX_PAGES = {"sample": 1, "synthetic": 11}


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[dict[str, Any], Path]]:
    if shutil.which("latexmk") is None:
        pytest.skip("latexmk not installed")
    out = tmp_path_factory.mktemp("sheets")
    exports = {"sample": load_sample(), "synthetic": synthetic_export(150)}
    return {
        (name, paper): (export, build(export, out / f"{name}-{paper}.pdf", paper=paper))
        for name, export in exports.items()
        for paper in ("a4", "letter")
    }


SHEETS = [(name, paper) for name in ("sample", "synthetic") for paper in ("a4", "letter")]


@needs_latex
@needs_poppler
@pytest.mark.parametrize("key", SHEETS, ids=["-".join(k) for k in SHEETS])
def test_pdf_text_has_every_id_and_the_count(sheets: dict, key: tuple[str, str]) -> None:
    """pdftotext finds every rule id whole, and every page's footer gives the rule count."""
    export, path = sheets[key]
    text = poppler("pdftotext", str(path), "-")
    missing = [r["id"] for r in export["rules"] if not id_pattern(r["id"]).search(text)]
    assert missing == []
    pages = int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(path))).group(1))  # type: ignore[union-attr]
    counts = re.findall(r"(\d+) rules, each verified with SymPy 1\.14\.0", text)
    assert counts == [str(len(export["rules"]))] * pages
    assert re.search(r"mcref 0\.1\.0 · built 2026-11-21 · https://mcref\.example\.org/", text)
    assert [int(n) for n in re.findall(r"^page (\d+)$", text, re.M)] == list(range(1, pages + 1))


@needs_latex
@needs_poppler
@pytest.mark.parametrize("key", SHEETS, ids=["-".join(k) for k in SHEETS])
def test_pdf_page_size_count_and_fonts(sheets: dict, key: tuple[str, str]) -> None:
    """The sheet is landscape on the asked paper, within its page bound, every font embedded."""
    _, path = sheets[key]
    info = poppler("pdfinfo", str(path))
    assert re.search(r"Page size:\s+" + re.escape(PAGE_SIZES[key[1]]), info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= MAX_PAGES[key[0]]
    assert "CreationDate:    Sat Nov 21 00:00:00 2026 UTC" in info
    fonts = poppler("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "no fonts listed"
    not_embedded = [line for line in fonts if line.split()[-5] != "yes"]
    assert not_embedded == []
    assert all("Type 1" in line for line in fonts)


@needs_latex
@needs_poppler
def test_pdf_prints_hostile_titles_literally(tmp_path: Path) -> None:
    """Hostile titles are printed character for character, not executed."""
    export = synthetic_export(len(HOSTILE))
    for rule, hostile in zip(export["rules"], HOSTILE, strict=True):
        rule["title"] = hostile
        rule["sources"] = []
    text = poppler("pdftotext", str(build(export, tmp_path / "h.pdf")), "-")
    text = text.replace("\u2019", "'")  # the apostrophe is typeset curly
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
def test_pdf_keeps_the_tex_beside_it(tmp_path: Path) -> None:
    """compile_pdf writes the PDF and keeps the LaTeX source next to it."""
    tex = render_tex(load_sample())
    out = tmp_path / "deep" / "sheet.pdf"
    compile_pdf(tex, out, source_date_epoch=EPOCH)
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
def test_cli_run_writes_the_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mcref pdf --section traces --out FILE` writes a one-section sheet and says where."""
    parser = argparse.ArgumentParser()
    pdf.add_arguments(parser)
    out = tmp_path / "t.pdf"
    args = parser.parse_args(["--section", "traces", "--layout", "denominator", "--out", str(out)])
    assert pdf.run(args, load_sample()) == 0
    assert capsys.readouterr().out == f"wrote {out} (1 rule, denominator layout, a4)\n"
    if shutil.which("pdftotext"):
        text = poppler("pdftotext", str(out), "-")
        assert "trace-axb" in text and "elementwise-hadamard-x" not in text
        assert "Denominator layout" in text and "1 rule, each verified" in text
