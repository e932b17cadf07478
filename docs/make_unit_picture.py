"""Draw one VGG16 unit as a unit page shows it: what it wants beside what it gets.

    python docs/make_unit_picture.py [channel] [--layer block4_conv3] [--out docs/unit.png]

What it wants: `Projector.visualize` with its defaults (512 steps, 128², the Fourier,
decorrelated, robust recipe). What it gets: its top-9 over `zoo.photo_patches(512)` at 128²
with their deconvnet projections. Offline, a few minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from deconv_widgets import figures, zoo
from deconv_widgets.projection import Projector

SIZE, PATCHES = 128, 512


def main() -> None:
    """Visualise the unit, find its top-9, write the figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("channel", type=int, nargs="?", default=37)
    parser.add_argument("--layer", default="block4_conv3")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "unit.png")
    args = parser.parse_args()
    projector = Projector(zoo.vgg16(SIZE))
    start = time.perf_counter()
    found = projector.visualize(args.layer, args.channel, preprocess=zoo.vgg16_preprocess)
    wants = time.perf_counter() - start
    patches = zoo.photo_patches(PATCHES, size=SIZE)
    start = time.perf_counter()
    top = projector.top_k(
        zoo.vgg16_preprocess(patches), args.layer, k=9, channels=[args.channel], progress=False
    )
    figure = figures.unit_figure(found, top, projector, patches, zoo.vgg16_preprocess)
    gets = time.perf_counter() - start
    figure.savefig(args.out, dpi=110)
    best = top.hits[args.channel][0].value
    print(
        f"{args.layer} channel {args.channel}: wants: the mean of its map "
        f"{found.activation:.4g} ({wants:.0f} s); gets: a peak of {best:.4g} over {PATCHES} "
        f"patches ({gets:.0f} s) -> {args.out}"
    )


if __name__ == "__main__":
    main()
