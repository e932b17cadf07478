"""Import TensorFlow once, quietly: its C++ start-up chatter never reaches the user."""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _descriptors() -> list[int]:
    """The file descriptors TensorFlow's C++ logging can reach: fd 2, and sys.stderr's own.

    In a Jupyter kernel fd 2 is a pipe that ipykernel forwards to the notebook, while
    `sys.stderr.fileno()` is a copy of the terminal's stderr: both must be silenced.
    """
    fds = [2]
    try:
        own = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        own = None
    if own is not None and own != 2:
        fds.append(own)
    return fds


def _import_quietly() -> ModuleType:
    """Import tensorflow (and run one op) with stderr sent to /dev/null meanwhile."""
    fds = _descriptors()
    saved = [os.dup(fd) for fd in fds]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        for fd in fds:
            os.dup2(null, fd)
        import tensorflow as tf_module

        tf_module.constant(0.0).numpy()  # some start-up lines come with the first op
    finally:
        sys.stderr.flush()
        for fd, copy in zip(fds, saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)
    return tf_module


tf = sys.modules["tensorflow"] if "tensorflow" in sys.modules else _import_quietly()
tf.get_logger().setLevel("ERROR")

__all__ = ["tf"]

Tensor = Any
"""A tf.Tensor in annotations (TensorFlow ships no type information, so mypy sees Any)."""
