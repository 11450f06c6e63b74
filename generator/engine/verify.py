"""Stage 4, verify: prove a claimed derivative with explicit SymPy matrices, then numerically.

Ground truth is entry by entry: every symbol becomes a sympy.Matrix of scalar symbols at
concrete sizes, `of` is differentiated by every entry of `wrt` (all entries independent),
the result is assembled in the stated layout, assumptions are imposed on the point, and
the difference with `expect` must simplify to exactly zero. MatrixSymbol.diff is never
used: in SymPy 1.14 it gets standard rules wrong (../shared/reference/toolchain.md).
The second, independent check compares `expect` with central finite differences of `of`
at random well-conditioned points.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy as sp

import generator.engine.allsizes as allsizes
from generator.engine.claims import Claim, Verdict, in_layout, numerator_entries
from generator.engine.parse import Expr, FunctionSig, Scope, Shape, dim_value, is_scalar, is_vector, parse_dim, walk
from generator.engine.rational import Opaque, Rat, RationalEvaluator, Unsupported, make_ring

NUMERIC_POINTS = 3
REL_TOL = 1e-6
FD_STEP = 1e-6
FD_STEP_2 = 1e-3  # second differences (with Richardson): rounding ~ eps / h^2, truncation ~ h^4


class Refuted(Exception):
    pass


class Undecided(Exception):
    pass


# ---------------------------------------------------------------- evaluation

def _scalar_fn(name: str) -> Callable[[sp.Expr], sp.Expr]:
    return {
        "log": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh, "sqrt": sp.sqrt,
        "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
        "softplus": lambda z: sp.log(1 + sp.exp(z)),
        "relu": lambda z: sp.Piecewise((z, z > 0), (0, True)),
        "step": lambda z: sp.Piecewise((1, z > 0), (0, True)),
        # SymPy's own: d|z| = sign(z) for real z; d sign(z) = 2 DiracDelta(z), which
        # _derivative sets to 0 (the derivative of sign away from 0, as for step)
        "abs": sp.Abs,
        "sign": sp.sign,
    }[name]


@dataclass
class Evaluator:
    """Turns an expression tree into a sympy.Matrix at concrete sizes.

    Generic functions are undefined SymPy functions (symbolic check) or fixed smooth
    functions with seeded coefficients (numeric check, which needs numbers).
    """

    scope: Scope
    sizes: dict[str, int]
    env: dict[str, sp.Matrix]
    concrete_functions: bool = False
    seed: int = 0
    _fn_cache: dict[str, tuple[list[sp.Symbol], list[sp.Expr]]] = field(default_factory=dict)

    def dim(self, d: object) -> int:
        return dim_value(d, self.sizes)

    def components(self, fname: str) -> tuple[list[sp.Symbol], list[sp.Expr]]:
        """Input symbols u and output component expressions f_i(u) of a generic function."""
        if fname in self._fn_cache:
            return self._fn_cache[fname]
        sig: FunctionSig = self.scope.functions[fname]
        n_in = [self.dim(s[0]) * self.dim(s[1]) for s in sig.args]
        us = [sp.Symbol(f"{fname}.u[{a},{k}]", real=True) for a, n in enumerate(n_in) for k in range(n)]
        n_out = self.dim(sig.to[0]) * self.dim(sig.to[1])
        if self.concrete_functions:
            rng = np.random.default_rng(_stable_seed(f"{self.seed}:{fname}"))
            comps = []
            for _ in range(n_out):
                a = [sp.Rational(int(v), 10) for v in _nonzero_coefficients(rng, len(us))]
                c = [sp.Rational(int(v), 10) for v in _nonzero_coefficients(rng, len(us))]
                lin = sum((ai * u for ai, u in zip(a, us)), sp.Integer(0))
                quad = sum((ci * u for ci, u in zip(c, us)), sp.Integer(0))
                comps.append(sp.sin(lin + sp.Rational(1, 3)) + quad**2 / 4 + quad)
        else:
            comps = [generic_function(f"{fname}[{i}]" if n_out > 1 else fname)(*us) for i in range(n_out)]
        self._fn_cache[fname] = (us, comps)
        return us, comps

    def _point(self, fname: str, args: list[sp.Matrix]) -> dict[sp.Symbol, sp.Expr]:
        us, _ = self.components(fname)
        values = [v for m in args for v in m]
        return dict(zip(us, values))

    def ev(self, e: Expr) -> sp.Matrix:
        op = e.op
        if op == "sym":
            return self.env[e.name]
        if op == "const":
            return sp.Matrix([[sp.Integer(e.value)]])
        if op == "dim":
            return sp.Matrix([[sp.Integer(self.sizes[e.name])]])
        if op == "d":
            return self.env[f"d({e.name})"]
        args = [self.ev(a) for a in e.args] if op not in ("D", "DD") else []
        if op == "neg":
            return -args[0]
        if op in ("add", "sub", "mul", "div", "pow"):
            return _elementwise(op, args[0], args[1])
        if op == "matmul":
            return args[0] * args[1]
        if op == "T":
            return args[0].T
        if op == "part":
            start, rows = self.dim(parse_dim(e.name)), self.dim(e.shape[0])
            return args[0][start : start + rows, :]
        if op == "call":
            return self.call(e, args)
        if op == "apply":
            return self.apply(e, args)
        if op == "D":
            return self.jacobian(e)
        if op == "DD":
            return self.second_derivative(e)
        raise ValueError(op)  # pragma: no cover

    def call(self, e: Expr, args: list[sp.Matrix]) -> sp.Matrix:
        name = e.name
        if name in ("ones", "zeros", "eye"):
            r, c = self.dim(e.shape[0]), self.dim(e.shape[1])
            if name == "eye":
                return sp.eye(r)
            return sp.ones(r, c) if name == "ones" else sp.zeros(r, c)
        if name == "vstack":
            return sp.Matrix.vstack(*args)
        if name == "hstack":
            return sp.Matrix.hstack(*args)
        (m,) = args
        if name in ("log", "exp", "sin", "cos", "tanh", "sqrt", "sigmoid", "relu", "step", "softplus", "abs", "sign"):
            return m.applyfunc(_scalar_fn(name))
        if name == "trace":
            return sp.Matrix([[m.trace()]])
        if name == "det":
            return sp.Matrix([[m.det(method="berkowitz")]])
        if name == "inv":
            if m.shape == (1, 1):
                return sp.Matrix([[1 / m[0, 0]]])
            return m.adjugate(method="berkowitz") / m.det(method="berkowitz")
        if name == "sum":
            return sp.Matrix([[sum(m, sp.Integer(0))]])
        if name == "norm":
            return sp.Matrix([[sp.sqrt(sum((v**2 for v in m), sp.Integer(0)))]])
        if name == "diag":
            return sp.diag(*list(m))
        if name == "softmax":
            if m.shape[1] == 1:
                exps = m.applyfunc(sp.exp)
                return exps / sum(exps, sp.Integer(0))
            rows = []
            for i in range(m.shape[0]):
                exps = [sp.exp(v) for v in m.row(i)]
                total = sum(exps, sp.Integer(0))
                rows.append([x / total for x in exps])
            return sp.Matrix(rows)
        if name == "logsumexp":
            if m.shape[1] == 1:
                return sp.Matrix([[sp.log(sum((sp.exp(v) for v in m), sp.Integer(0)))]])
            return sp.Matrix([[sp.log(sum((sp.exp(v) for v in m.row(i)), sp.Integer(0)))] for i in range(m.shape[0])])
        raise ValueError(name)  # pragma: no cover

    def apply(self, e: Expr, args: list[sp.Matrix]) -> sp.Matrix:
        sig = self.scope.functions[e.name]
        us, comps = self.components(e.name)
        if sig.elementwise:
            return args[0].applyfunc(lambda v: comps[0].xreplace({us[0]: v}))
        point = self._point(e.name, args)
        values = [c.xreplace(point) for c in comps]
        rows, cols = self.dim(sig.to[0]), self.dim(sig.to[1])
        return sp.Matrix(rows, cols, values)  # components in row-major order: the value keeps its shape

    def second_derivative(self, e: Expr) -> sp.Matrix:
        """D(D(f), a), Dk(Dj(f), ...): the second partial derivative of a function of scalars, at the point."""
        sig = self.scope.functions[e.name]
        args = [self.ev(a) for a in e.args]
        us, comps = self.components(e.name)
        j, k = _second_indices(e)
        if sig.elementwise:
            derivative = sp.diff(comps[0], us[0], 2)
            return args[0].applyfunc(lambda v: _at(derivative, {us[0]: v}))
        point = self._point(e.name, args)
        values = [_at(sp.diff(c, us[j], us[k]), point) for c in comps]
        return sp.Matrix(self.dim(sig.to[0]), self.dim(sig.to[1]), values)

    def jacobian(self, e: Expr) -> sp.Matrix:
        """D(f, a): numerator-layout Jacobian of f by argument e.value, at the point a."""
        sig = self.scope.functions[e.name]
        args = [self.ev(a) for a in e.args]
        us, comps = self.components(e.name)
        if sig.elementwise:
            derivative = sp.diff(comps[0], us[0])
            return args[0].applyfunc(lambda v: _at(derivative, {us[0]: v}))
        sizes_in = [self.dim(s[0]) * self.dim(s[1]) for s in sig.args]
        start = sum(sizes_in[: e.value - 1])
        by = us[start : start + sizes_in[e.value - 1]]
        point = self._point(e.name, args)
        jac = sp.Matrix([[_at(sp.diff(c, u), point) for u in by] for c in comps])
        inp = tuple(self.dim(d) for d in sig.args[e.value - 1])
        out = tuple(self.dim(d) for d in sig.to)
        return _jacobian_in_shape(jac, out, inp)  # type: ignore[arg-type]


def _jacobian_in_shape(jac: Any, out: tuple[int, int], inp: tuple[int, int]) -> Any:
    """The flat Jacobian (outputs x inputs, both row-major) as the numerator-layout derivative.

    A vector by a vector (or anything by a scalar) is already the matrix: a matrix-valued
    function of a scalar gives its p x q matrix of derivatives. A scalar by a p x q matrix
    gives the q x p transpose of the gradient, as numerator layout prints it. Works for
    sympy.Matrix and numpy arrays alike.
    """
    if inp == (1, 1):
        return jac.reshape(out[0], out[1])
    if out == (1, 1) and inp[1] != 1:
        return jac.reshape(inp[0], inp[1]).T
    return jac


def _second_indices(e: Expr) -> tuple[int, int]:
    """DD's two argument positions, 0-based: by argument j, then by argument k (value 10 j + k)."""
    return e.value // 10 - 1, e.value % 10 - 1


_GENERIC: dict[str, type] = {}


def generic_function(name: str) -> type:
    """An undefined function whose partial derivatives are again named undefined functions.

    d/du_j f(u) is f_dj(u), so SymPy's chain rule on f(g(x)) gives f_d1(g(x)) * g_d1(x)
    with no Subs or Derivative objects: both sides of a chain rule compare structurally,
    and a point that depends on another argument cannot be confused with it.
    """
    if name not in _GENERIC:
        def fdiff(self: sp.Function, argindex: int = 1) -> sp.Expr:
            return generic_function(f"{name}'{argindex}")(*self.args)

        _GENERIC[name] = type(name, (sp.Function,), {"fdiff": fdiff})
    return _GENERIC[name]


def _derivative(expr: sp.Expr, *variables: sp.Symbol) -> sp.Expr:
    """d expr / d var (repeated for each variable); the Dirac deltas of sign's derivative are 0 (it is taken away from 0, like step's)."""
    result = sp.diff(expr, *variables)
    return result.replace(sp.DiracDelta, lambda *args: sp.Integer(0)) if result.has(sp.DiracDelta) else result


def _at(expr: sp.Expr, point: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """Put a point into a function's formula (structural; no derivative objects remain)."""
    return expr.xreplace(point)


def _elementwise(op: str, a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    fn: Callable[[sp.Expr, sp.Expr], sp.Expr] = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y, "pow": lambda x, y: x**y,
    }[op]
    if a.shape == (1, 1) and b.shape != (1, 1):
        s = a[0, 0]
        return b.applyfunc(lambda v: fn(s, v))
    if b.shape == (1, 1) and a.shape != (1, 1):
        s = b[0, 0]
        return a.applyfunc(lambda v: fn(v, s))
    return sp.Matrix(a.shape[0], a.shape[1], lambda i, j: fn(a[i, j], b[i, j]))


def _nonzero_coefficients(rng: np.random.Generator, size: Any) -> np.ndarray:
    """Integers in -9..-1, 1..9: a function made from them depends on every input (with a coefficient 0 for each, a
    seeded f(u) = sin(a u + 1/3) + ... is a constant, its derivative 0, and every claim about D(f) agrees with it)."""
    return rng.integers(1, 10, size) * rng.choice([-1, 1], size)


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


# ---------------------------------------------------------------- symbols and assumptions

def concrete(shape: Shape, sizes: dict[str, int]) -> tuple[int, int]:
    return (dim_value(shape[0], sizes), dim_value(shape[1], sizes))


def make_symbols(claim: Claim, sizes: dict[str, int]) -> dict[str, sp.Matrix]:
    env: dict[str, sp.Matrix] = {}
    for name, shape in claim.scope.symbols.items():
        props = set(claim.assume.get(name, ()))
        flags: dict[str, bool] = {"real": True}
        if props & {"positive", "probability"}:
            flags["positive"] = True
        elif "nonzero" in props:
            flags["nonzero"] = True
        r, c = concrete(shape, sizes)
        if is_scalar(shape):
            env[name] = sp.Matrix([[sp.Symbol(name, **flags)]])
        else:
            env[name] = sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}[{i},{j}]", **flags))
    return env


def assumption_substitution(claim: Claim, env: dict[str, sp.Matrix]) -> dict[sp.Symbol, sp.Expr]:
    """Entries to replace after differentiating, so the point satisfies the assumptions."""
    subs: dict[sp.Symbol, sp.Expr] = {}
    for name, props in claim.assume.items():
        m = env[name]
        if {"symmetric", "spd"} & set(props):
            for i in range(m.shape[0]):
                for j in range(i):
                    subs[m[i, j]] = m[j, i]
        if "diagonal" in props:
            for i in range(m.shape[0]):
                for j in range(m.shape[1]):
                    if i != j:
                        subs[m[i, j]] = sp.Integer(0)
        if "probability" in props:
            flat = list(m)
            subs[flat[-1]] = 1 - sum(flat[:-1], sp.Integer(0))
    return subs


# ---------------------------------------------------------------- assembly in a layout

def numerator_entries_2(of_shape: Shape, wrt_shape: Shape, of_c: tuple[int, int], wrt_c: tuple[int, int],
                        partial2: Callable[[int, int, int, int], Any]) -> list[list[Any]]:
    """The second derivative in numerator layout, from partial2(a, b, i, k) = d2 of[a,b] / d wrt[i] d wrt[k].

    By a scalar: the matrix of second derivatives, shaped like `of`. A scalar by a vector:
    the Hessian, entry (i, k) the derivative by x_k of the i-th gradient entry (the
    Jacobian of the gradient; symmetric for the functions of the language).
    """
    if is_scalar(wrt_shape):
        return [[partial2(a, b, 0, 0) for b in range(of_c[1])] for a in range(of_c[0])]
    return [[partial2(0, 0, i, k) for k in range(wrt_c[0])] for i in range(wrt_c[0])]





# ---------------------------------------------------------------- zero tests

def is_zero(expr: sp.Expr) -> bool | None:
    """True if expr simplifies to 0, False if it is a rational function that is not 0 (however small its
    coefficients), None if simplification could not tell."""
    if expr == 0:
        return True
    if expr.is_rational_function():
        try:
            return _numerator_expanded(expr) == 0
        except (TypeError, ValueError, ZeroDivisionError, NotImplementedError, sp.PolynomialError):
            pass
    if expr.has(sp.Subs, sp.Derivative):
        expr = expr.doit()
        if expr == 0:
            return True
    if expr.has(sp.Piecewise):
        folded = sp.piecewise_fold(expr)
        if isinstance(folded, sp.Piecewise):
            results = [is_zero(branch) for branch, cond in folded.args if cond is not sp.false]
            if all(r is True for r in results):
                return True
            return None
        expr = folded
    for simplify in (_numerator_expanded, sp.simplify, lambda x: sp.simplify(x.rewrite(sp.exp))):
        try:
            if simplify(expr) == 0:
                return True
        except (TypeError, ValueError, ZeroDivisionError, NotImplementedError, sp.PolynomialError):
            continue
    return None


def _numerator_expanded(expr: sp.Expr) -> sp.Expr:
    """Over a common denominator, the expanded numerator: zero exactly when a rational function is."""
    return sp.expand(sp.numer(sp.together(expr)))


def _short(expr: Any) -> str:
    text = sp.sstr(expr)
    return text if len(text) <= 160 else text[:157] + "..."


def show_sizes(sizes: dict[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items()) or "scalars"


# ---------------------------------------------------------------- the symbolic check

def rational_check(claim: Claim, sizes: dict[str, int]) -> None:
    """The symbolic check on sparse polynomials, for rules inside the rational fragment.

    Raises Unsupported (caller falls back to symbolic_check's SymPy path) or Refuted.
    """
    env_sp = make_symbols(claim, sizes)
    symbols = sorted({s for m in env_sp.values() for s in m}, key=lambda s: s.name)
    if claim.kind == "differential":
        return _rational_differential(claim, sizes, env_sp, symbols)
    ring, gen_of = make_ring(symbols)
    W = env_sp[claim.wrt]
    wrt_symbols = list(W)
    subs = assumption_substitution(claim, env_sp)
    to_ring = {k: ring(v) for k, v in subs.items()}
    one = ring.one

    def entry(s: sp.Symbol) -> Rat:
        # constants take their assumptions now; wrt's entries stay independent until the end
        return Rat(to_ring[s] if s in to_ring and s not in wrt_symbols else gen_of[s], one)

    env = {name: [[entry(m[i, j]) for j in range(m.shape[1])] for i in range(m.shape[0])] for name, m in env_sp.items()}
    wrt_gens = [gen_of[s] for s in wrt_symbols]
    late = [(gen_of[s], to_ring[s]) for s in wrt_symbols if s in to_ring]
    evaluator = RationalEvaluator(ring, env, sizes, wrt_gens)
    try:
        O = evaluator.ev(claim.of)
        claimed = {claim.layout: evaluator.ev(claim.expect), claim.other_layout: evaluator.ev(claim.other())}
    except ZeroDivisionError as err:
        raise Unsupported(str(err)) from None
    if any(isinstance(c, Opaque) for c in claimed.values()):
        raise Unsupported("a log in the claim")
    rows, cols = (O.shape if isinstance(O, Opaque) else (len(O), len(O[0])))
    index = {(i, j): k for k, (i, j) in enumerate((i, j) for i in range(W.shape[0]) for j in range(W.shape[1]))}

    def partial(a: int, b: int, i: int, j: int) -> Rat:
        if isinstance(O, Opaque):
            return O.derivs[index[(i, j)]][a][b]
        return O[a][b].diff(gen_of[W[i, j]])

    def partial2(a: int, b: int, i: int, k: int) -> Rat:
        if isinstance(O, Opaque):  # a log: its first derivatives are rational
            return O.derivs[index[(i, 0)]][a][b].diff(gen_of[W[k, 0]])
        return O[a][b].diff2(gen_of[W[i, 0]], gen_of[W[k, 0]])  # wrt is a scalar or a column: entries (i, 0)

    if claim.order == 2:
        num = numerator_entries_2(claim.of.shape, claim.scope.symbols[claim.wrt], (rows, cols), W.shape, partial2)
    else:
        num = numerator_entries(claim.of.shape, claim.scope.symbols[claim.wrt], (rows, cols), W.shape, partial)
    for layout, claim_matrix in claimed.items():
        truth = in_layout(num, layout)
        if len(claim_matrix) == 1 and len(claim_matrix[0]) == 1 and (len(truth), len(truth[0])) != (1, 1):
            claim_matrix = [[claim_matrix[0][0]] * len(truth[0]) for _ in truth]
        if (len(truth), len(truth[0])) != (len(claim_matrix), len(claim_matrix[0])):
            raise Refuted(f"in {layout} layout at {show_sizes(sizes)} the derivative is {len(truth)}x{len(truth[0])} "
                          f"but the claim is {len(claim_matrix)}x{len(claim_matrix[0])}")
        for i, row in enumerate(truth):
            for j, value in enumerate(row):
                difference = (value - claim_matrix[i][j]).compose(late)
                if not difference.is_zero():
                    shown = sp.cancel(difference.num.as_expr() / difference.den.as_expr()) if len(difference.num.terms()) < 40 else difference.num.as_expr()
                    raise Refuted(f"in {layout} layout at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}): "
                                  f"derivative minus claim is {_short(shown)}, not 0")


def _rational_differential(claim: Claim, sizes: dict[str, int], env_sp: dict[str, sp.Matrix],
                           symbols: list[sp.Symbol]) -> None:
    """d/dt of(X + t V) at t = 0 against expect with d(X) = V, on sparse polynomials."""
    W = env_sp[claim.wrt]
    t = sp.Symbol("(t)", real=True)  # internal names hold characters a rule's names cannot: no clash
    V = sp.Matrix(W.shape[0], W.shape[1], lambda i, j: sp.Symbol(f"d{claim.wrt}[{i},{j}]", real=True))
    ring, gen_of = make_ring(symbols + [t] + list(V))
    subs = assumption_substitution(claim, env_sp)
    one = ring.one

    def rat(expr: sp.Expr) -> Rat:
        return Rat(ring(expr), one)

    env = {name: [[rat(subs.get(m[i, j], m[i, j])) for j in range(m.shape[1])] for i in range(m.shape[0])]
           for name, m in env_sp.items()}
    moved = dict(env)
    moved[claim.wrt] = [[env[claim.wrt][i][j] + rat(t * V[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])]
    with_d = dict(env)
    with_d[f"d({claim.wrt})"] = [[rat(V[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])]
    try:
        O = RationalEvaluator(ring, moved, sizes, []).ev(claim.of)
        claimed = RationalEvaluator(ring, with_d, sizes, []).ev(claim.expect)
    except ZeroDivisionError as err:
        raise Unsupported(str(err)) from None
    if isinstance(O, Opaque) or isinstance(claimed, Opaque):
        raise Unsupported("a log in a differential")
    at_zero = [(gen_of[t], ring.zero)]
    for i, row in enumerate(O):
        for j, value in enumerate(row):
            derivative = value.diff(gen_of[t]) if claim.order == 1 else value.diff2(gen_of[t], gen_of[t])
            difference = (derivative.compose(at_zero) - claimed[i][j].compose(at_zero))
            if not difference.is_zero():
                raise Refuted(f"as a differential at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}): "
                              f"derivative minus claim is {_short(difference.num.as_expr())} / ..., not 0")


def symbolic_check(claim: Claim, sizes: dict[str, int]) -> None:
    """Raise Refuted or Undecided unless expect (and its other layout) equal the derivative exactly."""
    try:
        rational_check(claim, sizes)
        return
    except Unsupported:
        pass  # outside the rational fragment: the general SymPy path below
    env = make_symbols(claim, sizes)
    wrt_shape = claim.scope.symbols[claim.wrt]
    W = env[claim.wrt]
    if claim.kind == "differential":
        t = sp.Symbol("(t)", real=True)
        V = sp.Matrix(W.shape[0], W.shape[1], lambda i, j: sp.Symbol(f"d{claim.wrt}[{i},{j}]", real=True))
        moved = dict(env)
        moved[claim.wrt] = W + t * V
        of_t = Evaluator(claim.scope, sizes, moved).ev(claim.of)
        truth = of_t.applyfunc(lambda v: _derivative(v, *[t] * claim.order)).subs(t, 0)
        env_d = dict(env)
        env_d[f"d({claim.wrt})"] = V
        claimed = Evaluator(claim.scope, sizes, env_d).ev(claim.expect)
        _compare(claim, truth, claimed, sizes, "differential", assumption_substitution(claim, env))
        return
    subs = assumption_substitution(claim, env)
    # Symbols other than wrt are constants of the differentiation: imposing their
    # assumptions first is equivalent and keeps the expressions small.
    constants = {k: v for k, v in subs.items() if k not in set(W)}
    if constants:
        env = {name: m.xreplace(constants) for name, m in env.items()}
        subs = {k: v for k, v in subs.items() if k in set(W)}
    evaluator = Evaluator(claim.scope, sizes, env)
    O = evaluator.ev(claim.of)
    if claim.order == 2:
        num = numerator_entries_2(claim.of.shape, wrt_shape, O.shape, W.shape,
                                  lambda a, b, i, k: _derivative(O[a, b], W[i, 0], W[k, 0]))
    else:
        num = numerator_entries(claim.of.shape, wrt_shape, O.shape, W.shape,
                                lambda a, b, i, j: _derivative(O[a, b], W[i, j]))
    claimed = evaluator.ev(claim.expect)
    _compare(claim, sp.Matrix(in_layout(num, claim.layout)), claimed, sizes, claim.layout, subs)
    other = evaluator.ev(claim.other())
    if other.shape == claimed.T.shape and other == claimed.T:
        return  # the other layout's claim is literally the transpose: proved by the line above
    _compare(claim, sp.Matrix(in_layout(num, claim.other_layout)), other, sizes, claim.other_layout, subs)


def _compare(claim: Claim, truth: sp.Matrix, claimed: sp.Matrix, sizes: dict[str, int], layout: str,
             subs: dict[sp.Symbol, sp.Expr]) -> None:
    if claimed.shape == (1, 1) and truth.shape != (1, 1):
        claimed = sp.ones(*truth.shape) * claimed[0, 0]  # a scalar claim broadcasts only in 1x1 results
    if truth.shape != claimed.shape:
        raise Refuted(f"in {layout} layout at {show_sizes(sizes)} the derivative is {truth.shape[0]}x{truth.shape[1]} "
                      f"but the claim is {claimed.shape[0]}x{claimed.shape[1]}")
    undecided = None
    for i in range(truth.shape[0]):
        for j in range(truth.shape[1]):
            diff = (truth[i, j] - claimed[i, j]).xreplace(subs) if subs else truth[i, j] - claimed[i, j]
            if diff.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                side = "the claim" if claimed[i, j].has(sp.zoo, sp.nan, sp.oo, -sp.oo) else "the derivative"
                raise Undecided(f"in {layout} layout at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}): {side} divides by an "
                                "expression that is exactly 0")
            verdict = is_zero(diff)
            if verdict is True:
                continue
            if verdict is False or _numerically_nonzero(diff):
                raise Refuted(f"in {layout} layout at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}): "
                              f"derivative minus claim is {_short(sp.simplify(diff) if len(str(diff)) < 400 else diff)}, not 0")
            undecided = f"in {layout} layout at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}): simplification could not show the difference is 0"
    if undecided:
        raise Undecided(undecided)


PRECISE_DIGITS = 60  # digits of the comparison: a difference above 1e-40 (relative) refutes
PRECISE_WORK = 200  # digits of the arithmetic
PRECISE_STEPS = ("1e-50", "1e-55")  # two steps of the central differences; they must agree (see precise_point_check)
PRECISE_ENTRIES = 1000  # scalar unknowns of a claim at one size, at most, for the precise point check (a few seconds)
PRECISE_SIZES = 3  # probe sizes (where the model differed, then the corners) checked in high precision


class _PreciseEvaluator(Evaluator):
    """The Evaluator for numbers of PRECISE_WORK digits: det and inv of a matrix of real numbers by mpmath's LU
    decomposition at that precision (SymPy's Berkowitz expansion of a 12 x 12 matrix of numbers takes a minute); every
    value a number of that precision after each operation (sqrt(k) or exp of it kept exact would grow every entry)."""

    def ev(self, e: Expr) -> sp.Matrix:
        return super().ev(e).applyfunc(lambda v: v if isinstance(v, (sp.Float, sp.Integer)) else v.evalf(PRECISE_WORK))

    def call(self, e: Expr, args: list[sp.Matrix]) -> sp.Matrix:
        if e.name in ("det", "inv") and args[0].shape[0] > 1 and all(isinstance(v, (sp.Float, sp.Rational)) for v in args[0]):
            import mpmath

            m = args[0]
            with mpmath.workdps(PRECISE_WORK):
                a = mpmath.matrix([[mpmath.mpf(sp.Float(m[i, j], PRECISE_WORK)._mpf_) for j in range(m.shape[1])] for i in range(m.shape[0])])
                if e.name == "det":
                    return sp.Matrix([[sp.Float(mpmath.det(a), PRECISE_WORK)]])
                inverse = mpmath.inverse(a)  # ZeroDivisionError when singular: no value at this point
                return sp.Matrix(m.shape[0], m.shape[1], lambda i, j: sp.Float(inverse[i, j], PRECISE_WORK))
        return super().call(e, args)


def precise_point_check(claim: Claim, sizes: dict[str, int], points: int = 2) -> None:
    """The claim along random directions at random points that satisfy the assumptions, in 200-digit arithmetic.

    The truth is the derivative of of(W + t V) at t = 0 along a random direction V, by central differences with steps
    h = 1e-50 and 1e-55 (truncation error about h^2, round-off about 1e-200 / h^2: both far below 1e-60); the two steps
    must agree to 1e-50, which bounds what the finer one misses (else the point is too close to a singularity: no
    verdict). The claim is the claimed derivative applied to V. A second derivative is the mixed
    d2/ds dt of(W + s U + t V) against U^T H V, with two independent directions (one direction alone, V^T H V, cannot see
    an antisymmetric error); a second derivative by a scalar and a second differential are d2/dt2 along V; a
    differential is the claim with d(wrt) = V. A generic function is a fixed smooth function with seeded coefficients
    (a claim about every function must hold for it), as in the numeric check. Raises Refuted on a difference above
    1e-40 (relative), Undecided where it cannot tell (a point outside the domain, too many unknowns).

    A witness for the sizes the all-sizes engine names where its model drops relations ("nonzero", "outside"): finite
    differences in double precision cannot see a difference of 1e-12 there, SymPy's simplification at the listed sizes
    never looks there. A wrong claim differs from the truth in some entry; applied to random directions the difference is
    nonzero with probability 1. Every value is a number (no symbol is left for SymPy), so claims with up to
    PRECISE_ENTRIES unknowns are cheap."""
    if _unknowns(claim, sizes) > PRECISE_ENTRIES:
        raise Undecided(f"too many unknowns at {show_sizes(sizes)} for the precise point check")
    seed = _stable_seed(claim.content()) + 2
    rng = np.random.default_rng(seed)
    order = getattr(claim, "order", 1)
    mixed = order == 2 and claim.kind != "differential"
    generic = (sp.core.function.AppliedUndef, *_GENERIC.values())

    def number(x: float) -> sp.Float:
        return sp.Float(repr(float(x)), PRECISE_WORK)

    def no_value(m: sp.Matrix) -> bool:
        return any(isinstance(f, generic) for v in m for f in v.atoms(sp.Function)) or any(v.has(sp.Derivative, sp.Subs) for v in m)

    # random points; beside relu, step, abs or sign, points that put every kink argument on both sides of 0 (a claim that
    # drops a step factor agrees wherever the step is 1), none within reach of a kink
    chosen = numeric_points(claim, sizes, rng, seed) if kink_arguments(claim) else [sample_values(claim, sizes, rng) for _ in range(points)]
    for values in chosen:
        env = {name: sp.Matrix(v.shape[0], v.shape[1], lambda i, j, v=v: number(v[i, j])) for name, v in values.items()}
        for name, props in claim.assume.items():
            if "probability" in props:  # entries that sum to 1 exactly (to 200 digits), not to the 16 digits of a float
                flat = list(env[name])
                flat[-1] = 1 - sum(flat[:-1], sp.Integer(0))
                env[name] = sp.Matrix(env[name].shape[0], env[name].shape[1], flat)
        W = env[claim.wrt]
        V = sp.Matrix(W.shape[0], W.shape[1], lambda i, j: number(rng.normal()))
        U = sp.Matrix(W.shape[0], W.shape[1], lambda i, j: number(rng.normal())) if mixed else V

        def evaluator(values: dict[str, sp.Matrix]) -> _PreciseEvaluator:
            # a generic function is one fixed smooth function (seeded): a claim about every function holds for this one
            return _PreciseEvaluator(claim.scope, sizes, values, concrete_functions=True, seed=seed)

        def of_at(shift: sp.Matrix | None) -> sp.Matrix:
            return evaluator({**env, claim.wrt: W + shift} if shift is not None else env).ev(claim.of)

        def along(step: str) -> sp.Matrix:
            h = sp.Float(step, PRECISE_WORK)
            if mixed:
                return (of_at(h * (U + V)) - of_at(h * (U - V)) - of_at(h * (V - U)) + of_at(-h * (U + V))) / (4 * h * h)
            if order == 2:
                return (of_at(h * V) - 2 * of_at(None) + of_at(-h * V)) / (h * h)
            return (of_at(h * V) - of_at(-h * V)) / (2 * h)

        try:
            coarse, truth = along(PRECISE_STEPS[0]), along(PRECISE_STEPS[1])
            if no_value(truth):
                raise Undecided("generic functions have no value at a point")
            if claim.kind == "differential":
                pairs = [("differential", evaluator({**env, f"d({claim.wrt})": V}).ev(claim.expect))]
            else:
                at_point = evaluator(env)
                pairs = [(layout, _applied(claim, at_point.ev(expr), layout, U, V, truth.shape, sizes))
                         for layout, expr in ((claim.layout, claim.expect), (claim.other_layout, claim.other()))]
        except (TypeError, ValueError, ZeroDivisionError, NotImplementedError, ArithmeticError, sp.PolynomialError):
            raise Undecided(f"no value at a point at {show_sizes(sizes)}") from None
        for layout, claimed in pairs:
            if claimed.shape == (1, 1) and truth.shape != (1, 1):
                claimed = sp.ones(*truth.shape) * claimed[0, 0]  # as in _compare: a scalar claim broadcasts
            if truth.shape != claimed.shape:
                raise Refuted(f"in {layout} layout at {show_sizes(sizes)} the derivative is {truth.shape[0]}x{truth.shape[1]} "
                              f"but the claim is {claimed.shape[0]}x{claimed.shape[1]}")
            if no_value(claimed):
                raise Undecided("generic functions have no value at a point")
            for i in range(truth.shape[0]):
                for j in range(truth.shape[1]):
                    a, b = truth[i, j], claimed[i, j]
                    try:
                        va, vb = complex(sp.N(a, PRECISE_DIGITS)), complex(sp.N(b, PRECISE_DIGITS))
                        gap = abs(complex(sp.N(a - b, PRECISE_DIGITS)))
                        drift = abs(complex(sp.N(coarse[i, j] - a, PRECISE_DIGITS)))
                    except (TypeError, ValueError, ZeroDivisionError):
                        raise Undecided(f"no value at a point at {show_sizes(sizes)}") from None
                    if not all(math.isfinite(x) for x in (abs(va), abs(vb), gap, drift)) or abs(va.imag) > 1e-30 or abs(vb.imag) > 1e-30:
                        raise Undecided(f"the point left the domain at {show_sizes(sizes)}")
                    if drift > 1e-50 * max(1.0, abs(va)):
                        raise Undecided(f"the point is too close to a singularity at {show_sizes(sizes)} for the precise point check")
                    if gap > 1e-40 * max(1.0, abs(va)):
                        what = "mixed second derivative along two random directions" if mixed else \
                            "second differential along a random direction" if order == 2 and claim.kind == "differential" else \
                            "differential along a random direction" if claim.kind == "differential" else \
                            "second derivative along a random direction" if order == 2 else "derivative along a random direction"
                        raise Refuted(f"in {layout} layout at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}) of the {what}: at a "
                                      f"random point, in {PRECISE_WORK}-digit arithmetic, it is {va.real:.15g} and the claim "
                                      f"gives {vb.real:.15g} (they differ by {gap:.3g})")


def _unknowns(claim: Claim, sizes: dict[str, int]) -> int:
    """Scalar unknowns of the claim at these sizes (every entry of every symbol)."""
    return sum(r * c for r, c in (concrete(shape, sizes) for shape in claim.scope.symbols.values()))


def _applied(claim: Claim, claimed: sp.Matrix, layout: str, U: sp.Matrix, V: sp.Matrix, of_shape: tuple[int, int],
             sizes: dict[str, int]) -> sp.Matrix:
    """The claimed derivative (in `layout`) applied to the direction V, shaped like `of`: entry (a, b) is the sum over the
    entries (i, j) of wrt of the claimed d of[a,b] / d wrt[i,j] times V[i,j]. A second derivative is applied to U and V:
    the claimed d2 of[a,b] / d wrt[i] d wrt[k] times U[i] V[k]. Every entry of the claim is used exactly once, at the
    place numerator_entries (numerator_entries_2) and in_layout give it; a claim of another shape is refuted (a 1x1
    claim broadcasts, as in _compare)."""
    wrt_shape = claim.scope.symbols[claim.wrt]
    if getattr(claim, "order", 1) == 2:
        index = numerator_entries_2(claim.of.shape, wrt_shape, of_shape, V.shape, lambda a, b, i, k: (a, b, U[i, 0] * V[k, 0]))
    else:
        index = numerator_entries(claim.of.shape, wrt_shape, of_shape, V.shape, lambda a, b, i, j: (a, b, V[i, j]))
    where = in_layout(index, layout)
    shape = (len(where), len(where[0]) if where else 0)
    scalar = claimed.shape == (1, 1) and shape != (1, 1)
    if claimed.shape != shape and not scalar:
        raise Refuted(f"in {layout} layout at {show_sizes(sizes)} the derivative is {shape[0]}x{shape[1]} "
                      f"but the claim is {claimed.shape[0]}x{claimed.shape[1]}")
    out = sp.zeros(*of_shape)
    for r, row in enumerate(where):
        for c, (a, b, weight) in enumerate(row):
            out[a, b] += (claimed[0, 0] if scalar else claimed[r, c]) * weight
    return out


def _numerically_nonzero(diff: sp.Expr) -> bool:
    """Is diff clearly non-zero at some random point? (A witness for refutation.)"""
    expr = diff.doit() if diff.has(sp.Subs, sp.Derivative) else diff
    generic = tuple(_GENERIC.values())  # classes of generic_function: not AppliedUndef, so check them by class
    if expr.has(sp.Function) and any(isinstance(f, (sp.core.function.AppliedUndef, *generic)) for f in expr.atoms(sp.Function)):
        return True  # differs by terms in generic functions that did not cancel
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    rng = np.random.default_rng(7)
    for _ in range(12):  # both signs (unless a symbol is positive): every branch of a relu or a step is tried
        point = {s: sp.Float(rng.uniform(0.5, 1.5) * (1 if s.is_positive else rng.choice([-1, 1]))) for s in symbols}
        try:
            value = complex(expr.xreplace(point).evalf())
        except (TypeError, ValueError):
            continue
        if abs(value) > 1e-9:
            return True
    return False


# ---------------------------------------------------------------- the numeric check

class NumericEvaluator:
    """Evaluates an expression tree in float64 with NumPy, independently of SymPy.

    Generic functions are fixed smooth functions with seeded coefficients,
    f_i(u) = sin(a_i . u + 1/3) + (c_i . u)^2 / 4 + c_i . u, whose Jacobians are exact.
    """

    def __init__(self, scope: Scope, sizes: dict[str, int], values: dict[str, np.ndarray], seed: int) -> None:
        self.scope, self.sizes, self.values, self.seed = scope, sizes, values, seed
        self.coefficients: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def dim(self, d: object) -> int:
        return dim_value(d, self.sizes)

    def coeffs(self, fname: str) -> tuple[np.ndarray, np.ndarray]:
        if fname not in self.coefficients:
            sig = self.scope.functions[fname]
            n_in = sum(self.dim(s[0]) * self.dim(s[1]) for s in sig.args)
            n_out = self.dim(sig.to[0]) * self.dim(sig.to[1])
            rng = np.random.default_rng(_stable_seed(f"{self.seed}:{fname}"))
            a = _nonzero_coefficients(rng, (n_out, n_in)) / 10
            c = _nonzero_coefficients(rng, (n_out, n_in)) / 10
            self.coefficients[fname] = (a, c)
        return self.coefficients[fname]

    def fn_value(self, fname: str, u: np.ndarray) -> np.ndarray:
        a, c = self.coeffs(fname)
        lin, quad = a @ u, c @ u
        return np.sin(lin + 1 / 3) + quad**2 / 4 + quad

    def fn_jacobian(self, fname: str, u: np.ndarray) -> np.ndarray:
        a, c = self.coeffs(fname)
        lin, quad = a @ u, c @ u
        return np.cos(lin + 1 / 3)[:, None] * a + (quad / 2 + 1)[:, None] * c

    def fn_second(self, fname: str, u: np.ndarray, j: int, k: int) -> np.ndarray:
        """d2 f_i / du_j du_k for every output i: -sin(a_i . u + 1/3) a_ij a_ik + c_ij c_ik / 2."""
        a, c = self.coeffs(fname)
        lin = a @ u
        return -np.sin(lin + 1 / 3) * a[:, j] * a[:, k] + c[:, j] * c[:, k] / 2

    def second_derivative(self, e: Expr) -> np.ndarray:
        sig = self.scope.functions[e.name]
        args = [self.ev(a) for a in e.args]
        j, k = _second_indices(e)
        if sig.elementwise:
            return np.vectorize(lambda v: self.fn_second(e.name, np.array([v]), 0, 0)[0])(args[0]).astype(float)
        u = np.concatenate([a.reshape(-1) for a in args])
        return self.fn_second(e.name, u, j, k).reshape(self.dim(sig.to[0]), self.dim(sig.to[1]))

    def ev(self, e: Expr) -> np.ndarray:
        op = e.op
        if op == "sym":
            return self.values[e.name]
        if op == "d":
            return self.values[f"d({e.name})"]
        if op == "const":
            return np.array([[float(e.value)]])
        if op == "dim":
            return np.array([[float(self.sizes[e.name])]])
        if op == "D":
            return self.jacobian(e)
        if op == "DD":
            return self.second_derivative(e)
        args = [self.ev(a) for a in e.args]
        if op == "neg":
            return -args[0]
        if op in ("add", "sub", "mul", "div", "pow"):
            left, right = args
            return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}[op](left, right)
        if op == "matmul":
            return args[0] @ args[1]
        if op == "T":
            return args[0].T
        if op == "part":
            start, rows = self.dim(parse_dim(e.name)), self.dim(e.shape[0])
            return args[0][start : start + rows, :]
        if op == "call":
            return self.call(e, args)
        if op == "apply":
            sig = self.scope.functions[e.name]
            if sig.elementwise:
                return np.vectorize(lambda v: self.fn_value(e.name, np.array([v]))[0])(args[0]).astype(float)
            u = np.concatenate([a.reshape(-1) for a in args])
            return self.fn_value(e.name, u).reshape(self.dim(sig.to[0]), self.dim(sig.to[1]))  # row-major, as the symbolic check
        raise ValueError(op)  # pragma: no cover

    def jacobian(self, e: Expr) -> np.ndarray:
        sig = self.scope.functions[e.name]
        args = [self.ev(a) for a in e.args]
        if sig.elementwise:
            return np.vectorize(lambda v: self.fn_jacobian(e.name, np.array([v]))[0, 0])(args[0]).astype(float)
        u = np.concatenate([a.reshape(-1) for a in args])
        sizes_in = [self.dim(s[0]) * self.dim(s[1]) for s in sig.args]
        start = sum(sizes_in[: e.value - 1])
        jac = self.fn_jacobian(e.name, u)[:, start : start + sizes_in[e.value - 1]]
        inp = tuple(self.dim(d) for d in sig.args[e.value - 1])
        out = tuple(self.dim(d) for d in sig.to)
        return _jacobian_in_shape(jac, out, inp)  # type: ignore[arg-type]

    def call(self, e: Expr, args: list[np.ndarray]) -> np.ndarray:
        name = e.name
        if name in ("ones", "zeros", "eye"):
            r, c = self.dim(e.shape[0]), self.dim(e.shape[1])
            return np.eye(r) if name == "eye" else (np.ones((r, c)) if name == "ones" else np.zeros((r, c)))
        if name == "vstack":
            return np.vstack(args)
        if name == "hstack":
            return np.hstack(args)
        (m,) = args
        simple: dict[str, Callable[[np.ndarray], np.ndarray]] = {
            "log": np.log, "exp": np.exp, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "sqrt": np.sqrt,
            "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "softplus": lambda z: np.logaddexp(0, z),
            "relu": lambda z: np.maximum(z, 0), "step": lambda z: (z > 0).astype(float),
            "abs": np.abs, "sign": np.sign,
        }
        if name in simple:
            return simple[name](m)
        if name == "trace":
            return np.array([[np.trace(m)]])
        if name == "det":
            return np.array([[np.linalg.det(m)]])
        if name == "inv":
            return np.linalg.inv(m)
        if name == "sum":
            return np.array([[m.sum()]])
        if name == "norm":
            return np.array([[np.sqrt((m**2).sum())]])
        if name == "diag":
            return np.diag(m.reshape(-1))
        if name == "softmax":
            axis = 0 if m.shape[1] == 1 else 1
            z = np.exp(m - m.max(axis=axis, keepdims=True))
            return z / z.sum(axis=axis, keepdims=True)
        if name == "logsumexp":
            if m.shape[1] == 1:
                return np.array([[np.log(np.exp(m).sum())]])
            return np.log(np.exp(m).sum(axis=1, keepdims=True))
        raise ValueError(name)  # pragma: no cover


def sample_values(claim: Claim, sizes: dict[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A random point that satisfies every assumption of every symbol jointly; square matrices are well-conditioned."""
    return {name: sample_symbol(set(claim.assume.get(name, ())), concrete(shape, sizes), rng)
            for name, shape in claim.scope.symbols.items()}


def sample_symbol(props: set[str], shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """One symbol's value with all its properties at once (validation refuses combinations that cannot hold)."""
    r, c = shape
    positive = bool(props & {"positive", "probability"})
    nonzero = "nonzero" in props

    def entries(size: tuple[int, int]) -> np.ndarray:
        """Entries away from 0: positive, or of either sign."""
        v = rng.uniform(0.5, 2.0, size)
        return v if positive else v * rng.choice([-1, 1], size)

    if "probability" in props:
        v = rng.uniform(0.5, 1.5, (r, c))
        v = v / v.sum()
    elif "diagonal" in props:
        d = rng.uniform(0.5, 2.0, r) if positive or "spd" in props else entries((r,))
        v = np.diag(d)
    elif "spd" in props:
        g = rng.uniform(0.2, 1.0, (r, r)) if positive else rng.normal(size=(r, r))
        v = g @ g.T / r + np.eye(r)
        if nonzero:
            v = _away_from_zero(v, rng, symmetric=True)
    elif "symmetric" in props:
        g = rng.uniform(0.2, 1.0, (r, r)) if positive else rng.normal(size=(r, r))
        v = np.eye(r) + 0.3 * (g + g.T) / 2
        if nonzero:
            v = _away_from_zero(v, rng, symmetric=True)
    elif r == c and r > 1:  # square: well-conditioned, not symmetric
        v = np.eye(r) + (rng.uniform(0.05, 0.4, (r, c)) if positive else 0.3 * rng.normal(size=(r, c)))
        if nonzero:
            v = _away_from_zero(v, rng)
    elif positive or nonzero:
        v = entries((r, c))
    else:
        v = rng.normal(size=(r, c))
    return v.astype(float)


def _away_from_zero(v: np.ndarray, rng: np.random.Generator, symmetric: bool = False) -> np.ndarray:
    """Push entries of size below 0.1 away from 0, keeping the matrix's shape and symmetry."""
    small = np.abs(v) < 0.1
    bump = np.where(v >= 0, 0.1, -0.1) * small
    if symmetric:
        bump = np.triu(bump) + np.triu(bump, 1).T
    return v + bump


KINKS = ("relu", "step", "abs", "sign")  # functions whose argument must be sampled on both sides of 0
EPS = float(np.finfo(float).eps)


def kink_arguments(claim: Claim) -> list[Expr]:
    """The arguments of relu, step, abs and sign in `of` and `expect` (each distinct one once)."""
    found: list[Expr] = []
    for root in (claim.of, claim.expect):
        for e in walk(root):
            if e.op == "call" and e.name in KINKS and e.args[0] not in found:
                found.append(e.args[0])
    return found


def numeric_points(claim: Claim, sizes: dict[str, int], rng: np.random.Generator, seed: int) -> list[dict[str, np.ndarray]]:
    """Random points for the numeric check: every entry of every kink argument is sampled on both sides of 0
    (where the assumptions allow), and no point is within finite-difference reach of a kink."""
    kinks = kink_arguments(claim)
    if not kinks:
        return [sample_values(claim, sizes, rng) for _ in range(NUMERIC_POINTS)]
    chosen: list[dict[str, np.ndarray]] = []
    covered: set[tuple[int, int, int]] = set()
    candidates: list[tuple[dict[str, np.ndarray], set[tuple[int, int, int]]]] = []
    for _ in range(60):
        values = sample_values(claim, sizes, rng)
        signs: set[tuple[int, int, int]] = set()
        usable = True
        for k, arg in enumerate(kinks):
            with np.errstate(all="ignore"):
                v = np.asarray(NumericEvaluator(claim.scope, sizes, values, seed).ev(arg), dtype=float).reshape(-1)
            if not np.all(np.isfinite(v)) or np.any(np.abs(v) < 1e-3 * np.maximum(1.0, np.abs(v))):
                usable = False  # on (or next to) a kink: the derivative does not exist or differences straddle it
                break
            signs |= {(k, i, int(np.sign(x))) for i, x in enumerate(v)}
        if usable:
            candidates.append((values, signs))
    while candidates and (len(chosen) < NUMERIC_POINTS or any(sig - covered for _, sig in candidates)) and len(chosen) < 8:
        best = max(range(len(candidates)), key=lambda c: len(candidates[c][1] - covered))
        values, signs = candidates.pop(best)
        chosen.append(values)
        covered |= signs
    if not chosen:  # every point is a kink: leave it to the domain check below (the differences there are meaningless)
        raise Undecided(f"the numeric check at {show_sizes(sizes)} found every point on a kink of relu, step, abs or sign "
                        "(the derivative does not exist there)")
    return chosen


def numeric_check(claim: Claim, sizes: dict[str, int]) -> float:
    """Largest relative error of expect (both layouts) against central differences of `of`.

    The tolerance is relative (REL_TOL) plus the round-off of the differences themselves, eps |of| / step: a large
    value (an offset of 10^6) does not make a true gradient look wrong.
    """
    seed = _stable_seed(claim.content())  # fixed per claim: the same points every run
    rng = np.random.default_rng(seed)
    worst = 0.0
    with np.errstate(all="ignore"):
        for values in numeric_points(claim, sizes, rng, seed):
            W = values[claim.wrt]
            biggest = [0.0]

            def at(extra: dict[str, np.ndarray], expr: Expr) -> np.ndarray:
                out = NumericEvaluator(claim.scope, sizes, {**values, **extra}, seed).ev(expr)
                if expr is claim.of:
                    finite = np.abs(np.asarray(out, dtype=complex))
                    if finite.size and np.all(np.isfinite(finite)):
                        biggest[0] = max(biggest[0], float(np.max(finite)))
                return out

            def roundoff(step: float) -> float:
                return 64 * EPS * biggest[0] / step

            if claim.kind == "differential":
                V = rng.normal(size=W.shape)
                if claim.order == 2:
                    def second(h: float) -> np.ndarray:
                        return (at({claim.wrt: W + h * V}, claim.of) - 2 * at({}, claim.of) + at({claim.wrt: W - h * V}, claim.of)) / h**2
                    fd = (4 * second(FD_STEP_2 / 2) - second(FD_STEP_2)) / 3  # Richardson: the h^2 error cancels
                    slack = roundoff(FD_STEP_2**2 / 4)
                else:
                    fd = (at({claim.wrt: W + FD_STEP * V}, claim.of) - at({claim.wrt: W - FD_STEP * V}, claim.of)) / (2 * FD_STEP)
                    slack = roundoff(FD_STEP) * float(np.max(np.abs(V)))
                worst = max(worst, _rel_error(fd, at({f"d({claim.wrt})": V}, claim.expect), claim, sizes, "differential", slack))
                continue
            if claim.order == 2:
                num = _second_differences(W, lambda moved: at({claim.wrt: moved}, claim.of), claim.of.shape,
                                          claim.scope.symbols[claim.wrt])
                slack = roundoff(FD_STEP_2**2 / 4)
                for layout, expr in ((claim.layout, claim.expect), (claim.other_layout, claim.other())):
                    fd = np.array(in_layout(num, layout), dtype=float)
                    worst = max(worst, _rel_error(fd, at({}, expr), claim, sizes, layout, slack))
                continue
            grads: dict[tuple[int, int], np.ndarray] = {}
            for i in range(W.shape[0]):
                for j in range(W.shape[1]):
                    step = FD_STEP * max(1.0, abs(W[i, j]))
                    up, down = W.copy(), W.copy()
                    up[i, j] += step
                    down[i, j] -= step
                    grads[(i, j)] = (at({claim.wrt: up}, claim.of) - at({claim.wrt: down}, claim.of)) / (2 * step)
            O = at({}, claim.of)
            num = numerator_entries(claim.of.shape, claim.scope.symbols[claim.wrt], O.shape, W.shape,
                                    lambda a, b, i, j: grads[(i, j)][a, b])
            slack = roundoff(FD_STEP)
            for layout, expr in ((claim.layout, claim.expect), (claim.other_layout, claim.other())):
                fd = np.array(in_layout(num, layout), dtype=float)
                worst = max(worst, _rel_error(fd, at({}, expr), claim, sizes, layout, slack))
    return worst


class _Guarded(NumericEvaluator):
    """The numeric evaluator, refusing (Undecided) an inverse or determinant of a nearly singular matrix: at a size the
    engine names (a rank may be forced there: X^T X of a wide X), finite differences would be noise, not evidence."""

    def call(self, e: Expr, args: list[np.ndarray]) -> np.ndarray:
        if e.name in ("inv", "det") and args and np.linalg.cond(np.asarray(args[0], dtype=complex)) > 1e8:
            raise Undecided(f"{e.name} of a nearly singular matrix at {show_sizes(self.sizes)}")
        return super().call(e, args)


def directional_check(claim: Claim, sizes: dict[str, int]) -> float:
    """The claim along random directions: central differences of `of` along V against the claimed derivative applied to
    V (both layouts). Two evaluations of `of` per point instead of two per entry of wrt: a cheap witness at large sizes
    (the smallest grid tuple of a proved claim). Raises Refuted or Undecided like numeric_check."""
    if getattr(claim, "order", 1) == 2:
        return 0.0  # second derivatives: the SymPy and numeric witnesses at the listed sizes only
    seed = _stable_seed(claim.content()) + 1
    rng = np.random.default_rng(seed)
    worst = 0.0
    with np.errstate(all="ignore"):
        for values in numeric_points(claim, sizes, rng, seed):
            W = values[claim.wrt]
            V = rng.normal(size=W.shape)
            biggest = [0.0]

            def at(extra: dict[str, np.ndarray], expr: Expr) -> np.ndarray:
                out = np.asarray(_Guarded(claim.scope, sizes, {**values, **extra}, seed).ev(expr))
                if expr is claim.of:
                    finite = np.abs(out.astype(complex))
                    if finite.size and np.all(np.isfinite(finite)):
                        biggest[0] = max(biggest[0], float(np.max(finite)))
                return out

            step = FD_STEP * max(1.0, float(np.max(np.abs(W))))
            fd = (at({claim.wrt: W + step * V}, claim.of) - at({claim.wrt: W - step * V}, claim.of)) / (2 * step)
            fd = np.asarray(fd, dtype=complex).real.reshape(np.shape(fd))
            slack = 64 * EPS * biggest[0] / step * float(np.max(np.abs(V)))
            if claim.kind == "differential":
                worst = max(worst, _rel_error(np.asarray(fd, dtype=float), at({f"d({claim.wrt})": V}, claim.expect), claim,
                                              sizes, "differential", slack))
                continue
            O = at({}, claim.of)
            wrt_shape = claim.scope.symbols[claim.wrt]
            index = numerator_entries(claim.of.shape, wrt_shape, np.shape(O), W.shape, lambda a, b, i, j: (a, b, i, j))
            for layout, expr in ((claim.layout, claim.expect), (claim.other_layout, claim.other())):
                claimed = np.asarray(at({}, expr), dtype=complex)
                where = in_layout(index, layout)
                along = np.zeros(np.shape(O), dtype=complex)
                flat = claimed.reshape(-1) if claimed.size == 1 else None
                for r, row in enumerate(where):
                    for c, (a, b, i, j) in enumerate(row):
                        along[a, b] += (flat[0] if flat is not None else claimed[r, c]) * V[i, j]
                try:
                    worst = max(worst, _rel_error(np.asarray(fd, dtype=float).reshape(np.shape(O)), along, claim, sizes, layout, slack))
                except Refuted as err:
                    raise Refuted(f"along a random direction: {err}".replace(", entry ", ", entry of the derivative along it ")) from None
    return worst


def _second_differences(W: np.ndarray, f: Callable[[np.ndarray], np.ndarray], of_shape: Shape,
                        wrt_shape: Shape) -> list[list[Any]]:
    """Central second differences of f at W, in numerator layout (see numerator_entries_2).

    Richardson's extrapolation (4 D(h/2) - D(h)) / 3 cancels the h^2 error term, so that
    a steep function is not mistaken for a wrong claim.
    """
    coarse = _second_differences_at(W, f, wrt_shape, FD_STEP_2)
    fine = _second_differences_at(W, f, wrt_shape, FD_STEP_2 / 2)
    return [[(4 * b - a) / 3 for a, b in zip(row_c, row_f)] for row_c, row_f in zip(coarse, fine)]


def _second_differences_at(W: np.ndarray, f: Callable[[np.ndarray], np.ndarray], wrt_shape: Shape,
                           base_step: float) -> list[list[Any]]:
    steps = [base_step * max(1.0, abs(float(w))) for w in W.reshape(-1)]

    def moved(*shifts: tuple[int, float]) -> np.ndarray:
        out = W.copy()
        for index, amount in shifts:
            out[index, 0] += amount
        return f(out)

    if is_scalar(wrt_shape):
        h = steps[0]
        values = (moved((0, h)) - 2 * f(W) + moved((0, -h))) / h**2
        return [[values[a, b] for b in range(values.shape[1])] for a in range(values.shape[0])]
    n = W.shape[0]
    hess = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for k in range(i, n):
            hi, hk = steps[i], steps[k]
            value = (moved((i, hi), (k, hk)) - moved((i, hi), (k, -hk)) - moved((i, -hi), (k, hk))
                     + moved((i, -hi), (k, -hk))) / (4 * hi * hk)
            hess[i][k] = hess[k][i] = float(value[0, 0])
    return hess


def _rel_error(fd: np.ndarray, claimed: Any, claim: Claim, sizes: dict[str, int], layout: str, slack: float = 0.0) -> float:
    """The largest difference relative to the derivative's size; above REL_TOL (after the round-off slack) it refutes."""
    claimed_arr = np.asarray(claimed, dtype=complex)
    if claimed_arr.size == 1 and fd.size != 1:
        claimed_arr = np.full(fd.shape, claimed_arr.reshape(-1)[0])
    if np.any(np.abs(claimed_arr.imag) > 1e-12) or not np.all(np.isfinite(claimed_arr)) or not np.all(np.isfinite(fd)):
        raise Undecided(f"the numeric check at {show_sizes(sizes)} left the domain (a log or sqrt of a negative value?); "
                        "declare the symbol positive or probability under assume")
    claimed_real = claimed_arr.real.reshape(fd.shape)
    scale = max(1.0, float(np.max(np.abs(fd))))
    error = float(np.max(np.abs(fd - claimed_real))) / scale if fd.size else 0.0
    if error - slack / scale > REL_TOL:  # the round-off of the differences themselves does not count against the claim
        i, j = np.unravel_index(int(np.argmax(np.abs(fd - claimed_real))), fd.shape)
        raise Refuted(f"in {layout} layout at {show_sizes(sizes)}, entry ({i + 1}, {j + 1}): finite differences give "
                      f"{fd[i, j]:.6g} but the claim gives {claimed_real[i, j]:.6g}")
    return error


# ---------------------------------------------------------------- one claim: every size, then the witnesses

def _all_sizes(claim: Claim) -> allsizes.Decision:
    """The all-sizes decision; an engine failure there leaves the witnesses to decide (never a crash)."""
    try:
        return allsizes.decide(claim)
    except (RecursionError, MemoryError):
        return allsizes.Decision("outside", "the all-sizes check ran out of memory or stack")
    except Exception as err:  # noqa: BLE001 - any failure of the new check falls back to the listed sizes
        return allsizes.Decision("outside", f"the all-sizes check could not finish ({type(err).__name__}: {err})")


def show_size_list(sizes: list[dict[str, int]]) -> str:
    """n = 2, 3 and 6; or (m, n) = (2, 3) and (3, 2)."""
    if not sizes or not sizes[0]:
        return "scalars"
    letters = list(sizes[0])
    if len(letters) == 1:
        values = [str(s[letters[0]]) for s in sizes]
        head = f"{letters[0]} = "
    else:
        values = ["(" + ", ".join(str(s[t]) for t in letters) + ")" for s in sizes]
        head = "(" + ", ".join(letters) + ") = "
    if len(values) > SHOWN_SIZES:  # a long grid: its smallest tuples and how many more (the export lists them all)
        return head + ", ".join(values[:SHOWN_SIZES - 1]) + f" and {len(values) - SHOWN_SIZES + 1} more size tuples"
    text = values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]
    return head + text


SHOWN_SIZES = 8


def _power_of_ten(x: float) -> str:
    """The smallest power of ten above x, as 1e-33."""
    if x <= 0:
        return "1e-300"
    return f"1e{math.ceil(math.log10(x)) if math.log10(x) != int(math.log10(x)) else int(math.log10(x)) + 1}"


def _counted(sizes: list[dict[str, int]]) -> list[dict[str, int]]:
    """The sizes a listed verdict may cite: a dimension letter of 1 makes vectors scalars, it does not count."""
    return [s for s in sizes if all(v >= 2 for v in s.values())]


PROBE_ENTRIES = 400  # entries of wrt at a size the engine names, checked by finite differences entry by entry
PROBE_ENTRIES_FAR = 16384  # beyond PROBE_ENTRIES and up to this: finite differences along random directions only
PROBE_ENTRIES_PROVED = 64  # the same for a proved claim (a check of the engine itself; the cost is per rule)
PROBE_DIM = 256  # no size the engine names is evaluated beyond this


def _entries_of_wrt(claim: Claim, sizes: dict[str, int]) -> int:
    r, c = concrete(claim.scope.symbols[claim.wrt], sizes)
    return r * c


def witness_sizes(claim: Claim) -> list[dict[str, int]]:
    """The claim's sizes, plus one with every letter at least 2 when each of them sets a letter to 1.

    A dimension of 1 turns vectors into scalars (a dropped transpose passes there), so a
    verdict never rests on such sizes alone: each 1 is replaced by the smallest unused size.
    """
    sizes = [_defined(claim, dict(s)) for s in claim.sizes]
    if not sizes or _counted(sizes):
        return _unique(sizes)
    base = dict(sizes[0])
    used = {v for v in base.values() if v >= 2}
    for letter in [t for t, v in base.items() if v < 2]:
        value = next(v for v in range(2, 64) if v not in used)
        base[letter] = value
        used.add(value)
    return sizes + [base]


def _defined(claim: Claim, sizes: dict[str, int]) -> dict[str, int]:
    """The sizes, or (where a divisor made of sizes alone, such as n - 2, is 0 there) the nearest larger ones where the
    claim says something: every letter moved up by the same amount, so no two letters become tied."""
    for shift in range(0, 32):
        moved = {t: v + shift if v >= 2 else v for t, v in sizes.items()}
        if not allsizes.size_only_zero(claim, moved):
            return moved
    return sizes


def _unique(sizes: list[dict[str, int]]) -> list[dict[str, int]]:
    out: list[dict[str, int]] = []
    for s in sizes:
        if s not in out:
            out.append(s)
    return out


def check_claim(claim: Claim) -> Verdict:
    """The all-sizes check decides where its theory reaches; SymPy and finite differences witness every claim.

    proved for every size: the SymPy check runs at one size assignment and the numeric check at
    every listed one, as independent witnesses (a disagreement is reported, never hidden);
    refuted exactly: the counterexample's sizes, layout and entry are reported;
    otherwise: both checks at every listed size decide, as before, and the verdict says why
    the all-sizes theory does not reach.
    """
    start = time.perf_counter()
    decision = _all_sizes(claim)
    layouts = (claim.layout,) if claim.kind == "differential" else (claim.layout, claim.other_layout)
    if decision.status == "refuted":
        return _refuted_exactly(claim, decision, layouts, start)
    if decision.status == "undefined":
        status = "refuted" if decision.reason.startswith("expect") else "undecided"
        return Verdict(status, (), layouts, 0, 0.0, time.perf_counter() - start, decision.reason, reason=decision.reason,
                       statement=decision.reason)
    sizes_list = witness_sizes(claim)
    proved = decision.status == "proved"
    symbolic_sizes = sizes_list[:1] if proved else sizes_list
    # The numeric witness also looks where a trap would show: the sizes the engine names (the smallest tuple of the
    # bound's grid, or of a lenient count where its theory does not reach; where a model that drops relations
    # differed), and, for a claim not proved, the default sizes beside an author's `sizes:` (they add, never
    # replace). A point outside the domain there is no verdict (the author's sizes may be chosen for a reason).
    looked = [dict(s) for s in decision.probe_sizes if _entries_of_wrt(claim, s) <= (PROBE_ENTRIES_PROVED if proved else PROBE_ENTRIES_FAR)
              and max(dict(s).values(), default=1) <= PROBE_DIM]
    if not proved:
        from generator.engine.claims import default_sizes

        defaults = [dict(s) for s in default_sizes(list(claim.scope.dims))]
        if [dict(s) for s in claim.sizes] != defaults:
            looked += defaults
    extra = [s for s in _unique(looked) if s not in sizes_list and not allsizes.size_only_zero(claim, s)]
    numeric_sizes = _unique(([] if proved else extra) + sizes_list + (extra if proved else []))
    worst = 0.0
    undecided: str | None = None
    precise_agrees: list[dict[str, int]] = []
    try:
        # Numbers first: a wrong claim is refuted in milliseconds, before any slow simplification.
        for sizes in numeric_sizes:
            try:
                far = sizes in extra and (proved or _entries_of_wrt(claim, sizes) > PROBE_ENTRIES)
                witness = directional_check if far else numeric_check  # along random directions: two evaluations a point
                worst = max(worst, witness(claim, sizes))
            except Undecided as err:  # left the domain: the symbolic check below may still refute
                if sizes not in extra:
                    undecided = undecided or str(err)
            except (ArithmeticError, ValueError, np.linalg.LinAlgError):
                if sizes not in extra:
                    raise
        # Where a model that drops relations differed (or the sizes the engine names, outside its theory): the claim
        # along random directions in 200-digit arithmetic, which sees a difference of 1e-12 that finite differences cannot.
        precise = [] if proved else [dict(s) for s in _unique([dict(s) for s in decision.probe_sizes])
                                     if _unknowns(claim, dict(s)) <= PRECISE_ENTRIES and not allsizes.size_only_zero(claim, dict(s))]
        for sizes in precise[:PRECISE_SIZES]:
            try:
                precise_point_check(claim, sizes)
                precise_agrees.append(sizes)
            except Undecided:
                pass  # no verdict there: too many unknowns, generic functions, or outside the domain
            except (ArithmeticError, ValueError, TypeError, np.linalg.LinAlgError):
                pass
        for sizes in symbolic_sizes:
            try:
                symbolic_check(claim, sizes)
            except Undecided as err:
                undecided = undecided or str(err)
    except Refuted as err:
        if proved:
            detail = (f"the all-sizes check proved the claim but a witness found a difference: {err} "
                      "(the engine is wrong somewhere: please report this rule)")
            return Verdict("undecided", tuple(numeric_sizes), layouts, NUMERIC_POINTS, worst, time.perf_counter() - start, detail,
                           statement=detail)
        return Verdict("refuted", tuple(numeric_sizes), layouts, NUMERIC_POINTS, worst, time.perf_counter() - start, str(err),
                       statement=f"Refuted: {err}")
    except Undecided as err:
        undecided = undecided or str(err)
    seconds = time.perf_counter() - start
    if undecided:
        return Verdict("undecided", tuple(numeric_sizes), layouts, NUMERIC_POINTS, worst, seconds, undecided, statement=undecided)
    layout_words = "in both layouts" if len(layouts) == 2 else "as a differential"
    witnesses = (f"SymPy agrees exactly at {' and '.join(show_sizes(s) for s in symbolic_sizes)} {layout_words}; central finite "
                 f"differences agree at {NUMERIC_POINTS} random points per size at {' and '.join(show_sizes(s) for s in numeric_sizes)} "
                 f"(largest relative error {worst:.1e})")
    if precise_agrees:
        witnesses += (f"; in {PRECISE_WORK}-digit arithmetic the claim agrees with the derivative along random directions at "
                      f"{' and '.join(show_sizes(s) for s in precise_agrees)}")
    if proved:
        return _proved_verdict(claim, decision, tuple(symbolic_sizes), layouts, worst, seconds, witnesses)
    if not claim.scope.dims and symbolic_sizes:
        # no dimension letter: the one size there is was checked by exact symbolic equality, which is a proof
        statement = "Proved (exact symbolic equality; the rule has no sizes to vary)"
        detail = f"proved: the rule has no dimension letters, and {witnesses}"
        return Verdict("verified", tuple(symbolic_sizes), layouts, NUMERIC_POINTS, worst, seconds, detail, scope="all-sizes",
                       statement=statement, all_sizes={"grid": [{}], "bounds": {}, "prime": None, "primes": [], "seeds": 0,
                                                       "error_bound": 0.0, "method": "symbolic"})
    exact = [dict(s) for s in decision.checked_sizes] if decision.status == "listed" else []
    cited = _counted(_unique(symbolic_sizes + exact))  # where equality was shown exactly (not by finite differences alone)
    cited.sort(key=lambda s: (sum(s.values()), tuple(s.values())))
    reason = decision.reason or "the all-sizes check does not reach this rule"
    if decision.status == "outside" and not reason.startswith(("it ", "the ")):
        reason = f"the all-sizes check does not reach this rule: {reason}"
    statement = f"Verified at {show_size_list(cited)}: {reason}" if cited else f"Verified at listed sizes: {reason}"
    detail = f"exact symbolic equality at the listed sizes; {witnesses}"
    if exact:
        detail += f"; exact randomized equality (modulo 2^61 - 1) at {show_size_list(exact)}"
    detail += f". Not proved for every size: {reason}"
    return Verdict("verified", tuple(_unique(symbolic_sizes + exact)), layouts, NUMERIC_POINTS, worst, seconds, detail,
                   scope="listed-sizes", statement=statement, reason=reason, precise_sizes=tuple(precise_agrees))


def _proved_verdict(claim: Claim, decision: allsizes.Decision, sizes: tuple[dict[str, int], ...], layouts: tuple[str, ...],
                    worst: float, seconds: float, witnesses: str) -> Verdict:
    error = _power_of_ten(decision.error_bound)
    primes = " and ".join("2^61 - 1" if p == allsizes.P61 else "2^62 - 57" if p == allsizes.P62 else str(p) for p in decision.primes)
    grid = decision.grid
    letters = bool(grid and grid[0])
    where_defined = "".join(f" where {text} is not 0" if i == 0 else f" and {text} is not 0"
                            for i, text in enumerate(decision.excluded))
    statement = (f"Proved for every size{where_defined} (exact, randomized: error < {error})" if letters
                 else f"Proved (exact, randomized: error < {error})")
    where = f"at {show_size_list(grid)}, which settle every size" if letters else "at a random point"
    detail = (f"proved{' for every size' if letters else ''}: both sides agree exactly (modulo {primes}) {where}, "
              f"at {decision.seeds} random points each (error < {error}); {witnesses}")
    all_sizes = {"grid": [dict(s) for s in grid], "bounds": decision.bounds, "prime": decision.primes[0],
                 "primes": list(decision.primes), "seeds": decision.seeds, "error_bound": float(f"{decision.error_bound:.3g}")}
    return Verdict("verified", sizes, layouts, NUMERIC_POINTS, worst, seconds, detail, scope="all-sizes", statement=statement,
                   all_sizes=all_sizes)


def _refuted_exactly(claim: Claim, decision: allsizes.Decision, layouts: tuple[str, ...], start: float) -> Verdict:
    where = decision.counterexample
    if where is None:  # a shape mismatch
        return Verdict("refuted", (), layouts, 0, 0.0, time.perf_counter() - start, decision.reason, statement=f"Refuted: {decision.reason}")
    sizes = dict(where["sizes"])
    layout = where.get("layout") or ""
    entry = where.get("entry")
    place = f"in {layout} layout at {show_sizes(sizes)}" if layout != "differential" else f"as a differential at {show_sizes(sizes)}"
    if entry:
        place += f", entry ({entry[0]}, {entry[1]})"
    detail = f"{place}: the claim differs from the derivative (exact arithmetic modulo 2^61 - 1; reproduce with sizes: [{{{', '.join(f'{k}: {v}' for k, v in sizes.items())}}}])"
    try:  # the same size with floating point, for numbers a reader can compare
        numeric_check(claim, sizes)
    except Refuted as err:
        detail += f"; numerically: {err}"
    except (Undecided, ArithmeticError, ValueError, np.linalg.LinAlgError):
        pass
    return Verdict("refuted", (sizes,), layouts, NUMERIC_POINTS, 0.0, time.perf_counter() - start, detail, statement=f"Refuted {detail}")
