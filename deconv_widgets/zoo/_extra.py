"""The optional `vgg16` extra: its install line, and imports that say it when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA_HINT = 'pip install "deconv-widgets[vgg16]"'


def require(module: str) -> ModuleType:
    """Import a module of the `vgg16` extra, or ModuleNotFoundError giving the install line."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise missing(module) from error


def missing(module: str) -> ModuleNotFoundError:
    """The error for a module of the extra that is not installed."""
    return ModuleNotFoundError(
        f"{module} is not installed: the trained VGG16 and the photos come with the 'vgg16' "
        f"extra; install it with: {EXTRA_HINT}",
        name=module,
    )
