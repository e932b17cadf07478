"""The classic notes' algorithms as pure functions over arrays: NumPy in, NumPy out.

Tensors are accepted wherever arrays are.


- `transpose_conv_steps`: tf.nn.conv2d_transpose in four explicit steps (flip the kernel,
  insert stride-1 zeros, pad, stride-1 convolution), each intermediate returned.
- `conv_transpose_output_sizes`: which output sizes a transposed convolution may ask for.
- `max_pool_with_switches`, `max_unpool`, `avg_unpool`: pooling and its way back.
- `conv_roundtrip`: conv2d then conv2d_transpose, and how much of the input comes back.
"""

from __future__ import annotations

from .roundtrip import MAX_ROUNDTRIP_SIZE, RoundTrip, conv_roundtrip
from .transpose_conv import (
    PADDINGS,
    TransposeConvSteps,
    conv_transpose_output_sizes,
    transpose_conv_steps,
)
from .unpool import (
    AVG_UNPOOL_MODES,
    avg_unpool,
    max_pool_with_switches,
    max_unpool,
    pooled_shape,
)

__all__ = [
    "AVG_UNPOOL_MODES",
    "MAX_ROUNDTRIP_SIZE",
    "PADDINGS",
    "RoundTrip",
    "TransposeConvSteps",
    "avg_unpool",
    "conv_roundtrip",
    "conv_transpose_output_sizes",
    "max_pool_with_switches",
    "max_unpool",
    "pooled_shape",
    "transpose_conv_steps",
]
