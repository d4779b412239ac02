"""Checks for the graded exercises: feedback that teaches, and points.

For learners
------------
Each graded item of an exercise notebook has a check cell, `check("<grade_id>", answer)`,
where the answer is the function you wrote. It calls your function on its own inputs,
verifies the result against the math (central finite differences, or SymPy), and shows a
`Result`: ✅ passed, ❌ failed, ⏳ not attempted (your function still raises
NotImplementedError) or ⚠️ error (your function raised). When it fails it says what is
wrong (type, dtype, shape, the entry that differs most) and the likely mistake: a missing
transpose, a factor of the batch size N, a flipped sign, a missing activation derivative, a
mask on the wrong side, `=` where `+=` belongs, a stray factor 2. A check never stops the
notebook. `summary()` shows your points and what is left. Grading runs these same checks.

For notebook authors: a complete graded item
--------------------------------------------
1. The solution, in `solutions/NN_topic.ipynb`: a code cell with nbgrader metadata
   `{"schema_version": 3, "solution": true, "grade": false, "locked": false,
   "task": false, "grade_id": "dense_backward_answer"}`. The answer sits between the markers,
   **inside the function body** (the one rule of the generator):

       def dense_backward(dZ, X, W):
           # dZ (N, n_out), X (N, n_in), W (n_out, n_in) -> dX, dW, db
           ### BEGIN SOLUTION
           dX = dZ @ W
           dW = dZ.T @ X
           db = dZ.sum(axis=0)
           ### END SOLUTION
           return dX, dW, db

   `python -m bpcourse.exercises generate` turns the region into
   `# YOUR CODE HERE` / `raise NotImplementedError()`, so the blank exercise defines the
   function, runs to the end, and the check reports "not attempted".

2. The check, the next cell, with `{"schema_version": 3, "grade": true, "solution": false,
   "locked": true, "task": false, "grade_id": "dense_backward", "points": 3}` (grade_id and
   points equal to the item's; the generator verifies it):

       check("dense_backward", dense_backward)

3. The checker, in `bpcourse/checking/items/ex04_backpropagation_through_layers.py`:

       @item("dense_backward", 3, NOTEBOOK, checked_by="agrees with finite differences",
             forbid=("bpcourse.layers",))
       def check_dense_backward(dense_backward):
           rng = np.random.default_rng(4)
           X, W = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
           b, dZ = rng.normal(size=3), rng.normal(size=(5, 3))
           answer = call_safely(dense_backward, dZ, X, W)     # never raises out of check
           dX, dW, db = expect_tuple(answer, 3, "(dX, dW, db)", "dense_backward")

           def loss():                                         # ∂loss/∂Z = dZ
               return float(np.sum(dZ * (X @ W.T + b)))

           return {                                            # one share of the points each
               "dX": compare_gradient(numerical_gradient(loss, X), dX, "dX", layout="(N, n_in)"),
               "dW": compare_gradient(numerical_gradient(loss, W), dW, "dW",
                                      layout="(n_out, n_in)", batch_size=5),
               "db": compare_gradient(numerical_gradient(loss, b), db, "db", layout="(n_out,)"),
           }

   A checker returns a list of messages (all or nothing: [] is full points) or a dict
   {part: messages} (equal shares); it may raise `BadAnswer`. Answer-specific slips go in
   `mistakes=[missing_derivative(...), mask_wrong_side(...), last_contribution_only(...),
   Mistake("text with {name}", value)]`, and the causes of the built-in slips that hold for
   the item as `causes={"sign": ..., "double": ...}`. `forbid=` names the library code the
   answer must not use (an answer that does scores 0, `shortcuts.forbidden_uses`);
   `adapter=` turns an answer that works on objects into a function of data only (see
   `registry`). A conceptual question is `answers.question(grade_id, points, notebook,
   digest, kind=..., revisit=...)`: the learner returns the answer, a salted digest checks it.

Also: one `check` per graded cell, as its last line; the notebook's last cell is
`summary("NN_topic")`; call a learner's function only inside `check(...)` (anywhere else the
blank exercise would stop at its NotImplementedError); grade_ids are unique in the course.

The toolkit
-----------
- `compare_array(expected, got, name, layout=...)`, `compare_number`: what is wrong, in words.
- `diagnose_gradient(expected, got, name, batch_size=..., mistakes=...)`: the mistake
  catalogue; `compare_gradient` runs both.
- `call_safely(fn, *args)`, `expect_tuple`: call the learner's code; a NotImplementedError
  becomes "not attempted", any other exception a one-line summary with the learner's line.
- `@item(grade_id, points, notebook, checked_by, forbid, adapter)`: register a checker;
  `check(grade_id, *answers)`; `Item.run(*answers, source=None)` for the grader.
- `forbidden_uses(source, function, forbidden)`, `source_of(*functions)`: shortcuts.
- `summary()`, `reset()`: the session's points (`SCOREBOARD`).

Modes: with `BPCOURSE_STRICT=1` in the environment (or under `nbgrader validate`), a check
that does not pass raises AssertionError; the solutions are tested this way. Under nbgrader's
autograder (`NBGRADER_EXECUTION=autograde`) a check prints its feedback and returns the
points earned, a number, which nbgrader takes as the cell's partial credit.

Notation, in messages and docstrings: target y, prediction ŷ, loss ℒ (course notation).
"""

from bpcourse.checking.answers import check_answer, digest
from bpcourse.checking.compare import compare_array, compare_number, describe
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    diagnose_gradient,
    last_contribution_only,
    mask_not_applied,
    mask_wrong_side,
    missing_derivative,
)
from bpcourse.checking.registry import (
    ITEMS,
    Item,
    autograde_mode,
    check,
    item,
    load_items,
    strict_mode,
)
from bpcourse.checking.result import Result
from bpcourse.checking.safe import (
    BadAnswer,
    LearnerError,
    NotAttempted,
    StopCheck,
    call_safely,
    expect_tuple,
)
from bpcourse.checking.scoreboard import SCOREBOARD, Scoreboard, Summary, reset, summary
from bpcourse.checking.shortcuts import forbidden_uses, source_of

__all__ = [
    "ITEMS",
    "SCOREBOARD",
    "BadAnswer",
    "Item",
    "LearnerError",
    "Mistake",
    "NotAttempted",
    "Result",
    "Scoreboard",
    "StopCheck",
    "Summary",
    "autograde_mode",
    "call_safely",
    "check",
    "check_answer",
    "compare_array",
    "compare_gradient",
    "compare_number",
    "describe",
    "diagnose_gradient",
    "digest",
    "expect_tuple",
    "forbidden_uses",
    "item",
    "last_contribution_only",
    "load_items",
    "mask_not_applied",
    "mask_wrong_side",
    "missing_derivative",
    "reset",
    "source_of",
    "strict_mode",
    "summary",
]
