"""Shared test configuration.

The environment variables are set before anything imports matplotlib, and are inherited by
the subprocesses and notebook kernels that the tests start.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")
