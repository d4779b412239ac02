r"""Convolution, pooling and flattening: forward/backward pairs and the layers built on them.

Images are batches in NCHW layout: X (N, C, H, W), N examples of C channels of H×W pixels.
A convolution's kernel W has shape (C_out, C_in, kh, kw) and its bias b shape (C_out,), as in
PyTorch's `Conv2d`. "Convolution" here means cross-correlation (the kernel is not flipped),
which is what every deep-learning library computes under that name.

    out, cache = conv2d_forward(X, W, b, stride=1, padding=1)
    dX, dW, db = conv2d_backward(dOut, cache)

Everything is vectorised. The forward pass uses *im2col*: every kh×kw window of the (padded)
input becomes one row of a matrix, so the convolution is a single matrix product, exactly
like a Dense layer. The backward pass uses *col2im*, the adjoint of im2col: each window's
gradient is added back onto the input pixels it came from. Both loop over the kh·kw offsets
inside the kernel (9 iterations for a 3×3 kernel), each a whole-array copy or addition, and
never over pixels or examples. Pooling reuses the same two steps on k×k windows.

Stride and padding are the same along the height and the width.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.init import initialise
from bpcourse.layers import ActivationLayer, Dense, Layer, Parameter
from bpcourse.network import Sequential
from bpcourse.validation import ShapeError, check_int

# ---------------------------------------------------------------- shared helpers


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    r"""$\lfloor (\text{size} + 2p - k)/s \rfloor + 1$: output positions along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def _check_images(X: np.ndarray, who: str, layout: str = "(N, C, H, W)") -> None:
    """Raise ShapeError unless X is a 4-D batch of images."""
    if X.ndim == 4:
        return
    hint = ""
    if X.ndim == 3:
        hint = " (a single image needs a batch axis: x[None])"
    elif X.ndim == 2:
        hint = " (flat rows must be reshaped to images first, e.g. X.reshape(-1, 1, 8, 8))"
    raise ShapeError(f"{who} expected input of shape {layout}, got shape {X.shape}{hint}")


def _im2col(X: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    """Every kh×kw window of X (N, C, H, W), zero-padded by `padding`, at `stride`.

    Returns cols (N, H_out, W_out, C, kh, kw): cols[n, i, j] is the window whose top-left
    pixel is (s·i, s·j) in the padded input. For a fixed kernel offset (u, v), the entries
    (u, v) of all windows form one strided slice of the input, so the loop runs over the kh·kw
    offsets only, never over pixels or examples. Internally the image is held channels-last,
    (N, H, W, C), the order of a window's entries, which makes the copies faster.
    """
    Xp = X.transpose(0, 2, 3, 1)  # channels last, (N, H, W, C): a view, not a copy
    if padding:
        Xp = np.pad(Xp, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    N, H, W, C = Xp.shape
    H_out, W_out = (H - kh) // stride + 1, (W - kw) // stride + 1
    cols = np.empty((N, H_out, W_out, C, kh, kw), dtype=X.dtype)
    for u in range(kh):
        for v in range(kw):
            rows, columns = _offset_slices(u, v, stride, H_out, W_out)
            cols[:, :, :, :, u, v] = Xp[:, rows, columns, :]
    return cols


def _col2im(dcols: np.ndarray, shape: tuple[int, ...], stride: int, padding: int = 0) -> np.ndarray:
    """The adjoint of `_im2col`: dX (N, C, H, W) from window gradients (N, H_out, W_out, C, kh, kw).

    The same loop as im2col with the copy reversed: each window entry's gradient is added
    back onto the pixel it was read from (`+=`, so overlapping windows add up). The padding's
    border is then cut off: those pixels were zeros, not inputs.
    """
    N, C, H, W = shape
    _, H_out, W_out, _, kh, kw = dcols.shape
    dXp = np.zeros((N, H + 2 * padding, W + 2 * padding, C), dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            rows, columns = _offset_slices(u, v, stride, H_out, W_out)
            dXp[:, rows, columns, :] += dcols[:, :, :, :, u, v]
    return dXp[:, padding : padding + H, padding : padding + W, :].transpose(0, 3, 1, 2)


def _offset_slices(u: int, v: int, stride: int, H_out: int, W_out: int) -> tuple[slice, slice]:
    """The input rows u, u+s, ..., and columns v, v+s, ..., that kernel offset (u, v) reads."""
    return slice(u, u + stride * H_out, stride), slice(v, v + stride * W_out, stride)


# ---------------------------------------------------------------- convolution


def _check_conv(
    X: np.ndarray, W: np.ndarray, stride: int, padding: int, who: str
) -> tuple[int, int]:
    """Validate a convolution's input against its kernel; return (H_out, W_out)."""
    C_in, kh, kw = W.shape[1:]
    _check_images(X, who, f"(N, {C_in}, H, W)")
    if X.shape[1] != C_in:
        raise ShapeError(
            f"{who} expected {C_in} input channel(s), input of shape (N, {C_in}, H, W), "
            f"got shape {X.shape} with {X.shape[1]} channel(s)"
        )
    H, Wd = X.shape[2:]
    if H + 2 * padding < kh or Wd + 2 * padding < kw:
        raise ShapeError(
            f"{who}: the {kh}x{kw} kernel does not fit the input: a {H}x{Wd} input (shape "
            f"{X.shape}) with padding {padding} is {H + 2 * padding}x{Wd + 2 * padding}, "
            "smaller than the kernel"
        )
    return conv_output_size(H, kh, stride, padding), conv_output_size(Wd, kw, stride, padding)


def conv2d_forward(
    X: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    stride: int = 1,
    padding: int = 0,
    *,
    who: str = "conv2d_forward",
) -> tuple[np.ndarray, Any]:
    r"""2-D cross-correlation. X (N, C_in, H, W), W (C_out, C_in, kh, kw), b (C_out,).

    Returns out (N, C_out, H_out, W_out) and the cache, where, with $\tilde X$ the input
    zero-padded by $p$ on every side,
    $$\text{out}_{n,o,i,j} = b_o + \sum_{c,u,v} W_{o,c,u,v}\,\tilde X_{n,c,\,si+u,\,sj+v},
    \qquad H_{out} = \left\lfloor \frac{H + 2p - k_h}{s} \right\rfloor + 1$$
    (and $W_{out}$ likewise with $k_w$). The rows and columns a stride skips at the far edge
    are ignored, as in PyTorch. Errors name `who` (the layer, when a layer calls it).
    """
    stride = check_int(stride, f"{who}: stride")
    padding = check_int(padding, f"{who}: padding", minimum=0)
    if W.ndim != 4 or b.shape != (W.shape[0],):
        raise ShapeError(
            f"{who} expected W of shape (C_out, C_in, kh, kw) and b of shape (C_out,), "
            f"got W {W.shape} and b {b.shape}"
        )
    H_out, W_out = _check_conv(X, W, stride, padding, who)
    N, C_out = X.shape[0], W.shape[0]
    # im2col: one row per output pixel (n, i, j), holding its window's C_in·kh·kw inputs.
    cols = _im2col(X, W.shape[2], W.shape[3], stride, padding).reshape(N * H_out * W_out, -1)
    out = cols @ W.reshape(C_out, -1).T + b  # (N·H_out·W_out, C_out): a Dense layer's product
    out = out.reshape(N, H_out, W_out, C_out).transpose(0, 3, 1, 2)
    return out, (cols, W, X.shape, stride, padding)


def conv2d_backward(
    dOut: np.ndarray, cache: Any, input_grad: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""From dOut (N, C_out, H_out, W_out): dX (N, C_in, H, W), dW (C_out, C_in, kh, kw), db.

    With $\delta = $ dOut and $\tilde X$ the padded input:

    - the weight gradient is a correlation of the input with $\delta$ (the output grid
      spread out by the stride):
      $\dfrac{\partial L}{\partial W_{o,c,u,v}} = \sum_{n,i,j} \delta_{n,o,i,j}\,
      \tilde X_{n,c,\,si+u,\,sj+v}$, and $\dfrac{\partial L}{\partial b_o} =
      \sum_{n,i,j} \delta_{n,o,i,j}$;
    - the input gradient sends each $\delta$ back through the weights that used it:
      $\dfrac{\partial L}{\partial \tilde X_{n,c,y,x}} = \sum_{o,u,v} W_{o,c,u,v}\,
      \delta_{n,o,\,(y-u)/s,\,(x-v)/s}$, summing only terms whose indices are whole and
      in range. For stride 1 this is a "full" correlation of $\delta$ (zero-padded by
      $k-1$) with the kernel flipped by 180°, i.e. a full convolution of $\delta$ with $W$:
      $\dfrac{\partial L}{\partial \tilde X_{n,c}} = \sum_o \delta_{n,o} \ast_{\text{full}}
      W_{o,c}$. For stride $s$, $\delta$ first gets $s-1$ zeros between its entries.
      Finally the padding's border is cut off: $dX = $ the centre of $d\tilde X$.

    Pass `input_grad=False` to skip dX (returned as None).
    """
    cols, W, X_shape, stride, padding = cache
    C_out = W.shape[0]
    N, _, H_out, W_out = dOut.shape
    dmat = dOut.transpose(0, 2, 3, 1).reshape(-1, C_out)  # one row per output pixel
    dW = (dmat.T @ cols).reshape(W.shape)
    db = dmat.sum(axis=0)
    if not input_grad:
        return None, dW, db
    C_in, kh, kw = W.shape[1:]
    dcols = dmat @ W.reshape(C_out, -1)  # (N·H_out·W_out, C_in·kh·kw): each window's gradient
    dX = _col2im(dcols.reshape(N, H_out, W_out, C_in, kh, kw), X_shape, stride, padding)
    return dX, dW, db


# ---------------------------------------------------------------- pooling


def _check_pool(X: np.ndarray, kernel_size: int, stride: int | None, who: str) -> tuple[int, int]:
    """Validate a pooling of X; return its kernel size and stride (default: the kernel size)."""
    k = check_int(kernel_size, f"{who}: kernel_size")
    s = k if stride is None else check_int(stride, f"{who}: stride")
    _check_images(X, who)
    H, W = X.shape[2:]
    if H < k or W < k:
        raise ShapeError(
            f"{who}: the {k}x{k} pooling window does not fit the {H}x{W} input (shape {X.shape})"
        )
    if (H - k) % s or (W - k) % s:
        raise ShapeError(
            f"{who}: {k}x{k} windows with stride {s} do not tile the {H}x{W} input "
            f"(shape {X.shape}) exactly: H - k and W - k must be multiples of the stride, got "
            f"{H - k} and {W - k}; pad or crop the input, or choose another kernel or stride"
        )
    return k, s


def _pool_windows(X: np.ndarray, k: int, s: int) -> np.ndarray:
    """The k×k windows of X (N, C, H, W) at stride s, as (N, H_out, W_out, C, k·k)."""
    windows = _im2col(X, k, k, s, padding=0)
    return windows.reshape(*windows.shape[:4], k * k)


def max_pool2d_forward(
    X: np.ndarray, kernel_size: int, stride: int | None = None, *, who: str = "max_pool2d_forward"
) -> tuple[np.ndarray, Any]:
    r"""Max over each k×k window. X (N, C, H, W) -> out (N, C, H_out, W_out).

    $\text{out}_{n,c,i,j} = \max_{u,v} X_{n,c,\,si+u,\,sj+v}$, with $H_{out} = (H-k)/s + 1$;
    the stride defaults to the kernel size (windows side by side). The windows must tile the
    input exactly. The cache keeps where each maximum was.
    """
    k, s = _check_pool(X, kernel_size, stride, who)
    windows = _pool_windows(X, k, s)
    argmax = windows.argmax(axis=-1)  # (N, H_out, W_out, C); ties: the first, row-major
    out = np.take_along_axis(windows, argmax[..., None], axis=-1)[..., 0]
    return out.transpose(0, 3, 1, 2), (argmax, X.shape, k, s)


def max_pool2d_backward(dOut: np.ndarray, cache: Any) -> np.ndarray:
    r"""dX (N, C, H, W) from dOut (N, C, H_out, W_out): each window's gradient goes to its max.

    $\partial\,\text{out}_{n,c,i,j}/\partial X$ is 1 at the window's maximum and 0
    elsewhere. When several entries tie for the maximum, the whole gradient goes to the first
    of them (row-major order within the window), the one `np.argmax` picks. Overlapping
    windows (stride < k) add their contributions.
    """
    argmax, shape, k, s = cache
    is_max = argmax[..., None] == np.arange(k * k)  # (N, H_out, W_out, C, k·k), one True each
    dwindows = np.where(is_max, dOut.transpose(0, 2, 3, 1)[..., None], 0)
    return _col2im(dwindows.reshape(*argmax.shape, k, k), shape, s)


def avg_pool2d_forward(
    X: np.ndarray, kernel_size: int, stride: int | None = None, *, who: str = "avg_pool2d_forward"
) -> tuple[np.ndarray, Any]:
    r"""Mean over each k×k window. X (N, C, H, W) -> out (N, C, H_out, W_out).

    $\text{out}_{n,c,i,j} = \frac{1}{k^2}\sum_{u,v} X_{n,c,\,si+u,\,sj+v}$, with
    $H_{out} = (H-k)/s + 1$; the stride defaults to the kernel size.
    """
    k, s = _check_pool(X, kernel_size, stride, who)
    out = _pool_windows(X, k, s).mean(axis=-1)
    return out.transpose(0, 3, 1, 2), (X.shape, k, s)


def avg_pool2d_backward(dOut: np.ndarray, cache: Any) -> np.ndarray:
    r"""dX (N, C, H, W): each window's gradient is shared equally, $1/k^2$ to each entry."""
    shape, k, s = cache
    share = dOut.transpose(0, 2, 3, 1)[..., None, None] / (k * k)  # (N, H_out, W_out, C, 1, 1)
    return _col2im(np.broadcast_to(share, (*share.shape[:4], k, k)), shape, s)


# ---------------------------------------------------------------- flatten


def flatten_forward(X: np.ndarray) -> tuple[np.ndarray, Any]:
    """(N, C, H, W) -> (N, C·H·W), in C order: channel, then row, then column."""
    return X.reshape(X.shape[0], -1), X.shape


def flatten_backward(dOut: np.ndarray, cache: Any) -> np.ndarray:
    """(N, C·H·W) -> (N, C, H, W): the same numbers, put back in the input's shape."""
    return dOut.reshape(cache)


# ---------------------------------------------------------------- layers


class Conv2D(Layer):
    """A 2-D convolution layer: W (C_out, C_in, kh, kw), b (C_out,), on inputs (N, C_in, H, W).

    He initialisation by default, with fan-in C_in·kh·kw (the length of one im2col row).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int = 0,
        init: str = "he_normal",
        seed: np.random.Generator | int | None = 0,
        dtype: np.dtype | type = np.float64,
        name: str = "conv",
    ) -> None:
        who = f"Conv2D layer {name!r}"
        self.in_channels = check_int(in_channels, f"{who}: in_channels")
        self.out_channels = check_int(out_channels, f"{who}: out_channels")
        pair = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
        if len(pair) != 2:
            raise ValueError(f"{who}: kernel_size must be an int or a pair, got {kernel_size!r}")
        self.kernel_size = (
            check_int(pair[0], f"{who}: kernel_size"),
            check_int(pair[1], f"{who}: kernel_size"),
        )
        self.stride = check_int(stride, f"{who}: stride")
        self.padding = check_int(padding, f"{who}: padding", minimum=0)
        self.name = name
        kh, kw = self.kernel_size
        rng = np.random.default_rng(seed)
        W = initialise(init, out_channels, in_channels * kh * kw, rng, dtype=dtype)
        self.W = Parameter(W.reshape(out_channels, in_channels, kh, kw), f"{name}.W")
        self.b = Parameter(np.zeros(out_channels, dtype=dtype), f"{name}.b")

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        W, b, who = self.W.value, self.b.value, self.describe()
        return self.remember(*conv2d_forward(X, W, b, self.stride, self.padding, who=who))

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        dX, self.W.grad, self.b.grad = conv2d_backward(dOut, self.recall(dOut), input_grad)
        return dX

    def parameters(self) -> list[Parameter]:
        return [self.W, self.b]

    def expected_input(self) -> tuple[int, str] | None:
        return 4, f"(N, {self.in_channels}, H, W)"

    def __repr__(self) -> str:
        kh, kw = self.kernel_size
        return (
            f"Conv2D({self.in_channels} -> {self.out_channels}, kernel {kh}x{kw}, "
            f"stride={self.stride}, padding={self.padding}, name={self.name!r})"
        )


class _Pool2D(Layer):
    """Shared by the pooling layers: kernel size, stride (default: the kernel size), checks."""

    kind = "Pool2D"

    def __init__(self, kernel_size: int, stride: int | None = None, name: str = "pool") -> None:
        who = f"{self.kind} layer {name!r}"
        self.kernel_size = check_int(kernel_size, f"{who}: kernel_size")
        self.stride = self.kernel_size if stride is None else check_int(stride, f"{who}: stride")
        self.name = name

    def expected_input(self) -> tuple[int, str] | None:
        return 4, "(N, C, H, W)"

    def __repr__(self) -> str:
        k = self.kernel_size
        return f"{self.kind}({k}x{k}, stride={self.stride}, name={self.name!r})"


class MaxPool2D(_Pool2D):
    """Max pooling over k×k windows; no parameters."""

    kind = "MaxPool2D"

    def __init__(self, kernel_size: int, stride: int | None = None, name: str = "maxpool") -> None:
        super().__init__(kernel_size, stride, name)

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        out = max_pool2d_forward(X, self.kernel_size, self.stride, who=self.describe())
        return self.remember(*out)

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return max_pool2d_backward(dOut, self.recall(dOut))


class AvgPool2D(_Pool2D):
    """Average pooling over k×k windows; no parameters."""

    kind = "AvgPool2D"

    def __init__(self, kernel_size: int, stride: int | None = None, name: str = "avgpool") -> None:
        super().__init__(kernel_size, stride, name)

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        out = avg_pool2d_forward(X, self.kernel_size, self.stride, who=self.describe())
        return self.remember(*out)

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return avg_pool2d_backward(dOut, self.recall(dOut))


class Flatten(Layer):
    """(N, C, H, W) -> (N, C·H·W), so that Dense layers can follow convolutions."""

    def __init__(self, name: str = "flatten") -> None:
        self.name = name

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        _check_images(X, self.describe())
        return self.remember(*flatten_forward(X))

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return flatten_backward(dOut, self.recall(dOut))

    def expected_input(self) -> tuple[int, str] | None:
        return 4, "(N, C, H, W)"

    def __repr__(self) -> str:
        return f"Flatten(name={self.name!r})"


def digits_cnn(
    seed: int | np.random.Generator | None = 0, dtype: np.dtype | type = np.float32
) -> Sequential:
    """The course's small CNN for the 8x8 digits: input (N, 1, 8, 8), 10 logits out.

    conv 3x3 (1 -> 16) -> ReLU -> conv 3x3 (16 -> 32) -> ReLU -> 2x2 max pool -> flatten ->
    dense (32·4·4 -> 10). Padding 1 keeps the 8x8 size through both convolutions. About 9,900
    parameters, half as many as MLP([64, 256, 10]), yet more accurate on the digits (trained
    on images scaled to [0, 1]: `split.images[0][:, None] / 16`).
    """
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Conv2D(1, 16, 3, padding=1, seed=rng, dtype=dtype, name="conv1"),
            ActivationLayer("relu", name="relu1"),
            Conv2D(16, 32, 3, padding=1, seed=rng, dtype=dtype, name="conv2"),
            ActivationLayer("relu", name="relu2"),
            MaxPool2D(2, name="pool"),
            Flatten(),
            Dense(32 * 4 * 4, 10, seed=rng, dtype=dtype, name="dense"),
        ]
    )
