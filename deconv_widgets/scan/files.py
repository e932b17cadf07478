"""The scan's files through Beam's FileSystems: local paths, or gs://, s3://, hdfs://."""

from __future__ import annotations

import io
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..projection.image_files import IMAGE_SUFFIXES


def _not_apitools(record: logging.LogRecord) -> bool:
    """Drop the warning `import apache_beam` logs when Google's apitools is not installed."""
    return not record.getMessage().startswith("apitools not found")


logging.getLogger().addFilter(_not_apitools)
try:
    from apache_beam.io.filesystem import BeamIOError
    from apache_beam.io.filesystems import FileSystems
finally:
    logging.getLogger().removeFilter(_not_apitools)


class ScanError(ValueError):
    """A scan that cannot start: the message names the problem and what to do."""


def join(base: str, *parts: str) -> str:
    """A path under `base` (any FileSystems scheme)."""
    return FileSystems.join(base, *parts)


def exists(path: str) -> bool:
    """Whether `path` exists."""
    return FileSystems.exists(path)


def read_bytes(path: str) -> bytes:
    """The whole file."""
    with FileSystems.open(path, compression_type="uncompressed") as handle:
        return handle.read()


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the whole file or none (temp, then rename)."""
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(temporary, compression_type="uncompressed") as handle:
        handle.write(data)
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([temporary], [path])


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Arrays as the bytes of an .npz file."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub: **kwds as bool
    return buffer.getvalue()


def read_npz(path: str) -> dict[str, np.ndarray]:
    """Every array of an .npz file."""
    with np.load(io.BytesIO(read_bytes(path)), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def listed(folder: str, pattern: str = "*") -> list[str]:
    """Paths in `folder` matching `pattern`, sorted (empty when the folder does not exist)."""
    try:
        found = FileSystems.match([join(folder, pattern)])[0].metadata_list
    except BeamIOError:
        return []
    return sorted(item.path for item in found)


def delete_tree(folder: str) -> None:
    """Delete a folder and all it holds, if it exists."""
    if FileSystems.exists(folder):
        FileSystems.delete([folder])


def _matches(pattern: str) -> list[Any]:
    """FileSystems metadata of the files matching a glob pattern."""
    try:
        return list(FileSystems.match([pattern])[0].metadata_list)
    except BeamIOError:
        return []


def image_files(images: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The input files: a folder's images, a glob's matches (both sorted), or a list as given."""
    if isinstance(images, str | os.PathLike):
        text = os.fspath(images)
        text = text if "://" in text else os.path.abspath(text)  # Beam matches from /
        is_folder = Path(text).is_dir() or text.endswith("/")
        pattern = join(text, "*") if is_folder else text
        found = sorted(
            item.path for item in _matches(pattern) if item.path.lower().endswith(IMAGE_SUFFIXES)
        )
        if not found:
            raise ScanError(
                f"no image files match {text!r}; give a folder, a glob pattern or a list of "
                f"{'/'.join(s.lstrip('.') for s in IMAGE_SUFFIXES)} files"
            )
        return found
    if isinstance(images, bytes) or not isinstance(images, Sequence):
        raise TypeError(
            "images must be a folder, a glob pattern or a list of image files, got "
            f"{type(images).__name__}"
        )
    files = [os.fspath(item) for item in images]
    files = [path if "://" in path else os.path.abspath(path) for path in files]
    if not files:
        raise ScanError("images is an empty list; give at least one image file")
    missing = [path for path in files if not FileSystems.exists(path)]
    if missing:
        raise ScanError(
            f"{len(missing)} of the {len(files)} image files do not exist, e.g. {missing[0]!r}"
        )
    return files


def file_stamp(paths: Sequence[str]) -> list[tuple[str, int, int]]:
    """(path, size in bytes, modification time in ns) of each file: changes when a file does."""
    stamps = []
    for path in paths:
        metadata = _matches(path)
        if metadata:
            item = metadata[0]
            stamps.append((path, int(item.size_in_bytes), int(item.last_updated_in_seconds * 1e9)))
        else:
            stamps.append((path, -1, -1))
    return stamps
