"""One path from a picture to a model input: every file, array and camera frame the model sees.

Every picture that becomes a model input goes through `to_model_input`: the CLI's
`deconv-widgets render --image`, the Explorer's uploads and drops, `Explorer.add_images` (arrays
or files), its camera frames, and the scan's files. A file's bytes are read by `decode_image`,
which checks and decodes them and then calls `to_model_input`; so the same picture gives the
same input array everywhere.

The conversion, in this order:

1. **Checks (files).** The header is read first: a file above `MAX_FILE_BYTES` (20 MB), a
   picture above `MAX_IMAGE_PIXELS` (a decompression bomb), one under `MIN_SIDE` pixels or an
   animation is refused before any pixel is decoded.
2. **EXIF orientation (files).** The picture is turned upright by its EXIF Orientation tag.
3. **Decoding (files).** Grey (and black-and-white) pictures give one channel, grey with
   alpha two; 16-bit (and 32-bit) grey is divided by 65535; palette, CMYK and YCbCr pictures
   become RGB by Pillow's conversion; RGB stays; RGBA (and a palette or RGB picture with a
   transparent colour) keeps its alpha for step 5.
4. **Values to float32 in [0, 1].** `uint8` is divided by 255, `uint16` by 65535, other
   integers are read as 0..255 (values outside are refused); floats are taken as [0, 1].
5. **Alpha over white.** With an alpha channel α in [0, 1] (2 or 4 channels), each colour
   value c becomes c·α + (1 − α).
6. **Colour.** RGB to grey is the ITU-R BT.601 luma, computed in float32 on the [0, 1]
   values: grey = 0.299 R + 0.587 G + 0.114 B (a pure red pixel is 0.299). Grey to RGB repeats
   the grey value in the three channels.
7. **Centre crop** to the aspect ratio of the model's input (height, width): the rows (or
   columns) beyond it are cut evenly from both sides.
8. **Lanczos resize** of the crop to the input size, channel by channel in float32 (Pillow's
   LANCZOS filter on mode "F" planes); a picture already at the size is not resampled.
9. **Clipped** to [0, 1]: float32 (height, width, channels).

Camera frames are centre-cropped to the aspect ratio of the input size and scaled to it in the
page (a canvas `drawImage` with high-quality smoothing, never a full-resolution frame over the
comm); they arrive as RGB bytes at the input size, so steps 7 and 8 leave them as they are.
The CLI's `--raw-pixels` multiplies the result by 255.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .._values import unwrap_tensor
from .checks import MAX_IMAGE_PIXELS, check_finite, check_image_size, check_pixel_dtype

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_FILE_BYTES = 20 * 2**20  # larger payloads are refused unread
MIN_SIDE = 8  # pixels: smaller pictures carry nothing to see
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
LUMA = (0.299, 0.587, 0.114)  # RGB to grey: ITU-R BT.601 luma, on float32 values in [0, 1]
GREY_MODES = ("1", "L", "LA", "La")  # decoded as grey (with its alpha, if any)
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
    """The picture file in `data` as the model's input: the module's conversion, all its steps.

    The header is checked before any pixel is decoded; the picture is turned upright by its
    EXIF orientation, decoded, then converted by `to_model_input`.

    Args:
        data: the file's bytes (PNG, JPEG, WebP, ... anything Pillow reads).
        size: the model's input (height, width).
        channels: the model's input channels, 1 (grey) or 3 (RGB).
        name: the file's name, at the start of an error's message.
        notes: when given, receives what was done to the picture, in words ("turned upright
            (EXIF orientation 6)", "CMYK to grey", "centre-cropped and resized from 90x60 to
            64x64").

    Returns:
        float32 (height, width, channels) in [0, 1].

    Raises:
        ImageFileError: too large, not a picture, corrupt or truncated, too small, animated.
        ValueError: `channels` is not 1 or 3.
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
    return to_model_input(pixels, size, channels, notes=notes)


def _pixels(opened: Image.Image, channels: int, notes: list[str]) -> np.ndarray:
    """Decoded, upright pixels (h, w, 1 to 4): uint8, or uint16 for 16- and 32-bit grey."""
    opened.load()
    orientation = opened.getexif().get(0x0112, 1)  # EXIF Orientation
    picture = ImageOps.exif_transpose(opened) or opened
    if orientation not in (1, None):
        notes.append(f"turned upright (EXIF orientation {orientation})")
    target = "grey" if channels == 1 else "RGB"
    if picture.mode != ("L" if channels == 1 else "RGB"):
        notes.append(f"{MODE_NAMES.get(picture.mode, picture.mode)} to {target}")
    if picture.mode in SIXTEEN_BIT_MODES:  # uint16: to_model_input divides by 65535
        return np.clip(np.asarray(picture), 0, 65535).astype(np.uint16)[..., None]
    transparent = "transparency" in picture.info
    if picture.mode in GREY_MODES:
        mode = "LA" if picture.mode in ("LA", "La") or transparent else "L"
    else:
        mode = "RGBA" if picture.mode in ("RGBA", "RGBa", "PA") or transparent else "RGB"
    array = np.asarray(picture if picture.mode == mode else picture.convert(mode))
    return array[..., None] if array.ndim == 2 else array


def to_model_input(
    pixels: Any,
    size: tuple[int, int],
    channels: int,
    notes: list[str] | None = None,
) -> np.ndarray:
    """One picture as the model's input: the module's conversion, steps 4 to 9.

    Values to float32 in [0, 1], alpha over white, grey = 0.299 R + 0.587 G + 0.114 B
    (ITU-R BT.601, in float32) or grey repeated to RGB, centre crop to the aspect ratio of
    `size`, Lanczos resize to it, clipped to [0, 1].

    Args:
        pixels: the picture, (H, W) or (H, W, C) with C = 1 (grey), 2 (grey, alpha), 3 (RGB)
            or 4 (RGBA); uint8 (0..255), uint16 (0..65535), other integers (0..255) or floats
            in [0, 1] (values outside are clipped); a NumPy array, a tensor or nested lists.
        size: the model's input (height, width).
        channels: the model's input channels, 1 (grey) or 3 (RGB).
        notes: when given, receives "centre-cropped and resized from WxH to wxh" when the
            picture is not at `size`.

    Returns:
        float32 (height, width, channels) in [0, 1]; a picture already at `size` in the
        model's channels keeps its values (clipped to [0, 1]).

    Raises:
        TypeError: the pixels are not real numbers.
        ValueError: `channels` is not 1 or 3; another shape or channel count, an empty or too
            large picture, NaN or infinite values, integers outside 0..255.
    """
    if channels not in (1, 3):
        raise ValueError(f"images convert to 1 or 3 channels, not {channels}")
    array = np.asarray(unwrap_tensor(pixels))
    check_pixel_dtype(array, "pixels")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            "a picture must have shape (H, W) or (H, W, C) with C = 1 (grey), 2 (grey and "
            f"alpha), 3 (RGB) or 4 (RGBA); got shape {tuple(array.shape)}"
        )
    check_image_size(array.shape, "the picture")
    values = _unit_values(array)
    if values.shape[-1] in (2, 4):  # alpha over white
        alpha = values[..., -1:]
        values = values[..., :-1] * alpha + (np.float32(1.0) - alpha)
    if values.shape[-1] == 3 and channels == 1:
        red, green, blue = (np.float32(weight) for weight in LUMA)
        values = red * values[..., 0] + green * values[..., 1] + blue * values[..., 2]
        values = values[..., None]
    if values.shape[:2] != tuple(size) and notes is not None:
        h, w = values.shape[:2]
        notes.append(f"centre-cropped and resized from {w}x{h} to {size[1]}x{size[0]}")
    values = fit(values, size)
    if values.shape[-1] == 1 and channels == 3:  # after the resize: the same planes, 3x faster
        values = np.repeat(values, 3, axis=-1)
    return np.ascontiguousarray(np.clip(values, 0.0, 1.0), np.float32)


def _unit_values(array: np.ndarray) -> np.ndarray:
    """Pixels as float32 in [0, 1]: uint16 / 65535, other integers / 255, floats clipped."""
    if array.dtype.kind == "f":
        values = np.asarray(array, np.float32)
        check_finite(values, "pixels")
        return np.clip(values, 0.0, 1.0)
    if array.dtype == np.uint16:
        return array.astype(np.float32) / np.float32(65535.0)
    if array.dtype != np.uint8 and (array.min() < 0 or array.max() > 255):
        raise ValueError(
            f"integer pixels must be 0..255 (uint16: 0..65535), got {array.min()}..{array.max()} "
            f"({array.dtype}); pass uint8, uint16 or floats in [0, 1]"
        )
    return array.astype(np.float32) / np.float32(255.0)


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
