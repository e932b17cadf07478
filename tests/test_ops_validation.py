"""Bad input to the ops: a ValueError / TypeError that names the problem and the choices.

Where TensorFlow itself would answer with an opaque AbortedError or InvalidArgumentError,
the test shows that too, so the validation is known to stand in front of a real failure.
"""

from __future__ import annotations

import numpy as np
import pytest

from deconv_widgets import ops
from deconv_widgets._tf import tf

Y = np.ones((1, 3, 3, 2), np.float32)
K = np.ones((3, 3, 4, 2), np.float32)  # (kh, kw, C_in=4, C_out=2)

# (name, y, kernel, output_shape, strides, padding, message pattern)
TF_WOULD_FAIL = [
    ("output too large", Y, K, (1, 9, 5, 4), 1, "VALID", r"output height 9 .* valid .*: 5$"),
    ("output too small", Y, K, (1, 5, 4, 4), 1, "VALID", r"output width 4 .*: 5$"),
    ("same not reachable", Y, K, (1, 7, 5, 4), 2, "SAME", r"height 7 .*heights: 5\.\.6"),
    ("valid stride 2", Y, K, (1, 5, 7, 4), 2, "VALID", r"output height 5 .*heights: 7\.\.8$"),
    ("kernel C_out", Y, np.ones((3, 3, 4, 5)), (1, 5, 5, 4), 1, "VALID", r"C_out=5 .* 2 channels"),
    ("output channels", Y, K, (1, 5, 5, 3), 1, "VALID", r"3 channels .* C_in .* is 4"),
    ("batch", Y, K, (2, 5, 5, 4), 1, "VALID", r"batch 2 .* batch 1"),
    ("stride 0", Y, K, (1, 5, 5, 4), 0, "VALID", r"strides must be an int >= 1"),
]


@pytest.mark.parametrize("case", TF_WOULD_FAIL, ids=[c[0] for c in TF_WOULD_FAIL])
def test_validation_stands_in_front_of_tensorflow_errors(case):
    _, y, kernel, shape, strides, padding, pattern = case
    with pytest.raises((tf.errors.AbortedError, tf.errors.InvalidArgumentError)):
        tf.nn.conv2d_transpose(y, kernel.astype(np.float32), shape, strides, padding)
    with pytest.raises(ValueError, match=pattern):
        ops.transpose_conv_steps(y, kernel, shape, strides, padding)


BAD_CALLS = [
    (
        "y rank",
        lambda: ops.transpose_conv_steps(Y[0], K, (1, 5, 5, 4)),
        ValueError,
        r"y must have rank 4 .*\(N, H, W, C\).*got shape \(3, 3, 2\)",
    ),
    (
        "kernel rank",
        lambda: ops.transpose_conv_steps(Y, K[0, 0], (1, 5, 5, 4)),
        ValueError,
        r"kernel must have rank 4",
    ),
    (
        "y dtype complex",
        lambda: ops.transpose_conv_steps(Y.astype(complex), K, (1, 5, 5, 4)),
        TypeError,
        r"real numbers .*complex",
    ),
    (
        "y strings",
        lambda: ops.transpose_conv_steps([["a"]], K, (1, 5, 5, 4)),
        TypeError,
        r"real numbers",
    ),
    (
        "y bool",
        lambda: ops.transpose_conv_steps(Y > 0, K, (1, 5, 5, 4)),
        TypeError,
        r"real numbers .*bool",
    ),
    (
        "padding",
        lambda: ops.transpose_conv_steps(Y, K, (1, 5, 5, 4), padding="FULL"),
        ValueError,
        r"unknown padding 'FULL'; choose one of: SAME, VALID",
    ),
    (
        "strides length",
        lambda: ops.transpose_conv_steps(Y, K, (1, 5, 5, 4), strides=(1, 2, 3)),
        ValueError,
        r"int, a pair \(h, w\) or \(1, h, w, 1\).*3 values",
    ),
    (
        "strides float",
        lambda: ops.transpose_conv_steps(Y, K, (1, 5, 5, 4), strides=1.5),
        TypeError,
        r"strides must be an int",
    ),
    (
        "strides negative pair",
        lambda: ops.transpose_conv_steps(Y, K, (1, 5, 5, 4), (1, -1)),
        ValueError,
        r">= 1",
    ),
    (
        "strides 4-form",
        lambda: ops.transpose_conv_steps(Y, K, (1, 5, 5, 4), (2, 1, 1, 1)),
        ValueError,
        r"1 for batch and channels",
    ),
    (
        "output_shape length",
        lambda: ops.transpose_conv_steps(Y, K, (5, 5, 4)),
        ValueError,
        r"output_shape must have 4 entries",
    ),
    (
        "output_shape zero",
        lambda: ops.transpose_conv_steps(Y, K, (1, 0, 5, 4)),
        ValueError,
        r"entries must be >= 1",
    ),
    (
        "output_shape floats",
        lambda: ops.transpose_conv_steps(Y, K, (1, 5.0, 5, 4)),
        TypeError,
        r"must hold ints",
    ),
    (
        "sizes size 0",
        lambda: ops.conv_transpose_output_sizes(0, 3, 1, "VALID"),
        ValueError,
        r"size must be an int >= 1",
    ),
    (
        "sizes padding",
        lambda: ops.conv_transpose_output_sizes(2, 3, 1, "full"),
        ValueError,
        r"SAME, VALID",
    ),
    (
        "pool size 0",
        lambda: ops.max_pool_with_switches(np.ones((1, 4, 4, 1)), 0),
        ValueError,
        r"pool_size must be an int >= 1",
    ),
    (
        "pool too large",
        lambda: ops.max_pool_with_switches(np.ones((1, 4, 4, 1)), 5),
        ValueError,
        r"pool_size \(5, 5\) is larger than the input's \(H, W\) = \(4, 4\).*'SAME'",
    ),
    (
        "pool strides",
        lambda: ops.max_pool_with_switches(np.ones((1, 4, 4, 1)), 2, (0, 1)),
        ValueError,
        r"strides .* >= 1",
    ),
    (
        "pool padding",
        lambda: ops.max_pool_with_switches(np.ones((1, 4, 4, 1)), padding="x"),
        ValueError,
        r"choose one of: SAME, VALID",
    ),
    (
        "pool rank",
        lambda: ops.max_pool_with_switches(np.ones((4, 4, 1))),
        ValueError,
        r"x must have rank 4",
    ),
    (
        "pool size triple",
        lambda: ops.max_pool_with_switches(np.ones((1, 4, 4, 1)), (2, 2, 2)),
        ValueError,
        r"pool_size must be an int, a pair",
    ),
    (
        "avg mode",
        lambda: ops.avg_unpool(np.ones((1, 2, 2, 1)), (1, 4, 4, 1), mode="max"),
        ValueError,
        r"unknown mode 'max'; choose one of: fill, adjoint",
    ),
    (
        "avg pooled shape",
        lambda: ops.avg_unpool(np.ones((1, 3, 2, 1)), (1, 4, 4, 1)),
        ValueError,
        r"pooled has shape \(1, 3, 2, 1\) .* gives \(1, 2, 2, 1\)",
    ),
    (
        "avg too large",
        lambda: ops.avg_unpool(np.ones((1, 1, 1, 1)), (1, 2, 2, 1), 3),
        ValueError,
        r"larger than the input",
    ),
]


@pytest.mark.parametrize("case", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_calls_raise_named_errors(case):
    _, call, error, pattern = case
    with pytest.raises(error, match=pattern):
        call()


def _switches():
    x = np.random.default_rng(0).standard_normal((2, 4, 4, 3)).astype(np.float32)
    return ops.max_pool_with_switches(x, 2)


def test_max_unpool_rejects_inconsistent_switches():
    pooled, switches = _switches()
    with pytest.raises(ValueError, match=r"switches must have pooled's shape"):
        ops.max_unpool(pooled, switches[:, :1], (2, 4, 4, 3))
    with pytest.raises(ValueError, match=r"in 0\.\.47"):
        ops.max_unpool(pooled, switches + 48, (2, 4, 4, 3))
    with pytest.raises(TypeError, match=r"switches must be integers"):
        ops.max_unpool(pooled, switches.astype(np.float32), (2, 4, 4, 3))
    with pytest.raises(ValueError, match=r"\(N, C\) = \(2, 3\) must match .* \(2, 2\)"):
        ops.max_unpool(pooled, switches, (2, 4, 4, 2))
    with pytest.raises(ValueError, match=r"other channels"):
        ops.max_unpool(pooled, switches + 1 - (switches % 3 == 2) * 3, (2, 4, 4, 3))


def test_same_pooling_may_use_a_window_larger_than_the_input():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    pooled, switches = ops.max_pool_with_switches(x, 4, padding="SAME")
    assert pooled.shape == (1, 1, 1, 1) and switches[0, 0, 0, 0] == 5
    np.testing.assert_array_equal(
        ops.max_unpool(pooled, switches, x.shape).ravel(), [0, 0, 0, 0, 0, 5]
    )
