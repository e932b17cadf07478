"""The layer kinds the projections know: one entry each, its forward beside its backward.

Each `Kind` says how to recognise a layer, what its nonlinearity is, the adjoint of its linear
part (the engine's rule for every method, traced in TensorFlow), its ladder rung (the same step
done explicitly with `deconv_widgets.ops`, in NumPy) and, where it is not the generic one, its
geometry for receptive fields. Adding a layer kind is adding one entry (`register`).
Layers no entry matches are "other": every method passes them by their exact vector-Jacobian
product (the layer's own gradient at its recorded input). `affine` gives LRP a layer's linear
part (z = W a + b); kinds without one take the adjoint under LRP too.
"""

from __future__ import annotations

from deconv_widgets._tf import Tensor, tf

# isort: split

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from deconv_widgets import ops
from deconv_widgets.methods import Affine

Backward = Callable[[Any, Tensor, list[Tensor], Tensor], list[Tensor]]
"""(layer, grad (B, ...), its inputs, its output) -> one gradient per input, bias unused."""
Step = Callable[[Any, np.ndarray, np.ndarray], "tuple[str, np.ndarray, str] | None"]
"""(layer, signal (H', W', C'), the layer's input (H, W, C)) -> (op, signal below, note)."""
PadBefore = Callable[[Any, "int | None", "int | None", int, int], int]
"""(layer, size in, size out, kernel span, stride) -> rows padded (cropped < 0) before, rows."""
AffineOf = Callable[[Any, "Tensor | None", "Tensor | None"], Affine]
"""(layer, BN scale, BN shift folded after it or None) -> the layer's linear part for LRP."""


def activation_kind(function: Any) -> str:
    """'relu', 'linear' or the name of another activation function."""
    if function is None or function is keras.activations.linear:
        return "linear"
    if function is keras.activations.relu:
        return "relu"
    return getattr(function, "__name__", type(function).__name__)


def _linear(_layer: Any) -> str:
    """The nonlinearity of a layer that has none."""
    return "linear"


def _own_activation(layer: Any) -> str:
    """The nonlinearity of a layer with an `activation` argument (Conv2D, Dense, ...)."""
    return activation_kind(layer.activation)


def same_padding_before(
    layer: Any, size_in: int | None, size_out: int | None, span: int, stride: int
) -> int:
    """Rows a window layer pads before its input: TensorFlow's SAME rule, 0 for VALID."""
    if str(getattr(layer, "padding", "valid")).lower() != "same":
        return 0
    if size_in is None or size_out is None:
        return (span - 1) // 2
    return max((size_out - 1) * stride + span - size_in, 0) // 2


@dataclass(frozen=True)
class Kind:
    """One layer kind: recognise it, its activation, its adjoint, its ladder rung, geometry."""

    name: str
    matches: Callable[[Any], bool]
    backward: Backward
    rung: Step | None = None  # None: the ladder has no explicit step (use Projector.project)
    activation: Callable[[Any], str] = _linear
    pad_before: PadBefore = same_padding_before
    affine: AffineOf | None = None  # None: LRP passes relevance by the adjoint (`backward`)


def batch_like(tensor: Tensor, batch: Tensor) -> Tensor:
    """Broadcast a cached tensor of batch 1 (or `batch`) to batch `batch`."""
    return tf.broadcast_to(tensor, tf.concat([[batch], tf.shape(tensor)[1:]], axis=0))


def _shape_of_input(grad: Tensor, layer_input: Tensor) -> Tensor:
    """The shape (B, H, W, C) of a layer's input at the gradient's batch size."""
    return tf.concat([[tf.shape(grad)[0]], tf.shape(layer_input)[1:]], axis=0)


def _channels_last(layer: Any) -> bool:
    """True unless the layer reads channels first."""
    return getattr(layer, "data_format", "channels_last") == "channels_last"


def _exactly(cls: type, test: Callable[[Any], bool] = _channels_last) -> Callable[[Any], bool]:
    """A matcher for layers of exactly this class (not subclasses) that pass `test`."""
    return lambda layer: type(layer) is cls and test(layer)


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


# --------------------------------------------------------------------- convolutions
def _is_plain_conv(layer: Any) -> bool:
    """A Conv2D, channels last, one group, no LoRA."""
    return (
        _channels_last(layer)
        and getattr(layer, "groups", 1) == 1
        and not getattr(layer, "lora_enabled", False)
    )


def _conv_backward(layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """The transposed convolution with the layer's own kernel (bias unused)."""
    shape = _shape_of_input(grad, inputs[0])
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
    shape = _shape_of_input(grad, inputs[0])
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


def _scaled(weights: Tensor, scale: Tensor | None) -> Tensor:
    """Weights times a per-output-channel factor (a BN folded after the layer), or as they are."""
    return weights if scale is None else weights * tf.cast(scale, weights.dtype)


def _bias(layer: Any, scale: Tensor | None, shift: Tensor | None) -> Tensor | None:
    """The layer's bias with a BN (scale, shift) folded after it; None without either."""
    bias = tf.cast(layer.bias, tf.float32) if getattr(layer, "use_bias", False) else None
    if scale is None:
        return bias
    base = bias if bias is not None else tf.zeros_like(tf.cast(scale, tf.float32))
    return base * tf.cast(scale, tf.float32) + tf.cast(shift, tf.float32)


def _conv_affine(layer: Any, scale: Tensor | None = None, shift: Tensor | None = None) -> Affine:
    """Z = conv(a, kernel) + bias."""
    strides, dilations = [1, *layer.strides, 1], [1, *layer.dilation_rate, 1]
    padding = layer.padding.upper()

    def apply(inputs: list[Tensor], kernel: Tensor) -> Tensor:
        return tf.nn.conv2d(inputs[0], kernel, strides, padding, dilations=dilations)

    kernel = _scaled(tf.cast(layer.kernel, tf.float32), scale)
    return Affine(apply, kernel, _bias(layer, scale, shift))


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

        return Affine(apply_full, _scaled(full, scale), _bias(layer, scale, shift))

    def apply(inputs: list[Tensor], kernel: Tensor) -> Tensor:
        return tf.nn.depthwise_conv2d(inputs[0], kernel, strides, padding, dilations=dilations)

    # output channel c * m + k comes from kernel[..., c, k]
    per_kernel = None if scale is None else tf.reshape(scale, depthwise.shape[2:])
    return Affine(apply, _scaled(depthwise, per_kernel), _bias(layer, scale, shift))


CONV = Kind(
    "conv", _exactly(keras.layers.Conv2D, _is_plain_conv), _conv_backward, _conv_rung,
    _own_activation, affine=_conv_affine,
)  # fmt: skip
DEPTHWISE = Kind(
    "depthwise", _exactly(keras.layers.DepthwiseConv2D), _separable_backward,
    activation=_own_activation, affine=_separable_affine,
)  # fmt: skip
SEPARABLE = Kind(
    "separable", _exactly(keras.layers.SeparableConv2D), _separable_backward,
    activation=_own_activation, affine=_separable_affine,
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
    shape = _shape_of_input(grad, inputs[0])
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


MAXPOOL = Kind("maxpool", _exactly(keras.layers.MaxPooling2D), _maxpool_backward, _maxpool_rung)
AVGPOOL = Kind(
    "avgpool", _exactly(keras.layers.AveragePooling2D), _avgpool_backward, _avgpool_rung,
    affine=_avgpool_affine,
)  # fmt: skip


# ------------------------------------------------------------------- scales and crops
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


BN = Kind(
    "bn", _exactly(keras.layers.BatchNormalization, lambda layer: layer.axis in (-1, 3, [3], [-1])),
    _bn_backward, _bn_rung, affine=_bn_affine,
)  # fmt: skip
RESCALE = Kind(
    "rescale", _exactly(keras.layers.Rescaling, lambda _: True), _rescale_backward, _rescale_rung
)
ZEROPAD = Kind(
    "zeropad", _exactly(keras.layers.ZeroPadding2D), _zeropad_backward, _zeropad_rung,
    pad_before=lambda layer, *_: int(layer.padding[0][0]),
)  # fmt: skip
CROP = Kind(
    "crop", _exactly(keras.layers.Cropping2D), _crop_backward, _crop_rung,
    pad_before=lambda layer, *_: -int(layer.cropping[0][0]),
)  # fmt: skip


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
ADD = Kind("add", _exactly(keras.layers.Add, _ANY), _add_backward, affine=_add_affine)
SUBTRACT = Kind("subtract", _exactly(keras.layers.Subtract, _ANY), _subtract_backward)
CONCAT = Kind(
    "concat",
    _exactly(keras.layers.Concatenate, lambda layer: layer.axis in (-1, 3)),
    _concat_backward,
)


# ------------------------------------------------------- the class head above the maps
def _dense_backward(layer: Any, grad: Tensor, _inputs: list, _output: Tensor) -> list:
    """The product x @ kernel on the last axis: its transpose is grad @ kernel^T."""
    return [tf.einsum("...u,iu->...i", grad, tf.cast(layer.kernel, grad.dtype))]


def _dense_affine(layer: Any, scale: Tensor | None = None, shift: Tensor | None = None) -> Affine:
    """Z = a @ kernel + bias on the last axis."""
    kernel = _scaled(tf.cast(layer.kernel, tf.float32), scale)
    apply = lambda inputs, w: tf.einsum("...i,iu->...u", inputs[0], w)  # noqa: E731
    return Affine(apply, kernel, _bias(layer, scale, shift))


def _gap_affine(layer: Any, _scale: Any = None, _shift: Any = None) -> Affine:
    """Z = the mean over (H, W): fixed non-negative weights."""
    keepdims = bool(layer.keepdims)
    return Affine(lambda inputs, _w: tf.reduce_mean(inputs[0], axis=[1, 2], keepdims=keepdims))


def _reshape_backward(_layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """Back to the input's shape."""
    return [tf.reshape(grad, _shape_of_input(grad, inputs[0]))]


def _gap_backward(_layer: Any, grad: Tensor, inputs: list, _output: Tensor) -> list:
    """The mean over (H, W): each position gets 1 / (H W) of the gradient."""
    shape = _shape_of_input(grad, inputs[0])
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
    _exactly(keras.layers.Dense, lambda layer: not getattr(layer, "lora_enabled", False)),
    _dense_backward,
    activation=_own_activation,
    affine=_dense_affine,
)
RESHAPE = Kind(
    "reshape",
    lambda layer: type(layer) in (keras.layers.Flatten, keras.layers.Reshape),
    _reshape_backward,
)
GAP = Kind(
    "gap",
    _exactly(keras.layers.GlobalAveragePooling2D),
    _gap_backward,
    affine=_gap_affine,
)
GMP = Kind("gmp", _exactly(keras.layers.GlobalMaxPooling2D), _gmp_backward)


# ---------------------------------------------------------------------------- table
KINDS: list[Kind] = [
    IDENTITY, CONV, DEPTHWISE, SEPARABLE, MAXPOOL, AVGPOOL, BN, ZEROPAD, CROP,
    ADD, SUBTRACT, CONCAT, RESCALE, DENSE, RESHAPE, GAP, GMP,
]  # fmt: skip
"""Every known kind, searched in order; the first whose `matches` is true is a layer's."""


def kind_of(layer: Any) -> Kind | None:
    """The layer's Kind, or None ('other': no explicit rule)."""
    for kind in KINDS:
        if kind.matches(layer):
            return kind
    return None


@contextmanager
def registered(*kinds: Kind) -> Iterator[None]:
    """Know `kinds` (first, before the built-in ones) inside the block; for tests and trials.

    A Projector reads the kinds when it compiles a layer: build it inside the block.
    """
    KINDS[:0] = kinds
    try:
        yield
    finally:
        del KINDS[: len(kinds)]


def register(kind: Kind) -> None:
    """Know `kind` from now on, before the built-in kinds (so it can refine one of them)."""
    KINDS.insert(0, kind)


def names() -> Sequence[str]:
    """The names of the known kinds, in search order."""
    return [kind.name for kind in KINDS]
