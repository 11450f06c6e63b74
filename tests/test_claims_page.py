"""The browser checker's Python: a pure bundle that runs without SymPy, NumPy or YAML, and the
Pyodide files the site copies (generator/render/check_page.py, generator/student/browser_check.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.render.check_page import CheckPageError, PYODIDE_FILES, python_bundle, python_files, site_files

ROOT = Path(__file__).resolve().parent.parent


def test_the_bundle_holds_the_claim_path_and_repeats_its_bytes() -> None:
    """The entry point and everything it imports are in the bundle; two builds give the same bytes."""
    names = {p.relative_to(ROOT).as_posix() for p in python_files(ROOT)}
    assert {"generator/student/browser_check.py", "generator/student/claim.py", "generator/student/hints.py", "generator/engine/parse.py",
            "generator/engine/syntax_hints.py", "generator/student/pointeval.py", "generator/__init__.py"} <= names
    assert not names & {"generator/engine/verify.py", "generator/engine/load.py", "generator/engine/validate.py", "generator/engine/runner.py"}
    assert python_bundle(ROOT) == python_bundle(ROOT)
    assert list(json.loads(python_bundle(ROOT))) == sorted(json.loads(python_bundle(ROOT)))


BLOCKER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in {'sympy', 'numpy', 'yaml', 'jsonschema', 'jinja2', 'rich', 'multiprocessing'}:
            raise ImportError('not in the browser: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_the_bundle_checks_a_claim_without_sympy_numpy_or_yaml(tmp_path: Path) -> None:
    """Unpacked alone, with SymPy, NumPy and YAML made unimportable, the bundle judges a claim and a slip."""
    for name, source in json.loads(python_bundle(ROOT)).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
    script = BLOCKER + textwrap.dedent("""
        import json
        sys.path.insert(0, sys.argv[1])
        from generator.student.browser_check import check
        a = check({"of": "x' @ A @ x", "wrt": "x", "expect": "2 * A @ x", "symbols": "x: [n]; A: [n, n]"})
        b = check({"of": "x^T @ A @ x", "wrt": "x", "expect": "2 * A @ x", "symbols": "x: [n]; A: [n, n]"})
        print(json.dumps([a["status"], a["repairs"][0]["expect"], b["status"], b["problems"][0]["col"]]))
    """)
    done = subprocess.run([sys.executable, "-I", "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["refuted", "(A + A.T) @ x", "invalid", 2]


def test_a_module_that_needs_numpy_cannot_enter_the_bundle(tmp_path: Path) -> None:
    """If the claim path imported NumPy at module level, the site build stops and says which file."""
    gen = tmp_path / "generator"
    (gen / "student").mkdir(parents=True)
    (gen / "__init__.py").write_text("", encoding="utf-8")
    (gen / "student" / "__init__.py").write_text("", encoding="utf-8")
    (gen / "student" / "browser_check.py").write_text("from generator import helper\n", encoding="utf-8")
    (gen / "helper.py").write_text("import numpy as np\n", encoding="utf-8")
    with pytest.raises(CheckPageError, match=r"generator/helper.py imports numpy"):
        python_files(tmp_path)


def test_the_site_gets_the_pinned_pyodide_runtime() -> None:
    """The runtime files come from node_modules/pyodide at the version package-lock.json pins."""
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/pyodide"]["version"]
    assert json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]["pyodide"] == pinned
    if not (ROOT / "node_modules" / "pyodide" / "pyodide.mjs").is_file():
        pytest.skip("npm ci has not installed pyodide")
    files = dict(site_files(ROOT))
    assert {f"assets/pyodide/{name}" for name in PYODIDE_FILES} <= set(files)
    assert json.loads(Path(files["assets/pyodide/package.json"]).read_text(encoding="utf-8"))["version"] == pinned
    assert isinstance(files["assets/check/mcref-py.json"], str)


def test_the_page_reports_an_engine_failure_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the checker reaches the page as one line, status error, never a traceback."""
    import generator.student.browser_check as bc

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(bc, "judge", broken)
    out = bc.check({"of": "x.T @ x", "wrt": "x", "expect": "2 * x", "symbols": "x: [n]"})
    assert out == {"status": "error", "message": "the checker failed (ZeroDivisionError: division by zero)", "problems": []}


HOSTILE = [
    {"of": "(" * 300 + "x" + ")" * 300, "wrt": "x", "expect": "x", "symbols": "x: [n]"},
    {"of": "x" + " + x" * 700, "wrt": "x", "expect": "x", "symbols": "x: [n]"},
    {"of": "x ** 1000000", "wrt": "x", "expect": "x", "symbols": "x: [n]"},
    {"of": "__import__('os').system('true')", "wrt": "x", "expect": "x", "symbols": "x: [n]"},
    {"of": "x", "wrt": "x", "expect": "x", "symbols": "x: [64, 64]"},
    {"of": "det(X)", "wrt": "X", "expect": "det(X) * inv(X).T", "symbols": "X: [64, 64]"},
    {"of": "", "wrt": "", "expect": "", "symbols": ""},
    {"of": "x\u0000", "wrt": "x", "expect": "x", "symbols": "x: [n]"},
    {"of": "x", "wrt": "x", "expect": "x", "symbols": "x: [n]; " * 50},
    {"of": "x.T @ x", "wrt": "x", "expect": "2 * x", "symbols": "x: [n]", "where": "a: b: c"},
    {"of": "x.T @ x", "wrt": "x", "expect": "2 * x", "symbols": "x: [n]", "order": "3"},
]


@pytest.mark.parametrize("fields", HOSTILE, ids=[f"hostile-{i}" for i in range(len(HOSTILE))])
def test_hostile_input_gets_an_answer_not_an_exception(fields: dict) -> None:
    """Whatever a page visitor types, check() answers with a status and messages, quickly, and never raises."""
    import time

    from generator.student.browser_check import check

    start = time.perf_counter()
    out = check(fields)
    assert out["status"] in ("verified", "refuted", "undecided", "invalid", "error")
    assert time.perf_counter() - start < 20
    assert json.dumps(out)  # plain data the page can read
    if out["status"] == "invalid":
        assert all(p["col"] >= 1 and p["message"] for p in out["problems"])
