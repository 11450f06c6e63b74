"""Compile a Claim into the exact model (generator.allsizes.ir): rewrite, atomise, differentiate.

Three steps, all exact:

1. *Rewrite* (``rewrite``): identities the model could not see once det and inv are
   atoms are applied first, in both `of` and `expect`: det(A B) = det A det B and
   inv(A B) = inv(B) inv(A) for square factors, det(X^-1) = 1/det X, det(s X) = s^n det X,
   det(I + u v^T) = 1 + v^T u, inv(s X) = inv(X)/s, sqrt(w)^2k = w^k, norm(w)^2k = (w . w)^k,
   log(exp(u)) = u, u^(v + c) = u^v u^c.
2. *Atomise*: every elementwise function value (exp, log, sin, cos, tanh, sigmoid,
   softplus, sqrt), every det and inv, every value or derivative of a generic function and
   every non-integer power becomes a leaf: a generic tensor with independent entries, keyed
   by the function and the canonical text of its argument, that keeps only its derivative
   rule (exp' = exp, log' = 1/u, tanh' = 1 - tanh^2, d inv = -Y dM Y, d det = det tr(Y dM) ...).
   An identity that holds for generic leaves holds for the real functions, which are one
   particular value of them. relu(u) is u * H with H a leaf of 0/1 entries (H' = 0).
3. *Differentiate*: forward mode on the graph: every node gets its directional derivative
   along a generic direction V (a leaf of the shape of wrt), built from the same
   operations, so the derivative is again a model graph.

`mode="exact"` compiles the same claim with the true det and inverse and with generic
functions keyed by the *value* of their argument: no relation is lost, so a difference
found there at some size is a real counterexample at that size. It refuses transcendental
functions (their values are not exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

from generator.claims import Claim
from generator.parse import SCALAR, Expr, FunctionSig, constant_value, is_scalar, is_vector, numerator_shape
from generator.allsizes.ir import Graph, Leaf, Node

Der = Optional[Node]  # a directional derivative; None is exactly zero

# Families of leaves whose relations the model drops: a difference found with them in the
# model may vanish for the real functions, so it is never reported as a counterexample.
TRANSCENDENTAL = frozenset({"exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt", "pow", "step"})
LOSSY = TRANSCENDENTAL | {"det", "inv", "fn"}
ELEMENTWISE_ATOMS = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt")


class Outside(Exception):
    """The claim uses something the all-sizes theory does not reach; the message says what, in plain words."""


# ---------------------------------------------------------------- canonical text

def canon(e: Expr, t: bool = False, symmetric: frozenset[str] = frozenset()) -> str:
    """A canonical text of e (of e^T when t): transposes pushed to the symbols, products of
    matrices flattened, terms of sums and factors of entrywise products sorted.

    Two expressions with the same canonical text are equal as functions; the converse need not
    hold (the model is then only less complete, never wrong).
    """
    if e.is_scalar:
        t = False
    op = e.op
    mark = "'" if t else ""
    if op == "sym":
        return e.name + ("" if e.name in symmetric else mark)
    if op == "const":
        return str(e.value)
    if op == "dim":
        return e.name
    if op == "d":
        return f"d({e.name}){mark}"
    if op == "T":
        return canon(e.args[0], not t, symmetric)
    if op in ("add", "sub") and e.args[0].shape != e.args[1].shape:  # a scalar broadcast: not flattened
        sign = "+" if op == "add" else "-"
        return f"({canon(e.args[0], t, symmetric)}{sign}{canon(e.args[1], t, symmetric)})"
    if op in ("add", "sub", "neg"):
        terms = sorted(("+" if sign > 0 else "-") + canon(x, t, symmetric) for sign, x in _terms(e, 1))
        return "(" + "".join(terms) + ")"
    if op == "mul":
        return "(" + "*".join(sorted(canon(x, t, symmetric) for x in _factors(e))) + ")"
    if op == "div":
        return f"({canon(e.args[0], t, symmetric)}/{canon(e.args[1], t, symmetric)})"
    if op == "pow":
        return f"({canon(e.args[0], t, symmetric)}**{canon(e.args[1], False, symmetric)})"
    if op == "matmul":
        chain = _chain(e)
        if t:
            chain = list(reversed(chain))
        return "[" + "@".join(canon(x, t, symmetric) for x in chain) + "]"
    if op == "call":
        name = e.name
        if name in ("ones", "zeros"):
            r, c = e.shape
            return f"{name}({c},{r})" if t else f"{name}({r},{c})"
        if name == "eye":
            return f"eye({e.shape[0]})"
        (arg,) = e.args
        if name in ("trace", "sum", "norm", "det"):
            return f"{name}({min(canon(arg, False, symmetric), canon(arg, True, symmetric))})"
        if name == "diag":
            return f"diag({canon(arg, False, symmetric)})"
        if name in ("softmax", "logsumexp"):
            return f"{name}({canon(arg, False, symmetric)}){mark}"
        return f"{name}({canon(arg, t, symmetric)})"  # elementwise functions and inv commute with ^T
    if op in ("apply", "D"):
        head = e.name if op == "apply" else f"D{e.value}:{e.name}"
        return f"{head}(" + ",".join(canon(a, False, symmetric) for a in e.args) + ")" + mark
    raise ValueError(f"unknown operation {op}")  # pragma: no cover


def _terms(e: Expr, sign: int) -> list[tuple[int, Expr]]:
    """The signed terms of a sum of equal shapes; any other expression is one term."""
    if e.op == "add" and e.args[0].shape == e.args[1].shape:
        return _terms(e.args[0], sign) + _terms(e.args[1], sign)
    if e.op == "sub" and e.args[0].shape == e.args[1].shape:
        return _terms(e.args[0], sign) + _terms(e.args[1], -sign)
    if e.op == "neg":
        return _terms(e.args[0], -sign)
    return [(sign, e)]


def _factors(e: Expr) -> list[Expr]:
    if e.op == "mul":
        return _factors(e.args[0]) + _factors(e.args[1])
    return [e]


def _chain(e: Expr) -> list[Expr]:
    if e.op == "matmul":
        return _chain(e.args[0]) + _chain(e.args[1])
    return [e]


# ---------------------------------------------------------------- rewrite

ONE = Expr("const", value=1)


def _const(v: int) -> Expr:
    return Expr("const", value=v) if v >= 0 else Expr("neg", (Expr("const", value=-v),))


def _dim_expr(d: object) -> Expr:
    return _const(d) if isinstance(d, int) else Expr("dim", name=str(d))


def _mul(a: Expr, b: Expr) -> Expr:
    shape = b.shape if a.is_scalar else a.shape
    return Expr("mul", (a, b), shape)


def _pow(a: Expr, b: Expr) -> Expr:
    k = constant_value(b)
    if k == 1:
        return a
    return Expr("pow", (a, b), a.shape)


def _square(e: Expr) -> bool:
    return e.shape[0] == e.shape[1] and not e.is_scalar


def rewrite(e: Expr) -> Expr:
    """Apply the identities of the module docstring, bottom-up; shapes are kept."""
    args = tuple(rewrite(a) for a in e.args)
    e = Expr(e.op, args, e.shape, e.name, e.value) if args != e.args else e
    if e.op == "call" and e.name == "det":
        return _rw_det(e.args[0])
    if e.op == "call" and e.name == "inv":
        return _rw_inv(e.args[0])
    if e.op == "call" and e.name == "log" and e.args[0].op == "call" and e.args[0].name == "exp":
        return e.args[0].args[0]
    if e.op == "call" and e.name == "exp" and e.args[0].op == "call" and e.args[0].name == "log":
        return e.args[0].args[0]
    if e.op == "pow":
        return _rw_pow(e)
    return e


def _rw_det(m: Expr) -> Expr:
    if m.op == "T":
        return _rw_det(m.args[0])
    if m.op == "call" and m.name == "inv":
        return Expr("div", (ONE, _rw_det(m.args[0])), SCALAR)
    if m.op == "call" and m.name == "eye":
        return ONE
    if m.op == "neg":
        return _mul(_pow(_const(-1), _dim_expr(m.shape[0])), _rw_det(m.args[0]))
    if m.op == "mul" and (m.args[0].is_scalar or m.args[1].is_scalar):
        s, a = m.args if m.args[0].is_scalar else (m.args[1], m.args[0])
        return _mul(_pow(s, _dim_expr(m.shape[0])), _rw_det(a))
    if m.op == "matmul":
        chain = _chain(m)
        if all(_square(f) for f in chain):
            result = _rw_det(chain[0])
            for f in chain[1:]:
                result = _mul(result, _rw_det(f))
            return result
    if m.op in ("add", "sub"):  # det(I + u w) = 1 + w u and det(I - u w) = 1 - w u, u a column, w a row
        left, right = m.args
        for eye_side, other, sign in ((left, right, m.op), (right, left, "add" if m.op == "add" else None)):
            if sign and eye_side.op == "call" and eye_side.name == "eye" and other.op == "matmul":
                chain = _chain(other)
                cut = next((i for i in range(1, len(chain)) if chain[i - 1].shape[1] == 1), None)
                if cut is not None:
                    u = _rebuild(chain[:cut])
                    w = _rebuild(chain[cut:])
                    return Expr(sign, (ONE, Expr("matmul", (w, u), SCALAR)), SCALAR)
    return Expr("call", (m,), SCALAR, name="det")


def _rebuild(chain: list[Expr]) -> Expr:
    out = chain[0]
    for f in chain[1:]:
        out = Expr("matmul", (out, f), (out.shape[0], f.shape[1]))
    return out


def _rw_inv(m: Expr) -> Expr:
    if m.op == "T":
        inner = _rw_inv(m.args[0])
        return Expr("T", (inner,), (inner.shape[1], inner.shape[0]))
    if m.op == "call" and m.name == "inv":
        return m.args[0]
    if m.op == "call" and m.name == "eye":
        return m
    if m.op == "neg":
        return Expr("neg", (_rw_inv(m.args[0]),), m.shape)
    if m.op == "mul" and (m.args[0].is_scalar or m.args[1].is_scalar):
        s, a = m.args if m.args[0].is_scalar else (m.args[1], m.args[0])
        return Expr("div", (_rw_inv(a), s), m.shape)
    if m.op == "matmul":
        chain = _chain(m)
        if all(_square(f) for f in chain):
            return _rebuild([_rw_inv(f) for f in reversed(chain)])
    return Expr("call", (m,), m.shape, name="inv")


def _rw_pow(e: Expr) -> Expr:
    base, exponent = e.args
    k = constant_value(exponent)
    if k is not None:
        if k % 2 == 0 and k != 0 and base.op == "call" and base.name == "sqrt":
            return _pow(base.args[0], _const(k // 2))
        if k % 2 == 0 and k != 0 and base.op == "call" and base.name == "norm":
            inner = base.args[0]
            return _pow(Expr("call", (Expr("mul", (inner, inner), inner.shape),), SCALAR, name="sum"), _const(k // 2))
        return e
    # u ** (v + c) = u ** v * u ** c for an integer constant c: one atom for u ** v
    if exponent.op in ("add", "sub"):
        left, right = exponent.args
        c = constant_value(right)
        if c is not None and constant_value(left) is None:
            c = c if exponent.op == "add" else -c
            return _mul(Expr("pow", (base, left), base.shape), _pow(base, _const(c)))
        c = constant_value(left)
        if c is not None and exponent.op == "add" and constant_value(right) is None:
            return _mul(Expr("pow", (base, right), base.shape), _pow(base, _const(c)))
    return e


# ---------------------------------------------------------------- compile

@dataclass
class Program:
    """A compiled claim: the derivative of `of` along V, and what each layout's claim says it is."""

    graph: Graph
    claim: Claim
    mode: str
    direction: Node  # V
    derivative: Node  # D_V of
    claimed: dict[str, Node]  # layout (or "differential") -> the claim applied to V
    expect_values: dict[str, Node]  # layout -> the value of expect in that layout (for locating entries)
    of_value: Node
    families: set[str] = field(default_factory=set)

    @property
    def lossy(self) -> bool:
        """Whether a difference found in this program may vanish for the real functions."""
        return bool(self.families & LOSSY) if self.mode == "model" else bool(self.families & TRANSCENDENTAL)

    def roots(self) -> list[Node]:
        return [self.derivative, *self.claimed.values()]


class Compiler:
    def __init__(self, claim: Claim, mode: str = "model") -> None:
        if mode not in ("model", "exact"):
            raise ValueError(mode)
        self.claim, self.mode = claim, mode
        self.g = Graph()
        self.scope = claim.scope
        self.symmetric = claim.symmetric_symbols()
        self.families: set[str] = set()
        wrt_shape = self.scope.symbols[claim.wrt]
        self.V = self.g.leaf(Leaf("dir:", "generic", "direction"), wrt_shape)
        self._vmemo: dict[Expr, Node] = {}
        self._dmemo: dict[Expr, Der] = {}

    # -- helpers
    def key(self, e: Expr, t: bool = False) -> str:
        return canon(e, t, self.symmetric)

    def dadd(self, a: Der, b: Der) -> Der:
        if a is None:
            return b
        if b is None:
            return a
        return self.g.add(a, b)

    def dsub(self, a: Der, b: Der) -> Der:
        if b is None:
            return a
        if a is None:
            return self.g.neg(b)
        return self.g.sub(a, b)

    def dmul(self, a: Der, b: Node) -> Der:
        return None if a is None else self.g.mul(a, b)

    def symbol(self, name: str) -> Node:
        g = self.g
        shape = self.scope.symbols[name]
        props = set(self.claim.assume.get(name, ()))
        family = "symbol"
        if "diagonal" in props:
            return g.diag(g.leaf(Leaf(f"sym:{name}#diagonal", "generic", family), (shape[0], 1)))
        if props & {"symmetric", "spd"}:
            return g.leaf(Leaf(f"sym:{name}", "sym", family), shape)
        if "probability" in props:
            u = g.leaf(Leaf(f"sym:{name}#weights", "generic", family), shape)
            return g.div(u, g.sum(u))
        return g.leaf(Leaf(f"sym:{name}", "generic", family), shape)

    def atom(self, family: str, arg: Expr, shape: tuple, kind: str = "generic", prefix: str = "") -> Node:
        """A leaf standing for family(arg), entrywise; oriented so that f(u^T) is f(u)^T.

        A square argument equal to its own transpose (canonically) gives a symmetric leaf:
        f(S) is symmetric when S is, for an entrywise f, for inv, and for the step of relu.
        """
        self.families.add(family)
        name = f"{prefix or family}:"
        g = self.g
        if arg.is_scalar:
            return g.leaf(Leaf(name + self.key(arg), kind, family), shape)
        k0, k1 = self.key(arg), self.key(arg, True)
        if shape == SCALAR:  # det: det(M) = det(M^T)
            return g.leaf(Leaf(name + min(k0, k1), kind, family), shape)
        if shape[1] == 1:  # a column: keyed as it is
            return g.leaf(Leaf(name + k0, kind, family), shape)
        if shape[0] == 1:  # a row: the transpose of the column's leaf
            return g.T(g.leaf(Leaf(name + k1, kind, family), (shape[1], shape[0])))
        if k0 == k1:
            return g.leaf(Leaf(name + k0, "sym" if kind == "generic" else "idemsym", family), shape)
        if k1 < k0:
            return g.T(g.leaf(Leaf(name + k1, kind, family), (shape[1], shape[0])))
        return g.leaf(Leaf(name + k0, kind, family), shape)

    # -- the compiler: values and (lazily) directional derivatives
    def val(self, e: Expr) -> Node:
        hit = self._vmemo.get(e)
        if hit is None:
            hit = self._val(e)
            self._vmemo[e] = hit
        return hit

    def der(self, e: Expr) -> Der:
        if e in self._dmemo:
            return self._dmemo[e]
        out = self._der(e)
        if out is not None and out.shape != self.val(e).shape:  # a scalar broadcast over a matrix
            out = self.g.mul(out, self.g.ones(self.val(e).shape))
        self._dmemo[e] = out
        return out

    def _val(self, e: Expr) -> Node:
        g = self.g
        op = e.op
        if op == "sym":
            return self.symbol(e.name)
        if op == "const":
            return g.const(e.value)
        if op == "dim":
            return g.dim(e.name)
        if op == "d":
            return self.V
        if op == "neg":
            return g.neg(self.val(e.args[0]))
        if op in ("add", "sub", "mul", "matmul"):
            a, b = self.val(e.args[0]), self.val(e.args[1])
            return {"add": g.add, "sub": g.sub, "mul": g.mul, "matmul": g.matmul}[op](a, b)
        if op == "div":
            value = g.div(self.val(e.args[0]), self.val(e.args[1]))
            g.origin.setdefault(value.id, _text(e.args[1]))
            return value
        if op == "pow":
            return self.power(e)
        if op == "T":
            return g.T(self.val(e.args[0]))
        if op == "call":
            return self.call(e)
        if op == "apply":
            return self.apply(e)
        if op == "D":
            return self.jacobian(e)
        raise Outside(f"the operation {op} is outside the all-sizes model")  # pragma: no cover

    def _der(self, e: Expr) -> Der:
        g = self.g
        op = e.op
        if op == "sym":
            return self.V if e.name == self.claim.wrt else None
        if op in ("const", "dim", "d"):
            return None
        if op in ("neg", "T"):
            d = self.der(e.args[0])
            return None if d is None else (g.neg(d) if op == "neg" else g.T(d))
        if op == "add":
            return self.dadd(self.der(e.args[0]), self.der(e.args[1]))
        if op == "sub":
            return self.dsub(self.der(e.args[0]), self.der(e.args[1]))
        if op == "mul":
            a, b = e.args
            da, db = self.der(a), self.der(b)
            return self.dadd(None if da is None else g.mul(da, self.val(b)), None if db is None else g.mul(self.val(a), db))
        if op == "matmul":
            a, b = e.args
            da, db = self.der(a), self.der(b)
            return self.dadd(None if da is None else g.matmul(da, self.val(b)), None if db is None else g.matmul(self.val(a), db))
        if op == "div":
            a, b = e.args
            da, db = self.der(a), self.der(b)
            if da is None and db is None:
                return None
            value = self.val(e)
            num = self.dsub(da, None if db is None else g.mul(value, db))
            return None if num is None else g.div(num, self.val(b))
        if op == "pow":
            return self.power_der(e)
        if op == "call":
            return self.call_der(e)
        if op == "apply":
            return self.apply_der(e)
        if op == "D":
            return self.jacobian_der(e)
        raise Outside(f"the operation {op} is outside the all-sizes model")  # pragma: no cover

    # -- powers
    def power(self, e: Expr) -> Node:
        base, exponent = e.args
        k = constant_value(exponent)
        if k is not None:
            if k >= 0:
                return self.g.pow(self.val(base), k)
            value = self.val(self._reciprocal(e))
            return value
        self.require_exactless("a power whose exponent is not an integer constant")
        self.val(exponent)
        return self.atom("pow", e, e.shape)

    def _reciprocal(self, e: Expr) -> Expr:
        """u ** -m as 1 / u ** m."""
        base, exponent = e.args
        m = -constant_value(exponent)
        return Expr("div", (ONE, base if m == 1 else Expr("pow", (base, _const(m)), base.shape)), e.shape)

    def power_der(self, e: Expr) -> Der:
        g = self.g
        base, exponent = e.args
        k = constant_value(exponent)
        du = self.der(base)
        if k is not None:
            if k < 0:
                return self.der(self._reciprocal(e))
            if du is None or k == 0:
                return None
            return g.mul(g.mul(g.const(k), g.pow(self.val(base), k - 1)), du)
        # P = u ** v: dP = P (v du / u + log(u) dv)
        dv = self.der(exponent)
        if du is None and dv is None:
            return None
        inner: Der = None
        if du is not None:
            inner = g.div(g.mul(self.val(exponent), du), self.val(base))
            g.origin.setdefault(inner.id, _text(base))
        if dv is not None:
            inner = self.dadd(inner, g.mul(self.atom("log", base, base.shape), dv))
        return g.mul(self.val(e), inner)

    def require_exactless(self, what: str) -> None:
        if self.mode == "exact":
            raise Outside(f"{what} has no exact value")

    # -- the functions of the language
    def _expand(self, e: Expr) -> Optional[Expr]:
        """norm, softmax and logsumexp written with sqrt, exp, sum, log and a division."""
        name = e.name
        if name not in ("norm", "softmax", "logsumexp"):
            return None
        (arg,) = e.args
        if name == "norm":
            inner = Expr("call", (Expr("mul", (arg, arg), arg.shape),), SCALAR, name="sum")
            return Expr("call", (inner,), SCALAR, name="sqrt")
        ex = Expr("call", (arg,), arg.shape, name="exp")
        if name == "softmax":
            if is_vector(arg.shape):
                return Expr("div", (ex, Expr("call", (ex,), SCALAR, name="sum")), arg.shape)
            k = arg.shape[1]
            return Expr("div", (ex, Expr("matmul", (ex, Expr("call", (), (k, k), name="ones")), arg.shape)), arg.shape)
        if is_vector(arg.shape):
            return Expr("call", (Expr("call", (ex,), SCALAR, name="sum"),), SCALAR, name="log")
        rows = Expr("matmul", (ex, Expr("call", (), (arg.shape[1], 1), name="ones")), (arg.shape[0], 1))
        return Expr("call", (rows,), rows.shape, name="log")

    def call(self, e: Expr) -> Node:
        g = self.g
        name = e.name
        if name in ("ones", "zeros", "eye"):
            return g.eye(e.shape[0]) if name == "eye" else g.ones(e.shape) if name == "ones" else g.zeros(e.shape)
        expanded = self._expand(e)
        if expanded is not None:
            return self.val(expanded)
        (arg,) = e.args
        u = self.val(arg)
        if name == "trace":
            return g.trace(u)
        if name == "sum":
            return g.sum(u)
        if name == "diag":
            return g.diag(u)
        if name == "det":
            if self.mode == "exact":
                return g.detx(u)
            return self.atom("det", arg, SCALAR)
        if name == "inv":
            return self.inverse(arg)
        if name in ("relu", "step"):
            self.require_exactless("relu and step")
            h = self.atom("step", arg, arg.shape, kind="idem")
            return h if name == "step" else g.mul(u, h)
        if name in ELEMENTWISE_ATOMS:
            self.require_exactless(name)
            return self.atom(name, arg, arg.shape)
        raise Outside(f"the function {name} is outside the all-sizes model")

    def inverse(self, arg: Expr) -> Node:
        g = self.g
        y = g.invx(self.val(arg)) if self.mode == "exact" else self.atom("inv", arg, arg.shape)
        g.origin.setdefault(y.id, _text(Expr("call", (arg,), arg.shape, name="inv")))
        return y

    def call_der(self, e: Expr) -> Der:
        g = self.g
        name = e.name
        if name in ("ones", "zeros", "eye"):
            return None
        expanded = self._expand(e)
        if expanded is not None:
            return self.der(expanded)
        (arg,) = e.args
        du = self.der(arg)
        if du is None:
            return None
        a = self.val(e)
        if name == "trace":
            return g.trace(du)
        if name == "sum":
            return g.sum(du)
        if name == "diag":
            return g.diag(du)
        if name == "det":
            return g.mul(a, g.trace(g.matmul(self.inverse(arg), du)))
        if name == "inv":
            return g.neg(g.matmul(g.matmul(a, du), a))
        if name == "relu":
            return g.mul(du, self.atom("step", arg, arg.shape, kind="idem"))
        if name == "step":
            return None
        if name == "exp":
            return g.mul(a, du)
        if name == "log":
            d = g.div(du, self.val(arg))
            g.origin.setdefault(d.id, _text(arg))
            return d
        if name == "sin":
            return g.mul(self.atom("cos", arg, arg.shape), du)
        if name == "cos":
            return g.neg(g.mul(self.atom("sin", arg, arg.shape), du))
        if name == "tanh":
            return g.mul(g.sub(g.const(1), g.pow(a, 2)), du)
        if name == "sigmoid":
            return g.mul(g.mul(a, g.sub(g.const(1), a)), du)
        if name == "softplus":
            return g.mul(self.atom("sigmoid", arg, arg.shape), du)
        if name == "sqrt":
            d = g.div(du, g.mul(g.const(2), a))
            g.origin.setdefault(d.id, _text(e))
            return d
        raise Outside(f"the function {name} is outside the all-sizes model")  # pragma: no cover

    # -- generic functions
    def fn_leaf(self, fname: str, component: str, args: tuple[Expr, ...], shape: tuple, kind: str = "generic") -> Node:
        """The value (component "") or a derivative ("D1", "H12", ...) of f at args."""
        self.families.add("fn")
        if self.mode == "exact":
            return self.g.vleaf(Leaf(f"fn:{component}{fname}", kind, "fn"), tuple(self.val(a) for a in args), shape, component)
        key = f"fn:{component}{fname}(" + ",".join(self.key(a) for a in args) + ")"
        return self.g.leaf(Leaf(key, kind, "fn"), shape)

    def elementwise_value(self, fname: str, order: int, arg: Expr) -> Node:
        """f^(order)(arg), entrywise, for f: R -> R."""
        comp = f"D{order}" if order else ""
        if self.mode == "exact":
            self.families.add("fn")
            return self.g.vleaf(Leaf(f"fn:{comp}{fname}", "generic", "fn"), (self.val(arg),), arg.shape, f"elementwise:{order}")
        return self.atom("fn", arg, arg.shape, prefix=f"fn:{comp}{fname}")

    def elementwise_der(self, fname: str, order: int, arg: Expr) -> Der:
        du = self.der(arg)
        return None if du is None else self.g.mul(self.elementwise_value(fname, order + 1, arg), du)

    def apply(self, e: Expr) -> Node:
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_value(e.name, 0, e.args[0])
        return self.fn_leaf(e.name, "", e.args, sig.to)

    def apply_der(self, e: Expr) -> Der:
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_der(e.name, 0, e.args[0])
        total: Der = None
        for i, (a, want) in enumerate(zip(e.args, sig.args), start=1):
            da = self.der(a)
            if da is None:
                continue
            if not _column_or_scalar(sig.to) or not _column_or_scalar(want):
                raise Outside(f"the derivative of {e.name}, a generic function of a matrix or with a matrix value, "
                              "is a tensor outside the all-sizes model")
            jac = self.fn_leaf(e.name, f"D{i}", e.args, numerator_shape(sig.to, want))
            total = self.dadd(total, self.g.matmul(jac, da))
        return total

    def jacobian(self, e: Expr) -> Node:
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_value(e.name, 1, e.args[0])
        return self.fn_leaf(e.name, f"D{e.value}", e.args, e.shape)

    def jacobian_der(self, e: Expr) -> Der:
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_der(e.name, 1, e.args[0])
        g = self.g
        i = e.value
        total: Der = None
        for j, a in enumerate(e.args, start=1):
            da = self.der(a)
            if da is None:
                continue
            if not is_scalar(sig.to):
                raise Outside(f"the derivative of D({e.name}, ...) for a vector-valued {e.name} is a third-order tensor "
                              "outside the all-sizes model")
            lo, hi = min(i, j), max(i, j)
            shape_lo, shape_hi = sig.args[lo - 1], sig.args[hi - 1]
            h = self.fn_leaf(e.name, f"H{lo}{hi}", e.args, (shape_lo[0], shape_hi[0]), kind="sym" if lo == hi else "generic")
            h_ij = h if i == lo else g.T(h)  # rows: argument i, columns: argument j
            total = self.dadd(total, g.T(g.matmul(h_ij, da)))
        return total


def _column_or_scalar(shape: tuple) -> bool:
    return is_scalar(shape) or is_vector(shape)


def _text(e: Expr) -> str:
    """A short rule-language text of e, for messages."""
    from generator.allsizes.text import to_text

    return to_text(e)


def apply_claim(g: Graph, expect_num: Node, V: Node, of_shape: tuple, wrt_shape: tuple) -> Node:
    """The claim as a directional derivative: the numerator-layout matrix applied to V."""
    if is_scalar(wrt_shape):
        return g.mul(V, expect_num)
    if is_scalar(of_shape) and not is_vector(wrt_shape):
        return g.trace(g.matmul(expect_num, V))
    return g.matmul(expect_num, V)


def compile_claim(claim: Claim, mode: str = "model") -> Program:
    """The model of a claim: D_V of, and each layout's claim applied to V. Raises Outside."""
    comp = Compiler(claim, mode)
    g = comp.g
    of = rewrite(claim.of)
    of_value, derivative = comp.val(of), comp.der(of)
    wrt_shape = claim.scope.symbols[claim.wrt]
    if derivative is None:
        derivative = g.zeros(claim.of.shape)
    claimed: dict[str, Node] = {}
    expect_values: dict[str, Node] = {}
    if claim.kind == "differential":
        value = comp.val(rewrite(claim.expect))
        claimed["differential"] = value
        expect_values["differential"] = value
    else:
        for layout, expr in ((claim.layout, claim.expect), (claim.other_layout, claim.other())):
            value = comp.val(rewrite(expr))
            expect_values[layout] = value
            num = value if layout == "numerator" else g.T(value)
            claimed[layout] = apply_claim(g, num, comp.V, claim.of.shape, wrt_shape)
    for layout, node in claimed.items():
        if node.shape != derivative.shape:
            raise ValueError(f"internal: {layout} claim has shape {node.shape}, derivative {derivative.shape}")
    return Program(g, claim, mode, comp.V, derivative, claimed, expect_values, of_value, comp.families)
