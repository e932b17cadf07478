"""Real photographs, offline: the ones scikit-image ships inside its wheel (`skimage/data`).

The files are read straight from the installed package with Pillow; scikit-image's own data
functions are not called (some of them fetch files), so nothing is downloaded. The photos'
sources and licences are listed in scikit-image's data documentation (`skimage/data/README.txt`).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from .._values import check_int
from ._extra import missing
from ._renamed import accepts_old_seed

# (name, file) in the order `photos` returns them: the cat first (the tour's running example),
# then the other colour photos, then the grey ones (stacked to RGB).
PHOTO_FILES: tuple[tuple[str, str], ...] = (
    ("chelsea", "chelsea.png"),
    ("astronaut", "astronaut.png"),
    ("coffee", "coffee.png"),
    ("rocket", "rocket.jpg"),
    ("motorcycle_left", "motorcycle_left.png"),
    ("hubble_deep_field", "hubble_deep_field.jpg"),
    ("retina", "retina.jpg"),
    ("ihc", "ihc.png"),
    ("camera", "camera.png"),
    ("coins", "coins.png"),
    ("moon", "moon.png"),
    ("brick", "brick.png"),
    ("grass", "grass.png"),
    ("gravel", "gravel.png"),
)
PHOTO_NAMES: tuple[str, ...] = tuple(name for name, _ in PHOTO_FILES)
MAX_SIZE = 1024  # the photos are 300 to 1411 pixels on their short side
MAX_PATCH_BYTES = 2 * 2**30  # photo_patches refuses to allocate more than this at once
SCALE_RANGE = (0.25, 1.0)  # a patch's side, as a fraction of its photo's short side


def data_dir() -> Path:
    """The installed scikit-image's `data` folder (scikit-image itself is not imported)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise missing("skimage")
    return Path(spec.origin).parent / "data"


@lru_cache(maxsize=1)
def originals() -> tuple[np.ndarray, ...]:
    """Every photo at its own size, as RGB uint8 (grey photos stacked to three channels)."""
    folder = data_dir()
    arrays = []
    for _, file in PHOTO_FILES:
        path = folder / file
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing from the installed scikit-image; reinstall it "
                '(scikit-image>=0.24 ships it in its wheel): pip install "scikit-image>=0.24"'
            )
        with Image.open(path) as opened:
            arrays.append(np.asarray(opened.convert("RGB")))
    return tuple(arrays)


def _resized(pixels: np.ndarray, top: int, left: int, side: int, size: int) -> np.ndarray:
    """The square pixels[top:top+side, left:left+side] resized to size x size, in [0, 1]."""
    square = Image.fromarray(pixels[top : top + side, left : left + side])
    resized = square.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(resized, np.float32) / np.float32(255.0)


def photos(size: int = 224) -> tuple[np.ndarray, tuple[str, ...]]:
    """The photos centre-cropped to squares and resized: (n, size, size, 3) in [0, 1], names.

    n = 14 (`PHOTO_NAMES`, the cat "chelsea" first). Grey photos are stacked to RGB. Needs
    scikit-image (the `vgg16` extra); nothing is downloaded.
    """
    size = check_int(size, "size", 1, MAX_SIZE)
    images = np.empty((len(PHOTO_FILES), size, size, 3), np.float32)
    for i, pixels in enumerate(originals()):
        height, width = pixels.shape[:2]
        side = min(height, width)
        images[i] = _resized(pixels, (height - side) // 2, (width - side) // 2, side, size)
    return images, PHOTO_NAMES


@accepts_old_seed
def photo_patches(n: int, size: int = 224, random_seed: int = 0) -> np.ndarray:
    """`n` random square crops of the photos, resized to size x size: (n, size, size, 3).

    Each patch: a photo picked at random, a side of 25% to 100% of its short side, a random
    position, flipped left-right half of the time. Deterministic for a given `random_seed`
    (`seed=` is its deprecated old name). A data set for `Projector.top_k` with real textures
    and objects at many scales.
    """
    n = check_int(n, "n", 0)
    size = check_int(size, "size", 1, MAX_SIZE)
    needed = n * size * size * 3 * 4
    if needed > MAX_PATCH_BYTES:
        most = MAX_PATCH_BYTES // (size * size * 3 * 4)
        raise ValueError(
            f"photo_patches({n}, size={size}) would need {needed / 2**30:.1f} GiB; at this size "
            f"ask for at most n={most} at a time (other random_seed values give other patches)"
        )
    sources = originals()
    rng = np.random.default_rng(random_seed)
    patches = np.empty((n, size, size, 3), np.float32)
    for i in range(n):
        pixels = sources[int(rng.integers(len(sources)))]
        height, width = pixels.shape[:2]
        side = max(1, round(min(height, width) * rng.uniform(*SCALE_RANGE)))
        top = int(rng.integers(height - side + 1))
        left = int(rng.integers(width - side + 1))
        patch = _resized(pixels, top, left, side, size)
        patches[i] = patch[:, ::-1] if rng.random() < 0.5 else patch
    return patches
