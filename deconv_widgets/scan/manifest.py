"""The scan's manifest: what was asked for, keyed, so that a rerun resumes only the same scan."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import keras
import numpy as np

from . import files
from .files import ScanError

MANIFEST = "scan.json"


def model_fingerprint(model: keras.Model) -> str:
    """A hash of the model's architecture and weights (equal for equal models, however saved)."""
    digest = hashlib.sha256(json.dumps(model.get_config(), sort_keys=True, default=str).encode())
    for weight in model.weights:
        digest.update(weight.path.encode())
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()


def callable_name(function: Any) -> Any:
    """How a preprocess is named in the manifest: None, a zoo name, or module.qualname."""
    if function is None or isinstance(function, str):
        return function
    module = getattr(function, "__module__", "?")
    return f"{module}.{getattr(function, '__qualname__', type(function).__name__)}"


def manifest(fields: dict[str, Any]) -> dict[str, Any]:
    """The manifest: the fields and a key hashed from them."""
    text = json.dumps(fields, sort_keys=True, default=str)
    return {"key": hashlib.sha256(text.encode()).hexdigest()[:32], "fields": fields}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two manifests' fields, in words."""
    said = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name == "files":
            before_set = {tuple(item) for item in before or []}
            after_set = {tuple(item) for item in after or []}
            changed = len(before_set ^ after_set)
            said.append(f"files ({changed} added, removed or modified)")
        elif name == "model":
            said.append("model (other weights or architecture)")
        else:
            said.append(f"{name} ({before!r} then, {after!r} now)")
    return said


def claim(out: str, wanted: dict[str, Any], overwrite: bool) -> bool:
    """Make `out` this scan's: True when it already holds it (resume), False for a fresh start.

    Raises:
        ScanError: `out` holds another scan (unless overwrite), or other files.
    """
    path = files.join(out, MANIFEST)
    if files.exists(path):
        held = json.loads(files.read_bytes(path).decode())
        if held.get("key") == wanted["key"]:
            return True
        if not overwrite:
            said = ", ".join(differences(held.get("fields", {}), wanted["fields"])) or "format"
            raise ScanError(
                f"out {out!r} holds a different scan (it differs in: {said}); give another "
                "out folder, or overwrite=True (--overwrite) to replace it"
            )
        for folder in ("shards", "parts", "atlas"):
            files.delete_tree(files.join(out, folder))
    elif files.listed(out) and not overwrite:
        raise ScanError(
            f"out {out!r} is not empty and holds no scan ({MANIFEST} is missing); give an empty "
            "or new folder"
        )
    files.write_atomic(path, json.dumps(wanted, indent=1, default=str).encode())
    return False
