"""The zoo's small VGG-style CNN: its architecture and the bundled trained weights."""

from __future__ import annotations

from deconv_widgets._tf import tf  # noqa: F401  (quiet TensorFlow first)

# isort: split

from functools import lru_cache
from pathlib import Path

import keras

from .shapes import SHAPE_CLASSES

MODEL_FILE = Path(__file__).with_name("shapes_cnn.keras")
INPUT_SIZE = 64


def build_shapes_model(size: int = INPUT_SIZE) -> keras.Model:
    """Build the untrained shapes CNN: three VGG blocks of two 3x3 ReLU convs and a max pool."""
    inputs = keras.Input((size, size, 1), name="image")
    x = inputs
    for block, filters in enumerate((16, 32, 64), start=1):
        for index in (1, 2):
            x = keras.layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"conv{block}_{index}"
            )(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(len(SHAPE_CLASSES), activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="shapes_cnn")


@lru_cache(maxsize=1)
def shapes_model() -> keras.Model:
    """Load the trained shapes CNN shipped in the package (no network; cached)."""
    if not MODEL_FILE.exists():
        raise FileNotFoundError(
            f"the bundled model {MODEL_FILE} is missing; rebuild it with "
            "`python -m deconv_widgets.zoo.train --out deconv_widgets/zoo/shapes_cnn.keras`"
        )
    return keras.saving.load_model(MODEL_FILE, safe_mode=True, compile=False)
