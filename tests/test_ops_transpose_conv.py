"""transpose_conv_steps equals tf.nn.conv2d_transpose for every valid combination."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconv_widgets import ops
from deconv_widgets._tf import tf

KERNELS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (3, 1), (5, 2), (1, 4)]
STRIDES = [(1, 1), (2, 2), (3, 3), (1, 2), (3, 2), (2, 1)]
PADDINGS = ["SAME", "VALID"]
Y_SIZES = [(3, 4), (1, 2)]
TOLERANCE = 1e-4


def tf_transpose(y, kernel, shape, strides, padding):
    """TensorFlow's own transposed convolution, the reference."""
    return tf.nn.conv2d_transpose(y, kernel, shape, (1, *strides, 1), padding).numpy()


def relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Max abs difference relative to the reference's largest magnitude."""
    return float(np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30))


def expected_count() -> int:
    """How many configurations the sweep must visit.

    Both paddings allow exactly `stride` output sizes per axis, so each (kernel, padding,
    y size) contributes sh * sw.
    """
    per_kernel = sum(sh * sw for sh, sw in STRIDES)
    return per_kernel * len(KERNELS) * len(PADDINGS) * len(Y_SIZES)


def test_sweep_every_valid_output_size_matches_tensorflow():
    rng = np.random.default_rng(0)
    count, worst = 0, 0.0
    for (kh, kw), (sh, sw), padding, (h, w) in itertools.product(
        KERNELS, STRIDES, PADDINGS, Y_SIZES
    ):
        batch, c_in, c_out = 2, 2, 3
        for oh in ops.conv_transpose_output_sizes(h, kh, sh, padding):
            for ow in ops.conv_transpose_output_sizes(w, kw, sw, padding):
                y = rng.standard_normal((batch, h, w, c_out)).astype(np.float32)
                kernel = rng.standard_normal((kh, kw, c_in, c_out)).astype(np.float32)
                shape = (batch, oh, ow, c_in)
                steps = ops.transpose_conv_steps(y, kernel, shape, (sh, sw), padding)
                ref = tf_transpose(y, kernel, shape, (sh, sw), padding)
                assert steps.output.shape == ref.shape
                error = relative_error(steps.output, ref)
                assert error <= TOLERANCE, (kh, kw, sh, sw, padding, h, w, oh, ow, error)
                worst = max(worst, error)
                count += 1
    assert count == expected_count() == 864
    print(f"\ntranspose-conv sweep: {count} configurations, worst relative error {worst:.3g}")


def test_output_size_range_is_exactly_what_forward_conv_produces():
    """Every size in the range convolves to `size`; the neighbours just outside do not."""
    checked = 0
    for k, s, padding, size in itertools.product(range(1, 6), range(1, 4), PADDINGS, (1, 2, 4)):
        sizes = ops.conv_transpose_output_sizes(size, k, s, padding)
        assert len(sizes) == s
        for n in range(max(1, sizes.start - 2), sizes.stop + 2):
            if padding == "VALID" and n < k:
                continue  # TF refuses a kernel larger than a VALID input; no output at all
            x = tf.zeros((1, n, 1, 1))
            out = tf.nn.conv2d(x, tf.zeros((k, 1, 1, 1)), (1, s, 1, 1), padding).shape[1]
            assert (out == size) == (n in sizes), (k, s, padding, size, n, out)
            checked += 1
    assert checked > 300


def test_steps_are_the_seeds_four_steps():
    y = np.arange(1, 1 + 2 * 2 * 2 * 3, dtype=np.float32).reshape(2, 2, 2, 3)
    kernel = np.arange(3 * 2 * 4 * 3, dtype=np.float32).reshape(3, 2, 4, 3)
    steps = ops.transpose_conv_steps(y, kernel, (2, 4, 4, 4), strides=2, padding="SAME")
    # 1. flipped: rotated 180 degrees, in/out swapped
    assert steps.flipped_kernel.shape == (3, 2, 3, 4)
    assert steps.flipped_kernel[0, 0, 1, 2] == kernel[2, 1, 2, 1]
    # 2. zeros inserted between rows and columns
    assert steps.zero_inserted.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(steps.zero_inserted[:, ::2, ::2], y)
    assert not steps.zero_inserted[:, 1].any() and not steps.zero_inserted[:, :, 1].any()
    # 3. pads: forward SAME on 4 with k=3, s=2 padded (0, 1) -> transposed pads (2, 1);
    #    k=2: forward pads (0, 0) -> (1, 1)
    assert steps.pads == ((2, 1), (1, 1))
    assert steps.padded.shape == (2, 3 + 3, 3 + 2, 3)
    # 4. a stride-1 VALID convolution of padded with the flipped kernel gives the output
    conv = tf.nn.conv2d(steps.padded, steps.flipped_kernel, 1, "VALID").numpy()
    np.testing.assert_allclose(steps.output, conv, rtol=1e-5)
    np.testing.assert_allclose(
        steps.output, tf_transpose(y, kernel, (2, 4, 4, 4), (2, 2), "SAME"), rtol=1e-5
    )


def test_larger_than_minimum_output_pads_bottom_right():
    y = np.ones((1, 2, 2, 1), np.float32)
    kernel = np.ones((2, 2, 1, 1), np.float32)
    small = ops.transpose_conv_steps(y, kernel, (1, 4, 4, 1), 2, "VALID")
    large = ops.transpose_conv_steps(y, kernel, (1, 5, 5, 1), 2, "VALID")
    assert small.pads == ((1, 1), (1, 1))
    assert large.pads == ((1, 2), (1, 2))
    assert not large.output[:, 4].any() and not large.output[:, :, 4].any()


def test_accepts_tensors_and_tensorshape():
    y = tf.random.stateless_normal((1, 3, 3, 2), seed=(1, 2))
    kernel = tf.random.stateless_normal((3, 3, 1, 2), seed=(3, 4))
    shape = tf.TensorShape((1, 5, 5, 1))
    steps = ops.transpose_conv_steps(y, kernel, shape)
    assert isinstance(steps.output, np.ndarray)
    assert relative_error(steps.output, tf_transpose(y, kernel, shape, (1, 1), "VALID")) < 1e-5


@st.composite
def configurations(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(PADDINGS))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    oh = draw(st.sampled_from(ops.conv_transpose_output_sizes(h, kh, sh, padding)))
    ow = draw(st.sampled_from(ops.conv_transpose_output_sizes(w, kw, sw, padding)))
    batch, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    return (kh, kw, sh, sw, padding, h, w, oh, ow, batch, c_in, c_out, seed)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(configurations())
def test_property_matches_tensorflow(config):
    kh, kw, sh, sw, padding, h, w, oh, ow, batch, c_in, c_out, seed = config
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((batch, h, w, c_out)).astype(np.float32)
    kernel = rng.standard_normal((kh, kw, c_in, c_out)).astype(np.float32)
    shape = (batch, oh, ow, c_in)
    steps = ops.transpose_conv_steps(y, kernel, shape, (sh, sw), padding)
    assert steps.zero_inserted.shape == (batch, (h - 1) * sh + 1, (w - 1) * sw + 1, c_out)
    assert steps.padded.shape[1:3] == (oh + kh - 1, ow + kw - 1)
    assert min(min(p) for p in steps.pads) >= 0
    assert relative_error(steps.output, tf_transpose(y, kernel, shape, (sh, sw), padding)) <= (
        TOLERANCE
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(configurations())
def test_property_transpose_is_the_adjoint_of_conv(config):
    """<conv(x), y> == <x, conv_transpose(y)>: the defining property, independent of TF's op."""
    kh, kw, sh, sw, padding, h, w, oh, ow, batch, c_in, c_out, seed = config
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((batch, h, w, c_out)).astype(np.float32)
    x = rng.standard_normal((batch, oh, ow, c_in)).astype(np.float32)
    kernel = rng.standard_normal((kh, kw, c_in, c_out)).astype(np.float32)
    back = ops.transpose_conv_steps(y, kernel, x.shape, (sh, sw), padding).output
    forward = tf.nn.conv2d(x, kernel, (1, sh, sw, 1), padding).numpy()
    lhs, rhs = float(np.sum(forward * y, dtype=np.float64)), float(np.sum(x * back))
    assert abs(lhs - rhs) <= 1e-4 * (np.abs(forward).sum() * np.abs(y).max() + 1)


def test_large_problems_take_the_tensorflow_route_with_the_same_steps(monkeypatch):
    """Above NUMPY_CONV_LIMIT step 4 runs tf.nn.conv2d; check that route on a small sweep."""
    from deconv_widgets.ops import transpose_conv

    monkeypatch.setattr(transpose_conv, "NUMPY_CONV_LIMIT", 0)
    rng = np.random.default_rng(5)
    count = 0
    for (kh, kw), (sh, sw), padding in itertools.product(KERNELS[3:], STRIDES[2:], PADDINGS):
        for oh in ops.conv_transpose_output_sizes(3, kh, sh, padding):
            ow = ops.conv_transpose_output_sizes(4, kw, sw, padding)[-1]
            y = rng.standard_normal((2, 3, 4, 3)).astype(np.float32)
            kernel = rng.standard_normal((kh, kw, 2, 3)).astype(np.float32)
            shape = (2, oh, ow, 2)
            out = ops.transpose_conv_steps(y, kernel, shape, (sh, sw), padding).output
            ref = tf_transpose(y, kernel, shape, (sh, sw), padding)
            assert relative_error(out, ref) < TOLERANCE
            count += 1
    assert count == 6 * 2 * sum(sh for sh, _ in STRIDES[2:])


def test_a_real_layer_size_matches_tensorflow():
    y = np.ones((1, 56, 56, 64), np.float32)
    kernel = np.ones((3, 3, 64, 64), np.float32) / 576
    steps = ops.transpose_conv_steps(y, kernel, (1, 112, 112, 64), 2, "SAME")
    assert steps.output.shape == (1, 112, 112, 64)
    ref = tf_transpose(y, kernel, (1, 112, 112, 64), (2, 2), "SAME")
    assert relative_error(steps.output, ref) < TOLERANCE


@pytest.mark.parametrize("padding", ["same", "Valid"])
def test_padding_is_case_insensitive(padding):
    sizes = ops.conv_transpose_output_sizes(3, 3, 2, padding)
    assert len(sizes) == 2
