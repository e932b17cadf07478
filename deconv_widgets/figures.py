"""Static figures (matplotlib) of projections, top-k hits and lenses, for notebooks and files."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .projection import Cascade, Projector, TopK
from .projection.classifier import OcclusionMaps
from .projection.faithfulness import MODES, Faithfulness
from .projection.shown_space import affine_matrix, shown_hit, to_shown
from .projection.visualize import Visualization

CONTRAST_PERCENTILE = 99.5  # |values| above this percentile saturate (a few pixels dominate)


def signed_rgb(projection: Any) -> np.ndarray:
    """A projection as an RGB picture in [0, 1]: zero is grey, +-scale white/black per colour.

    scale is the 99.5th percentile of |projection| (its maximum when that is 0).
    """
    array = np.asarray(projection, np.float32)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    magnitude = np.abs(array)
    scale = float(np.percentile(magnitude, CONTRAST_PERCENTILE)) or float(magnitude.max())
    return np.clip(0.5 + array / (2 * scale), 0, 1) if scale > 0 else np.full_like(array, 0.5)


def _shown(image: Any) -> np.ndarray:
    """An image for imshow: grey images as RGB, values clipped to [0, 1]."""
    array = np.clip(np.asarray(image, np.float32), 0, 1)
    return np.repeat(array, 3, axis=-1) if array.shape[-1] == 1 else array


def image_grid(rows: Mapping[str, Sequence[tuple]], size: float = 1.8) -> Any:
    """One row per key; a cell is (title, projection) or (title, image, False) for an image.

    Projections are drawn with `signed_rgb` (zero is grey), images as they are (in [0, 1]).
    """
    import matplotlib.pyplot as plt

    columns = max(len(cells) for cells in rows.values())
    figure, axes = plt.subplots(
        len(rows), columns, figsize=(size * columns, size * len(rows) + 0.3), squeeze=False
    )
    for r, (label, cells) in enumerate(rows.items()):
        for c in range(columns):
            axis = axes[r][c]
            axis.set_xticks([])
            axis.set_yticks([])
            if c >= len(cells):
                axis.axis("off")
                continue
            title, array, *image = cells[c]
            shown = _shown(array) if image == [False] else signed_rgb(array)
            axis.imshow(shown, interpolation="nearest")
            axis.set_title(title, fontsize=8)
        axes[r][0].set_ylabel(label, fontsize=9)
    figure.tight_layout()
    return figure


def _mosaic(tiles: Sequence[np.ndarray], side: int) -> np.ndarray:
    """Up to side x side square tiles (same size) in a grid with 2-pixel white gaps."""
    size = tiles[0].shape[0]
    step = size + 2
    out = np.ones((side * step - 2, side * step - 2, 3), np.float32)
    for i, tile in enumerate(tiles[: side * side]):
        r, c = divmod(i, side)
        out[r * step : r * step + size, c * step : c * step + size] = tile
    return out


def top_k_figure(
    top: TopK,
    projector: Projector,
    shown_images: Any,
    channels: Sequence[int] | None = None,
    preprocess: Callable[[np.ndarray], Any] | None = None,
) -> Any:
    """Zeiler & Fergus Fig. 2: per channel, its top hits' image patches beside their projections.

    `shown_images` are the images as shown (before `preprocess`), indexed by `Hit.image`; patches
    are cut from them and projections are pulled back to their space when `preprocess` is
    per-pixel affine (e.g. VGG16's BGR).
    """
    import matplotlib.pyplot as plt

    channels = list(top.hits) if channels is None else list(channels)
    if not channels:
        raise ValueError("top_k_figure needs at least one channel with hits")
    shown_images = np.asarray(shown_images)
    matrix = affine_matrix(preprocess, shown_images.shape[1:])
    figure, axes = plt.subplots(len(channels), 2, figsize=(6, 3 * len(channels)), squeeze=False)
    for row, channel in enumerate(channels):
        mosaics = _hit_mosaics(top, projector, shown_images, channel, matrix)
        for axis, mosaic, what in zip(axes[row], mosaics, ("patches", "projections"), strict=True):
            _draw(axis, mosaic, f"{top.layer} channel {channel}: {what}")
    figure.tight_layout()
    return figure


def _hit_mosaics(
    top: TopK, projector: Projector, shown_images: np.ndarray, channel: int, matrix: Any
) -> tuple[np.ndarray, np.ndarray]:
    """A channel's hits as two square mosaics: the shown patches, their projections."""
    hits = top.hits[channel]
    side = int(np.ceil(np.sqrt(len(hits))))
    patches, projections = [], []
    for hit in hits:
        patch, projection = shown_hit(projector, top.layer, hit, shown_images[hit.image], matrix)
        patches.append(_shown(patch))
        projections.append(signed_rgb(projection))
    return _mosaic(patches, side), _mosaic(projections, side)


def _draw(axis: Any, image: np.ndarray, title: str) -> None:
    """An image on an axis without ticks, titled."""
    axis.imshow(image, interpolation="nearest")
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title, fontsize=9)


def unit_figure(
    found: Visualization,
    top: TopK,
    projector: Projector,
    shown_images: Any,
    preprocess: Callable[[np.ndarray], Any] | None = None,
) -> Any:
    """One unit, as OpenAI Microscope shows it: what it wants (`visualize`), what it gets (top-k).

    `found` and `top` must be of the same layer; `shown_images` and `preprocess` as for
    `top_k_figure`.
    """
    import matplotlib.pyplot as plt

    if found.layer != top.layer or found.channel not in top.hits:
        raise ValueError(
            f"the visualisation is of {found.layer} channel {found.channel}; the top-k is of "
            f"{top.layer} channels {sorted(top.hits)}: give both of one unit"
        )
    shown_images = np.asarray(shown_images)
    matrix = affine_matrix(preprocess, shown_images.shape[1:])
    patches, projections = _hit_mosaics(top, projector, shown_images, found.channel, matrix)
    figure, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    best = top.hits[found.channel][0].value if top.hits[found.channel] else float("nan")
    _draw(axes[0], _shown(found.image), f"what it wants: objective {found.activation:.3g}")
    _draw(axes[1], patches, f"what it gets: top-{len(top.hits[found.channel])}, peak {best:.3g}")
    _draw(axes[2], projections, "their projections")
    figure.suptitle(f"{found.layer} channel {found.channel}", fontsize=10)
    figure.tight_layout()
    return figure


def cascade_figure(
    rows: Mapping[str, Sequence[Cascade]],
    preprocess: Callable[[np.ndarray], Any] | None = None,
    shown_shape: Sequence[int] | None = None,
    size: float = 1.5,
) -> Any:
    """Adebayo et al.'s cascade: one row per method, the trained model first, rho on each step.

    With `preprocess` (per-pixel affine, e.g. VGG16's) and the shown image's shape, projections
    are drawn in the shown image's space.
    """
    matrix = affine_matrix(preprocess, tuple(shown_shape)) if shown_shape else None
    cells = {
        label: [
            (f"{step.layer or 'trained'}\nrho {step.rho:.2f}", to_shown(step.projection, matrix))
            for step in steps
        ]
        for label, steps in rows.items()
    }
    return image_grid(cells, size=size)


def occlusion_figure(image: Any, maps: Mapping[str, np.ndarray], size: float = 3.0) -> Any:
    """Zeiler & Fergus Fig. 7 style: the image, then each occlusion map over the same area."""
    import matplotlib.pyplot as plt

    shown = _shown(image)
    height, width = shown.shape[:2]
    figure, axes = plt.subplots(1, 1 + len(maps), figsize=(size * (1 + len(maps)), size))
    axes[0].imshow(shown)
    axes[0].set_title("image", fontsize=9)
    for axis, (title, values) in zip(axes[1:], maps.items(), strict=True):
        drawn = axis.imshow(values, cmap="viridis", extent=(0, width, height, 0))
        figure.colorbar(drawn, ax=axis, shrink=0.8)
        axis.set_title(title, fontsize=9)
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    return figure


def occlusion_maps_figure(
    image: Any,
    maps: OcclusionMaps,
    class_names: Sequence[str] | None = None,
    size: float = 3.0,
    legend: int = 5,
) -> Any:
    """Zeiler & Fergus Fig. 7: the image, (b) the unit, (d) the class's probability, (e) argmax.

    `maps` is `Projector.occlusion_maps`'s result; each map is drawn over the image, a cell
    `stride` wide at the centre of its square. (e) colours
    the `legend` classes that win the most positions and draws the rest grey; the legend names
    them from `class_names` (default: the class numbers).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    def name(index: int) -> str:
        return class_names[index] if class_names is not None else f"class {index}"

    shown = _shown(image)
    rows, cols = maps.unit.shape
    low = maps.patch / 2 - maps.stride / 2  # each cell centred on its square's centre
    area = (low, low + cols * maps.stride, low + rows * maps.stride, low)
    figure, axes = plt.subplots(1, 4, figsize=(size * 4, size + 0.9))
    axes[0].imshow(shown)
    axes[0].set_title("image", fontsize=9)
    for axis, values, title in (
        (axes[1], maps.unit, f"(b) {maps.layer} ch {maps.channel}, summed"),
        (axes[2], maps.probability, f"(d) p({name(maps.target)})"),
    ):
        axis.imshow(shown)
        drawn = axis.imshow(values, cmap="viridis", extent=area, alpha=0.8)
        figure.colorbar(drawn, ax=axis, shrink=0.8)
        axis.set_title(title, fontsize=9)
    winners, wins = np.unique(maps.most_probable, return_counts=True)
    shown_classes = [int(c) for c in winners[np.argsort(-wins, kind="stable")][:legend]]
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(len(shown_classes))]
    codes = np.full(maps.most_probable.shape, len(shown_classes))
    for code, index in enumerate(shown_classes):
        codes[maps.most_probable == index] = code
    palette = ListedColormap([*colours, (0.75, 0.75, 0.75, 1.0)])
    axes[3].imshow(shown)
    axes[3].imshow(codes, cmap=palette, vmin=0, vmax=len(shown_classes), extent=area, alpha=0.8)
    axes[3].set_title("(e) most probable class", fontsize=9)
    handles = [Patch(color=c, label=name(i)) for c, i in zip(colours, shown_classes, strict=True)]
    if len(winners) > len(shown_classes):
        handles.append(Patch(color=(0.75, 0.75, 0.75), label="other"))
    axes[3].legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=7, frameon=False
    )
    height, width = shown.shape[:2]
    for axis in axes:
        axis.set_xlim(0, width)
        axis.set_ylim(height, 0)
        axis.set_xticks([])
        axis.set_yticks([])
    figure.tight_layout()
    return figure


def faithfulness_figure(
    curves: Mapping[str, Faithfulness | Sequence[Faithfulness]], size: float = 3.6
) -> Any:
    """RISE's curves (Petsiuk et al. 2018): one panel per mode, one line per label, its AUC.

    `curves` maps a label (a method) to one `Projector.faithfulness` result or several (e.g.
    its deletion and insertion curves).
    """
    import matplotlib.pyplot as plt

    by_mode: dict[str, list[tuple[str, Faithfulness]]] = {}
    for label, value in curves.items():
        for curve in [value] if isinstance(value, Faithfulness) else value:
            by_mode.setdefault(curve.mode, []).append((label, curve))
    if not by_mode:
        raise ValueError("faithfulness_figure needs at least one curve")
    modes = [mode for mode in MODES if mode in by_mode]
    figure, axes = plt.subplots(1, len(modes), figsize=(size * len(modes), size), squeeze=False)
    for axis, mode in zip(axes[0], modes, strict=True):
        for label, curve in by_mode[mode]:
            axis.plot(curve.fractions, curve.curve, label=f"{label} ({curve.auc:.3f})")
        better = "lower" if mode == "deletion" else "higher"
        axis.set_title(f"{mode} (AUC: {better} is more faithful)", fontsize=9)
        axis.set_xlabel("fraction of pixels " + ("deleted" if mode == "deletion" else "inserted"))
        axis.set_ylabel("probability of the class")
        axis.set_xlim(0, 1)
        axis.set_ylim(bottom=0)
        axis.legend(
            fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False
        )
    figure.tight_layout()
    return figure


def visualization_grid(rows: Mapping[str, Sequence[Visualization]], size: float = 1.6) -> Any:
    """What units want to see (`Projector.visualize`): one row per key, one image per unit.

    Each image is titled with its channel and its activation (re-run without transforms); rows
    are, for instance, VGG16's blocks 1 to 5, or pixel against Fourier optimisation.
    """
    cells = {
        label: [
            (f"ch {found.channel}\nact {found.activation:.3g}", found.image, False)
            for found in found_row
        ]
        for label, found_row in rows.items()
    }
    return image_grid(cells, size=size)
