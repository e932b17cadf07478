"""Per-layer backward rules: what each layer does to a signal travelling down to the pixels."""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from typing import Any

import keras

from . import kinds
from .kinds import batch_like

METHODS = ("deconvnet", "guided", "saliency")
"""The projection methods: Zeiler & Fergus's DeconvNet, guided backprop, plain gradient."""
SEEDS = ("activation", "max", "ones")
"""What the projection places on the chosen channel: its activation, a 1 at its maximum, 1s."""


def kind_and_activation(layer: Any) -> tuple[kinds.Kind | None, str]:
    """The layer's Kind (None: 'other') and its nonlinearity ('linear', 'relu' or a name)."""
    kind = kinds.kind_of(layer)
    if kind is None:
        return None, type(layer).__name__
    return kind, kind.activation(layer)


def classify(layer: Any) -> tuple[str, str]:
    """(rule, activation) of a layer: rule names its linear part, activation its nonlinearity.

    rule is the name of the layer's entry in `kinds.KINDS`, or 'other' (no explicit rule);
    activation is 'linear', 'relu' or another name.
    """
    kind, activation = kind_and_activation(layer)
    return (kind.name if kind else "other"), activation


def unsupported_reason(layer: Any, method: str) -> str | None:
    """Why `method` cannot pass a signal back through `layer`, or None if it can."""
    if method == "saliency":
        return None  # any differentiable layer: explicit rule or a vjp fallback
    rule, activation = classify(layer)
    kind = type(layer).__name__
    if rule == "other" and isinstance(layer, keras.Model):
        return (
            f"layer {layer.name!r} ({kind}) is a nested model, which the DeconvNet rules do not "
            f"enter; build a Projector on it directly (e.g. Projector(model.get_layer("
            f"{layer.name!r})))"
        )
    if rule == "other":
        return f"layer {layer.name!r} ({kind}) has no DeconvNet rule"
    if activation not in ("linear", "relu"):
        return (
            f"layer {layer.name!r} ({kind}) uses the activation {activation!r}, which is not a "
            f"plain ReLU"
        )
    return None


def relu_backward(grad: Tensor, output: Tensor, method: str) -> Tensor:
    """The ReLU rule of a method, given the ReLU's forward output (its mask [x > 0])."""
    if method == "deconvnet":
        return tf.nn.relu(grad)
    mask = tf.cast(output > 0, grad.dtype)
    if method == "guided":
        return tf.nn.relu(grad) * mask
    return grad * mask


def call_as_in_model(node: Any, values: list[Tensor]) -> Any:
    """Call a node's layer (or keras operation) on new input values, the way the model did."""
    layer = node.layer
    if node.arguments is None:
        return layer(values if len(values) > 1 else values[0], training=False)
    args, kwargs = node.arguments.fill_in(
        {id(tensor): value for tensor, value in zip(node.inputs, values, strict=True)}
    )
    if isinstance(layer, keras.layers.Layer):
        kwargs = {**kwargs, "training": False}
    return layer(*args, **kwargs)


def vjp_backward(node: Any, grad: Tensor, inputs: list[Tensor]) -> list[Tensor]:
    """Plain gradient through any differentiable layer or operation, by a GradientTape."""
    batch = tf.shape(grad)[0]
    tiled = [batch_like(t, batch) for t in inputs]
    with tf.GradientTape() as tape:
        for tensor in tiled:
            tape.watch(tensor)
        output = call_as_in_model(node, tiled)
    grads = tape.gradient(output, tiled, output_gradients=grad)
    return [tf.zeros_like(t) if g is None else g for t, g in zip(tiled, grads, strict=True)]
