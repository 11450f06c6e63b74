"""The MkDocs hook module's own logic, in-process (no MkDocs build)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from mkdocs.exceptions import PluginError
from site_fixtures import ROOT, sample_export


def _hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mcref_hooks_under_test", ROOT / "generator" / "render" / "mkdocs_hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_from_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With MCREF_EXPORT set, the hook reads that JSON file."""
    path = tmp_path / "export.json"
    path.write_text(json.dumps(sample_export()), encoding="utf-8")
    monkeypatch.setenv("MCREF_EXPORT", str(path))
    assert _hooks()._load_export(ROOT) == sample_export()


def test_build_failed_becomes_a_clean_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's BuildFailed stops the build as a PluginError carrying the engine's message."""
    from generator import pipeline
    from generator.engine.problems import BuildFailed

    def refuse(rules_dir: Path) -> dict:
        raise BuildFailed("rules/trace-axb.yaml:1:1: refuted: entry (0, 1) differs at m=2, n=3, p=4")

    monkeypatch.delenv("MCREF_EXPORT", raising=False)
    monkeypatch.setattr(pipeline, "export_rules", refuse)
    with pytest.raises(PluginError) as info:
        _hooks()._load_export(ROOT)
    assert "rules/trace-axb.yaml:1:1: refuted: entry (0, 1) differs" in str(info.value)


def test_errata_must_be_a_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An errata file that is not a YAML list of mappings stops the build, naming the file."""
    path = tmp_path / "errata.yaml"
    path.write_text("number: 1\n", encoding="utf-8")
    monkeypatch.setenv("MCREF_ERRATA", str(path))
    with pytest.raises(PluginError, match="must be a YAML list of mappings"):
        _hooks()._load_errata(ROOT)


def test_cookbook_errata_are_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """errata/cookbook.yaml is read when present (None when absent); a named file that is missing stops the build."""
    root = tmp_path
    (root / "errata").mkdir()
    assert _hooks()._load_errata(root, "cookbook") is None
    assert _hooks()._load_errata(root) == []  # the paper's page exists even when empty
    (root / "errata" / "cookbook.yaml").write_text("- {number: 1, title: t}\n", encoding="utf-8")
    assert _hooks()._load_errata(root, "cookbook") == [{"number": 1, "title": "t"}]
    monkeypatch.setenv("MCREF_ERRATA_COOKBOOK", str(root / "nope.yaml"))
    with pytest.raises(PluginError, match="MCREF_ERRATA_COOKBOOK names"):
        _hooks()._load_errata(root, "cookbook")


def test_nav_marker_expands_to_sections() -> None:
    """`mcref:sections` in the nav becomes the section pages and the index of all rules."""
    nav = [{"Home": "index.md"}, {"Rules": "mcref:sections"}, {"Guide": [{"Errata": "errata.md"}]}]
    out = _hooks()._expand_nav(nav, [{"Traces": "traces.md"}], has_errata=True)
    assert out[1] == {"Rules": [{"Traces": "traces.md"}, {"Index of all rules": "all-rules.md"}]}
    assert out[2] == {"Guide": [{"Errata": "errata.md"}]}


def test_nav_concordance_and_optional_pages() -> None:
    """`mcref:concordance` becomes the concordance pages (or nothing); check.md stays only when the page exists."""
    nav = [{"Check a derivative": "check.md"}, {"Guide": [{"Layouts": "layouts.md"}, {"Other references": "mcref:concordance"}]}]
    hooks = _hooks()
    out = hooks._expand_nav(nav, [], True, [{"Cookbook": "concordance/cookbook-2012.md"}], present={"layouts.md"})
    assert out == [{"Guide": [{"Layouts": "layouts.md"}, {"Other references": [{"Cookbook": "concordance/cookbook-2012.md"}]}]}]
    out = hooks._expand_nav(nav, [], True, [], present={"layouts.md", "check.md"})
    assert out == [{"Check a derivative": "check.md"}, {"Guide": [{"Layouts": "layouts.md"}]}]


def test_search_text_cleaning() -> None:
    """Math in search index text becomes plain text; the rest is untouched (and stays escaped)."""
    text = "<p>Note. In numerator layout \\(\\mathbf{B}\\mathbf{A} &lt; \\tr(\\mathbf{X})\\) &amp; more</p>"
    clean = _hooks().clean_search_text(text, {"\\tr": "\\operatorname{tr}"})
    assert clean == "<p>Note. In numerator layout BA &lt; tr(X) &amp; more</p>"


def test_typeset_reports_bad_tex() -> None:
    """A formula KaTeX cannot typeset stops the build, quoting the formula."""
    hooks = _hooks()
    good = hooks.typeset([("x^2", False)], {}, ROOT)
    assert '<span class="katex">' in good[("x^2", False)]
    with pytest.raises(PluginError, match=r"KaTeX cannot typeset these formulas:\n  - '\\\\frac\{x'"):
        hooks.typeset([("\\frac{x", True)], {}, ROOT)
