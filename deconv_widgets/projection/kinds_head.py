"""Kinds of the class head above the maps: Dense, Flatten / Reshape, global pooling."""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from typing import Any

import keras

from deconv_widgets.methods import Affine

from .kind_base import (
    Kind,
    batch_like,
    exactly,
    folded_bias,
    own_activation,
    scaled,
    shape_of_input,
)


# ------------------------------------------------------- the class head above the maps
def _dense_backward(layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """The product x @ kernel on the last axis: its transpose is grad @ kernel^T."""
    return [tf.einsum("...u,iu->...i", grad, tf.cast(layer.kernel, grad.dtype))]


def _dense_affine(layer: Any, scale: Tensor | None = None, shift: Tensor | None = None) -> Affine:
    """Z = a @ kernel + bias on the last axis."""
    kernel = scaled(tf.cast(layer.kernel, tf.float32), scale)
    apply = lambda inputs, w: tf.einsum("...i,iu->...u", inputs[0], w)  # noqa: E731
    return Affine(apply, kernel, folded_bias(layer, scale, shift))


def _gap_affine(layer: Any, _scale: Any = None, _shift: Any = None) -> Affine:
    """Z = the mean over (H, W): fixed non-negative weights."""
    keepdims = bool(layer.keepdims)
    return Affine(lambda inputs, _w: tf.reduce_mean(inputs[0], axis=[1, 2], keepdims=keepdims))


def _reshape_backward(_layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """Back to the input's shape."""
    return [tf.reshape(grad, shape_of_input(grad, inputs[0]))]


def _gap_backward(_layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """The mean over (H, W): each position gets 1 / (H W) of the gradient."""
    shape = shape_of_input(grad, inputs[0])
    area = tf.cast(shape[1] * shape[2], grad.dtype)
    return [tf.broadcast_to(tf.reshape(grad, [shape[0], 1, 1, -1]), shape) / area]


def _gmp_backward(layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """The maximum over (H, W): TensorFlow's own gradient (ties shared)."""
    tiled = batch_like(inputs[0], tf.shape(grad)[0])
    with tf.GradientTape() as tape:
        tape.watch(tiled)
        pooled = tf.reduce_max(tiled, axis=[1, 2], keepdims=bool(layer.keepdims))
    return [tape.gradient(pooled, tiled, output_gradients=grad)]


DENSE = Kind(
    "dense",
    exactly(keras.layers.Dense, lambda layer: not getattr(layer, "lora_enabled", False)),
    _dense_backward,
    activation=own_activation,
    affine=_dense_affine,
)
RESHAPE = Kind(
    "reshape",
    lambda layer: type(layer) in (keras.layers.Flatten, keras.layers.Reshape),
    _reshape_backward,
)
GAP = Kind(
    "gap",
    exactly(keras.layers.GlobalAveragePooling2D),
    _gap_backward,
    affine=_gap_affine,
)
GMP = Kind("gmp", exactly(keras.layers.GlobalMaxPooling2D), _gmp_backward)
