"""conv_roundtrip: conv2d then conv2d_transpose recovers only part of the input."""

from __future__ import annotations

import numpy as np
import pytest

from deconv_widgets import ops
from deconv_widgets._tf import tf


def test_identity_kernel_recovers_everything():
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 1)).astype(np.float32)
    trip = ops.conv_roundtrip(x, np.ones((1, 1, 1, 1), np.float32))
    np.testing.assert_allclose(trip.back, x)
    assert trip.relative_error < 1e-6 and trip.cosine > 1 - 1e-6
    assert trip.recovered_fraction == pytest.approx(1.0) and trip.rank == 25


def test_stride_two_keeps_only_the_sampled_pixels():
    x = np.random.default_rng(1).standard_normal((1, 6, 6, 1)).astype(np.float32)
    trip = ops.conv_roundtrip(x, np.ones((1, 1, 1, 1), np.float32), strides=2)
    kept = np.zeros_like(x)
    kept[:, ::2, ::2] = x[:, ::2, ::2]
    np.testing.assert_allclose(trip.back, kept)
    np.testing.assert_allclose(trip.best, kept, atol=1e-6)
    assert trip.rank == 9 and trip.dimension == 36
    assert trip.recovered_fraction == pytest.approx(float(np.sum(kept**2) / np.sum(x**2)))


def test_blur_kernel_recovers_part_and_best_is_the_least_squares_projection():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 2, 1)).astype(np.float32)
    trip = ops.conv_roundtrip(x, kernel, strides=1, padding="VALID")
    assert trip.y.shape == (1, 4, 4, 1) and trip.back.shape == x.shape
    assert trip.rank == 16 and trip.dimension == 72
    assert 0.05 < trip.recovered_fraction < 0.6
    assert 0 < trip.cosine < 1 and 0 < trip.relative_error < 1
    # independent route: columns of A^T from tf.nn.conv2d_transpose of every basis y, lstsq
    basis = np.eye(16, dtype=np.float32).reshape(16, 4, 4, 1)
    columns = tf.nn.conv2d_transpose(basis, kernel, (16, 6, 6, 2), 1, "VALID").numpy()
    a_t = columns.reshape(16, -1).T.astype(np.float64)
    coef, *_ = np.linalg.lstsq(a_t, x.reshape(-1).astype(np.float64), rcond=None)
    np.testing.assert_allclose(trip.best.reshape(-1), a_t @ coef, atol=1e-4)
    # the best scalar rescale really is the best
    flat, back = x.reshape(-1), trip.back.reshape(-1)
    for other in (trip.scale * 0.9, trip.scale * 1.1):
        worse = np.linalg.norm(other * back - flat) / np.linalg.norm(flat)
        assert worse > trip.relative_error
    # and the projection beats the transposed conv
    assert 1 - trip.recovered_fraction <= trip.relative_error**2 + 1e-6


def test_roundtrip_validates():
    x = np.zeros((1, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match=r"kernel size \(5, 5\) is larger than the input"):
        ops.conv_roundtrip(x, np.zeros((5, 5, 1, 1)))
    with pytest.raises(ValueError, match=r"C_in=2 .* x has 1 channels"):
        ops.conv_roundtrip(x, np.zeros((3, 3, 2, 1)))
    with pytest.raises(ValueError, match="at most 4096"):
        ops.conv_roundtrip(np.zeros((1, 65, 65, 1)), np.zeros((3, 3, 1, 1)))
    with pytest.raises(ValueError, match="SAME, VALID"):
        ops.conv_roundtrip(x, np.zeros((3, 3, 1, 1)), padding="full")


def test_zero_input_is_fine():
    trip = ops.conv_roundtrip(np.zeros((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), padding="SAME")
    assert trip.relative_error == 0.0 and trip.recovered_fraction == 1.0
    assert not trip.back.any()
