"""Friendly syntax: the slips students make get the fix and the column, the accepted spellings parse."""

from __future__ import annotations

import pytest

from generator.engine.parse import Expr, ExprError, FunctionSig, Scope, parse_expression

SCOPE = Scope(
    symbols={"x": ("n", 1), "y": ("m", 1), "s": (1, 1), "A": ("n", "n"), "B": ("m", "n"), "X": ("n", "n")},
    functions={"f": FunctionSig(((1, 1),), (1, 1))},
    dims=("n", "m"),
)


def parse(text: str) -> Expr:
    return parse_expression(text, SCOPE)


def slip(text: str) -> tuple[str, int, str]:
    with pytest.raises(ExprError) as info:
        parse_expression(text, SCOPE)
    err = info.value
    return err.code, err.col + 1, err.message


@pytest.mark.parametrize("written,meant", [
    ("x' @ A @ x", "x.T @ A @ x"),
    ("(A @ x)' @ x", "(A @ x).T @ x"),
    ("x'' ", "x.T.T"),
    ("A'' @ x", "A.T.T @ x"),
    ("x\u1d40 @ A @ x", "x.T @ A @ x"),
    ("x\u22a4 @ x", "x.T @ x"),
    ("x \u2212 x", "x - x"),
    ("tanh(x)' @ x", "tanh(x).T @ x"),
])
def test_accepted_spellings_parse_like_the_plain_ones(written: str, meant: str) -> None:
    """x', xᵀ, x⊤ are the transpose and − is minus: the same tree as the plain spelling."""
    assert parse(written) == parse(meant)


@pytest.mark.parametrize("text,code,col,message", [
    # ^ read from context
    ("x^T @ A @ x", "MC021", 2, "expression must write a transpose as x.T (found x^T; ^ is not a power in Python)"),
    ("(A @ x)^T @ x", "MC021", 8, "expression must write a transpose as (A @ x).T (found (A @ x)^T; ^ is not a power in Python)"),
    ("A^{-1} @ x", "MC021", 2, "expression must write an inverse as inv(A) (found A^{-1}; ^ is not a power in Python)"),
    ("s^-1", "MC021", 2, "expression must write a reciprocal as 1 / s or s ** -1 (found s^-1; ^ is not a power in Python)"),
    ("s^2", "MC021", 2, "expression must write a power as s ** 2 (found s^2; ^ is not a power in Python)"),
    ("x^2", "MC021", 2, "expression must write a power as x ** 2 (found x^2; ^ is not a power in Python)"),
    ("A^2", "MC021", 2, "expression must write a power as A ** 2 (element-wise) or A @ A (matrix square) "
                        "(found A^2; ^ is not a power in Python)"),
    # function names from NumPy, MATLAB, papers
    ("tr(A)", "MC023", 1, "function tr is not in the rule language: write trace(A) (found tr(A))"),
    ("Tr(A @ X)", "MC023", 1, "function Tr is not in the rule language: write trace(A @ X) (found Tr(A @ X))"),
    ("logdet(X)", "MC023", 1, "function logdet is not in the rule language: write log(det(X)) (found logdet(X))"),
    ("Det(X)", "MC023", 1, "function Det is not in the rule language: write det(X) (found Det(X))"),
    ("dett(X)", "MC023", 1, "function dett must be one of the rule language's functions or declared under functions "
                            "(found dett); did you mean det?"),
    ("Trace(X)", "MC023", 1, "function Trace is not in the rule language: write trace(X) (found Trace(X))"),
    ("inverse(X)", "MC023", 1, "function inverse is not in the rule language: write inv(X) (found inverse(X))"),
    ("transpose(A) @ x", "MC023", 1, "function transpose is not in the rule language: write A.T (found transpose(A))"),
    ("dot(x, x)", "MC023", 1, "function dot is not in the rule language: write x.T @ x for vectors, x @ x for matrices "
                              "(found dot(x, x))"),
    ("sigma(x)", "MC023", 1, "function sigma is not in the rule language: write sigmoid(x) (found sigma(x))"),
    ("Sigmoid(x)", "MC023", 1, "function Sigmoid is not in the rule language: write sigmoid(x) (found Sigmoid(x))"),
    ("TANH(x)", "MC023", 1, "function TANH is not in the rule language: write tanh(x); names are case-sensitive (found TANH(x))"),
    ("sgn(x)", "MC023", 1, "function sgn is not in the rule language: write sign(x) (found sgn(x))"),
    ("kron(A, X)", "MC023", 1, "function kron must be one of the rule language's functions: Kronecker products are not part of "
                               "the rule language (found kron(A, X))"),
    ("np.trace(A)", "MC021", 1, "expression must call functions without a module prefix: write trace(A) (found np.trace(A))"),
    ("np.linalg.inv(X) @ x", "MC021", 1, "expression must call functions without a module prefix: write inv(X) "
                                         "(found np.linalg.inv(X))"),
    ("torch.sigmoid(x)", "MC021", 1, "expression must call functions without a module prefix: write sigmoid(x) "
                                     "(found torch.sigmoid(x))"),
    ("A.transpose() @ x", "MC021", 1, "expression must write A.T (found A.transpose())"),
    ("A.T() @ x", "MC021", 1, "expression must write a transpose as A.T, without brackets (found A.T())"),
    ("X.I @ x", "MC021", 1, "expression must write inv(X) (found X.I)"),
    ("max(x, 0)", "MC023", 1, "max must be written max(0, z), the ReLU: write max(0, x) (found max(x, 0))"),
    # products and operators
    ("x.T * A * x", "MC024", 5, "* must join equal shapes or a scalar (found 1xn * nxn); for a matrix product write "
                                "x.T @ A (* is element-wise, as in NumPy)"),
    ("x @ A", "MC024", 3, "@ must join nx1 with 1xk (found nx1 @ nxn); did you mean x.T @ A?"),
    ("B @ y", "MC024", 3, "@ must join mxn with nxk (found mxn @ mx1); did you mean B.T @ y?"),
    ("x.T A x", "MC020", 5, "expression must join x.T and A with an operator: @ for a matrix product, "
                            "* for element-wise or by a scalar (found x.T A)"),
    ("x' A x", "MC020", 4, "expression must join x.T and A with an operator: @ for a matrix product, "
                           "* for element-wise or by a scalar (found x.T A)"),
    ("2x", "MC020", 1, "expression must write 2 * x for a number times x (found 2x)"),
    ("exp x", "MC020", 5, "expression must put a function's argument in brackets: exp(x) (found exp x)"),
    ("x .* x", "MC020", 3, "expression must write * (element-wise product): .* is MATLAB's spelling (found .*)"),
    ("x ./ x", "MC020", 3, "expression must write / (element-wise division): ./ is MATLAB's spelling (found ./)"),
    ("|x|", "MC020", 1, "expression must write norm(x) for a norm (found |x|)"),
    ("||x - A @ x||", "MC020", 1, "expression must write norm(x - A @ x) for a norm (found ||x - A @ x||)"),
    ("x.T @ A @ x = 2 * A @ x", "MC020", 13, "expression must be one expression, without = (found =): put what is "
                                             "differentiated in of and the claimed derivative in expect"),
    ("trace(A @ X", "MC020", 6, "expression must close every bracket (found a ( that is never closed)"),
    ("trace(A @ X))", "MC020", 13, "expression must close only brackets it opened (found an extra ))"),
    ("x.T @ A @", "MC020", 9, "expression must not end with an operator (found @ at the end)"),
    ("x[0]", "MC021", 1, "expression must use whole vectors and matrices: entries cannot be indexed (found a subscript, x[0])"),
    ("0.5 * x", "MC021", 1, "constants must be integers; write rationals as 1/2 (found 0.5)"),
    # paper and MATLAB notation without operators or brackets
    ("x'Ax", "MC020", 3, "expression must join x.T and Ax with an operator: @ for a matrix product, * for element-wise "
                         "or by a scalar (found x.T Ax)"),
    ("log det X", "MC020", 5, "expression must put a function's argument in brackets: log(det(X)) (found log det X)"),
    ("tr X", "MC020", 4, "expression must put a function's argument in brackets: trace(X) (found tr X)"),
    ("(x.T @ x)^(1/2)", "MC021", 10, "expression must write a power as (x.T @ x) ** (1/2) (found (x.T @ x)^(1/2); "
                                     "^ is not a power in Python)"),
    ("1 / (1 + e^(-s))", "MC021", 11, "expression must write exp(-s) for e to a power (found e^(-s); ^ is not a power in Python)"),
    ("x^{-1}", "MC021", 2, "expression must write 1 / x for the element-wise reciprocal: only a square matrix has an inverse "
                           "(found x^{-1}; ^ is not a power in Python)"),
    ("||x||^2", "MC020", 1, "expression must write norm(x) for a norm (found ||x||)"),
    ("x.T.dot(A).dot(x)", "MC021", 1, "expression must write x.T @ A @ x (found x.T.dot(A).dot(x))"),
    ("np.sum(np.exp(x))", "MC021", 1, "expression must call functions without a module prefix: write sum(exp(x)) "
                                      "(found np.sum(np.exp(x)))"),
    ("np.tarce(A)", "MC021", 1, "function tarce must be one of the rule language's functions or declared under functions "
                                "(found np.tarce(A)); did you mean trace?"),
    ("d / dx", "MC023", 1, "d must be called as d(X), the differential of wrt, in expect (found d alone); to state a "
                           "derivative, put what is differentiated in of and your derivative in expect"),
    # names
    ("I @ x", "MC022", 1, "name I must be declared under symbols (found it undeclared); write eye(n) for the n x n identity"),
    ("a @ x", "MC022", 1, "name a must be declared under symbols (found it undeclared); did you mean A? Names are case-sensitive"),
    ("z @ x", "MC022", 1, "name z must be declared under symbols (found it undeclared)"),
    ("xT @ A", "MC022", 1, "name xT must be declared under symbols (found it undeclared); did you mean x.T, the transpose?"),
    ("e ** s", "MC022", 1, "name e must be declared under symbols (found it undeclared); write exp(x) for e to the power x"),
    ("lambda * x", "MC020", 1, "expression must be valid syntax of the rule language (found the Python keyword lambda); "
                               "write lam for the Greek letter lambda"),
    # characters from papers and PDFs
    ("x \u2299 x", "MC020", 3, "expression must be plain ASCII: write * for the element-wise (Hadamard) product (found \u2299 U+2299)"),
    ("A\u00b7x", "MC020", 2, "expression must be plain ASCII: write @ for a matrix product, * for an element-wise product or "
                             "a scalar factor (found \u00b7 U+00B7)"),
    ("X\u207b\u00b9", "MC020", 2, "expression must be plain ASCII: write inv(A) for an inverse and x ** -1 for a reciprocal (found \u207b U+207B)"),
    ("\u03bc * x", "MC020", 1, "expression must be plain ASCII: write mu for \u03bc, declared under symbols (found \u03bc U+03BC)"),
])
def test_slips_get_the_fix_at_their_column(text: str, code: str, col: int, message: str) -> None:
    """Each slip gets its code, the 1-based column where it is, and a message that says what to write."""
    assert slip(text) == (code, col, message)


def test_a_shape_slip_names_the_product_to_use_everywhere_it_occurs() -> None:
    """MATLAB's x'*A*x: the first * that joins matrices is named, with the @ to write instead."""
    code, col, message = slip("x'*A*x")
    assert (code, col) == ("MC024", 3)
    assert "write x.T @ A" in message


def test_columns_follow_the_text_as_typed_after_a_prime() -> None:
    """x' is two characters shorter than x.T... the column of a later error still points into what was typed."""
    code, col, _ = slip("x' @ A @ x + tr(A)")
    assert (code, col) == ("MC023", 14)


def test_strings_are_still_refused() -> None:
    """A quote that cannot be a transpose is not silently accepted: ' opens nothing in the rule language."""
    code, col, message = slip("'x'")
    assert code in ("MC020", "MC021") and col == 1
