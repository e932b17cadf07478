"""Max pooling with switches, max unpooling and average unpooling (fill and adjoint)."""

from __future__ import annotations

from typing import Any

import numpy as np

from deconv_widgets._tf import tf

from .._values import unwrap_tensor
from ._validate import (
    as_float_array,
    as_padding,
    as_pair,
    as_shape,
    check_window_fits,
    forward_size,
    same_pads,
)

AVG_UNPOOL_MODES = ("fill", "adjoint")


def _pool_args(
    pool_size: Any, strides: Any, padding: Any, size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int], str]:
    """The checked (window, strides, padding) of a pooling over an input of (H, W) `size`."""
    window = as_pair(pool_size, "pool_size")
    steps = window if strides is None else as_pair(strides, "strides")
    padding = as_padding(padding)
    check_window_fits(size, window, "pool_size", padding)
    return window, steps, padding


def pooled_shape(
    input_shape: Any,
    pool_size: int | tuple[int, int] = 2,
    strides: int | tuple[int, int] | None = None,
    padding: str = "VALID",
) -> tuple[int, int, int, int]:
    """The shape tf.nn.max_pool2d / avg_pool2d gives for `input_shape` (N, H, W, C)."""
    n, h, w, c = as_shape(input_shape, "input_shape")
    window, steps, padding = _pool_args(pool_size, strides, padding, (h, w))
    return (
        n,
        forward_size(h, window[0], steps[0], padding),
        forward_size(w, window[1], steps[1], padding),
        c,
    )


def max_pool_with_switches(
    x: Any,
    pool_size: int | tuple[int, int] = 2,
    strides: int | tuple[int, int] | None = None,
    padding: str = "VALID",
) -> tuple[np.ndarray, np.ndarray]:
    """Max-pool `x` (N, H, W, C) and return (pooled, switches) as tf.nn.max_pool_with_argmax."""
    x = as_float_array(x, "x", rank=4)
    window, steps, padding = _pool_args(pool_size, strides, padding, x.shape[1:3])
    # Never wrapped in jit_compile: this op has no XLA kernel.
    pooled, switches = tf.nn.max_pool_with_argmax(
        x, ksize=window, strides=steps, padding=padding, include_batch_in_index=False
    )
    return pooled.numpy(), switches.numpy().astype(np.int64)


def max_unpool(pooled: Any, switches: Any, input_shape: Any) -> np.ndarray:
    """Put each pooled value at its switch (summing where windows overlap), zeros elsewhere."""
    pooled = as_float_array(pooled, "pooled", rank=4)
    switches = np.asarray(unwrap_tensor(switches))
    if not np.issubdtype(switches.dtype, np.integer):
        raise TypeError(
            f"switches must be integers (from max_pool_with_switches); got {switches.dtype}"
        )
    if switches.shape != pooled.shape:
        raise ValueError(f"switches must have pooled's shape {pooled.shape}; got {switches.shape}")
    n, h, w, c = as_shape(input_shape, "input_shape")
    if pooled.shape[0] != n or pooled.shape[3] != c:
        raise ValueError(
            f"pooled (N, C) = ({pooled.shape[0]}, {pooled.shape[3]}) must match input_shape's "
            f"(N, C) = ({n}, {c})"
        )
    size = h * w * c
    if switches.size and (switches.min() < 0 or switches.max() >= size):
        raise ValueError(
            f"switches must be flat indices into one image's (H, W, C) = ({h}, {w}, {c}), "
            f"i.e. in 0..{size - 1}; got {switches.min()}..{switches.max()}"
        )
    if switches.size and np.any(switches % c != np.arange(c)):
        raise ValueError(
            "switches point at other channels than their own: they were not made for "
            f"input_shape {(n, h, w, c)} with include_batch_in_index=False"
        )
    out = np.zeros((n, size), np.float32)
    rows = np.broadcast_to(np.arange(n)[:, None], (n, switches[0].size))
    np.add.at(out, (rows, switches.reshape(n, -1)), pooled.reshape(n, -1))
    return out.reshape(n, h, w, c)


def avg_unpool(
    pooled: Any,
    input_shape: Any,
    pool_size: int | tuple[int, int] = 2,
    strides: int | tuple[int, int] | None = None,
    padding: str = "VALID",
    mode: str = "fill",
) -> np.ndarray:
    """Spread each pooled value over its window: `fill` copies it, `adjoint` divides it.

    `fill` is the classic notes' rule: every cell of the window gets the pooled value. Where
    windows overlap, the contributions add up (as in max_unpool and the adjoint). `adjoint`
    divides each value by the number of real (non-padded) cells in its window, which is exactly
    the gradient of tf.nn.avg_pool2d. Cells that no window covers stay zero.
    """
    if mode not in AVG_UNPOOL_MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(AVG_UNPOOL_MODES)}")
    pooled = as_float_array(pooled, "pooled", rank=4)
    expected = pooled_shape(input_shape, pool_size, strides, padding)
    if pooled.shape != expected:
        raise ValueError(
            f"pooled has shape {pooled.shape} but pooling input_shape {tuple(input_shape)} "
            f"with pool_size={pool_size}, strides={strides}, padding={padding!r} gives {expected}"
        )
    n, h, w, c = as_shape(input_shape, "input_shape")
    window, steps, padding = _pool_args(pool_size, strides, padding, (h, w))
    out = np.zeros((n, h, w, c), np.float64)
    row_spans = _spans(h, expected[1], window[0], steps[0], padding)
    col_spans = _spans(w, expected[2], window[1], steps[1], padding)
    for i, (r0, r1) in enumerate(row_spans):
        for j, (c0, c1) in enumerate(col_spans):
            value = pooled[:, i, j, :].astype(np.float64)
            if mode == "adjoint":
                value = value / ((r1 - r0) * (c1 - c0))
            out[:, r0:r1, c0:c1, :] += value[:, None, None, :]
    return out.astype(np.float32)


def _spans(size: int, out: int, window: int, step: int, padding: str) -> list[tuple[int, int]]:
    """The real (unpadded) cells [start, stop) each pooling window covers along one axis."""
    before = same_pads(size, out, window, step)[0] if padding == "SAME" else 0
    spans = []
    for index in range(out):
        start = index * step - before
        spans.append((max(start, 0), min(start + window, size)))
    return spans


__all__ = ["AVG_UNPOOL_MODES", "avg_unpool", "max_pool_with_switches", "max_unpool", "pooled_shape"]
