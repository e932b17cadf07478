"""Convolve, then transpose-convolve: how much of the input comes back (only part of it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from deconv_widgets._tf import tf

from ._validate import as_float_array, as_padding, as_pair, check_window_fits

MAX_ROUNDTRIP_SIZE = 4096  # H * W * C_in of one image: the explicit operator stays small


@dataclass(frozen=True)
class RoundTrip:
    """A conv2d -> conv2d_transpose round trip and how far it lands from the input."""

    y: np.ndarray  # conv2d(x, kernel)
    back: np.ndarray  # conv2d_transpose(y, kernel, x.shape): the DeconvNet's way back
    scale: float  # the best scalar s minimising ||s * back - x||
    relative_error: float  # ||scale * back - x|| / ||x||
    cosine: float  # <back, x> / (||back|| ||x||)
    best: np.ndarray  # the orthogonal projection of x onto the range of the transposed conv
    recovered_fraction: float  # ||best||^2 / ||x||^2: the most any linear map of y gets back
    rank: int  # rank of the convolution as a matrix (dimension of what survives)
    dimension: int  # H * W * C_in of one image


def conv_roundtrip(
    x: Any, kernel: Any, strides: int | tuple[int, int] = 1, padding: str = "VALID"
) -> RoundTrip:
    """Run conv2d then conv2d_transpose with the same kernel and measure what came back.

    The forward convolution is a linear map A from one image (H*W*C_in numbers) to y. The
    transposed convolution is A^T, so whatever it returns lies in the row space of A; the part
    of x in A's null space is lost for good. `best` is x projected onto that row space (computed
    from the SVD of A, built explicitly by convolving every basis image), which is also what
    the pseudo-inverse of A returns; `recovered_fraction` is its share of x's squared norm.
    """
    x = as_float_array(x, "x", rank=4)
    kernel = as_float_array(kernel, "kernel", rank=4)
    sh, sw = as_pair(strides, "strides")
    padding = as_padding(padding)
    n, h, w, c_in = x.shape
    kh, kw, k_in, _ = kernel.shape
    if k_in != c_in:
        raise ValueError(
            f"kernel has C_in={k_in} (axis 2) but x has {c_in} channels; they must match"
        )
    check_window_fits((h, w), (kh, kw), "kernel size", padding)
    dimension = h * w * c_in
    if dimension > MAX_ROUNDTRIP_SIZE:
        raise ValueError(
            f"x has H*W*C = {dimension} numbers per image; conv_roundtrip builds the operator "
            f"explicitly and allows at most {MAX_ROUNDTRIP_SIZE} (e.g. 64x64x1): crop or shrink x"
        )
    stride4 = (1, sh, sw, 1)
    y = tf.nn.conv2d(x, kernel, stride4, padding).numpy()
    back = tf.nn.conv2d_transpose(y, kernel, x.shape, stride4, padding).numpy()

    basis = np.eye(dimension, dtype=np.float32).reshape(dimension, h, w, c_in)
    matrix = tf.nn.conv2d(basis, kernel, stride4, padding).numpy().reshape(dimension, -1).T
    _, singular, vt = np.linalg.svd(matrix.astype(np.float64), full_matrices=False)
    tol = singular.max(initial=0.0) * max(matrix.shape) * np.finfo(np.float32).eps
    rows = vt[singular > tol]
    flat = x.reshape(n, dimension).astype(np.float64)
    best = (flat @ rows.T) @ rows

    x_norm2 = float(np.sum(flat**2))
    back64 = back.reshape(n, dimension).astype(np.float64)
    back_norm2 = float(np.sum(back64**2))
    dot = float(np.sum(back64 * flat))
    scale = dot / back_norm2 if back_norm2 > 0 else 0.0
    if x_norm2 > 0:
        relative_error = float(np.linalg.norm(scale * back64 - flat) / np.sqrt(x_norm2))
        recovered = float(np.sum(best**2) / x_norm2)
    else:
        relative_error, recovered = 0.0, 1.0
    denom = np.sqrt(x_norm2 * back_norm2)
    cosine = dot / denom if denom > 0 else 0.0
    return RoundTrip(
        y=y,
        back=back,
        scale=scale,
        relative_error=relative_error,
        cosine=float(cosine),
        best=best.reshape(x.shape).astype(np.float32),
        recovered_fraction=recovered,
        rank=len(rows),
        dimension=dimension,
    )


__all__ = ["MAX_ROUNDTRIP_SIZE", "RoundTrip", "conv_roundtrip"]
