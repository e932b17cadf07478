"""A PyTorch state dict read without PyTorch, by an unpickler that allows nothing else.

A `.pth` file is a pickle, and a pickle is a program: loading one with `pickle` (or
`torch.load` without `weights_only`) runs whatever callables it names. `read_state_dict`
lets a pickle name only what a state dict needs — the ordered dict, the tensor-rebuild
function and the storage types — each mapped to a harmless stand-in defined here, and refuses
any other global before anything is called. The raw storages are then read as NumPy arrays.

Both of PyTorch's formats are read: the legacy stream (magic number, protocol 1001, system
info, the state-dict pickle, its storage keys, then each storage as an int64 element count and
the raw little-endian bytes) and the zip archive of `torch.save` since 1.6 (`*/data.pkl` and
one `*/data/<key>` entry per storage).
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
STORAGE_DTYPES: dict[str, np.dtype] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}
"""PyTorch's typed storages a state dict may hold, and their NumPy dtypes."""


class UnsafePickleError(pickle.UnpicklingError):
    """The file is not a plain state dict: it names a global a state dict does not need."""


@dataclass(frozen=True)
class _StorageType:
    """Stands in for torch.<X>Storage: only its dtype is kept."""

    name: str

    @property
    def dtype(self) -> np.dtype:
        """The storage's element type."""
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _Storage:
    """A storage named by the pickle, read later: its key, element type and element count."""

    key: str
    dtype: np.dtype
    numel: int | None  # the legacy format gives it; the zip format has the entry's size


@dataclass(frozen=True)
class _TensorRef:
    """A tensor of a storage: offset, shape and strides in elements (torch's view)."""

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor(
    storage: Any, offset: Any, shape: Any, strides: Any, *_ignored: Any
) -> _TensorRef:
    """Stands in for torch._utils._rebuild_tensor(_v2): records the view, runs nothing."""
    if not isinstance(storage, _Storage):
        raise UnsafePickleError(f"a tensor must be built on a storage, got {type(storage)}")
    ints = (offset, *shape, *strides)
    if not all(isinstance(value, int) and value >= 0 for value in ints):
        raise UnsafePickleError(f"a tensor's offset, shape and strides must be ints >= 0: {ints}")
    return _TensorRef(storage, offset, tuple(shape), tuple(strides))


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}
"""The only globals a state-dict pickle may name, each mapped to its stand-in here."""


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickles a state dict; any global outside ALLOWED_GLOBALS raises before it is called."""

    def __init__(self, file: IO[bytes], zip_storage: bool) -> None:
        super().__init__(file)
        self.zip_storage = zip_storage
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        """The stand-in of an allowed global; UnsafePickleError for anything else."""
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to load: the file names the global {module}.{name}, which a state "
                "dict does not need (a pickle can run any function it names; only "
                "collections.OrderedDict, torch._utils._rebuild_tensor_v2 and torch's storage "
                "types are allowed)"
            ) from None

    def persistent_load(self, pid: Any) -> _Storage:
        """A storage reference: ('storage', type, key, location, numel[, view]) -> _Storage."""
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise UnsafePickleError(f"unknown persistent id in a state dict: {pid!r:.80}")
        storage_type, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(storage_type, _StorageType):
            raise UnsafePickleError(f"a storage of unknown type {storage_type!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise UnsafePickleError("storage views (pre-1.0 PyTorch files) are not supported")
        storage = _Storage(key, storage_type.dtype, None if self.zip_storage else int(numel))
        known = self.storages.setdefault(key, storage)
        if known != storage:
            raise UnsafePickleError(f"storage {key} is named with two types or sizes")
        return known


def _load(unpickler: _StateDictUnpickler) -> Any:
    """Run the restricted unpickler, turning a broken stream into a clear error."""
    try:
        return unpickler.load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as error:
        raise ValueError(f"not a readable state dict ({type(error).__name__}: {error})") from None


def _plain_load(file: IO[bytes]) -> Any:
    """One of the legacy header's small pickles (numbers and a dict: no globals allowed)."""
    return _load(_StateDictUnpickler(file, zip_storage=False))


def _read_legacy(file: IO[bytes]) -> tuple[dict[str, _TensorRef], dict[str, np.ndarray]]:
    """The legacy stream: header, state dict, storage keys, then each storage's bytes."""
    if _plain_load(file) != LEGACY_MAGIC:
        raise ValueError("not a PyTorch file: the magic number is wrong")
    if _plain_load(file) != LEGACY_PROTOCOL:
        raise ValueError(f"unsupported PyTorch legacy protocol (expected {LEGACY_PROTOCOL})")
    info = _plain_load(file)
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise ValueError("only little-endian PyTorch files are supported")
    unpickler = _StateDictUnpickler(file, zip_storage=False)
    result = _state_dict(_load(unpickler))
    keys = _plain_load(file)
    if not isinstance(keys, list) or set(map(str, keys)) != set(unpickler.storages):
        raise ValueError("the file's storage list does not match the tensors it names")
    storages = {}
    for key in map(str, keys):
        storage = unpickler.storages[key]
        count = np.frombuffer(_read_exactly(file, 8, key), "<i8")[0]
        if count != storage.numel:
            raise ValueError(f"storage {key}: {count} elements on file, {storage.numel} named")
        size = int(count) * storage.dtype.itemsize
        storages[key] = np.frombuffer(_read_exactly(file, size, key), storage.dtype)
    return result, storages


def _read_exactly(file: IO[bytes], size: int, key: str) -> bytes:
    """`size` bytes, or ValueError saying the file is truncated."""
    data = file.read(size)
    if len(data) != size:
        raise ValueError(
            f"the file is truncated: storage {key} needs {size} bytes, has {len(data)}"
        )
    return data


def _read_zip(
    archive: zipfile.ZipFile,
) -> tuple[dict[str, _TensorRef], dict[str, np.ndarray]]:
    """torch.save's zip format: `<root>/data.pkl` and `<root>/data/<key>` per storage."""
    pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise ValueError("not a PyTorch zip file: expected exactly one */data.pkl entry")
    root = pickles[0][: -len("data.pkl")]
    unpickler = _StateDictUnpickler(io.BytesIO(archive.read(pickles[0])), zip_storage=True)
    result = _state_dict(_load(unpickler))
    storages = {}
    for key, storage in unpickler.storages.items():
        try:
            data = archive.read(f"{root}data/{key}")
        except KeyError:
            raise ValueError(f"the file is truncated: storage {key} is missing") from None
        if len(data) % storage.dtype.itemsize:
            raise ValueError(f"storage {key} has {len(data)} bytes, not whole elements")
        storages[key] = np.frombuffer(data, storage.dtype)
    return result, storages


def _state_dict(result: Any) -> dict[str, _TensorRef]:
    """The unpickled object, if it is a dict of names to tensors; else ValueError."""
    if not isinstance(result, dict) or not all(
        isinstance(key, str) and isinstance(value, _TensorRef) for key, value in result.items()
    ):
        raise ValueError("the file holds no state dict (a dict of names to tensors)")
    return result


def _materialise(ref: _TensorRef, storage: np.ndarray, name: str) -> np.ndarray:
    """The tensor's values as a new NumPy array, its view checked against the storage."""
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.strides, strict=True))
    if 0 in ref.shape:
        return np.zeros(ref.shape, storage.dtype)
    if len(ref.shape) != len(ref.strides) or last >= storage.size:
        raise ValueError(f"tensor {name} reaches past its storage ({storage.size} elements)")
    item = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[ref.offset :], ref.shape, tuple(s * item for s in ref.strides), writeable=False
    )
    return np.array(view)


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """A PyTorch state dict (`.pth`, legacy or zip) as name -> NumPy array, PyTorch not needed.

    Args:
        path: the file.

    Returns:
        Every tensor of the state dict, in the file's order, as a NumPy array (float32 for
        PyTorch's float tensors; torch's NCHW/OIHW layouts unchanged).

    Raises:
        UnsafePickleError: the pickle names a global other than the ordered dict, the tensor
            rebuild function and the storage types; nothing it names is run.
        ValueError: a truncated or inconsistent file, or one that is not a state dict.
    """
    with open(path, "rb") as file:
        if zipfile.is_zipfile(file):
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                result, storages = _read_zip(archive)
        else:
            file.seek(0)
            result, storages = _read_legacy(file)
    return {
        name: _materialise(ref, storages[ref.storage.key], name) for name, ref in result.items()
    }
