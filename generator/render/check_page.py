"""The files the "Check a derivative" page needs, for the site build to copy.

- Pyodide (npm package `pyodide`, pinned in package-lock.json, installed by `npm ci`): the
  runtime files the page loads from the site's own origin, into assets/pyodide/.
- The pure Python of the claim path (parser, friendly syntax, claims, hints, the exact
  point evaluator and, when present, the all-sizes engine) as one JSON bundle,
  assets/check/mcref-py.json: {path: source}, keys sorted, so the bytes repeat.

`site_files(root)` lists them as (site path, source file or text); generator/render/mkdocs_hooks.py
adds them as virtual files. Nothing is written into site/.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

PYODIDE_DEST = "assets/pyodide"
#: The runtime files loadPyodide fetches (no source maps, type declarations or consoles).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json", "package.json")
BUNDLE_DEST = "assets/check/mcref-py.json"
ENTRY = "generator.student.browser_check"
#: Packages that only group modules by role: importing one does not import all of its modules.
GROUPING_PACKAGES = frozenset({"generator", "generator.engine", "generator.render", "generator.student"})
#: Modules that must never reach the browser: the check runs without them.
FORBIDDEN = frozenset({"sympy", "numpy", "yaml", "jsonschema", "jinja2", "rich", "mkdocs", "multiprocessing", "subprocess"})


class CheckPageError(Exception):
    """The page's files are missing or the Python bundle would not run in the browser."""


def _generator_imports(path: Path) -> tuple[set[str], set[str]]:
    """generator.* modules imported anywhere in a file (also inside functions: followed), and
    the other modules imported at module level (those must exist in the browser)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = set(map(id, tree.body))
    inner: set[str] = set()
    outer: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names] if node.module == "generator" else [])
        for name in names:
            if name == "generator" or name.startswith("generator."):
                inner.add(name)
            elif id(node) in top_level:
                outer.add(name.split(".")[0])
    return inner, outer


def module_file(root: Path, module: str) -> Path | None:
    parts = module.split(".")
    base = root.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def python_files(root: Path, entry: str = ENTRY) -> list[Path]:
    """Every generator module the entry imports, transitively (with the packages' __init__ files)."""
    todo = [entry, "generator"]
    seen: set[str] = set()
    files: set[Path] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = module_file(root, module)
        if path is None:
            continue  # `from generator import x` where x is a name, not a module
        files.add(path)
        parts = module.split(".")
        for i in range(1, len(parts)):
            todo.append(".".join(parts[:i]))
        inner, outer = _generator_imports(path)
        bad = outer & FORBIDDEN
        if bad:
            raise CheckPageError(f"{path.relative_to(root)} imports {', '.join(sorted(bad))}, which the browser does not have; "
                                 "keep the claim path pure (standard library only)")
        todo.extend(inner)
        if path.name == "__init__.py":  # a package: its modules may be imported by name
            todo.extend(f"{module}.{p.stem}" for p in path.parent.glob("*.py") if p.stem != "__init__" and module not in GROUPING_PACKAGES)
    return sorted(files)


def python_bundle(root: Path) -> str:
    """The JSON bundle of the claim path's Python sources (keys sorted, so the bytes repeat)."""
    files = python_files(root)
    bundle = {str(p.relative_to(root).as_posix()): p.read_text(encoding="utf-8") for p in files}
    return json.dumps(bundle, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def pyodide_dir(root: Path) -> Path:
    return root / "node_modules" / "pyodide"


def site_files(root: Path) -> list[tuple[str, Path | str]]:
    """(site path, source file or text) for every file the check page needs."""
    dist = pyodide_dir(root)
    missing = [name for name in PYODIDE_FILES if not (dist / name).is_file()]
    if missing:
        raise CheckPageError(f"Pyodide is missing ({dist}: {', '.join(missing)}); run `npm ci` in {root}")
    out: list[tuple[str, Path | str]] = [(f"{PYODIDE_DEST}/{name}", dist / name) for name in PYODIDE_FILES]
    out.append((BUNDLE_DEST, python_bundle(root)))
    return out


def pyodide_version(root: Path) -> str:
    try:
        return str(json.loads((pyodide_dir(root) / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"
