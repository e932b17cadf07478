"""Issue 7: bad input to the ops that tests/test_ops_validation.py does not cover yet.

Each case asserts the error type and that the message names the problem and the valid
choices. Together with test_ops_validation.py this is the ops part of the matrix.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from deconv_widgets import ops

X = np.ones((1, 4, 4, 2), np.float32)
POOLED, SWITCHES = ops.max_pool_with_switches(X, 2)
ONE = np.ones((1, 1, 1, 1), np.float32)
K3 = np.ones((3, 3, 1, 1), np.float32)
FORMS = r"an int, a pair \(h, w\) or \(1, h, w, 1\), each >= 1"

# (id, call, error, problem, choices)
CASES = [
    (
        "roundtrip kernel larger than input",
        lambda: ops.conv_roundtrip(X, np.ones((5, 5, 2, 3)), 1, "VALID"),
        ValueError,
        r"kernel size \(5, 5\) is larger than the input's \(H, W\) = \(4, 4\)",
        r"at most \(4, 4\) or padding='SAME'",
    ),
    (
        "roundtrip channels mismatch",
        lambda: ops.conv_roundtrip(X, np.ones((3, 3, 3, 3)), 1, "VALID"),
        ValueError,
        r"kernel has C_in=3 .* x has 2 channels",
        "must match",
    ),
    (
        "roundtrip too large",
        lambda: ops.conv_roundtrip(np.ones((1, 80, 80, 1)), K3),
        ValueError,
        r"6400 numbers per image",
        rf"at most {ops.MAX_ROUNDTRIP_SIZE}",
    ),
    (
        "transpose kernel larger than output",
        lambda: ops.transpose_conv_steps(ONE, K3, (1, 2, 2, 1), 1, "VALID"),
        ValueError,
        r"output height 2 cannot come from a forward VALID convolution with kernel 3",
        r"valid output heights: 3$",
    ),
    (
        "transpose absurd output",
        lambda: ops.transpose_conv_steps(ONE, K3, (1, 10**6, 10**6, 1), 1, "VALID"),
        ValueError,
        r"output height 1000000",
        r"valid output heights: 3$",
    ),
    (
        "transpose stride bool",
        lambda: ops.transpose_conv_steps(ONE, K3, (1, 3, 3, 1), True, "VALID"),
        TypeError,
        r"got True",
        FORMS,
    ),
    (
        "transpose empty kernel",
        lambda: ops.transpose_conv_steps(ONE, np.ones((0, 3, 1, 1)), (1, 3, 3, 1)),
        ValueError,
        r"kernel_size .*got 0",
        r">= 1",
    ),
    (
        "transpose output_shape text",
        lambda: ops.transpose_conv_steps(ONE, K3, "1,3,3,1"),
        TypeError,
        r"got '1,3,3,1'",
        r"sequence of 4 ints",
    ),
    (
        "sizes kernel 0",
        lambda: ops.conv_transpose_output_sizes(3, 0, 1, "VALID"),
        ValueError,
        r"kernel_size must be an int >= 1",
        r"got 0",
    ),
    (
        "sizes stride bool",
        lambda: ops.conv_transpose_output_sizes(3, 2, True, "VALID"),
        TypeError,
        r"got bool True",
        r"stride must be an int >= 1",
    ),
    ("pool size float", lambda: ops.max_pool_with_switches(X, 2.0), TypeError, "got 2.0", FORMS),
    ("pool size text", lambda: ops.max_pool_with_switches(X, "2"), TypeError, "got '2'", FORMS),
    (
        "pool strides 4-form",
        lambda: ops.max_pool_with_switches(X, 2, (1, 2, 2, 2)),
        ValueError,
        r"got \(1, 2, 2, 2\)",
        "1 for batch and channels",
    ),
    (
        "pool complex input",
        lambda: ops.max_pool_with_switches(X.astype(complex)),
        TypeError,
        r"dtype complex128",
        r"real numbers \(float or int\)",
    ),
    (
        "pool empty input",
        lambda: ops.max_pool_with_switches(np.ones((1, 0, 4, 1))),
        ValueError,
        r"larger than the input's \(H, W\) = \(0, 4\)",
        "padding='SAME'",
    ),
    (
        "unpool input_shape rank 3",
        lambda: ops.max_unpool(POOLED, SWITCHES, (4, 4, 2)),
        ValueError,
        r"got \(4, 4, 2\)",
        r"4 entries \(N, H, W, C\)",
    ),
    (
        "unpool input_shape too small",
        lambda: ops.max_unpool(POOLED, SWITCHES, (1, 2, 2, 2)),
        ValueError,
        r"got 0\.\.21",
        r"in 0\.\.7",
    ),
    (
        "unpool batch mismatch",
        lambda: ops.max_unpool(POOLED, SWITCHES, (2, 4, 4, 2)),
        ValueError,
        r"pooled \(N, C\) = \(1, 2\)",
        r"must match input_shape's \(N, C\) = \(2, 2\)",
    ),
    (
        "avg strides 0",
        lambda: ops.avg_unpool(POOLED, X.shape, 2, 0),
        ValueError,
        "got 0",
        "strides must be an int >= 1",
    ),
    ("avg pool text", lambda: ops.avg_unpool(POOLED, X.shape, "2"), TypeError, "got '2'", FORMS),
    (
        "avg channels mismatch",
        lambda: ops.avg_unpool(POOLED, (1, 4, 4, 3)),
        ValueError,
        r"pooled has shape \(1, 2, 2, 2\)",
        r"gives \(1, 2, 2, 3\)",
    ),
    (
        "avg mode None",
        lambda: ops.avg_unpool(POOLED, X.shape, mode=None),
        ValueError,
        "unknown mode None",
        "choose one of: fill, adjoint",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_op_calls(case):
    _, call, error, problem, choices = case
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert re.search(problem, message), message
    assert re.search(choices, message), message


def test_the_same_calls_with_good_arguments_work():
    assert ops.conv_roundtrip(X, np.ones((3, 3, 2, 3)), 1, "VALID").back.shape == X.shape
    assert ops.transpose_conv_steps(ONE, K3, (1, 3, 3, 1)).output.shape == (1, 3, 3, 1)
    assert ops.max_unpool(POOLED, SWITCHES, X.shape).shape == X.shape
    assert ops.avg_unpool(POOLED, X.shape, (2, 2), (1, 2, 2, 1)).shape == X.shape
