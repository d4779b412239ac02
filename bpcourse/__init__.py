"""bpcourse: backpropagation from the chain rule to a trained multilayer perceptron.

The library the course's notebooks import. One concept per module:

- `activations`: activation functions and their derivatives (one table)
- `losses`: losses with their gradients, stable at extreme inputs
- `layers`: forward/backward pairs passing a cache; Dense and activation layers
- `init`: weight initialisations (uniform, normal, Xavier/Glorot, He)
- `network`: Sequential networks and the MLP
- `gradcheck`: central-difference gradient checks under the course's tolerance policy
- `optim`: optimisers (gradient descent and friends)
- `training`: full-batch, stochastic and mini-batch training loops with history
- `metrics`: predictions, accuracy, confusion matrix
- `data`: XOR, 2-D toy sets, the handwritten digits; one-hot, standardisation

Importing `bpcourse` loads NumPy only; SymPy, matplotlib, ipywidgets and scikit-learn are
imported by the modules that need them, when they are used.
"""

from bpcourse.activations import ACTIVATIONS, get_activation
from bpcourse.gradcheck import check_layer, check_loss, check_network
from bpcourse.layers import ActivationLayer, Dense, Parameter
from bpcourse.losses import LOSSES, get_loss
from bpcourse.network import MLP, Sequential
from bpcourse.optim import GradientDescent
from bpcourse.training import History, TrainingDivergedError, train

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "ActivationLayer",
    "Dense",
    "GradientDescent",
    "History",
    "Parameter",
    "Sequential",
    "TrainingDivergedError",
    "check_layer",
    "check_loss",
    "check_network",
    "get_activation",
    "get_loss",
    "train",
]
