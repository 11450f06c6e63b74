"""Run verifications in parallel worker processes, each with a time limit.

A worker that runs past its limit is killed and its claim is reported undecided, so one
runaway simplification cannot hang a build.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import resource
import time
from typing import Callable

from generator.claims import Claim, Verdict

DEFAULT_TIMEOUT = 180.0  # generous: heavy inverse rules take ~30-60 s on a busy 2-core machine
MEMORY_LIMIT = 4 * 1024**3  # bytes per worker: a blow-up is stopped, not the machine


def _work(claim: Claim, conn: multiprocessing.connection.Connection) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    from generator.verify import check_claim  # imported before the fork (warm_up): free here

    try:
        verdict = check_claim(claim)
    except (RecursionError, MemoryError) as err:
        verdict = Verdict("undecided", detail=f"the check ran out of {'memory' if isinstance(err, MemoryError) else 'stack'}")
    except Exception as err:  # noqa: BLE001 - any engine failure is an undecided verdict, never a crash
        verdict = Verdict("undecided", detail=f"the engine could not finish the check ({type(err).__name__}: {err})")
    conn.send(verdict.to_json())
    conn.close()


_warmed = False


def warm_up() -> None:
    """Run one small check in this process before forking workers.

    SymPy and lambdify pay ~0.5 s on their first use; forked workers inherit the warmed
    state instead of each paying it again.
    """
    global _warmed
    if _warmed:
        return
    from generator.parse import FunctionSig, Scope, parse_expression
    from generator.verify import check_claim

    scope = Scope({"x": ("n", 1), "A": ("n", "n")}, {"f": FunctionSig(((1, 1),), (1, 1))}, ("n",))
    of = parse_expression("sum(f(A @ x)) + log(exp(sum(x))) + sum(relu(x))", scope)
    expect = parse_expression("A.T @ D(f, A @ x) + ones(n) + step(x)", scope)
    try:
        check_claim(Claim("warm-up", "derivative", "denominator", scope, of, "x", expect, {}, ((("n", 2),),)))
    except Exception:  # noqa: BLE001 - only an optimisation: a failure shows up in the real checks
        pass
    _warmed = True


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def verify_claims(claims: list[Claim], jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                  on_done: Callable[[Claim, Verdict], None] | None = None) -> dict[str, Verdict]:
    """Verdict per claim label; claims run in up to `jobs` processes at once."""
    ctx = multiprocessing.get_context("fork")
    jobs = jobs or default_jobs()
    if claims:
        warm_up()
    pending = list(claims)
    running: dict[multiprocessing.connection.Connection, tuple[Claim, multiprocessing.process.BaseProcess, float]] = {}
    results: dict[str, Verdict] = {}

    def finish(claim: Claim, verdict: Verdict) -> None:
        results[claim.label] = verdict
        if on_done:
            on_done(claim, verdict)

    while pending or running:
        while pending and len(running) < jobs:
            claim = pending.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_work, args=(claim, child), daemon=True)
            proc.start()
            child.close()
            running[parent] = (claim, proc, time.monotonic())
        ready = multiprocessing.connection.wait(list(running), timeout=0.2)
        for conn in ready:
            claim, proc, _ = running.pop(conn)  # type: ignore[index]
            try:
                verdict = Verdict.from_json(conn.recv())
            except (EOFError, OSError):
                verdict = Verdict("undecided", detail="the check's worker process died (out of memory?)")
            conn.close()
            proc.join()
            finish(claim, verdict)
        now = time.monotonic()
        for conn, (claim, proc, started) in list(running.items()):
            if now - started > timeout:
                proc.kill()
                proc.join()
                conn.close()
                del running[conn]
                finish(claim, Verdict("undecided", seconds=timeout,
                                      detail=f"the check ran past its time limit of {timeout:g} s"))
    return results
