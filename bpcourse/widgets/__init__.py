r"""Interactive explorers for the lessons, built on ipywidgets and matplotlib.

| function | lesson | what the learner changes | what they see |
|---|---|---|---|
| `learning_rate_explorer()` | 03 | learning rate $\eta$, steps | ℒ per step, the path of (w, b) |
| `backward_stepper()` | 04 | Next / Back | each $\delta$ and gradient, its formula and value |
| `activation_explorer()` | 05 | activation, range of z | f and f' from the library's table |
| `training_explorer()` | 06 | data, hidden size, batch size, $\eta$, epochs | loss, regions |
| `gradient_flow_explorer()` | 07 | depth, activation, init, scale | gradient norms |
| `optimiser_race()` | 08 | surface, $\eta$, $\beta$, steps | six optimisers' paths and losses |
| `regularisation_explorer()` | 09 | $\lambda$ (L2, L1), dropout $p$, data size | both curves |
| `batchnorm_training_explorer()` | 10 | depth, $\eta$, weight scale | loss with, without BN |
| `bptt_explorer()` | 11 | spectral radius of $W_{hh}$, window k | gradient decay, truncation |
| `convolution_explorer()` | 12 | input, 3×3 kernel, stride, padding, loss | Y, dY, dW, dX |

Each function returns an explorer object that holds its state:

- `.values`: the current settings (a dict), `.controls`: the ipywidgets that change them
  (empty when ipywidgets is missing), `.set(**values)`: change settings from code;
- `.update()`: recompute and redraw (every control's callback calls it; for the training
  explorer it is the Train button that does, the other controls only change `.values`);
- `.figure`: the matplotlib Figure, redrawn by `update()`; `.text()`: the same as words.

**How an explorer is shown, and the static fallback.** `explorer.show(static=None)` (or the
explorer as the last value of a cell) chooses:

- `static=True` or `False`: as asked;
- `static=None`: static if the environment variable `BPCOURSE_STATIC` is `1`, `true` or
  `yes`, or if ipywidgets cannot be imported, or if Python is not running in a Jupyter
  kernel (a plain script, terminal IPython, the tests); interactive otherwise.

Interactive shows the controls above the figure, which every change redraws. Static shows the
figure for the current (default) settings and prints the text, so a notebook run by nbconvert
or read as HTML still shows something meaningful. The interactive display also carries that
picture as a fallback: a saved notebook whose widget state was not stored shows the picture
where the widget would be.

Everything is seeded: the same settings always draw the same figure (the training explorer
trains a fixed number of epochs, never "as many as fit in a time limit").

Modules: `base` (the `Explorer` base, the slider builders, static or interactive), and one
module per lesson: `learning_rate` (03), `backward_stepper` (04), `activation` (05),
`training` (06), `gradient_flow` (07), `optimiser_race` (08), `regularisation` (09),
`batchnorm_training` (10), `bptt` (11), `convolution` (12).
"""

from bpcourse.widgets.activation import ActivationExplorer, activation_explorer
from bpcourse.widgets.backward_stepper import (
    BackpropStep,
    BackwardStepper,
    ForwardBackward,
    backward_stepper,
    forward_backward,
)
from bpcourse.widgets.base import Explorer, figure_png, use_static
from bpcourse.widgets.batchnorm_training import (
    INIT_SCALES,
    BatchNormTrainingExplorer,
    batchnorm_training_explorer,
)
from bpcourse.widgets.bptt import BPTTExplorer, bptt_explorer
from bpcourse.widgets.convolution import ConvolutionExplorer, convolution_explorer
from bpcourse.widgets.gradient_flow import GradientFlowExplorer, gradient_flow_explorer
from bpcourse.widgets.learning_rate import (
    NEURON_START,
    NEURON_T,
    NEURON_X,
    LearningRateExplorer,
    learning_rate_explorer,
    neuron_gradient,
    neuron_loss,
    neuron_minimum,
)
from bpcourse.widgets.optimiser_race import OptimiserRace, optimiser_race
from bpcourse.widgets.regularisation import (
    TRAINING_SIZES,
    RegularisationExplorer,
    regularisation_explorer,
)
from bpcourse.widgets.training import BATCH_SIZES, DATASETS, TrainingExplorer, training_explorer

__all__ = [
    "BATCH_SIZES",
    "DATASETS",
    "INIT_SCALES",
    "NEURON_START",
    "NEURON_T",
    "NEURON_X",
    "TRAINING_SIZES",
    "ActivationExplorer",
    "BPTTExplorer",
    "BackpropStep",
    "BackwardStepper",
    "BatchNormTrainingExplorer",
    "ConvolutionExplorer",
    "Explorer",
    "ForwardBackward",
    "GradientFlowExplorer",
    "LearningRateExplorer",
    "OptimiserRace",
    "RegularisationExplorer",
    "TrainingExplorer",
    "activation_explorer",
    "backward_stepper",
    "batchnorm_training_explorer",
    "bptt_explorer",
    "convolution_explorer",
    "figure_png",
    "forward_backward",
    "gradient_flow_explorer",
    "learning_rate_explorer",
    "neuron_gradient",
    "neuron_loss",
    "neuron_minimum",
    "optimiser_race",
    "regularisation_explorer",
    "training_explorer",
    "use_static",
]
