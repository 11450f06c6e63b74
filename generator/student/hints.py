"""A verdict that teaches: in which layout a claim holds, and if it does not, why.

`judge` takes a parsed StudentClaim and a Checker (what decides a Claim: the exact
all-sizes engine, the SymPy check, or both) and returns a Judgement:

- the verdict, in every layout the claim's shape allows when it names none;
- for a refuted claim, a counterexample a student can read (sizes, small integer values,
  the 1-based entry, both values, the true derivative as a small matrix), and the usual
  slips tested one by one: the other layout, a symmetric-only shortcut, a missing or extra
  transpose of one factor, a factor 2, the sign, swapped factors. A slip is reported only
  when the repaired claim is decided true by the checker, not merely at a random point.

Pure (standard library and the pure modules of generator/): the same code runs on the
command line and in the browser, so both print the same verdict and hints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Protocol, Sequence

from generator.student.claim import LAYOUTS, StudentClaim
from generator.engine.claims import Claim
from generator.student.exprtext import gather_constants, scaled, substitute, to_text
from generator.engine.parse import Expr, ExprError, inline, parse_expression, transposed, walk
from generator.student.pointeval import Values, agrees, same_value, witness

MAX_SHOWN = 4  # show the true derivative as a matrix up to 4 x 4
MAX_REPAIRS = 2  # the likeliest explanations; more reads like guessing
SYMMETRIC_KINDS = ("symmetric", "spd", "diagonal")


@dataclass(frozen=True)
class Decision:
    """What a checker decided about one Claim."""

    status: str  # verified | refuted | undecided
    scope: str = "listed-sizes"  # all-sizes | listed-sizes
    statement: str = ""  # one plain sentence, e.g. "Proved for every size (exact, randomized: error < 1e-15)"
    checks: tuple[str, ...] = ()  # the checks that ran, in plain words
    detail: str = ""  # the checker's own detail (a refutation's entry and values, or why undecided)
    counterexample_sizes: dict[str, int] | None = None  # where a refutation was found, if the checker says


class Checker(Protocol):
    """Decides claims; a batch may run in parallel."""

    def decide(self, claims: Sequence[Claim]) -> list[Decision]: ...


@dataclass(frozen=True)
class Repair:
    """A slip whose repair makes the claim true."""

    kind: str  # layout | symmetric | transpose | factor | sign | swap
    message: str  # plain words, with the repaired expression
    expect: str  # the repaired expect ("" when only an assumption is added)
    layout: str
    assume: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Counterexample:
    """Values at a concrete point where the claim and the derivative differ."""

    sizes: dict[str, int]
    layout: str
    row: int  # 1-based
    col: int  # 1-based
    point: dict[str, list[list[Any]]]
    truth: list[list[Any]]
    claimed: list[list[Any]]
    exact: bool
    show_point: bool  # False when generic functions make the values meaningless to a reader
    what: str = ""  # "the derivative (denominator layout)", "the Hessian", "the differential", ...


@dataclass(frozen=True)
class Judgement:
    label: str
    status: str  # verified | refuted | undecided
    kind: str
    holds_in: tuple[str, ...]
    layout_note: str
    decisions: dict[str, Decision]  # per layout tried
    counterexample: Counterexample | None = None
    repairs: tuple[Repair, ...] = ()
    tried: tuple[str, ...] = ()  # kinds of slips tested
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    text: dict[str, str] = field(default_factory=dict)

    @property
    def decision(self) -> Decision:
        """The decision the verdict rests on: the first layout it holds in, else the first tried."""
        for layout in self.holds_in:
            return self.decisions[layout]
        undecided = [d for d in self.decisions.values() if d.status == "undecided"]
        return undecided[0] if undecided and self.status == "undecided" else next(iter(self.decisions.values()))

    def to_json(self) -> dict[str, Any]:
        """Plain data for the browser page (numbers as strings: fractions stay exact)."""
        cx = self.counterexample
        return {
            "label": self.label, "status": self.status, "kind": self.kind, "holds_in": list(self.holds_in),
            "layout_note": self.layout_note,
            "decision": _decision_json(self.decision),
            "decisions": {k: _decision_json(v) for k, v in self.decisions.items()},
            "counterexample": None if cx is None else {
                "sizes": cx.sizes, "layout": cx.layout, "what": cx.what, "row": cx.row, "col": cx.col, "exact": cx.exact,
                "show_point": cx.show_point,
                "point": {k: _rows(v) for k, v in cx.point.items()} if cx.show_point else {},
                "truth": _rows(cx.truth), "claimed": _rows(cx.claimed),
            },
            "repairs": [{"kind": r.kind, "message": r.message, "expect": r.expect, "layout": r.layout,
                         "assume": {k: list(v) for k, v in r.assume.items()}} for r in self.repairs],
            "tried": list(self.tried), "notes": list(self.notes), "seconds": round(self.seconds, 3),
            "lines": self.lines(),
        }

    def lines(self) -> list[str]:
        """The verdict and hints as plain text lines (the command line prints them indented)."""
        out: list[str] = []
        d = self.decision
        if self.status == "verified":
            out.append(self.layout_note)
            out.append(d.statement or "verified")
        elif self.status == "undecided":
            out.append(f"undecided: {d.detail or d.statement}")
            if self.layout_note:
                out.append(self.layout_note)
        else:
            out.append(self.layout_note)
            cx = self.counterexample
            if cx is not None:
                out.extend(counterexample_lines(cx, self.kind))
            elif d.detail:
                out.append(f"the check found: {d.detail}")
            if self.repairs:
                for r in self.repairs:
                    out.append(f"probably: {r.message}")
            elif self.tried:
                out.append("none of the usual slips (" + ", ".join(self.tried) + ") makes it hold")
            out.extend(f"note: {n}" for n in self.notes)
        deciding = [self.decisions[lay] for lay in self.holds_in] if self.status == "verified" else list(self.decisions.values())
        checks = [c for dec in deciding for c in dec.checks]
        if checks:
            out.append("checks run: " + "; ".join(dict.fromkeys(checks)))
        return [line for line in out if line]


def _decision_json(d: Decision) -> dict[str, Any]:
    return {"status": d.status, "scope": d.scope, "statement": d.statement, "checks": list(d.checks), "detail": d.detail}


def _rows(m: list[list[Any]]) -> list[list[str]]:
    return [[show_number(x) for x in row] for row in m]


# ------------------------------------------------------------------ numbers and matrices as text

def show_number(x: Any) -> str:
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    value = float(x)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def show_matrix(m: list[list[Any]]) -> str:
    """[1 2; 3 4] for a matrix, [1; 2] for a column, [1 2] for a row, 3 for a scalar."""
    if len(m) == 1 and len(m[0]) == 1:
        return show_number(m[0][0])
    return "[" + "; ".join(" ".join(show_number(x) for x in row) for row in m) + "]"


def entry_words(row: int, col: int, truth: list[list[Any]]) -> str:
    rows, cols = len(truth), len(truth[0])
    if rows == 1 and cols == 1:
        return "the value"
    if cols == 1:
        return f"entry {row}"
    if rows == 1:
        return f"entry {col}"
    return f"entry ({row}, {col})"


def show_sizes(sizes: dict[str, int]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sizes.items())


def counterexample_lines(cx: Counterexample, kind: str) -> list[str]:
    approx = "" if cx.exact else " (rounded)"
    what = cx.what or f"the derivative ({cx.layout} layout)"
    at = f" at {show_sizes(cx.sizes)}" if cx.sizes else ""
    where = entry_words(cx.row, cx.col, cx.truth)
    t, c = cx.truth[cx.row - 1][cx.col - 1], cx.claimed[cx.row - 1][cx.col - 1]
    lines = []
    if cx.show_point:
        point = ", ".join(f"{name} = {show_matrix(v)}" for name, v in cx.point.items())
        lines.append(f"counterexample{at} with {point}:")
    else:
        lines.append(f"counterexample{at} (generic functions replaced by fixed quadratic maps):")
    lines.append(f"  {where} of {what} is {show_number(t)}, the claim gives {show_number(c)}{approx}")
    small = len(cx.truth) <= MAX_SHOWN and len(cx.truth[0]) <= MAX_SHOWN
    if small and cx.show_point and (len(cx.truth) > 1 or len(cx.truth[0]) > 1):
        true = "true Hessian" if cx.what == "the Hessian" else "true value" if "differential" in cx.what else "true derivative"
        lines.append(f"  {true} {show_matrix(cx.truth)}, claim {show_matrix(cx.claimed)}{approx}")
    lines.append("  (entries are numbered from 1: row, then column)" if len(cx.truth) > 1 and len(cx.truth[0]) > 1
                 else "  (entries are numbered from 1)" if len(cx.truth) > 1 or len(cx.truth[0]) > 1 else "")
    return [line for line in lines if line]


# ------------------------------------------------------------------ judging

def other_layout(layout: str) -> str:
    return "numerator" if layout == "denominator" else "denominator"


def _preferred(layouts: Sequence[str]) -> str:
    return "denominator" if "denominator" in layouts else layouts[0]


def transpose_text(sc: StudentClaim, expect: Expr) -> str:
    symmetric = frozenset(n for n, props in sc.assume.items() if set(props) & set(SYMMETRIC_KINDS))
    return to_text(gather_constants(transposed(expect, symmetric)))


def layout_note(sc: StudentClaim, holds: Sequence[str]) -> str:
    """Where the claim holds, in words: what a student needs about layout and nothing more."""
    second = "second " if sc.order == 2 else ""
    if sc.kind == "differential":
        return f"holds as a {second}differential" if holds else f"does not hold as a {second}differential"
    if sc.order == 2 and not sc.scope.symbols[sc.wrt] == (1, 1):
        return "holds: the Hessian (the same in both layouts)" if holds else "does not hold: not the Hessian"
    shapes = sc.derivative_shape
    scalar = shapes["numerator"] == (1, 1)
    if not holds:
        if sc.stated_layout:
            return f"does not hold in {sc.stated_layout} layout"
        return "does not hold in either layout" if len(sc.layouts) == 2 else f"does not hold in {sc.layouts[0]} layout (the only layout its shape fits)"
    if scalar:
        return "holds (a scalar derivative: the same in both layouts)"
    if len(holds) == 2:
        return "holds in both layouts: here the derivative equals its own transpose"
    layout = holds[0]
    stated = " (as stated)" if sc.stated_layout == layout else ""
    return (f"holds in {layout} layout{stated}; in {other_layout(layout)} layout the derivative is its transpose, "
            f"{transpose_text(sc, sc.written_expect)}")


def judge(sc: StudentClaim, checker: Checker, surface: str = "cli", find_repairs: bool = True) -> Judgement:
    """Decide the claim in every layout it may be meant in; explain a refutation."""
    start = time.perf_counter()
    layouts = sc.layouts
    claims = [sc.claim(layout, label=f"{sc.label} ({layout})") for layout in layouts]
    decided = dict(zip(layouts, checker.decide(claims)))
    holds = tuple(lay for lay in layouts if decided[lay].status == "verified")
    if holds:
        status = "verified"
    elif any(d.status == "undecided" for d in decided.values()):
        status = "undecided"
    else:
        status = "refuted"
    note = layout_note(sc, holds) if status != "undecided" else ""
    if status != "refuted":
        return Judgement(sc.label, status, sc.kind, holds, note, decided, seconds=time.perf_counter() - start, text=sc.text)
    layout = sc.stated_layout or _preferred(layouts)
    found_at = [d.counterexample_sizes for d in decided.values() if d.counterexample_sizes]
    # The explanation is help on top of the verdict: if finding it fails, the verdict still stands.
    try:
        cx = _counterexample(sc, layout, found_at)
    except (RecursionError, MemoryError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError):
        cx = None
    repairs: tuple[Repair, ...] = ()
    tried: tuple[str, ...] = ()
    if find_repairs:
        try:
            repairs, tried = find_slips(sc, checker, surface)
        except (RecursionError, MemoryError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError):
            repairs, tried = (), ()
    return Judgement(sc.label, status, sc.kind, holds, note, decided, cx, repairs, tried, sc.notes,
                     time.perf_counter() - start, sc.text)


def _counterexample(sc: StudentClaim, layout: str, first: Sequence[dict[str, int]] = ()) -> Counterexample | None:
    """Small integer values where the claim fails: at the default sizes, else where the checker found it."""
    claim = sc.claim(layout)
    sizes_list = [dict(s) for s in sc.sizes] + [dict(s) for s in first if dict(s) not in [dict(x) for x in sc.sizes]]
    values: Values | None = witness(claim, sizes_list)
    if values is None:
        return None
    where = values.first_difference()
    if where is None:  # pragma: no cover - witness returns differing values only
        return None
    generic = any(e.op in ("apply", "D") for ex in (sc.of, sc.expect) for e in walk(ex))
    second = "second " if sc.order == 2 else ""
    if sc.kind == "differential":
        what = f"the {second}differential"
    elif sc.order == 2 and sc.scope.symbols[sc.wrt] != (1, 1):
        what = "the Hessian"
    else:
        what = f"the {second}derivative ({values.layout} layout)"
    point = {k: v for k, v in values.point.items() if not (sc.parts and k == sc.wrt)}  # x and y, not "(x, y)"
    return Counterexample(values.sizes, values.layout, where[0] + 1, where[1] + 1, point, values.truth,
                          values.claimed, values.exact, not generic, what)


# ------------------------------------------------------------------ the usual slips

@dataclass(frozen=True)
class _Candidate:
    kind: str
    expect: Expr
    layout: str
    assume: dict[str, tuple[str, ...]]
    order: int


def _reparse(sc: StudentClaim, expr: Expr) -> Expr | None:
    """Print and parse again: a candidate must be valid rule language with the derivative's shape."""
    try:
        return parse_expression(to_text(expr), sc.scope)
    except (ExprError, RecursionError, ValueError):
        return None


def _symbol_occurrences(expr: Expr) -> list[tuple[int, ...]]:
    """Paths (child indices) to every non-scalar symbol, and to every transposed symbol."""
    paths: list[tuple[int, ...]] = []

    def visit(e: Expr, path: tuple[int, ...]) -> None:
        if e.op == "sym" and not e.is_scalar:
            paths.append(path)
            return
        if e.op == "T" and e.args[0].op in ("sym", "call", "apply", "ref"):
            paths.append(path)
            if e.args[0].op == "sym":
                return
        for i, a in enumerate(e.args):
            visit(a, path + (i,))

    visit(expr, ())
    return paths


def _replace_at(expr: Expr, path: tuple[int, ...], fn: Any) -> Expr:
    if not path:
        return fn(expr)
    i = path[0]
    args = list(expr.args)
    args[i] = _replace_at(args[i], path[1:], fn)
    return Expr(expr.op, tuple(args), expr.shape, expr.name, expr.value)


def _flip(e: Expr) -> Expr:
    if e.op == "T":
        return e.args[0]
    return Expr("T", (e,), (e.shape[1], e.shape[0]))


def _matmul_paths(expr: Expr) -> list[tuple[int, ...]]:
    paths: list[tuple[int, ...]] = []

    def visit(e: Expr, path: tuple[int, ...]) -> None:
        if e.op == "matmul":
            paths.append(path)
        for i, a in enumerate(e.args):
            visit(a, path + (i,))

    visit(expr, ())
    return paths


def _chain(e: Expr) -> list[Expr]:
    if e.op == "matmul":
        return _chain(e.args[0]) + _chain(e.args[1])
    return [e]


def _rechain(factors: list[Expr]) -> Expr:
    out = factors[0]
    for f in factors[1:]:
        out = Expr("matmul", (out, f), (out.shape[0], f.shape[1]))
    return out


def candidates(sc: StudentClaim) -> list[_Candidate]:
    """The usual slips, each as a repaired claim, most likely first."""
    expect = sc.written_expect
    targets = [sc.stated_layout] if sc.stated_layout else list(sc.layouts)
    out: list[_Candidate] = []
    order = 0

    def add(kind: str, expr: Expr | None, layouts: Sequence[str], assume: dict[str, tuple[str, ...]] | None = None) -> None:
        nonlocal order
        if expr is None:
            return
        for layout in layouts:
            order += 1
            out.append(_Candidate(kind, expr, layout, assume if assume is not None else sc.assume, order))

    shapes = sc.derivative_shape
    # the other layout: the same expression, read in the layout the student did not name
    if sc.stated_layout and sc.kind == "derivative":
        other = other_layout(sc.stated_layout)
        if shapes[other] == expect.shape:
            add("layout", expect, [other])
    # a symmetric-only shortcut
    for name, shape in sc.scope.symbols.items():
        if shape[0] == shape[1] and shape != (1, 1) and not set(sc.assume.get(name, ())) & set(SYMMETRIC_KINDS):
            assumed = {**sc.assume, name: tuple(sc.assume.get(name, ())) + ("symmetric",)}
            add(f"symmetric:{name}", expect, targets, assumed)
    # one transpose missing or extra
    for path in _symbol_occurrences(expect):
        add("transpose", _reparse(sc, _replace_at(expect, path, _flip)), targets)
    # a factor 2 or the sign
    for q in (Fraction(2), Fraction(1, 2), Fraction(-1), Fraction(-2), Fraction(-1, 2)):
        kind = "sign" if q == -1 else "factor"
        add(kind, _reparse(sc, scaled(q, expect, expect.shape)), targets)
    # swapped factors
    for path in _matmul_paths(expect):
        def swap(e: Expr) -> Expr:
            return Expr("matmul", (e.args[1], e.args[0]), e.shape)
        add("swap", _reparse(sc, _replace_at(expect, path, swap)), targets)
        node = expect
        for i in path:
            node = node.args[i]
        chain = _chain(node)
        if len(chain) > 2:
            add("swap", _reparse(sc, _replace_at(expect, path, lambda e: _rechain(_chain(e)[::-1]))), targets)
    # the other layout together with a factor or the sign
    if sc.stated_layout and sc.kind == "derivative":
        other = other_layout(sc.stated_layout)
        if shapes[other] == expect.shape:
            for q in (Fraction(2), Fraction(1, 2), Fraction(-1)):
                add("layout+" + ("sign" if q == -1 else "factor"), _reparse(sc, scaled(q, expect, expect.shape)), [other])
    return out


KIND_WORDS = {
    "layout": "the other layout", "symmetric": "a symmetric-only shortcut", "transpose": "a transpose",
    "factor": "a factor 2", "sign": "the sign", "swap": "swapped factors",
}


def find_slips(sc: StudentClaim, checker: Checker, surface: str, confirm_at_most: int = 3) -> tuple[tuple[Repair, ...], tuple[str, ...]]:
    """Test the usual slips at random points, then confirm the likely ones with the checker."""
    cands = candidates(sc)
    tried = tuple(dict.fromkeys(KIND_WORDS[c.kind.split(":")[0].split("+")[0]] for c in cands))
    plausible: list[_Candidate] = []
    seen: set[str] = set()
    for cand in cands:
        key = f"{cand.layout}|{to_text(cand.expect)}|{sorted(cand.assume.items())}"
        if key in seen:
            continue
        seen.add(key)
        claim = replace(sc.claim(cand.layout, cand.expect, cand.assume), label=f"{sc.label} slip {cand.order}")
        if agrees(claim):
            plausible.append(cand)
    if not plausible:
        return (), tried
    # a symmetric-only shortcut: also look for the form that holds for every matrix
    general: dict[int, Expr] = {}
    for cand in plausible:
        if cand.kind.startswith("symmetric:"):
            name = cand.kind.split(":", 1)[1]
            sym = Expr("sym", shape=sc.scope.symbols[name], name=name)
            half = Expr("div", (Expr("add", (sym, Expr("T", (sym,), (sym.shape[1], sym.shape[0]))), sym.shape),
                                Expr("const", value=2)), sym.shape)
            form = _reparse(sc, gather_constants(substitute(sc.written_expect, name, half)))
            if form is not None and agrees(sc.claim(cand.layout, form)):
                general[cand.order] = form
    chosen = plausible[:confirm_at_most]
    to_check = [replace(sc.claim(c.layout, c.expect, c.assume), label=f"{sc.label} slip {c.order}") for c in chosen]
    to_check += [replace(sc.claim(c.layout, general[c.order]), label=f"{sc.label} general {c.order}") for c in chosen if c.order in general]
    decisions = checker.decide(to_check)
    verdict = {claim.label: d for claim, d in zip(to_check, decisions)}
    repairs: list[Repair] = []
    for c in chosen:
        if verdict[f"{sc.label} slip {c.order}"].status != "verified":
            continue
        form = general.get(c.order)
        if form is not None and verdict[f"{sc.label} general {c.order}"].status != "verified":
            form = None
        repair = _repair(sc, c, form, surface)
        same = [i for i, r in enumerate(repairs) if repair.expect and (r.layout == repair.layout or r.expect == repair.expect)
                and r.kind == repair.kind and _same_repair(sc, r, repair)]
        if same:  # the same repaired expression, found as another slip: keep the shorter way to write it
            if len(repair.expect) < len(repairs[same[0]].expect):
                repairs[same[0]] = repair
            continue
        if repair.expect and any((r.layout == repair.layout or r.expect == repair.expect) and _same_repair(sc, r, repair) for r in repairs):
            continue
        repairs.append(repair)
    # a shortcut that needs an assumption explains less than a repair that holds for every matrix
    repairs.sort(key=lambda r: r.kind == "symmetric" and not r.expect)
    return tuple(repairs[:MAX_REPAIRS]), tried


def _same_repair(sc: StudentClaim, a: Repair, b: Repair) -> bool:
    """Two repairs that write the same derivative (inv(X).T and inv(X.T)) are one explanation."""
    if not a.expect or not b.expect:
        return False
    if a.expect == b.expect:
        return True
    try:
        ea, eb = parse_expression(a.expect, sc.scope), parse_expression(b.expect, sc.scope)
    except ExprError:
        return False
    claim = sc.claim(a.layout)
    where = dict(sc.where)
    return same_value(claim, inline(ea, where) if where else ea, inline(eb, where) if where else eb)


def _assume_words(name: str, prop: str, surface: str) -> str:
    if surface == "file":
        return f"assume: {{{name}: [{prop}]}}"
    if surface == "browser":
        return f"{name}: {prop} under assume"
    return f"--assume '{name}: {prop}'"


def _layout_words(layout: str, surface: str) -> str:
    if surface == "file":
        return f"layout: {layout}"
    if surface == "browser":
        return f"{layout} layout"
    return f"--layout {layout}"


def _repair(sc: StudentClaim, c: _Candidate, general: Expr | None, surface: str) -> Repair:
    text = to_text(gather_constants(c.expect))
    kind = c.kind.split(":")[0]
    if kind == "layout":
        message = (f"your expression is the derivative in {c.layout} layout ({_layout_words(c.layout, surface)}); "
                   f"in {sc.stated_layout} layout the derivative is its transpose, {transpose_text(sc, c.expect)}")
        return Repair("layout", message, transpose_text(sc, c.expect), sc.stated_layout or c.layout)
    if kind.startswith("layout+"):
        fixed = transpose_text(sc, c.expect)
        message = (f"the layout and {'the sign' if kind.endswith('sign') else 'a factor'}: in {sc.stated_layout} layout "
                   f"the derivative is {fixed}")
        return Repair("layout", message, fixed, sc.stated_layout or c.layout)
    if kind == "symmetric":
        name = c.kind.split(":", 1)[1]
        words = f"it holds only when {name} is symmetric: add {_assume_words(name, 'symmetric', surface)}"
        if general is not None:
            words += f", or write {to_text(general)}, which holds for every {name}"
        return Repair("symmetric", words, to_text(general) if general is not None else "", c.layout, {name: ("symmetric",)})
    if kind == "transpose":
        return Repair("transpose", f"a transpose is missing or extra: {text} holds", text, c.layout)
    if kind == "sign":
        return Repair("sign", f"the sign is wrong: {text} holds", text, c.layout)
    if kind == "factor":
        q = _factor(sc.written_expect, c.expect)
        words = {Fraction(2): "a factor 2 is missing", Fraction(1, 2): "there is a factor 2 too many",
                 Fraction(-2): "a factor 2 is missing and the sign is wrong",
                 Fraction(-1, 2): "there is a factor 2 too many and the sign is wrong"}.get(q, "a constant factor is wrong")
        return Repair("factor", f"{words}: {text} holds", text, c.layout)
    return Repair("swap", f"two factors are in the wrong order: {text} holds", text, c.layout)


def _factor(before: Expr, after: Expr) -> Fraction:
    """The numeric factor that turns `before` into `after` (2, 1/2, -1, ...)."""
    from generator.student.exprtext import split_constant

    qa, _ = split_constant(before)
    qb, _ = split_constant(after)
    return qb / qa if qa else Fraction(0)


__all__ = ["Checker", "Counterexample", "Decision", "Judgement", "Repair", "judge", "LAYOUTS"]
