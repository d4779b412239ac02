"""The course's graded items, one module per exercise notebook.

Importing this package registers every item (`bpcourse.checking.check` does it on first
use). To add a notebook's items, add its module here; each module sets `NOTEBOOK` to the
notebook's name and passes it to `@item`.
"""

from bpcourse.checking.items import (
    ex01_derivatives_and_the_chain_rule,
    ex02_computational_graphs_and_reverse_mode,
    ex03_one_neuron,
    ex04_backpropagation_through_layers,
    ex05_activations_and_losses,
    ex06_training_a_multilayer_perceptron,
    ex07_vanishing_and_exploding_gradients,
    ex08_optimisers,
    ex09_overfitting_and_regularisation,
    ex10_batch_normalisation,
    ex11_backpropagation_through_time,
    ex12_convolutions,
)

__all__ = [
    "ex01_derivatives_and_the_chain_rule",
    "ex02_computational_graphs_and_reverse_mode",
    "ex03_one_neuron",
    "ex04_backpropagation_through_layers",
    "ex05_activations_and_losses",
    "ex06_training_a_multilayer_perceptron",
    "ex07_vanishing_and_exploding_gradients",
    "ex08_optimisers",
    "ex09_overfitting_and_regularisation",
    "ex10_batch_normalisation",
    "ex11_backpropagation_through_time",
    "ex12_convolutions",
]
