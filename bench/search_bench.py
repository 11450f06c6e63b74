"""Search bench: the query set of tests/fixtures/search-queries.yaml against the real rules,
run with the site's own search code (site/assets/js/mcref-search.js + MiniSearch) under node.

    python bench/search_bench.py [--export FILE] [--verbose]

Goals: >= 90% of queries with a wanted rule in the top 3 (the tuning set and the held-out set
of tests/fixtures/search-queries-heldout.yaml); every exact id first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
from search_support import HELDOUT, QUERIES, load_queries, run_node, score  # noqa: E402

from generator.render.site import search_documents  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, help="an export (JSON) instead of checking rules/")
    parser.add_argument("--verbose", action="store_true", help="print every query's top 3")
    args = parser.parse_args()
    if args.export:
        export = json.loads(args.export.read_text(encoding="utf-8"))
    else:
        from generator.pipeline import export_rules

        export = export_rules(ROOT / "rules")
    docs = search_documents(export)
    queries = load_queries(QUERIES)
    started = time.perf_counter()
    results = run_node(docs, [q["q"] for q in queries])["results"]
    took = time.perf_counter() - started
    passed, firsts, failures = score(queries, results)
    heldout = load_queries(HELDOUT)
    held_passed, _, held_failures = score(heldout, run_node(docs, [q["q"] for q in heldout])["results"])
    ids = [d["id"] for d in docs["docs"] if d["k"] == "r"]
    id_results = run_node(docs, ids)["results"]
    ids_first = sum(1 for rid, got in zip(ids, id_results) if got and got[0] == rid)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"machine load average: {' '.join(load)} ({os.cpu_count()} cores)")
    print(f"search documents: {len(ids)} rules, {len(docs['docs']) - len(ids)} sections, "
          f"{len(json.dumps(docs, ensure_ascii=False).encode()) / 1000:.0f} kB")
    rate = passed / len(queries)
    print(f"query set: {passed} of {len(queries)} with a wanted rule in the top 3 ({rate:.0%})  goal >= 90%: "
          + ("ok" if rate >= 0.9 else "MISSED"))
    held_rate = held_passed / len(heldout)
    print(f"held-out set (first runs in its header): {held_passed} of {len(heldout)} in the top 3 ({held_rate:.0%})  goal >= 90%: "
          + ("ok" if held_rate >= 0.9 else "MISSED"))
    print(f"every rule id typed: {ids_first} of {len(ids)} first  goal all: " + ("ok" if ids_first == len(ids) else "MISSED"))
    print(f"node run of {len(queries)} queries (index build included): {took:.2f} s")
    for failure in failures:
        print("  missed:", failure)
    for failure in held_failures:
        print("  missed (held out):", failure)
    if args.verbose:
        for q, got in zip(queries, results):
            print(f"  {q['q']!r}: {got[:3]}")
    return 0 if rate >= 0.9 and held_rate >= 0.9 and ids_first == len(ids) else 1


if __name__ == "__main__":
    sys.exit(main())
