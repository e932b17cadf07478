"""deconv-widgets: the DeconvNet of Zeiler & Fergus (2014), live in JupyterLab."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"  # the one place: pyproject.toml reads it ([tool.hatch.version])

# Public names load lazily so that `import deconv_widgets` stays cheap and TensorFlow is only
# imported when something needs it.
_LAZY = {
    "ops": ("deconv_widgets.ops", None),
    "gradlab": ("deconv_widgets.gradlab", None),
    "methods": ("deconv_widgets.methods", None),
    "zoo": ("deconv_widgets.zoo", None),
    "figures": ("deconv_widgets.figures", None),
    "projection": ("deconv_widgets.projection", None),
    "widgets": ("deconv_widgets.widgets", None),
    "Projector": ("deconv_widgets.projection", "Projector"),
    "Explorer": ("deconv_widgets.widgets", "Explorer"),
    "ModelInspector": ("deconv_widgets.widgets", "ModelInspector"),
    "ChannelPicker": ("deconv_widgets.widgets", "ChannelPicker"),
    "DeconvView": ("deconv_widgets.widgets", "DeconvView"),
    "UnpoolView": ("deconv_widgets.widgets", "UnpoolView"),
    "TransposeConvView": ("deconv_widgets.widgets", "TransposeConvView"),
    "GradientsPanel": ("deconv_widgets.widgets", "GradientsPanel"),
}

# A literal list, so that tools that read `__all__` without running it see every name;
# tests/test_quiet_import.py checks it is _LAZY's keys and __version__.
__all__ = [
    "ChannelPicker",
    "DeconvView",
    "Explorer",
    "GradientsPanel",
    "ModelInspector",
    "Projector",
    "TransposeConvView",
    "UnpoolView",
    "__version__",
    "figures",
    "gradlab",
    "methods",
    "ops",
    "projection",
    "widgets",
    "zoo",
]

if TYPE_CHECKING:  # pragma: no cover
    from . import figures, gradlab, methods, ops, projection, widgets, zoo
    from .projection import Projector
    from .widgets import (
        ChannelPicker,
        DeconvView,
        Explorer,
        GradientsPanel,
        ModelInspector,
        TransposeConvView,
        UnpoolView,
    )


def __getattr__(name: str) -> Any:
    """Import public names on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'deconv_widgets' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (loaded or not), for tab completion."""
    return __all__
