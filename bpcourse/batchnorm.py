r"""Batch normalisation for dense layers (Ioffe & Szegedy 2015): forward/backward and a layer.

For a batch X of shape (N, F), each feature (column) is normalised with the batch's own
mean and variance, then scaled and shifted by learnable $\gamma, \beta$ of shape (F,):
$$\mu = \frac1N\sum_n x_n,\quad \sigma^2 = \frac1N\sum_n (x_n-\mu)^2,\quad
\hat x_n = \frac{x_n-\mu}{\sqrt{\sigma^2+\epsilon}},\quad y_n = \gamma\,\hat x_n + \beta.$$

Running averages, for evaluation (the PyTorch convention, stated because frameworks differ):
$$\text{running} \leftarrow (1-\text{momentum})\,\text{running}
+ \text{momentum}\cdot\text{batch statistic},$$
with the batch mean for the running mean and the *unbiased* batch variance
$\frac{1}{N-1}\sum_n (x_n-\mu)^2$ for the running variance (the normalisation itself uses
the biased $\sigma^2$ above). In evaluation mode the running averages replace $\mu, \sigma^2$,
so an example's output no longer depends on the rest of its batch.

    out, cache = batchnorm_forward(X, gamma, beta, running_mean, running_var,
                                   momentum=0.1, eps=1e-5, training=True)
    dX, dgamma, dbeta = batchnorm_backward(dOut, cache)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.layers import Layer, Parameter
from bpcourse.validation import ShapeError, check_int, check_positive


def batchnorm_forward(
    X: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    momentum: float = 0.1,
    eps: float = 1e-5,
    training: bool = True,
    *,
    who: str = "batchnorm_forward",
) -> tuple[np.ndarray, Any]:
    """Normalise X (N, F) per feature, then y = gamma * x_hat + beta. Returns (y (N, F), cache).

    In training mode the batch statistics are used and `running_mean`, `running_var` (F,)
    are updated *in place*; in evaluation mode the running averages are used, unchanged.
    """
    if training:
        n = X.shape[0]
        if n < 2:
            raise ShapeError(
                f"{who}: a training-mode batch needs at least 2 examples, got shape {X.shape}: "
                f"the batch variance is undefined for N = {n} (use a larger batch, or "
                "training=False to use the running averages)"
            )
        mean = X.mean(axis=0)
        var = X.var(axis=0)  # biased (divides by N): the variance of this batch
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * n / (n - 1)  # unbiased estimate of the population's
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (X - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)


def batchnorm_backward(dOut: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients (dX (N, F), dgamma (F,), dbeta (F,)) from dOut = dY (N, F).

    $d\beta = \sum_n dY_n$ and $d\gamma = \sum_n dY_n\,\hat x_n$. For dX, per feature, with
    $\sigma = \sqrt{\sigma^2+\epsilon}$: every $\hat x_i$ depends on every $x_j$ through
    $\mu$ and $\sigma$. Since $\partial\mu/\partial x_j = 1/N$ and
    $\partial\sigma/\partial x_j = (x_j-\mu)/(N\sigma) = \hat x_j/N$ (the $\mu$ term drops out
    because $\sum_k (x_k-\mu) = 0$),
    $$\frac{\partial \hat x_i}{\partial x_j}
    = \frac{\delta_{ij} - \frac1N}{\sigma} - \frac{x_i-\mu}{\sigma^2}\,\frac{\hat x_j}{N}
    = \frac1{N\sigma}\left(N\delta_{ij} - 1 - \hat x_i \hat x_j\right).$$
    With $\partial \mathcal L/\partial \hat x_i = \gamma\, dY_i$, the chain rule
    $dX_j = \sum_i \gamma\, dY_i\, \partial \hat x_i/\partial x_j$ gives the compact form
    $$dX = \frac{1}{N}\,\frac{\gamma}{\sigma}\left(N\,dY - \sum_i dY_i
    - \hat x \sum_i dY_i\,\hat x_i\right).$$
    After a forward pass in evaluation mode, $\mu$ and $\sigma$ are constants and
    $dX = dY\,\gamma/\sigma$.
    """
    x_hat, gamma, inv_std, training = cache
    dbeta = dOut.sum(axis=0)
    dgamma = (dOut * x_hat).sum(axis=0)
    if not training:
        return dOut * gamma * inv_std, dgamma, dbeta
    n = dOut.shape[0]
    dX = (gamma * inv_std / n) * (n * dOut - dbeta - x_hat * dgamma)
    return dX, dgamma, dbeta


class BatchNorm(Layer):
    """Batch normalisation of (N, n_features) inputs, with learnable gamma (1s) and beta (0s).

    `running_mean` (0s) and `running_var` (1s) are updated by training-mode forward passes
    (see the module docstring for the convention) and used in evaluation mode. They are
    state, not Parameters: no gradient reaches them.
    """

    kind = "BatchNorm"

    def __init__(
        self,
        n_features: int,
        momentum: float = 0.1,
        eps: float = 1e-5,
        name: str = "bn",
        dtype: np.dtype | type = np.float64,
    ) -> None:
        n_features = check_int(n_features, f"BatchNorm layer {name!r}: n_features")
        check_positive(momentum, f"BatchNorm layer {name!r}: momentum", allow_zero=True)
        if momentum > 1:
            raise ValueError(
                f"BatchNorm layer {name!r}: momentum must be in [0, 1], got {momentum}"
            )
        self.eps = check_positive(eps, f"BatchNorm layer {name!r}: eps")
        self.n_features, self.momentum, self.name = int(n_features), float(momentum), name
        self.gamma = Parameter(np.ones(n_features, dtype=dtype), f"{name}.gamma")
        self.beta = Parameter(np.zeros(n_features, dtype=dtype), f"{name}.beta")
        self.running_mean = np.zeros(n_features, dtype=dtype)
        self.running_var = np.ones(n_features, dtype=dtype)

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ShapeError(
                f"BatchNorm layer {self.name!r} expected input of shape (N, {self.n_features}), "
                f"got shape {X.shape}"
            )
        out, cache = batchnorm_forward(
            X,
            self.gamma.value,
            self.beta.value,
            self.running_mean,
            self.running_var,
            self.momentum,
            self.eps,
            training,
            who=self.describe(),
        )
        return self.remember(out, cache)

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        dX, self.gamma.grad, self.beta.grad = batchnorm_backward(dOut, self.recall(dOut))
        return dX if input_grad else None

    def buffers(self) -> dict[str, np.ndarray]:
        return {
            f"{self.name}.running_mean": self.running_mean,
            f"{self.name}.running_var": self.running_var,
        }

    def parameters(self) -> list[Parameter]:
        return [self.gamma, self.beta]

    def expected_input(self) -> tuple[int, str] | None:
        return 2, f"(N, {self.n_features})"

    def __repr__(self) -> str:
        return f"BatchNorm({self.n_features}, momentum={self.momentum:g}, name={self.name!r})"


# --- the same computation as a graph of elementary nodes (lesson 10) ------------------------

GRAPH_NODES = ("mu", "xc", "sq", "var", "std", "inv_std", "x_hat", "out")


def batchnorm_graph_forward(
    X: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    r"""The training-mode forward pass, one elementary node at a time. Returns (out, nodes).

    $\mu = \frac1N\sum_n x_n$, $x_c = x - \mu$, $s = x_c^2$, $\sigma^2 = \frac1N\sum_n s_n$,
    $\sigma = \sqrt{\sigma^2+\epsilon}$, $\iota = 1/\sigma$, $\hat x = x_c\,\iota$,
    $o = \gamma\hat x + \beta$ (the output: $y$ is the target in this course). X (N, F),
    gamma and beta (F,); every node is kept in `nodes` (keys `GRAPH_NODES`, plus "X", "gamma"
    and "eps") for `batchnorm_graph_backward`.
    Same output as `batchnorm_forward(..., training=True)`, without running averages.
    """
    n = X.shape[0]
    if X.ndim != 2 or n < 2:
        raise ShapeError(
            f"batchnorm_graph_forward: X must have shape (N, F) with N >= 2, got {X.shape}"
        )
    mu = X.sum(axis=0) / n
    xc = X - mu
    sq = xc**2
    var = sq.sum(axis=0) / n
    std = np.sqrt(var + eps)
    inv_std = 1.0 / std
    x_hat = xc * inv_std
    out = gamma * x_hat + beta
    nodes = {"X": X, "gamma": gamma, "eps": np.asarray(eps), "mu": mu, "xc": xc, "sq": sq}
    nodes.update({"var": var, "std": std, "inv_std": inv_std, "x_hat": x_hat, "out": out})
    return out, nodes


def batchnorm_graph_backward(
    dOut: np.ndarray, nodes: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    r"""Reverse mode through the nodes of `batchnorm_graph_forward`, last node first.

    Returns the gradient of the loss with respect to every node, keyed by its name ("X",
    "gamma", "beta" and the `GRAPH_NODES`), each the shape of its node: (N, F) or (F,).
    A node used twice ($x_c$, by $s$ and by $\hat x$) sums the gradients of its two paths;
    a node broadcast over the batch ($\mu$, $\iota$, $\gamma$, $\beta$) sums over the rows.
    """
    X, gamma, xc, var, std = nodes["X"], nodes["gamma"], nodes["xc"], nodes["var"], nodes["std"]
    n = X.shape[0]
    g: dict[str, np.ndarray] = {"out": dOut}
    g["beta"] = dOut.sum(axis=0)  # out = gamma * x_hat + beta, beta broadcast over rows
    g["gamma"] = (dOut * nodes["x_hat"]).sum(axis=0)
    g["x_hat"] = dOut * gamma
    g["inv_std"] = (g["x_hat"] * xc).sum(axis=0)  # x_hat = xc * inv_std
    dxc_direct = g["x_hat"] * nodes["inv_std"]
    g["std"] = -g["inv_std"] / std**2  # inv_std = 1 / std
    g["var"] = g["std"] * 0.5 / np.sqrt(var + nodes["eps"])  # std = sqrt(var + eps)
    g["sq"] = np.broadcast_to(g["var"] / n, X.shape).copy()  # var = sum(sq) / n
    g["xc"] = dxc_direct + 2 * xc * g["sq"]  # sq = xc ** 2: the second path into xc
    g["mu"] = -g["xc"].sum(axis=0)  # xc = X - mu
    g["X"] = g["xc"] + g["mu"] / n  # X reaches out through xc and through mu = sum(X) / n
    return g
