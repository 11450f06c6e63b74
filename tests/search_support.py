"""Run the site's search (site/assets/js/mcref-search.js with MiniSearch) under node on a
set of search documents and queries; shared by tests/test_site_search.py and bench/search_bench.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "fixtures" / "search-queries.yaml"
#: Queries written before the search was measured on their rules and never tuned on.
HELDOUT = ROOT / "tests" / "fixtures" / "search-queries-heldout.yaml"

_RUNNER = r"""
const fs = require("fs");
const MiniSearch = require(process.argv[1] + "/node_modules/minisearch/dist/cjs/index.cjs");
const core = require(process.argv[1] + "/site/assets/js/mcref-search.js");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const engine = core.createSearch(MiniSearch, input.documents);
const out = {results: input.queries.map(q => engine.search(q, 10).map(r => r.doc.id)),
             keys: input.keys.map(k => core.formulaKey(k)),
             spoken: (input.spoken || []).map(q => core.spoken(q)),
             unified: (input.unified || []).map(k => core.formulaKey(core.constantsUnified(k))),
             renamed: (input.renamed || []).map(([t, w]) => core.formulaKey(core.lettersRenamed(t, w).text))};
process.stdout.write(JSON.stringify(out));
"""


def load_queries(path: Path = QUERIES) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def run_node(documents: dict[str, Any], queries: list[str], keys: list[str] = (), spoken: list[str] = (),
             unified: list[str] = (), renamed: list[tuple[str, str]] = ()) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is needed to run the site's search")
    payload = json.dumps({"documents": documents, "queries": queries, "keys": list(keys), "spoken": list(spoken),
                          "unified": list(unified), "renamed": [list(r) for r in renamed]})
    proc = subprocess.run([node, "-e", _RUNNER, str(ROOT)], input=payload, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout)


def score(queries: list[dict[str, Any]], results: list[list[str]]) -> tuple[int, int, list[str]]:
    """(passed, firsts wanted and first, failures as text): a query passes when an expected
    rule is in the top 3 (first, for `first: true`)."""
    passed, failures = 0, []
    for q, got in zip(queries, results):
        pos = next((i for i, rid in enumerate(got) if rid in q["expect"]), None)
        ok = pos == 0 if q.get("first") else pos is not None and pos < 3
        passed += ok
        if not ok:
            failures.append(f"{q['q']!r}: got {got[:3]}, want one of {q['expect']}")
    return passed, sum(1 for q in queries if q.get("first")), failures
