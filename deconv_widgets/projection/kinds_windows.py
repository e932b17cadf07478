"""Kinds of the sliding-window layers: convolutions, pooling, and the padding and cropping.

Conv2D, DepthwiseConv2D and SeparableConv2D; max and average pooling; ZeroPadding2D and
Cropping2D (whose geometry shifts the windows above them).
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from typing import Any

import keras
import numpy as np

from deconv_widgets import ops
from deconv_widgets.methods import Affine

from .kind_base import (
    Kind,
    batch_like,
    channels_last,
    exactly,
    folded_bias,
    own_activation,
    scaled,
    shape_of_input,
)


# --------------------------------------------------------------------- convolutions
def _is_plain_conv(layer: Any) -> bool:
    """A Conv2D, channels last, one group, no LoRA."""
    return (
        channels_last(layer)
        and getattr(layer, "groups", 1) == 1
        and not getattr(layer, "lora_enabled", False)
    )


def _conv_backward(layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """The transposed convolution with the layer's own kernel (bias unused)."""
    shape = shape_of_input(grad, inputs[0])
    result = tf.nn.conv2d_transpose(
        grad,
        tf.cast(layer.kernel, grad.dtype),
        output_shape=shape,
        strides=[1, *layer.strides, 1],
        padding=layer.padding.upper(),
        dilations=[1, *layer.dilation_rate, 1],
    )
    return [tf.reshape(result, shape)]


def _conv_rung(layer: Any, signal: np.ndarray, below: np.ndarray) -> tuple:
    """The transposed convolution in the classic notes' four explicit steps."""
    if tuple(layer.dilation_rate) != (1, 1):
        raise ValueError(
            f"ladder cannot show layer {layer.name!r} (Conv2D with dilation_rate="
            f"{layer.dilation_rate}): ops.transpose_conv_steps has no dilation; use "
            "Projector.project"
        )
    steps = ops.transpose_conv_steps(
        signal[None],
        np.asarray(layer.kernel),
        output_shape=(1, *below.shape),
        strides=tuple(layer.strides),
        padding=layer.padding.upper(),
    )
    return "transpose_conv", steps.output[0], "own kernel, bias unused"


def _separable_backward(layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """Transpose of a depthwise (or depthwise-then-pointwise) convolution, bias unused.

    The convolution is linear in its input, so its transpose is its gradient at any point;
    TensorFlow's own gradient of the bias-free op at zero gives it exactly.
    """
    shape = shape_of_input(grad, inputs[0])
    strides = [1, *layer.strides, 1]
    padding, dilations = layer.padding.upper(), list(layer.dilation_rate)
    plain = not isinstance(layer, keras.layers.SeparableConv2D) and dilations == [1, 1]
    if plain:  # the op TensorFlow's gradient of depthwise_conv2d is, without a forward pass
        kernel = tf.cast(layer.kernel, grad.dtype)
        return [
            tf.raw_ops.DepthwiseConv2dNativeBackpropInput(
                input_sizes=shape, filter=kernel, out_backprop=grad, strides=strides,
                padding=padding,
            )
        ]  # fmt: skip
    zeros = tf.zeros(shape, grad.dtype)
    with tf.GradientTape() as tape:
        tape.watch(zeros)
        if isinstance(layer, keras.layers.SeparableConv2D):
            depthwise = tf.cast(layer.depthwise_kernel, grad.dtype)
            pointwise = tf.cast(layer.pointwise_kernel, grad.dtype)
            output = tf.nn.separable_conv2d(
                zeros, depthwise, pointwise, strides, padding, dilations=dilations
            )
        else:
            kernel = tf.cast(layer.kernel, grad.dtype)
            output = tf.nn.depthwise_conv2d(zeros, kernel, strides, padding, dilations=dilations)
    return [tape.gradient(output, zeros, output_gradients=grad)]


def _conv_affine(layer: Any, scale: Tensor | None = None, shift: Tensor | None = None) -> Affine:
    """Z = conv(a, kernel) + bias."""
    strides, dilations = [1, *layer.strides, 1], [1, *layer.dilation_rate, 1]
    padding = layer.padding.upper()

    def apply(inputs: list[Tensor], kernel: Tensor) -> Tensor:
        return tf.nn.conv2d(inputs[0], kernel, strides, padding, dilations=dilations)

    kernel = scaled(tf.cast(layer.kernel, tf.float32), scale)
    return Affine(apply, kernel, folded_bias(layer, scale, shift))


def _depthwise_kernel(layer: Any) -> Tensor:
    """The depthwise kernel (kh, kw, C, multiplier) of a DepthwiseConv2D or SeparableConv2D."""
    if isinstance(layer, keras.layers.SeparableConv2D):
        return tf.cast(layer.depthwise_kernel, tf.float32)
    return tf.cast(layer.kernel, tf.float32)


def _separable_affine(
    layer: Any, scale: Tensor | None = None, shift: Tensor | None = None
) -> Affine:
    """Z = depthwise (then pointwise) convolution of a + bias; a separable one as one kernel.

    A SeparableConv2D is two linear maps in a row; LRP takes their product, the full
    (kh, kw, C, C_out) kernel, so that (a_i w_ij)± is the sign of each input's contribution.
    """
    strides, dilations = [1, *layer.strides, 1], list(layer.dilation_rate)
    padding = layer.padding.upper()
    depthwise = _depthwise_kernel(layer)
    if isinstance(layer, keras.layers.SeparableConv2D):
        channels, multiplier = depthwise.shape[2:]
        pointwise = tf.cast(layer.pointwise_kernel, tf.float32)[0, 0]  # (C * m, C_out)
        per_input = tf.reshape(pointwise, [channels, multiplier, -1])
        full = tf.einsum("hwcm,cmo->hwco", depthwise, per_input)
        dilations4 = [1, *dilations, 1]

        def apply_full(inputs: list[Tensor], kernel: Tensor) -> Tensor:
            strides4 = [1, *layer.strides, 1]
            return tf.nn.conv2d(inputs[0], kernel, strides4, padding, dilations=dilations4)

        return Affine(apply_full, scaled(full, scale), folded_bias(layer, scale, shift))

    def apply(inputs: list[Tensor], kernel: Tensor) -> Tensor:
        return tf.nn.depthwise_conv2d(inputs[0], kernel, strides, padding, dilations=dilations)

    # output channel c * m + k comes from kernel[..., c, k]
    per_kernel = None if scale is None else tf.reshape(scale, depthwise.shape[2:])
    return Affine(apply, scaled(depthwise, per_kernel), folded_bias(layer, scale, shift))


CONV = Kind(
    "conv", exactly(keras.layers.Conv2D, _is_plain_conv), _conv_backward, _conv_rung,
    own_activation, affine=_conv_affine,
)  # fmt: skip
DEPTHWISE = Kind(
    "depthwise", exactly(keras.layers.DepthwiseConv2D), _separable_backward,
    activation=own_activation, affine=_separable_affine,
)  # fmt: skip
SEPARABLE = Kind(
    "separable", exactly(keras.layers.SeparableConv2D), _separable_backward,
    activation=own_activation, affine=_separable_affine,
)  # fmt: skip


# -------------------------------------------------------------------------- pooling
def _pool_args(layer: Any) -> tuple[list[int], list[int], str]:
    """ksize, strides and padding of a keras pooling layer, as TensorFlow's ops take them."""
    return [1, *layer.pool_size, 1], [1, *layer.strides, 1], layer.padding.upper()


def _maxpool_backward(layer: Any, grad: Tensor, inputs: list, output: Tensor) -> list:
    """Max unpooling: each value goes back to the position its window's maximum came from."""
    ksize, strides, padding = _pool_args(layer)
    batch = tf.shape(grad)[0]
    return [
        tf.raw_ops.MaxPoolGrad(
            orig_input=batch_like(inputs[0], batch),
            orig_output=batch_like(output, batch),
            grad=grad,
            ksize=ksize,
            strides=strides,
            padding=padding,
        )
    ]


def _maxpool_rung(layer: Any, signal: np.ndarray, below: np.ndarray) -> tuple:
    """Max unpooling with the switches `max_pool_with_switches` records."""
    pool, strides, padding = tuple(layer.pool_size), tuple(layer.strides), layer.padding.upper()
    _, switches = ops.max_pool_with_switches(below[None], pool, strides, padding)
    unpooled = ops.max_unpool(signal[None], switches, (1, *below.shape))[0]
    return "unpool", unpooled, "max unpooling with the switches"


def _avgpool_backward(layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """Average unpooling: each value shared evenly over its window (the adjoint)."""
    ksize, strides, padding = _pool_args(layer)
    shape = shape_of_input(grad, inputs[0])
    return [
        tf.raw_ops.AvgPoolGrad(
            orig_input_shape=shape, grad=grad, ksize=ksize, strides=strides, padding=padding
        )
    ]


def _avgpool_rung(layer: Any, signal: np.ndarray, below: np.ndarray) -> tuple:
    """Average unpooling, adjoint mode."""
    unpooled = ops.avg_unpool(
        signal[None],
        (1, *below.shape),
        tuple(layer.pool_size),
        tuple(layer.strides),
        layer.padding.upper(),
        mode="adjoint",
    )[0]
    return "unpool", unpooled, "average unpooling (adjoint)"


def _avgpool_affine(layer: Any, _scale: Any = None, _shift: Any = None) -> Affine:
    """Z = the window means of a: fixed non-negative weights, no bias."""
    ksize, strides, padding = _pool_args(layer)
    return Affine(lambda inputs, _w: tf.nn.avg_pool2d(inputs[0], ksize, strides, padding))


MAXPOOL = Kind("maxpool", exactly(keras.layers.MaxPooling2D), _maxpool_backward, _maxpool_rung)
AVGPOOL = Kind(
    "avgpool", exactly(keras.layers.AveragePooling2D), _avgpool_backward, _avgpool_rung,
    affine=_avgpool_affine,
)  # fmt: skip


# ---------------------------------------------------------------- padding and crops
def _zeropad_backward(layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """Zero padding's adjoint crops the padding off."""
    (top, bottom), (left, right) = layer.padding
    height, width = tf.shape(grad)[1], tf.shape(grad)[2]
    return [grad[:, top : height - bottom, left : width - right, :]]


def _zeropad_rung(layer: Any, signal: np.ndarray, _below: np.ndarray) -> tuple:
    """Crop (undo zero padding)."""
    (top, bottom), (left, right) = layer.padding
    height, width = signal.shape[:2]
    return (
        "identity",
        signal[top : height - bottom, left : width - right],
        "crop (undo zero padding)",
    )


def _crop_backward(layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """Cropping's adjoint pads the cropped rows back with zeros."""
    (top, bottom), (left, right) = layer.cropping
    return [tf.pad(grad, [[0, 0], [top, bottom], [left, right], [0, 0]])]


def _crop_rung(layer: Any, signal: np.ndarray, _below: np.ndarray) -> tuple:
    """Pad (undo cropping)."""
    (top, bottom), (left, right) = layer.cropping
    return "identity", np.pad(signal, ((top, bottom), (left, right), (0, 0))), "pad (undo cropping)"


ZEROPAD = Kind(
    "zeropad", exactly(keras.layers.ZeroPadding2D), _zeropad_backward, _zeropad_rung,
    pad_before=lambda layer, *_: int(layer.padding[0][0]),
)  # fmt: skip
CROP = Kind(
    "crop", exactly(keras.layers.Cropping2D), _crop_backward, _crop_rung,
    pad_before=lambda layer, *_: -int(layer.cropping[0][0]),
)  # fmt: skip
