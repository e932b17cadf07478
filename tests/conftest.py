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


# The longest runs start first, after the browser tests, so that neither xdist worker is left
# with one of them at the end while the other has nothing to do (seconds in a 2-worker run).
LONG_FIRST = (
    "tests/test_release.py::test_release_wheel",  # ~260 s: build, fresh venv, the tour
    "tests/test_notebooks.py::test_the_english_lab",  # ~200 s
    "tests/test_bench_smoke.py::test_quick_run",  # ~90 s
    "tests/test_scan.py::test_a_scan_killed",  # ~65 s
    "tests/test_scan_visualize.py::test_a_visualising_scan_killed",  # ~65 s
    "tests/test_docs.py::test_examples_run",  # ~50 s
)


def _start_order(item: pytest.Item) -> int:
    """0 for tests/browser/ (one unit of work), then LONG_FIRST's order, then the rest."""
    if item.nodeid.startswith("tests/browser/"):
        return 0
    starts = [i for i, prefix in enumerate(LONG_FIRST, 1) if item.nodeid.startswith(prefix)]
    return starts[0] if starts else len(LONG_FIRST) + 1


def _why_slow(item: pytest.Item) -> str:
    """The reason a slow test gives: its marker's text, else its docstring's "Slow: ..." line."""
    marker = item.get_closest_marker("slow")
    reason = marker.args[0] if marker and marker.args else ""
    doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
    return reason or (doc.splitlines()[0] if doc.startswith("Slow:") else "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every slow test says why it is slow; the longest runs start first.

    A slow test gives its reason as `@pytest.mark.slow("why")` or a docstring "Slow: ...".
    """
    items.sort(key=_start_order)  # stable: otherwise the collection's order
    silent = [
        item.nodeid for item in items if item.get_closest_marker("slow") and not _why_slow(item)
    ]
    if silent:
        raise pytest.UsageError(
            'these slow tests do not say why they are slow; write @pytest.mark.slow("why") '
            "or start the docstring with 'Slow:':\n  " + "\n  ".join(sorted(set(silent)))
        )


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """Under `-n 2 --dist loadgroup`, the browser tests are one unit of work for one worker.

    They run one after another there (one JupyterLab, one Chromium, module-scoped pages
    reused), while the other worker takes the rest test by test. (xdist's own `xdist_group`
    mark renames node ids, which pytest 9 no longer allows, so the group is made here.)
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class BrowserTogether(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "browser" if nodeid.startswith("tests/browser/") else nodeid

    return BrowserTogether(config, log)
