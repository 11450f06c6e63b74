"""Compile a Claim into the exact model (generator.engine.allsizes.ir): rewrite, atomise, differentiate.

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
   particular value of them. relu(u) is u * H with H a leaf of 0/1 entries (H' = 0);
   abs(u) is u * S and sign(u) is S, with S a leaf of -1/+1 entries (S' = 0). A square root
   of a scalar is s with s^2 = u (both roots are checked).
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
from typing import Callable, Optional

from generator.engine.claims import Claim
from generator.engine.parse import SCALAR, Expr, FunctionSig, constant_value, is_scalar, is_vector, numerator_shape, parse_dim
from generator.engine.allsizes.ir import Graph, Leaf, Node

Der = Optional[Node]  # a directional derivative; None is exactly zero

# Families of leaves whose relations the model drops: a difference found with them in the
# model may vanish for the real functions, so it is never reported as a counterexample.
TRANSCENDENTAL = frozenset({"exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt", "pow", "step", "sign", "opaque"})
LOSSY = TRANSCENDENTAL | {"det", "inv", "fn"}
ELEMENTWISE_ATOMS = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt")
KINK_FAMILIES = frozenset({"sqrt", "log", "step", "sign"})  # no derivative where the argument is 0


class Outside(Exception):
    """The claim uses something the all-sizes theory does not reach; the message says what, in plain words."""


# ---------------------------------------------------------------- keys and canonical text

def fn_key(fname: str, component: str) -> str:
    """The key of a generic function's value (component "") or derivative ("D1", "H12", elementwise "D2", ...).

    The separator # cannot occur in a name of the rule language ([A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?), so the
    key is injective: the derivative D1 of f ("fn:f#D1") never meets a function named D1f ("fn:D1f#").
    """
    return f"fn:{fname}#{component}"


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
        return "$" + e.name  # a size, never a symbol of the same letter
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
    if op == "part":
        return f"{canon(e.args[0], False, symmetric)}[{e.name}:{e.shape[0]}]{mark}"
    if op == "call" and e.name in ("vstack", "hstack"):
        name = {"vstack": "hstack", "hstack": "vstack"}[e.name] if t else e.name
        return f"{name}(" + ",".join(canon(a, t, symmetric) for a in e.args) + ")"
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
    if op in ("apply", "D", "DD"):
        # "&f" for a value, "&D1:f" for a derivative: & and : cannot occur in a name, so no call of a language
        # function ("exp(...)"), differential ("d(X)") or other function's derivative spells the same text
        head = f"&{e.name}" if op == "apply" else f"&{op}{e.value}:{e.name}"
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


def rewrite(e: Expr, exp_forms: bool = False) -> Expr:
    """Apply the identities of the module docstring, bottom-up; shapes are kept. With exp_forms, tanh, sigmoid and
    softplus of columns, rows and scalars are also written with exp (a second attempt: see _exp_form)."""
    args = tuple(rewrite(a, exp_forms) for a in e.args)
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
    if e.op in ("mul", "matmul", "div"):  # (-a) b = -(a b): a sign moves out of products
        left, right = e.args
        if left.op == "neg" or (right.op == "neg" and e.op != "div"):
            inner = Expr(e.op, (left.args[0] if left.op == "neg" else left, right.args[0] if right.op == "neg" else right),
                         e.shape, e.name, e.value)
            inner = rewrite(inner, exp_forms)
            return inner if (left.op == "neg") == (right.op == "neg") else Expr("neg", (inner,), e.shape)
    if exp_forms and e.op == "call" and e.name in ("tanh", "sigmoid", "softplus") and 1 in e.shape:
        return rewrite(_exp_form(e), exp_forms)
    if e.op == "call" and e.args and e.args[0].op == "neg":
        inner = e.args[0].args[0]
        if e.name == "sigmoid":  # sigmoid(-u) = 1 - sigmoid(u)
            return Expr("sub", (ONE, Expr("call", (inner,), e.shape, name="sigmoid")), e.shape)
        if e.name in ("tanh", "sin"):  # odd functions
            return Expr("neg", (Expr("call", (inner,), e.shape, name=e.name),), e.shape)
        if e.name == "cos":
            return Expr("call", (inner,), e.shape, name="cos")
        if e.name == "exp" and 1 in e.shape:  # exp(-u) = 1 / exp(u) (a column, a row or a scalar: a local division)
            return Expr("div", (ONE, Expr("call", (inner,), e.shape, name="exp")), e.shape)
    return e


def _exp_form(e: Expr) -> Expr:
    """tanh, sigmoid and softplus of a column, a row or a scalar in terms of E = exp(u) (exact identities):
    tanh u = (E - 1/E) / (E + 1/E), sigmoid u = E / (1 + E), softplus u = log(1 + E). The model then knows how they
    relate to exp and to each other (log cosh' = tanh, softplus' = sigmoid, ...). The divisions are entrywise by
    functions of one entry: inside the theory."""
    (u,) = e.args
    ex = Expr("call", (u,), e.shape, name="exp")
    inv = Expr("div", (ONE, ex), e.shape)
    if e.name == "tanh":
        return Expr("div", (Expr("sub", (ex, inv), e.shape), Expr("add", (ex, inv), e.shape)), e.shape)
    one_plus = Expr("add", (ONE, ex), e.shape)
    if e.name == "sigmoid":
        return Expr("div", (ex, one_plus), e.shape)
    return Expr("call", (one_plus,), e.shape, name="log")


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

Rule = Callable[["Differentiator"], Der]


@dataclass
class Program:
    """A compiled claim: the derivative of `of`, and what each layout's claim says it is."""

    graph: Graph
    claim: Claim
    mode: str
    direction: Node  # V (and W, for second derivatives by a vector: `second`)
    derivative: Node  # D_V of; D_W D_V of for order 2
    claimed: dict[str, Node]  # layout (or "differential") -> the claim applied to the directions
    expect_values: dict[str, Node]  # layout -> the value of expect in that layout (for locating entries)
    of_value: Node
    families: set[str] = field(default_factory=set)
    second: Optional[Node] = None  # W, the second direction of a Hessian or a second derivative
    domain: list[tuple[str, Node, Node, str]] = field(default_factory=list)  # (family, argument node, leaf, text)
    differentiate: Optional[Callable[[Node, dict[int, Node]], Der]] = None  # (node, seeds) -> derivative
    # the value nodes of the arguments of the exp atoms (True: only the upper entries count, a symmetric leaf), and
    # whether a masked exp occurs: when exp is the only function the model keeps generic, and the entries of these
    # arguments are Q-linearly independent modulo constants, the exp values are algebraically independent over the
    # rational functions (Kolchin-Ostrowski), so the model loses nothing and a difference is a counterexample
    exp_arguments: list[tuple[Node, bool]] = field(default_factory=list)
    exp_masked: bool = False
    wrt_value: Optional[Node] = None  # the node of the symbol of wrt (seeded with `direction` to differentiate)

    @property
    def lossy(self) -> bool:
        """Whether a difference found in this program may vanish for the real functions."""
        return bool(self.families & LOSSY) if self.mode == "model" else bool(self.families & TRANSCENDENTAL)

    def roots(self) -> list[Node]:
        return [self.derivative, *self.claimed.values()]


class Differentiator:
    """Forward-mode differentiation on the graph: d(node) is the derivative of node along the seeds.

    seeds map a node (the value of wrt) to its derivative (a direction leaf). Leaves without a
    rule (symbols, directions) are constants; an atom's leaf uses the rule registered when it
    was built (exp' = exp, d inv = -Y dM Y, ...). Differentiating a derivative again gives
    second derivatives.
    """

    def __init__(self, compiler: "Compiler", seeds: dict[int, Node]) -> None:
        self.c, self.g, self.seeds = compiler, compiler.g, seeds
        self.memo: dict[int, Der] = {}

    def d(self, n: Node) -> Der:
        if n.id in self.memo:
            return self.memo[n.id]
        try:
            out = self._d(n)
        except Outside:
            if not self.c.opaque:
                raise
            out = self.c.opaque_leaf(f"d#{n.id}", n.shape)
        if out is not None and out.shape != n.shape:  # a scalar's derivative broadcast over a matrix
            out = self.g.mul(out, self.g.ones(n.shape))
        self.memo[n.id] = out
        return out

    def _d(self, n: Node) -> Der:
        g, c = self.g, self.c
        if n.id in self.seeds:
            return self.seeds[n.id]
        rule = c.rules.get(n.id)
        if rule is not None:
            return rule(self)
        op = n.op
        if op in ("leaf", "vleaf", "const", "dim", "eye", "ones", "zeros"):
            return None
        if op == "slice":
            inner = self.d(n.args[0])
            return None if inner is None else g.slice(inner, n.attr, n.shape)
        if op == "stack":
            parts = [self.d(b) for b in n.args]
            if all(p is None for p in parts):
                return None
            return g.stack(n.attr, tuple(g.zeros(b.shape) if p is None else p for p, b in zip(parts, n.args)), n.shape)
        if op in ("neg", "T", "trace", "sum", "diag"):
            inner = self.d(n.args[0])
            if inner is None:
                return None
            return {"neg": g.neg, "T": g.T, "trace": g.trace, "sum": g.sum, "diag": g.diag}[op](inner)
        if op in ("add", "sub"):
            a, b = (self.d(x) for x in n.args)
            return c.dadd(a, b) if op == "add" else c.dsub(a, b)
        if op == "mul":
            x, y = n.args
            dx, dy = self.d(x), self.d(y)
            return c.dadd(None if dx is None else g.mul(dx, y), None if dy is None else g.mul(x, dy))
        if op == "matmul":
            x, y = n.args
            dx, dy = self.d(x), self.d(y)
            return c.dadd(None if dx is None else g.matmul(dx, y), None if dy is None else g.matmul(x, dy))
        if op == "div":
            x, y = n.args
            dx, dy = self.d(x), self.d(y)
            if dx is None and dy is None:
                return None
            num = c.dsub(dx, None if dy is None else g.mul(n, dy))
            if num is None:
                return None
            out = g.div(num, y)
            if n.id in g.origin:  # the same divisor: messages name it as the claim writes it
                g.origin.setdefault(out.id, g.origin[n.id])
            return out
        if op == "pow":
            dx = self.d(n.args[0])
            k = n.attr
            return None if dx is None else g.mul(g.mul(g.const(k), g.pow(n.args[0], k - 1)), dx)
        if op == "detx":
            dm = self.d(n.args[0])
            return None if dm is None else g.mul(n, g.trace(g.matmul(g.invx(n.args[0]), dm)))
        if op == "invx":
            dm = self.d(n.args[0])
            return None if dm is None else g.neg(g.matmul(g.matmul(n, dm), n))
        raise Outside(f"the operation {op} cannot be differentiated in the all-sizes model")  # pragma: no cover


class Compiler:
    def __init__(self, claim: Claim, mode: str = "model", opaque: bool = False) -> None:
        if mode not in ("model", "exact"):
            raise ValueError(mode)
        self.claim, self.mode = claim, mode
        # opaque: a part the model cannot compile becomes a generic leaf of its shape (and its derivative another):
        # never a proof, only the shape of the claim for a lenient count of the sizes to look at
        self.opaque = opaque
        self.g = Graph()
        self.scope = claim.scope
        # Symbols whose transpose is themselves *as functions*: the assumed-symmetric constants. The symbol of wrt is
        # never one of them, even when assumed symmetric or diagonal: its entries are independent (the derivative
        # moves each entry alone, along a generic direction V, so d(X^T) = V^T), and only its *value* is symmetric.
        self.symmetric = claim.symmetric_symbols() - {claim.wrt}
        # the same set with wrt in it: expressions equal to their transpose at every point the assumptions allow
        self.value_symmetric = claim.symmetric_symbols()
        self.families: set[str] = set()
        self.rules: dict[int, Rule] = {}
        self._vmemo: dict[Expr, Node] = {}
        # (family, argument, leaf) of the functions that are not differentiable where their argument is 0
        self.domain: list[tuple[str, Expr, Node]] = []
        # the arguments of the exp atoms (in the leaf's orientation; True: a symmetric leaf, upper entries only), and
        # whether a masked exp (exp(S) * M, one atom) occurs: see Program.exp_arguments
        self.exp_args: list[tuple[Expr, bool]] = []
        self.exp_masked = False

    # -- helpers
    def key(self, e: Expr, t: bool = False) -> str:
        return canon(e, t, self.symmetric)

    def symmetric_at_point(self, e: Expr) -> bool:
        """Whether e is a square matrix equal to its transpose at every point the assumptions allow."""
        return e.shape[0] == e.shape[1] and not e.is_scalar and \
            canon(e, False, self.value_symmetric) == canon(e, True, self.value_symmetric)

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

    def symbol(self, name: str) -> Node:
        g = self.g
        shape = self.scope.symbols[name]
        props = set(self.claim.assume.get(name, ()))
        family = "symbol"
        wrt = name == self.claim.wrt
        if "diagonal" in props:
            if wrt:  # independent entries for the algebra, evaluated at diagonal values (see __init__)
                return g.leaf(Leaf(f"sym:{name}", "diagval", family), shape)
            return g.diag(g.leaf(Leaf(f"sym:{name}#diagonal", "generic", family), (shape[0], 1)))
        if props & {"symmetric", "spd"}:
            return g.leaf(Leaf(f"sym:{name}", "symval" if wrt else "sym", family), shape)
        if "probability" in props:
            u = g.leaf(Leaf(f"sym:{name}#weights", "generic", family), shape)
            return g.div(u, g.sum(u))
        return g.leaf(Leaf(f"sym:{name}", "generic", family), shape)

    def atom(self, family: str, arg: Expr, shape: tuple, kind: str = "generic", prefix: str = "",
             fn: Optional[tuple[str, int]] = None) -> Node:
        """A leaf standing for family(arg), entrywise; oriented so that f(u^T) is f(u)^T.

        A square argument equal to its own transpose (canonically) gives a symmetric leaf:
        f(S) is symmetric when S is, for an entrywise f, for inv, and for the step of relu.
        The leaf's derivative rule is registered here, in the leaf's own orientation.
        """
        self.families.add(family)
        name = f"{prefix or family}:"
        g = self.g
        flipped = False
        if family == "exp" and self.mode == "model" and 1 not in shape and self.key(arg) != self.key(arg, True) \
                and not self.symmetric_at_point(arg):
            return self.exp_matrix(name + self.key(arg), arg, shape)
        if arg.is_scalar:
            leaf = g.leaf(Leaf(name + self.key(arg), kind, family), shape)
        else:
            k0, k1 = self.key(arg), self.key(arg, True)
            if shape == SCALAR:  # det: det(M) = det(M^T)
                flipped = k1 < k0
                leaf = g.leaf(Leaf(name + min(k0, k1), kind, family), shape)
            elif shape[1] == 1:  # a column: keyed as it is
                leaf = g.leaf(Leaf(name + k0, kind, family), shape)
            elif shape[0] == 1:  # a row: the transpose of the column's leaf
                flipped = True
                leaf = g.leaf(Leaf(name + k1, kind, family), (shape[1], shape[0]))
            elif k0 == k1:
                sym_kind = {"generic": "sym", "idem": "idemsym", "sign": "signsym"}[kind]
                leaf = g.leaf(Leaf(name + k0, sym_kind, family), shape)
            else:
                # f(u) of an argument that is symmetric only at the point (it holds a symmetric wrt): a symmetric value,
                # but no transpose is simplified away (its derivative need not be symmetric)
                if kind == "generic" and self.symmetric_at_point(arg):
                    kind = "symval"
                if k1 < k0:
                    flipped = True
                    leaf = g.leaf(Leaf(name + k1, kind, family), (shape[1], shape[0]))
                else:
                    leaf = g.leaf(Leaf(name + k0, kind, family), shape)
        if leaf.id not in self.rules:
            own = Expr("T", (arg,), (arg.shape[1], arg.shape[0])) if flipped else arg
            self.rules[leaf.id] = self._rule(family, fn, leaf, own)
            if family in KINK_FAMILIES:
                self.domain.append((family, own, leaf))
            if family == "exp" and not prefix:
                self.exp_args.append((own, leaf.attr.kind == "sym"))
        return g.T(leaf) if flipped and shape != SCALAR else leaf

    def log_derivative(self, dx: "Differentiator", arg: Expr) -> Der:
        """d log(u) as the sum over u's multiplicative factors f of df / f (and dw for a factor exp(w)).

        Equal to du / u wherever u is defined and not zero (the logarithmic derivative of a product), but it never
        divides by exp(w): log(softmax) divides by the row sum only.
        """
        g = self.g
        total: Der = None
        for factor, power in _log_factors(arg):
            if factor.op == "call" and factor.name == "exp":
                d = dx.d(self.val(factor.args[0]))
            else:
                value = self.val(factor)
                df = dx.d(value)
                d = None if df is None else g.div(df, value)
                if d is not None:
                    g.origin.setdefault(d.id, _text(factor))
            if d is None:
                continue
            d = d if power == 1 else g.mul(g.const(power), d)
            if d.shape != arg.shape:  # a scalar factor of a matrix argument
                d = g.mul(d, g.ones(arg.shape))
            total = self.dadd(total, d)
        return total

    def masked_exp(self, e: Expr) -> Optional[Node]:
        """exp(S) * M with a mask M free of wrt (causal attention): one exp-like atom F, dF = F * dS, row sums known.

        An identity that holds for a generic F holds for F = exp(S) * M; what is lost is only the relation
        to exp(S) written elsewhere without the mask.
        """
        left, right = e.args
        if left.is_scalar or right.is_scalar or 1 in e.shape:
            return None
        for ex, mask in ((left, right), (right, left)):
            if ex.op == "call" and ex.name == "exp" and not _mentions(mask, self.claim.wrt):
                self.families.add("exp")
                self.exp_masked = True
                key = f"exp*mask:{self.key(ex.args[0])}*{self.key(mask)}"
                return self.exp_matrix(key, ex.args[0], e.shape)
        return None

    def exp_matrix(self, key: str, arg: Expr, shape: tuple) -> Node:
        """exp of a matrix argument, as T * P: T (a leaf, one entry per row) its row sums, P a generic matrix whose rows
        sum to 1 (P = Q - (Q 1 - 1) 1^T / k with Q a leaf).

        Every matrix with non-zero row sums is T * P for one T and such a P, so an identity that holds for every T
        and Q holds for every E = exp(Z). The model then knows E @ ones exactly (it is T), so a division by a row
        sum, as in a row-wise softmax, is a division by one entry T_a: the theory covers it. E keeps exp's rule
        (dE = E * dZ) and T the rule of a row sum (dT = dE 1).
        """
        g = self.g
        m, k = shape
        t = g.leaf(Leaf(f"{key}#rows", "generic", "exp"), (m, 1))
        q = g.leaf(Leaf(f"{key}#shape", "generic", "exp"), shape)
        k_node = g.const(k) if isinstance(k, int) else g.dim(k)
        p = g.sub(q, g.div(g.sub(g.matmul(q, g.ones((k, k))), g.ones(shape)), k_node))
        e = g.mul(g.matmul(t, g.ones((1, k))), p)
        if e.id not in self.rules:
            self.rules[e.id] = self._rule("exp", None, e, arg)
            if not key.startswith("exp*mask:"):
                self.exp_args.append((arg, False))
            g.row_sums[e.id] = t
            self.rules[t.id] = lambda dx: None if dx.d(e) is None else g.matmul(dx.d(e), g.ones((k, 1)))
        return e

    def _rule(self, family: str, fn: Optional[tuple[str, int]], leaf: Node, arg: Expr) -> Rule:
        """The derivative rule of an atom's leaf, given the derivative of its argument."""
        g = self.g

        def rule(dx: Differentiator) -> Der:
            if family == "pow":  # arg is the power u ** v itself: dP = P (v du / u + log(u) dv)
                base, exponent = arg.args if arg.op == "pow" else arg.args[0].args
                v = self.val(exponent)
                b = self.val(base)
                db, dv = dx.d(b), dx.d(v)
                inner: Der = None
                if db is not None:
                    inner = g.div(g.mul(v, db), b)
                    g.origin.setdefault(inner.id, _text(base))
                if dv is not None:
                    inner = self.dadd(inner, g.mul(self.atom("log", base, base.shape), dv))
                if inner is None:
                    return None
                return g.mul(leaf, g.T(inner) if arg.op == "T" else inner)
            u = self.val(arg)
            du = dx.d(u)
            if du is None:
                return None
            if family == "exp":
                return g.mul(leaf, du)
            if family == "log":
                return self.log_derivative(dx, arg)
            if family == "sin":
                return g.mul(self.atom("cos", arg, arg.shape), du)
            if family == "cos":
                return g.neg(g.mul(self.atom("sin", arg, arg.shape), du))
            if family == "tanh":
                return g.mul(g.sub(g.const(1), g.pow(leaf, 2)), du)
            if family == "sigmoid":
                return g.mul(g.mul(leaf, g.sub(g.const(1), leaf)), du)
            if family == "softplus":
                return g.mul(self.atom("sigmoid", arg, arg.shape), du)
            if family == "sqrt":
                d = g.div(du, g.mul(g.const(2), leaf))
                g.origin.setdefault(d.id, _text(Expr("call", (arg,), arg.shape, name="sqrt")))
                return d
            if family in ("step", "sign"):
                return None
            if family == "det":
                return g.mul(leaf, g.trace(g.matmul(self.inverse(arg), du)))
            if family == "inv":
                return g.neg(g.matmul(g.matmul(leaf, du), leaf))
            if family == "fn" and fn is not None:  # an entrywise generic function or one of its derivatives: f^(k)(u)
                fname, order = fn
                return g.mul(self.elementwise_value(fname, order + 1, arg), du)
            raise Outside(f"no derivative rule for {family}")  # pragma: no cover
        return rule

    # -- values
    def val(self, e: Expr) -> Node:
        hit = self._vmemo.get(e)
        if hit is None:
            try:
                hit = self._val(e)
            except Outside:
                if not self.opaque:
                    raise
                hit = self.opaque_leaf(self.key(e), e.shape)
            self._vmemo[e] = hit
        return hit

    def opaque_leaf(self, key: str, shape: tuple) -> Node:
        """A stand-in for what the model cannot compile (opaque mode only): a leaf, whose derivative is another."""
        self.families.add("opaque")
        leaf = self.g.leaf(Leaf("opaque:" + key, "generic", "opaque"), shape)
        if leaf.id not in self.rules:
            self.rules[leaf.id] = lambda dx: self.opaque_leaf("d" + key, shape)
        return leaf

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
            return self.direction
        if op == "neg":
            return g.neg(self.val(e.args[0]))
        if op == "mul" and self.mode == "model":
            masked = self.masked_exp(e)
            if masked is not None:
                return masked
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
        if op == "DD":
            return self.second_jacobian(e)
        if op == "part":
            return g.slice(self.val(e.args[0]), parse_dim(e.name), e.shape)
        raise Outside(f"the operation {op} is outside the all-sizes model")

    def power(self, e: Expr) -> Node:
        base, exponent = e.args
        k = constant_value(exponent)
        if k is not None:
            if k >= 0:
                return self.g.pow(self.val(base), k)
            m = -k
            return self.val(Expr("div", (ONE, base if m == 1 else Expr("pow", (base, _const(m)), base.shape)), e.shape))
        self.require_exactless("a power whose exponent is not an integer constant")
        return self.atom("pow", e, e.shape)

    def require_exactless(self, what: str) -> None:
        if self.mode == "exact":
            raise Outside(f"{what} has no exact value")

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
        if name in ("vstack", "hstack"):
            return g.stack(name[0], tuple(self.val(a) for a in e.args), e.shape)
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
        if name in ("abs", "sign"):
            self.require_exactless("abs and sign")
            s = self.atom("sign", arg, arg.shape, kind="sign")
            return s if name == "sign" else g.mul(u, s)
        if name == "sqrt" and arg.is_scalar and self.mode == "model" and not _contains_sqrt(arg) and _has_symbol(arg):
            return self.algebraic_sqrt(e, u)
        if name in ELEMENTWISE_ATOMS:
            self.require_exactless(name)
            return self.atom(name, arg, arg.shape)
        raise Outside(f"the function {name} is outside the all-sizes model")

    def algebraic_sqrt(self, e: Expr, u: Node) -> Node:
        """sqrt(u) of a scalar u as s with s^2 = u (evaluated at both square roots), not as a generic atom.

        The model keeps s^2 = u; it cannot tell the two roots apart, so a difference found with it is never a
        counterexample (family sqrt), and an identity is proved only if it holds for both roots.
        """
        g = self.g
        self.families.add("sqrt")
        node = g.sqrt(u)
        if node.id not in self.rules:
            def rule(dx: Differentiator) -> Der:
                du = dx.d(u)
                if du is None:
                    return None
                d = g.div(du, g.mul(g.const(2), node))
                g.origin.setdefault(d.id, _text(e))
                return d
            self.rules[node.id] = rule
        return node

    def inverse(self, arg: Expr) -> Node:
        g = self.g
        y = g.invx(self.val(arg)) if self.mode == "exact" else self.atom("inv", arg, arg.shape)
        g.origin.setdefault(y.id, _text(Expr("call", (arg,), arg.shape, name="inv")))
        return y

    # -- generic functions
    def fn_leaf(self, fname: str, component: str, args: tuple[Expr, ...], shape: tuple, kind: str = "generic") -> Node:
        """The value (component "") or a derivative ("D1", "H12", ...) of f at args, with its derivative rule."""
        self.families.add("fn")
        g = self.g
        if self.mode == "exact":
            node = g.vleaf(Leaf(fn_key(fname, component), kind, "fn"), tuple(self.val(a) for a in args), shape, component)
        else:
            key = fn_key(fname, component) + "(" + ",".join(self.key(a) for a in args) + ")"
            node = g.leaf(Leaf(key, kind, "fn"), shape)
        if node.id not in self.rules:
            self.rules[node.id] = self._fn_rule(fname, component, args)
        return node

    def _fn_rule(self, fname: str, component: str, args: tuple[Expr, ...]) -> Rule:
        sig: FunctionSig = self.scope.functions[fname]
        g = self.g

        def rule(dx: Differentiator) -> Der:
            total: Der = None
            for j, (a, want) in enumerate(zip(args, sig.args), start=1):
                da = dx.d(self.val(a))
                if da is None:
                    continue
                if component == "":  # d f(a) = sum_j D_j f(a) da_j
                    if is_scalar(want):  # by a scalar argument: any value shape, J has the value's shape
                        term = g.mul(da, self.fn_leaf(fname, f"D{j}", args, sig.to))
                    elif is_scalar(sig.to) and not is_vector(want):  # a scalar of a matrix: tr(D_j f . da)
                        term = g.trace(g.matmul(self.fn_leaf(fname, f"D{j}", args, (want[1], want[0])), da))
                    elif _column_or_scalar(sig.to) and is_vector(want):
                        term = g.matmul(self.fn_leaf(fname, f"D{j}", args, numerator_shape(sig.to, want)), da)
                    else:
                        raise Outside(f"the derivative of {fname}, a matrix-valued generic function of a vector or a "
                                      "matrix, is a tensor outside the all-sizes model")
                    total = self.dadd(total, term)
                elif component.startswith("D") and is_scalar(sig.args[int(component[1:]) - 1]) and is_scalar(want):
                    # f of scalars: d D_i f(a) = sum_j D_ij f(a) da_j, any value shape
                    i = int(component[1:])
                    lo, hi = min(i, j), max(i, j)
                    total = self.dadd(total, g.mul(da, self.fn_leaf(fname, f"H{lo}{hi}", args, sig.to)))
                elif component.startswith("D"):  # d D_i f(a) = sum_j (H_ij da_j)^T, for a scalar-valued f
                    i = int(component[1:])
                    if not is_scalar(sig.to) or not _column_or_scalar(want) or not _column_or_scalar(sig.args[i - 1]):
                        raise Outside(f"the derivative of D({fname}, ...) for a vector- or matrix-valued {fname} is a "
                                      "third-order tensor outside the all-sizes model")
                    lo, hi = min(i, j), max(i, j)
                    shape_lo, shape_hi = sig.args[lo - 1], sig.args[hi - 1]
                    hshape = (shape_lo[0], shape_hi[0])
                    h = self.fn_leaf(fname, f"H{lo}{hi}", args, hshape, kind="sym" if lo == hi and hshape != SCALAR else "generic")
                    h_ij = h if i == lo else g.T(h)  # rows: argument i, columns: argument j
                    total = self.dadd(total, g.T(g.matmul(h_ij, da)))
                else:
                    raise Outside(f"third derivatives of {fname} are outside the all-sizes model")
            return total
        return rule

    def elementwise_value(self, fname: str, order: int, arg: Expr) -> Node:
        """f^(order)(arg), entrywise, for f: R -> R."""
        comp = f"D{order}" if order else ""
        if self.mode == "exact":
            self.families.add("fn")
            node = self.g.vleaf(Leaf(fn_key(fname, comp), "generic", "fn"), (self.val(arg),), arg.shape, f"elementwise:{order}")
            if node.id not in self.rules:
                def rule(dx: Differentiator, order: int = order) -> Der:
                    du = dx.d(self.val(arg))
                    return None if du is None else self.g.mul(self.elementwise_value(fname, order + 1, arg), du)
                self.rules[node.id] = rule
            return node
        return self.atom("fn", arg, arg.shape, prefix=fn_key(fname, comp), fn=(fname, order))

    def apply(self, e: Expr) -> Node:
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_value(e.name, 0, e.args[0])
        return self.fn_leaf(e.name, "", e.args, sig.to)

    def second_jacobian(self, e: Expr) -> Node:
        """DD: a second derivative of a function of scalars (value = 10 j + k), or f'' entrywise."""
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_value(e.name, 2, e.args[0])
        j, k = divmod(e.value, 10)
        lo, hi = min(j, k), max(j, k)
        return self.fn_leaf(e.name, f"H{lo}{hi}", e.args, sig.to)

    def jacobian(self, e: Expr) -> Node:
        sig: FunctionSig = self.scope.functions[e.name]
        if sig.elementwise and len(e.args) == 1:
            return self.elementwise_value(e.name, 1, e.args[0])
        # D of a matrix-valued function of a scalar, or of a scalar function of a matrix, is a generic tensor of
        # the printed shape (its own derivative, if needed, is refused by the rule)
        return self.fn_leaf(e.name, f"D{e.value}", e.args, e.shape)


def _log_factors(e: Expr, power: int = 1) -> list[tuple[Expr, int]]:
    """e as a product of factors with integer powers: through *, /, unary minus and integer powers."""
    if e.op == "mul":
        return _log_factors(e.args[0], power) + _log_factors(e.args[1], power)
    if e.op == "div":
        return _log_factors(e.args[0], power) + _log_factors(e.args[1], -power)
    if e.op == "neg":
        return _log_factors(e.args[0], power)
    if e.op == "pow" and constant_value(e.args[1]) is not None:
        return _log_factors(e.args[0], power * constant_value(e.args[1]))
    if e.op == "const":
        return []
    if e.op == "call" and e.name == "softmax":  # exp(z) / (row) sums of exp(z)
        ex = Expr("call", e.args, e.shape, name="exp")
        if is_vector(e.shape):
            return [(ex, power), (Expr("call", (ex,), SCALAR, name="sum"), -power)]
        k = e.shape[1]
        return [(ex, power), (Expr("matmul", (ex, Expr("call", (), (k, k), name="ones")), e.shape), -power)]
    return [(e, power)]


def _has_symbol(e: Expr) -> bool:
    return e.op in ("sym", "d", "apply", "D") or any(_has_symbol(a) for a in e.args)


def _contains_sqrt(e: Expr) -> bool:
    return (e.op == "call" and e.name in ("sqrt", "norm")) or any(_contains_sqrt(a) for a in e.args)


def _mentions(e: Expr, name: str) -> bool:
    """Whether e uses the symbol `name` (or d(name))."""
    if e.op in ("sym", "d") and e.name == name:
        return True
    return any(_mentions(a, name) for a in e.args)


def _column_or_scalar(shape: tuple) -> bool:
    return is_scalar(shape) or is_vector(shape)


def _text(e: Expr) -> str:
    """A short rule-language text of e, for messages."""
    from generator.engine.allsizes.text import to_text

    return to_text(e)


def apply_claim(g: Graph, expect_num: Node, V: Node, of_shape: tuple, wrt_shape: tuple) -> Node:
    """The claim as a directional derivative: the numerator-layout matrix applied to V."""
    if is_scalar(wrt_shape):
        return g.mul(V, expect_num)
    if is_scalar(of_shape) and not is_vector(wrt_shape):
        return g.trace(g.matmul(expect_num, V))
    return g.matmul(expect_num, V)


def compile_claim(claim: Claim, mode: str = "model", exp_forms: bool = False, opaque: bool = False) -> Program:
    """The model of a claim: the derivative of `of` along V (twice for order 2), and each layout's claim. Raises Outside
    (with opaque, never: what cannot be compiled becomes an opaque leaf, and the program proves nothing)."""
    comp = Compiler(claim, mode, opaque)
    g = comp.g
    wrt_shape = claim.scope.symbols[claim.wrt]
    V = g.leaf(Leaf("dir:", "generic", "direction"), wrt_shape)
    comp.direction = V
    of = rewrite(claim.of, exp_forms)
    of_value = comp.val(of)
    wrt_value = comp.val(Expr("sym", (), wrt_shape, name=claim.wrt))
    order = getattr(claim, "order", 1)
    W: Optional[Node] = None
    first = Differentiator(comp, {wrt_value.id: V}).d(of_value)
    if order == 1:
        derivative = first
    else:
        if claim.kind == "differential":  # the second differential: d^2/dt^2 of(X + t dX), twice along the same V
            derivative = None if first is None else Differentiator(comp, {wrt_value.id: V}).d(first)
        else:
            W = g.leaf(Leaf("dir2:", "generic", "direction"), wrt_shape)
            derivative = None if first is None else Differentiator(comp, {wrt_value.id: W}).d(first)
    if derivative is None:
        derivative = g.zeros(claim.of.shape)
    claimed: dict[str, Node] = {}
    expect_values: dict[str, Node] = {}
    if claim.kind == "differential":
        value = comp.val(rewrite(claim.expect, exp_forms))
        claimed["differential"] = value
        expect_values["differential"] = value
    else:
        for layout, expr in ((claim.layout, claim.expect), (claim.other_layout, claim.other())):
            value = comp.val(rewrite(expr, exp_forms))
            expect_values[layout] = value
            num = value if layout == "numerator" else g.T(value)
            if W is None:
                claimed[layout] = apply_claim(g, num, V, claim.of.shape, wrt_shape)
            elif is_scalar(wrt_shape):  # d2 of / dx2, along V and W
                claimed[layout] = g.mul(W, g.mul(V, num))
            else:  # the Hessian H (entry (i, k) = d/dx_k of the i-th gradient entry): W^T H V... as V^T H W
                claimed[layout] = g.matmul(g.T(V), g.matmul(num, W))
    for layout, node in claimed.items():
        if node.shape != derivative.shape:
            raise ValueError(f"internal: {layout} claim has shape {node.shape}, derivative {derivative.shape}")

    def differentiate(node: Node, seeds: dict[int, Node]) -> Der:
        return Differentiator(comp, seeds).d(node)

    domain = [(family, comp.val(arg), leaf, _text(arg)) for family, arg, leaf in comp.domain]
    exp_arguments = [(comp.val(arg), upper) for arg, upper in comp.exp_args]
    return Program(g, claim, mode, V, derivative, claimed, expect_values, of_value, comp.families, second=W,
                   differentiate=differentiate, domain=domain, exp_arguments=exp_arguments, exp_masked=comp.exp_masked,
                   wrt_value=wrt_value)
