"""The images part of the Explorer: the list to pick from, the user's own files, and camera frames.

Files come from the page's picker or a drop (one "upload" message each, the file's bytes as a
buffer) or from `add_images` (paths or arrays); every one becomes the images' size and channels
by the one conversion of `projection.image_files` (`decode_image` for files, `to_model_input`
for arrays). Camera frames come centre-cropped and scaled in the page to that size as RGB bytes
and go through `to_model_input` too (its crop and resize then leave them as they are); each
becomes the current image, a pick like any other (on large layers the worker computes the
newest one). While the camera streams, a frame computes the shown method of the shown channel
only (no prefetch); when it stops, the last frame gets every method. `frames` counts the frames
handled, so that the page sends the next one only when the last one's projection is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import traitlets

from ..._values import check_index
from ...projection.checks import image_stack
from ...projection.image_files import decode_image, to_model_input
from .._base import IntSetting
from .host import PartHost


class ImagesTraits(traitlets.HasTraits):
    """The images part's synced traits."""

    image_index = IntSetting(0).tag(sync=True)  # the image shown, an index into `images`
    """The image shown, an int index 0..n_images-1 into `images`. Set from Python or in the page
    (number box, previous/next buttons); out of range reverts, see `status`."""
    n_images = traitlets.Int(0).tag(sync=True)  # how many images there are to pick from
    """How many images there are to pick from (grows with uploads, `add_images`, `freeze`). Set
    by Python only."""
    frames = traitlets.Int(0).tag(sync=True)  # camera frames handled (accepted or refused)
    """Counts the camera frames handled, accepted or refused; the page sends the next frame once
    it has counted the last one (and that one's projection is in). Set by Python only."""


def checked_images(images: Any, image_index: int) -> np.ndarray:
    """The images to pick from, checked with the first index (ValueError/TypeError)."""
    stack = image_stack(images)  # checked (dtype, size, values) before any copy
    check_index(image_index, "image_index", len(stack))
    return stack


class ImagesPart:
    """The images to pick from (`image_index`), extended by uploads, drops, the camera."""

    MESSAGES = ("upload", "frame", "freeze", "camera", "refused")

    def __init__(self, host: PartHost, images: np.ndarray, image_index: int) -> None:
        self._host = host
        self._widget = host.widget
        self._images = images
        self._frame: np.ndarray | None = None  # the last camera frame shown
        self._streaming = False  # the page's camera is on
        self._widget.n_images = len(images)
        self._widget.set_trait("image_index", image_index)
        self._widget.observe(self._image_changed, names=["image_index"])

    @property
    def images(self) -> np.ndarray:
        """The images to pick from, (N, H, W, C) float32 in [0, 1] (read-only)."""
        view = self._images.view()
        view.flags.writeable = False
        return view

    def _check_index(self, index: Any) -> int:
        """An int index into the images, else TypeError/ValueError with the range."""
        return check_index(index, "image_index", len(self._images))

    def _image_changed(self, change: dict[str, Any]) -> None:
        def apply() -> None:
            self._host.set_image(self._images[self._check_index(change["new"])], False)
            self._host.repick()

        self._host.guarded(change, apply)

    # ------------------------------------------------------------------ adding
    def add_images(self, images: Any) -> int:
        """Append images and show the first of them (see `Explorer.add_images`)."""
        if isinstance(images, str | os.PathLike) or (
            isinstance(images, Sequence)
            and images
            and all(isinstance(item, str | os.PathLike) for item in images)
        ):
            paths = [images] if isinstance(images, str | os.PathLike) else list(images)
            stack = np.stack([self._decode(Path(p).read_bytes(), str(p)) for p in paths])
        else:
            stack = self._fitted(image_stack(images, keep_integers=True))
        first = len(self._images)
        host = self._host
        for image in stack:  # each checked by the model before any is kept
            host.projector.activations(host.model_input(image), self._widget.layers[0]["name"])
        self._images = np.concatenate([self._images, stack])
        self._widget.n_images = len(self._images)
        self._widget.image_index = first
        return first

    def _fitted(self, stack: np.ndarray) -> np.ndarray:
        """Images (N, H, W, C) as the Explorer's images (`image_files.to_model_input`)."""
        height, width, channels = self._images.shape[1:]
        return np.stack([to_model_input(image, (height, width), channels) for image in stack])

    def _decode(self, data: bytes, name: str, notes: list[str] | None = None) -> np.ndarray:
        """An image file's bytes, checked and fitted to the Explorer's images."""
        height, width, channels = self._images.shape[1:]
        return decode_image(data, (height, width), channels, name=name, notes=notes)

    def _upload(self, name: str, data: bytes) -> None:
        """A file from the page: added and shown, or a status line and nothing changed."""
        notes: list[str] = []
        image = self._decode(data, name, notes)
        index = self.add_images(image)
        done = f"; {', '.join(notes)}" if notes else ""
        self._widget.status = f"added image {index}: {name}{done}"

    # ------------------------------------------------------------------ camera
    def _camera_frame(self, content: dict[str, Any], buffers: Sequence[Any]) -> None:
        """A frame from the page (RGB bytes at the images' size) becomes the current image.

        The page centre-cropped it to the images' aspect ratio and scaled it to their size;
        `to_model_input` converts its colours (BT.601 grey for a grey model) and leaves its
        size as it is.
        """
        try:
            height, width, channels = self._images.shape[1:]
            shape = content.get("shape")
            if shape != [height, width, 3] or len(buffers) != 1:
                raise ValueError(
                    f"a camera frame must be RGB bytes of shape [{height}, {width}, 3], got "
                    f"{shape!r} in {len(buffers)} buffers"
                )
            data = np.frombuffer(bytes(buffers[0]), np.uint8)
            if data.size != height * width * 3:
                expected = height * width * 3
                raise ValueError(f"a camera frame of {data.size} bytes; expected {expected}")
            frame = to_model_input(data.reshape(height, width, 3), (height, width), channels)
            with self._widget.hold_sync():
                self._host.set_image(frame, True)  # the images' own shape
                self._widget.frames += 1
            self._frame = frame
            self._host.repick()
        except Exception:
            self._widget.frames += 1
            raise

    def camera_frame(self, frame: Any) -> None:
        """Show one frame as the page's camera sends it (see `Explorer.camera_frame`)."""
        data = np.ascontiguousarray(frame, np.uint8)
        self._camera_frame({"shape": [int(d) for d in data.shape]}, [data.tobytes()])

    def freeze(self) -> int:
        """Keep the last camera frame as an image (see `Explorer.freeze`)."""
        if self._frame is None:
            raise ValueError("no camera frame to keep: turn the camera on first")
        self._streaming = False
        self._host.stream(False)  # the page stopped the camera; the kept image gets every method
        index = self.add_images(self._frame)
        self._widget.status = f"kept the camera frame as image {index}"
        return index

    def _camera_state(self, content: dict[str, Any]) -> None:
        """The page's camera turned on or off, or failed (a refused permission, no camera)."""
        state, widget = content.get("state"), self._widget
        self._host.stream(state == "on")
        if state == "on":
            self._streaming = True
            widget.status = f"camera on: the {widget.method} projection follows the frames"
            return
        if self._streaming:  # the last frame stays: now with every method and channel
            self._streaming = False
            self._host.repick()
        if state == "off":
            widget.status = "camera off"
        else:
            message = str(content.get("message") or "the camera failed")
            widget.status = message if message.startswith("error") else f"error: {message}"

    def message(self, kind: str, content: dict[str, Any], buffers: Sequence[Any]) -> None:
        """Answer one of MESSAGES from the page."""
        if kind == "upload":
            if len(buffers) != 1:
                raise ValueError("an upload carries one file")
            self._upload(str(content.get("name") or "file"), bytes(buffers[0]))
        elif kind == "frame":
            self._camera_frame(content, buffers)
        elif kind == "freeze":
            self.freeze()
        elif kind == "camera":
            self._camera_state(content)
        elif kind == "refused":
            message = str(content.get("message") or "the file was refused")
            self._widget.status = message if message.startswith("error") else f"error: {message}"
