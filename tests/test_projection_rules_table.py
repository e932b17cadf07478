"""The layer-kind table: one entry teaches every projection a new layer kind (UpSampling2D).

The entry below is all it takes: with it registered, the DeconvNet and guided rules pass
through UpSampling2D by the entry's adjoint (without it, by the layer's own gradient: the same
numbers) and equal a GradientTape through ReLUs with those rules as their custom gradient, and
the ladder shows the step, ending at the engine's projection.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from projection_models import RuleReLU, assert_close, tape_projection

from deconv_widgets._tf import tf
from deconv_widgets.projection import Projector, kinds, rules


def _upsample_backward(layer, grad, _inputs, _output):
    """Nearest upsampling copies each value into an (sh, sw) block: its adjoint sums blocks."""
    sh, sw = layer.size
    shape = tf.shape(grad)
    blocks = tf.reshape(grad, [shape[0], shape[1] // sh, sh, shape[2] // sw, sw, shape[3]])
    return [tf.reduce_sum(blocks, axis=[2, 4])]


def _upsample_rung(layer, signal, below):
    """The same sum over blocks in NumPy."""
    sh, sw = layer.size
    height, width, channels = below.shape
    summed = signal.reshape(height, sh, width, sw, channels).sum(axis=(1, 3))
    return "sum_pool", summed.astype(np.float32), "sum each block (undo nearest upsampling)"


UPSAMPLE = kinds.Kind(
    "upsample",
    lambda layer: type(layer) is keras.layers.UpSampling2D and layer.interpolation == "nearest",
    _upsample_backward,
    _upsample_rung,
)


def _model():
    rng = np.random.default_rng(3)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(4, 3, padding="same", name="c1"),
            keras.layers.ReLU(name="r1"),
            keras.layers.UpSampling2D(2, name="up"),
            keras.layers.Conv2D(3, 3, name="c2"),
            keras.layers.ReLU(name="r2"),
        ]
    )
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.weights])
    return model


def _twin(model, method):
    """The model with ReLUs whose gradient is the method's rule (tf.custom_gradient)."""

    def swap(layer):
        if isinstance(layer, keras.layers.ReLU):
            return RuleReLU(method, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    twin = keras.models.clone_model(model, clone_function=swap)
    twin.set_weights(model.get_weights())
    return twin


def test_without_the_entry_upsampling_passes_by_its_gradient_but_the_ladder_stops_there():
    """Third release (refusals became answers).

    The engine no longer refuses a layer without an entry (it takes the layer's exact VJP, equal
    to the entry's adjoint); the ladder still needs the entry.
    """
    model = _model()
    projector = Projector(model)
    image = np.random.default_rng(0).uniform(-1, 1, (6, 6, 2)).astype("float32")
    assert rules.classify(model.get_layer("up")) == ("other", "UpSampling2D")
    for method in ("deconvnet", "guided"):
        expected = tape_projection(_twin(model, method), image, "r2", 1, "activation")
        assert_close(projector.project(image, "r2", 1, method=method), expected)
    with pytest.raises(ValueError, match=r"no explicit step for layer 'up' \(UpSampling2D\)"):
        projector.ladder(image, "r2", 0)


def test_one_entry_teaches_engine_and_ladder_a_layer_kind():
    model = _model()
    image = np.random.default_rng(0).uniform(-1, 1, (6, 6, 2)).astype("float32")
    with kinds.registered(UPSAMPLE):
        assert rules.classify(model.get_layer("up")) == ("upsample", "linear")
        projector = Projector(model)
        for method in ("deconvnet", "guided"):
            twin = _twin(model, method)
            for channel in range(3):
                expected = tape_projection(twin, image, "r2", channel, "activation")
                assert_close(projector.project(image, "r2", channel, method=method), expected)
        for seed in ("activation", "max", "ones"):
            expected = tape_projection(model, image, "r2", 1, seed)
            assert_close(projector.project(image, "r2", 1, method="saliency", seed=seed), expected)
        rungs = projector.ladder(image, "r2", 2)
        assert [(r.layer, r.op) for r in rungs] == [
            ("r2", "rectify"),
            ("c2", "transpose_conv"),
            ("up", "sum_pool"),
            ("r1", "rectify"),
            ("c1", "transpose_conv"),
        ]
        assert_close(rungs[-1].array, projector.project(image, "r2", 2, method="deconvnet"))
    assert "upsample" not in kinds.names()  # the block forgets it again
    assert rules.classify(model.get_layer("up")) == ("other", "UpSampling2D")
