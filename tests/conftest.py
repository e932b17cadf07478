"""Shared pytest set-up: run from a checkout with or without the package installed."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the package is imported in the fixtures, once a test needs it
    import keras
    import numpy as np

    from deconv_widgets.projection import Projector
    from deconv_widgets.widgets import Explorer

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Kernels, Jupyter servers and CLI subprocesses started by tests import this checkout too.
_pp = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _pp.split(os.pathsep):
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + _pp if _pp else "")


@pytest.fixture(scope="session")
def model() -> keras.Model:
    """The zoo's trained shapes CNN, loaded once for the whole session."""
    from deconv_widgets import zoo

    return zoo.shapes_model()


@pytest.fixture(scope="session")
def vgg16_32() -> keras.Model:
    """The zoo's trained VGG16 at 32 x 32 (the weights do not depend on the input size)."""
    from deconv_widgets import zoo

    return zoo.vgg16(32)


@pytest.fixture(scope="module")
def images(request: pytest.FixtureRequest) -> np.ndarray:
    """The module's shapes images: its `IMAGES = (n, random_seed)` for zoo.shapes_images."""
    from deconv_widgets import zoo

    n, random_seed = request.module.IMAGES
    return zoo.shapes_images(n, random_seed=random_seed)[0]


@pytest.fixture(scope="module")
def projector(model: keras.Model) -> Projector:
    """A Projector on the shapes CNN, shared by a module's tests."""
    from deconv_widgets.projection import Projector

    return Projector(model)


@pytest.fixture()
def explorer(model: keras.Model, images: np.ndarray) -> Iterator[Explorer]:
    """A fresh Explorer on the module's images at conv2_1, closed after the test."""
    from deconv_widgets.widgets import Explorer

    widget = Explorer(model, images, layer="conv2_1")
    yield widget
    widget.close()


def _why_slow(item: pytest.Item) -> str:
    """The reason a slow test gives: its marker's text, else its docstring's "Slow: ..." line."""
    marker = item.get_closest_marker("slow")
    reason = (marker.args[0] if marker and marker.args else None) or (
        marker.kwargs.get("reason") if marker else None
    )
    doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
    return reason or (doc.splitlines()[0] if doc.startswith("Slow:") else "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every slow test says why it is slow; the browser tests share one xdist worker.

    A slow test gives its reason as `@pytest.mark.slow("why")` or a docstring "Slow: ...".
    Under `pytest -n 2 --dist loadgroup` the browser tests run one after another on one worker
    (one JupyterLab, one Chromium, their module-scoped pages reused) while the other worker
    takes the rest.
    """
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    silent = [
        item.nodeid for item in items if item.get_closest_marker("slow") and not _why_slow(item)
    ]
    if silent:
        raise pytest.UsageError(
            'these slow tests do not say why they are slow; write @pytest.mark.slow("why") '
            "or start the docstring with 'Slow:':\n  " + "\n  ".join(sorted(set(silent)))
        )
