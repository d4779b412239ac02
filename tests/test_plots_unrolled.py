"""The unrolled-RNN diagram: one column per step, the shared weights named, the gradient's paths."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from bpcourse.plots.unrolled import draw_unrolled_rnn


def texts(ax):
    return [t.get_text() for t in ax.texts if type(t).__name__ != "Annotation"]


def test_every_step_has_its_input_state_and_loss_and_the_weights_are_shared():
    ax = draw_unrolled_rnn(T=3)
    labels = texts(ax)
    for t in range(1, 4):
        assert f"$x_{t}$" in labels and f"$h_{t}$" in labels
        assert rf"$\mathcal{{L}}_{t}$" in labels
    assert "$h_0$" in labels and labels.count("$W_{hh}$") == 3
    assert any("the same" in label for label in labels)
    forward = len(texts(ax))
    plt.close("all")
    ax = draw_unrolled_rnn(T=3, backward=True)
    assert len(texts(ax)) == forward and "gradient" in texts(ax)[-1]
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 3 * 3 + 3 * 2  # three forward and two backward arrows per step
    plt.close("all")


def test_a_bad_length_is_refused():
    with pytest.raises(ValueError):
        draw_unrolled_rnn(T=0)
