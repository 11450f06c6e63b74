"""Helpers of the sheet, citation and PDF tests: the real corpus's export (computed once), pdfLaTeX tools."""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

needs_latex = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
    reason="latexmk/pdflatex not installed (Debian: texlive-latex-base texlive-latex-recommended "
    "texlive-latex-extra texlive-fonts-recommended latexmk lmodern)",
)
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@functools.lru_cache(maxsize=1)
def _real_export() -> dict[str, Any]:
    from generator.pipeline import export_rules

    saved = {k: os.environ.get(k) for k in ("MCREF_CACHE_DIR", "MCREF_SITE_URL", "SOURCE_DATE_EPOCH")}
    cache = tempfile.mkdtemp(prefix="mcref-sheets-tests-")
    try:
        os.environ["MCREF_CACHE_DIR"] = cache
        os.environ.pop("MCREF_SITE_URL", None)
        os.environ["SOURCE_DATE_EPOCH"] = "1795219200"  # 2026-11-21
        return export_rules(ROOT / "rules")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(cache, ignore_errors=True)


def real_export() -> dict[str, Any]:
    """The export of the repository's rules (verified once per test session, in a private cache)."""
    return copy.deepcopy(_real_export())


def poppler(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def pdf_pages(path: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", poppler("pdfinfo", str(path))).group(1))  # type: ignore[union-attr]


def id_pattern(rule_id: str) -> re.Pattern[str]:
    """A rule id as a whole word of pdftotext's output."""
    return re.compile(r"(?<![\w.-])" + re.escape(rule_id) + r"(?![\w.-])")


def pdflatex(folder: Path, name: str, *, bibtex: bool = False) -> subprocess.CompletedProcess[str]:
    """Run pdflatex (no shell escape) on folder/name.tex, with bibtex and two more runs if asked."""
    cmd = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", name]
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not bibtex:
        return proc
    bib = subprocess.run(["bibtex", name], cwd=folder, capture_output=True, text=True, timeout=120)
    if bib.returncode != 0:
        return bib
    for _ in range(2):
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=300)
    proc.stdout += "\n--- bibtex ---\n" + bib.stdout
    return proc
