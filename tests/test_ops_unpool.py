"""max_unpool and avg_unpool against TensorFlow's own pooling gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconv_widgets import ops
from deconv_widgets._tf import tf

WINDOWS = [(2, 2), (3, 2), (3, 1), ((2, 3), (1, 2)), (3, 3), ((1, 3), (2, 1)), (5, 4)]


def pool_gradient(pool, x, upstream, window, strides, padding) -> np.ndarray:
    """d(sum(pool(x) * upstream))/dx, computed by TensorFlow's GradientTape."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        pooled = pool(x, window, strides, padding)
    return tape.gradient(pooled, x, output_gradients=upstream).numpy()


def images(random_seed: int) -> dict[str, np.ndarray]:
    """Random, all-constant (every window a tie) and 0/1 (many ties) batches of odd size."""
    rng = np.random.default_rng(random_seed)
    return {
        "random": rng.standard_normal((2, 7, 5, 3)).astype(np.float32),
        "constant": np.full((2, 7, 5, 3), 0.5, np.float32),
        "binary": rng.integers(0, 2, (2, 7, 5, 3)).astype(np.float32),
    }


def test_max_unpool_equals_max_pool_gradient():
    count = 0
    for (name, x), (window, strides), padding in itertools.product(
        images(0).items(), WINDOWS, ["SAME", "VALID"]
    ):
        pooled, switches = ops.max_pool_with_switches(x, window, strides, padding)
        np.testing.assert_array_equal(pooled, tf.nn.max_pool2d(x, window, strides, padding))
        assert switches.dtype == np.int64 and switches.shape == pooled.shape
        unpooled = ops.max_unpool(pooled, switches, x.shape)
        grad = pool_gradient(tf.nn.max_pool2d, x, pooled, window, strides, padding)
        np.testing.assert_allclose(unpooled, grad, atol=1e-6, err_msg=f"{name} {window}")
        count += 1
    assert count == 3 * len(WINDOWS) * 2


def test_ties_go_to_the_first_cell_in_row_major_order():
    x = np.full((1, 4, 4, 1), 2.0, np.float32)
    pooled, switches = ops.max_pool_with_switches(x, 2)
    np.testing.assert_array_equal(switches[0, :, :, 0], [[0, 2], [8, 10]])
    unpooled = ops.max_unpool(pooled, switches, x.shape)
    expected = np.zeros((4, 4), np.float32)
    expected[::2, ::2] = 2.0
    np.testing.assert_array_equal(unpooled[0, :, :, 0], expected)


def test_overlapping_windows_add_up_at_a_shared_switch():
    x = np.zeros((1, 5, 5, 1), np.float32)
    x[0, 2, 2, 0] = 9.0  # the centre belongs to all four 3x3/2 windows
    pooled, switches = ops.max_pool_with_switches(x, 3, 2)
    assert (switches == 2 * 5 + 2).all()
    unpooled = ops.max_unpool(pooled, switches, x.shape)
    assert unpooled[0, 2, 2, 0] == 36.0 and unpooled.sum() == 36.0


def test_switches_are_per_image_with_channels():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 6, 2)).astype(np.float32)
    pooled, switches = ops.max_pool_with_switches(x, 2)
    for n, i, j, c in itertools.product(range(3), range(2), range(3), range(2)):
        flat = switches[n, i, j, c]
        assert flat < 4 * 6 * 2 and flat % 2 == c
        assert x[n].reshape(-1)[flat] == pooled[n, i, j, c]


def test_avg_unpool_adjoint_equals_avg_pool_gradient():
    count = 0
    for (name, x), (window, strides), padding in itertools.product(
        images(2).items(), WINDOWS, ["SAME", "VALID"]
    ):
        pooled = tf.nn.avg_pool2d(x, window, strides, padding).numpy()
        upstream = np.random.default_rng(count).standard_normal(pooled.shape).astype(np.float32)
        adjoint = ops.avg_unpool(upstream, x.shape, window, strides, padding, mode="adjoint")
        grad = pool_gradient(tf.nn.avg_pool2d, x, upstream, window, strides, padding)
        np.testing.assert_allclose(adjoint, grad, atol=1e-5, err_msg=f"{name} {window}")
        count += 1
    assert count == 3 * len(WINDOWS) * 2


def test_avg_unpool_fill_copies_each_value_into_its_window():
    pooled = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(1, 2, 2, 1)
    filled = ops.avg_unpool(pooled, (1, 4, 4, 1), 2)
    expected = np.kron(pooled[0, :, :, 0], np.ones((2, 2)))
    np.testing.assert_array_equal(filled[0, :, :, 0], expected)
    # the adjoint divides by the window size
    np.testing.assert_array_equal(
        ops.avg_unpool(pooled, (1, 4, 4, 1), 2, mode="adjoint")[0, :, :, 0], expected / 4
    )


def test_avg_unpool_fill_sums_overlaps_and_clips_same_padding():
    pooled = np.ones((1, 2, 2, 1), np.float32)
    filled = ops.avg_unpool(pooled, (1, 3, 3, 1), 2, strides=1)  # 2x2 windows, stride 1
    np.testing.assert_array_equal(filled[0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    # SAME, 5 -> 3 with 2x2/2: pads (0, 1); the last window holds only the last real cell
    same = ops.avg_unpool(np.ones((1, 3, 3, 1), np.float32), (1, 5, 5, 1), 2, padding="SAME")
    np.testing.assert_array_equal(same, np.ones((1, 5, 5, 1)))
    adj = ops.avg_unpool(
        np.ones((1, 3, 3, 1), np.float32), (1, 5, 5, 1), 2, padding="SAME", mode="adjoint"
    )
    assert adj[0, 4, 4, 0] == 1.0 and adj[0, 0, 0, 0] == 0.25 and adj[0, 0, 4, 0] == 0.5


def test_fill_equals_adjoint_of_values_times_real_cell_count():
    rng = np.random.default_rng(3)
    pooled = rng.standard_normal((2, 3, 3, 2)).astype(np.float32)
    # SAME 3x3/2 on 5x5 pads (1, 1) each side; count real cells per window with a VALID pool
    ones = np.pad(np.ones((2, 5, 5, 2), np.float32), ((0, 0), (1, 1), (1, 1), (0, 0)))
    counts = tf.nn.avg_pool2d(ones, 3, 2, "VALID").numpy() * 9
    np.testing.assert_allclose(counts[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    filled = ops.avg_unpool(pooled, (2, 5, 5, 2), 3, 2, "SAME", mode="fill")
    adjoint = ops.avg_unpool(pooled * counts, (2, 5, 5, 2), 3, 2, "SAME", mode="adjoint")
    np.testing.assert_allclose(filled, adjoint, rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.integers(1, 3),
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 3),
    st.sampled_from(["SAME", "VALID"]),
    st.integers(0, 2**31 - 1),
)
def test_property_unpools_are_pool_gradients(n, h, w, c, ph, pw, sh, sw, padding, seed):
    if padding == "VALID" and (ph > h or pw > w):
        with pytest.raises(ValueError, match="larger than the input"):
            ops.max_pool_with_switches(np.zeros((n, h, w, c)), (ph, pw), (sh, sw), padding)
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (n, h, w, c)).astype(np.float32)  # small integers: many ties
    pooled, switches = ops.max_pool_with_switches(x, (ph, pw), (sh, sw), padding)
    grad = pool_gradient(tf.nn.max_pool2d, x, pooled, (ph, pw), (sh, sw), padding)
    np.testing.assert_allclose(ops.max_unpool(pooled, switches, x.shape), grad, atol=1e-6)
    upstream = rng.standard_normal(pooled.shape).astype(np.float32)
    adjoint = ops.avg_unpool(upstream, x.shape, (ph, pw), (sh, sw), padding, "adjoint")
    grad = pool_gradient(tf.nn.avg_pool2d, x, upstream, (ph, pw), (sh, sw), padding)
    np.testing.assert_allclose(adjoint, grad, atol=1e-5)
