"""top_k against brute force on a small set of zoo images."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from projection_models import assert_close

from deconv_widgets import zoo
from deconv_widgets._tf import tf
from deconv_widgets.projection import Hit, Projector, TopK

LAYER, K, CHANNELS = "conv2_2", 3, [0, 5, 31]


@pytest.fixture(scope="module")
def data():
    model = zoo.shapes_model()
    images, _ = zoo.shapes_images(30, random_seed=77)
    sub = keras.Model(model.inputs[0], model.get_layer(LAYER).output)
    activations = sub(images, training=False).numpy()
    return model, Projector(model), images, activations


def _brute_force(activations, channel, k):
    n, h, w, _ = activations.shape
    entries = [
        (-float(activations[i, y, x, channel]), i, y, x)
        for i in range(n)
        for y in range(h)
        for x in range(w)
    ]
    return [(i, y, x, -v) for v, i, y, x in sorted(entries)[:k]]


def _batches(images, size):
    for start in range(0, len(images), size):
        yield images[start : start + size]


def test_top_k_matches_brute_force_over_uneven_batches(data):
    _, projector, images, activations = data
    calls = []
    result = projector.top_k(
        _batches(images, 7), LAYER, k=K, channels=CHANNELS, progress=lambda *a: calls.append(a)
    )
    assert isinstance(result, TopK) and result.layer == LAYER
    assert sorted(result.hits) == CHANNELS
    assert calls[-1] == (30, None) and len(calls) == 5
    rf = projector.layer_info(LAYER).receptive_field
    for channel in CHANNELS:
        expected = _brute_force(activations, channel, K)
        hits = result.hits[channel]
        assert [(h.image, h.y, h.x) for h in hits] == [e[:3] for e in expected]
        np.testing.assert_allclose([h.value for h in hits], [e[3] for e in expected], rtol=1e-5)
        for hit in hits:
            assert isinstance(hit, Hit)
            assert hit.patch.shape == hit.projection.shape == (rf, rf, 1)
            top, left, size = projector.receptive_box(LAYER, hit.y, hit.x)
            padded = np.pad(images[hit.image], ((size, size), (size, size), (0, 0)))
            window = padded[top + size : top + 2 * size, left + size : left + 2 * size]
            np.testing.assert_array_equal(hit.patch, window)


def test_top_k_projection_is_the_single_activation_and_fits_the_patch(data):
    model, projector, images, _ = data
    result = projector.top_k(images, LAYER, k=2, channels=[5], progress=False, method="saliency")
    sub = keras.Model(model.inputs[0], model.get_layer(LAYER).output)
    for hit in result.hits[5]:
        x = tf.constant(images[hit.image][None])
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = sub(x, training=False)
            target = out[0, hit.y, hit.x, 5] * hit.value
        full = tape.gradient(target, x).numpy()[0]
        top, left, size = projector.receptive_box(LAYER, hit.y, hit.x)
        padded = np.pad(full, ((size, size), (size, size), (0, 0)))
        window = padded[top + size : top + 2 * size, left + size : left + 2 * size]
        assert_close(hit.projection, window)
        # the receptive field holds the whole projection: nothing lies outside the box
        assert np.isclose(np.abs(window).sum(), np.abs(full).sum(), rtol=1e-5)


def test_top_k_deconvnet_default_array_input_and_all_channels(data):
    _, projector, images, _ = data
    result = projector.top_k(images[:10], "pool3", k=1, progress=False)
    assert sorted(result.hits) == list(range(64))
    for channel, (hit,) in result.hits.items():
        assert hit.value == pytest.approx(
            float(projector.forward_batch(images[:10], "pool3")[hit.image, hit.y, hit.x, channel])
        )
        assert np.all(np.isfinite(hit.projection))


def test_top_k_errors(data):
    _, projector, images, _ = data
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        projector.top_k(images, LAYER, k=0, progress=False)
    with pytest.raises(ValueError, match="out of range"):
        projector.top_k(images, LAYER, channels=[99], progress=False)
    with pytest.raises(ValueError, match="does not fit the model input"):
        projector.top_k(np.zeros((2, 8, 8, 1), "float32"), LAYER, progress=False)
    with pytest.raises(TypeError, match="iterable of batches"):
        projector.top_k(5, LAYER, progress=False)


def test_ties_go_to_the_earliest_image_and_position():
    """A channel that is zero everywhere: its hits are the first positions of the first images."""
    inp = keras.Input((6, 6, 1))
    out = keras.layers.Conv2D(2, 3, activation="relu", use_bias=False, name="conv")(inp)
    model = keras.Model(inp, out)
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[1, 1, 0, 1] = 1.0  # channel 0 stays 0 everywhere; channel 1 copies the image
    model.get_layer("conv").set_weights([kernel])
    images = np.random.default_rng(3).random((7, 6, 6, 1)).astype(np.float32)
    result = Projector(model).top_k(iter([images[:3], images[3:]]), "conv", k=5, progress=False)
    assert [(h.image, h.y, h.x) for h in result.hits[0]] == [
        (0, 0, 0),
        (0, 0, 1),
        (0, 0, 2),
        (0, 0, 3),
        (0, 1, 0),
    ]
    assert all(h.value == 0.0 for h in result.hits[0])
    inner = images[:, 1:5, 1:5, 0]
    order = np.argsort(-inner.reshape(-1), kind="stable")[:5]
    expected = [tuple(int(v) for v in np.unravel_index(i, inner.shape)) for i in order]
    assert [(h.image, h.y, h.x) for h in result.hits[1]] == expected


def test_projections_are_computed_per_channel_on_first_read():
    """Streaming finds the hits; a channel's projections cost one batched pass when read."""
    model = zoo.shapes_model()
    projector = Projector(model)
    images = zoo.shapes_images(12, random_seed=21)[0]
    result = projector.top_k(images, "conv2_1", k=3, progress=False)
    assert "projected=[]" in repr(result.hits)
    where = {c: result.found(c) for c in result.hits}  # positions and values, no projection
    assert "projected=[]" in repr(result.hits)
    first = result.hits[4]
    assert where[4] == [(h.image, h.y, h.x, h.value) for h in first]
    assert TopK(result.layer, {4: first}).found(4) == where[4]  # a plain dict of hits too
    assert result.hits[4] is first  # kept, not recomputed
    assert "projected=[4]" in repr(result.hits)
    direct = projector.project_seeds(
        np.stack([images[h.image] for h in first]),
        "conv2_1",
        np.stack([_one_hot(projector, "conv2_1", h, 4) for h in first]),
    )
    for hit, full in zip(first, direct, strict=True):
        top, left, size = projector.receptive_box("conv2_1", hit.y, hit.x)
        window = np.zeros((size, size, 1), np.float32)
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + size, 64), min(left + size, 64)
        window[r0 - top : r1 - top, c0 - left : c1 - left] = full[r0:r1, c0:c1]
        np.testing.assert_allclose(hit.projection, window, atol=1e-6)
    assert len(dict(result.hits)) == 32  # reading everything projects every channel


def _one_hot(projector, layer, hit, channel):
    seed = np.zeros(projector.layer_info(layer).output_shape, np.float32)
    seed[hit.y, hit.x, channel] = hit.value
    return seed
