"""The three classic tf.gradients examples, with their true results and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """A ready-to-run gradients lab program with its expected gradients and an explanation."""

    program: str
    values: dict[str, Any]
    ys: tuple[str, ...]
    xs: tuple[str, ...]
    grad_ys: list[Any] | None
    expected: dict[str, Any]  # x -> nested list, or None where no path reaches x
    explanation: str
    unconnected: str = "none"
    title: str = ""
    expected_zero: dict[str, Any] = field(default_factory=dict)  # with unconnected="zero"


MATMUL = Example(
    title="Gradient of a matrix product",
    program="y = matmul(W1, [[9], [10]])",
    values={"W1": [[1, 2]]},
    ys=("y",),
    xs=("W1",),
    grad_ys=None,
    expected={"W1": [[9.0, 10.0]]},
    explanation=(
        "y = W1 @ [[9], [10]] = 1*9 + 2*10 = 29, a 1x1 matrix. Nudging W1[0, 0] by e changes y "
        "by 9e and nudging W1[0, 1] by e changes it by 10e, so dy/dW1 = [[9, 10]]: the other "
        "factor, transposed. tf.gradients starts from grad_ys = ones (dy/dy = 1) and multiplies "
        "by the transposed constant on the way back."
    ),
)

GRAD_YS = Example(
    title="grad_ys: weighting several outputs",
    program="y1 = W1 + W2 + W3\ny2 = W3 + W4",
    values={"W1": [1, 2], "W2": [3, 4], "W3": [5, 6], "W4": [7, 8]},
    ys=("y1", "y2"),
    xs=("W1", "W2", "W3", "W4"),
    grad_ys=[[1, 2], [3, 4]],
    expected={"W1": [1.0, 2.0], "W2": [1.0, 2.0], "W3": [4.0, 6.0], "W4": [3.0, 4.0]},
    explanation=(
        "grad_ys is not a value for y: it is the upstream gradient each y starts with, and "
        "tf.gradients returns the gradient of sum_i <grad_ys[i], ys[i]>, i.e. the sum over all "
        "ys. W1 and W2 only reach y1, so they get y1's [1, 2]; W4 only reaches y2 and gets "
        "[3, 4]. W3 reaches both y1 and y2, so its gradient is [1, 2] + [3, 4] = [4, 6]. Notes "
        "that give [3, 4] for W3 forget the path through y1: the contributions of every y add up."
    ),
)

STOP_GRADIENT = Example(
    title="stop_gradient cuts a path",
    program="a = W1 + W2\na_stop = stop_gradient(a)\ny3 = a_stop + W3",
    values={"W1": [1, 2], "W2": [3, 4], "W3": [5, 6]},
    ys=("y3",),
    xs=("W1", "W2", "W3"),
    grad_ys=[[1, 2]],
    expected={"W1": None, "W2": None, "W3": [1.0, 2.0]},
    expected_zero={"W1": [0.0, 0.0], "W2": [0.0, 0.0], "W3": [1.0, 2.0]},
    explanation=(
        "stop_gradient passes its value forward unchanged but acts as a constant on the way "
        "back, so no gradient reaches W1 or W2 through a_stop. W3 is added directly and gets the "
        "upstream [1, 2]. With unconnected_gradients='none' (the default) tf.gradients returns "
        "None for W1 and W2; with 'zero' it returns zeros of their shape. Running it does not "
        "raise an error, whatever some TF1 notes say: None is the answer for 'no path'."
    ),
)

EXAMPLES: dict[str, Example] = {
    "matmul": MATMUL,
    "grad_ys": GRAD_YS,
    "stop_gradient": STOP_GRADIENT,
}

__all__ = ["EXAMPLES", "Example"]
