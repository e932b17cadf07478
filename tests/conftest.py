"""Shared pytest set-up: run from a checkout with or without the package installed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Kernels, Jupyter servers and CLI subprocesses started by tests import this checkout too.
_pp = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _pp.split(os.pathsep):
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + _pp if _pp else "")


@pytest.fixture(scope="session")
def model():
    """The zoo's trained shapes CNN, loaded once for the whole session."""
    from deconv_widgets import zoo

    return zoo.shapes_model()


@pytest.fixture(scope="session")
def vgg16_32():
    """The zoo's trained VGG16 at 32 x 32 (the weights do not depend on the input size)."""
    from deconv_widgets import zoo

    return zoo.vgg16(32)
