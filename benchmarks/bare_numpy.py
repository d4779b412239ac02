"""The yardstick for bench_mlp.py: the same training epoch written as bare NumPy, no library.

The same network (its initial weights copied from an `MLP`), the same batches (`batches`),
the same softmax cross-entropy and the same gradient-descent update, with everything NumPy
allows that a library cannot do while keeping its contract:

- every array is allocated once and reused, every step (a library returns fresh arrays
  that the caller may keep);
- the ReLU overwrites its input and the loss its logits (a library must not change arrays
  that a learner may still hold);
- no checks, no layer objects, no caches, one function.

What it keeps, because any optimiser that leaves the gradient readable must: the update is
θ −= η·g in two passes (η·g into a scratch array, then the subtraction), the gradients
staying in their own arrays.

Its time is what NumPy itself costs outside the matrix products on this machine, with
nothing added: the yardstick for the library's own overhead, and a measure of how close any
NumPy implementation of this epoch can come to the matrix products' rate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.network import MLP
from bpcourse.training import batches


class BareMLP:
    """A ReLU MLP's weights, gradients and every work array of a step, for batches up to `batch`."""

    def __init__(self, net: MLP, batch: int) -> None:
        dense = [p.value.copy() for p in net.parameters()]
        self.W, self.b = dense[0::2], dense[1::2]  # W (n_out, n_in), b (n_out,)
        self.dW = [np.empty_like(W) for W in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        self.scratch = [np.empty_like(p) for p in dense]
        dtype = self.W[0].dtype
        widths = [W.shape[0] for W in self.W]
        self.Z = [np.empty((batch, n), dtype) for n in widths]  # each layer's output, then A
        self.mask = [np.empty((batch, n), bool) for n in widths[:-1]]  # where Z > 0
        self.dA = [np.empty((batch, n), dtype) for n in widths[:-1]]  # gradient, then dZ
        self.X = np.empty((batch, self.W[0].shape[1]), dtype)

    def parameters(self) -> list[np.ndarray]:
        return [p for pair in zip(self.W, self.b, strict=True) for p in pair]

    def step(self, X: np.ndarray, y: np.ndarray, idx: np.ndarray, lr: np.floating) -> float:
        """One gradient-descent step on the rows `idx` of (X, y); returns the batch's loss."""
        n, last = len(idx), len(self.W) - 1
        A = np.take(X, idx, axis=0, out=self.X[:n], mode="clip")
        labels = y[idx]
        inputs = [A]
        for layer, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            Z = np.matmul(A, W.T, out=self.Z[layer][:n])
            Z += b
            if layer < last:
                np.greater(Z, 0, out=self.mask[layer][:n])
                np.maximum(Z, 0, out=Z)
                inputs.append(Z)
            A = Z
        # softmax cross-entropy on labels, in the logits' own array
        rows = np.arange(n)
        A -= A.max(axis=1, keepdims=True)
        correct = A[rows, labels]
        np.exp(A, out=A)
        total = A.sum(axis=1, keepdims=True)
        loss = float(np.log(total).sum() - correct.sum()) / n
        A /= total
        A[rows, labels] -= 1
        A /= n
        dZ = A
        for layer in range(last, -1, -1):
            np.matmul(dZ.T, inputs[layer], out=self.dW[layer])
            np.sum(dZ, axis=0, out=self.db[layer])
            if layer > 0:
                dA = np.matmul(dZ, self.W[layer], out=self.dA[layer - 1][:n])
                dA *= self.mask[layer - 1][:n]
                dZ = dA
        grads = [g for pair in zip(self.dW, self.db, strict=True) for g in pair]
        for p, g, scratch in zip(self.parameters(), grads, self.scratch, strict=True):
            np.multiply(g, lr, out=scratch)
            p -= scratch
        return loss


def bare_epoch_runner(
    net: MLP, X: np.ndarray, y: np.ndarray, batch_size: int, lr: float
) -> tuple[Callable[[int], float], BareMLP]:
    """A function running one epoch of bare NumPy from `net`'s weights (shuffled by `seed`)."""
    bare = BareMLP(net, batch_size)
    rate = X.dtype.type(lr)

    def run(seed: int) -> float:
        total = 0.0
        for idx in batches(len(X), batch_size, np.random.default_rng(seed)):
            total += bare.step(X, y, idx, rate) * len(idx)
        return total / len(X)

    return run, bare


def largest_difference(net: MLP, bare: BareMLP) -> float:
    """max |θ_net − θ_bare| over every parameter: both trained alike, this is round-off."""
    pairs = zip(net.parameters(), bare.parameters(), strict=True)
    return max(float(np.max(np.abs(p.value - q))) for p, q in pairs)
