"""Image files to model-sized arrays: checked before decoding, EXIF-rotated, cropped, resized.

The header is read first: a file too large, a picture above `MAX_IMAGE_PIXELS` (a decompression
bomb) or an animation is refused before any pixel is decoded. Grey, palette, RGBA (over white),
CMYK and 16-bit pictures are converted to the model's 1 or 3 channels; the centre crop with the
model's aspect ratio is resized to its input size.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .checks import MAX_IMAGE_PIXELS

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_FILE_BYTES = 20 * 2**20  # larger payloads are refused unread
MIN_SIDE = 8  # pixels: smaller pictures carry nothing to see
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
MODE_NAMES = {
    "L": "grey",
    "LA": "grey with alpha",
    "P": "palette",
    "PA": "palette with alpha",
    "RGBA": "RGBA (over white)",
    "CMYK": "CMYK",
    "1": "black and white",
    "I;16": "16-bit grey",
    "I;16B": "16-bit grey",
    "I;16L": "16-bit grey",
    "I;16N": "16-bit grey",
    "I": "32-bit grey",
    "YCbCr": "YCbCr",
    "RGB": "RGB",
}


class ImageFileError(ValueError):
    """A file that is not a usable picture; the message says why and what to do."""


def decode_image(
    data: bytes,
    size: tuple[int, int],
    channels: int,
    name: str = "image",
    notes: list[str] | None = None,
) -> np.ndarray:
    """The picture in `data` as float32 (H, W, channels) in [0, 1], H, W = `size`.

    `notes`, when given, receives what was done to the picture, in words ("CMYK to RGB", ...).

    Raises:
        ImageFileError: too large, not a picture, corrupt or truncated, too small, animated.
    """
    notes = [] if notes is None else notes
    if channels not in (1, 3):
        raise ValueError(f"images convert to 1 or 3 channels, not {channels}")
    if len(data) > MAX_FILE_BYTES:
        raise ImageFileError(
            f"{name}: {len(data) / 2**20:.1f} MB is above the limit of "
            f"{MAX_FILE_BYTES // 2**20} MB; save a smaller picture"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageFileError(
            f"{name}: its header claims more pixels than MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} "
            "(4096 x 4096), a decompression bomb or a huge picture; resize it first"
        ) from error
    except (UnidentifiedImageError, OSError) as error:
        raise ImageFileError(
            f"{name}: not a picture Pillow can read ({type(error).__name__}); give a PNG or JPEG"
        ) from error
    with opened:
        width, height = opened.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageFileError(
                f"{name}: {width}x{height} = {width * height} pixels is above the limit "
                f"MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} (4096 x 4096); resize it first"
            )
        if min(width, height) < MIN_SIDE:
            raise ImageFileError(
                f"{name}: {width}x{height} pixels is too small; give a picture of at least "
                f"{MIN_SIDE}x{MIN_SIDE}"
            )
        frames = getattr(opened, "n_frames", 1)
        if frames > 1:
            raise ImageFileError(
                f"{name}: an animation of {frames} frames; save the frame you want as a PNG"
            )
        try:
            pixels = _pixels(opened, channels, notes)
        except (OSError, SyntaxError, ValueError) as error:
            raise ImageFileError(
                f"{name}: corrupt or truncated {opened.format or 'image'} file "
                f"({type(error).__name__}: {error}); save it again"
            ) from error
    if pixels.shape[:2] != tuple(size):
        h, w = pixels.shape[:2]
        notes.append(f"centre-cropped and resized from {w}x{h} to {size[1]}x{size[0]}")
    return fit(pixels, size)


def _pixels(opened: Image.Image, channels: int, notes: list[str]) -> np.ndarray:
    """Decoded, upright pixels as float32 (h, w, channels) in [0, 1]."""
    opened.load()
    orientation = opened.getexif().get(0x0112, 1)  # EXIF Orientation
    picture = ImageOps.exif_transpose(opened) or opened
    if orientation not in (1, None):
        notes.append(f"turned upright (EXIF orientation {orientation})")
    target = "grey" if channels == 1 else "RGB"
    if picture.mode != ("L" if channels == 1 else "RGB"):
        notes.append(f"{MODE_NAMES.get(picture.mode, picture.mode)} to {target}")
    if picture.mode in SIXTEEN_BIT_MODES:
        grey = np.asarray(picture, np.float32) / np.float32(65535.0)
        grey = np.clip(grey, 0.0, 1.0)[..., None]
        return grey if channels == 1 else np.repeat(grey, 3, axis=-1)
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(white, rgba)
    array = np.asarray(picture.convert("L" if channels == 1 else "RGB"), np.float32)
    array = array / np.float32(255.0)
    return array[..., None] if array.ndim == 2 else array


def fit(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The centre crop of (h, w, C) pixels with the aspect of `size`, resized to it (Lanczos)."""
    height, width = size
    h, w = pixels.shape[:2]
    if (h, w) == (height, width):
        return np.ascontiguousarray(pixels, np.float32)
    if h * width > w * height:  # too tall: crop rows
        keep = max(1, round(w * height / width))
        top, left, h = (h - keep) // 2, 0, keep
    else:
        keep = max(1, round(h * width / height))
        top, left, w = 0, (w - keep) // 2, keep
    crop = pixels[top : top + h, left : left + w]
    planes = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(crop[..., c], np.float32), mode="F").resize(
                (width, height), Image.Resampling.LANCZOS
            )
        )
        for c in range(pixels.shape[-1])
    ]
    return np.clip(np.stack(planes, axis=-1), 0.0, 1.0).astype(np.float32)
