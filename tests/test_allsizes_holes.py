"""Holes an adversary found in the all-sizes check (redteam, /work/coord/status/redteam.md), each closed by
construction, each with a test that fails without its fix.

H1  a function named like an internal key (D1f, H11f, ...) was the derivative of another function;
H5  a symmetric, spd or diagonal wrt was a symmetric *function* (X^T = X in the graph), so d(X^T) = V, not V^T;
H2, H3, H4, H6, H7: traps that the check stepped around (too many relu steps, a grid too large, a division outside the
    theory, an author's sizes, an engine error under a trap), now looked for at the sizes the bound asks for.
"""

from __future__ import annotations

import pytest

from generator.engine.allsizes import decide
from generator.engine.allsizes.model import canon
from generator.engine.parse import parse_expression

from engine_support import claim_from, run_inprocess

E4 = ("trace(X)**4 - 6 * trace(X)**2 * trace(X @ X) + 3 * trace(X @ X)**2 + 8 * trace(X) * trace(X @ X @ X)"
      " - 6 * trace(X @ X @ X @ X)")  # 24 e_4 of the eigenvalues: 0 for n <= 3


def e4(name: str) -> str:
    return E4.replace("X", name)


# ---------------------------------------------------------------- H1: internal names

SCALAR_FN = {"args": [[]], "to": []}


@pytest.mark.parametrize("other", ["D1f", "D2f", "H11f", "f_D1", "D1", "fD1"])
def test_h1_a_function_named_like_a_derivative_is_its_own_function(other: str) -> None:
    """sum(f(x)) by x is D(f, x), not another function's value, whatever that function is called."""
    functions = {"f": SCALAR_FN, other: SCALAR_FN}
    wrong = decide(claim_from({"x": ["n"]}, "sum(f(x))", "x", f"{other}(x)", functions=functions))
    assert wrong.status == "refuted", wrong
    right = decide(claim_from({"x": ["n"]}, "sum(f(x))", "x", "D(f, x)", functions=functions))
    assert right.status == "proved", right


def test_h1_a_vector_function_named_like_a_jacobian_is_its_own_function() -> None:
    functions = {"g": {"args": [["n"]], "to": []}, "D1g": {"args": [["n"]], "to": ["n"]}}
    wrong = decide(claim_from({"x": ["n"]}, "g(x)", "x", "D1g(x)", functions=functions))
    assert wrong.status == "refuted", wrong


def test_h1_keys_of_functions_are_injective() -> None:
    """No (name, component) pair spells another's key: the separator is not a character of a name."""
    from generator.engine.allsizes.model import fn_key

    pairs = [("f", "D1"), ("D1f", ""), ("f", "H11"), ("H11f", ""), ("fD", "1"), ("f", "D"), ("D", "1f")]
    keys = [fn_key(name, comp) for name, comp in pairs]
    assert len(set(keys)) == len(keys)


def test_h1_a_function_value_and_a_call_of_the_language_never_share_a_canonical_text() -> None:
    """A rule's own function exp (it shadows the language's) and the language's exp have different texts."""
    from engine_support import claim_from as build

    own = build({"x": ["n"]}, "sum(exp(x))", "x", "x", functions={"exp": SCALAR_FN})
    language = build({"x": ["n"]}, "sum(exp(x))", "x", "x")
    assert own.of.args[0].op == "apply" and language.of.args[0].op == "call"
    assert canon(own.of) != canon(language.of)


def test_h1_the_one_line_claim_is_refuted_not_proved(tmp_path, monkeypatch, capsys) -> None:
    """`mcref check --of` trusts the engine alone: the clash printed "Proved for every size" and exited 0."""
    run = run_inprocess(["check", "--of", "sum(f(x))", "--wrt", "x", "--expect", "D1f(x)", "--symbols", "x: [n]",
                         "--functions", "f: [] -> []; D1f: [] -> []"], tmp_path, monkeypatch, capsys)
    assert "Proved" not in run.out, run.out
    assert run.code == 1, run.out


# ---------------------------------------------------------------- H5: a symmetric wrt

SQUARE = {"X": ["n", "n"], "A": ["n", "n"]}


@pytest.mark.parametrize("props", [("symmetric",), ("spd",), ("diagonal",), ("symmetric", "positive")])
def test_h5_the_entries_of_a_symmetric_wrt_are_independent(props) -> None:
    """d tr(A X^T)/dX = A (entries independent, evaluated at a symmetric point); A^T is wrong."""
    assume = {"X": props}
    right = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "A", assume=assume))
    assert right.status == "proved", right
    wrong = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "A.T", assume=assume))
    assert wrong.status == "refuted", wrong


@pytest.mark.parametrize("props", [("symmetric",), ("diagonal",)])
def test_h5_the_differential_of_a_symmetric_wrt_keeps_its_transpose(props) -> None:
    assume = {"X": props}
    wrong = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "trace(A @ d(X))", assume=assume, kind="differential",
                              layout="numerator"))
    assert wrong.status == "refuted", wrong
    right = decide(claim_from(SQUARE, "trace(A @ X.T)", "X", "trace(A @ d(X).T)", assume=assume, kind="differential",
                              layout="numerator"))
    assert right.status == "proved", right


def test_h5_a_trap_times_the_transpose_error_is_refuted_where_the_trap_fails() -> None:
    """H7 (a): e4(B) tr(A X^T) + tr(A X) with X symmetric: the gradient is e4(B) A + A^T, refuted at n = 4."""
    claim = claim_from({"X": ["n", "n"], "A": ["n", "n"], "B": ["n", "n"]}, f"({e4('B')}) * trace(A @ X.T) + trace(A @ X)",
                       "X", f"({e4('B')}) * A.T + A.T", assume={"X": ("symmetric",)})
    decision = decide(claim)
    assert decision.status == "refuted", decision
    assert decision.counterexample["sizes"]["n"] >= 4


def test_h5_functions_of_a_symmetric_wrt_are_symmetric_values_not_symmetric_functions() -> None:
    """inv(X) at a symmetric X is a symmetric value (both forms of the gradient are proved), but inv(X^T) is not the
    same function as inv(X): its derivative moves with V^T."""
    assume = {"X": ("symmetric",)}
    for expect in ("-inv(X) @ A.T @ inv(X)", "-(inv(X) @ A @ inv(X)).T"):
        assert decide(claim_from(SQUARE, "trace(A @ inv(X))", "X", expect, assume=assume)).status == "proved"
    right = decide(claim_from(SQUARE, "trace(A @ inv(X.T))", "X", "-inv(X) @ A @ inv(X)", assume=assume))
    assert right.status == "proved", right
    wrong = decide(claim_from(SQUARE, "trace(A @ inv(X.T))", "X", "-inv(X) @ A.T @ inv(X)", assume=assume))
    assert wrong.status == "refuted", wrong


# ---------------------------------------------------------------- H2, H3, H4, H6: traps the check stepped around

def trap_claims() -> dict[str, object]:
    """The redteam's traps: each false at some size, each once "verified at listed sizes"."""
    from test_allsizes import trace_e

    return {
        # H2: e4 + relu: 16 step entries at n = 4, too many to enumerate
        "H2": claim_from({"X": ["n", "n"]}, f"{E4} + sum(relu(X))", "X", "step(X)"),
        # H3: a grid too large (512 tuples): the smallest tuple refutes
        "H3": claim_from({"X": ["n", "n"], "A": ["m", "p"], "B": ["q", "r"]}, f"{E4} + (m * p * q * r)**3 * trace(X)", "X",
                         "(m * p * q * r)**3 * eye(n)"),
        # H4: e5 beside an entrywise division by a size (outside the theory)
        "H4": claim_from({"X": ["n", "n"]}, f"{trace_e(5)} + sum(X / (X + n))", "X", "n / (X + n)**2"),
        # H6: true only when m = n, with an author's sizes that tie m = n
        "H6": claim_from({"A": ["m", "n"]}, "m * sum(A) + sum(relu(A)) + trace(A @ A.T @ A @ A.T @ A @ A.T @ A @ A.T)", "A",
                         "n * ones(m, n) + step(A) + 8 * A @ A.T @ A @ A.T @ A @ A.T @ A",
                         sizes=({"m": 2, "n": 2}, {"m": 3, "n": 3})),
    }


FAILS_FROM = {"H2": {"n": 4}, "H3": {"n": 4}, "H4": {"n": 5}, "H6": {}}


@pytest.mark.parametrize("hole", ["H2", "H3", "H4", "H6"])
def test_traps_outside_the_proof_are_refuted_or_named_where_they_show(hole: str) -> None:
    """Never proved, never listed: refuted exactly, or "nonzero" at a size where the trap fails (for the witnesses)."""
    decision = decide(trap_claims()[hole])
    assert decision.status in ("refuted", "nonzero"), decision
    sizes = decision.counterexample["sizes"]
    for letter, least in FAILS_FROM[hole].items():
        assert sizes[letter] >= least, decision
    if hole == "H6":
        assert sizes["m"] != sizes["n"], decision
    assert sizes in decision.probe_sizes or decision.status == "refuted"


def test_h2_a_wrong_relu_step_is_found_by_random_patterns_when_there_are_too_many_to_enumerate() -> None:
    claim = claim_from({"X": ["n", "n"], "B": ["n", "n"]}, f"({e4('B')}) * sum(relu(X)) + sum(relu(X))", "X", "step(X)")
    decision = decide(claim)
    assert decision.status == "nonzero" and decision.counterexample["sizes"]["n"] >= 4, decision


def test_h3_a_grid_too_large_is_checked_from_its_smallest_tuple() -> None:
    """(m p q r)^3 raises the degree of five letters: 512 tuples. The smallest ones are checked, in the model."""
    decision = decide(trap_claims()["H3"])
    assert decision.status == "refuted" and decision.counterexample["exact"], decision
    right = claim_from({"X": ["n", "n"], "A": ["m", "p"], "B": ["q", "r"]}, "(m * p * q * r)**3 * trace(X)", "X",
                       "(m * p * q * r)**3 * eye(n)")
    assert decide(right).status in ("proved", "listed")


def test_h4_the_listed_check_starts_at_the_size_a_lenient_count_gives() -> None:
    """Outside the theory (a division by X + n), the exact check looks at the smallest tuple of a lenient count."""
    decision = decide(trap_claims()["H4"])
    assert decision.status == "refuted" and decision.counterexample["sizes"]["n"] >= 5, decision
    true = decide(claim_from({"X": ["n", "n"]}, "sum(X / (X + n))", "X", "n / (X + n)**2"))
    assert true.status == "listed" and {"n": 2} in true.checked_sizes, true


def test_a_proved_claim_names_the_smallest_grid_tuple_for_the_witnesses() -> None:
    decision = decide(claim_from({"X": ["n", "n"]}, "trace(X @ X @ X @ X)", "X", "4 * (X @ X @ X).T"))
    assert decision.status == "proved" and decision.probe_sizes == decision.grid[:1] == [{"n": 4}]


# ---------------------------------------------------------------- the one-line claim path and the browser

@pytest.mark.parametrize("hole", ["H2", "H4", "H6"])
def test_the_browser_checker_looks_where_the_engine_says(hole: str) -> None:
    """Engine first, then exact evaluation at random points at the claim's sizes and the engine's probe sizes."""
    from generator.student.claim_deciders import EngineChecker, FirstThat
    from generator.student.pointeval import PointChecker

    (decision,) = FirstThat(EngineChecker(), PointChecker()).decide([trap_claims()[hole]])
    assert decision.status == "refuted", decision


def test_the_browser_checker_is_never_verified_at_a_size_it_did_not_evaluate() -> None:
    from generator.student.pointeval import MAX_DIM, PointChecker

    claim = claim_from({"x": ["n"]}, "sum(exp(x))", "x", "exp(x)")
    wide = PointChecker.with_probes(claim, [{"n": MAX_DIM + 1}])
    assert {"n": MAX_DIM + 1} in [dict(s) for s in wide.sizes]
    (decision,) = PointChecker().decide([wide])
    assert decision.status == "undecided", decision
    (decision,) = PointChecker().decide([claim])
    assert decision.status == "verified", decision


def test_h2_the_one_line_claim_is_not_verified(tmp_path, monkeypatch, capsys) -> None:
    run = run_inprocess(["check", "--of", f"{E4} + sum(relu(X))", "--wrt", "X", "--expect", "step(X)", "--symbols", "X: [n, n]",
                         "--layout", "denominator"], tmp_path, monkeypatch, capsys)
    assert run.code == 1 and "refuted" in run.out, run.out


# ---------------------------------------------------------------- second reading of the bounds

def test_a_size_that_is_a_sum_of_letters_counts_as_a_number_in_each() -> None:
    """A row softmax over n+1 columns divides by n+1 in the model (a size used as a number): counted, not a crash."""
    claim = claim_from({"X": ["m", "n"]}, "sum(softmax(hstack(X, ones(m, 1))) * hstack(X, ones(m, 1)))", "X", "zeros(m, n)")
    from generator.engine.allsizes.bounds import index_bounds
    from generator.engine.allsizes.model import compile_claim

    program = compile_claim(claim)
    bounds = index_bounds(program.roots(), claim.scope.dims)
    assert bounds.L["n"] >= 1
    assert decide(claim).status in ("nonzero", "refuted")


# ---------------------------------------------------------------- grids too large (found while fixing H3)

def six_letter_claim(expect_scaled: bool):
    """(a-2)..(a-5) (b-2)..(b-5) ... (f-2)..(f-5) sum(xa): zero unless every letter is at least 6; the bound's grid has
    18750 tuples (too many), and the smallest 400 all have a letter below 6."""
    letters = "abcdef"
    poly = " * ".join(f"({t} - 2) * ({t} - 3) * ({t} - 4) * ({t} - 5)" for t in letters)
    symbols = {f"x{t}": [t] for t in letters}
    return claim_from(symbols, f"{poly} * sum(xa)", "xa", f"{poly} * ones(a)" if expect_scaled else "zeros(a)")


def test_a_grid_too_large_is_checked_at_its_corners_and_never_listed() -> None:
    """A grid too large to check is never "verified at listed sizes" (the claim path would print it verified): the
    trap is refuted at the corner where every letter is largest; the true claim is "outside", with the corners as
    probe sizes for the witnesses."""
    wrong = decide(six_letter_claim(False))
    assert wrong.status == "refuted", wrong
    assert min(wrong.counterexample["sizes"].values()) >= 6
    right = decide(six_letter_claim(True))
    assert right.status == "outside", right
    assert any(min(s.values()) >= 6 for s in right.probe_sizes), right.probe_sizes


def test_a_grid_of_a_thousand_tuples_is_still_a_proof_when_it_is_cheap() -> None:
    """Five letters of degree 3: over 1024 tuples, each cheap: the whole grid is checked (the trap fails only at the last)."""
    poly = " * ".join(f"({t} - 2) * ({t} - 3) * ({t} - 4)" for t in "abcde")
    symbols = {"x": ["a"], "y": ["b"], "z": ["c"], "u": ["d"], "v": ["e"]}
    wrong = decide(claim_from(symbols, f"{poly} * sum(x)", "x", "zeros(a)"))
    assert wrong.status == "refuted" and wrong.counterexample["sizes"] == {t: 5 for t in "abcde"}, wrong
    right = decide(claim_from(symbols, f"{poly} * sum(x)", "x", f"{poly} * ones(a)"))
    assert right.status == "proved" and len(right.grid) >= 1024, right.reason


def test_a_long_list_of_sizes_is_shortened_in_a_statement() -> None:
    from generator.engine.verify import show_size_list

    text = show_size_list([{"n": k} for k in range(2, 40)])
    assert text.startswith("n = 2, 3") and text.endswith("and 31 more size tuples")


# ---------------------------------------------------------------- every rule of the corpus under a trap

def with_trap(claim, text: str, extra: dict):
    """The claim with `text` (a scalar, with the extra symbols) times ones added to its expect."""
    import dataclasses

    from generator.engine.parse import SCALAR, Expr

    scope = dataclasses.replace(claim.scope, symbols={**claim.scope.symbols, **extra})
    trap = parse_expression(text, dataclasses.replace(scope, differential_of=None))
    shape = claim.expect.shape
    bump = trap if shape == SCALAR else Expr("mul", (trap, Expr("call", (), shape, name="ones")), shape)
    return dataclasses.replace(claim, scope=scope, expect=Expr("add", (claim.expect, bump), shape), short_expect=None)


def traps_for(claim):
    """For each letter t: e4 of a new t x t matrix (zero for t <= 3) and (t-2)(t-3)(t-4)(t-5) (zero for t <= 5); for each
    pair s, t: (s-t)(s-t-1)(s-t+1) (zero when s - t is -1, 0 or 1). Each makes the claim false at some sizes only."""
    from itertools import combinations

    dims = list(claim.scope.dims)
    out = []
    for t in dims:
        out.append((f"e4({t})", e4("QQ"), {"QQ": (t, t)}))
        out.append((f"poly({t})", f"({t} - 2) * ({t} - 3) * ({t} - 4) * ({t} - 5)", {}))
    for s, t in combinations(dims, 2):
        out.append((f"tie({s}, {t})", f"({s} - {t}) * ({s} - {t} - 1) * ({s} - {t} + 1)", {}))
    return out


def test_every_rule_of_the_corpus_under_every_trap_is_refuted() -> None:
    """No rule of the corpus plus a trap is proved, listed or verified: decide() refutes it, or the whole check does at
    the sizes the engine names. Found this way while fixing H2-H7: a domain (an invertible X^T X needs m >= n) that the
    grid's own tuples all missed, so a tie trap was "listed"; the listed check and the probes now also use the grid
    shifted so that every letter starts at the largest base (the letters in every order)."""
    from engine_support import RULES
    from generator.pipeline import load_and_parse
    from generator.engine.verify import check_claim

    wrong = []
    for rule in load_and_parse([RULES], publish=False).rules:
        for name, text, extra in traps_for(rule.claim):
            bad = with_trap(rule.claim, text, extra)
            decision = decide(bad)
            if decision.status == "refuted":
                continue
            if decision.status in ("proved", "listed"):
                wrong.append((rule.id, name, decision.status))
                continue
            verdict = check_claim(bad)
            if verdict.status != "refuted":
                wrong.append((rule.id, name, decision.status, verdict.status, verdict.detail[:160]))
    assert not wrong, wrong[:5]


# ---------------------------------------------------------------- small differences beside functions the model keeps generic

@pytest.mark.parametrize("expect", [
    "exp(x) + (1 / 10**12) * ({e4}) * ones(n)",
    "exp(x) + (1 / 10**12) * ({e4}) * exp(x)",
    "exp(x) * (1 + (1 / 10**12) * ({e4}))",
], ids=["beside", "times-exp", "inside"])
def test_a_small_trap_beside_exp_is_refuted_exactly(expect: str) -> None:
    """exp(x) plus 10^-12 e4(B): the model (exp a generic atom) differs from n = 4 on, but used to call that only a
    suspicion ("nonzero"); the witnesses there are finite differences, blind to 10^-12, and SymPy runs at n = 2, 3: the
    claim was "verified". A difference that does not depend on the generic atoms, or one where exp is the only generic
    function of Q-linearly independent arguments (Kolchin-Ostrowski), is a real counterexample."""
    claim = claim_from({"x": ["n"], "B": ["n", "n"]}, "sum(exp(x))", "x", expect.format(e4=e4("B")), assume={"x": ("positive",)})
    decision = decide(claim)
    assert decision.status == "refuted" and decision.counterexample["sizes"]["n"] >= 4, decision


@pytest.mark.parametrize(("of", "expect"), [
    ("sum(exp(x)) + sqrt(sum(x))", "exp(x) + ones(n) / (2 * sqrt(sum(x)))"),
    ("sum(exp(x)) * sqrt(sum(x))", "exp(x) * sqrt(sum(x)) + sum(exp(x)) * ones(n) / (2 * sqrt(sum(x)))"),
])
def test_a_small_trap_beside_exp_and_a_square_root_is_refuted_exactly(of: str, expect: str) -> None:
    """The test for a real difference used the first random point, where a square root may not exist modulo p (about
    half of the values are not squares): it then gave up and the trap stayed a mere suspicion ("nonzero"). It now looks
    for a point where every square root exists, as the check of one size does. The true claims stay unrefuted."""
    claim = claim_from({"x": ["n"], "B": ["n", "n"]}, of, "x", f"{expect} + (1 / 10**12) * ({e4('B')}) * ones(n)",
                       assume={"x": ("positive",)})
    decision = decide(claim)
    assert decision.status == "refuted" and decision.counterexample["sizes"]["n"] >= 4, decision
    assert decide(claim_from({"x": ["n"]}, of, "x", expect, assume={"x": ("positive",)})).status in ("proved", "nonzero", "listed")


@pytest.mark.parametrize(("symbols", "of", "expect"), [
    ({"x": [], "y": []}, "exp(x) * exp(y)", "exp(x + y) * ones(1)"),
    ({"x": ["n"]}, "sum(exp(2 * x))", "2 * exp(x) * exp(x)"),
    ({"x": ["n"]}, "sum(exp(x + x))", "2 * exp(2 * x)"),
    ({"x": ["n"]}, "sum(tanh(x))", "4 * exp(2 * x) / (exp(2 * x) + 1)**2"),
    ({"x": ["n"]}, "logsumexp(x)", "exp(x - logsumexp(x))"),
    ({"x": ["n"]}, "sum(exp(x)**2)", "2 * exp(2 * x)"),
    ({"x": ["n"], "y": ["n"]}, "sum(exp(x) / exp(y))", "exp(x - y)"),
    ({"x": ["n"]}, "sum(exp(x) * exp(1))", "exp(x + 1)"),
    ({"x": ["n"]}, "sum(relu(x) - relu(-x))", "ones(n)"),
    ({"x": ["n"]}, "sum(sqrt(exp(x)))", "exp(x / 2) / 2"),
], ids=["exp-sum", "exp-double", "exp-x-plus-x", "tanh-by-exp", "lse", "exp-squared", "exp-quotient", "exp-constant",
        "relu-odd", "sqrt-exp"])
def test_true_claims_that_need_a_dropped_relation_are_never_refuted(symbols, of, expect) -> None:
    """Arguments that are Q-linearly dependent (x, 2x, x + 1), other generic functions, square roots: no refutation."""
    wrt = "x"
    decision = decide(claim_from(symbols, of, wrt, expect, layout="numerator" if not symbols["x"] else "denominator"))
    assert decision.status in ("proved", "nonzero", "listed"), decision


# ---------------------------------------------------------------- H8: a divisor made of sizes alone

@pytest.mark.parametrize(("of", "expect", "symbols"), [
    ("sum(x**3) / (n - 2)", "3 * x**2 / (n - 2)", {"x": ["n"]}),
    ("sum(x**3) / ((n - 2) * (n - 3))", "3 * x**2 / ((n - 2) * (n - 3))", {"x": ["n"]}),
    ("sum(x) * sum(y) / (m - n)", "sum(y) / (m - n) * ones(n)", {"x": ["n"], "y": ["m"]}),
    ("(n**2 - 5*n + 8) * sum(x) / (n - 2)", "(n**2 - 5*n + 8) / (n - 2) * ones(n)", {"x": ["n"]}),
], ids=["n-2", "skewness-like", "m-n", "with-a-trap-shape"])
def test_h8_a_divisor_of_sizes_alone_is_avoided_not_a_refutation(of: str, expect: str, symbols: dict) -> None:
    """1 / (n - 2) says nothing at n = 2: the grid takes other sizes (any distinct sizes >= B settle the identity), and
    the verdict says where the claim is defined. An unbiased skewness carries (n - 2); it was refuted."""
    decision = decide(claim_from(symbols, of, "x", expect))
    assert decision.status == "proved", decision
    assert decision.excluded and all(not __import__("generator.engine.allsizes", fromlist=["x"]).size_only_zero(
        claim_from(symbols, of, "x", expect), s) for s in decision.grid)


@pytest.mark.parametrize(("of", "expect"), [
    ("sum(x**3) / (n - 2)", "3 * x**2 / (n - 3)"),
    ("(n**2 - 5*n + 8) * sum(x) / (n - 2)", "2 / (n - 2) * ones(n)"),
])
def test_h8_a_wrong_claim_with_a_size_divisor_is_still_refuted(of: str, expect: str) -> None:
    decision = decide(claim_from({"x": ["n"]}, of, "x", expect))
    assert decision.status == "refuted" and decision.counterexample["sizes"]["n"] >= 4, decision


def test_h8_a_divisor_of_sizes_that_is_always_zero_is_undefined_and_named() -> None:
    decision = decide(claim_from({"x": ["n"]}, "sum(x) / (n - n)", "x", "ones(n)"))
    assert decision.status == "undefined" and "n - n" in decision.reason, decision


def test_h8_the_whole_check_and_its_witnesses_skip_the_excluded_sizes() -> None:
    from generator.engine.verify import check_claim

    verdict = check_claim(claim_from({"x": ["n"]}, "sum(x**3) / (n - 2)", "x", "3 * x**2 / (n - 2)"))
    assert verdict.status == "verified" and verdict.scope == "all-sizes", verdict.detail
    assert "where n - 2 is not 0" in verdict.statement


def test_h8_an_entry_that_is_zero_as_a_function_is_no_kink() -> None:
    """|X - X^T| has a constant 0 diagonal: differentiable there (derivative 0), not a kink; with X symmetric, the
    off-diagonal entries are 0 at every allowed point but move along the generic direction: a kink."""
    right = decide(claim_from({"X": ["n", "n"]}, "sum(abs(X - X.T))", "X", "sign(X - X.T) - sign(X - X.T).T"))
    assert right.status == "proved", right
    kink = decide(claim_from({"X": ["n", "n"]}, "sum(abs(X - X.T))", "X", "sign(X - X.T) - sign(X - X.T).T",
                             assume={"X": ("symmetric",)}))
    assert kink.status == "undefined" and "no derivative" in kink.reason, kink
