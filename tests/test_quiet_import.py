"""TensorFlow's C++ start-up lines never reach the user: not in a terminal, not in a notebook."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

SNIPPET = (
    "import deconv_widgets.ops as ops\n"
    "import numpy as np\n"
    "y = np.ones((1, 2, 2, 1), 'float32'); k = np.ones((3, 3, 1, 1), 'float32')\n"
    "print(ops.transpose_conv_steps(y, k, (1, 4, 4, 1)).output.shape)\n"
)


@pytest.mark.slow("a fresh Python that imports TensorFlow (~7 s)")
def test_no_stderr_in_a_terminal():
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "(1, 4, 4, 1)"
    assert done.stderr == ""


@pytest.mark.slow("starts a Jupyter kernel that imports TensorFlow (~8 s)")
def test_no_stderr_in_a_notebook_cell():
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(SNIPPET)]
    NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    streams = [(o.get("name"), o.get("text", "")) for o in nb.cells[0].outputs]
    assert ("stdout", "(1, 4, 4, 1)\n") in streams
    assert not [text for name, text in streams if name == "stderr"], streams


def test_the_lazy_public_names_are_all_of_all():
    import deconv_widgets

    assert sorted(deconv_widgets.__all__) == sorted([*deconv_widgets._LAZY, "__version__"])
    assert dir(deconv_widgets) == sorted(deconv_widgets.__all__)
