"""Shared widget machinery: the bundled front end, binary payloads and error routing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from .._values import check_int, is_int, shown

STATIC = Path(__file__).resolve().parents[1] / "static"
LOG = logging.getLogger("deconv_widgets")
"""Tracebacks for developers: users see one status line, this logger gets the whole story."""
USER_ERRORS = (ValueError, TypeError, KeyError, IndexError)
"""Errors that are a bad input (logged at DEBUG); any other is a bug (logged at ERROR)."""

_MISSING_BUNDLE = """
export default { render({ el }) {
  el.textContent = "deconv-widgets: the front end is not built (%s missing); "
    + "run `npm install && npm run build` in js/ or reinstall the package.";
} };
"""


def esm(name: str) -> Path | str:
    """The bundled ES module for a widget, or a module that says the bundle is missing."""
    path = STATIC / f"{name}.js"
    if path.is_file():
        return path
    return _MISSING_BUNDLE % json.dumps(f"static/{name}.js")[1:-1]


def float32_bytes(array: Any) -> bytes:
    """Contiguous little-endian float32 bytes of an array (NaN/inf become 0)."""
    data = np.asarray(array, dtype="<f4")
    data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(data).tobytes()


def pack_arrays(arrays: Sequence[Any]) -> tuple[bytes, list[dict[str, Any]]]:
    """Concatenate float32 arrays into one buffer; returns it and [{shape, offset}] (floats)."""
    parts: list[bytes] = []
    index: list[dict[str, Any]] = []
    offset = 0
    for array in arrays:
        data = np.asarray(array, dtype=np.float32)
        parts.append(float32_bytes(data))
        index.append({"shape": [int(s) for s in data.shape], "offset": offset})
        offset += int(data.size)
    return b"".join(parts), index


def error_text(err: BaseException) -> str:
    """A one-line, user-facing description of an exception."""
    message = str(err).strip() or type(err).__name__
    if isinstance(err, USER_ERRORS):
        return f"error: {message}"
    return f"error ({type(err).__name__}): {message}"


class Setting(traitlets.TraitType):
    """A synced, user-settable trait that reports a value of the wrong type.

    Given to a constructor, such a value raises TypeError; set later (from Python or the page)
    it is reported in the widget's `status` and the previous value is kept. Range and choice
    checks happen in the widget's observers.
    """

    def coerce(self, value: Any) -> Any:
        """The value in its canonical type, or TypeError."""
        return value

    def validate(self, obj: Any, value: Any) -> Any:
        try:
            return self.coerce(value)
        except TypeError as err:
            if not getattr(obj, "_ready", False):
                raise
            obj._report(err)  # noqa: SLF001  (a trait type is its widget's own machinery)
            return getattr(obj, str(self.name))


class IntSetting(Setting):
    """An int setting (NumPy integers accepted; bools, floats and text refused)."""

    default_value = 0

    def coerce(self, value: Any) -> int:
        return check_int(value, str(self.name))


class TextSetting(Setting):
    """A text setting (layer names, choices, typed programs and grids)."""

    default_value = ""

    def coerce(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.name} must be text, got {type(value).__name__} {shown(value)}")
        return value


class SizeSetting(Setting):
    """A (height, width) pair of ints, kept as a list."""

    default_value: list[int] = [0, 0]  # noqa: RUF012  (coerce gives each instance a new list)

    def coerce(self, value: Any) -> list[int]:
        ok = isinstance(value, list | tuple) and len(value) == 2
        if not ok or not all(is_int(v) for v in value):
            raise TypeError(
                f"{self.name} must be a pair of ints [height, width], got {shown(value)}"
            )
        return [int(v) for v in value]


class BaseWidget(anywidget.AnyWidget):
    """An anywidget with a status line; observers never raise, they report and revert."""

    status = traitlets.Unicode("").tag(sync=True)
    """One line of progress, result or "error: ..." text. Set by Python only; the page shows it
    as plain text."""
    _ready = False  # constructors set True when done: then bad settings report, not raise

    def __init__(self, **kwargs: Any) -> None:
        self._reverting = False
        super().__init__(**kwargs)

    def _quietly(self, **values: Any) -> None:
        """Set traits without running the guarded observers."""
        self._reverting = True
        try:
            for name, value in values.items():
                setattr(self, name, value)
        finally:
            self._reverting = False

    def _report(self, err: BaseException) -> None:
        """Show an error in the status line; log its traceback on the "deconv_widgets" logger."""
        self.status = error_text(err)
        level = logging.DEBUG if isinstance(err, USER_ERRORS) else logging.ERROR
        LOG.log(level, "%s: %s", type(self).__name__, self.status, exc_info=err)

    def _guarded(self, change: dict[str, Any], apply: Callable[[], None]) -> None:
        """Run apply() for a trait change; on error report it and restore the old value."""
        if self._reverting:
            return
        try:
            apply()
        except Exception as err:
            self._report(err)
            self._reverting = True
            try:
                setattr(self, change["name"], change["old"])
            finally:
                self._reverting = False

    def _safely(self, action: Callable[[], object]) -> bool:
        """Run an action (button, message); report any error. True when it succeeded."""
        try:
            action()
        except Exception as err:
            self._report(err)
            return False
        return True
