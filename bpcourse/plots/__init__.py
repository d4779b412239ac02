"""Plotting helpers for the lessons, one concept per module (they import matplotlib, so import
them only to draw: `from bpcourse.plots.training import plot_history`).

- `functions`: a function with its derivative; the activations of the library's table
- `descent`: gradient descent on a 1-D curve and on the contours of a 2-D function
- `training`: loss and accuracy per epoch, the loss of every step to compare batch sizes
- `classification`: decision regions in 2-D, the confusion matrix, a grid of digits
- `network`: a small fully connected network with numbers on its units and weights
- `graph`: the computation graph of a scalar autodiff `Value`
- `gradients`: hidden activations layer by layer, clipping a gradient in 2-D (lesson 07)
- `batchnorm`: batch normalisation's computational graph, with local derivatives, and deep
  training runs with and without it: learning-rate sweep, initial weight scale (lesson 10)
- `unrolled`: a recurrent network unrolled in time, with the gradient's paths (lesson 11)

Every function draws with matplotlib's object-oriented API: it takes an optional `ax`, returns
the Axes (a Figure for a grid of panels), never calls `plt.show()` and never changes rcParams.
This package itself imports nothing, so `import bpcourse.plots` does not load matplotlib.
"""
