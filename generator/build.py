"""Stage 7, write: `mcref build` and `mcref serve`.

A build checks every rule, then writes build/rules.json, build/pdf/*.pdf (with their .tex)
and build/site into a staging folder beside build/, and swaps it in only when everything
succeeded: a failed build leaves the previous good build/ whole. Nothing is done twice: the
verdict cache skips unchanged rules and the PDF cache skips an unchanged .tex.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from generator.cache import default_cache_dir
from generator.load import read_yaml
from generator.pipeline import DEFAULT_RULES, ROOT, export_rules, source_date_epoch
from generator.problems import BuildFailed
from generator.validate import latex_problems

PAPERS = ("a4", "letter")
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk lmodern"
ERRATA = ROOT / "errata" / "paper.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rules folder (default: rules/)")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder (default: build/)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF cheat sheets")


def _pdf_cache_dir() -> Path:
    """Beside the verdicts by default (~/.cache/mcref/pdf); inside MCREF_CACHE_DIR when that is set."""
    if os.environ.get("MCREF_CACHE_DIR"):
        return Path(os.environ["MCREF_CACHE_DIR"]) / "pdf"
    return default_cache_dir().parent / "pdf"


def errata_path(rules_dir: Path) -> Path:
    """The errata that belong to a rules folder: errata/paper.yaml beside it (rules/ -> ERRATA).

    A build of another folder (a subset, a test corpus) must not be checked against, or
    publish, the errata of the repository's own rules.
    """
    return rules_dir.resolve().parent / "errata" / "paper.yaml"


def check_errata(export: dict[str, Any], path: Path = ERRATA) -> list[dict[str, Any]]:
    """The errata list, each entry tied to a verified rule and holding only whitelisted LaTeX."""
    if not path.is_file():
        return []
    doc, problems = read_yaml(path)
    messages = [p.format() for p in problems]
    if doc is not None and not isinstance(doc.data, list):
        messages.append(f"{doc.shown}:1:1: MC004 errata must be a YAML list (found another form)")
    if doc is not None and isinstance(doc.data, list):
        ids = {r["id"] for r in export["rules"]}
        for i, entry in enumerate(doc.data):
            line, col = doc.at(i)
            if not isinstance(entry, dict):
                messages.append(f"{doc.shown}:{line}:{col}: MC012 errata[{i}] must be a mapping")
                continue
            for key in ("number", "title", "paper", "problem", "correction", "rule"):
                if key not in entry:
                    messages.append(f"{doc.shown}:{line}:{col}: MC010 errata[{i}].{key} must be present (found it missing)")
            if entry.get("rule") not in ids:
                r_line, r_col = doc.at(i, "rule")
                messages.append(f"{doc.shown}:{r_line}:{r_col}: MC016 errata[{i}].rule must be the id of a verified rule (found {entry.get('rule')!r})")
            for key in ("where", "paper", "problem", "correction", "note", "title"):
                if isinstance(entry.get(key), str):
                    import re

                    for math in re.findall(r"\$([^$]*)\$", entry[key]):
                        messages += [p.format() for p in latex_problems(doc, (i, key), math)]
    if messages:
        raise BuildFailed("\n".join(messages), 2)
    return doc.data if doc is not None else []


def _compile_cached(tex: str, out_pdf: Path, epoch: int) -> bool:
    """Compile, or copy the PDF an identical .tex gave before. True if it was cached."""
    from generator import pdf

    key = hashlib.sha256(f"{epoch}\n{tex}".encode()).hexdigest()
    cached = _pdf_cache_dir() / f"{key}.pdf"
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    if cached.is_file():
        shutil.copyfile(cached, out_pdf)
        out_pdf.with_suffix(".tex").write_text(tex, encoding="utf-8")
        return True
    try:
        pdf.compile_pdf(tex, out_pdf, source_date_epoch=epoch)
    except pdf.PdfError as err:
        raise BuildFailed(f"the cheat sheet did not typeset: {err}") from None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out_pdf, cached)
    except OSError:
        pass
    return False


SITE_STAMP = "site-inputs.sha256"
# What the site is made of besides the export and the errata; a change to any re-runs mkdocs.
SITE_SOURCES = ("mkdocs.yml", "package-lock.json", "generator/site.py", "generator/mkdocs_hooks.py",
                "generator/katex_prerender.cjs", "rules/README.md")


def site_inputs_hash(export: bytes, errata: Path, epoch: int) -> str:
    digest = hashlib.sha256()
    digest.update(export)
    digest.update(str(epoch).encode())
    digest.update(os.environ.get("MCREF_SITE_URL", "").encode())
    paths = [ROOT / p for p in SITE_SOURCES] + sorted(p for p in (ROOT / "site").rglob("*") if p.is_file())
    paths += sorted(p for p in (ROOT / "generator" / "templates" / "site").rglob("*") if p.is_file())
    if errata.is_file():
        paths.append(errata)
    for path in paths:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _build_site(staging: Path, export_path: Path, epoch: int, errata: Path = ERRATA) -> None:
    env = {**os.environ, "MCREF_EXPORT": str(export_path), "SOURCE_DATE_EPOCH": str(epoch)}
    env.setdefault("NO_MKDOCS_2_WARNING", "1")  # else Material's banner fills the error tail shown to the user
    with tempfile.TemporaryDirectory(prefix="mcref-errata-") as tmp:
        if not errata.is_file():
            # Name an empty list, else the hook falls back to the repository's errata.
            errata = Path(tmp) / "errata.yaml"
            errata.write_text("[]\n", encoding="utf-8")
        env["MCREF_ERRATA"] = str(errata)
        _run_mkdocs(staging, env)


def _run_mkdocs(staging: Path, env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(staging / "site")], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip() and not ln.startswith("  File ")]
        tail = "\n".join(lines[-15:])
        raise BuildFailed(f"the site did not build (mkdocs build --strict):\n{tail}")


def _swap(staging: Path, out: Path) -> None:
    """Put the finished staging folder in place of out; the old build is removed last."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        if old.exists() and not out.exists():
            old.rename(out)  # put the previous build back: a failed swap must not lose it
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def check_out_folder(out: Path) -> None:
    """A build replaces --out whole: refuse a folder that is not an earlier build (e.g. `--out .`)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BuildFailed(f"--out {out} must be a folder (found a file or link); nothing was written", 2)
    if out.is_dir() and any(out.iterdir()) and not (out / "rules.json").is_file():
        raise BuildFailed(f"--out {out} holds files that are not an mcref build (no rules.json); a build replaces "
                          f"its output folder whole, so it will not replace this one: choose an empty or new folder", 2)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    check_out_folder(args.out.resolve())
    export = export_rules(args.rules, jobs=args.jobs, use_cache=not args.no_cache, timeout=args.timeout)
    errata_file = errata_path(args.rules)
    errata = check_errata(export, errata_file)
    epoch = source_date_epoch()
    out: Path = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        export_path = staging / "rules.json"
        export_path.write_text(json.dumps(export, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        pdf_note = ""
        if args.no_pdf:
            pdf_note = "PDFs skipped (--no-pdf)"
        elif shutil.which("latexmk") is None:
            pdf_note = f"PDFs skipped: latexmk not found; on Debian/Ubuntu: sudo apt-get install {TEX_PACKAGES}"
            print(f"warning: {pdf_note}", file=sys.stderr)
        else:
            from generator import pdf

            reused = 0
            for paper in PAPERS:
                try:
                    tex = pdf.render_tex(export, layout="numerator", paper=paper)
                except pdf.PdfError as err:  # e.g. a title character pdfLaTeX cannot print
                    raise BuildFailed(f"the cheat sheet cannot be rendered ({args.rules}): {err}", 2) from None
                reused += _compile_cached(tex, staging / "pdf" / f"cheatsheet-{paper}.pdf", epoch)
            pdf_note = f"{len(PAPERS)} PDFs ({reused} unchanged)"
        inputs = site_inputs_hash(export_path.read_bytes(), errata_file, epoch)
        if (out / "site").is_dir() and _read(out / SITE_STAMP) == inputs:
            # Nothing the site is made of changed: the previous pages are the ones mkdocs would write.
            shutil.copytree(out / "site", staging / "site", ignore=shutil.ignore_patterns("pdf"))
            site_note = "site unchanged"
        else:
            _build_site(staging, export_path, epoch, errata_file)
            site_note = "site"
        (staging / SITE_STAMP).write_text(inputs + "\n", encoding="utf-8")
        if (staging / "pdf").is_dir():
            shutil.copytree(staging / "pdf", staging / "site" / "pdf", dirs_exist_ok=True)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    counts = export["counts"]
    print(f"built {out}: {counts['verified']} verified rules, {site_note}, {pdf_note}, errata {len(errata)} "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


def serve(args: argparse.Namespace) -> int:
    """`mkdocs serve` with the hook running the pipeline itself, so edits to rules/ reload."""
    env = {k: v for k, v in os.environ.items() if k != "MCREF_EXPORT"}
    return subprocess.call([sys.executable, "-m", "mkdocs", "serve", "-f", str(ROOT / "mkdocs.yml"), "-a", args.dev_addr],
                           cwd=ROOT, env=env)
