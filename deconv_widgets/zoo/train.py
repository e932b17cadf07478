"""Train the zoo's shapes CNN reproducibly: `python -m deconv_widgets.zoo.train --out FILE`."""

from __future__ import annotations

from deconv_widgets._tf import tf

# isort: split

import argparse
import time
from pathlib import Path

import keras

from .model import MODEL_FILE, build_shapes_model
from .shapes import shapes_images

TRAIN_RANDOM_SEED_BASE = 1000  # epoch e trains on shapes_images(..., random_seed=this + e)
VALIDATION_RANDOM_SEED = 999


def train(
    out: Path, epochs: int = 10, per_epoch: int = 5000, batch_size: int = 64
) -> tuple[keras.Model, float]:
    """Train on fresh images every epoch, save an optimizer-free copy to `out`, return accuracy."""
    keras.utils.set_random_seed(0)
    tf.config.experimental.enable_op_determinism()
    model = build_shapes_model()
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, epochs * per_epoch // batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    val_x, val_y = shapes_images(1000, random_seed=VALIDATION_RANDOM_SEED)
    for epoch in range(epochs):
        start = time.perf_counter()
        x, y = shapes_images(per_epoch, random_seed=TRAIN_RANDOM_SEED_BASE + epoch)
        history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
        _, accuracy = model.evaluate(val_x, val_y, batch_size=256, verbose=0)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {history.history['loss'][-1]:.4f} "
            f"val acc {accuracy:.4f} ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    clean = build_shapes_model()  # same architecture, no optimizer state in the file
    clean.set_weights(model.get_weights())
    out.parent.mkdir(parents=True, exist_ok=True)
    clean.save(out)
    return clean, float(accuracy)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="where to write .keras")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--per-epoch", type=int, default=5000)
    args = parser.parse_args(argv)
    _, accuracy = train(args.out, epochs=args.epochs, per_epoch=args.per_epoch)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB), validation accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
