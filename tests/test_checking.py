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
from bpcourse.activations import relu, sigmoid, softmax
from bpcourse.autodiff import Value
from bpcourse.checking import (
    GRADER,
    ITEMS,
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
    item,
    last_contribution_only,
    load_items,
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
        (RIGHT.T, "is the transpose of the right answer"),
        (-RIGHT, "has the opposite sign"),
        (2 * RIGHT, "is 2 × the right answer: the ½ in ½(y − t)²"),
        (RIGHT / 2, "is ½ × the right answer"),
        (8 * RIGHT, "is N = 8 times too large"),
        (RIGHT / 8, "is N = 8 times too small"),
        (3.7 * RIGHT, "is 3.7 × the right answer: the direction is right"),
    ],
)
def test_diagnose_gradient_recognises_the_built_in_mistakes(wrong, says):
    (diagnosis,) = diagnose_gradient(RIGHT, wrong, "dW", batch_size=8)
    assert diagnosis.startswith("likely mistake: dW ")
    assert says in diagnosis


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


def test_diagnose_gradient_says_nothing_about_an_unrecognised_or_non_finite_answer():
    noise = np.random.default_rng(0).normal(size=RIGHT.shape)
    assert diagnose_gradient(RIGHT, noise, "dW", batch_size=8) == []
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


def test_an_unknown_item_or_a_wrong_number_of_answers_is_feedback():
    result = check("no_such_item", contract.stub)
    assert (
        result.status == "error" and "no graded item 'no_such_item'; known:" in result.messages[0]
    )
    result = check("dense_backward")
    assert result.messages == [
        "call it as check('dense_backward', dense_backward): it takes 1 answer(s), got 0"
    ]


@pytest.mark.parametrize(
    ("variable", "value"), [("BPCOURSE_STRICT", "1"), ("NBGRADER_EXECUTION", "autograde")]
)
def test_strict_mode_raises_for_anything_but_a_pass(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    assert check("relu_backward", relu_backward).passed
    with pytest.raises(AssertionError, match="not attempted"):
        check("relu_backward", contract.stub)
    with pytest.raises(AssertionError, match="mask is missing"):
        check("relu_backward", relu_backward_no_mask)
    with pytest.raises(AssertionError, match="no graded item"):
        check("no_such_item", contract.stub)


def test_strict_mode_is_off_when_the_variable_is_0(monkeypatch):
    monkeypatch.setenv("BPCOURSE_STRICT", "0")
    assert check("relu_backward", contract.stub).status == "not attempted"


def test_summary_gives_the_points_and_what_is_left():
    check("dense_backward", dense_backward)
    check("dense_backward", contract.stub)  # the latest result counts
    check("dense_backward", dense_backward)
    check("two_layer_backward", contract.stub)
    notebook = summary()
    from bpcourse.checking.registry import load_items

    items = [i for i in load_items().values() if i.notebook == ITEMS["dense_backward"].notebook]
    total = sum(i.points for i in items)
    left = [i.grade_id for i in items if i.grade_id != "dense_backward"]
    assert (notebook.points, notebook.max_points) == (3, total)
    assert notebook.left == left and "two_layer_backward" in left
    text = str(notebook)
    assert f"3/{total:g} points" in text and "two_layer_backward" in text
    assert "<table>" in notebook._repr_html_()
    everything = summary("05_activations_and_losses")
    ex05 = [i.grade_id for i in load_items().values() if i.notebook == "05_activations_and_losses"]
    assert everything.left == ex05 and "relu_backward" in ex05
    assert [row.status for row in everything.rows] == ["not checked"] * len(ex05)
    assert GRADER.results["dense_backward"].passed


def test_items_are_registered_with_their_notebooks_and_points():
    items = load_items()
    assert {i: (items[i].notebook[:2], items[i].points) for i in EXAMPLE_ITEMS} == {
        "chain_rule_derivative": ("01", 2),
        "value_sin_backward": ("02", 2),
        "reverse_mode_passes": ("02", 1),
        "dense_backward": ("04", 3),
        "two_layer_backward": ("04", 4),
        "relu_backward": ("05", 2),
        "softmax_cross_entropy_grad": ("05", 2),
    }


# --- stored answers -----------------------------------------------------------------------------


def test_digests_are_salted_and_normalised():
    assert digest("q", 1 / 3) == digest("q", 0.33333) == digest("q", np.array([0.333333]))
    assert digest("q", -0.0) == digest("q", 0)
    assert digest("q", " ReLU ") == digest("q", "relu")
    assert digest("q", 1) != digest("other", 1), "the grade_id is the salt"
    with pytest.raises(TypeError):
        digest("q", [1])


def test_check_answer_never_shows_the_answer_but_spots_sign_and_factor_2(capsys):
    stored = digest("q", 0.25)
    assert check_answer("q", 0.25, stored, "x") == []
    assert check_answer("q", -0.25, stored, "x") == [
        "x = -0.25 is not the answer, but close: the sign is wrong"
    ]
    assert "2 × too large" in check_answer("q", 0.5, stored, "x")[0]
    assert check_answer("q", 0.3, stored, "x") == ["x = 0.3 is not the answer"]
    assert check_answer("q", None, stored, "x") == ["x is None: did you forget to `return` it?"]
    assert "a list" in check_answer("q", [0.25], stored, "x")[0]
    assert "0.25" not in stored
    assert answers_module.main(["q", "0.25"]) == 0
    assert capsys.readouterr().out.strip() == stored


# --- the example items, as learners meet them -------------------------------------------------
# Right answers, written as a learner would.


def chain_rule_derivative(x):
    return 2 * x * math.cos(x**2)


def sin(x):
    out = Value(math.sin(x.data))
    out.parents, out.op = (x,), "sin"

    def _backward():
        x.grad += math.cos(x.data) * out.grad

    out._backward = _backward
    return out


def backward_passes():
    return 1


def dense_backward(dZ, X, W):
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def two_layer_backward(X, T, W1, b1, W2, b2, slip=""):
    A1 = sigmoid(X @ W1.T + b1)
    A2 = sigmoid(A1 @ W2.T + b2)
    d2, d1 = A2 * (1 - A2), A1 * (1 - A1)
    if slip == "z(1-z)":
        Z1, Z2 = X @ W1.T + b1, A1 @ W2.T + b2
        d2, d1 = Z2 * (1 - Z2), Z1 * (1 - Z1)
    D2 = (A2 - T) / len(X) * (1.0 if slip == "no output f'" else d2)
    D2 = 2 * D2 if slip == "factor 2" else D2
    D1 = (D2 @ W2) * (1.0 if slip == "no hidden f'" else d1)
    return D1.T @ X, D1.sum(axis=0), D2.T @ A1, D2.sum(axis=0)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def relu_backward_no_mask(dA, Z):
    return dA


def softmax_cross_entropy_grad(Z, Y):
    return (softmax(Z) - Y) / len(Z)


RIGHT_ANSWERS = {
    "chain_rule_derivative": chain_rule_derivative,
    "value_sin_backward": sin,
    "reverse_mode_passes": backward_passes,
    "dense_backward": dense_backward,
    "two_layer_backward": two_layer_backward,
    "relu_backward": relu_backward,
    "softmax_cross_entropy_grad": softmax_cross_entropy_grad,
}
EXAMPLE_ITEMS = list(RIGHT_ANSWERS)


@pytest.mark.parametrize("grade_id", EXAMPLE_ITEMS)
def test_the_right_answer_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT_ANSWERS[grade_id])


def sin_stub(x):
    out = Value(math.sin(x.data))
    out.parents, out.op = (x,), "sin"

    def _backward():
        # YOUR CODE HERE
        raise NotImplementedError()

    out._backward = _backward
    return out


@pytest.mark.parametrize("grade_id", EXAMPLE_ITEMS)
def test_the_exercise_stub_is_not_attempted_and_costs_nothing_but_points(grade_id):
    contract.assert_not_attempted(
        grade_id, sin_stub if grade_id == "value_sin_backward" else contract.stub
    )


def wrong_tuple(n):
    return lambda *args: tuple(np.ones(2) for _ in range(n))


BAD_ANSWERS = {
    **contract.BAD,
    "returns a string": lambda *args: "dW",
    "returns too few values": wrong_tuple(2),
    "returns too many values": wrong_tuple(7),
}


@pytest.mark.parametrize("grade_id", EXAMPLE_ITEMS)
@pytest.mark.parametrize("bad", list(BAD_ANSWERS))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_ANSWERS[bad])
    if bad == "raises":
        contract.assert_raise_is_reported(result)


def dense_backward_with(slip):
    def answer(dZ, X, W):
        dX, dW, db = dZ @ W, dZ.T @ X, dZ.sum(axis=0)
        if slip == "transpose":
            dW = X.T @ dZ
        if slip == "mean":
            dW, db = dW / len(X), db / len(X)
        if slip == "sign":
            dX = -dX
        if slip == "axis":
            db = dZ.sum(axis=1)
        if slip == "=":
            for n in range(len(X)):
                dW = np.outer(dZ[n], X[n])
        return dX, dW, db

    return answer


def two_layer_with(slip):
    return lambda *args: two_layer_backward(*args, slip=slip)


def sin_with(slip):
    def op(x):
        out = Value(math.sin(x.data))
        out.parents, out.op = (x,), "sin"

        def _backward():
            if slip == "=":
                x.grad = math.cos(x.data) * out.grad
            else:  # forgot out.grad
                x.grad += math.cos(x.data)

        out._backward = _backward
        return out

    return op


WRONG_ANSWERS = [
    ("dense_backward", dense_backward_with("transpose"), "did you forget a transpose"),
    ("dense_backward", dense_backward_with("mean"), "dW and db: each is N = 5 times too small"),
    ("dense_backward", dense_backward_with("sign"), "dX has the opposite sign"),
    ("dense_backward", dense_backward_with("axis"), "db sums dZ over the batch, axis=0"),
    (
        "dense_backward",
        dense_backward_with("="),
        "dW equals the contribution of the last "
        "example of the batch only: did you write `=` where `+=` belongs?",
    ),
    (
        "two_layer_backward",
        two_layer_with("no hidden f'"),
        "dW1 and db1: each equals the answer "
        "without the activation derivative σ'(z1) of the hidden layer",
    ),
    (
        "two_layer_backward",
        two_layer_with("no output f'"),
        "each equals the answer without the activation derivative σ'(z2) of the output layer",
    ),
    ("two_layer_backward", two_layer_with("z(1-z)"), "each uses z(1 − z) for σ'(z)"),
    ("two_layer_backward", two_layer_with("factor 2"), "each is 2 × the right answer"),
    (
        "relu_backward",
        lambda dA, Z: dA * (dA > 0),
        "applies the mask from the wrong side: it comes from the upstream gradient (dA > 0)",
    ),
    ("relu_backward", relu_backward_no_mask, "the ReLU mask is missing"),
    ("relu_backward", lambda dA, Z: dA * (Z < 0), "the mask is inverted"),
    ("relu_backward", lambda dA, Z: dA * relu(Z), "instead of its derivative"),
    ("softmax_cross_entropy_grad", lambda Z, Y: softmax(Z) - Y, "dZ is N = 6 times too large"),
    ("softmax_cross_entropy_grad", lambda Z, Y: (Z - Y) / len(Z), "uses the logits z"),
    ("softmax_cross_entropy_grad", lambda Z, Y: (Y - softmax(Z)) / len(Z), "opposite sign"),
    ("value_sin_backward", sin_with("="), "did you write `=` where `+=` belongs?"),
    ("value_sin_backward", sin_with("no out.grad"), "without out.grad"),
    ("chain_rule_derivative", lambda x: math.cos(x**2), "is the outer derivative only"),
    ("chain_rule_derivative", lambda x: -2 * x * math.cos(x**2), "has the opposite sign"),
    ("reverse_mode_passes", lambda: 2, "it is 2 × too large"),
]


@pytest.mark.parametrize(
    ("grade_id", "answer", "diagnosis"),
    WRONG_ANSWERS,
    ids=[f"{g}: {d[:30]}" for g, _, d in WRONG_ANSWERS],
)
def test_known_wrong_answers_fail_with_the_diagnosis_of_their_mistake(grade_id, answer, diagnosis):
    contract.assert_fails_with(grade_id, answer, diagnosis)


def test_a_partly_right_answer_gets_partial_credit_and_is_told_what_is_right():
    result = check("dense_backward", dense_backward_with("sign"))
    assert result.points == 2
    assert result.messages[-1] == "right: dW, db"


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
