"""UnpoolView: max pooling with switches, and the two ways back (max and average unpooling)."""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

from .. import ops
from .._values import check_int
from ..zoo._renamed import accepts_old_seed
from ._base import BaseWidget, IntSetting, TextSetting, esm
from ._grids import MAX_GRID_SIDE, grid_payload, grid_text, parse_grid

PADDINGS = ("VALID", "SAME")


def random_grid(size: int, random_seed: int) -> np.ndarray:
    """A size x size grid of small integers (0..9), random from `random_seed`: easy to follow."""
    rng = np.random.default_rng(random_seed)
    return rng.integers(0, 10, size=(size, size)).astype(np.float32)


class UnpoolView(BaseWidget):
    """Edit a small map and the pooling; see pooled values, switches and both unpoolings.

    Controls and text set later never raise: errors show in `status`, a bad number is put
    back, and typed text is kept while the last valid result stays on screen.
    """

    _esm = esm("unpool_view")

    input_text = TextSetting("").tag(sync=True)
    """The input map: a 2-D grid as text, rows of numbers (at most 16 x 16). Set from Python or
    in the page (typed); bad text is kept and reported in `status`."""
    pool_size = IntSetting(2).tag(sync=True)
    """The pooling window's side, an int. Set from Python or in the page (number box, 1..8); a
    bad value reverts, see `status`."""
    stride = IntSetting(2).tag(sync=True)
    """The pooling stride along both axes, an int. Set from Python or in the page (number box,
    1..8); a bad value reverts, see `status`."""
    padding = TextSetting("VALID").tag(sync=True)
    """The pooling's padding, "VALID" or "SAME". Set from Python or in the page (menu); another
    value reverts, see `status`."""
    random_seed = IntSetting(0).tag(sync=True)
    """The random seed (an int >= 0) of the last random map; setting it draws a new map of the
    same size. Set from Python; the page's "random map" button asks Python for it + 1."""
    result = traitlets.Dict().tag(sync=True)
    """Grids {height, width, data (row-major), marks}: input, pooled, max_unpool, avg_fill,
    avg_adjoint; switches ("(y, x, c)" texts), switch_index (flat ints). Set by Python only."""

    @accepts_old_seed
    def __init__(
        self,
        image: Any = None,
        pool_size: int = 2,
        stride: int = 2,
        padding: str = "VALID",
        random_seed: int = 0,
    ) -> None:
        """Start on a 2-D map (default: a random 6x6 map from `random_seed`).

        Raises:
            TypeError, ValueError: a bad map, window, stride, padding or random_seed.
        """
        super().__init__()
        random_seed = check_int(random_seed, "random_seed", low=0)
        grid = random_grid(6, random_seed) if image is None else np.asarray(image, np.float32)
        if grid.ndim != 2:
            raise ValueError(f"image must be a 2-D map (H, W), got shape {grid.shape}")
        if max(grid.shape) > MAX_GRID_SIDE:
            raise ValueError(
                f"image {grid.shape} is too large to show; the largest allowed is "
                f"{MAX_GRID_SIDE}x{MAX_GRID_SIDE}"
            )
        self._quietly(
            input_text=grid_text(grid),
            pool_size=pool_size,
            stride=stride,
            padding=padding,
            random_seed=random_seed,
        )
        self._update()
        self.on_msg(self._on_message)
        self._ready = True

    def _update(self) -> None:
        """Recompute everything from the controls (raises ValueError on bad input)."""
        if self.padding not in PADDINGS:
            raise ValueError(f"unknown padding {self.padding!r}; choose one of: VALID, SAME")
        grid = parse_grid(self.input_text, "input")
        x = grid[None, :, :, None]
        pooled, switches = ops.max_pool_with_switches(x, self.pool_size, self.stride, self.padding)
        max_back = ops.max_unpool(pooled, switches, x.shape)
        fill = ops.avg_unpool(pooled, x.shape, self.pool_size, self.stride, self.padding, "fill")
        adjoint = ops.avg_unpool(
            pooled, x.shape, self.pool_size, self.stride, self.padding, "adjoint"
        )
        h, w, c = x.shape[1:]
        flat = switches[0, :, :, 0].astype(np.int64)
        decoded = [
            [f"({i // (w * c)}, {(i // c) % w}, {i % c})" for i in row] for row in flat.tolist()
        ]
        marks = np.full((h, w), "", dtype=object)
        for i in flat.ravel():
            marks[i // (w * c), (i // c) % w] = "max"
        self.result = {
            "input": grid_payload(grid, marks),
            "pooled": grid_payload(pooled[0, :, :, 0]),
            "switches": decoded,
            "switch_index": flat.tolist(),
            "max_unpool": grid_payload(max_back[0, :, :, 0], marks),
            "avg_fill": grid_payload(fill[0, :, :, 0]),
            "avg_adjoint": grid_payload(adjoint[0, :, :, 0]),
        }
        self.status = ""

    @traitlets.observe("pool_size", "stride", "padding")
    def _control_changed(self, change: dict[str, Any]) -> None:
        self._guarded(change, self._update)

    @traitlets.observe("input_text")
    def _text_changed(self, _change: dict[str, Any]) -> None:
        if not self._reverting:
            self._safely(self._update)  # keep the typed text even when it is wrong

    @traitlets.observe("random_seed")
    def _seed_changed(self, change: dict[str, Any]) -> None:
        self._guarded(change, lambda: self.randomize(change["new"]))

    def randomize(self, random_seed: int | None = None, size: int | None = None) -> None:
        """Replace the map by a random one (seeded) of the same size.

        Args:
            random_seed: an int >= 0 (None: the `random_seed` trait's); it becomes the trait.
            size: the new map's side (None: the current map's, 6 when it cannot be read).

        Raises:
            TypeError, ValueError: a seed that is not an int >= 0, a size that is not an int.
        """
        given = self.random_seed if random_seed is None else random_seed
        number = check_int(given, "random_seed", low=0)
        try:
            size = size or parse_grid(self.input_text, "input").shape[0]
        except ValueError:
            size = 6
        self._quietly(input_text=grid_text(random_grid(size, number)), random_seed=number)
        self._safely(self._update)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        """{"type": "random"}: a new random map with the next random seed."""
        if isinstance(content, dict) and content.get("type") == "random":
            self.randomize(self.random_seed + 1)
