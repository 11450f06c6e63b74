"""The browser's entry point: the "Check a derivative" page calls `check` through Pyodide.

Pure: the same claim parser and hints as `mcref check`, with the best checker that runs
without SymPy or NumPy. Returns plain JSON-ready data for the page's script.
"""

from __future__ import annotations

import time
from typing import Any

from generator.student.claim import from_command_line
from generator.student.exprtext import to_text
from generator.student.hints import judge
from generator.render.latex import Printer, derivative_latex, symbol_latex
from generator.engine.parse import is_scalar, walk

FIELDS = ("of", "wrt", "expect", "symbols", "assume", "layout", "where", "functions", "order")


def checker() -> Any:
    """The exact all-sizes engine; where it cannot decide, exact evaluation at random points (no SymPy here)."""
    from generator.student.claim_deciders import EngineChecker, FirstThat
    from generator.student.pointeval import PointChecker

    return FirstThat(EngineChecker(), PointChecker())


def check(fields: dict[str, Any]) -> dict[str, Any]:
    """One claim from the page's fields (named like the command line's flags) -> verdict, hints, problems.

    Never raises: an engine failure is reported as status "error" with one line, no traceback.
    """
    try:
        return _check(fields)
    except RecursionError:
        return {"status": "error", "message": "the claim nests too deeply to check", "problems": []}
    except Exception as err:  # noqa: BLE001 - the page shows a message, never a traceback
        return {"status": "error", "message": f"the checker failed ({type(err).__name__}: {err})", "problems": []}


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    given = {k: (str(fields[k]) if fields.get(k) not in (None, "") else None) for k in FIELDS}
    sc, problems = from_command_line(given["of"], given["wrt"], given["expect"], given["symbols"], given["assume"],
                                     given["layout"], given["functions"], given["where"], label="claim", order=given["order"])
    if sc is None:
        return {
            "status": "invalid",
            "problems": [{"field": p.path.lstrip("-"), "col": p.col, "code": p.code, "message": p.message, "line": p.format()}
                         for p in problems],
            "seconds": round(time.perf_counter() - start, 3),
        }
    j = judge(sc, checker(), "browser")
    out = j.to_json()
    printer = Printer(sc.scope)
    of_tex = printer.latex(sc.written_of)
    if sc.wrt_names:  # wrt x, y: by the stacked vector (x, y)
        wrt_tex = "\\left(" + ", ".join(symbol_latex(n, sc.scope.symbols[n]) for n in sc.wrt_names) + "\\right)"
    else:
        wrt_tex = symbol_latex(sc.wrt, sc.scope.symbols[sc.wrt])
    used = {e.name for e in walk(sc.of) if e.op == "sym"}
    single = is_scalar(sc.scope.symbols[sc.wrt]) and used <= {sc.wrt}
    lhs = derivative_latex(of_tex, sc.written_of, wrt_tex, sc.kind, single, order=sc.order,
                           wrt_is_scalar=is_scalar(sc.scope.symbols[sc.wrt]))
    out["claim"] = {
        "of": to_text(sc.written_of), "wrt": sc.wrt, "expect": to_text(sc.written_expect),
        "where": [{"name": n, "expr": to_text(e)} for n, e in sc.where_written],
        "latex": {"of": of_tex, "wrt": wrt_tex,
                  "expect": printer.latex(sc.written_expect), "kind": sc.kind, "order": sc.order, "lhs": lhs,
                  "symbols": {**{name: symbol_latex(name, shape) for name, shape in sc.scope.symbols.items()},
                              f"d({sc.wrt})": "\\mathrm{d}" + wrt_tex}},
    }
    out["problems"] = []
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out
