"""PyTorch files written without PyTorch, opcode by opcode, as `torch.save` lays them out.

An independent writer for the reader's tests: the legacy stream (magic number, protocol 1001,
system info, the state-dict pickle with persistent storage ids, the storage keys, then each
storage as an int64 element count and its bytes) and the zip archive (`archive/data.pkl`,
`archive/data/<key>`). Tensors may be views: any offset and strides into a storage.
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STORAGES = {np.dtype("float32"): "FloatStorage", np.dtype("int64"): "LongStorage"}


@dataclass
class View:
    """A tensor as a view of storage `key`: offset, shape and strides in elements."""

    key: str
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _value(obj: object) -> bytes:
    """Opcodes pushing a plain value (str, int, bool, tuple of them), no PROTO/STOP."""
    return pickle.dumps(obj, protocol=2)[2:-1]


def _global(module: str, name: str) -> bytes:
    """The GLOBAL opcode: push module.name."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _tuple(*parts: bytes) -> bytes:
    """MARK, the parts, TUPLE."""
    return b"(" + b"".join(parts) + b"t"


def state_dict_pickle(
    tensors: dict[str, View], storages: dict[str, np.ndarray], zip_format: bool = False
) -> bytes:
    """The pickle of an OrderedDict of tensors rebuilt by torch._utils._rebuild_tensor_v2."""
    out = b"\x80\x02" + _global("collections", "OrderedDict") + b")R"  # OrderedDict()
    for name, view in tensors.items():
        storage = storages[view.key]
        numel = 0 if zip_format else storage.size
        pid = _tuple(
            _value("storage"), _global("torch", STORAGES[storage.dtype]), _value(view.key),
            _value("cpu"), _value(numel),
        )  # fmt: skip
        args = _tuple(
            pid + b"Q", _value(view.offset), _value(view.shape), _value(view.strides),
            _value(False), _global("collections", "OrderedDict") + b")R",
        )  # fmt: skip
        out += _value(name) + _global("torch._utils", "_rebuild_tensor_v2") + args + b"R" + b"s"
    return out + b"."


def write_legacy(
    path: Path, tensors: dict[str, View], storages: dict[str, np.ndarray], keys=None
) -> Path:
    """A legacy (pre-1.6, non-zip) torch.save file."""
    info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
    data = pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2) + pickle.dumps(info, 2)
    data += state_dict_pickle(tensors, storages)
    keys = list(storages) if keys is None else keys
    data += pickle.dumps(keys, 2)
    for key in keys:
        array = storages[key]
        data += (
            struct.pack("<q", array.size) + array.astype(array.dtype.newbyteorder("<")).tobytes()
        )
    path.write_bytes(data)
    return path


def write_zip(path: Path, tensors: dict[str, View], storages: dict[str, np.ndarray]) -> Path:
    """A zip-format (PyTorch >= 1.6) torch.save file."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", state_dict_pickle(tensors, storages, zip_format=True))
        for key, array in storages.items():
            archive.writestr(f"archive/data/{key}", array.tobytes())
    return path


def contiguous(arrays: dict[str, np.ndarray]) -> tuple[dict[str, View], dict[str, np.ndarray]]:
    """Each array in its own storage, C-contiguous: (views, storages)."""
    views, storages = {}, {}
    for number, (name, array) in enumerate(arrays.items()):
        key = str(number)
        dense = np.array(array, order="C")  # (np.ascontiguousarray makes a 0-d array 1-d)
        storages[key] = dense.reshape(-1)
        strides = tuple(s // dense.itemsize for s in dense.strides)
        views[name] = View(key, 0, array.shape, strides)
    return views, storages
