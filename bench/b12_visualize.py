"""Benchmark 12: what a unit wants to see — feature visualisation on the trained VGG16.

On `block4_conv3` at 128², eight units visualised in one batch (512 Adam steps, the Fourier
parameterisation, decorrelated colours, robust transforms, VGG16's preprocess):
- quality: each image's activation (the image re-run through the model, no transforms)
  against the unit's best over `photo_patches(512)` at 128² (the same objective: the mean of
  its map), median over the units;
- frequencies: the share of the image's power above half the Nyquist frequency, the recipe
  against the naive version (pixels, no decorrelation, no transforms), median; and against
  pixels with the other two tricks kept (what the Fourier basis alone changes);
- cost: one step against a bare `GradientTape` + Adam step on a pixel image of the same model,
  size and batch (compiled, no transforms), medians of interleaved runs;
- the scan: 64 units of the toy CNN (`pool3`) visualised by `scan.run(..., visualize=True)` on
  2 worker processes against the same batches of 8 visualised in one process, units a second.
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import Row, Section, percentiles

LAYER, SIZE, STEPS = "block4_conv3", 128, 512
UNITS = (3, 37, 71, 105, 139, 173, 207, 241)
QUALITY, POWER, COST = 1.5, 0.5, 1.3  # targets: >= 1.5x the patches' best; < 0.5x; <= 1.3x
SCAN_LAYER, SCAN_FILES, THROUGHPUT = "pool3", 8, 0.8  # 64 units; target >= 0.8x one process


def high_frequency_share(image: np.ndarray) -> float:
    """The share of an image's power (grey, mean removed) above half the Nyquist frequency."""
    grey = np.asarray(image, np.float64).mean(axis=-1)
    grey = grey - grey.mean()
    power = np.abs(np.fft.fft2(grey)) ** 2
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    radius = np.sqrt(fx * fx + fy * fy)
    total = power.sum()
    return float(power[radius > 0.25].sum() / total) if total > 0 else 0.0


def _bare_step(model, layer: str, units, size: int):
    """The baseline: GradientTape + Adam on a pixel image batch, compiled, no transforms."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    start = np.random.default_rng(0).normal(0, 0.01, (len(units), size, size, 3))
    image = tf.Variable(start.astype(np.float32))
    mask = tf.one_hot(list(units), int(sub.output.shape[-1]))
    optimizer = keras.optimizers.Adam(0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            values = tf.einsum("bhwc,bc->b", sub(image, training=False), mask)
            loss = -tf.reduce_sum(values)
        optimizer.apply_gradients([(tape.gradient(loss, image), image)])
        return values

    return step


def scan_throughput(steps: int) -> tuple[float, float, int]:
    """Units a second: (a scan with visualize=True on 2 workers, one process); the units."""
    import tempfile
    from pathlib import Path

    from PIL import Image

    from deconv_widgets import scan, zoo
    from deconv_widgets.projection import Projector
    from deconv_widgets.scan.pipeline import VISUAL_CHANNELS

    projector = Projector(zoo.load("shapes"))
    units = int(projector.layer_info(SCAN_LAYER).output_shape[-1] or 0)
    with tempfile.TemporaryDirectory() as folder:
        for number, image in enumerate(zoo.shapes_images(SCAN_FILES, random_seed=2)[0]):
            pixels = np.round(image[..., 0] * 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(Path(folder) / f"{number:03d}.png")
        start = time.perf_counter()
        scan.run(
            "shapes", folder, [SCAN_LAYER], k=9, out=Path(folder) / "out", workers=2,
            progress=False, visualize=True, visualize_steps=steps,
        )  # fmt: skip
        scanned = time.perf_counter() - start
    start = time.perf_counter()
    for first in range(0, units, VISUAL_CHANNELS):
        batch = list(range(first, min(first + VISUAL_CHANNELS, units)))
        projector.visualize(SCAN_LAYER, batch, steps=steps)
    alone = time.perf_counter() - start
    return units / scanned, units / alone, units


def run(quick: bool = False) -> list[Section]:
    """Quality, frequencies and cost of `Projector.visualize` on VGG16's block4_conv3."""
    from deconv_widgets import zoo
    from deconv_widgets.projection import Projector
    from deconv_widgets.projection.visualize import visualize_steps

    section = Section(12, "What a unit wants to see: feature visualisation on VGG16")
    size, steps = (64, 16) if quick else (SIZE, STEPS)
    units = UNITS[:2] if quick else UNITS
    model = zoo.vgg16(size)
    projector = Projector(model)
    preprocess = zoo.vgg16_preprocess
    patches = zoo.photo_patches(32 if quick else 512, size=size)
    inputs = np.stack([preprocess(p) for p in patches])
    maps = projector.forward_batch(inputs, LAYER)  # (N, H', W', C)
    best = maps[..., list(units)].mean(axis=(1, 2)).max(axis=0)  # per unit

    found = {}
    variants = {
        "fourier": {},
        "pixel": {"parameterization": "pixel"},
        "naive": {"parameterization": "pixel", "decorrelate": False, "transforms": "none"},
    }
    for name, options in variants.items():
        start = time.perf_counter()
        found[name] = projector.visualize(
            LAYER, list(units), steps=steps, size=size, preprocess=preprocess, **options
        )
        found[f"{name} seconds"] = time.perf_counter() - start
    fourier, pixel, naive = found["fourier"], found["pixel"], found["naive"]
    ratios = [v.activation / b for v, b in zip(fourier, best, strict=True)]

    def shares(other: list) -> list[float]:
        return [
            high_frequency_share(f.image) / max(high_frequency_share(o.image), 1e-12)
            for f, o in zip(fourier, other, strict=True)
        ]

    # cost: our step (Fourier, robust) against the bare tape + Adam step, interleaved
    bare = _bare_step(model, LAYER, units, size)
    bare()  # trace
    ours = visualize_steps(
        projector, LAYER, list(units), steps=10**6, size=size, preprocess=preprocess
    )
    next(ours)  # step 0: the arguments checked
    next(ours)  # the first step traces
    ours_times, bare_times = [], []
    for _ in range(5 if quick else 30):
        start = time.perf_counter()
        next(ours)
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare().numpy()
        bare_times.append(time.perf_counter() - start)
    ours.close()
    step, base = percentiles(ours_times)["p50"], percentiles(bare_times)["p50"]

    ratio = percentiles(ratios)["p50"]
    share = percentiles(shares(naive))["p50"]
    basis = percentiles(shares(pixel))["p50"]
    scanned, alone, scan_units = scan_throughput(steps)
    section.rows += [
        Row(
            f"{LAYER} at {size}²: activation of the visualisation / best over "
            f"{len(patches)} photo patches, median of {len(units)} units",
            f"{ratio:.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x)",
            "1.00x (the patches' best)",
            f"{ratio:.2f}x",
            f">= {QUALITY}x",
            bool(ratio >= QUALITY),
        ),
        Row(
            "power above half the Nyquist frequency: the recipe's image / the naive pixel "
            "image's (no decorrelation, no transforms), median",
            f"{share:.2f}x",
            "1.00x (the naive image's)",
            f"{share:.2f}x",
            f"< {POWER}x",
            bool(share < POWER),
        ),
        Row(
            "the same against pixels with decorrelation and transforms (the Fourier basis "
            "alone), median",
            f"{basis:.2f}x",
            "1.00x (that pixel image's)",
            f"{basis:.2f}x",
        ),
        Row(
            f"one step, {len(units)} units in a batch (Fourier, robust) vs bare tape + Adam",
            f"{step * 1000:.0f} ms",
            f"{base * 1000:.0f} ms",
            f"{step / base:.2f}x",
            f"<= {COST}x",
            bool(step / base <= COST),
        ),
        Row(
            f"scan.run(visualize=True) of {scan_units} toy units ({SCAN_LAYER}, {steps} steps) "
            "on 2 worker processes vs one process, units/s",
            f"{scanned:.2f}/s",
            f"{alone:.2f}/s",
            f"{scanned / alone:.2f}x",
            f">= {THROUGHPUT}x",
            bool(scanned / alone >= THROUGHPUT),
        ),
        Row(
            f"{steps} steps of {len(units)} units: the recipe / pixel / naive, wall time",
            f"{found['fourier seconds']:.0f} s / {found['pixel seconds']:.0f} s / "
            f"{found['naive seconds']:.0f} s",
        ),
    ]
    section.notes += [
        f"- Units: channels {', '.join(map(str, units))} of `{LAYER}`, one batch, "
        f"`random_seed=0`, {steps} steps, learning rate 0.05, VGG16's preprocess.",
        "- The patches' best is the largest mean of the unit's map over "
        f"`zoo.photo_patches({len(patches)}, size={size})`, the objective the visualisation "
        "maximises.",
        "- Power: |FFT|² of the grey image (mean removed); the share above 0.25 cycles/pixel.",
        "- Activations, median: the recipe "
        f"{percentiles([v.activation for v in fourier])['p50']:.3g}, pixels with the tricks "
        f"{percentiles([v.activation for v in pixel])['p50']:.3g}, naive "
        f"{percentiles([v.activation for v in naive])['p50']:.3g} (the naive image climbs "
        "highest on the model it was fitted to, without transforms: noise the model reads).",
        f"- The scan's time is the whole `scan.run` (Beam's start, the top-9 of {SCAN_FILES} "
        "files, the visualisation stage, the atlas); the one process visualises the same "
        "batches of 8 one after the other (its compiled step traced in the timing too).",
    ]
    return [section]
