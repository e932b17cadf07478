"""The zoo: procedural shapes data and the bundled trained CNN."""

from __future__ import annotations

import numpy as np
import pytest

from deconv_widgets import zoo
from deconv_widgets.zoo.model import MODEL_FILE


def test_shapes_images_shape_range_and_labels():
    images, labels = zoo.shapes_images(64, random_seed=3)
    assert images.shape == (64, 64, 64, 1) and images.dtype == np.float32
    assert labels.shape == (64,) and labels.dtype == np.int64
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert set(labels.tolist()) <= set(range(len(zoo.SHAPE_CLASSES)))
    assert 6 <= len(zoo.SHAPE_CLASSES) <= 8


def test_shapes_images_deterministic_per_random_seed_and_sized():
    a, la = zoo.shapes_images(8, size=32, random_seed=7)
    b, lb = zoo.shapes_images(8, size=32, random_seed=7)
    c, _ = zoo.shapes_images(8, size=32, random_seed=8)
    assert a.shape == (8, 32, 32, 1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


def test_shapes_images_takes_seed_as_a_deprecated_name_of_random_seed():
    images, labels = zoo.shapes_images(4, size=32, random_seed=5)
    np.testing.assert_array_equal(zoo.shapes_images(4, 32, 5)[0], images)  # by position
    deprecated = r"shapes_images\(seed=\.\.\.\) is deprecated: use random_seed="
    with pytest.warns(DeprecationWarning, match=deprecated) as caught:
        old_images, old_labels = zoo.shapes_images(4, size=32, seed=5)
    assert [w.filename for w in caught] == [__file__]  # stacklevel=2: the warning names the caller
    np.testing.assert_array_equal(old_images, images)
    np.testing.assert_array_equal(old_labels, labels)
    for both in ({"random_seed": 5}, {"random_seed": 0}):
        with pytest.raises(TypeError, match="got both random_seed and seed"):
            zoo.shapes_images(4, seed=5, **both)
    with pytest.raises(TypeError, match="got both random_seed and seed"):
        zoo.shapes_images(4, 32, 5, seed=5)


def test_every_class_varies_in_position_and_contrast():
    images, labels = zoo.shapes_images(400, random_seed=11)
    for label in range(len(zoo.SHAPE_CLASSES)):
        group = images[labels == label]
        assert len(group) >= 10
        # different images of one class differ (random position / size / contrast / noise)
        assert np.abs(group[0] - group[1]).mean() > 0.01


@pytest.mark.parametrize(
    ("bad", "error"), [(-1, ValueError), (2.5, TypeError), ("3", TypeError), (True, TypeError)]
)
def test_shapes_images_rejects_bad_n(bad, error):
    with pytest.raises(error, match="n must be an int >= 0, got"):
        zoo.shapes_images(bad)


def test_bundled_model_file_is_small_and_safe_to_load():
    import keras

    assert MODEL_FILE.exists()
    assert MODEL_FILE.stat().st_size <= 2 * 1024 * 1024
    model = keras.saving.load_model(MODEL_FILE, safe_mode=True, compile=False)
    names = [layer.name for layer in model.layers]
    assert {"conv1_1", "conv1_2", "pool1", "conv3_2", "pool3"} <= set(names)
    assert model.input_shape == (None, 64, 64, 1)
    assert model.output_shape == (None, len(zoo.SHAPE_CLASSES))


def test_shapes_model_is_cached():
    assert zoo.shapes_model() is zoo.shapes_model()


def test_accuracy_on_unseen_random_seed_is_at_least_95_percent():
    images, labels = zoo.shapes_images(500, random_seed=12345)  # training used 999 and 1000..1009
    model = zoo.shapes_model()
    predicted = np.argmax(model.predict(images, batch_size=100, verbose=0), axis=1)
    accuracy = float(np.mean(predicted == labels))
    print(f"zoo accuracy on random_seed 12345: {accuracy:.4f}")
    assert accuracy >= 0.95
