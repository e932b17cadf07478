"""The Explorer's own images: uploads (a bad-file matrix), add_images, camera frames, freeze."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib

import numpy as np
import pytest
from helpers import encoded, floats, upload
from PIL import Image
from test_widgets_live import in_a_kernel_loop

from deconv_widgets import Explorer, Projector
from deconv_widgets.methods import NAMES
from deconv_widgets.projection.image_files import decode_image
from deconv_widgets.widgets import _picks

IMAGES = (3, 4)  # (n, random_seed) of the conftest's `images`; its `explorer` is at conv2_1


def rgb_picture(width: int = 90, height: int = 60) -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), "RGB")


def bomb_header(side: int = 30000) -> bytes:
    """A PNG whose header claims side x side pixels (no pixel data follows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [Image.new("L", (32, 32), value) for value in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


BAD_FILES = [
    ("text.png", lambda: b"just some text, renamed", "not a picture Pillow can read"),
    ("truncated.png", lambda: encoded(rgb_picture())[:200], "corrupt or truncated PNG"),
    ("dot.png", lambda: encoded(Image.new("L", (1, 1))), "1x1 pixels is too small"),
    ("bomb.png", bomb_header, "header claims more pixels than MAX_IMAGE_PIXELS"),
    ("moving.gif", animated_gif, "an animation of 2 frames"),
    ("huge.png", lambda: b"\x89PNG" + bytes(25 * 2**20), "25.0 MB is above the limit of 20 MB"),
]


@pytest.mark.slow("a fresh Explorer for each of the bad files (~2-4 s each)")
@pytest.mark.parametrize(("name", "make", "words"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_a_status_line_and_nothing_else_changes(explorer, name, make, words):
    before = (explorer.n_images, explorer.image_index, explorer.image_version, explorer.image)
    upload(explorer, name, make())
    assert explorer.status.startswith(f"error: {name}: ") and words in explorer.status
    after = (explorer.n_images, explorer.image_index, explorer.image_version, explorer.image)
    assert after == before and len(explorer.images) == 3
    explorer.channel = 1  # and the widget keeps working
    assert explorer.proj_key["image"] == before[2]


def test_cmyk_jpeg_and_16_bit_png_are_converted_and_said(explorer):
    cmyk = rgb_picture(64, 64).convert("CMYK")
    upload(explorer, "print.jpg", encoded(cmyk, "JPEG", quality=95))
    assert explorer.n_images == 4 and explorer.image_index == 3
    assert explorer.status == "added image 3: print.jpg; CMYK to grey"
    ramp = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).astype(np.uint16)
    upload(explorer, "deep.png", encoded(Image.fromarray(ramp)))
    assert explorer.status == "added image 4: deep.png; 16-bit grey to grey"
    np.testing.assert_allclose(explorer.images[4][..., 0], ramp / 65535.0, atol=1e-6)


def test_an_upload_is_fitted_turned_upright_and_shown(explorer, model):
    y, x = np.mgrid[0:60, 0:90]
    smooth = np.stack([x * 255 / 89, y * 255 / 59, np.full_like(x, 128)], -1).astype(np.uint8)
    picture = Image.fromarray(smooth, "RGB")  # landscape 90 x 60, as the camera stored it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    upload(explorer, "phone.jpg", encoded(picture, "JPEG", quality=98, exif=exif))
    assert explorer.status == (
        "added image 3: phone.jpg; turned upright (EXIF orientation 6), RGB to grey, "
        "centre-cropped and resized from 60x90 to 64x64"
    )
    shown = explorer.images[3][..., 0]
    small = np.asarray(Image.fromarray(shown).resize((60, 60), Image.Resampling.BILINEAR))

    def error(turn):  # the centre square of the picture turned by `turn`, against the upload
        turned = np.asarray(picture.transpose(turn).convert("L"), np.float32) / 255.0
        top, left = (turned.shape[0] - 60) // 2, (turned.shape[1] - 60) // 2
        return np.abs(small - turned[top : top + 60, left : left + 60]).mean()

    upright = error(Image.Transpose.ROTATE_270)
    assert upright < 0.02 and upright * 5 < error(Image.Transpose.ROTATE_90)
    got = floats(explorer.projections, explorer.proj_shape)
    want = Projector(model).project(explorer.images[3], "conv2_1", explorer.channel)
    np.testing.assert_allclose(got[0, explorer.channel], want, rtol=1e-5, atol=1e-6)


def test_rgba_goes_over_white_and_palette_is_read():
    rgba = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    pixels = decode_image(encoded(rgba), (16, 16), 3)
    np.testing.assert_array_equal(pixels, np.ones((16, 16, 3), np.float32))
    palette = Image.new("P", (16, 16), 3)
    palette.putpalette([0, 0, 0] * 3 + [255, 0, 0] + [0, 0, 0] * 252)
    notes: list[str] = []
    red = decode_image(encoded(palette), (16, 16), 3, notes=notes)
    np.testing.assert_array_equal(red[0, 0], [1.0, 0.0, 0.0])
    assert notes == ["palette to RGB"]


def test_add_images_from_python_fits_arrays_and_files(explorer, tmp_path):
    colour = np.random.default_rng(2).random((2, 100, 80, 3)).astype(np.float32)
    first = explorer.add_images(colour)
    assert first == 3 and explorer.n_images == 5 and explorer.image_index == 3
    assert explorer.images.shape == (5, 64, 64, 1)
    path = tmp_path / "mine.png"
    path.write_bytes(encoded(rgb_picture(64, 64)))
    assert explorer.add_images([path, str(path)]) == 5 and explorer.n_images == 7
    with pytest.raises(ValueError, match="not a picture Pillow can read"):
        (tmp_path / "bad.png").write_text("no")
        explorer.add_images([path, tmp_path / "bad.png"])
    assert explorer.n_images == 7  # nothing of a failed call is kept
    with pytest.raises(ValueError, match="read-only"):
        explorer.images[0, 0, 0, 0] = 1.0


def frame_message(explorer: Explorer, rgb: np.ndarray) -> None:
    data = np.ascontiguousarray(rgb, np.uint8).tobytes()
    content = {"type": "frame", "shape": list(rgb.shape)}
    explorer._on_message(explorer, content, [memoryview(data)])


def test_a_camera_frame_becomes_the_image_and_its_projection_follows(explorer, model):
    rgb = np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    version = explorer.image_version
    frame_message(explorer, rgb)
    assert explorer.frames == 1 and explorer.image_version == version + 1
    assert explorer.proj_key["image"] == explorer.image_version and explorer.n_images == 3
    grey = (rgb.astype(np.float32) / 255.0) @ np.array([0.299, 0.587, 0.114], np.float32)
    got = floats(explorer.projections, explorer.proj_shape)
    for index, method in enumerate(explorer.proj_methods):
        want = Projector(model).project(grey[..., None], "conv2_1", 4, method=method)
        np.testing.assert_allclose(got[index, 4], want, rtol=1e-5, atol=1e-6)
    frame_message(explorer, rgb[:32])  # a wrong size: refused, counted, nothing else changes
    assert explorer.frames == 2 and explorer.image_version == version + 1
    assert explorer.status.startswith("error: a camera frame must be RGB bytes of shape [64, 64")
    explorer._on_message(explorer, {"type": "freeze"}, [])
    assert explorer.n_images == 4 and explorer.status == "kept the camera frame as image 3"
    np.testing.assert_allclose(explorer.images[3][..., 0], grey, atol=1e-6)


def test_camera_states_and_refusals_are_status_lines(explorer):
    explorer._on_message(explorer, {"type": "freeze"}, [])
    assert explorer.status == "error: no camera frame to keep: turn the camera on first"
    explorer._on_message(explorer, {"type": "camera", "state": "on"}, [])
    assert explorer.status == "camera on: the deconvnet projection follows the frames"
    message = "camera: permission refused (NotAllowedError: Permission denied)"
    explorer._on_message(explorer, {"type": "camera", "state": "error", "message": message}, [])
    assert explorer.status == f"error: {message}"
    explorer._on_message(explorer, {"type": "refused", "message": "error: big.png: 25.0 MB"}, [])
    assert explorer.status == "error: big.png: 25.0 MB" and explorer.n_images == 3
    explorer._on_message(explorer, {"type": "upload", "name": "x.png"}, [])
    assert explorer.status == "error: an upload carries one file"


def test_frames_on_a_large_layer_are_picks_computed_by_the_worker(model, images, monkeypatch):
    monkeypatch.setattr(_picks, "ALL_CHANNELS_LIMIT_BYTES", 0)  # one channel a pick
    frames = np.random.default_rng(5).integers(0, 255, (6, 64, 64, 3), dtype=np.uint8)

    async def main() -> None:
        explorer = Explorer(model, images, layer="conv3_1", channel=2, method="guided")
        try:
            explorer.wait(timeout=60)
            explorer._worker.passes.clear()
            for rgb in frames:  # faster than the worker: most frames are replaced unseen
                frame_message(explorer, rgb)
            assert explorer.frames == 6
            deadline = asyncio.get_running_loop().time() + 60
            while explorer._published != (explorer._want, tuple(explorer.methods)):
                assert asyncio.get_running_loop().time() < deadline, explorer.status
                await asyncio.sleep(0.01)
            assert explorer.proj_key["image"] == explorer.image_version
            # every pass ran on the worker for one of the frames, the last frame's among them
            # (how many are skipped depends on speed; newest-wins: test_widgets_live_kernel)
            seen = [key[2] for key, _, pick in explorer._worker.passes if pick]
            assert set(seen) <= set(range(explorer.image_version - 5, explorer.image_version + 1))
            assert seen == sorted(seen) and seen[-1] == explorer.image_version
            grey = (frames[-1] / 255.0).astype(np.float32) @ np.array(
                [0.299, 0.587, 0.114], np.float32
            )
            got = floats(explorer.projections, explorer.proj_shape)
            want = Projector(model).project(grey[..., None], "conv3_1", 2, method="guided")
            np.testing.assert_allclose(got[explorer.proj_methods.index("guided"), 0], want,
                                       rtol=1e-5, atol=1e-6)  # fmt: skip
        finally:
            explorer.close()

    in_a_kernel_loop(main, monkeypatch)


def test_webp_uploads_like_png(explorer):
    upload(explorer, "web.webp", encoded(Image.new("RGB", (64, 64), (10, 200, 30)), "WEBP",
                                     lossless=True))  # fmt: skip
    assert explorer.status == "added image 3: web.webp; RGB to grey"
    grey = (0.299 * 10 + 0.587 * 200 + 0.114 * 30) / 255
    np.testing.assert_allclose(explorer.images[3], grey, atol=1 / 255)


def test_while_streaming_a_frame_computes_the_shown_method_of_the_shown_channel(explorer, model):
    explorer.method = "guided"
    explorer._on_message(explorer, {"type": "camera", "state": "on", "message": "camera: on"}, [])
    rgb = np.random.default_rng(6).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    frame_message(explorer, rgb)
    assert explorer.proj_methods == ["guided"] and explorer.proj_channels == [explorer.channel]
    grey = (rgb.astype(np.float32) / 255.0) @ np.array([0.299, 0.587, 0.114], np.float32)
    want = Projector(model).project(grey[..., None], "conv2_1", explorer.channel, "guided")
    got = floats(explorer.projections, explorer.proj_shape)
    np.testing.assert_allclose(got[0, 0], want, rtol=1e-5, atol=1e-6)
    explorer._on_message(explorer, {"type": "camera", "state": "off", "message": "camera: off"}, [])
    assert explorer.status == "camera off"  # the last frame stays, now with everything
    assert explorer.proj_methods == list(NAMES) and len(explorer.proj_channels) == 32
    assert explorer.proj_key["image"] == explorer.image_version
