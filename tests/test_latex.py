"""The LaTeX printer: what readers see is printed from the checked tree, in the reference's notation."""

from __future__ import annotations

import re

import pytest

from generator.render.latex import MACROS, Printer, derivative_latex, name_latex
from generator.engine.parse import FunctionSig, Scope, parse_expression
from generator.engine.validate import LATEX_WHITELIST

from engine_support import GOOD, parse_file

SCOPE = Scope(
    symbols={"x": ("n", 1), "y": ("n", 1), "s": (1, 1), "t": (1, 1), "A": ("m", "n"), "X": ("n", "n"),
             "mu": ("n", 1), "x_1": ("n", 1), "W2": ("m", "n"), "alpha": (1, 1), "x_hat": ("n", 1)},
    functions={"f": FunctionSig(((1, 1),), (1, 1)), "g": FunctionSig((("n", 1),), ("m", 1)),
               "U": FunctionSig(((1, 1), (1, 1)), ("m", "n")), "G": FunctionSig((("m", "n"),), (1, 1))},
    dims=("m", "n"),
)


def tex(text: str) -> str:
    return Printer(SCOPE).latex(parse_expression(text, SCOPE))


@pytest.mark.parametrize("text,expected", [
    # symbols: bold vectors and matrices, italic scalars, Greek, subscripts
    ("x", r"\mathbf{x}"),
    ("A", r"\mathbf{A}"),
    ("s", "s"),
    ("mu", r"\boldsymbol{\mu}"),
    ("alpha", r"\alpha"),
    ("x_1", r"\mathbf{x}_{1}"),
    ("W2", r"\mathbf{W}_{2}"),
    ("x_hat", r"\hat{\mathbf{x}}"),
    # element-wise products and quotients
    ("x * y", r"\mathbf{x} \odot \mathbf{y}"),
    ("x / y", r"\mathbf{x} \oslash \mathbf{y}"),
    ("x ** 2", r"\mathbf{x}^{\circ 2}"),
    # scalar factors and scalar division
    ("s * x", r"s \mathbf{x}"),
    ("x * 2", r"2 \mathbf{x}"),
    ("x / s", r"\frac{\mathbf{x}}{s}"),
    ("sum(x) / n", r"\frac{\sumop\left(\mathbf{x}\right)}{n}"),
    ("1 / (2 * sqrt(s))", r"\frac{1}{2 \sqrt{s}}"),
    ("s ** 2", "s^{2}"),
    ("(-1) / s ** 2", r"-\frac{1}{s^{2}}"),
    ("(-2 * t) / s", r"-\frac{2 t}{s}"),
    ("t + (-1) / s", r"t + \left(-\frac{1}{s}\right)"),
    # transposes and inverses
    ("A.T", r"\mathbf{A}^{\top}"),
    ("inv(X)", r"\mathbf{X}^{-1}"),
    ("inv(X).T", r"\mathbf{X}^{-\top}"),
    ("(A @ x).T", r"\left(\mathbf{A} \mathbf{x}\right)^{\top}"),
    ("x.T @ x", r"\mathbf{x}^{\top} \mathbf{x}"),
    # operators and constants
    ("trace(X)", r"\tr\left(\mathbf{X}\right)"),
    ("diag(x)", r"\diag\left(\mathbf{x}\right)"),
    ("ones(n)", r"\mathbf{1}_{n}"),
    ("ones(m, n)", r"\mathbf{1}_{m \times n}"),
    ("zeros(m, n)", r"\mathbf{0}_{m \times n}"),
    ("eye(n)", r"\mathbf{I}"),
    ("norm(x)", r"\left\lVert \mathbf{x} \right\rVert_{2}"),
    ("norm(A)", r"\left\lVert \mathbf{A} \right\rVert_{F}"),
    ("max(0, x)", r"\max\left(0, \mathbf{x}\right)"),
    ("sigmoid(x)", r"\sigma\left(\mathbf{x}\right)"),
    ("abs(x)", r"\left\lvert \mathbf{x} \right\rvert"),
    ("sign(s - t)", r"\sign\left(s - t\right)"),
    ("softmax(x)", r"\softmax\left(\mathbf{x}\right)"),
    ("det(X)", r"\det\left(\mathbf{X}\right)"),
    # parentheses where needed, and not elsewhere
    ("(x + y) * y", r"\left(\mathbf{x} + \mathbf{y}\right) \odot \mathbf{y}"),
    ("x + y * y", r"\mathbf{x} + \mathbf{y} \odot \mathbf{y}"),
    ("A @ (x + y)", r"\mathbf{A} \left(\mathbf{x} + \mathbf{y}\right)"),
    ("A @ x + A @ y", r"\mathbf{A} \mathbf{x} + \mathbf{A} \mathbf{y}"),
    ("-(x + y)", r"-\left(\mathbf{x} + \mathbf{y}\right)"),
    ("s - (t - s)", r"s - \left(t - s\right)"),
    ("(s - t) - s", "s - t - s"),
    ("s - (t + s)", r"s - \left(t + s\right)"),
    ("(s + 1) ** 2", r"\left(s + 1\right)^{2}"),
    ("(x * y) @ y.T", r"\left(\mathbf{x} \odot \mathbf{y}\right) \mathbf{y}^{\top}"),
    ("(x * y) * (y - x)", r"\mathbf{x} \odot \mathbf{y} \odot \left(\mathbf{y} - \mathbf{x}\right)"),
    ("x * (y * x)", r"\mathbf{x} \odot \mathbf{y} \odot \mathbf{x}"),
    ("(x / y) * x", r"\left(\mathbf{x} \oslash \mathbf{y}\right) \odot \mathbf{x}"),
    ("eye(n) - x @ x.T", r"\mathbf{I} - \mathbf{x} \mathbf{x}^{\top}"),
    ("x - -y", r"\mathbf{x} - \left(-\mathbf{y}\right)"),
    # generic functions and their Jacobians
    ("g(x)", r"\mathbf{g}\left(\mathbf{x}\right)"),
    ("f(s)", r"f\left(s\right)"),
    ("D(f, x)", r"f'\left(\mathbf{x}\right)"),
    ("D(g, x)", r"\frac{\partial \mathbf{g}}{\partial \mathbf{x}}"),
])
def test_printed_latex(text: str, expected: str) -> None:
    """Each expression prints as the LaTeX a textbook would write."""
    assert tex(text) == expected


def test_jacobian_at_a_named_intermediate_prints_as_a_fraction() -> None:
    """D(g, y) with y a where-binding prints as dg/dy, like a Jacobian at a symbol (not as a partial of argument 1)."""
    from generator.engine.parse import Scope as S
    scope = S(SCOPE.symbols, SCOPE.functions, SCOPE.dims, bindings={"y": ("n", 1)})
    assert Printer(scope).latex(parse_expression("D(g, y)", scope)) == r"\frac{\partial \mathbf{g}}{\partial \mathbf{y}}"


def test_differential_prints_upright_d() -> None:
    """d(X) prints as \\mathrm{d}\\mathbf{X}."""
    scope = Scope(SCOPE.symbols, SCOPE.functions, SCOPE.dims, differential_of="X")
    assert Printer(scope).latex(parse_expression("d(X) @ X", scope)) == r"\mathrm{d}\mathbf{X} \, \mathbf{X}"


def test_name_latex() -> None:
    """Names split into base and subscript; long bases are upright words, Greek names become commands."""
    assert name_latex("theta", bold=False) == r"\theta"
    assert name_latex("Sigma", bold=True) == r"\boldsymbol{\Sigma}"
    assert name_latex("loss", bold=False) == r"\mathit{loss}"
    assert name_latex("b_2", bold=False) == "b_{2}"


def test_derivative_left_hand_side() -> None:
    """The left-hand side is \\frac{\\partial f}{\\partial x} for short forms, with parentheses after for sums."""
    of = parse_expression("trace(X)", SCOPE)
    assert derivative_latex(tex("trace(X)"), of, r"\mathbf{X}", "derivative") == \
        r"\frac{\partial \tr\left(\mathbf{X}\right)}{\partial \mathbf{X}}"
    of = parse_expression("x + y", SCOPE)
    assert derivative_latex(tex("x + y"), of, r"\mathbf{x}", "derivative") == \
        r"\frac{\partial}{\partial \mathbf{x}}\left(\mathbf{x} + \mathbf{y}\right)"
    assert derivative_latex(r"\mathbf{X}^{-1}", parse_expression("inv(X)", SCOPE), r"\mathbf{X}", "differential") == \
        r"\mathrm{d}\left(\mathbf{X}^{-1}\right)"



def test_derivatives_of_generic_functions_with_matrix_shapes() -> None:
    """D and second derivatives of generic functions print as fractions by the point's name, or f'' for a scalar function."""
    assert tex("D1(U, s, t)") == r"\frac{\partial \mathbf{U}}{\partial s}"
    assert tex("D(G, A)") == r"\frac{\partial G}{\partial \mathbf{A}}"
    assert tex("D(D(f), s)") == r"f''\left(s\right)"
    assert tex("D1(D1(U), s, t)") == r"\frac{\partial^{2} \mathbf{U}}{\partial s^{2}}"
    assert tex("D2(D1(U), s, t)") == r"\frac{\partial^{2} \mathbf{U}}{\partial s \, \partial t}"
    assert tex("D2(D1(U), s, 2 * t)") == r"\partial_{12} \mathbf{U}\left(s, 2 t\right)"


def test_transposed_derivative_is_parenthesised_and_where_points_print_by_name() -> None:
    """(du/dx)^T gets parentheses (du/dx^T reads as a derivative by x^T); a derivative at a where name uses the name."""
    scope = Scope(symbols={"x": ("n", 1)}, functions={"g": FunctionSig((("n", 1),), ("m", 1))}, dims=("m", "n"),
                  bindings={"v": ("n", 1)})
    printer = Printer(scope)
    assert printer.latex(parse_expression("D(g, x).T", scope)) == \
        r"\left(\frac{\partial \mathbf{g}}{\partial \mathbf{x}}\right)^{\top}"
    assert printer.latex(parse_expression("D(g, v)", scope)) == r"\frac{\partial \mathbf{g}}{\partial \mathbf{v}}"
    of = parse_expression("-x @ x.T", SCOPE)
    assert derivative_latex(tex("-x @ x.T"), of, r"\mathbf{x}", "derivative").startswith(r"\frac{\partial}{\partial \mathbf{x}}\left(-")


def test_differentials_are_set_apart_in_products() -> None:
    """dX next to a matrix gets a thin space (X^{-1} dX X^{-1}, never dXX^{-1}); (dX)^T is parenthesised."""
    scope = Scope(symbols={"X": ("n", "n")}, dims=("n",), differential_of="X")
    printer = Printer(scope)
    assert printer.latex(parse_expression("inv(X) @ d(X) @ inv(X)", scope)) == \
        r"\mathbf{X}^{-1} \, \mathrm{d}\mathbf{X} \, \mathbf{X}^{-1}"
    assert printer.latex(parse_expression("d(X).T @ X", scope)) == r"\left(\mathrm{d}\mathbf{X}\right)^{\top} \, \mathbf{X}"
    assert printer.latex(parse_expression("X @ X", scope)) == r"\mathbf{X} \mathbf{X}"
    scalar = Scope(symbols={"x": (1, 1), "a": (1, 1), "X": ("n", "n")}, dims=("n",), differential_of="x")
    assert Printer(scalar).latex(parse_expression("X * d(x)", scalar)) == r"\mathbf{X} \, \mathrm{d}x"
    matrix = Scope(symbols={"a": (1, 1), "X": ("n", "n")}, dims=("n",), differential_of="X")
    assert Printer(matrix).latex(parse_expression("a * d(X)", matrix)) == r"a \, \mathrm{d}\mathbf{X}"


def test_second_order_left_hand_side() -> None:
    """Order 2 prints a Hessian as d2/dx dx^T, a second derivative by a scalar as d2/dt2, a second differential as d^2."""
    of = parse_expression("x.T @ x", SCOPE)
    assert derivative_latex(tex("x.T @ x"), of, r"\mathbf{x}", "derivative", order=2, wrt_is_scalar=False) == \
        r"\frac{\partial^{2}}{\partial \mathbf{x} \, \partial \mathbf{x}^{\top}}\left(\mathbf{x}^{\top} \mathbf{x}\right)"
    of = parse_expression("trace(X)", SCOPE)
    assert derivative_latex(tex("trace(X)"), of, "t", "derivative", True, order=2) == \
        r"\frac{\mathrm{d}^{2} \tr\left(\mathbf{X}\right)}{\mathrm{d} t^{2}}"
    assert derivative_latex(r"\log", parse_expression("trace(X)", SCOPE), r"\mathbf{X}", "differential", order=2) == \
        r"\mathrm{d}^{2}\left(\log\right)"


def test_both_layouts_are_printed_for_trace_axb() -> None:
    """The issue's example prints A^T B^T in denominator layout and the derived B A in numerator layout."""
    rule, problems = parse_file(GOOD / "trace-axb.yaml")
    assert problems == []
    assert rule.latex["denominator"] == r"\mathbf{A}^{\top} \mathbf{B}^{\top}"
    assert rule.latex["numerator"] == r"\mathbf{B} \mathbf{A}"
    assert rule.latex["of"] == r"\tr\left(\mathbf{A} \mathbf{X} \mathbf{B}\right)"
    assert rule.latex["wrt"] == r"\mathbf{X}"



def test_both_layouts_for_a_symmetric_assumption() -> None:
    """With A symmetric the other layout of 2 A x is 2 x^T A (no transpose on A, the scalar in front)."""
    rule, _ = parse_file(GOOD / "scalar-by-vector-quad-symmetric.yaml")
    assert rule.latex["denominator"] == r"2 \mathbf{A} \mathbf{x}"
    assert rule.latex["numerator"] == r"2 \mathbf{x}^{\top} \mathbf{A}"


@pytest.mark.parametrize("path", sorted(GOOD.glob("*.yaml")), ids=lambda p: p.stem)
def test_printed_latex_uses_only_whitelisted_commands(path) -> None:
    """Everything the printer emits for the good fixtures uses whitelisted commands or the shared macros, with balanced braces."""
    rule, problems = parse_file(path)
    assert problems == []
    allowed = LATEX_WHITELIST | {m.lstrip("\\") for m in MACROS}
    texts = [(k, v) for k, v in rule.latex.items() if k != "where"]
    texts += [("where", line[part]) for line in rule.latex["where"] for part in ("name", "value")]
    for key, text in texts:
        commands = set(re.findall(r"\\([A-Za-z]+)", text))
        assert commands <= allowed, (key, commands - allowed)
        depth = 0
        for ch in text:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0
        assert depth == 0
        assert text.count(r"\left") == text.count(r"\right")


def test_symmetric_assumption_drops_the_transpose_in_the_other_layout() -> None:
    """With A symmetric the numerator layout of 2 A x prints A without a transpose and x transposed."""
    rule, _ = parse_file(GOOD / "scalar-by-vector-quad-symmetric.yaml")
    assert r"\mathbf{A}^{\top}" not in rule.latex["numerator"]
    assert r"\mathbf{x}^{\top}" in rule.latex["numerator"]


def test_a_transposed_jacobian_keeps_its_parentheses() -> None:
    """(dg/dx)^T prints with parentheses: dg/dx^T would read as a derivative by x^T."""
    assert tex("D(g, x).T") == r"\left(\frac{\partial \mathbf{g}}{\partial \mathbf{x}}\right)^{\top}"


def test_a_jacobian_at_a_where_name_is_named_by_it() -> None:
    """D(f, u) at a `where:` name u prints df/du, like at a symbol, not a numbered partial."""
    scope = Scope(SCOPE.symbols, {"h": FunctionSig((("n", 1),), (1, 1))}, SCOPE.dims, bindings={"u": ("n", 1)})
    assert Printer(scope).latex(parse_expression("D(h, u)", scope)) == r"\frac{\partial h}{\partial \mathbf{u}}"


@pytest.mark.parametrize("tex_in, text", [
    (r"\hat{\mathbf{w}} \cdot \hat{\mathbf{x}}", "ŵ · x̂"),                 # accents stay on their letter
    (r"2x\cos(x^2)", "2x cos(x²)"),                                            # a function name after a letter
    (r"\frac{du}{dx}\frac{dy}{du}", "du/dx dy/du"),                            # two fractions side by side
    (r"\mathbf{W}\mathbf{x}", "Wx"),                                           # a product of symbols stays tight
    (r"\mathbb{I}[z > 0]", "𝕀[z > 0]"),                                        # the indicator
])
def test_plain_text_of_title_math(tex_in: str, text: str) -> None:
    """Titles read as plain text (search, bookmarks) keep accents and separate juxtaposed words."""
    from generator.render.plaintext import tex_to_text

    assert tex_to_text(tex_in, MACROS) == text
