"""Who decides a claim: the exact all-sizes engine first, another check where it cannot.

`EngineChecker` wraps generator.engine.allsizes.decide (seam 8) as a hints.Checker; `FirstThat`
asks a second checker about the claims the first one could not decide, and says so in the
checks it reports. Pure (the engine is), so the browser uses the same code: engine, then
exact evaluation at random points (generator.student.pointeval.PointChecker); the command line:
engine, then SymPy (generator.student.claim_check.SympyChecker), which it imports only then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

from generator.engine.claims import Claim
from generator.student.hints import Decision


def show_sizes(sizes: dict[str, int]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sizes.items()) or "scalars"


def _sizes_list(sizes: Sequence[dict[str, int]], most: int = 4) -> str:
    if all(not s for s in sizes):
        return "the given sizes"
    shown = [show_sizes(s) for s in sizes[:most]]
    more = f" and {len(sizes) - most} more" if len(sizes) > most else ""
    return "; ".join(shown) + more


def _bound(x: float) -> str:
    text = f"{x:.0e}"
    mantissa, _, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else text


def _top(grid: Sequence[dict[str, int]]) -> dict[str, int]:
    top: dict[str, int] = {}
    for sizes in grid:
        for k, v in sizes.items():
            top[k] = max(top.get(k, 0), v)
    return top


@dataclass
class EngineChecker:
    """generator.engine.allsizes: proved for every size, or an exact counterexample; None where it cannot tell."""

    seeds: int = 2

    def decide_or_none(self, claims: Sequence[Claim]) -> list[tuple[Decision | None, str]]:
        """Per claim: the Decision, or None and why the engine leaves it to another check."""
        return [(d, why) for d, why, _ in self.decide_with_probes(claims)]

    def decide_with_probes(self, claims: Sequence[Claim]) -> list[tuple[Decision | None, str, list[dict[str, int]]]]:
        """decide_or_none, plus per claim the sizes where another check must also look (allsizes Decision.probe_sizes:
        where a trap of the claim's shape would show, or where the engine's model differed)."""
        from generator.engine.allsizes import decide

        out: list[tuple[Decision | None, str, list[dict[str, int]]]] = []
        for claim in claims:
            try:
                d = decide(claim, seeds=self.seeds)
            except (RecursionError, MemoryError):
                out.append((None, "ran out of stack or memory", []))
                continue
            except Exception as err:  # noqa: BLE001 - an engine failure leaves the claim to the next checker
                out.append((None, f"failed ({type(err).__name__}: {err})", []))
                continue
            decision = self.translate(claim, d)
            probes = [dict(s) for s in getattr(d, "probe_sizes", [])]
            if decision is not None:
                out.append((decision, "", probes))
            else:
                words = {"outside": "outside its theory", "nonzero": "its model drops a relation this claim needs",
                         "undefined": "a denominator is zero"}.get(d.status, d.status)
                out.append((None, f"{words} ({d.reason})" if d.reason else words, probes))
        return out

    def decide(self, claims: Sequence[Claim]) -> list[Decision]:
        return [d if d is not None else Decision("undecided", "listed-sizes", "Undecided: the all-sizes check cannot decide this claim",
                                                  (f"all-sizes exact check: {why}",), why)
                for d, why in self.decide_or_none(claims)]

    @staticmethod
    def translate(claim: Claim, d: Any) -> Decision | None:
        if d.status == "proved":
            if not claim.scope.dims:  # no dimension letters: the sizes are the ones written
                check = f"exact check at the given sizes, {d.seeds} random points, exact arithmetic modulo 2^61 - 1"
                return Decision("verified", "all-sizes", f"Proved (exact, randomized: error < {_bound(d.error_bound)})", (check,), "")
            sizes = _sizes_list(d.grid, 3)
            check = (f"all-sizes exact check: the identity at {sizes} (the sizes that settle every size), "
                     f"{d.seeds} random points each, exact arithmetic modulo 2^61 - 1")
            where = "".join(f" where {text} is not 0" if i == 0 else f" and {text} is not 0"
                            for i, text in enumerate(getattr(d, "excluded", [])))
            return Decision("verified", "all-sizes", f"Proved for every size{where} (exact, randomized: error < {_bound(d.error_bound)})",
                            (check,), "")
        if d.status == "refuted":
            cx = d.counterexample or {}
            sizes = cx.get("sizes") or {}
            entry = cx.get("entry")
            where = f", entry ({entry[0]}, {entry[1]})" if entry else ""
            layout = f" in {cx['layout']} layout" if cx.get("layout") in ("numerator", "denominator") else ""
            detail = d.reason or f"differs at {show_sizes(sizes)}{layout}{where} (exact)"
            statement = f"Refuted at {show_sizes(sizes)}" if sizes else "Refuted"
            return Decision("refuted", "all-sizes", statement, ("all-sizes exact check: an exact counterexample",), detail,
                            counterexample_sizes=dict(sizes) if sizes else None)
        if d.status == "listed":
            at = _sizes_list(d.checked_sizes)
            return Decision("verified", "listed-sizes",
                            f"Verified at {at} (exact, randomized); not proved for every size: {d.reason}",
                            (f"exact check at listed sizes ({at}), 2 random points each, modulo 2^61 - 1",), "")
        return None  # nonzero, outside, undefined: another check must look


@dataclass
class FirstThat:
    """The first checker decides what it can; the second the rest (with the first one's reason kept)."""

    first: EngineChecker
    second: Any

    def decide(self, claims: Sequence[Claim]) -> list[Decision]:
        firsts = self.first.decide_with_probes(claims)
        # a checker at listed sizes also looks where the engine says a trap would show (it offers with_probes)
        extend = getattr(self.second, "with_probes", None)
        rest = [extend(c, probes) if extend else c for c, (d, _, probes) in zip(claims, firsts) if d is None]
        seconds = iter(self.second.decide(rest)) if rest else iter(())
        out = []
        for d, why, _ in firsts:
            if d is not None:
                out.append(d)
                continue
            other = next(seconds)
            out.append(replace(other, checks=(f"all-sizes exact check: {why}",) + tuple(other.checks)))
        return out
