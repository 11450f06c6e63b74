"""Run verifications in parallel worker processes, each claim with a time limit.

Workers are forked once (after SymPy is warmed up) and each takes claim after claim, so a
corpus costs a few forks, not one per claim. A worker whose claim runs past its limit is
killed, its claim is reported undecided, and a fresh worker takes its place: one runaway
simplification cannot hang a build.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import resource
import time
from typing import Callable

from generator.engine.claims import Claim, Verdict

DEFAULT_TIMEOUT = 180.0  # generous: heavy inverse rules take ~30-60 s on a busy 2-core machine
MEMORY_LIMIT = 4 * 1024**3  # bytes per worker: a blow-up is stopped, not the machine


def _check(claim: Claim) -> Verdict:
    from generator.engine.verify import check_claim  # imported before the fork (warm_up): free here

    try:
        return check_claim(claim)
    except (RecursionError, MemoryError) as err:
        return Verdict("undecided", detail=f"the check ran out of {'memory' if isinstance(err, MemoryError) else 'stack'}")
    except Exception as err:  # noqa: BLE001 - any engine failure is an undecided verdict, never a crash
        return Verdict("undecided", detail=f"the engine could not finish the check ({type(err).__name__}: {err})")


def _serve(conn: multiprocessing.connection.Connection) -> None:
    """A worker: check each claim received until None arrives."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass
    while True:
        try:
            claim = conn.recv()
        except (EOFError, OSError):
            return
        if claim is None:
            return
        conn.send(_check(claim).to_json())


_warmed = False


def warm_up() -> None:
    """Run one small check in this process before forking workers.

    SymPy and lambdify pay ~0.5 s on their first use; forked workers inherit the warmed
    state instead of each paying it again.
    """
    global _warmed
    if _warmed:
        return
    from generator.engine.parse import FunctionSig, Scope, parse_expression
    from generator.engine.verify import check_claim

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


class _Worker:
    def __init__(self, ctx: multiprocessing.context.BaseContext) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.claim: Claim | None = None
        self.started = 0.0

    def give(self, claim: Claim) -> None:
        self.claim, self.started = claim, time.monotonic()
        self.conn.send(claim)

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=None if kill else 5)
        if self.proc.is_alive():  # pragma: no cover - a worker that ignores None
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def verify_claims(claims: list[Claim], jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                  on_done: Callable[[Claim, Verdict], None] | None = None) -> dict[str, Verdict]:
    """Verdict per claim label; claims run in up to `jobs` worker processes at once."""
    ctx = multiprocessing.get_context("fork")
    jobs = max(1, min(jobs or default_jobs(), len(claims) or 1))
    results: dict[str, Verdict] = {}
    if not claims:
        return results
    warm_up()
    pending = list(claims)
    workers = [_Worker(ctx) for _ in range(jobs)]

    def finish(claim: Claim, verdict: Verdict) -> None:
        results[claim.label] = verdict
        if on_done:
            on_done(claim, verdict)

    try:
        while pending or any(w.claim is not None for w in workers):
            for w in workers:
                if w.claim is None and pending:
                    w.give(pending.pop(0))
            busy = {w.conn: w for w in workers if w.claim is not None}
            for conn in multiprocessing.connection.wait(list(busy), timeout=0.2):
                w = busy[conn]
                claim = w.claim
                assert claim is not None
                try:
                    verdict = Verdict.from_json(conn.recv())
                except (EOFError, OSError):  # the worker died (out of memory?): replace it
                    verdict = Verdict("undecided", detail="the check's worker process died (out of memory?)")
                    w.stop(kill=True)
                    workers[workers.index(w)] = _Worker(ctx)
                else:
                    w.claim = None
                finish(claim, verdict)
            now = time.monotonic()
            for i, w in enumerate(workers):
                if w.claim is not None and now - w.started > timeout:
                    claim = w.claim
                    w.stop(kill=True)
                    workers[i] = _Worker(ctx)
                    finish(claim, Verdict("undecided", seconds=timeout,
                                          detail=f"the check ran past its time limit of {timeout:g} s"))
    finally:
        for w in workers:
            w.stop(kill=w.claim is not None)
    return results
