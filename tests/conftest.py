"""Shared test configuration.

Tests draw with matplotlib's Agg backend, chosen in code so that it does not leak into the
notebook kernels that nbval starts: those use the inline backend, the same one the stored
outputs were made with (`python -m bpcourse.notebooks run ...`), set by the `kernel_env`
plugin (tests/kernel_env.py) even when the caller's environment says MPLBACKEND=Agg.
"""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")
