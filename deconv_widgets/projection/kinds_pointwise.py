"""Kinds of the layers that act at each position on its own.

The identities at inference and the activation layers, BatchNormalization and Rescaling (a
per-channel scale), and the merges (add, subtract, concatenate).
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from deconv_widgets.methods import Affine

from .kind_base import Kind, activation_kind, exactly

# ----------------------------------------------------------------------- identity
IDENTITY_KINDS = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "Identity",
    "InputLayer",
}


@dataclass(frozen=True)
class Alias:
    """Where a flattened nested model meets its outer graph: the identity.

    `kind` is the nested model's class (shown for its output); `shown` False hides the alias
    of its input from `Projector.layers`.
    """

    name: str
    kind: str
    shown: bool = True
    weights: tuple = ()

    def __call__(self, value: Any, **_kwargs: Any) -> Any:
        """The identity."""
        return value


ACTIVATION_LAYERS = (
    keras.layers.ReLU,
    keras.layers.Activation,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
)
"""Layers that are only an elementwise function (their own layer classes of the rectifiers)."""


def _is_plain_relu_layer(layer: Any) -> bool:
    """A keras ReLU layer with its default arguments (max 0, slope 0, threshold 0)."""
    return (
        layer.max_value is None
        and float(layer.negative_slope) == 0.0
        and float(layer.threshold) == 0.0
    )


def _identity_backward(_layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """The identity passes the gradient on."""
    return [grad]


def _identity_activation(layer: Any) -> str:
    """The nonlinearity of an activation layer (linear for the other identities)."""
    if isinstance(layer, keras.layers.ReLU):
        return "relu" if _is_plain_relu_layer(layer) else "relu6" if _is_relu6(layer) else "ReLU"
    if isinstance(layer, keras.layers.Activation):
        return activation_kind(layer.activation)
    if isinstance(layer, ACTIVATION_LAYERS):
        return type(layer).__name__
    return "linear"


def _is_relu6(layer: Any) -> bool:
    """A keras ReLU layer that is ReLU6 (max 6, slope 0, threshold 0)."""
    return (
        layer.max_value is not None
        and float(layer.max_value) == 6.0
        and float(layer.negative_slope) == 0.0
        and float(layer.threshold) == 0.0
    )


def _identity_rung(layer: Any, signal: np.ndarray, _below: np.ndarray) -> tuple | None:
    """Nothing to show for an identity; an activation layer shows its rectify rung instead."""
    if isinstance(layer, Alias) or _identity_activation(layer) != "linear":
        return None
    return "identity", signal, "identity at inference"


def _is_identity(layer: Any) -> bool:
    """Layers that are the identity at inference, activation layers included.

    An activation layer's function is the engine's rectifier or elementwise rule, applied
    before this adjoint.
    """
    return type(layer).__name__ in IDENTITY_KINDS or isinstance(layer, (Alias, *ACTIVATION_LAYERS))


IDENTITY = Kind("identity", _is_identity, _identity_backward, _identity_rung, _identity_activation)


# --------------------------------------------------------------------------- scales
def bn_scale(layer: Any) -> Tensor:
    """The per-channel factor gamma / sqrt(moving variance + epsilon) of an inference-mode BN."""
    variance = tf.convert_to_tensor(layer.moving_variance)
    scale = tf.math.rsqrt(variance + layer.epsilon)
    if layer.scale and layer.gamma is not None:
        scale = scale * tf.convert_to_tensor(layer.gamma)
    return tf.cast(scale, tf.float32)


def bn_shift(layer: Any) -> Tensor:
    """The per-channel shift beta - mean * scale of an inference-mode BN (BN(x) = x s + shift)."""
    shift = -tf.cast(tf.convert_to_tensor(layer.moving_mean), tf.float32) * bn_scale(layer)
    if layer.center and layer.beta is not None:
        shift = shift + tf.cast(tf.convert_to_tensor(layer.beta), tf.float32)
    return shift


def _bn_affine(layer: Any, _scale: Any = None, _shift: Any = None) -> Affine:
    """A lone BN is the affine map it is: z = a * scale + shift, elementwise."""
    return Affine(lambda inputs, w: inputs[0] * w, bn_scale(layer), bn_shift(layer))


def _bn_backward(layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """An inference-mode BN is a per-channel scale (its shift is a bias)."""
    return [grad * bn_scale(layer)]


def _bn_rung(layer: Any, signal: np.ndarray, _below: np.ndarray) -> tuple:
    """Times the BN's per-channel factor."""
    return "scale", (signal * bn_scale(layer).numpy()).astype(np.float32), "times bn factor"


def _rescale_backward(layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """Rescaling multiplies by `scale` (its offset is a bias)."""
    return [grad * tf.cast(layer.scale, grad.dtype)]


def _rescale_rung(layer: Any, signal: np.ndarray, _below: np.ndarray) -> tuple:
    """Times the Rescaling's factor."""
    return "scale", (signal * float(layer.scale)).astype(np.float32), "times rescale factor"


BN = Kind(
    "bn", exactly(keras.layers.BatchNormalization, lambda layer: layer.axis in (-1, 3, [3], [-1])),
    _bn_backward, _bn_rung, affine=_bn_affine,
)  # fmt: skip
RESCALE = Kind(
    "rescale", exactly(keras.layers.Rescaling, lambda _: True), _rescale_backward, _rescale_rung
)


# --------------------------------------------------------------------------- merges
def _add_backward(_layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """Every summand gets the gradient."""
    return [grad for _ in inputs]


def _subtract_backward(_layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """The difference a - b: the gradient and its negative."""
    return [grad, -grad]


def _concat_backward(_layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """Each input gets its own channels back."""
    return list(tf.split(grad, [int(t.shape[-1]) for t in inputs], axis=-1))


def _add_affine(_layer: Any, _scale: Any = None, _shift: Any = None) -> Affine:
    """Z = the sum of the inputs: each gets relevance in proportion to its contribution."""
    return Affine(lambda inputs, _w: tf.add_n(inputs))


_ANY = lambda _layer: True  # noqa: E731  (a matcher test that every layer passes)
ADD = Kind("add", exactly(keras.layers.Add, _ANY), _add_backward, affine=_add_affine)
SUBTRACT = Kind("subtract", exactly(keras.layers.Subtract, _ANY), _subtract_backward)
CONCAT = Kind(
    "concat",
    exactly(keras.layers.Concatenate, lambda layer: layer.axis in (-1, 3)),
    _concat_backward,
)
