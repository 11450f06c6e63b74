"""Stage 3, parse: the expression whitelist, shapes, and the transpose rewriter."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import generator.engine.parse as parse_module
from generator.engine.parse import (
    Expr, ExprError, FunctionSig, Scope, derivative_shape, numerator_shape, parse_expression, transposed,
)
from generator.engine.verify import NumericEvaluator

SCOPE = Scope(
    symbols={"x": ("n", 1), "y": ("n", 1), "a": ("m", 1), "s": (1, 1), "A": ("m", "n"), "B": ("n", "m"),
             "S": ("n", "n"), "X": ("n", "n")},
    functions={"f": FunctionSig(((1, 1),), (1, 1)), "g": FunctionSig((("n", 1),), ("m", 1)),
               "h": FunctionSig(((1, 1), ("n", 1)), (1, 1)), "U": FunctionSig(((1, 1),), ("m", "n")),
               "G": FunctionSig((("m", "n"),), (1, 1)), "M": FunctionSig((("n", 1),), ("m", "n")),
               "k": FunctionSig(((1, 1), (1, 1)), ("m", "n"))},
    dims=("m", "n"),
)


def parse(text: str, scope: Scope = SCOPE) -> Expr:
    return parse_expression(text, scope)


def error(text: str, scope: Scope = SCOPE) -> ExprError:
    with pytest.raises(ExprError) as info:
        parse_expression(text, scope)
    return info.value


@pytest.mark.parametrize("text,shape", [
    ("x", ("n", 1)),
    ("A @ x", ("m", 1)),
    ("x.T @ x", (1, 1)),
    ("x @ x.T", ("n", "n")),
    ("A.T", ("n", "m")),
    ("A @ B", ("m", "m")),
    ("s * A", ("m", "n")),
    ("A * s", ("m", "n")),
    ("x * y", ("n", 1)),
    ("x / s", ("n", 1)),
    ("1 / x", ("n", 1)),
    ("x ** 2", ("n", 1)),
    ("-x", ("n", 1)),
    ("+x", ("n", 1)),
    ("trace(S)", (1, 1)),
    ("det(X)", (1, 1)),
    ("inv(X)", ("n", "n")),
    ("sum(A)", (1, 1)),
    ("norm(A)", (1, 1)),
    ("diag(x)", ("n", "n")),
    ("softmax(x)", ("n", 1)),
    ("softmax(A)", ("m", "n")),
    ("logsumexp(x)", (1, 1)),
    ("logsumexp(A)", ("m", 1)),
    ("ones(n)", ("n", 1)),
    ("ones(m, n)", ("m", "n")),
    ("zeros(3)", (3, 1)),
    ("eye(n)", ("n", "n")),
    ("max(0, x)", ("n", 1)),
    ("relu(A)", ("m", "n")),
    ("sum(x) / n", (1, 1)),
    ("f(x)", ("n", 1)),
    ("g(x)", ("m", 1)),
    ("h(s, x)", (1, 1)),
    ("D(f, x)", ("n", 1)),
    ("D(g, x)", ("m", "n")),
    ("D1(h, s, x)", (1, 1)),
    ("D2(h, s, x)", (1, "n")),
    ("U(s)", ("m", "n")),
    ("D(U, s)", ("m", "n")),
    ("G(A)", (1, 1)),
    ("D(G, A)", ("n", "m")),
    ("D(G, U(s))", ("n", "m")),
    ("D(D(f), x)", ("n", 1)),
    ("D(D(U), s)", ("m", "n")),
    ("D2(D1(k), s, s)", ("m", "n")),
])
def test_shapes(text: str, shape: tuple) -> None:
    """Each construct of the language gets the shape the README defines."""
    assert parse(text).shape == shape


@pytest.mark.parametrize("text", ["s ** (1/2)", "s ** (n - 1)", "s ** (2 ** 6)", "s ** -64", "s ** (3 - 1)", "s ** n"])
def test_small_or_symbolic_exponents_are_allowed(text: str) -> None:
    """Exponents that are rationals, within 64 after folding, or use a dimension are accepted."""
    assert parse(text).op == "pow"


def test_max_zero_is_relu() -> None:
    """max(0, z) parses to the same tree as relu(z)."""
    assert parse("max(0, x)") == parse("relu(x)")


def test_precedence_follows_python() -> None:
    """a + b * c groups as a + (b * c), and -x ** 2 as -(x ** 2)."""
    e = parse("x + y * s")
    assert e.op == "add" and e.args[1].op == "mul"
    e = parse("-s ** 2")
    assert e.op == "neg" and e.args[0].op == "pow"


@pytest.mark.parametrize("text,code,fragment", [
    ("__import__('os').system('echo hi')", "MC021", "call of an expression"),
    ("x.T.__class__", "MC021", ".__class__"),
    ("x.shape", "MC021", ".shape"),
    ("__builtins__", "MC021", "underscore"),
    ("_x", "MC021", "underscore"),
    ("_f(x)", "MC021", "underscore"),
    ("sum(lambda: x)", "MC021", "a lambda"),
    ("sum([v for v in x])", "MC021", "a comprehension"),
    ("sum(v for v in x)", "MC021", "a comprehension"),
    ("x[0]", "MC021", "a subscript"),
    ("sum(x, axis=0)", "MC021", "keyword"),
    ("sum(*x)", "MC021", "* arguments"),
    ("x if s else y", "MC021", "a conditional"),
    ("s < 1", "MC021", "a comparison"),
    ("s and s", "MC021", "a boolean operator"),
    ("'x'", "MC021", "integers"),
    ("1.5 * x", "MC021", "integers"),
    ("True * x", "MC021", "integers"),
    ("2j * x", "MC021", "integers"),
    ("s ** 1000", "MC021", "at most 64"),
    ("s ** -65", "MC021", "at most 64"),
    ("10000000 * s", "MC021", "10^6"),
    ("s ** (2 ** 64)", "MC021", "(found 2 ** 64)"),
    ("s ** (64 * 64)", "MC021", "(found 64 * 64)"),
    ("s ** (1 - 66)", "MC021", "(found 1 - 66)"),
    ("s ** ((2 ** 64) ** 64)", "MC021", "at most 64"),
    ("[x, y]", "MC021", "List"),
    ("(s := 1)", "MC021", "NamedExpr"),
    ("x +", "MC020", "must not end with an operator"),
    ("import os", "MC020", "found the Python keyword import"),
    ("z", "MC022", "name z must be declared"),
    ("foo(x)", "MC023", "function foo"),
    ("exec(x)", "MC023", "function exec"),
    ("eval(x)", "MC023", "function eval"),
    ("trace", "MC023", "used as a value"),
    ("trace(S, S)", "MC023", "one argument"),
    ("max(1, x)", "MC023", "max(0, z)"),
    ("max(x, 0)", "MC023", "max(0, z)"),
    ("ones(x)", "MC023", "dimensions"),
    ("ones(0)", "MC023", "dimensions"),
    ("eye(m, n)", "MC023", "one dimension"),
    ("d(x)", "MC023", "differential"),
    ("D(x, x)", "MC023", "declared function first"),
    ("D(h, s, x)", "MC023", "D1, D2"),
    ("D3(h, s, x)", "MC023", "argument of h"),
    ("D(M, x)", "MC023", "a tensor (found mxn by nx1)"),
    ("D(D(g), x)", "MC023", "needs a function of scalars (found g of nx1)"),
    ("D(D(k), s, s)", "MC023", "D1, D2"),
    ("D3(D1(k), s, s)", "MC023", "argument of k"),
    ("D(D(x), s)", "MC023", "must name one declared function"),
    ("D(D(U), x)", "MC024", "must be scalar"),
    ("g(s)", "MC024", "must be nx1"),
    ("A @ A", "MC024", "found mxn @ mxn"),
    ("s @ x", "MC024", "use * with a scalar"),
    ("x + a", "MC024", "found nx1 + mx1"),
    ("x * A", "MC024", "found nx1 * mxn"),
    ("x ** y", "MC024", "scalar exponent"),
    ("trace(A)", "MC024", "square matrix (found mxn)"),
    ("inv(x)", "MC024", "square matrix"),
    ("diag(A)", "MC024", "column vector (found mxn)"),
    ("softmax(s)", "MC024", "found scalar"),
])
def test_forbidden_and_wrong_expressions(text: str, code: str, fragment: str) -> None:
    """Forbidden syntax, unknown names and functions, and shape mismatches raise ExprError with their code."""
    err = error(text)
    assert err.code == code, err.message
    assert fragment in err.message


def test_error_position_points_into_the_text() -> None:
    """The column of an error is the offset of the offending node within the expression."""
    err = error("x + y + zz")
    assert err.code == "MC022" and (err.line, err.col) == (1, 8)
    err = error("sum(x) + x[0]")
    assert (err.line, err.col) == (1, 9)


def test_shape_mismatch_shows_both_shapes() -> None:
    """A matrix product of incompatible shapes names the shapes of both sides."""
    assert error("A @ a").message == "@ must join mxn with nxk (found mxn @ mx1); did you mean A.T @ a?"


def test_deep_nesting_is_limited_without_recursion_error() -> None:
    """Deep nesting gives MC021 whether it comes from calls, unary minus or thousands of parentheses."""
    for text in ("exp(" * 45 + "s" + ")" * 45, "-" * 60 + "s", "(" * 5000 + "s" + ")" * 5000, "s" + " + s" * 300):
        err = error(text)
        assert err.code in ("MC020", "MC021"), err.message


def test_node_limit() -> None:
    """An expression of more than 400 nodes is refused even when flat."""
    err = error(" + ".join(["s"] * 250))
    assert err.code == "MC021" and "400 nodes" in err.message


def test_parser_never_evaluates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing works with eval, exec and compile made unavailable: the text is only read by ast.parse."""
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("evaluated rule text")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert parse("trace(inv(S) @ x @ x.T)").shape == (1, 1)


def test_differential_scope_allows_d_of_wrt_only() -> None:
    """In a differential rule d(X) names the differential of wrt; d of another symbol is refused."""
    scope = Scope(SCOPE.symbols, SCOPE.functions, SCOPE.dims, differential_of="X")
    assert parse("d(X) @ X", scope).shape == ("n", "n")
    assert error("d(S)", scope).code == "MC023"
    assert error("d(X, X)", scope).code == "MC023"


@pytest.mark.parametrize("of,wrt,numerator", [
    ((1, 1), (1, 1), (1, 1)),
    ((1, 1), ("n", 1), (1, "n")),
    ((1, 1), ("m", "n"), ("n", "m")),
    (("m", 1), (1, 1), ("m", 1)),
    (("m", 1), ("n", 1), ("m", "n")),
    (("m", "n"), (1, 1), ("m", "n")),
])
def test_derivative_shapes(of: tuple, wrt: tuple, numerator: tuple) -> None:
    """Numerator layout shapes follow the Jacobian convention; denominator layout is their transpose."""
    assert numerator_shape(of, wrt) == numerator
    assert derivative_shape(of, wrt, "numerator") == numerator
    assert derivative_shape(of, wrt, "denominator") == (numerator[1], numerator[0])


@pytest.mark.parametrize("of,wrt", [(("m", 1), ("m", "n")), (("m", "n"), ("n", 1)), (("m", "n"), ("m", "n"))])
def test_tensor_derivatives_are_refused(of: tuple, wrt: tuple) -> None:
    """A derivative that would be a tensor raises ValueError (reported as MC025)."""
    with pytest.raises(ValueError):
        numerator_shape(of, wrt)


# ---------------------------------------------------------------- transposed()

@pytest.mark.parametrize("text,expected,symmetric", [
    ("A @ B", "B.T @ A.T", ()),
    ("-A @ B", "-(B.T @ A.T)", ()),
    ("-A @ B @ A", "-(A.T @ (B.T @ A.T))", ()),
    ("A.T @ B.T", "B @ A", ()),
    ("A @ x", "x.T @ A.T", ()),
    ("A.T", "A", ()),
    ("S", "S", ("S",)),
    ("S", "S.T", ()),
    ("inv(S)", "inv(S)", ("S",)),
    ("inv(X)", "inv(X).T", ()),
    ("diag(x)", "diag(x)", ()),
    ("eye(n)", "eye(n)", ()),
    ("A + 2 * A", "A.T + 2 * A.T", ()),
    ("exp(A) * A", "exp(A.T) * A.T", ()),
    ("A ** 2", "A.T ** 2", ()),
    ("x.T @ x", "x.T @ x", ()),
    ("softmax(x)", "softmax(x).T", ()),
    ("S @ X @ S", "S @ (X.T @ S)", ("S",)),
])
def test_transposed_pushes_transposes_inward(text: str, expected: str, symmetric: tuple) -> None:
    """transposed() writes (AB)^T as B^T A^T, drops double and symmetric transposes, and keeps diag and eye."""
    assert transposed(parse(text), frozenset(symmetric)) == parse(expected)


@pytest.mark.parametrize("text", ["A @ B", "A.T @ B.T + 3 * (B @ A).T", "-A @ B", "exp(A) * A / 2", "inv(X) @ X @ diag(x)",
                                  "x @ a.T", "softmax(A) - A ** 2", "ones(m, n) + zeros(m, n)"])
def test_transposed_is_numerically_the_transpose(text: str) -> None:
    """At a random point, transposed(e) evaluates to the transpose of e (for non-symmetric symbols)."""
    sizes = {"m": 2, "n": 3}
    rng = np.random.default_rng(0)
    values = {name: rng.normal(size=tuple(sizes.get(d, d) for d in shape)) for name, shape in SCOPE.symbols.items()}
    values["X"] = values["X"] + 3 * np.eye(3)
    e = parse(text)
    t = transposed(e)
    assert t.shape == (e.shape[1], e.shape[0])
    ev = NumericEvaluator(SCOPE, sizes, values, 0)
    np.testing.assert_allclose(ev.ev(t), ev.ev(e).T, rtol=1e-12)


def test_transposed_of_a_scalar_is_itself() -> None:
    """A 1x1 expression is its own transpose and is returned unchanged."""
    e = parse("x.T @ S @ x")
    assert transposed(e) is e


def test_every_listed_function_parses() -> None:
    """Every name in FUNCTIONS is accepted by the parser in some form (no listed-but-unsupported function)."""
    forms = {"trace": "trace(S)", "det": "det(S)", "inv": "inv(S)", "softmax": "softmax(x)", "logsumexp": "logsumexp(x)",
             "sum": "sum(x)", "diag": "diag(x)", "norm": "norm(x)", "ones": "ones(n)", "zeros": "zeros(n)", "eye": "eye(n)",
             "max": "max(0, x)", "D": "D(f, x)", "d": None, "vstack": "vstack(x, 1)", "hstack": "hstack(x.T, 1)"}
    for name in parse_module.FUNCTIONS:
        text = forms.get(name, f"{name}(x)")
        if text is None:
            continue
        assert isinstance(parse(text), Expr)
        assert name in {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
