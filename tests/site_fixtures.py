"""Exports for the site tests: the contract sample, a hostile variant and a bigger one.

Shared by tests/test_site*.py, tests/browser/ and bench/site_bench.py.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "fixtures" / "export-sample.json"

# Debian's chromium, kept off the network: the browser tests and bench/site_bench.py use these.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

HOSTILE_TITLE = '<script>alert(1)</script> & "quotes" *stars*'


def sample_export() -> dict[str, Any]:
    """The export sample of tests/fixtures, as a fresh dict."""
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def _recount(export: dict[str, Any]) -> dict[str, Any]:
    rules = export["rules"]
    statuses = [r["verification"]["status"] for r in rules]
    export["counts"] = {
        "verified": statuses.count("verified"),
        "refuted": statuses.count("refuted"),
        "undecided": statuses.count("undecided"),
        "total": len(rules),
    }
    for section in export["sections"]:
        section["count"] = sum(1 for r in rules if r["section"] == section["slug"])
    return export


def hostile_export() -> dict[str, Any]:
    """The sample plus a rule whose every string tries to inject HTML, and a differential rule."""
    export = sample_export()
    base = export["rules"][1]  # trace-axb
    bad = copy.deepcopy(base)
    bad.update(
        id="trace-hostile",
        title=HOSTILE_TITLE,
        tags=["trace", "<b>tag</b>"],
        aliases=["<img src=x onerror=alert(2)>", "zebra-alias"],
        notes="Watch <em>this</em>: $\\mathbf{A}^{\\top} < \\mathbf{B}$ and the word quokka.",
        conditions="<i>none</i>",
        sources=[{"kind": "reference", "ref": "x", "text": "<a href=javascript:alert(3)>src</a>"}],
        related=["trace-axb"],
    )
    bad["latex"] = dict(base["latex"], display="\\mathbf{A}^{\\top}\\mathbf{B}^{\\top}")
    export["rules"].append(bad)
    diff = copy.deepcopy(base)
    diff.update(
        id="inverse-differential",
        title="Differential of the inverse",
        kind="differential",
        layout="numerator",
        of="inv(X)",
        wrt="X",
        expect="-inv(X) @ d(X) @ inv(X)",
        symbols={"X": {"shape": ["n", "n"], "kind": "matrix", "latex": "\\mathbf{X}"}},
        tags=["inverse"],
        aliases=[],
        notes="",
        related=[],
    )
    diff["latex"] = {
        "of": "\\mathbf{X}^{-1}",
        "wrt": "\\mathbf{X}",
        "derivative": "d(\\mathbf{X}^{-1})",
        "numerator": "-\\mathbf{X}^{-1} \\, d\\mathbf{X} \\, \\mathbf{X}^{-1}",
        "denominator": "-\\mathbf{X}^{-1} \\, d\\mathbf{X} \\, \\mathbf{X}^{-1}",
        "display": None,
    }
    diff["result_shape"] = {"numerator": ["n", "n"], "denominator": ["n", "n"]}
    diff["example"] = {
        "text": "At $\\mathbf{X} = \\mathbf{I}$ the differential is $-d\\mathbf{X}$.",
        "of": "inv(X)",
        "wrt": "X",
        "expect": "-d(X)",
        "latex": None,
    }
    export["rules"].append(diff)
    return _recount(export)


def big_export(per_section: int = 30) -> dict[str, Any]:
    """A section of `per_section` rules (clones of the sample's, with fresh ids), for the bench."""
    export = hostile_export()
    rules = []
    templates = [r for r in export["rules"] if r["id"] != "trace-hostile"]
    for i in range(per_section):
        rule = copy.deepcopy(templates[i % len(templates)])
        rule["id"] = f"{rule['id']}-{i:02d}"
        rule["section"] = "traces"
        rule["related"] = []
        rules.append(rule)
    kept = [dict(r, related=[]) for r in export["rules"] if r["section"] != "traces"]
    export["rules"] = kept + rules
    return _recount(export)


def errata_sample() -> list[dict[str, Any]]:
    """Two errata in the shape of errata/paper.yaml."""
    return [
        {
            "number": 6,
            "title": "Hadamard written as a Kronecker product",
            "where": "section 4.2",
            "paper": "$\\mathbf{w} \\otimes \\mathbf{x}$",
            "problem": "$\\otimes$ usually means the Kronecker product.",
            "correction": "Write $\\mathbf{w} \\odot \\mathbf{x}$.",
            "rule": "elementwise-hadamard-x",
            "note": "The Jacobian is $\\operatorname{diag}(\\mathbf{w})$.",
        },
        {
            "number": 2,
            "title": "A derivative written d/x",
            "where": "section 4.5",
            "paper": "$\\frac{d}{x} u_1$",
            "problem": "The denominator lost its d.",
            "correction": "$\\frac{du_1}{dx}$",
            "rule": None,
            "note": None,
        },
    ]


def build_site(
    export: dict[str, Any], out: Path, *, errata: list[dict[str, Any]] | None = None, strict: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `mkdocs build` of the real mkdocs.yml on `export`, into `out`/site."""
    out.mkdir(parents=True, exist_ok=True)
    export_path = out / "export.json"
    export_path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    full_env = dict(os.environ, MCREF_EXPORT=str(export_path), NO_MKDOCS_2_WARNING="1")
    full_env.pop("SOURCE_DATE_EPOCH", None)
    import yaml

    # Always name an errata file, so the repository's errata/paper.yaml (about the real
    # rules) does not leak into a build of a test export.
    errata_path = out / "errata.yaml"
    errata_path.write_text(yaml.safe_dump(errata or [], allow_unicode=True), encoding="utf-8")
    full_env["MCREF_ERRATA"] = str(errata_path)
    no_cookbook_errata = out / "errata-cookbook.yaml"  # nor errata/cookbook.yaml
    no_cookbook_errata.write_text("[]\n", encoding="utf-8")
    full_env["MCREF_ERRATA_COOKBOOK"] = str(no_cookbook_errata)
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(ROOT / "mkdocs.yml"), "-d", str(out / "site")]
    if strict:
        cmd.append("--strict")
    return subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300, check=False)
