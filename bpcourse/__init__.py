"""bpcourse: backpropagation from the chain rule to a trained multilayer perceptron.

The library the course's notebooks import. One concept per module:

- `activations`: activation functions and their derivatives (one table)
- `losses`: losses with their gradients, stable at extreme inputs
- `layers`: forward/backward pairs passing a cache; Dense and activation layers
- `init`: weight initialisations (uniform, normal, Xavier/Glorot, He)
- `network`: Sequential networks and the MLP
- `gradcheck`: central-difference gradient checks under the course's tolerance policy
- `optim`: optimisers (gradient descent, momentum, AdaGrad, RMSProp, Adam)
- `surfaces`: 2-D test surfaces (quadratic, Rosenbrock, saddle) and an optimiser's path on one
- `regularization`, `clipping`, `schedules`: L1/L2 penalties, gradient clipping, learning-rate
  schedules
- `dropout`, `batchnorm`, `recurrent`, `conv`: dropout, batch normalisation, a recurrent layer
  with (truncated) backpropagation through time, convolution and pooling
- `training`: full-batch, stochastic and mini-batch training loops with history
- `deep_training`: deep ReLU networks with and without batch norm, trained on the digits
  (lesson 10)
- `diagnostics`: gradient norms, activation statistics, update ratios during training
- `metrics`: predictions, accuracy, confusion matrix
- `data`: XOR, 2-D toy sets, the handwritten digits; one-hot, standardisation
- `autodiff`: a scalar reverse-mode autodiff engine (lesson 02)
- `symbolic`: gradients derived with SymPy (imports SymPy when imported)
- `plots`, `widgets`: figures and interactive explorers for the lessons (matplotlib, ipywidgets)
- `checking`, `exercises`: answer checks for the graded exercises, and the generator that
  makes `exercises/` from `solutions/`; `grading`: the instructor's grader (`bpcourse grade`)
- `notebooks`: run and check the course's notebooks (for maintainers)
- `cli`: the `bpcourse` command over these tools (`bpcourse grade`, `bpcourse exercises
  generate`, `bpcourse notebooks run|check`)

Importing `bpcourse` loads NumPy only; SymPy, matplotlib, ipywidgets and scikit-learn are
imported by the modules that need them, when they are used.
"""

from bpcourse.activations import ACTIVATIONS, get_activation
from bpcourse.batchnorm import BatchNorm
from bpcourse.conv import AvgPool2D, Conv2D, Flatten, MaxPool2D
from bpcourse.dropout import Dropout
from bpcourse.gradcheck import check_layer, check_loss, check_network
from bpcourse.layers import ActivationLayer, Dense, Parameter
from bpcourse.losses import LOSSES, get_loss
from bpcourse.network import MLP, Sequential
from bpcourse.optim import AdaGrad, Adam, GradientDescent, Momentum, RMSProp
from bpcourse.recurrent import RNN, LastStep
from bpcourse.training import History, TrainingDivergedError, evaluate, train

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "RNN",
    "ActivationLayer",
    "AdaGrad",
    "Adam",
    "AvgPool2D",
    "BatchNorm",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GradientDescent",
    "History",
    "LastStep",
    "MaxPool2D",
    "Momentum",
    "Parameter",
    "RMSProp",
    "Sequential",
    "TrainingDivergedError",
    "check_layer",
    "check_loss",
    "check_network",
    "evaluate",
    "get_activation",
    "get_loss",
    "train",
]
