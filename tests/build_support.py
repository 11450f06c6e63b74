"""Helpers of the build and hostile-input tests: a small real corpus, the CLI as a subprocess, tree hashes."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
EPOCH = "1700000000"  # 2023-11-14: every build of these tests is dated the same day

# Eight real rules of the corpus, one with a verified worked example and one with generic
# functions; their `related` lists are cut to this set so the folder stands alone.
SMALL_CORPUS = (
    "scalar-power",
    "scalar-sin",
    "scalar-cos",
    "trace-x",
    "trace-x-squared",
    "trace-axb",
    "bilinear-axb",
    "chain-single-variable",
)


def copy_rules(dest: Path, ids: tuple[str, ...] = SMALL_CORPUS) -> Path:
    """Copy rules `ids` and _sections.yaml into dest (created); related ids outside the set are dropped."""
    dest.mkdir(parents=True, exist_ok=True)
    keep = set(ids)
    sections = yaml.safe_load((RULES / "_sections.yaml").read_text(encoding="utf-8"))
    for section in sections:  # the teaching order lists the copied rules only
        section["rules"] = [r for r in section.get("rules", []) if r in keep]
    (dest / "_sections.yaml").write_text(yaml.safe_dump(sections, sort_keys=False), encoding="utf-8")

    def cut(match: re.Match[str]) -> str:
        related = [r.strip() for r in match.group(1).split(",") if r.strip() in keep]
        return f"related: [{', '.join(related)}]" if related else ""

    for rid in ids:
        text = (RULES / f"{rid}.yaml").read_text(encoding="utf-8")
        (dest / f"{rid}.yaml").write_text(re.sub(r"^related: \[(.*)\]$", cut, text, flags=re.M), encoding="utf-8")
    return dest


def cli_env(cache: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: our own verdict (and PDF) cache, a fixed build date."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCREF_")}
    env.update(PYTHONPATH=str(ROOT), MCREF_CACHE_DIR=str(cache / "verdicts"), SOURCE_DATE_EPOCH=EPOCH,
               NO_MKDOCS_2_WARNING="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def mcref(*args: str | Path, cwd: Path, cache: Path, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m generator ARGS` in cwd; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=cwd, env=cli_env(cache, **extra),
                          capture_output=True, text=True, timeout=timeout)


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file (and 'dir' / 'link -> target' for the others) under folder."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            out[rel] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def site_tools_missing() -> str | None:
    """Why the site cannot be built here, or None."""
    if not (ROOT / "node_modules" / "katex").is_dir():
        return "node_modules/katex is missing: run `npm ci` (or `make`) to build the site"
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        return "mkdocs / mkdocs-material are not installed: run `make` (pip install -e .)"
    if shutil.which("node") is None:
        return "node is not installed: the site typesets KaTeX with Node.js"
    return None


def pdf_tools_missing() -> str | None:
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        return "latexmk/pdflatex are missing: sudo apt-get install texlive-latex-extra latexmk lmodern"
    return None
