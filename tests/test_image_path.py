"""One image path: a file gives the same model input in the CLI, the Explorer and the scan.

Every entry point calls `image_files.to_model_input` (files through `decode_image`): the CLI's
`render --image` loader, an Explorer upload, `add_images` (the file, its pixels, the decoded
array), the scan's reader and camera frames. Checked on the zoo's grey shapes CNN (64x64x1)
and its RGB VGG16 (32x32x3), with real files written by Pillow.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from helpers import encoded, upload
from PIL import Image, ImageOps

from deconv_widgets import Explorer, zoo
from deconv_widgets._cli_commands import _load_image
from deconv_widgets.cli import main
from deconv_widgets.projection.image_files import (
    ImageFileError,
    decode_image,
    fit,
    to_model_input,
)


def smooth_rgb(height: int, width: int) -> np.ndarray:
    """A smooth colour picture (lossy JPEG keeps it close), uint8 (height, width, 3)."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [x * 255 / (width - 1), y * 255 / (height - 1), (x + y) * 127 / (height + width)]
    return np.stack(planes, -1).astype(np.uint8)


def picture_files(folder: Path, size: tuple[int, int]) -> dict[str, Path]:
    """The files every entry point reads: EXIF JPEG, grey, RGBA, 16-bit grey, a camera-size RGB."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view": stored 90 x 60, upright 60 x 90
    rgba = rng.integers(0, 256, (50, 40, 4), dtype=np.uint8)
    rgba[:10, :, 3] = 0  # transparent rows, half-transparent ones, opaque ones
    rgba[10:20, :, 3] = 128
    rgba[20:30, :, 3] = 255
    deep = (np.arange(48 * 80, dtype=np.uint32).reshape(48, 80) * 17 % 65536).astype(np.uint16)
    pictures = {
        "phone.jpg": (Image.fromarray(smooth_rgb(60, 90), "RGB"), "JPEG",
                      {"quality": 95, "exif": exif}),
        "grey.png": (Image.fromarray(rng.integers(0, 256, (96, 72), dtype=np.uint8), "L"),
                     "PNG", {}),
        "rgba.png": (Image.fromarray(rgba, "RGBA"), "PNG", {}),
        "deep.png": (Image.fromarray(deep), "PNG", {}),
        "frame.png": (Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8), "RGB"),
                      "PNG", {}),
    }  # fmt: skip
    paths = {}
    for name, (picture, fmt, options) in pictures.items():
        paths[name] = folder / name
        paths[name].write_bytes(encoded(picture, fmt, **options))
    return paths


def raw_pixels(path: Path) -> np.ndarray:
    """The file's upright pixels as Pillow gives them (uint8 or uint16, channels last)."""
    with Image.open(path) as opened:
        pixels = np.asarray(ImageOps.exif_transpose(opened) or opened)
    return pixels[..., None] if pixels.ndim == 2 else pixels


@dataclass
class Setup:
    explorer: Explorer
    input_shape: tuple[int, int, int]
    files: dict[str, Path]
    folder: Path

    @property
    def size(self) -> tuple[int, int]:
        return self.input_shape[:2]

    @property
    def channels(self) -> int:
        return self.input_shape[2]


@pytest.fixture(scope="module", params=["grey shapes CNN", "RGB VGG16"])
def setup(request, model, tmp_path_factory):
    if request.param == "grey shapes CNN":
        net, layer = model, "conv1_1"
    else:
        try:
            net, layer = zoo.vgg16(32), "block1_conv1"
        except ModuleNotFoundError as error:
            pytest.skip(str(error))
    shape = tuple(int(d) for d in net.input_shape[1:])
    images = np.random.default_rng(0).random((2, *shape)).astype(np.float32)
    explorer = Explorer(net, images, layer=layer)
    folder = tmp_path_factory.mktemp("pictures")
    yield Setup(explorer, shape, picture_files(folder, shape[:2]), folder)
    explorer.close()


def uploaded(explorer: Explorer, name: str, data: bytes) -> np.ndarray:
    upload(explorer, name, data)
    assert explorer.status.startswith(f"added image {explorer.n_images - 1}: {name}")
    return explorer.images[-1]


def scan_reader(setup: Setup, path: Path) -> np.ndarray:
    work = pytest.importorskip("deconv_widgets.scan.work")
    spec = work.ScanSpec(
        model="shapes", layers=(), k=1, method="deconvnet", preprocess=None, size=setup.size,
        channels=setup.channels, batch_size=1, shard_size=1, files=(str(path),),
        out=str(setup.folder / "scan"), key="",
    )  # fmt: skip
    return work.read_shown(spec, 0)


def cli_loader(setup: Setup, path: Path, raw: bool = False) -> np.ndarray:
    args = argparse.Namespace(image=path, index=0, raw_pixels=raw)
    return _load_image(args, setup.input_shape)


FILES = ["phone.jpg", "grey.png", "rgba.png", "deep.png", "frame.png"]


@pytest.mark.parametrize("name", FILES)
def test_a_file_gives_the_same_input_everywhere(setup, name):
    path = setup.files[name]
    want = decode_image(path.read_bytes(), setup.size, setup.channels, name=name)
    assert want.shape == setup.input_shape and want.dtype == np.float32
    assert want.min() >= 0.0 and want.max() <= 1.0 and want.std() > 0.05
    explorer = setup.explorer
    got = {
        "CLI render's loader": cli_loader(setup, path),
        "CLI --raw-pixels / 255": cli_loader(setup, path, raw=True) / np.float32(255.0),
        "an upload": uploaded(explorer, name, path.read_bytes()),
        "the scan's reader": scan_reader(setup, path),
    }
    for what, source in [("path", path), ("pixels", raw_pixels(path)), ("decoded", want)]:
        explorer.add_images(source)
        got[f"add_images of the {what}"] = explorer.images[-1]
    for what, array in got.items():
        tolerance = 1e-6 if what.startswith("CLI --raw") else 0.0
        np.testing.assert_allclose(array, want, rtol=0, atol=tolerance, err_msg=what)


def test_a_camera_frame_of_the_picture_gives_the_same_input(setup):
    """The page sends frames at the input size (its crop and scale); Python converts colours."""
    path, explorer = setup.files["frame.png"], setup.explorer
    want = uploaded(explorer, "frame.png", path.read_bytes())
    rgb = raw_pixels(path)
    explorer._on_message(explorer, {"type": "frame", "shape": list(rgb.shape)}, [rgb.tobytes()])
    assert explorer.status == "" and explorer.freeze() == explorer.n_images - 1
    np.testing.assert_array_equal(explorer.images[-1], want)
    # a grey scene (R = G = B) as the camera sends it, against the same grey file
    grey = raw_pixels(setup.files["grey.png"])[: setup.size[0], : setup.size[1]]
    want = to_model_input(grey, setup.size, setup.channels)
    explorer.camera_frame(np.repeat(grey, 3, axis=-1))
    explorer.freeze()
    np.testing.assert_allclose(explorer.images[-1], want, rtol=0, atol=1e-6)


def test_the_cli_renders_a_file_with_the_uploads_notes(model, tmp_path, capsys):
    path = picture_files(tmp_path, (64, 64))["phone.jpg"]
    out = tmp_path / "figure.png"
    argv = ["render", "--image", str(path), "--layer", "conv1_1", "--channel", "0"]
    assert main([*argv, "--out", str(out)]) == 0 and out.stat().st_size > 10_000
    notes = (
        "turned upright (EXIF orientation 6), RGB to grey, centre-cropped and resized from "
        "60x90 to 64x64"
    )
    assert f"note: image {str(path)!r}: {notes}\n" in capsys.readouterr().err
    explorer = Explorer(model, zoo.shapes_images(1, random_seed=0)[0], layer="conv1_1")
    try:
        uploaded(explorer, "phone.jpg", path.read_bytes())
        assert explorer.status == f"added image 1: phone.jpg; {notes}"
    finally:
        explorer.close()


# ----------------------------------------------------------------------------- the formula
def test_grey_is_bt601_luma_in_float32():
    colours = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], np.uint8)
    grey = to_model_input(colours, (1, 4), 1)[0, :, 0]
    np.testing.assert_array_equal(grey, np.array([0.299, 0.587, 0.114, 1.0], np.float32))
    red = encoded(Image.new("RGB", (16, 16), (255, 0, 0)))
    np.testing.assert_array_equal(decode_image(red, (16, 16), 1), np.float32(0.299))
    # floats: the same formula, no rounding to 1/255 steps
    rgb = np.array([[[0.5, 0.25, 0.125]]], np.float32)
    want = np.float32(0.299) * 0.5 + np.float32(0.587) * 0.25 + np.float32(0.114) * 0.125
    assert to_model_input(rgb, (1, 1), 1)[0, 0, 0] == np.float32(want)
    # grey to RGB repeats; RGB stays
    ramp = np.arange(64, dtype=np.uint8).reshape(8, 8)
    three = to_model_input(ramp, (8, 8), 3)
    assert three.shape == (8, 8, 3) and np.array_equal(three[..., 0], three[..., 2])
    np.testing.assert_array_equal(three[..., 1], ramp / np.float32(255.0))


def test_pillow_integer_grey_differs_by_at_most_half_a_step():
    """What uploads and the scan gave before: Pillow's "L", rounded to 1/255 steps."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    pillow = np.asarray(Image.fromarray(rgb).convert("L"), np.float32) / 255.0
    ours = to_model_input(rgb, (512, 512), 1)[..., 0]
    assert 0.49 / 255 < np.abs(ours - pillow).max() <= 0.502 / 255


def test_exif_6_turns_the_picture_upright():
    stored = np.zeros((20, 40), np.uint8)  # landscape as the sensor stored it
    stored[:5, :10] = 255  # its top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6
    notes: list[str] = []
    data = encoded(Image.fromarray(stored, "L"), exif=exif)
    upright = decode_image(data, (40, 20), 1, notes=notes)[..., 0]
    assert notes == ["turned upright (EXIF orientation 6)"]
    np.testing.assert_array_equal(upright, np.rot90(stored, k=-1) / np.float32(255.0))
    assert upright[:10, -5:].min() == 1.0  # the stored top-left is now the top-right


def test_a_2_to_1_picture_is_centre_cropped():
    wide = np.random.default_rng(1).random((16, 32, 1)).astype(np.float32)
    np.testing.assert_array_equal(to_model_input(wide, (16, 16), 1), wide[:, 8:24])
    tall = wide.transpose(1, 0, 2)  # 1:2
    np.testing.assert_array_equal(to_model_input(tall, (16, 16), 1), tall[8:24])
    notes: list[str] = []
    small = to_model_input(wide, (8, 8), 1, notes=notes)  # cropped, then Lanczos
    np.testing.assert_array_equal(small, fit(wide[:, 8:24], (8, 8)))
    assert notes == ["centre-cropped and resized from 32x16 to 8x8"]
    reference = Image.fromarray(wide[:, 8:24, 0], "F").resize((8, 8), Image.Resampling.LANCZOS)
    np.testing.assert_allclose(small[..., 0], np.clip(np.asarray(reference), 0, 1), atol=0)


def test_alpha_16_bit_and_integer_values():
    half_red = np.array([[[255, 0, 0, 51]]], np.uint8)  # alpha 0.2 over white
    np.testing.assert_allclose(to_model_input(half_red, (1, 1), 3)[0, 0], [1.0, 0.8, 0.8])
    grey_alpha = np.array([[[0, 0], [0, 255]]], np.uint8)  # transparent black, opaque black
    np.testing.assert_array_equal(to_model_input(grey_alpha, (1, 2), 1)[0, :, 0], [1.0, 0.0])
    deep = np.array([[0, 32768, 65535]], np.uint16)
    np.testing.assert_array_equal(to_model_input(deep, (1, 3), 1)[0, :, 0],
                                  deep[0] / np.float32(65535.0))  # fmt: skip
    listed = to_model_input([[[0], [255]]], (1, 2), 1)  # int64 lists read as 0..255
    np.testing.assert_array_equal(listed[0, :, 0], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"integer pixels must be 0\.\.255"):
        to_model_input(np.full((4, 4, 1), 300), (4, 4), 1)
    with pytest.raises(ValueError, match="C = 1 \\(grey\\), 2"):
        to_model_input(np.zeros((4, 4, 5)), (4, 4), 1)
    with pytest.raises(ValueError, match="NaN"):
        to_model_input(np.full((4, 4, 1), np.nan), (4, 4), 1)
    with pytest.raises(ImageFileError, match="not a picture Pillow can read"):
        decode_image(b"not a picture", (4, 4), 1)
