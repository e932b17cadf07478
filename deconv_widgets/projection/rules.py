"""One layer's backward under a method: its nonlinearity's rule, then its linear part's.

A layer is read as a linear part (its `kinds` entry, or its own gradient when it has none)
followed by an elementwise nonlinearity (an activation layer, or a conv/dense `activation=`).
At a rectifier the method's rule applies; any other nonlinearity takes its exact
vector-Jacobian product; the linear part takes its adjoint, or under LRP its relevance rule.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import keras

from deconv_widgets import methods
from deconv_widgets.methods import Affine, Method

from . import kinds
from .graph import GraphNode, call_as_in_model
from .kinds import batch_like

__all__ = [
    "METHODS",
    "RECTIFIERS",
    "SEEDS",
    "Nonlinearity",
    "backward",
    "call_as_in_model",
    "classify",
    "kind_and_activation",
    "nonlinearity_of",
]

METHODS = methods.NAMES
"""The projection methods' names (the registry's `methods.NAMES`)."""
SEEDS = methods.SEEDS
"""What the projection places on the chosen channel: its activation, a 1 at its maximum, 1s."""

_A = keras.activations
RECTIFIERS = {
    _A.relu, _A.relu6, _A.leaky_relu, _A.elu, _A.selu, _A.silu, _A.hard_silu, _A.gelu,
    _A.mish, _A.softplus,
}  # fmt: skip
"""The rectifier activations (swish is silu, hard_swish is hard_silu); their layer classes
(ReLU with any arguments, LeakyReLU, ELU, PReLU) are rectifiers too."""
_RECTIFIER_LAYERS = (
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
)
_SWAP_LOCK = threading.RLock()  # a layer's activation is swapped out only while tracing


def kind_and_activation(layer: Any) -> tuple[kinds.Kind | None, str]:
    """The layer's Kind (None: 'other') and its nonlinearity ('linear', 'relu' or a name)."""
    kind = kinds.kind_of(layer)
    if kind is None:
        return None, type(layer).__name__
    return kind, kind.activation(layer)


def classify(layer: Any) -> tuple[str, str]:
    """(rule, activation) of a layer: rule names its linear part, activation its nonlinearity.

    rule is the name of the layer's entry in `kinds.KINDS`, or 'other' (its own gradient);
    activation is 'linear', 'relu' or another name.
    """
    kind, activation = kind_and_activation(layer)
    return (kind.name if kind else "other"), activation


@dataclass(frozen=True)
class Nonlinearity:
    """The elementwise function a layer ends with."""

    function: Callable[[Tensor], Tensor]
    rectifier: bool  # the method's rectifier rule applies
    standalone: bool  # the layer is only this function (its input is x)
    from_output: Callable[[Tensor, Tensor], Tensor] | None = None
    """(h, y) -> h · f'(x) read off the output y (relu, relu6: no forward pass to redo)."""


def _relu_vjp(signal: Tensor, output: Tensor) -> Tensor:
    """The signal times relu's derivative read off its output, [y > 0]."""
    return signal * tf.cast(output > 0, signal.dtype)


def _relu6_vjp(signal: Tensor, output: Tensor) -> Tensor:
    """The signal times relu6's derivative, [0 < y < 6]: TensorFlow's own Relu6Grad."""
    features = batch_like(output, tf.shape(signal)[0])  # the op takes equal shapes only
    return tf.raw_ops.Relu6Grad(gradients=signal, features=features)


def nonlinearity_of(layer: Any) -> Nonlinearity | None:
    """The layer's elementwise nonlinearity, None when it has none (or it is linear)."""
    if isinstance(layer, _RECTIFIER_LAYERS):
        name = kinds.IDENTITY.activation(layer)  # "relu", "relu6" for those ReLU layers
        return Nonlinearity(layer.call, True, True, _FROM_OUTPUT.get(name))
    function = getattr(layer, "activation", None)
    if function is None or function is _A.linear or not callable(function):
        return None
    standalone = isinstance(layer, keras.layers.Activation)
    name = {_A.relu: "relu", _A.relu6: "relu6"}.get(function, "")
    return Nonlinearity(function, function in RECTIFIERS, standalone, _FROM_OUTPUT.get(name))


_FROM_OUTPUT = {"relu": _relu_vjp, "relu6": _relu6_vjp}


@contextmanager
def _linear_part(layer: Any) -> Iterator[None]:
    """While tracing, the layer without its activation (its linear part)."""
    with _SWAP_LOCK:
        function = layer.activation
        layer.activation = _A.linear
        try:
            yield
        finally:
            layer.activation = function


def _tiled(inputs: list[Tensor], batch: Tensor) -> list[Tensor]:
    """Cached inputs (batch 1) broadcast to the signal's batch."""
    return [batch_like(t, batch) for t in inputs]


def _through_nonlinearity(
    node: GraphNode, act: Nonlinearity, grad: Tensor, inputs: list, output: Tensor, method: Method
) -> Tensor:
    """The signal below the layer's nonlinearity (above its linear part)."""

    def vjp(signal: Tensor) -> Tensor:
        if act.from_output is not None:
            return act.from_output(signal, output)
        batch = tf.shape(signal)[0]
        if act.standalone:
            x = batch_like(inputs[0], batch)
        else:
            with _linear_part(node.layer):
                x = call_as_in_model(node, _tiled(inputs, batch))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = act.function(x)
        return tape.gradient(y, x, output_gradients=signal)

    if act.rectifier:
        return method.rectifier(grad, vjp)
    return vjp(grad)


def backward(
    node: GraphNode,
    grad: Tensor,
    inputs: list[Tensor],
    output: Tensor,
    method: Method,
    drop_activation: bool = False,
    fold: tuple[Tensor, Tensor, Tensor] | None = None,
) -> list[Tensor]:
    """The signal below `node`, one per input, under `method` (traced).

    Args:
        node: the layer call.
        grad: the signal on its output (B, ...).
        inputs: its recorded inputs (batch 1).
        output: its recorded output (batch 1).
        method: the method whose rules apply.
        drop_activation: leave the activation out (a class score before its softmax).
        fold: (scale, shift, output) of a BN after the layer, folded into it (LRP's
            canonisation); its output is the folded layer's z.
    """
    layer = node.layer
    act = None if drop_activation else nonlinearity_of(layer)
    if act is not None:
        grad = _through_nonlinearity(node, act, grad, inputs, output, method)
        if act.standalone:
            return [grad]
    kind = kinds.kind_of(layer)
    if method.linear is not None and kind is not None and kind.affine is not None:
        return method.linear(
            _recorded_affine(kind, node, inputs, output, act is None and not drop_activation, fold),
            grad,
            _tiled(inputs, tf.shape(grad)[0]),
        )
    if kind is not None:
        return kind.backward(layer, grad, inputs, output)
    return vjp_backward(node, grad, inputs, linear=act is not None)


def _recorded_affine(
    kind: kinds.Kind,
    node: GraphNode,
    inputs: list[Tensor],
    output: Tensor,
    linear_output: bool,
    fold: tuple[Tensor, Tensor, Tensor] | None,
) -> Affine:
    """The layer's linear part for LRP, with z and the adjoint where the forward recorded z.

    z is the layer's own output when it has no nonlinearity (`linear_output`), or the output
    of the BN folded into it; the adjoint of a folded layer scales by the BN's factor first.
    """
    layer = node.layer
    assert kind.affine is not None  # the caller checked
    if fold is None:
        affine = kind.affine(layer, None, None)
        recorded = output if linear_output else None
        scale = None
    else:
        scale, shift, recorded = fold
        affine = kind.affine(layer, scale, shift)
    if recorded is None:
        return affine

    def adjoint(signal: Tensor) -> list[Tensor]:
        scaled = signal if scale is None else signal * tf.cast(scale, signal.dtype)
        return kind.backward(layer, scaled, inputs, output)

    return replace(affine, output=recorded, adjoint=adjoint)


def vjp_backward(
    node: GraphNode, grad: Tensor, inputs: list[Tensor], linear: bool = False
) -> list[Tensor]:
    """The layer's own gradient at its recorded inputs (`linear`: its activation left out).

    Raises:
        ValueError: a layer whose output has no gradient TensorFlow can take from its inputs.
    """
    tiled = _tiled(inputs, tf.shape(grad)[0])
    try:
        with tf.GradientTape() as tape:
            for tensor in tiled:
                tape.watch(tensor)
            if linear:
                with _linear_part(node.layer):
                    output = call_as_in_model(node, tiled)
            else:
                output = call_as_in_model(node, tiled)
        grads = tape.gradient(output, tiled, output_gradients=grad)
    except LookupError as err:  # an op with no registered gradient
        raise _no_gradient(node, f"TensorFlow has no gradient for one of its ops ({err})") from err
    if all(g is None for g in grads):
        raise _no_gradient(node, "its output does not depend differentiably on its input")
    return [tf.zeros_like(t) if g is None else g for t, g in zip(tiled, grads, strict=True)]


def _no_gradient(node: GraphNode, why: str) -> ValueError:
    """The refusal of a layer no signal can pass."""
    return ValueError(
        f"cannot pass a signal back through layer {node.name!r} ({node.kind}): {why}; make it "
        "differentiable (e.g. a tf.custom_gradient), register a rule for it with "
        "deconv_widgets.projection.kinds.register, or pick a layer below it"
    )
