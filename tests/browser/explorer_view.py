"""Locators and actions for one Explorer shown in one notebook cell."""

from __future__ import annotations

from typing import Any

from .jupyter_host import NotebookPage
from .probe import canvas_pixels, lattice, wait_attr_change, wait_drawn, watch


class ExplorerView:
    """The hooks of the Explorer displayed by cell `cell` (locators scoped to that cell)."""

    def __init__(self, nb: NotebookPage, cell: int, name: str = "ex") -> None:
        self.nb = nb
        self.name = name
        self.root = nb.cell(cell)
        self.grid = self.root.get_by_test_id("channel-grid")
        self.projection = self.root.get_by_test_id("projection")
        self.status = self.root.get_by_test_id("status")

    def wait_ready(self) -> None:
        """Wait until the grid and the projection have drawn, and install the observers."""
        wait_drawn(self.grid, f"{self.name} channel-grid")
        wait_drawn(self.projection, f"{self.name} projection")
        self.nb.page.wait_for_function(
            "(el) => el.getAttribute('data-version') !== null"
            " && el.getAttribute('data-channel') !== null",
            arg=self.projection.element_handle(),
        )
        self.grid.scroll_into_view_if_needed()
        watch(self.projection, self.grid)

    def state(self) -> dict[str, Any]:
        """The hook attributes and the projection's pixel summary right now."""
        return {
            "grid_channel": self.grid.get_attribute("data-channel"),
            "grid_layer": self.grid.get_attribute("data-layer"),
            "channel": self.projection.get_attribute("data-channel"),
            "layer": self.projection.get_attribute("data-layer"),
            "version": self.projection.get_attribute("data-version"),
            "pixels": canvas_pixels(self.projection),
        }

    def channel_positions(self, n: int = 8) -> list[tuple[float, float]]:
        """Candidate click points over the grid canvas (an n x n lattice of centres)."""
        box = self.grid.bounding_box()
        assert box, f"{self.name}: channel-grid has no layout box"
        return lattice(box, n)

    def wait_channel(self, channel: str, old_version: str | None, timeout: float = 30) -> None:
        """Wait until the projection shows `channel` with a version newer than `old_version`."""
        wait_attr_change(self.nb.page, self.projection, "data-version", old_version, timeout)
        self.nb.page.wait_for_function(
            "(a) => a.el.getAttribute('data-channel') === a.channel",
            arg={"el": self.projection.element_handle(), "channel": channel},
            timeout=timeout * 1000,
        )
