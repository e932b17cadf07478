"""Per-layer backward rules: what each layer does to a signal travelling down to the pixels."""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

from typing import Any

import keras

METHODS = ("deconvnet", "guided", "saliency")

# Layers that are the identity at inference time.
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


def _is_plain_relu_layer(layer: Any) -> bool:
    """A keras ReLU layer with its default arguments (max 0, slope 0, threshold 0)."""
    return (
        isinstance(layer, keras.layers.ReLU)
        and layer.max_value is None
        and float(layer.negative_slope) == 0.0
        and float(layer.threshold) == 0.0
    )


def activation_kind(function: Any) -> str:
    """'relu', 'linear' or the name of another activation function."""
    if function is None or function is keras.activations.linear:
        return "linear"
    if function is keras.activations.relu:
        return "relu"
    return getattr(function, "__name__", type(function).__name__)


def classify(layer: Any) -> tuple[str, str]:
    """(rule, activation) of a layer: rule names its linear part, activation its nonlinearity.

    rule is one of conv, depthwise, separable, maxpool, avgpool, bn, identity, zeropad, crop,
    add, subtract, concat, rescale, dense, reshape, gap, gmp, or 'other' (no explicit rule);
    activation is 'linear', 'relu' or another name.
    """
    kind = type(layer).__name__
    if kind in IDENTITY_KINDS:
        return "identity", "linear"
    if isinstance(layer, keras.layers.ReLU):
        return "identity", "relu" if _is_plain_relu_layer(layer) else "ReLU(non-default)"
    if isinstance(layer, keras.layers.Activation):
        return "identity", activation_kind(layer.activation)
    channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
    if (
        type(layer) is keras.layers.Conv2D
        and channels_last
        and getattr(layer, "groups", 1) == 1
        and not getattr(layer, "lora_enabled", False)
    ):
        return "conv", activation_kind(layer.activation)
    if type(layer) is keras.layers.DepthwiseConv2D and channels_last:
        return "depthwise", activation_kind(layer.activation)
    if type(layer) is keras.layers.SeparableConv2D and channels_last:
        return "separable", activation_kind(layer.activation)
    if type(layer) is keras.layers.MaxPooling2D and channels_last:
        return "maxpool", "linear"
    if type(layer) is keras.layers.AveragePooling2D and channels_last:
        return "avgpool", "linear"
    if type(layer) is keras.layers.BatchNormalization and layer.axis in (-1, 3, [3], [-1]):
        return "bn", "linear"
    if type(layer) is keras.layers.ZeroPadding2D and channels_last:
        return "zeropad", "linear"
    if type(layer) is keras.layers.Cropping2D and channels_last:
        return "crop", "linear"
    if type(layer) is keras.layers.Add:
        return "add", "linear"
    if type(layer) is keras.layers.Subtract:
        return "subtract", "linear"
    if type(layer) is keras.layers.Concatenate and layer.axis in (-1, 3):
        return "concat", "linear"
    if type(layer) is keras.layers.Rescaling:
        return "rescale", "linear"
    # a class head above the last 4-D layer (Grad-CAM and Guided Grad-CAM of a class)
    if type(layer) is keras.layers.Dense and not getattr(layer, "lora_enabled", False):
        return "dense", activation_kind(layer.activation)
    if type(layer) in (keras.layers.Flatten, keras.layers.Reshape):
        return "reshape", "linear"
    if type(layer) is keras.layers.GlobalAveragePooling2D and channels_last:
        return "gap", "linear"
    if type(layer) is keras.layers.GlobalMaxPooling2D and channels_last:
        return "gmp", "linear"
    return "other", kind


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


def relu_backward(grad: tf.Tensor, output: tf.Tensor, method: str) -> tf.Tensor:
    """The ReLU rule of a method, given the ReLU's forward output (its mask [x > 0])."""
    if method == "deconvnet":
        return tf.nn.relu(grad)
    mask = tf.cast(output > 0, grad.dtype)
    if method == "guided":
        return tf.nn.relu(grad) * mask
    return grad * mask


def batch_like(tensor: tf.Tensor, batch: tf.Tensor) -> tf.Tensor:
    """Broadcast a cached tensor of batch 1 (or `batch`) to batch `batch`."""
    return tf.broadcast_to(tensor, tf.concat([[batch], tf.shape(tensor)[1:]], axis=0))


def _pool_args(layer: Any) -> tuple[list[int], list[int], str]:
    """ksize, strides and padding of a keras pooling layer, as TensorFlow's ops take them."""
    pool = tuple(layer.pool_size)
    strides = tuple(layer.strides) if layer.strides is not None else pool
    return [1, *pool, 1], [1, *strides, 1], layer.padding.upper()


def linear_backward(
    layer: Any, rule: str, grad: tf.Tensor, inputs: list[tf.Tensor], output: tf.Tensor
) -> list[tf.Tensor | None]:
    """Gradient of a layer's linear part (bias unused) w.r.t. each input, for a batch of grads."""
    batch = tf.shape(grad)[0]
    if rule in ("identity",):
        return [grad]
    if rule == "conv":
        shape = tf.concat([[batch], tf.shape(inputs[0])[1:]], axis=0)
        result = tf.nn.conv2d_transpose(
            grad,
            tf.cast(layer.kernel, grad.dtype),
            output_shape=shape,
            strides=[1, *layer.strides, 1],
            padding=layer.padding.upper(),
            dilations=[1, *layer.dilation_rate, 1],
        )
        return [tf.reshape(result, shape)]
    if rule in ("depthwise", "separable"):
        return [_separable_adjoint(layer, rule, grad, inputs[0])]
    if rule == "maxpool":
        ksize, strides, padding = _pool_args(layer)
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
    if rule == "avgpool":
        ksize, strides, padding = _pool_args(layer)
        shape = tf.concat([[batch], tf.shape(inputs[0])[1:]], axis=0)
        return [
            tf.raw_ops.AvgPoolGrad(
                orig_input_shape=shape, grad=grad, ksize=ksize, strides=strides, padding=padding
            )
        ]
    if rule == "bn":
        return [grad * bn_scale(layer)]
    if rule == "zeropad":
        (top, bottom), (left, right) = layer.padding
        height, width = tf.shape(grad)[1], tf.shape(grad)[2]
        return [grad[:, top : height - bottom, left : width - right, :]]
    if rule == "crop":
        (top, bottom), (left, right) = layer.cropping
        return [tf.pad(grad, [[0, 0], [top, bottom], [left, right], [0, 0]])]
    if rule == "add":
        return [grad for _ in inputs]
    if rule == "subtract":
        return [grad, -grad]
    if rule == "concat":
        sizes = [int(t.shape[-1]) for t in inputs]
        return list(tf.split(grad, sizes, axis=-1))
    if rule == "rescale":
        return [grad * tf.cast(layer.scale, grad.dtype)]
    if rule == "dense":  # x @ kernel on the last axis: its transpose is grad @ kernel^T
        return [tf.einsum("...u,iu->...i", grad, tf.cast(layer.kernel, grad.dtype))]
    if rule == "reshape":
        return [tf.reshape(grad, tf.concat([[batch], tf.shape(inputs[0])[1:]], axis=0))]
    if rule == "gap":  # the mean over (H, W): each position gets 1 / (H W) of the gradient
        shape = tf.concat([[batch], tf.shape(inputs[0])[1:]], axis=0)
        area = tf.cast(shape[1] * shape[2], grad.dtype)
        return [tf.broadcast_to(tf.reshape(grad, [batch, 1, 1, -1]), shape) / area]
    if rule == "gmp":  # the maximum over (H, W): TensorFlow's own gradient (ties shared)
        tiled = batch_like(inputs[0], batch)
        with tf.GradientTape() as tape:
            tape.watch(tiled)
            pooled = tf.reduce_max(tiled, axis=[1, 2], keepdims=bool(layer.keepdims))
        return [tape.gradient(pooled, tiled, output_gradients=grad)]
    raise AssertionError(f"no linear rule {rule!r}")  # pragma: no cover


def _separable_adjoint(layer: Any, rule: str, grad: tf.Tensor, layer_input: tf.Tensor):
    """Transpose of a depthwise (or depthwise-then-pointwise) convolution, bias unused.

    The convolution is linear in its input, so its transpose is its gradient at any point;
    TensorFlow's own gradient of the bias-free op at zero gives it exactly.
    """
    shape = tf.concat([[tf.shape(grad)[0]], tf.shape(layer_input)[1:]], axis=0)
    zeros = tf.zeros(shape, grad.dtype)
    strides = [1, *layer.strides, 1]
    padding, dilations = layer.padding.upper(), list(layer.dilation_rate)
    with tf.GradientTape() as tape:
        tape.watch(zeros)
        if rule == "depthwise":
            kernel = tf.cast(layer.kernel, grad.dtype)
            output = tf.nn.depthwise_conv2d(zeros, kernel, strides, padding, dilations=dilations)
        else:
            depthwise = tf.cast(layer.depthwise_kernel, grad.dtype)
            pointwise = tf.cast(layer.pointwise_kernel, grad.dtype)
            output = tf.nn.separable_conv2d(
                zeros, depthwise, pointwise, strides, padding, dilations=dilations
            )
    return tape.gradient(output, zeros, output_gradients=grad)


def bn_scale(layer: Any) -> tf.Tensor:
    """The per-channel factor gamma / sqrt(moving variance + epsilon) of an inference-mode BN."""
    variance = tf.convert_to_tensor(layer.moving_variance)
    scale = tf.math.rsqrt(variance + layer.epsilon)
    if layer.scale and layer.gamma is not None:
        scale = scale * tf.convert_to_tensor(layer.gamma)
    return tf.cast(scale, tf.float32)


def call_as_in_model(node: Any, values: list[tf.Tensor]) -> Any:
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


def vjp_backward(node: Any, grad: tf.Tensor, inputs: list[tf.Tensor]) -> list[tf.Tensor]:
    """Plain gradient through any differentiable layer or operation, by a GradientTape."""
    batch = tf.shape(grad)[0]
    tiled = [batch_like(t, batch) for t in inputs]
    with tf.GradientTape() as tape:
        for tensor in tiled:
            tape.watch(tensor)
        output = call_as_in_model(node, tiled)
    grads = tape.gradient(output, tiled, output_gradients=grad)
    return [tf.zeros_like(t) if g is None else g for t, g in zip(tiled, grads, strict=True)]
