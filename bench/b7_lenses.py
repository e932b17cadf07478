"""Benchmark 7: occlusion, Grad-CAM and the sanity cascade on the trained VGG16 at 224².

Baselines in the same run: occlusion against a hand-written loop of single forward passes
(a compiled `tf.function`, one occluded copy a call); Grad-CAM against one hand-written
`GradientTape` gradient of the same target with respect to the layer (compiled too).
The zoo's VGG16 is a trunk without a class head (HED's weights), so the target is a channel's
summed activation, as in Zeiler & Fergus's Fig. 7 (b, c).
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import Row, Section, ms, percentiles, time_calls

OCCLUSION_RATIO, GRADCAM_RATIO = 3.0, 1.25
LAYER, PATCH, STRIDE = "block5_conv3", 28, 14
CAM_LAYER = "block4_conv3"  # Grad-CAM of the block5 unit on block 4's map


def _setup() -> tuple:
    """The Projector on VGG16, the cat photo as model input, and its strongest channel."""
    from deconv_widgets import Projector, zoo

    model = zoo.vgg16()
    photos, names = zoo.photos()
    shown = photos[names.index("chelsea") if "chelsea" in names else 0]
    image = zoo.vgg16_preprocess(shown)
    projector = Projector(model)
    act = projector.activations(image, LAYER)
    channel = int(np.argmax(act.reshape(-1, act.shape[-1]).max(axis=0)))
    return model, projector, np.asarray(image, np.float32), channel


def _loop_occlusion(model, image: np.ndarray, channel: int) -> tuple[np.ndarray, float]:
    """The baseline: one compiled forward pass per occluded copy."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(model.inputs[0], model.get_layer(LAYER).output)

    @tf.function
    def value(x):
        return tf.reduce_sum(sub(x, training=False)[..., channel])

    fill = image.mean(axis=(0, 1))
    value(tf.constant(image[None])).numpy()  # trace once
    rows = range(0, image.shape[0] - PATCH + 1, STRIDE)
    cols = range(0, image.shape[1] - PATCH + 1, STRIDE)
    out = np.zeros((len(rows), len(cols)), np.float32)
    start = time.perf_counter()
    for i, y in enumerate(rows):
        for j, x in enumerate(cols):
            copy = image.copy()
            copy[y : y + PATCH, x : x + PATCH] = fill
            out[i, j] = float(value(tf.constant(copy[None])))
    return out, time.perf_counter() - start


def _tape_gradient(model, image: np.ndarray, channel: int):
    """The baseline of Grad-CAM: A and d target / d A by one compiled tape, timed per call."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(
        model.inputs[0], [model.get_layer(CAM_LAYER).output, model.get_layer(LAYER).output]
    )

    @tf.function
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            act, target = sub(x, training=False)
            score = tf.reduce_sum(target[..., channel])
        return act, tape.gradient(score, act)

    x = tf.constant(image[None])
    return lambda: [t.numpy() for t in gradient(x)]


def run(quick: bool = False) -> list[Section]:
    """Occlusion (225 positions), Grad-CAM and the cascade on VGG16 block5_conv3."""
    section = Section(7, "Lenses on VGG16 at 224²: occlusion, Grad-CAM, the sanity cascade")
    model, projector, image, channel = _setup()
    target = (LAYER, channel)
    projector.occlusion(image, target, patch=PATCH, stride=224, progress=False)  # trace
    start = time.perf_counter()
    ours = projector.occlusion(image, target, patch=PATCH, stride=STRIDE, progress=False)
    batched = time.perf_counter() - start
    loop, single = _loop_occlusion(model, image, channel)
    ratio = single / batched
    error = float(np.abs(ours - loop).max() / (np.abs(loop).max() or 1.0))
    section.rows.append(
        Row(
            f"occlusion, {ours.size} positions (patch {PATCH}, stride {STRIDE}, batch 64)",
            f"{batched:.1f} s",
            f"{single:.1f} s (loop of single passes)",
            f"{ratio:.1f}× faster",
            f"≥ {OCCLUSION_RATIO:.0f}× faster",
            ratio >= OCCLUSION_RATIO,
        )
    )
    repeats = 3 if quick else 7

    def cam_of() -> np.ndarray:
        return projector.gradcam(image, CAM_LAYER, target)

    cam = percentiles(time_calls(cam_of, repeats, warmup=1))
    tape = percentiles(time_calls(_tape_gradient(model, image, channel), repeats, warmup=1))
    cam_ratio = cam["p50"] / tape["p50"]
    section.rows.append(
        Row(
            f"Grad-CAM of {LAYER} channel {channel} on {CAM_LAYER}",
            ms(cam["p50"]),
            f"{ms(tape['p50'])} (one tape gradient)",
            f"{cam_ratio:.2f}×",
            f"≤ {GRADCAM_RATIO}×",
            cam_ratio <= GRADCAM_RATIO,
        )
    )
    start = time.perf_counter()
    steps = projector.sanity_cascade(image, LAYER, channel, method="guided")
    cascade = time.perf_counter() - start
    per_step = cascade / (len(steps) - 1)
    section.rows.append(
        Row(
            f"sanity cascade, {len(steps) - 1} layers randomised one by one (guided)",
            f"{cascade:.1f} s in all, {per_step:.2f} s a step",
        )
    )
    rhos = ", ".join(f"{s.layer or 'trained'} {s.rho:.2f}" for s in steps)
    section.notes += [
        f"Occlusion of the channel's summed activation: batched and single-pass maps agree to "
        f"{error:.1e} of the largest value.",
        f"Cascade rho (Spearman of |guided| with the trained model's): {rhos}.",
        "The zoo's VGG16 has no class head, so class targets are benchmarked nowhere here; on "
        "a model with one, Grad-CAM of a class costs the same single tape.",
    ]
    return [section]
