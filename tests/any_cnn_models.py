"""keras.applications CNNs built small and untrained, their rule twins, and the coverage table.

Every model is built with `weights=None, include_top=False, pooling="avg"` (a class head
adds nothing 4-D to project, and VGG's has 23M parameters even at 32²) at the smallest input
side it accepts. Untrained, the signal would vanish or explode with depth, so:
- every BatchNormalization gets the statistics of its input on eight random images in
  [0, 1) (`calibrate_batch_norm`), and the image projected is one of the eight: a new one
  would be far off the statistics of the few values a deep 1 × 1 map has, and saturate the
  ReLU6s of MobileNet(V2), where the gradient is 0;
- ConvNeXt's LayerScale factors are set to 0.3 (`wake_layer_scales`): at their initial 1e-6
  every block's branch, gelu included, is off;
- a model without BN or LayerNormalization (VGG) has its convolution kernels scaled to unit
  output std (`scale_kernels`).

`coverage_table()` projects the deepest 4-D layer of each model with every method of
`methods.NAMES` and returns one row per (model, method); `markdown(rows)` prints it:

    python tests/any_cnn_models.py [ModelName ...]
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from deconv_widgets import methods
from deconv_widgets._tf import tf
from deconv_widgets.projection import Projector


@dataclass(frozen=True)
class Spec:
    """One keras.applications CNN of the coverage: its class name and input side."""

    name: str
    size: int  # the smallest input side keras.applications accepts for it (32 by default)


SPECS = (
    Spec("VGG16", 32),
    Spec("VGG19", 32),
    Spec("ResNet50", 32),
    Spec("ResNet50V2", 32),
    Spec("InceptionV3", 75),
    Spec("InceptionResNetV2", 75),
    Spec("Xception", 71),
    Spec("MobileNet", 32),
    Spec("MobileNetV2", 32),
    Spec("MobileNetV3Small", 32),
    Spec("MobileNetV3Large", 32),
    Spec("DenseNet121", 32),
    Spec("NASNetMobile", 32),
    Spec("EfficientNetB0", 32),
    Spec("EfficientNetV2B0", 32),
    Spec("ConvNeXtTiny", 32),
    Spec("ResNet101", 32),
)
"""17 distinct CNNs of keras.applications 3.15 (it has no RegNet; MobileNetV3Large and the
deeper ResNet101 stand in for it and for the 17th)."""
SIZES = {spec.name: spec.size for spec in SPECS}
NORMALIZATIONS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization)

RECTIFIER_FUNCTIONS = (
    keras.activations.relu,
    keras.activations.relu6,
    keras.activations.leaky_relu,
    keras.activations.elu,
    keras.activations.selu,
    keras.activations.silu,  # swish is the same function
    keras.activations.hard_silu,  # hard_swish is the same function
    keras.activations.gelu,
    keras.activations.mish,
    keras.activations.softplus,
)
"""The rectifiers of DESIGN.md's rule 2, as activation functions."""
RECTIFIER_LAYERS = (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU)
"""The rectifier layer classes (ReLU with any arguments, ReLU6 included)."""


# ------------------------------------------------------------------------- models
def build(
    name: str, size: int | None = None, random_seed: int = 0, pooling: str | None = "avg"
) -> keras.Model:
    """keras.applications.<name>, untrained, headless (`pooling`), its signal kept O(1)."""
    keras.utils.set_random_seed(random_seed)
    side = size or SIZES[name]
    constructor = getattr(keras.applications, name)
    model = constructor(
        weights=None, include_top=False, pooling=pooling, input_shape=(side, side, 3)
    )
    wake_layer_scales(model)
    calibrate_batch_norm(model, calibration_images(side))
    if not any(isinstance(layer, NORMALIZATIONS) for layer in _all_layers(model)):
        scale_kernels(model, calibration_images(side))
    return model


def random_images(size: int, count: int = 1, random_seed: int = 0) -> np.ndarray:
    """float32 (count, size, size, 3), uniform in [0, 1)."""
    rng = np.random.default_rng(random_seed)
    return rng.uniform(0, 1, (count, size, size, 3)).astype("float32")


def calibration_images(size: int) -> np.ndarray:
    """The eight random images `build` calibrates the BN statistics on."""
    return random_images(size, 8, random_seed=1)


def sample_image(model: keras.Model) -> np.ndarray:
    """The image (H, W, 3) the tests project: the first calibration image."""
    return calibration_images(model.inputs[0].shape[1])[0]


def _all_layers(model: keras.Model) -> Iterable[keras.layers.Layer]:
    """Every layer of the model, those of nested models included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def calibrate_batch_norm(model: keras.Model, images: np.ndarray) -> None:
    """Set every BN's moving mean and variance to its input's statistics on `images`.

    One forward pass in training mode with momentum 0: each BN normalises by the batch's
    statistics and stores them, so at inference each sees the same O(1) inputs.
    """
    layers = [layer for layer in _all_layers(model) if _is_bn(layer)]
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0
    model(tf.constant(images), training=True)
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum


def wake_layer_scales(model: keras.Model, value: float = 0.3) -> None:
    """Set ConvNeXt's LayerScale factors to `value` (trained ones are O(0.1-1)).

    Untrained they are 1e-6: every block's branch, with its gelu, is then off, and the signal
    runs through the identity shortcuts only, where all methods agree.
    """
    for layer in _all_layers(model):
        if type(layer).__name__ == "LayerScale":
            layer.gamma.assign(np.full(layer.gamma.shape, value, "float32"))


def scale_kernels(model: keras.Model, images: np.ndarray) -> None:
    """Scale each Conv2D's kernel so its output has unit std on `images` (LSUV; for VGG).

    Without BN, an untrained VGG's signal shrinks about 3× a layer; with zero biases and relu,
    dividing a kernel by its output's std makes that std 1.
    """
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            output = keras.Model(model.inputs[0], layer.output)(tf.constant(images))
            layer.kernel.assign(layer.kernel / float(np.std(output)))


def _is_bn(layer: keras.layers.Layer) -> bool:
    return isinstance(layer, keras.layers.BatchNormalization)


def strongest_channel(projector: Projector, image: np.ndarray, layer: str) -> int:
    """The channel of `layer` with the largest summed activation on `image`."""
    return int(np.argmax(projector.activations(image, layer).sum(axis=(0, 1))))


# ---------------------------------------------------------------- coverage table
def coverage_rows(name: str, size: int | None = None) -> list[dict]:
    """One row per method: project the deepest 4-D layer's strongest channel of one model.

    Each row: model, layer, method, status ("ok": a finite array of the input's shape;
    "error"), max_abs (of the projection), seconds (first call: tracing included), detail.
    """
    model = build(name, size)
    projector = Projector(model)
    layer = projector.layers[-1].name
    image = sample_image(model)
    channel = strongest_channel(projector, image, layer)
    return [_row(projector, image, layer, channel, name, method) for method in methods.NAMES]


def _row(
    projector: Projector, image: np.ndarray, layer: str, channel: int, name: str, method: str
) -> dict:
    start = time.perf_counter()
    row = {"model": name, "layer": layer, "channel": channel, "method": method}
    try:
        result = projector.project(image, layer, channel, method=method)
    except Exception as error:  # the table reports any failure
        row.update(status="error", max_abs=None, detail=_where(error))
    else:
        finite = bool(np.all(np.isfinite(result)))
        ok = finite and result.shape == image.shape
        row.update(
            status="ok" if ok else "error",
            max_abs=float(np.max(np.abs(result))) if finite else float("nan"),
            detail="" if ok else f"shape {result.shape}, finite {finite}",
        )
    return {**row, "seconds": _since(start)}


def _where(error: Exception) -> str:
    """The error, its message and the line of deconv_widgets (or else the last) it came from."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if "deconv_widgets" in frame.filename] or frames
    place = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else ""
    return f"{type(error).__name__}: {error}{place}"


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 2)


def coverage_table(models: Iterable[str] | None = None) -> list[dict]:
    """The rows of `coverage_rows` for each model (default: all of SPECS), model by model."""
    names = [spec.name for spec in SPECS] if models is None else list(models)
    rows = []
    for name in names:
        rows += coverage_rows(name)
    return rows


def markdown(rows: list[dict]) -> str:
    """A model × method table of `status (max |projection|, seconds)`."""
    names = list(dict.fromkeys(row["model"] for row in rows))
    header = ["model", *methods.NAMES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    cells = {(row["model"], row["method"]): _cell(row) for row in rows}
    for name in names:
        line = [name, *(cells.get((name, method), "") for method in methods.NAMES)]
        lines.append("| " + " | ".join(line) + " |")
    return "\n".join(lines)


def _cell(row: dict) -> str:
    if row["status"] != "ok":
        return f"error ({row['detail'][:60]})"
    return f"ok ({row['max_abs']:.1e}, {row['seconds']:.0f} s)"


# ------------------------------------------------------------------- rule twins
def rule_function(function: Callable, method: str) -> Callable:
    """`function` whose gradient is the method's rectifier rule, via tf.custom_gradient.

    deconvnet: max(g, 0); guided: max(g, 0) · f'(x), f' taken by a GradientTape of `function`.
    Variables it reads (PReLU's slopes) get no gradient.
    """

    @tf.custom_gradient
    def ruled(x):
        def grad(upstream, variables=None):
            signal = tf.nn.relu(upstream)
            if method != "deconvnet":
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    again = function(x)
                signal = tape.gradient(again, x, output_gradients=signal)
            if variables is None:
                return signal
            return signal, [tf.zeros_like(v) for v in variables]

        return function(x), grad

    return ruled


class Ruled(keras.layers.Layer):
    """A rectifier layer (ReLU, LeakyReLU, ELU, PReLU) whose gradient is the method's rule."""

    def __init__(self, inner: keras.layers.Layer, method: str, **kwargs) -> None:
        super().__init__(name=inner.name, **kwargs)
        self.inner, self.method = inner, method

    def build(self, input_shape: tuple) -> None:
        """Build the wrapped layer (its weights, e.g. PReLU's slopes, are this layer's)."""
        self.inner.build(input_shape)

    def call(self, x):
        """The wrapped layer's output; its gradient is the method's rule."""
        return rule_function(self.inner.call, self.method)(x)


def _twin_layer(layer: keras.layers.Layer, method: str) -> keras.layers.Layer:
    """The clone of one layer: its rectifier (own, Activation or fused) under the rule."""
    config = layer.get_config()
    if isinstance(layer, RECTIFIER_LAYERS):
        return Ruled(type(layer).from_config(config), method)
    if getattr(layer, "activation", None) in RECTIFIER_FUNCTIONS:
        config["activation"] = rule_function(layer.activation, method)
    return type(layer).from_config(config)


def rule_twin(model: keras.Model, method: str) -> keras.Model:
    """A clone of `model` (nested models too) sharing its weights, rectifiers under the rule.

    A fused `activation=` of a Conv/Dense is wrapped in place (as is an Activation layer's);
    ReLU / LeakyReLU / ELU / PReLU layers are wrapped in a `Ruled` layer.
    """
    twin = keras.models.clone_model(
        model, clone_function=lambda layer: _twin_layer(layer, method), recursive=True
    )
    twin.set_weights(model.get_weights())
    return twin


def tape_reference(model: keras.Model, image: np.ndarray, layer: str, channel: int) -> np.ndarray:
    """tape.gradient(layer output, image, output_gradients=the channel's activation map)."""
    sub = keras.Model(model.inputs[0], model.get_layer(layer).output)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        output = sub(x, training=False)
    mask = tf.one_hot(channel, output.shape[-1], dtype=output.dtype)
    return tape.gradient(output, x, output_gradients=output * mask).numpy()[0]


if __name__ == "__main__":
    print(markdown(coverage_table(sys.argv[1:] or None)))
