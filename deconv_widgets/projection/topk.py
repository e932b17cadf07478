"""Top-k search: the strongest activations of each channel over a stream of images."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import methods
from .._values import check_int, unwrap_tensor
from ..methods import Method
from .checks import model_stack
from .graph import LayerInfo
from .protocols import HitSource
from .steps import Pace, Step, Steps, Stopped, run_steps

BATCH = 32  # images per forward pass when `images` is one array
PROJECTION_BUDGET = 256 * 2**20  # bytes of cached forward tensors per projection chunk


@dataclass(frozen=True)
class Hit:
    """One strong activation: where it is, how strong, the input under it and its projection.

    `patch` and `projection` are (rf, rf, C) squares of the input under the receptive field of
    (y, x); where the square reaches past the image's border the missing pixels are zero.
    """

    image: int
    y: int
    x: int
    value: float
    patch: np.ndarray
    projection: np.ndarray


@dataclass(frozen=True)
class TopK:
    """Per channel, the k strongest hits over all images, strongest first."""

    layer: str
    hits: Mapping[int, list[Hit]] = field(default_factory=dict)

    def found(self, channel: int) -> list[tuple[int, int, int, float]]:
        """(image, y, x, value) of a channel's hits, strongest first, without projecting them."""
        if isinstance(self.hits, LazyHits):
            return self.hits.found(channel)
        return [(h.image, h.y, h.x, h.value) for h in self.hits[channel]]


def _batches(images: Any, pace: Pace | None = None) -> tuple[Iterable[np.ndarray], int | None]:
    """An iterable of (b, H, W, C) batches and the total number of images if known.

    `pace`: an array is cut into batches of `pace.size` (at the time each is taken), not BATCH.
    """
    images = unwrap_tensor(images)
    if isinstance(images, np.ndarray):
        if images.ndim == 3:
            images = images[None]
        if images.ndim != 4:
            raise ValueError(
                f"images must be an array (N, H, W, C) or an iterable of such batches; "
                f"got shape {images.shape}"
            )
        if pace is not None:
            return _paced(images, pace), len(images)
        return (images[i : i + BATCH] for i in range(0, len(images), BATCH)), len(images)
    if isinstance(images, Iterable) and not isinstance(images, str | bytes):
        return images, None
    raise TypeError(f"images must be an array or an iterable of batches, got {type(images)}")


def _paced(images: np.ndarray, pace: Pace) -> Iterator[np.ndarray]:
    start = 0
    while start < len(images):
        batch = images[start : start + pace.size]
        start += len(batch)
        yield batch


def crop_square(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    """The size x size square at (top, left) of an (H, W, C) image, zero outside the image."""
    height, width, channels = image.shape
    out = np.zeros((size, size, channels), np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + size, height), min(left + size, width)
    if r1 > r0 and c1 > c0:
        out[r0 - top : r1 - top, c0 - left : c1 - left] = image[r0:r1, c0:c1]
    return out


def top_k(
    projector: HitSource,
    images: Any,
    layer: str | LayerInfo,
    k: int = 9,
    channels: Any = None,
    progress: Any = True,
    method: str | Method = "deconvnet",
) -> TopK:
    """Stream `images`, keep the k strongest (value, image, y, x) per channel, then project them."""
    steps = top_k_steps(projector, images, layer, k, channels, method)
    return run_steps(steps, progress, desc="top-k", unit="img")


def top_k_steps(
    projector: HitSource,
    images: Any,
    layer: str | LayerInfo,
    k: int = 9,
    channels: Any = None,
    method: str | Method = "deconvnet",
    paced: bool = False,
) -> Steps[TopK]:
    """`top_k` in steps, one batch of images each (done: images searched).

    `paced`: an array's batches take about `steps.STEP_SECONDS` each (a job's), not BATCH
    images. Stopped, it returns the top-k of the images searched so far.
    """
    info = projector.layer_info(layer)
    k = check_int(k, "k", low=1)
    method = methods.get(method)
    if channels is None:
        channels = range(info.channels)
    channels = [projector.check_channel(info, c) for c in channels]
    pace = Pace(None, most=BATCH) if paced else None
    batches, total = _batches(images, pace)
    strongest = Strongest(channels, k)
    kept: dict[int, np.ndarray] = {}  # only the images some heap still points at
    done = 0
    try:
        for given in batches:
            if pace is not None:
                pace.start()
            batch = model_stack(given, projector.input_shape)  # before any copy
            strongest.add(projector.forward_batch(batch, info), done)  # (b, H', W', C')
            referenced = strongest.images()
            for n in range(len(batch)):
                if done + n in referenced:
                    kept[done + n] = batch[n].copy()  # a view would pin its whole batch
            kept = {i: im for i, im in kept.items() if i in referenced}
            done += len(batch)
            if pace is not None:
                pace.took()
            yield Step(done, total or 0)
    except Stopped:
        pass
    entries = strongest.entries()
    return TopK(layer=info.name, hits=LazyHits(projector, info, entries, kept, method))


class Strongest:
    """The k strongest activations of each channel seen so far, as (value, image, y, x).

    Ties go to the earlier image, then the smaller y, then the smaller x, whatever order the
    activations arrive in: a key (value, -image, -y, -x) orders every position, so the top-k of
    a union is the top-k of the union of the parts' top-k (`merge`, used by the Beam scan).
    """

    def __init__(self, channels: Iterable[int], k: int) -> None:
        self.k = k
        self.heaps: dict[int, list[tuple[float, int, int, int]]] = {c: [] for c in channels}

    def add(self, activation: np.ndarray, first: int, numbers: Any = None) -> None:
        """Take activations (b, H, W, C) of images first, first + 1, ... (or `numbers`)."""
        k = self.k
        numbers = range(first, first + len(activation)) if numbers is None else list(numbers)
        _, height, width, _ = activation.shape
        table = activation.reshape(-1, activation.shape[-1])  # rows in (n, y, x) order
        peaks = table.max(axis=0)
        for channel, heap in self.heaps.items():
            # Only values above the k-th best so far can enter (an equal value from a later
            # image loses the tie), so most channels skip most batches after the first few.
            floor = heap[0][0] if len(heap) == k else -np.inf
            if peaks[channel] <= floor:
                continue
            column = table[:, channel]
            candidates = np.flatnonzero(column > floor)
            if candidates.size > k:  # the k largest; ties at the k-th go to the earliest
                values = column[candidates]
                kth = -np.partition(-values, k - 1)[k - 1]
                above = candidates[values > kth]
                equal = candidates[values == kth][: k - above.size]
                candidates = np.concatenate([above, equal])
            for index in candidates:
                n, rest = divmod(int(index), height * width)
                y, x = divmod(rest, width)
                self.push(channel, (float(column[index]), -numbers[n], -y, -x))

    def push(self, channel: int, key: tuple[float, int, int, int]) -> None:
        """Offer one key (value, -image, -y, -x) to a channel."""
        heap = self.heaps[channel]
        if len(heap) < self.k:
            heapq.heappush(heap, key)
        elif key > heap[0]:
            heapq.heapreplace(heap, key)

    def merge(self, other: Strongest) -> Strongest:
        """Take in another accumulator's keys (same channels and k); returns self."""
        for channel, heap in other.heaps.items():
            for key in heap:
                self.push(channel, key)
        return self

    def images(self) -> set[int]:
        """The images some channel's heap points at."""
        return {-key[1] for heap in self.heaps.values() for key in heap}

    def entries(self) -> dict[int, list[tuple[int, int, int, float]]]:
        """Per channel its [(image, y, x, value)], strongest first."""
        return {
            channel: [(-key[1], -key[2], -key[3], key[0]) for key in sorted(heap, reverse=True)]
            for channel, heap in self.heaps.items()
        }


class LazyHits(Mapping[int, list[Hit]]):
    """channel -> its hits, strongest first; a channel's projections are computed on first read.

    Streaming the images only finds the hits; projecting every hit of every channel up front
    would cost k * C backward passes whether or not anyone looks (the Explorer shows one
    channel). Reading `hits[c]` projects channel c's k hits in one batched pass and keeps them;
    `dict(hits)` projects them all.
    """

    def __init__(
        self, projector: HitSource, info: Any, entries: dict, kept: dict, method: Method
    ) -> None:
        self._projector, self._info, self._method = projector, info, method
        self._entries = entries  # channel -> [(image, y, x, value)], strongest first
        self._kept = kept  # image index -> (H, W, C): only the images some hit points at
        self._done: dict[int, list[Hit]] = {}

    def __getitem__(self, channel: int) -> list[Hit]:
        if channel not in self._done:
            self._done[channel] = self._project(channel, self._entries[channel])
        return self._done[channel]

    def __iter__(self) -> Iterator[int]:
        return iter(self._entries)

    def found(self, channel: int) -> list[tuple[int, int, int, float]]:
        """(image, y, x, value) of a channel's hits, strongest first; nothing is projected."""
        return list(self._entries[channel])

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"LazyHits(channels={list(self._entries)}, projected={sorted(self._done)})"

    def _project(self, channel: int, entries: list) -> list[Hit]:
        """Hits of one channel with patches and single-activation projections."""
        if not entries:
            return []
        info, projector = self._info, self._projector
        shape = self._kept[entries[0][0]].shape
        per_image = max(projector.cached_bytes_per_image(info, shape), 1)
        step = int(max(1, min(64, PROJECTION_BUDGET // per_image)))  # bounds the memory used
        projections: list[np.ndarray] = []
        for start in range(0, len(entries), step):
            chunk = entries[start : start + step]
            images = np.stack([self._kept[image] for image, _, _, _ in chunk])
            seeds = np.zeros((len(chunk), *info.output_shape), np.float32)
            for row, (_, y, x, value) in enumerate(chunk):
                seeds[row, y, x, channel] = value
            projections.extend(projector.project_seeds(images, info, seeds, method=self._method))
        hits = []
        for (image, y, x, value), projection in zip(entries, projections, strict=True):
            top, left, size = projector.receptive_box(info, y, x)
            patch = crop_square(self._kept[image], top, left, size)
            hits.append(Hit(image, y, x, value, patch, crop_square(projection, top, left, size)))
        return hits
