"""Import TensorFlow once, quietly: its C++ start-up chatter never reaches the user."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly():
    """Import tensorflow with file descriptor 2 sent to /dev/null for the import only."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a notebook's stream without an fd
        fd = 2
    saved = os.dup(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(null, fd)
        import tensorflow as tf_module
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(null)
    return tf_module


tf = sys.modules["tensorflow"] if "tensorflow" in sys.modules else _import_quietly()
tf.get_logger().setLevel("ERROR")

__all__ = ["tf"]
