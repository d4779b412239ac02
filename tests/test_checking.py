"""The checks of the graded exercises: the toolkit, and the example items built with it.

Every item is exercised the way learners will: the right answer gets full marks; the
exercise's stub (NotImplementedError) is "not attempted" with 0 points and no exception;
known-wrong answers fail with the diagnosis that names their mistake; bad values (None, a
list, NaN, a string, a raising function, a tuple of the wrong length) get feedback, never a
traceback; and strict mode turns anything but a pass into an AssertionError.
"""

from __future__ import annotations

import math

import item_contract as contract
import numpy as np
import pytest
from item_contract import fresh_session  # noqa: F401 (autouse)

import bpcourse.checking
from bpcourse.autodiff import Value
from bpcourse.checking import (
    ITEMS,
    SCOREBOARD,
    BadAnswer,
    LearnerError,
    Mistake,
    NotAttempted,
    Result,
    call_safely,
    check,
    check_answer,
    compare_array,
    compare_gradient,
    compare_number,
    diagnose_gradient,
    digest,
    expect_tuple,
    forbidden_uses,
    item,
    last_contribution_only,
    missing_derivative,
    summary,
)
from bpcourse.checking import answers as answers_module
from bpcourse.gradcheck import numerical_gradient

# --- compare_array and compare_number ----------------------------------------------------------

EXPECTED = np.arange(12.0).reshape(3, 4) + 1.0


def test_compare_array_accepts_the_right_answer_within_the_policy_tolerance():
    assert compare_array(EXPECTED, EXPECTED.copy(), "dW") == []
    assert compare_array(EXPECTED, EXPECTED * (1 + 1e-9), "dW") == []


@pytest.mark.parametrize(
    ("got", "says"),
    [
        (None, "dW is None, expected a NumPy array of shape (3, 4) = (n_out, n_in)"),
        ([[1.0, 2.0]], "dW is a list of 1 item"),
        ("dW", "dW is a str"),
        (3.0, "dW is a single number (3.0)"),
        (True, "dW is the boolean True"),
        (
            EXPECTED.T.copy(),
            "expected shape (3, 4) = (n_out, n_in), got (4, 3): did you forget a transpose",
        ),
        (
            np.ones((5, 3, 4)),
            "one axis too many (of length 5): did you forget to sum over the batch",
        ),
        (np.ones((1, 3, 4)), "an axis of length 1 too many"),
        (EXPECTED.astype(int), "dtype int64, expected float64: integer results lose the fractions"),
        (EXPECTED.astype(np.float32), "float32, expected float64: checks need float64"),
        (EXPECTED.astype(complex), "has dtype complex128, expected floating-point numbers"),
    ],
)
def test_compare_array_names_the_wrong_type_shape_or_dtype(got, says):
    problems = compare_array(EXPECTED, got, "dW", layout="(n_out, n_in)")
    assert len(problems) == 1
    assert says in problems[0]


def test_compare_array_reports_nan_and_where_it_is():
    got = EXPECTED.copy()
    got[1, 2] = np.nan
    got[2, 0] = np.inf
    (problem,) = compare_array(EXPECTED, got, "dW")
    assert "2 NaN or infinite value(s); the first at index (1, 2)" in problem


def test_compare_array_reports_the_worst_entry_with_expected_got_and_relative_error():
    got = EXPECTED.copy()
    got[2, 1] += 5.0
    (problem,) = compare_array(EXPECTED, got, "dW")
    assert "1 of 12 entries differ" in problem
    assert "index (2, 1): expected 10, got 15 (relative error 0.33)" in problem


def test_compare_array_uses_answer_specific_shape_hints():
    (problem,) = compare_array(
        np.ones(3), np.ones(5), "db", shape_hints={(5,): "sum over axis=0, not axis=1"}
    )
    assert problem.endswith("sum over axis=0, not axis=1")


@pytest.mark.parametrize(
    ("got", "says"),
    [
        (None, "x is None, expected a number"),
        ("1.5", "x is a str, expected a single real number"),
        ([1.5], "x is a list of 1 item"),
        (True, "x is the boolean True"),
        (math.nan, "x is nan, expected a finite number"),
        (2.5, "x: expected 1.5, got 2.5"),
    ],
)
def test_compare_number(got, says):
    assert compare_number(1.5, 1.5, "x") == []
    assert compare_number(1.5, np.array([1.5]), "x") == []
    (problem,) = compare_number(1.5, got, "x")
    assert says in problem


# --- the mistake catalogue ----------------------------------------------------------------------

RIGHT = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [2.5, -2.0, 1.0]])  # square: .T fits


@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        (RIGHT.T, "is the transpose of the right answer: check the order"),
        (-RIGHT, "has the opposite sign: check the sign of every factor"),
        (2 * RIGHT, "is 2 × the right answer"),
        (RIGHT / 2, "is ½ × the right answer"),
        (8 * RIGHT, "is N = 8 times too large"),
        (RIGHT / 8, "is N = 8 times too small"),
    ],
)
def test_diagnose_gradient_recognises_the_built_in_mistakes(wrong, says):
    (diagnosis,) = diagnose_gradient(RIGHT, wrong, "dW", batch_size=8)
    assert diagnosis.startswith("likely mistake: dW ")
    assert says in diagnosis
    assert "(y − t)" not in diagnosis and "½(" not in diagnosis, "no cause the item did not give"


def test_the_causes_of_built_in_slips_come_from_the_item():
    causes = {"double": "the ½ of ½(ŷ − y)² cancels the 2", "sign": "the loss's (ŷ − y)"}
    (d,) = diagnose_gradient(RIGHT, 2 * RIGHT, "dW", causes=causes)
    assert d == "likely mistake: dW is 2 × the right answer: the ½ of ½(ŷ − y)² cancels the 2"
    (d,) = diagnose_gradient(RIGHT, -RIGHT, "dW", causes=causes)
    assert d.endswith("has the opposite sign: the loss's (ŷ − y)")


def test_a_constant_factor_is_described_by_its_sign():
    (d,) = diagnose_gradient(RIGHT, 3.7 * RIGHT, "dW")
    assert (
        d == "dW is 3.7 × the right answer in every entry: the direction is right, the size is not"
    )
    (d,) = diagnose_gradient(RIGHT, -0.099 * RIGHT, "dW")
    assert "-0.099 × the right answer" in d and "opposite way (a sign error)" in d
    assert "direction is right" not in d


def test_a_single_number_gets_no_constant_factor_story():
    assert diagnose_gradient(np.array(2.0), np.array(60.4), "dw") == []


def test_where_nothing_fits_the_feedback_says_what_is_wrong_without_a_cause():
    wrong = RIGHT.copy()
    wrong[0, 1] *= -1
    wrong[2, 2] *= 3
    (d,) = diagnose_gradient(RIGHT, wrong, "dW")
    assert "1 of 9 entries of dW have the wrong sign" in d
    assert "2 of 9 entries of dW differ, by factors from -1 to 3" in d
    assert "likely" not in d


def test_diagnose_gradient_recognises_given_mistakes_and_skips_those_equal_to_the_answer():
    upstream = RIGHT / 0.3
    mistakes = [
        missing_derivative(upstream, "σ'(z)"),
        last_contribution_only(RIGHT, "the last example"),  # equals the answer: not a mistake
        Mistake("{name} forgot the bias", RIGHT + 1),
    ]
    (d,) = diagnose_gradient(RIGHT, upstream, "delta", mistakes=mistakes)
    assert "delta equals the answer without the activation derivative σ'(z)" in d
    (d,) = diagnose_gradient(RIGHT, RIGHT + 1, "delta", mistakes=mistakes)
    assert d == "likely mistake: delta forgot the bias"


def test_diagnose_gradient_guesses_no_cause_for_an_unrecognised_or_non_finite_answer():
    noise = np.random.default_rng(0).normal(size=RIGHT.shape)
    assert not any("likely" in d for d in diagnose_gradient(RIGHT, noise, "dW", batch_size=8))
    assert diagnose_gradient(RIGHT, RIGHT * np.nan, "dW") == []


# --- call_safely and expect_tuple ---------------------------------------------------------------


def changes_its_input(X):
    X[...] = 0.0
    return X.sum()


def divides_by_zero(dZ, X, W):
    scale = 0
    return dZ / scale, 1 // scale, None


def test_call_safely_returns_the_value_and_copies_array_arguments():
    X = np.ones((2, 2))
    assert call_safely(changes_its_input, X) == 0.0
    assert X.sum() == 4.0, "the learner's function changed the checker's input"


def test_call_safely_turns_not_implemented_into_not_attempted():
    with pytest.raises(NotAttempted, match="still raises NotImplementedError"):
        call_safely(contract.stub, 1)


def test_call_safely_summarises_an_exception_with_the_learners_line_and_the_shapes():
    args = (np.ones((5, 3)), np.ones((5, 4)), np.ones((3, 4)))
    with pytest.raises(LearnerError) as caught:
        call_safely(divides_by_zero, *args)
    (message,) = caught.value.messages
    assert message.startswith("divides_by_zero raised ZeroDivisionError: integer division")
    line = divides_by_zero.__code__.co_firstlineno + 2
    assert f"line {line} of divides_by_zero: `return dZ / scale, 1 // scale, None`" in message
    assert "shapes dZ (5, 3), X (5, 4), W (3, 4)" in message


def test_call_safely_refuses_what_is_not_a_function():
    with pytest.raises(BadAnswer, match="should be a function, got an array of shape"):
        call_safely(np.ones(3), 1, name="dense_backward")


def test_call_safely_silences_numpy_warnings():
    # pytest turns RuntimeWarning into an error here; the learner's log(0) must not escape
    assert call_safely(lambda: np.log(np.zeros(2)))[0] == -np.inf


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "returned None: did you forget `return a, b`?"),
        (np.ones(2), "should return 2 values (a, b), got an array of shape (2,)"),
        ((1, 2, 3), "should return 2 values (a, b), got 3"),
    ],
)
def test_expect_tuple(value, says):
    assert expect_tuple((1, 2), 2, "(a, b)", "f") == (1, 2)
    with pytest.raises(BadAnswer, match=r".*") as caught:
        expect_tuple(value, 2, "(a, b)", "f")
    assert says in caught.value.messages[0]


# --- Result, the registry, strict mode and the summary ------------------------------------------


def test_result_reads_as_text_and_html_and_validates_its_status():
    result = Result("demo", 1.5, 3, False, ["dW <wrong>"], "failed")
    assert str(result) == "❌ demo: failed (1.5/3 points)\n  - dW <wrong>"
    assert repr(result) == str(result)
    assert "dW &lt;wrong&gt;" in result._repr_html_()
    assert result.to_dict()["points"] == 1.5
    with pytest.raises(ValueError, match="status"):
        Result("demo", 0, 3, False, [], "maybe")
    with pytest.raises(ValueError, match="contradicts"):
        Result("demo", 3, 3, True, [], "failed")


@pytest.fixture
def demo_items():
    """Two throwaway items, removed afterwards."""

    @item("test_demo_parts", 3, notebook="99_demo", checked_by="checked by a demo")
    def check_parts(fn):
        a, b, c = expect_tuple(call_safely(fn), 3, "(a, b, c)", "fn")
        return {
            "a": compare_number(1.0, a, "a"),
            "b": compare_number(2.0, b, "b"),
            "c": compare_number(3.0, c, "c"),
        }

    @item("test_demo_buggy", 1, notebook="99_demo")
    def check_buggy(fn):
        return [str(1 / 0)]

    yield
    for grade_id in ("test_demo_parts", "test_demo_buggy"):
        ITEMS.pop(grade_id)


@pytest.mark.usefixtures("demo_items")
def test_parts_share_the_points():
    assert check("test_demo_parts", lambda: (1.0, 2.0, 3.0)).points == 3
    result = check("test_demo_parts", lambda: (1.0, 2.0, 4.0))
    assert (result.points, result.status) == (2, "failed")
    assert result.messages == ["c: expected 3, got 4", "right: a, b"]


@pytest.mark.usefixtures("demo_items")
def test_a_bug_in_a_checker_is_an_error_result_with_the_traceback_kept_for_strict_mode(
    monkeypatch,
):
    result = check("test_demo_buggy", contract.stub)
    assert result.status == "error"
    assert "the check itself failed (ZeroDivisionError" in result.messages[0]
    assert "Traceback" in result.details
    monkeypatch.setenv("BPCOURSE_STRICT", "1")
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        check("test_demo_buggy", contract.stub)


@pytest.mark.usefixtures("demo_items")
def test_the_registry_refuses_bad_or_reused_grade_ids():
    with pytest.raises(ValueError, match="must match"):
        item("has space", 1)
    with pytest.raises(ValueError, match="already used"):
        item("test_demo_parts", 1)(lambda fn: [])


@pytest.mark.usefixtures("demo_items")
def test_an_unknown_item_or_a_wrong_number_of_answers_is_feedback():
    result = check("no_such_item", contract.stub)
    assert (
        result.status == "error" and "no graded item 'no_such_item'; known:" in result.messages[0]
    )
    result = check("test_demo_parts")
    assert result.messages == [
        "call it as check('test_demo_parts', fn): it takes 1 answer(s), got 0"
    ]


@pytest.mark.usefixtures("demo_items")
@pytest.mark.parametrize(
    ("variable", "value"), [("BPCOURSE_STRICT", "1"), ("NBGRADER_EXECUTION", "validate")]
)
def test_strict_mode_raises_for_anything_but_a_pass(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    assert check("test_demo_parts", lambda: (1.0, 2.0, 3.0)).passed
    with pytest.raises(AssertionError, match="not attempted"):
        check("test_demo_parts", contract.stub)
    with pytest.raises(AssertionError, match="c: expected 3, got 4"):
        check("test_demo_parts", lambda: (1.0, 2.0, 4.0))
    with pytest.raises(AssertionError, match="no graded item"):
        check("no_such_item", contract.stub)


@pytest.mark.usefixtures("demo_items")
def test_strict_mode_is_off_when_the_variable_is_0(monkeypatch):
    monkeypatch.setenv("BPCOURSE_STRICT", "0")
    assert check("test_demo_parts", contract.stub).status == "not attempted"


@pytest.mark.usefixtures("demo_items")
def test_under_nbgraders_autograder_a_check_ends_with_the_points_as_a_number(monkeypatch, capsys):
    """nbgrader gives partial credit for a grade cell whose output is a number."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert check("test_demo_parts", lambda: (1.0, 2.0, 3.0)) == 3.0
    points = check("test_demo_parts", lambda: (1.0, 2.0, 4.0))
    assert isinstance(points, float) and points == 2.0
    assert "c: expected 3, got 4" in capsys.readouterr().out, "the feedback is printed"
    assert check("test_demo_parts", contract.stub) == 0.0
    assert check("no_such_item", contract.stub) == 0.0
    assert float(repr(check("test_demo_parts", lambda: (1.0, 2.0, 4.0)))) == 2.0


@pytest.mark.usefixtures("demo_items")
def test_summary_gives_the_points_and_what_is_left():
    check("test_demo_parts", lambda: (1.0, 2.0, 3.0))
    check("test_demo_parts", contract.stub)  # the latest result counts
    check("test_demo_parts", lambda: (1.0, 2.0, 3.0))
    notebook = summary()
    assert (notebook.points, notebook.max_points) == (3, 4)
    assert notebook.left == ["test_demo_buggy"]
    text = str(notebook)
    assert "3/4 points" in text and "test_demo_buggy" in text
    assert "<table>" in notebook._repr_html_()
    everything = summary("99_demo")
    assert [row.status for row in everything.rows] == ["passed", "not checked"]
    assert SCOREBOARD.results["test_demo_parts"].passed


# --- stored answers -----------------------------------------------------------------------------


def test_digests_are_salted_and_normalised():
    assert digest("q", 1 / 3) == digest("q", 0.33333) == digest("q", np.array([0.333333]))
    assert digest("q", -0.0) == digest("q", 0)
    assert digest("q", " ReLU ") == digest("q", "relu")
    assert digest("q", 1) != digest("other", 1), "the grade_id is the salt"
    assert digest("q", (10, 32)) == digest("q", [10, 32]) == digest("q", (np.int64(10), 32))
    assert digest("q", (10, 32)) != digest("q", (32, 10))
    with pytest.raises(TypeError):
        digest("q", [1.5])


def test_check_answer_never_shows_the_answer_nor_hints_at_it(capsys):
    stored = digest("q", 0.25)
    assert check_answer("q", 0.25, stored, "x") == []
    for near in (-0.25, 0.5, 0.125, 0.3):
        assert check_answer("q", near, stored, "x") == [f"x = {near:.4g} is not the answer"]
    assert check_answer("q", None, stored, "x") == ["x is None: did you forget to `return` it?"]
    assert "a list" in check_answer("q", [0.25], stored, "x")[0]
    assert "0.25" not in stored
    assert answers_module.main(["q", "0.25"]) == 0
    assert capsys.readouterr().out.strip() == stored


# --- shortcuts earn nothing: forbidden uses, found in the source ------------------------------

LSE = ["bpcourse.activations.logsumexp"]
SAYS = "`f` calls bpcourse.activations.logsumexp"

ESCAPES = {
    "a direct call": (
        "import bpcourse.activations\ndef f(z):\n    return bpcourse.activations.logsumexp(z)",
        "(import bpcourse.activations)",
    ),
    "a module alias": (
        "import bpcourse.activations as A\ndef f(z):\n    return A.logsumexp(z)",
        "(imported as A)",
    ),
    "a function alias": (
        "from bpcourse.activations import logsumexp as lse\ndef f(z):\n    return lse(z)",
        "(imported as lse)",
    ),
    "from bpcourse import activations": (
        "from bpcourse import activations\ndef f(z):\n    return activations.logsumexp(z)",
        "(from bpcourse import activations)",
    ),
    "a star import": (
        "from bpcourse.activations import *\ndef f(z):\n    return logsumexp(z)",
        "(from bpcourse.activations import *)",
    ),
    "getattr with a constant": (
        "import bpcourse.activations as A\ndef f(z):\n    return getattr(A, 'logsumexp')(z)",
        "through getattr(…, 'logsumexp')",
    ),
    "__import__": (
        "def f(z):\n    return __import__('bpcourse.activations').activations.logsumexp(z)",
        "through __import__('bpcourse.activations')",
    ),
    "importlib.import_module": (
        "import importlib\ndef f(z):\n    m = importlib.import_module('bpcourse.activations')\n"
        "    return m.logsumexp(z)",
        "through import_module('bpcourse.activations'), assigned to m",
    ),
    "import_module under an alias": (
        "from importlib import import_module as im\ndef f(z):\n"
        "    return im('bpcourse.activations').logsumexp(z)",
        "through import_module('bpcourse.activations')",
    ),
    "sys.modules": (
        "import sys\ndef f(z):\n    return sys.modules['bpcourse.activations'].logsumexp(z)",
        "through sys.modules['bpcourse.activations']",
    ),
    "a module attribute kept in a global": (
        "import bpcourse.activations as A\nL = A.logsumexp\ndef f(z):\n    return L(z)",
        "(assigned to L)",
    ),
    "an import inside the function": (
        "def f(z):\n    from bpcourse.activations import logsumexp\n    return logsumexp(z)",
        "(from bpcourse.activations import logsumexp)",
    ),
    "a helper, followed transitively": (
        "from bpcourse.activations import logsumexp as lse\ndef g(z):\n    return lse(z)\n"
        "def h(z):\n    return g(z) + 0\ndef f(z):\n    return h(z)",
        "in its helper `g` (imported as lse)",
    ),
    "a lambda helper": (
        "import bpcourse.activations as A\ng = lambda z: A.logsumexp(z)\n"
        "def f(z):\n    return g(z)",
        "in its helper `g`",
    ),
    "a reference passed on, not called": (
        "import bpcourse.activations as A\nimport numpy as np\ndef f(z):\n"
        "    return np.apply_along_axis(A.logsumexp, 0, z)",
        "(imported as A)",
    ),
    "a cell with a magic and one that does not parse": (
        "%matplotlib inline\ndef broken(:\n    pass\nimport bpcourse.activations as A\n"
        "def f(z):\n    return A.logsumexp(z)",
        "(imported as A)",
    ),
}


@pytest.mark.parametrize("route", ESCAPES)
def test_every_route_to_a_forbidden_function_is_found_and_named(route):
    source, how = ESCAPES[route]
    (message,) = forbidden_uses(source, "f", LSE)
    assert message.startswith(SAYS), message
    assert how in message
    assert "write it yourself" in message


def test_a_computed_getattr_on_a_module_holding_forbidden_code_is_reported():
    source = (
        "import bpcourse.activations as A\ndef f(z):\n    return getattr(A, 'log' + 'sumexp')(z)"
    )
    (message,) = forbidden_uses(source, "f", LSE)
    assert "looks up a name in bpcourse.activations" in message and "computed name" in message


def test_a_whole_module_can_be_forbidden_and_re_exports_are_seen_through():
    source = "import bpcourse\ndef f(y, t):\n    return bpcourse.losses.mse(y, t)"
    (message,) = forbidden_uses(source, "f", ["bpcourse.losses"])
    assert message.startswith("`f` calls bpcourse.losses.mse (import bpcourse)")
    assert message.endswith("without bpcourse.losses")
    source = "from bpcourse import get_loss\ndef f(y, t):\n    return get_loss('mse')(y, t)"
    assert "bpcourse.losses.get_loss" in forbidden_uses(source, "f", ["bpcourse.losses"])[0]


CLEAN = {
    "a local variable named like the function": (
        "from bpcourse.activations import logsumexp\nimport numpy as np\ndef f(z):\n"
        "    logsumexp = np.log(np.sum(np.exp(z)))\n    return logsumexp"
    ),
    "the learner's own function of the same name": (
        "from bpcourse.activations import logsumexp\nimport numpy as np\n"
        "def logsumexp(z):\n    return np.log(np.exp(z).sum())\ndef f(z):\n    return logsumexp(z)"
    ),
    "a comment or a string": (
        "import numpy as np\ndef f(z):\n    # unlike bpcourse.activations.logsumexp(z)\n"
        "    note = 'bpcourse.activations.logsumexp'\n    return np.log(np.exp(z).sum())"
    ),
    "another function of the same module": (
        "import bpcourse.activations as A\ndef f(z):\n    return A.sigmoid(z)"
    ),
    "a parameter of that name": (
        "from bpcourse.activations import logsumexp\ndef f(z, logsumexp=None):\n    return z"
    ),
    "a helper the answer never calls": (
        "from bpcourse.activations import logsumexp\ndef g(z):\n    return logsumexp(z)\n"
        "def f(z):\n    return z"
    ),
    "a loop variable and a comprehension of that name": (
        "from bpcourse.activations import logsumexp\ndef f(z):\n"
        "    total = [logsumexp for logsumexp in z]\n    for logsumexp in z:\n        pass\n"
        "    return total"
    ),
    "no such function in the source": "import bpcourse.activations as A\nx = A.logsumexp",
}


@pytest.mark.parametrize("case", CLEAN)
def test_no_false_positives(case):
    assert forbidden_uses(CLEAN[case], "f", LSE) == []


def test_a_forbidden_method_of_the_librarys_objects_is_found_under_any_receiver():
    for body in ("root.backward()", "getattr(root, 'backward')()", "r = root\n    r.backward()"):
        source = f"def f(root):\n    {body}\n"
        (message,) = forbidden_uses(source, "f", [".backward"])
        assert message.startswith("`f` calls .backward(), the library's own method")
    clean = "def f(root):\n    for n in reversed(order(root)):\n        n._backward()\n"
    assert forbidden_uses(clean, "f", [".backward"]) == []


def test_the_last_definition_of_the_answer_counts():
    source = (
        "import bpcourse.activations as A\ndef f(z):\n    return A.logsumexp(z)\n"
        "import numpy as np\ndef f(z):\n    return np.log(np.exp(z).sum())"
    )
    assert forbidden_uses(source, "f", LSE) == []


@pytest.fixture
def shortcut_item():
    @item("test_demo_lse", 2, notebook="99_demo", forbid=LSE)
    def check_lse(f):
        value = call_safely(f, np.array([1.0, 2.0]))
        return compare_number(float(np.log(np.exp(1.0) + np.exp(2.0))), value, "f(z)")

    yield ITEMS["test_demo_lse"]
    ITEMS.pop("test_demo_lse")


LEARNER_CELLS = """\
import numpy as np
import bpcourse.activations as A
from bpcourse.activations import logsumexp as lse


def helper(z):
    return lse(z)


def honest(z):
    m = z.max()
    return m + np.log(np.exp(z - m).sum())


def shortcut(z):
    return helper(z)
"""


def ipython_cell(code: str, tag: str) -> dict:
    """Run `code` as IPython runs a cell: compiled from a fake file registered in linecache."""
    import linecache

    filename = f"<ipython-input-{tag}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)
    return namespace


def test_an_item_with_forbid_scores_0_and_names_the_call_read_from_live_functions(shortcut_item):
    cell = ipython_cell(LEARNER_CELLS, "forbid-1")
    honest = check("test_demo_lse", cell["honest"])
    assert honest.passed, str(honest)
    result = check("test_demo_lse", cell["shortcut"])
    assert (result.status, result.points) == ("failed", 0)
    assert result.messages == [
        "`shortcut` calls bpcourse.activations.logsumexp in its helper `helper` (imported as "
        "lse): this item asks you to write it yourself"
    ]


def test_the_grader_passes_the_notebooks_source(shortcut_item):
    def shortcut(z):  # what crosses from the kernel: a data function
        return float(np.log(np.exp(z).sum()))

    assert shortcut_item.run(shortcut, source=LEARNER_CELLS).points == 0
    assert shortcut_item.run(shortcut, source=LEARNER_CELLS.replace("helper(z)\n", "0\n")).passed


def test_a_function_whose_source_is_unknown_is_not_penalised(shortcut_item):
    namespace: dict = {}
    exec(LEARNER_CELLS, namespace)  # compiled from a string: no source to read
    assert check("test_demo_lse", namespace["shortcut"]).passed


# --- adapters: only data crosses ---------------------------------------------------------------


def value_square_probe(answer):
    """A data-in, data-out function around a learner's function of a Value."""

    def probe(x: float) -> dict:
        v = Value(x)
        out = answer(v)
        out.backward()
        return {"data": out.data, "grad": v.grad}

    return probe


@pytest.fixture
def adapted_item():
    @item("test_demo_adapter", 1, notebook="99_demo", adapter=value_square_probe)
    def check_square(square):
        got = call_safely(square, 3.0)
        if not isinstance(got, dict):
            return [f"got {got!r}"]
        return compare_number(9.0, got["data"], "data") + compare_number(6.0, got["grad"], "grad")

    yield ITEMS["test_demo_adapter"]
    ITEMS.pop("test_demo_adapter")


def test_check_applies_the_adapter_and_the_checker_sees_only_data(adapted_item):
    assert adapted_item.adapter is value_square_probe
    assert check("test_demo_adapter", lambda v: v * v).passed
    wrong = check("test_demo_adapter", lambda v: v * 3)
    assert "grad: expected 6, got 3" in str(wrong)
    assert check("test_demo_adapter", contract.stub).status == "not attempted"
    assert check("test_demo_adapter", None).status == "failed"


def test_an_adapter_must_be_a_module_level_function():
    with pytest.raises(ValueError, match="module-level"):
        item("test_demo_bad_adapter", 1, adapter=lambda answer: answer)


# --- conceptual questions ------------------------------------------------------------------------


@pytest.fixture
def questions():
    from bpcourse.checking.answers import question

    question(
        "test_q_shape",
        1,
        "99_demo",
        digest("test_q_shape", (10, 32)),
        kind="shape",
        revisit="the shape rule of W(l)",
    )
    question(
        "test_q_letter",
        1,
        "99_demo",
        digest("test_q_letter", "b"),
        kind="letter",
        revisit="what backpropagation computes",
    )
    question(
        "test_q_number",
        1,
        "99_demo",
        digest("test_q_number", 0.25),
        kind="number",
        revisit="the derivative of σ at 0",
    )
    yield
    for grade_id in ("test_q_shape", "test_q_letter", "test_q_number"):
        ITEMS.pop(grade_id)


@pytest.mark.usefixtures("questions")
@pytest.mark.parametrize(
    ("grade_id", "right", "wrongs", "kind"),
    [
        ("test_q_shape", (10, 32), [(32, 10), (10,), [10, 31]], "a tuple of whole numbers"),
        ("test_q_letter", " B ", ["a", "c", "d"], "one letter"),
        ("test_q_number", 0.25, [-0.25, 0.5, 0.125, 1.0], "a number"),
    ],
)
def test_a_question_is_checked_by_digest_and_a_wrong_answer_reveals_nothing(
    grade_id, right, wrongs, kind
):
    assert check(grade_id, lambda: right).passed
    assert check(grade_id, contract.stub).status == "not attempted"
    for wrong in wrongs:
        result = check(grade_id, lambda wrong=wrong: wrong)
        assert result.points == 0
        (message,) = result.messages
        assert "is not the answer: revisit" in message
        assert "sign" not in message and "×" not in message and "too" not in message
        assert repr(right).strip() not in message.replace(repr(wrong), "")
    for bad in (None, "x", 1.5, object()):
        result = check(grade_id, lambda bad=bad: bad)
        assert result.points == 0 and result.messages and not result.details


@pytest.mark.usefixtures("questions")
def test_a_question_says_what_kind_of_answer_it_wants():
    assert "one letter" in check("test_q_letter", lambda: "e").messages[0]
    assert "a tuple of whole numbers" in check("test_q_shape", lambda: "10x32").messages[0]
    assert "did you forget to `return`" in check("test_q_number", lambda: None).messages[0]


# --- the docstring's example uses these --------------------------------------------------------


def dense_backward(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def dense_backward_with(slip):
    def answer(dZ, X, W):
        dX, dW, db = dZ @ W, dZ.T @ X, dZ.sum(axis=0)
        if slip == "transpose":
            dW = X.T @ dZ
        return dX, dW, db

    return answer


# --- the package docstring's example is real code ----------------------------------------------


def docstring_code_blocks() -> list[str]:
    """The code blocks of bpcourse.checking's docstring (indented 7 spaces, in the steps)."""
    blocks, current = [], []
    for line in (bpcourse.checking.__doc__ or "").splitlines():
        if line.startswith(" " * 7) or (current and not line.strip()):
            current.append(line[7:])
        elif current:
            blocks.append("\n".join(current).strip())
            current = []
    return blocks


def test_the_docstrings_graded_item_works_as_written():
    solution, check_cell, checker = docstring_code_blocks()
    assert check_cell == 'check("dense_backward", dense_backward)'
    namespace = {"np": np, "NOTEBOOK": "99_doc", "item": item, "call_safely": call_safely}
    namespace |= {"expect_tuple": expect_tuple, "compare_gradient": compare_gradient}
    namespace["numerical_gradient"] = numerical_gradient
    exec(solution, namespace)
    exec(checker.replace('@item("dense_backward"', '@item("test_doc_example"'), namespace)
    try:
        assert check("test_doc_example", namespace["dense_backward"]).points == 3
        assert check("test_doc_example", contract.stub).status == "not attempted"
        wrong = check("test_doc_example", dense_backward_with("transpose"))
        assert "did you forget a transpose" in str(wrong)
    finally:
        ITEMS.pop("test_doc_example")


def test_forbidding_a_whole_module_does_not_import_it():
    """The grader checks every submission for shortcuts: a forbidden module that the answer
    never touches is named, not run (bpcourse.widgets would load matplotlib, scipy.special
    most of SciPy); a use of it is still found."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from bpcourse.checking.shortcuts import forbidden_uses\n"
        "clean = 'import numpy as np\\ndef f(z):\\n    return np.tanh(z)'\n"
        "used = 'import bpcourse.widgets as W\\ndef f(z):\\n    return W.x(z)'\n"
        "mods = ['bpcourse.widgets', 'scipy.special', 'bpcourse.plots']\n"
        "assert forbidden_uses(clean, 'f', mods) == []\n"
        "print(sorted(m for m in ('matplotlib', 'scipy.special') if m in sys.modules))\n"
        "print(len(forbidden_uses(used, 'f', mods)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "1"]
