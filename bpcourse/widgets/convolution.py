r"""Lesson 12's explorer: a kernel and an input, the convolution's output and both gradients.

One channel in, one channel out, in float64: X (1, 1, H, W), a kernel W (1, 1, k, k) and a
bias 0. The output Y is computed by the library's `bpcourse.conv.conv2d_forward`, and the
gradients by `bpcourse.conv.conv2d_backward` for the upstream gradient dY of the chosen loss:

- ℒ = Σ Y: dY = 1 everywhere (each output pixel counts once);
- ℒ = ½ Σ Y²: dY = Y;
- ℒ = Y[centre]: dY is 1 at one output pixel and 0 elsewhere, so dW is the window that pixel
  saw, and dX is the (unflipped) kernel placed over that window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.conv import conv2d_backward, conv2d_forward
from bpcourse.widgets.base import Explorer, _ipywidgets, dropdown

__all__ = ["IMAGES", "KERNELS", "LOSSES", "ConvolutionExplorer", "convolution_explorer"]


def _digit_three() -> np.ndarray:
    """A hand-drawn 8x8 digit 3, intensities 0..1 (no data set needed)."""
    rows = [
        "..####..",
        ".#....#.",
        "......#.",
        "...###..",
        "......#.",
        "......#.",
        ".#....#.",
        "..####..",
    ]
    return np.array([[1.0 if c == "#" else 0.0 for c in row] for row in rows])


def _square() -> np.ndarray:
    image = np.zeros((8, 8))
    image[2:6, 2:6] = 1.0
    return image


IMAGES: dict[str, np.ndarray] = {
    "digit 3": _digit_three(),
    "square": _square(),
    "vertical step": np.repeat((np.arange(8) >= 4).astype(float)[None, :], 8, axis=0),
    "single pixel": np.pad(np.ones((1, 1)), ((3, 4), (3, 4))),
}

KERNELS: dict[str, np.ndarray] = {
    "vertical edge (Sobel x)": np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]),
    "horizontal edge (Sobel y)": np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
    "blur (box)": np.full((3, 3), 1.0 / 9.0),
    "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
    "asymmetric (shows the flip)": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, -1.0]]),
}

LOSSES = ("ℒ = Σ Y", "ℒ = ½ Σ Y²", "ℒ = Y[centre]")


def upstream_gradient(loss: str, Y: np.ndarray) -> np.ndarray:
    """dY = ∂ℒ/∂Y (the shape of Y, (1, 1, H_out, W_out)) for one of `LOSSES`."""
    if loss == LOSSES[0]:
        return np.ones_like(Y)
    if loss == LOSSES[1]:
        return Y.copy()
    if loss == LOSSES[2]:
        dY = np.zeros_like(Y)
        dY[0, 0, Y.shape[2] // 2, Y.shape[3] // 2] = 1.0
        return dY
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def loss_value(loss: str, Y: np.ndarray) -> float:
    """ℒ itself, for the chosen loss (the gradient of this is `upstream_gradient`)."""
    if loss == LOSSES[0]:
        return float(Y.sum())
    if loss == LOSSES[1]:
        return float(0.5 * np.sum(Y**2))
    if loss == LOSSES[2]:
        return float(Y[0, 0, Y.shape[2] // 2, Y.shape[3] // 2])
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


class ConvolutionExplorer(Explorer):
    """Pick an input image, a 3x3 kernel, stride, padding and a loss; see Y, dY, dW and dX.

    State (float64 arrays of shape (H, W), the batch and channel axes dropped): `X`, `kernel`,
    `Y` (the output), `dY` (the upstream gradient), `dW` (the kernel's gradient), `dX` (the
    input's gradient), and `db` (a float), all from the library's forward/backward pair.
    """

    title = "convolution explorer"

    def __init__(
        self,
        image: str = "digit 3",
        kernel: str = "vertical edge (Sobel x)",
        stride: int = 1,
        padding: int = 0,
        loss: str = LOSSES[2],
    ) -> None:
        super().__init__()
        for name, value, options in (
            ("image", image, IMAGES),
            ("kernel", kernel, KERNELS),
            ("loss", loss, LOSSES),
        ):
            if value not in options:
                raise ValueError(f"unknown {name} {value!r}; choose one of {list(options)}")
        self.values = {
            "image": image,
            "kernel": kernel,
            "stride": int(stride),
            "padding": int(padding),
            "loss": loss,
        }
        self._start((11, 6.4))

    def _make_controls(self, widgets: Any) -> dict[str, Any]:
        v = self.values
        controls = {
            "image": dropdown(widgets, list(IMAGES), v["image"], "input X"),
            "kernel": dropdown(widgets, list(KERNELS), v["kernel"], "kernel W"),
            "stride": dropdown(widgets, [1, 2], v["stride"], "stride"),
            "padding": dropdown(widgets, [0, 1], v["padding"], "padding"),
            "loss": dropdown(widgets, list(LOSSES), v["loss"], "loss"),
        }
        controls["kernel"].layout.width = "330px"  # its longest name in full
        return controls

    def widget(self) -> Any:
        """Controls in two rows (in one, the kernel's name was cut off), then the figure and
        the text."""
        box = super().widget()
        widgets = _ipywidgets()
        rows = [["image", "kernel"], ["stride", "padding", "loss"]]
        box.children = (
            *(widgets.HBox([self.controls[n] for n in row]) for row in rows),
            *box.children[1:],
        )
        return box

    def compute(self) -> None:
        v = self.values
        self.X = IMAGES[v["image"]].copy()
        self.kernel = KERNELS[v["kernel"]].copy()
        out, cache = conv2d_forward(
            self.X[None, None], self.kernel[None, None], np.zeros(1), v["stride"], v["padding"]
        )
        dY = upstream_gradient(v["loss"], out)
        dX, dW, db = conv2d_backward(dY, cache)
        assert dX is not None
        self.loss = loss_value(v["loss"], out)
        self.Y, self.dY, self.dX, self.dW = out[0, 0], dY[0, 0], dX[0, 0], dW[0, 0]
        self.db = float(db[0])

    def draw(self) -> None:
        axes = self.figure.subplots(2, 3)
        # With stride s the gradients use dY with s - 1 zeros between its entries ("dilated").
        dy = "dY" if self.values["stride"] == 1 else "dY dilated"
        panels = [
            (axes[0, 0], self.X, "input X", "gray_r"),
            (axes[0, 1], self.kernel, "kernel W", "RdBu_r"),
            (axes[0, 2], self.Y, "output Y = X ⋆ W", "RdBu_r"),
            (axes[1, 0], self.dY, "upstream dY = ∂ℒ/∂Y", "RdBu_r"),
            (axes[1, 1], self.dW, f"dW = X ⋆ {dy}", "RdBu_r"),
            (axes[1, 2], self.dX, f"dX = {dy} ∗full W", "RdBu_r"),
        ]
        for ax, array, label, cmap in panels:
            limit = float(np.abs(array).max()) or 1.0  # all zeros: a plain scale, not 1e-12
            low = 0.0 if cmap == "gray_r" else -limit
            image = ax.imshow(array, cmap=cmap, vmin=low, vmax=limit)
            ax.set_title(f"{label}  {array.shape[0]}×{array.shape[1]}", fontsize=10)
            ax.set_xticks(range(array.shape[1]))
            ax.set_yticks(range(array.shape[0]))
            ax.tick_params(labelsize=7)
            self.figure.colorbar(image, ax=ax, shrink=0.8)
            if array.size <= 16:
                for (i, j), value in np.ndenumerate(array):
                    color = "white" if abs(value) > 0.6 * limit else "black"
                    ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8, color=color)
        axes[0, 0].set_ylabel("row i")
        axes[1, 0].set_ylabel("row i")
        for ax in axes[1]:
            ax.set_xlabel("column j")
        self.figure.suptitle(self._settings(), fontsize=10)

    def _settings(self) -> str:
        v = self.values
        return (
            f"{v['image']} ⋆ {v['kernel']}, stride {v['stride']}, padding {v['padding']}; "
            f"{v['loss']} = {self.loss:.4g}; db = Σ dY = {self.db:.4g}"
        )

    def text(self) -> str:
        return (
            f"{self._settings()}\n"
            f"X {self.X.shape} -> Y {self.Y.shape}; dW {self.dW.shape} (the kernel's shape), "
            f"dX {self.dX.shape} (the input's shape)"
        )


convolution_explorer = ConvolutionExplorer  # lesson 12 calls it by this name
