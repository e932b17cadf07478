"""Load a Keras model from a `.keras` file, safely: Keras' safe_mode is on unless you say so."""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

import os
import zipfile
from pathlib import Path
from typing import Any

import keras

from .. import zoo
from . import checks

SUFFIX = ".keras"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def load_model(
    path: str | os.PathLike, safe_mode: bool = True, custom_objects: dict | None = None
) -> keras.Model:
    """A keras.Model from a `.keras` file; ValueError saying why when it cannot be loaded.

    `safe_mode=True` (the default) refuses to deserialise Python code stored in the file
    (a `Lambda` layer's function): pass `safe_mode=False` only for files you trust, since
    loading them runs that code. Other formats (.h5, SavedModel folders) are refused.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike to a .keras file, got {path!r}")
    if not isinstance(safe_mode, bool):
        raise TypeError(f"safe_mode must be True or False, got {safe_mode!r}")
    file = Path(path)
    if file.suffix.lower() != SUFFIX:
        raise ValueError(
            f"cannot load model {str(file)!r}: only Keras v3 {SUFFIX} files are loaded (their "
            f"format supports safe_mode); got suffix {file.suffix or '(none)'!r}. If you "
            "trust the file, load it yourself with keras.models.load_model and pass the model"
        )
    if not file.is_file():
        raise ValueError(
            f"model file {str(file)!r} does not exist or is not a file; pass the path of a "
            f"{SUFFIX} file written by model.save('name{SUFFIX}')"
        )
    if not zipfile.is_zipfile(file):
        raise ValueError(
            f"cannot load model {str(file)!r}: it is not a {SUFFIX} file (a {SUFFIX} file is a zip "
            f"archive written by model.save('name{SUFFIX}'))"
        )
    try:
        model = keras.saving.load_model(
            file, custom_objects=custom_objects, compile=False, safe_mode=safe_mode
        )
    except Exception as error:
        raise ValueError(_load_failure(file, error, safe_mode)) from error
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"{str(file)!r} holds a {type(model).__name__}, not a keras.Model; save a model "
            "(keras.Sequential or keras.Model)"
        )
    return model


def _load_failure(file: Path, error: BaseException, safe_mode: bool) -> str:
    """The message for a .keras file Keras could not load."""
    text = str(error)
    head = f"cannot load model {str(file)!r}"
    if safe_mode and ("safe_mode" in text or "unsafe_deserialization" in text):
        return (
            f"{head}: it stores Python code (e.g. a Lambda layer's function), which "
            "safe_mode=True refuses because loading it runs that code. If you trust the "
            "file, opt out knowingly with load_model(path, safe_mode=False)"
        )
    if "Could not locate" in text or "Unknown layer" in text or "custom_objects" in text:
        return (
            f"{head}: it uses a class Keras does not know ({_first_line(error)}); import the "
            "module that defines it (registered with @keras.saving.register_keras_serializable"
            ") or pass custom_objects={'Name': Class}"
        )
    return (
        f"{head} as a {SUFFIX} file (safe_mode={safe_mode}): {type(error).__name__}: "
        f"{_first_line(error)}; re-save the model with model.save('name{SUFFIX}')"
    )


def model_from(model: Any) -> Any:
    """A zoo name (`zoo.MODEL_NAMES`) or a .keras path (safe_mode=True) loaded; else as is."""
    if isinstance(model, str) and model in zoo.MODEL_NAMES:
        return zoo.load(model)
    if isinstance(model, str | os.PathLike):
        bare = isinstance(model, str) and Path(model).name == model  # no folder in it
        if bare and not Path(model).suffix and not Path(model).exists():
            raise ValueError(
                f"unknown model {checks.shown(model)}: give a zoo name ("
                f"{', '.join(zoo.MODEL_NAMES)}), the path of a {SUFFIX} file, or a keras.Model"
            )
        return load_model(model)
    return model
