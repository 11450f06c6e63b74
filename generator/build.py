"""Stage 7, write: `mcref build` and `mcref serve`.

A build checks every rule, then writes into a staging folder beside build/:

- rules.json, the export;
- pdf/cheatsheet-<paper>-<layout>.pdf (the two-page sheet of sheets/cheatsheet.yaml) and
  pdf/reference-<paper>-<layout>.pdf (every rule), each with its .tex; the names of the
  first release, pdf/cheatsheet-<paper>.pdf, stay as copies of the numerator cheat sheet;
- mcref.bib (one entry per rule, keys mcref:<id>, and one for the whole reference);
- latex/mcref.sty (every macro of the formulas), latex/<layout>/<id>.tex (each rule as a
  LaTeX snippet that compiles with amsmath and bm alone) and latex/example.tex;
- site/, with copies of pdf/, latex/ and mcref.bib so the site serves them.

It swaps the staging folder in only when everything succeeded, in one atomic exchange where
the system has one (renameat2): a failed or killed build leaves the previous build whole.
A staging folder holds a lock (flock) while its build runs; the next build removes the
folders whose lock is free, i.e. whose build died. Nothing is done twice: the verdict cache
skips unchanged rules and the PDF cache skips an unchanged .tex.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from generator.engine.cache import default_cache_dir
from generator.engine.load import read_yaml
from generator.pipeline import DEFAULT_RULES, ROOT, export_rules, source_date_epoch
from generator.engine.problems import BuildFailed
from generator.engine.validate import latex_problems

PAPERS = ("a4", "letter")
LAYOUTS = ("numerator", "denominator")
CHEATSHEET = Path("sheets") / "cheatsheet.yaml"
# The first release's names (the site's home page linked them): copies of these sheets.
OLD_NAMES = {f"cheatsheet-{paper}.pdf": f"cheatsheet-{paper}-numerator.pdf" for paper in PAPERS}
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk lmodern"
ERRATA = ROOT / "errata" / "paper.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rules folder (default: rules/)")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder (default: build/)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF sheets")


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


def cheatsheet_path(rules_dir: Path) -> Path:
    """The cheat sheet that belongs to a rules folder: sheets/cheatsheet.yaml beside it."""
    return rules_dir.resolve().parent / CHEATSHEET


def _compile_cached(tex: str, out_pdf: Path, epoch: int) -> tuple[int, bool]:
    """Compile, or copy the PDF an identical .tex gave before. (pages, whether it was cached)."""
    from generator.render import pdf

    key = hashlib.sha256(f"{epoch}\n{tex}".encode()).hexdigest()
    cached = _pdf_cache_dir() / f"{key}.pdf"
    pages_file = cached.with_suffix(".pages")
    out_pdf.parent.mkdir(parents=True, exist_ok=True)
    if cached.is_file() and pages_file.is_file() and _read(pages_file).isdigit():
        shutil.copyfile(cached, out_pdf)
        out_pdf.with_suffix(".tex").write_text(tex, encoding="utf-8")
        return int(_read(pages_file)), True
    try:
        pages = pdf.compile_pdf(tex, out_pdf, source_date_epoch=epoch)
    except pdf.PdfError as err:
        raise BuildFailed(f"a PDF did not typeset ({out_pdf.name}): {err}") from None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(out_pdf, tmp)
        os.replace(tmp, cached)
        pages_file.write_text(f"{pages}\n", encoding="utf-8")
    except OSError:
        pass
    return pages, False


@dataclass(frozen=True)
class _Job:
    name: str  # file name under pdf/
    tex: str
    sheet: Any  # generator.render.sheets.Sheet, for its page limit


def pdf_jobs(export: dict[str, Any], rules_dir: Path) -> tuple[list[_Job], list[str]]:
    """What build/pdf holds: the cheat sheets (if sheets/cheatsheet.yaml is beside the rules) and the references."""
    from generator.render import pdf
    from generator.render.sheets import Sheet, SheetError, read_sheet

    jobs: list[_Job] = []
    notes: list[str] = []
    sheet_file = cheatsheet_path(rules_dir)
    try:
        if sheet_file.is_file():
            try:
                sheet = read_sheet(sheet_file, export)
            except SheetError as err:
                raise BuildFailed(f"the cheat sheet file has problems:\n{err}", 2) from None
            for paper in PAPERS:
                for layout in LAYOUTS:
                    variant = Sheet(**{**sheet.__dict__, "paper": paper, "layout": layout})
                    jobs.append(_Job(f"cheatsheet-{paper}-{layout}.pdf", pdf.render_sheet(export, variant), variant))
        else:
            notes.append(f"no cheat sheet ({sheet_file} is missing)")
        for paper in PAPERS:
            for layout in LAYOUTS:
                sheet = pdf.reference_for(export, layout=layout, paper=paper)
                jobs.append(_Job(f"reference-{paper}-{layout}.pdf", pdf.render_sheet(export, sheet), sheet))
    except pdf.PdfError as err:  # e.g. a title character pdfLaTeX cannot print
        raise BuildFailed(f"the PDFs cannot be rendered ({rules_dir}): {err}", 2) from None
    return jobs, notes


def write_pdfs(export: dict[str, Any], rules_dir: Path, folder: Path, epoch: int, workers: int) -> str:
    """Typeset every PDF into folder/ (two at a time by default); the note for the summary line."""
    from generator.render import pdf

    jobs, notes = pdf_jobs(export, rules_dir)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda job: _compile_cached(job.tex, folder / job.name, epoch), jobs))
    for job, (pages, _) in zip(jobs, results, strict=True):
        try:
            pdf.check_pages(job.sheet, pages)
        except pdf.PdfError as err:
            raise BuildFailed(f"{job.name}: {err}", 2) from None
    for old, new in OLD_NAMES.items():
        if (folder / new).is_file():
            shutil.copyfile(folder / new, folder / old)
    reused = sum(1 for _, cached in results if cached)
    return ", ".join([f"{len(jobs)} PDFs ({reused} unchanged)", *notes])


def write_latex(export: dict[str, Any], out: Path) -> None:
    """mcref.bib, latex/mcref.sty, latex/<layout>/<id>.tex and latex/example.tex."""
    from generator.render.cite import bib_file, example_tex, rule_tex, sty_file

    (out / "mcref.bib").write_text(bib_file(export), encoding="utf-8")
    latex = out / "latex"
    latex.mkdir(parents=True, exist_ok=True)
    (latex / "mcref.sty").write_text(sty_file(export), encoding="utf-8")
    (latex / "example.tex").write_text(example_tex(export), encoding="utf-8")
    for layout in LAYOUTS:
        (latex / layout).mkdir(exist_ok=True)
        for rule in export["rules"]:
            (latex / layout / f"{rule['id']}.tex").write_text(rule_tex(export, rule, layout), encoding="utf-8")


SITE_STAMP = "site-inputs.sha256"
# What the site is made of besides the export and the errata; a change to any re-runs mkdocs.
SITE_SOURCES = ("mkdocs.yml", "package-lock.json", "generator/render/site.py", "generator/render/mkdocs_hooks.py",
                "generator/render/katex_prerender.cjs", "rules/README.md")


def site_inputs_hash(export: bytes, errata: Path, epoch: int) -> str:
    digest = hashlib.sha256()
    digest.update(export)
    digest.update(str(epoch).encode())
    paths = [ROOT / p for p in SITE_SOURCES] + sorted(p for p in (ROOT / "site").rglob("*") if p.is_file())
    paths += sorted(p for p in (ROOT / "generator" / "templates" / "site").rglob("*") if p.is_file())
    paths += [path for path in (errata, errata.parent / "cookbook.yaml") if path.is_file()]
    for path in paths:
        digest.update(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _build_site(staging: Path, export_path: Path, epoch: int, errata: Path = ERRATA, site_url: str = "") -> None:
    env = {**os.environ, "MCREF_EXPORT": str(export_path), "SOURCE_DATE_EPOCH": str(epoch)}
    env.pop("MCREF_SITE_URL", None)
    if site_url:
        env["MCREF_SITE_URL"] = site_url  # the hook sets mkdocs' site_url (sitemap, canonical links)
    env.setdefault("NO_MKDOCS_2_WARNING", "1")  # else Material's banner fills the error tail shown to the user
    with tempfile.TemporaryDirectory(prefix="mcref-errata-") as tmp:
        # Every source's errata beside the rules folder (errata/paper.yaml, errata/cookbook.yaml);
        # a missing file is named as an empty list, else the hook falls back to the repository's.
        for var, path in (("MCREF_ERRATA", errata), ("MCREF_ERRATA_COOKBOOK", errata.parent / "cookbook.yaml")):
            if not path.is_file():
                path = Path(tmp) / f"{var.lower()}.yaml"
                path.write_text("[]\n", encoding="utf-8")
            env[var] = str(path)
        _run_mkdocs(staging, env)


def _run_mkdocs(staging: Path, env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(staging / "site")], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip() and not ln.startswith("  File ")]
        tail = "\n".join(lines[-15:])
        raise BuildFailed(f"the site did not build (mkdocs build --strict):\n{tail}")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2); False where the system has no such call."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # an old kernel or a file system without exchange: fall back to two renames
    raise OSError(err, f"cannot swap {b} for the new build: {os.strerror(err)}")


def _checkpoint(name: str) -> None:
    """Die here, as kill -9 would, when $MCREF_BUILD_KILL_AT names this point (tests of the atomic swap)."""
    if os.environ.get("MCREF_BUILD_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _swap(staging: Path, out: Path) -> None:
    """Put the finished staging folder in place of out; the old build is removed last.

    With renameat2 the two folders trade places atomically, and staging then holds the old
    build. Otherwise out is renamed aside first: a build killed between the two renames
    leaves the old build in `.<out>.old-<pid>`, which the next build puts back.
    """
    if out.exists() and _exchange(staging, out):
        _checkpoint("after-swap")
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        out.rename(old)
    _checkpoint("between-renames")
    try:
        staging.rename(out)
    except OSError:
        if old.exists() and not out.exists():
            old.rename(out)  # put the previous build back: a failed swap must not lose it
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _lock(path: Path) -> IO[bytes]:
    """Hold an exclusive lock on `path` while this build runs (the kernel releases it if the build dies)."""
    handle = open(path, "wb")  # noqa: SIM115 - held until the build ends
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    handle.write(f"{os.getpid()}\n".encode())
    handle.flush()
    return handle


def _held(lock: Path) -> bool:
    """True while a running build holds `lock`; False for a missing lock or one whose build died."""
    try:
        handle = open(lock, "rb")  # noqa: SIM115
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _pid_of(path: Path) -> str:
    return path.name.rsplit("-", 1)[-1]


def clean_leftovers(out: Path) -> list[str]:
    """Remove what builds of `out` that died left beside it (staging and old-build folders, locks)
    and put back a previous build that a killed swap had renamed aside. Returns what was done.

    A build first takes the lock `.<out>.staging-<pid>.lock`, then makes its folders; so a
    folder whose lock is free or missing belongs to a build that is over.
    """
    done: list[str] = []
    parent = out.parent
    if not parent.is_dir():
        return done
    for path in sorted(parent.glob(f".{out.name}.old-*")):
        lock = parent / f".{out.name}.staging-{_pid_of(path)}.lock"
        if not path.is_dir() or _held(lock):
            continue
        if not out.exists() and (path / "rules.json").is_file():
            path.rename(out)
            done.append(f"restored {out.name} from {path.name}")
        else:
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"removed {path.name}")
    for path in sorted(parent.glob(f".{out.name}.staging-*")):
        if path.name.endswith(".lock"):
            continue
        if path.is_dir() and not _held(path.with_name(path.name + ".lock")):
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"removed {path.name}")
    for lock in sorted(parent.glob(f".{out.name}.staging-*.lock")):
        if not lock.with_name(lock.name[: -len(".lock")]).exists() and not _held(lock):
            try:
                lock.unlink()
            except OSError:
                pass
    return done


def check_out_folder(out: Path) -> None:
    """A build replaces --out whole: refuse a folder that is not an earlier build (e.g. `--out .`)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BuildFailed(f"--out {out} must be a folder (found a file or link); nothing was written", 2)
    if out.is_dir() and any(out.iterdir()) and not (out / "rules.json").is_file():
        raise BuildFailed(f"--out {out} holds files that are not an mcref build (no rules.json); a build replaces "
                          f"its output folder whole, so it will not replace this one: choose an empty or new folder", 2)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    out: Path = args.out.resolve()
    check_out_folder(out)
    export = export_rules(args.rules, jobs=args.jobs, use_cache=not args.no_cache, timeout=args.timeout,
                          url=getattr(args, "site_url", None))
    errata_file = errata_path(args.rules)
    errata = check_errata(export, errata_file)
    epoch = source_date_epoch()
    out.parent.mkdir(parents=True, exist_ok=True)
    cleaned = clean_leftovers(out)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    lock_path = staging.with_name(staging.name + ".lock")
    lock = _lock(lock_path)  # before the folder: a folder without a held lock is a dead build's
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        _checkpoint("staging")
        export_path = staging / "rules.json"
        export_path.write_text(json.dumps(export, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        write_latex(export, staging)
        pdf_note = ""
        if args.no_pdf:
            pdf_note = "PDFs skipped (--no-pdf)"
        elif shutil.which("latexmk") is None:
            pdf_note = f"PDFs skipped: latexmk not found; on Debian/Ubuntu: sudo apt-get install {TEX_PACKAGES}"
            print(f"warning: {pdf_note}", file=sys.stderr)
        else:
            pdf_note = write_pdfs(export, args.rules, staging / "pdf", epoch, workers=min(2, args.jobs or 2))
        _checkpoint("pdf")
        inputs = site_inputs_hash(export_path.read_bytes(), errata_file, epoch)
        if (out / "site").is_dir() and _read(out / SITE_STAMP) == inputs:
            # Nothing the site is made of changed: the previous pages are the ones mkdocs would write.
            shutil.copytree(out / "site", staging / "site", ignore=shutil.ignore_patterns("pdf", "latex", "mcref.bib"))
            site_note = "site unchanged"
        else:
            _build_site(staging, export_path, epoch, errata_file, str(export.get("site_url") or ""))
            site_note = "site"
        _checkpoint("site")
        (staging / SITE_STAMP).write_text(inputs + "\n", encoding="utf-8")
        for name in ("pdf", "latex"):
            if (staging / name).is_dir():
                shutil.copytree(staging / name, staging / "site" / name, dirs_exist_ok=True)
        shutil.copyfile(staging / "mcref.bib", staging / "site" / "mcref.bib")
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        lock_path.unlink(missing_ok=True)
        lock.close()
    counts = export["counts"]
    print(f"built {out}: {counts['verified']} verified rules, {site_note}, {pdf_note}, errata {len(errata)} "
          f"in {time.perf_counter() - started:.1f} s")
    if export.get("site_url"):
        print(f"site address {export['site_url']}: rule links and citations use it")
    else:
        print("no site address configured: links are relative and citations carry no URL "
              "(set site_url in mkdocs.yml, or pass --site-url URL or MCREF_SITE_URL)")
    for line in cleaned:
        print(f"cleaned up after a build that did not finish: {line}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """`mkdocs serve` with the hook running the pipeline itself, so edits to rules/ reload."""
    env = {k: v for k, v in os.environ.items() if k != "MCREF_EXPORT"}
    return subprocess.call([sys.executable, "-m", "mkdocs", "serve", "-f", str(ROOT / "mkdocs.yml"), "-a", args.dev_addr],
                           cwd=ROOT, env=env)
