"""Transposed convolution in the classic notes' four steps: flip, insert zeros, pad, convolve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from deconv_widgets._tf import tf

from ._validate import PADDINGS, as_float_array, as_int, as_padding, as_pair, as_shape, same_pads


@dataclass(frozen=True)
class TransposeConvSteps:
    """Every intermediate of a transposed convolution, in the order it is computed."""

    flipped_kernel: np.ndarray  # (kh, kw, C_out, C_in): rotated 180 degrees, in/out swapped
    zero_inserted: np.ndarray  # (N, (H-1)*sh+1, (W-1)*sw+1, C_out)
    pads: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    padded: np.ndarray  # zero_inserted with the pads applied
    output: np.ndarray  # (N, OH, OW, C_in)


def conv_transpose_output_sizes(size: int, kernel_size: int, stride: int, padding: str) -> range:
    """The input sizes a forward convolution could have had, given its output `size`."""
    size = as_int(size, "size")
    kernel_size = as_int(kernel_size, "kernel_size")
    stride = as_int(stride, "stride")
    padding = as_padding(padding)
    if padding == "VALID":
        return range(kernel_size + (size - 1) * stride, kernel_size + size * stride)
    return range((size - 1) * stride + 1, size * stride + 1)


def _describe(sizes: range) -> str:
    return f"{sizes.start}..{sizes.stop - 1}" if len(sizes) > 1 else str(sizes.start)


def _check_shapes(
    y: np.ndarray,
    kernel: np.ndarray,
    out_shape: tuple[int, ...],
    strides: tuple[int, int],
    padding: str,
) -> None:
    """ValueError unless y, kernel and the output shape fit one transposed convolution."""
    n, h, w, c_out = y.shape
    kh, kw, c_in, k_out = kernel.shape
    if k_out != c_out:
        raise ValueError(
            f"kernel has C_out={k_out} (its last axis) but y has {c_out} channels; "
            f"they must match (kernel is (kh, kw, C_in, C_out) as for tf.nn.conv2d_transpose)"
        )
    if out_shape[0] != n:
        raise ValueError(f"output_shape batch {out_shape[0]} does not match y's batch {n}")
    if out_shape[3] != c_in:
        raise ValueError(
            f"output_shape has {out_shape[3]} channels but the kernel's C_in (axis 2) is {c_in}; "
            f"use output_shape[3] = {c_in}"
        )
    for axis, size, k, s, got in (
        ("height", h, kh, strides[0], out_shape[1]),
        ("width", w, kw, strides[1], out_shape[2]),
    ):
        valid = conv_transpose_output_sizes(size, k, s, padding)
        if got not in valid:
            raise ValueError(
                f"output {axis} {got} cannot come from a forward {padding} convolution with "
                f"kernel {k} and stride {s} that produced {size}; valid output {axis}s: "
                f"{_describe(valid)}"
            )


def transpose_conv_steps(
    y: Any,
    kernel: Any,
    output_shape: Any,
    strides: int | tuple[int, int] = 1,
    padding: str = "VALID",
) -> TransposeConvSteps:
    """Compute tf.nn.conv2d_transpose explicitly and return each of its four steps."""
    y = as_float_array(y, "y", rank=4)
    kernel = as_float_array(kernel, "kernel", rank=4)
    out_shape = as_shape(output_shape, "output_shape")
    sh, sw = as_pair(strides, "strides")
    padding = as_padding(padding)
    _check_shapes(y, kernel, out_shape, (sh, sw), padding)
    n, h, w, c_out = y.shape
    kh, kw, c_in, _ = kernel.shape
    _, oh, ow, _ = out_shape

    # Step 1: rotate each filter by 180 degrees and swap its in/out axes.
    flipped = np.ascontiguousarray(kernel[::-1, ::-1].transpose(0, 1, 3, 2))
    # Step 2: put stride-1 zeros between the input's rows and columns.
    zero_inserted = np.zeros((n, (h - 1) * sh + 1, (w - 1) * sw + 1, c_out), np.float32)
    zero_inserted[:, ::sh, ::sw, :] = y
    # Step 3: pad so that a stride-1 VALID convolution lands on the output size. The forward
    # conv padded its input by (p0, p1); the transposed conv pads k-1-p0 before and whatever
    # makes the size come out after (extra output rows a stride left unused get zeros too).
    pads = tuple(
        _transpose_pads(size, out, k, s, padding)
        for size, out, k, s in ((h, oh, kh, sh), (w, ow, kw, sw))
    )
    padded = np.pad(zero_inserted, ((0, 0), pads[0], pads[1], (0, 0)))
    # Step 4: a stride-1 VALID convolution (cross-correlation, as in tf.nn.conv2d) with the
    # flipped kernel. Small problems: NumPy, accumulated in float64, so the explicit route does
    # not lean on TF at all; large ones (a real model's layer): tf.nn.conv2d, stride 1, VALID.
    output = _stride1_valid_conv(padded, flipped)
    assert output.shape == (n, oh, ow, c_in), (output.shape, out_shape)
    return TransposeConvSteps(flipped, zero_inserted, pads, padded, output)  # type: ignore[arg-type]


NUMPY_CONV_LIMIT = 4_000_000  # multiply-adds per kernel tap above which step 4 uses TF


def _stride1_valid_conv(padded: np.ndarray, flipped: np.ndarray) -> np.ndarray:
    kh, kw, c_out, c_in = flipped.shape
    n, ph, pw, _ = padded.shape
    if n * (ph - kh + 1) * (pw - kw + 1) * c_out * c_in > NUMPY_CONV_LIMIT:
        return tf.nn.conv2d(padded, flipped, strides=1, padding="VALID").numpy()
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    output = np.einsum("nhwcij,ijcd->nhwd", windows, flipped.astype(np.float64), optimize=True)
    return output.astype(np.float32)


def _transpose_pads(size: int, out: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    before = same_pads(out, size, kernel, stride)[0] if padding == "SAME" else 0
    return kernel - 1 - before, out + before - 1 - (size - 1) * stride


__all__ = ["PADDINGS", "TransposeConvSteps", "conv_transpose_output_sizes", "transpose_conv_steps"]
