"""The exact model of a claim: a graph of matrix operations over generic tensors.

A claim is compiled (generator.engine.allsizes.model) into this graph: every symbol, every
elementwise function value, every det and inv becomes a *leaf*, a generic tensor whose
entries are independent unknowns; everything else is one of a few matrix operations. The
same graph is analysed (generator.engine.allsizes.bounds: which sizes settle the claim) and
evaluated (generator.engine.allsizes.evaluate: exactly, modulo a prime), so what is counted is
what is checked.

Nodes are hash-consed: building the same operation on the same arguments twice returns
the same node, so a subexpression used in `of`, in `expect` and in a derivative is
analysed and evaluated once.

Standard library only (the module runs in the browser under Pyodide).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

Dim = Union[int, str]
Shape = tuple[Dim, Dim]
SCALAR: Shape = (1, 1)

# Operations of the model. Broadcasting follows the rule language: a 1x1 operand of
# add, sub, mul and div is a scalar and is applied to every entry of the other operand.
OPS = frozenset({
    "leaf",    # a generic tensor (attr: Leaf)
    "const",   # a rational constant (attr: Fraction), 1x1
    "dim",     # a dimension letter used as a number (attr: the letter), 1x1
    "eye", "ones", "zeros",
    "add", "sub", "mul", "div",  # entrywise, with scalar broadcasting
    "neg", "T", "trace", "sum", "diag",
    "pow",     # entrywise power by an integer >= 2 (attr: the exponent)
    "matmul",
    "sqrt",    # a square root of a 1x1 value, s with s^2 = u (the root is chosen by the evaluator: both are checked)
    "detx", "invx",  # the true det and inverse (exact mode only, never in an all-sizes proof)
    "vleaf",   # a generic function's value or derivative keyed by its argument's value (exact mode only)
    "slice",   # rows offset .. offset + rows - 1 of a column (attr: the offset, a dimension)
    "stack",   # blocks stacked top to bottom ("v") or left to right ("h") (attr: the axis)
})


@dataclass(frozen=True)
class Leaf:
    """What a leaf models.

    key: unique name of the generic tensor (symbols "sym:x", the direction "dir:",
    atoms "exp:<argument>" ...); never a name a rule author can write.
    kind: "generic" (independent entries), "sym" (entry (i, j) equals entry (j, i)),
    "idem" (each entry is 0 or 1: the Heaviside step of relu), "idemsym" (both),
    "sign" (each entry is -1 or +1: the sign of abs), "signsym" (sign and symmetric),
    "symval" (independent entries for the algebra, evaluated at symmetric values: X^T is not X in the
    graph, so d(X^T) = V^T for a symmetric wrt X), "diagval" (the same, evaluated at diagonal values).
    Only "sym", "idemsym" and "signsym" are symmetric as functions (Graph.T drops their transpose).
    family: the function it stands for ("symbol", "direction", "exp", "det", "fn", ...),
    which decides whether a difference found in the model is a real counterexample.
    """

    key: str
    kind: str = "generic"
    family: str = "symbol"


class Node:
    """One operation of the model graph, with its (symbolic) shape."""

    __slots__ = ("op", "args", "shape", "attr", "id", "partial")

    def __init__(self, op: str, args: tuple["Node", ...], shape: Shape, attr: Any, ident: int) -> None:
        self.op, self.args, self.shape, self.attr, self.id = op, args, shape, attr, ident
        # partial: the value may be undefined (a division or an inverse inside); never simplified away
        self.partial = op in ("div", "invx") or any(a.partial for a in args)

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Node#{self.id}({self.op}, {[a.id for a in self.args]}, {self.shape}, {self.attr!r})"


def free_positions(shape: Shape) -> tuple[Dim, ...]:
    """The dimensions of the positions of an entry that range over more than one value."""
    return tuple(d for d in shape if d != 1)


class Graph:
    """A hash-consing builder of model nodes, with the algebraic simplifications that keep it small.

    Simplifications are exact identities of matrices (x + 0 = x, 1 * x = x, (x^T)^T = x, ...):
    they change the size of the graph, never its value.
    """

    def __init__(self) -> None:
        self._nodes: dict[tuple[Any, ...], Node] = {}
        self.origin: dict[int, str] = {}  # node id -> the rule-language text it was built from (for messages)
        # node id of a matrix E -> the node of its row sums E @ ones (a column), when the model knows it exactly
        self.row_sums: dict[int, Node] = {}

    def _make(self, op: str, args: tuple[Node, ...], shape: Shape, attr: Any = None) -> Node:
        key = (op, tuple(a.id for a in args), shape, attr)
        node = self._nodes.get(key)
        if node is None:
            node = Node(op, args, shape, attr, len(self._nodes))
            self._nodes[key] = node
        return node

    def __len__(self) -> int:
        return len(self._nodes)

    # -- leaves and constants
    def leaf(self, leaf: Leaf, shape: Shape) -> Node:
        if leaf.kind in ("sym", "idemsym", "signsym", "symval", "diagval") and shape[0] != shape[1]:
            raise ValueError(f"a symmetric leaf must be square (found {shape})")
        return self._make("leaf", (), shape, leaf)

    def const(self, value: int | Fraction) -> Node:
        return self._make("const", (), SCALAR, Fraction(value))

    def dim(self, letter: str) -> Node:
        return self._make("dim", (), SCALAR, letter)

    def eye(self, d: Dim) -> Node:
        return self.const(1) if d == 1 else self._make("eye", (), (d, d))

    def ones(self, shape: Shape) -> Node:
        return self.const(1) if shape == SCALAR else self._make("ones", (), shape)

    def zeros(self, shape: Shape) -> Node:
        return self.const(0) if shape == SCALAR else self._make("zeros", (), shape)

    def vleaf(self, leaf: Leaf, args: tuple[Node, ...], shape: Shape, component: str) -> Node:
        return self._make("vleaf", args, shape, (leaf, component))

    # -- predicates
    @staticmethod
    def is_zero(n: Node) -> bool:
        return n.op == "zeros" or (n.op == "const" and n.attr == 0)

    @staticmethod
    def is_one(n: Node) -> bool:
        return n.op == "const" and n.attr == 1

    @staticmethod
    def _broadcast(a: Node, b: Node) -> Shape:
        if a.is_scalar:
            return b.shape
        if b.is_scalar or a.shape == b.shape:
            return a.shape
        raise ValueError(f"shapes {a.shape} and {b.shape} do not broadcast")

    # -- entrywise operations
    def add(self, a: Node, b: Node) -> Node:
        shape = self._broadcast(a, b)
        if a.op == "const" and b.op == "const":
            return self.const(a.attr + b.attr)
        if self.is_zero(a) and b.shape == shape:
            return b
        if self.is_zero(b) and a.shape == shape:
            return a
        if a.id > b.id:  # addition commutes: one node for a + b and b + a
            a, b = b, a
        return self._make("add", (a, b), shape)

    def neg(self, a: Node) -> Node:
        if a.op == "const":
            return self.const(-a.attr)
        if a.op == "zeros":
            return a
        if a.op == "neg":
            return a.args[0]
        return self._make("neg", (a,), a.shape)

    def sub(self, a: Node, b: Node) -> Node:
        shape = self._broadcast(a, b)
        if a.op == "const" and b.op == "const":
            return self.const(a.attr - b.attr)
        if self.is_zero(b) and a.shape == shape:
            return a
        if self.is_zero(a) and b.shape == shape:
            return self.neg(b)
        return self._make("sub", (a, b), shape)

    def mul(self, a: Node, b: Node) -> Node:
        shape = self._broadcast(a, b)
        if a.op == "const" and b.op == "const":
            return self.const(a.attr * b.attr)
        if (self.is_zero(a) and not b.partial) or (self.is_zero(b) and not a.partial):
            return self.zeros(shape)
        if self.is_one(a) and b.shape == shape:
            return b
        if self.is_one(b) and a.shape == shape:
            return a
        if a.op == "const" and a.attr == -1 and b.shape == shape:
            return self.neg(b)
        if a.id > b.id and (a.is_scalar == b.is_scalar):  # entrywise multiplication commutes
            a, b = b, a
        if b.is_scalar and not a.is_scalar:  # scalar factor first
            a, b = b, a
        return self._make("mul", (a, b), shape)

    def div(self, a: Node, b: Node) -> Node:
        shape = self._broadcast(a, b)
        if b.op == "const":
            if b.attr == 0:
                raise ZeroDivisionError("division by the constant 0")
            return self.mul(self.const(1 / b.attr), a) if shape == a.shape else self._make("div", (a, b), shape)
        return self._make("div", (a, b), shape)

    def pow(self, a: Node, k: int) -> Node:
        if k < 0:
            raise ValueError("pow takes a non-negative exponent; divide for a negative one")
        if k == 0:
            return self.ones(a.shape)
        if k == 1:
            return a
        if a.op == "const":
            return self.const(a.attr**k)
        return self._make("pow", (a,), a.shape, k)

    # -- matrix operations
    def matmul(self, a: Node, b: Node) -> Node:
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul of {a.shape} and {b.shape}")
        shape = (a.shape[0], b.shape[1])
        if (self.is_zero(a) and not b.partial) or (self.is_zero(b) and not a.partial):
            return self.zeros(shape)
        if a.op == "eye":
            return b
        if b.op == "eye":
            return a
        if a.is_scalar and b.is_scalar:
            return self.mul(a, b)
        if b.op == "ones" and a.id in self.row_sums:  # E @ ones(k, j): every column is E's row sums
            rows = self.row_sums[a.id]
            return rows if shape[1] == 1 else self._make("matmul", (rows, self.ones((1, shape[1]))), shape)
        return self._make("matmul", (a, b), shape)

    def T(self, a: Node) -> Node:
        if a.is_scalar:
            return a
        if a.op == "T":
            return a.args[0]
        if a.op in ("eye", "diag"):
            return a
        if a.op in ("ones", "zeros"):
            return self._make(a.op, (), (a.shape[1], a.shape[0]))
        if a.op == "leaf" and a.attr.kind in ("sym", "idemsym", "signsym"):
            return a
        if a.op == "neg":
            return self.neg(self.T(a.args[0]))
        return self._make("T", (a,), (a.shape[1], a.shape[0]))

    def trace(self, a: Node) -> Node:
        if a.shape[0] != a.shape[1]:
            raise ValueError(f"trace of {a.shape}")
        if a.is_scalar:
            return a
        if self.is_zero(a):
            return self.const(0)
        if a.op == "eye":
            d = a.shape[0]
            return self.const(d) if isinstance(d, int) else self.dim(d)
        return self._make("trace", (a,), SCALAR)

    def sum(self, a: Node) -> Node:
        if a.is_scalar:
            return a
        if self.is_zero(a):
            return self.const(0)
        return self._make("sum", (a,), SCALAR)

    def diag(self, a: Node) -> Node:
        if a.shape[1] != 1:
            raise ValueError(f"diag of {a.shape}")
        if a.is_scalar:
            return a
        if self.is_zero(a):
            return self.zeros((a.shape[0], a.shape[0]))
        if a.op == "ones":
            return self.eye(a.shape[0])
        return self._make("diag", (a,), (a.shape[0], a.shape[0]))

    def sqrt(self, a: Node) -> Node:
        if not a.is_scalar:
            raise ValueError("sqrt of a matrix")
        return self._make("sqrt", (a,), SCALAR)

    def slice(self, a: Node, offset: Dim, shape: Shape) -> Node:
        return self._make("slice", (a,), shape, offset)

    def stack(self, axis: str, blocks: tuple[Node, ...], shape: Shape) -> Node:
        return self._make("stack", blocks, shape, axis)

    def detx(self, a: Node) -> Node:
        return self._make("detx", (a,), SCALAR)

    def invx(self, a: Node) -> Node:
        return self._make("invx", (a,), a.shape)


def walk(roots: list[Node]) -> list[Node]:
    """Every node reachable from roots, each once, arguments before the nodes that use them."""
    seen: set[int] = set()
    order: list[Node] = []
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if node.id in seen:
            continue
        if expanded:
            seen.add(node.id)
            order.append(node)
            continue
        stack.append((node, True))
        for arg in reversed(node.args):
            if arg.id not in seen:
                stack.append((arg, False))
    return order
