"""Projections pulled back through a per-pixel affine preprocess equal the tape gradient."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import floats

from deconv_widgets import zoo
from deconv_widgets._tf import tf
from deconv_widgets.projection import Projector
from deconv_widgets.projection.shown_space import affine_matrix, to_shown


def test_vgg16_preprocess_is_255_times_the_channel_flip():
    matrix = affine_matrix(zoo.vgg16_preprocess, (8, 8, 3))
    np.testing.assert_allclose(matrix, 255.0 * np.eye(3)[::-1], rtol=1e-6)


def test_saliency_in_shown_space_equals_the_gradient_through_preprocess(vgg16_32):
    shown = zoo.photos(32)[0][0]
    projector = Projector(vgg16_32)
    matrix = affine_matrix(zoo.vgg16_preprocess, shown.shape)
    act = projector.activations(zoo.vgg16_preprocess(shown), "block3_conv3")
    channel = int(act.max(axis=(0, 1)).argmax())
    ours = to_shown(
        projector.project(zoo.vgg16_preprocess(shown), "block3_conv3", channel, "saliency"), matrix
    )
    x = tf.constant(shown[None])
    sub = tf.keras.Model(vgg16_32.inputs[0], vgg16_32.get_layer("block3_conv3").output)
    with tf.GradientTape() as tape:
        tape.watch(x)
        model_input = x[..., ::-1] * 255.0 - zoo.hed_vgg16.BGR_MEAN  # preprocess, in TF
        out = sub(model_input)
        target = tf.reduce_sum(tf.stop_gradient(out[..., channel]) * out[..., channel])
    expected = tape.gradient(target, x).numpy()[0]
    scale = np.abs(expected).max()
    assert scale > 0
    assert np.abs(ours - expected).max() <= 1e-4 * scale


def test_grey_to_rgb_preprocess_pulls_back_to_one_channel():
    matrix = affine_matrix(lambda x: np.repeat(x, 3, axis=-1) * 2.0 - 1.0, (4, 4, 1))
    np.testing.assert_allclose(matrix, [[2.0], [2.0], [2.0]])
    assert to_shown(np.ones((2, 4, 4, 3), np.float32), matrix).shape == (2, 4, 4, 1)


@pytest.mark.parametrize(
    "preprocess",
    [
        None,
        lambda x: x**2,  # not affine
        lambda x: x[::2, ::2],  # resizes
        lambda x: x * (np.arange(x.shape[1])[None, :, None] + 1.0),  # differs per pixel
        lambda _x: 1 / 0,  # fails
    ],
    ids=["none", "square", "resize", "per-pixel", "raises"],
)
def test_anything_else_stays_in_the_input_space(preprocess):
    assert affine_matrix(preprocess, (6, 6, 3)) is None
    projection = np.ones((6, 6, 3), np.float32)
    assert to_shown(projection, None) is projection


@pytest.mark.slow("VGG16 (32²) behind an Explorer, with a top-k search (~5 s)")
def test_explorer_sends_projections_and_top_k_in_the_shown_space(vgg16_32):
    from deconv_widgets import Explorer

    photos = zoo.photos(32)[0][:3]
    explorer = Explorer(
        vgg16_32, photos, zoo.vgg16_preprocess, layer="block2_conv2", channel=5, method="guided"
    )
    sent = floats(explorer.projections, explorer.proj_shape)
    projector = explorer._projector
    guided = projector.project(zoo.vgg16_preprocess(photos[0]), "block2_conv2", 5, "guided")
    at = explorer.proj_methods.index("guided")
    channel_row = explorer.proj_channels.index(5)
    np.testing.assert_allclose(
        sent[at, channel_row],
        255.0 * guided[..., ::-1],
        rtol=1e-5,
        atol=1e-6 * np.abs(guided).max() * 255,
    )
    explorer.show_top_k(3)
    buffer = np.frombuffer(explorer.topk, np.float32)
    first = explorer.topk_index[0]
    patch = buffer[first["patch"]["offset"] :][: int(np.prod(first["patch"]["shape"]))]
    patch = patch.reshape(first["patch"]["shape"])
    top, left, size = projector.receptive_box("block2_conv2", first["y"], first["x"])
    image = photos[first["image"]]
    inside = image[max(top, 0) : top + size, max(left, 0) : left + size]
    assert inside.size and np.isin(patch, inside).mean() > 0.5  # shown pixels, not BGR inputs
    assert patch.min() >= 0.0 and patch.max() <= 1.0
