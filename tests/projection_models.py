"""Small Keras models (and their custom-gradient ReLU twins) for the projection tests."""

from __future__ import annotations

import keras
import numpy as np

from deconv_widgets._tf import tf

SEEDS = ("activation", "max", "ones")
FUSED_SUFFIX = "__fused_relu"  # the twin's ReLU that stands for a fused activation


def relu_with_rule(method: str):
    """A ReLU whose backward is the DeconvNet or guided rule, via tf.custom_gradient."""

    @tf.custom_gradient
    def relu(x):
        y = tf.nn.relu(x)

        def grad(g):
            if method == "deconvnet":
                return tf.nn.relu(g)
            return tf.nn.relu(g) * tf.cast(x > 0, g.dtype)

        return y, grad

    return relu


def rectifier_with_rule(method: str, function):
    """Any rectifier f whose backward is a method's rule, via tf.custom_gradient.

    deconvnet max(g, 0), guided max(g, 0) f'(x), saliency g f'(x) (f' by a tape of its own).
    """

    @tf.custom_gradient
    def rectifier(x):
        def grad(g):
            if method == "deconvnet":
                return tf.nn.relu(g)
            signal = tf.nn.relu(g) if method == "guided" else g
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = function(x)
            return tape.gradient(y, x, output_gradients=signal)

        return function(x), grad

    return rectifier


class RuleActivation(keras.layers.Layer):
    """An elementwise rectifier layer whose gradient follows a projection method's rule."""

    def __init__(self, method: str, function, **kwargs):
        super().__init__(**kwargs)
        self.method, self.function = method, function

    def call(self, x):
        return rectifier_with_rule(self.method, self.function)(x)


class RuleReLU(keras.layers.Layer):
    """A ReLU layer whose gradient follows a projection method (the test's reference)."""

    def __init__(self, method: str, **kwargs):
        super().__init__(**kwargs)
        self.method = method

    def call(self, x):
        return relu_with_rule(self.method)(x)


def _relu(twin, name, form):
    """The ReLU of a model (form 'layer' or 'activation'), or the twin's custom one."""
    if twin:
        return RuleReLU(twin, name=name)
    return (
        keras.layers.ReLU(name=name)
        if form == "layer"
        else keras.layers.Activation("relu", name=name)
    )


def _conv(filters, kernel, twin, name, **kwargs):
    """Conv2D with fused ReLU; in the twin a linear Conv2D followed by a custom ReLU."""
    if twin:
        conv = keras.layers.Conv2D(filters, kernel, name=name, **kwargs)
        return [conv, RuleReLU(twin, name=f"{name}{FUSED_SUFFIX}")]
    return [keras.layers.Conv2D(filters, kernel, activation="relu", name=name, **kwargs)]


def _randomise_bn(model, rng):
    """Give every BatchNormalization non-trivial inference statistics."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 2.0, channels).astype("float32"),
                    rng.normal(0, 0.3, channels).astype("float32"),
                    rng.normal(0, 0.3, channels).astype("float32"),
                    rng.uniform(0.3, 3.0, channels).astype("float32"),
                ]
            )


def fused_chain(twin=None):
    """Sequential: fused-ReLU convs, SAME odd sizes, overlapping 3x3/2 max pool, strided conv."""
    layers = [keras.Input((15, 15, 2))]
    layers += _conv(4, 3, twin, "conv_a", padding="same")
    layers += [keras.layers.MaxPooling2D(3, strides=2, padding="same", name="pool_a")]
    layers += _conv(6, 3, twin, "conv_b", strides=2, padding="same")
    layers += _conv(5, 2, twin, "conv_c", padding="valid")
    layers += [keras.layers.MaxPooling2D(2, name="pool_b")]
    return keras.Sequential(layers, name="fused_chain")


def standalone_chain(twin=None):
    """Sequential: linear convs followed by ReLU() and Activation('relu'), BN, avg pool, padding."""
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            keras.layers.ZeroPadding2D(((1, 2), (2, 1)), name="pad"),
            keras.layers.Conv2D(5, 3, name="conv_a"),
            _relu(twin, "relu_a", "layer"),
            keras.layers.BatchNormalization(name="bn_a"),
            keras.layers.AveragePooling2D(2, name="avg_a"),
            keras.layers.Dropout(0.5, name="drop_a"),
            keras.layers.Conv2D(4, 3, padding="same", name="conv_b"),
            _relu(twin, "relu_b", "activation"),
            keras.layers.Cropping2D(((1, 0), (0, 1)), name="crop_b"),
            keras.layers.MaxPooling2D(2, name="pool_b"),
        ],
        name="standalone_chain",
    )


def residual_dag(twin=None):
    """Functional: strided stem, residual Add with BN, Concatenate branches, avg and max pools."""
    inputs = keras.Input((16, 16, 3), name="image")
    x = inputs
    for layer in _conv(8, 3, twin, "stem", strides=2, padding="same"):
        x = layer(x)
    shortcut = x
    y = keras.layers.Conv2D(8, 3, padding="same", name="res_conv1")(x)
    y = keras.layers.BatchNormalization(name="res_bn1")(y)
    y = _relu(twin, "res_relu1", "layer")(y)
    y = keras.layers.Dropout(0.3, name="res_drop")(y)
    y = keras.layers.Conv2D(8, 3, padding="same", name="res_conv2")(y)
    y = keras.layers.BatchNormalization(name="res_bn2")(y)
    x = keras.layers.Add(name="res_add")([shortcut, y])
    x = _relu(twin, "res_relu2", "activation")(x)
    a = keras.layers.MaxPooling2D(3, strides=2, padding="valid", name="branch_max")(x)
    b = keras.layers.AveragePooling2D(3, strides=2, padding="valid", name="branch_avg")(x)
    x = keras.layers.Concatenate(name="cat")([a, b])
    x = keras.layers.ZeroPadding2D(1, name="pad")(x)
    for layer in _conv(6, 3, twin, "head"):
        x = layer(x)
    outputs = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, outputs, name="residual_dag")


BUILDERS = {
    "fused_chain": fused_chain,
    "standalone_chain": standalone_chain,
    "residual_dag": residual_dag,
}


def model_and_twins(name: str, random_seed: int = 0):
    """A model and its deconvnet / guided twins sharing its weights."""
    keras.utils.set_random_seed(random_seed)
    model = BUILDERS[name]()
    _randomise_bn(model, np.random.default_rng(random_seed))
    twins = {}
    for method in ("deconvnet", "guided"):
        twin = BUILDERS[name](twin=method)
        for layer in model.layers:
            if layer.weights:
                twin.get_layer(layer.name).set_weights(layer.get_weights())
        twins[method] = twin
    return model, twins


def random_image(model, random_seed: int = 0) -> np.ndarray:
    """One float32 image of the model's input shape, uniform in [-1, 1)."""
    shape = model.inputs[0].shape[1:]
    return np.random.default_rng(random_seed).uniform(-1, 1, shape).astype("float32")


def seed_tensor(activation: np.ndarray, channel: int, seed: str) -> np.ndarray:
    """The seed (1, H', W', C') of the Projector's contract, built independently in NumPy."""
    channel_map = activation[0, ..., channel]
    if seed == "activation":
        values = channel_map
    elif seed == "ones":
        values = np.ones_like(channel_map)
    else:
        values = np.zeros_like(channel_map)
        values[np.unravel_index(np.argmax(channel_map), channel_map.shape)] = 1.0
    out = np.zeros_like(activation)
    out[0, ..., channel] = values
    return out


def tape_projection(model, image, layer_name, channel, seed):
    """Reference: the gradient of <seed, layer output> w.r.t. the image, by GradientTape."""
    names = {layer.name for layer in model.layers}
    if layer_name + FUSED_SUFFIX in names:  # the twin's output after the fused ReLU
        layer_name += FUSED_SUFFIX
    sub = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = sub(x, training=False)
    seed_values = seed_tensor(out.numpy(), channel, seed)
    return tape.gradient(out, x, output_gradients=tf.constant(seed_values)).numpy()[0]


def assert_close(actual, expected, rel=1e-5):
    """|actual - expected| <= rel * max|expected| (+ a float32 floor)."""
    scale = max(float(np.max(np.abs(expected))), 1e-6)
    diff = float(np.max(np.abs(np.asarray(actual) - np.asarray(expected))))
    assert diff <= rel * scale, f"max diff {diff:.3g} > {rel} * {scale:.3g}"


def transfer_model(size: int = 16, random_seed: int = 0) -> keras.Model:
    """The transfer-learning shape: Sequential([base, GlobalAveragePooling2D(), Dense(3)]).

    `base` is a small Functional CNN (conv1, pool, conv2), so its layers are "base/conv1" ...
    """
    keras.utils.set_random_seed(random_seed)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv2")(x)
    base = keras.Model(inputs, x, name="base")
    return keras.Sequential(
        [keras.Input((size, size, 3)), base, keras.layers.GlobalAveragePooling2D(),
         keras.layers.Dense(3, name="classes")]
    )  # fmt: skip
