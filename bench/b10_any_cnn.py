"""Benchmark 10: any Keras CNN — MobileNetV2 at 224² against a compiled GradientTape.

The Explorer's case: one more channel of an image whose forward pass is cached (guided,
LRP-ε, and the other methods for context); a camera frame's case: a fresh image's first
channel (forward + backward). The baseline, in the same run: one compiled `tf.function` that
runs the layer's sub-model under a `GradientTape` and returns the gradient of the channel's
activation seed (forward + backward), what a teacher writes. Ours and the tape interleaved,
medians. MobileNetV2 is built with weights=None and its BN statistics set from a batch, so the
signal does not vanish (the numbers do not depend on it; the agreement check does).
"""

from __future__ import annotations

import numpy as np

from bench.common import Row, Section, interleaved, ms, percentiles

SIZE, LAYER = 224, "block_13_expand_relu"
TARGETS = {"guided": 1.0, "lrp_epsilon": 1.5}  # cached image, one more channel (× the tape)
FRESH_TARGET = 1.25  # a fresh image's first channel (× the tape)


def _model(size: int):
    """MobileNetV2 (weights=None) whose BN moving statistics come from a random batch."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(size, size, 3))
    batch = np.random.default_rng(1).uniform(-1, 1, (4, size, size, 3)).astype(np.float32)
    for layer in model.layers:  # one layer at a time, each with its own input's statistics
        if isinstance(layer, keras.layers.BatchNormalization):
            sub = keras.Model(model.inputs, layer.input)
            values = np.asarray(sub(batch, training=False))
            gamma, beta, _, _ = layer.get_weights()
            mean, var = values.mean(axis=(0, 1, 2)), values.var(axis=(0, 1, 2)) + 1e-3
            layer.set_weights([gamma, beta, mean, var])
    return model


def _tape(model, layer: str):
    """The baseline: forward + backward of one channel's activation seed, compiled."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    channels = int(sub.output.shape[-1])
    spec = [tf.TensorSpec((1, *model.input.shape[1:]), tf.float32), tf.TensorSpec((), tf.int32)]

    @tf.function(input_signature=spec)
    def gradient(image, channel):
        with tf.GradientTape() as tape:
            tape.watch(image)
            activation = sub(image, training=False)
        seed = activation * tf.one_hot(channel, channels, dtype=activation.dtype)
        return tape.gradient(activation, image, output_gradients=seed)

    return lambda image, channel: gradient(tf.constant(image[None]), channel).numpy()[0]


def _eager_tape(model, layer: str, image: np.ndarray, channel: int) -> np.ndarray:
    """The same gradient run eagerly (no graph rewrites: no fused forward ops)."""
    import keras

    from deconv_widgets._tf import tf

    sub = keras.Model(model.inputs, model.get_layer(layer).output)
    x = tf.constant(image[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        activation = sub(x, training=False)
    seed = activation * tf.one_hot(channel, int(activation.shape[-1]), dtype=activation.dtype)
    return tape.gradient(activation, x, output_gradients=seed).numpy()[0]


def run(quick: bool = False) -> list[Section]:
    """Cached-image and fresh-image projections on MobileNetV2 vs the compiled tape."""
    from deconv_widgets import Projector

    section = Section(10, "Any Keras CNN: MobileNetV2 at 224² against a compiled GradientTape")
    size = 96 if quick else SIZE
    calls = 3 if quick else 15
    model = _model(size)
    tape = _tape(model, LAYER)
    projector = Projector(model)
    rng = np.random.default_rng(2)
    image = rng.uniform(-1, 1, (size, size, 3)).astype(np.float32)
    channels = int(projector.layer_info(LAYER).channels)
    order = rng.permutation(channels)
    names = ("deconvnet", "guided", "saliency", "lrp_epsilon", "lrp_alpha_beta")
    for method in names:  # trace and fill the cache
        projector.project(image, LAYER, 0, method=method)
    tape(image, 0)
    fns = {"tape": lambda i: tape(image, int(order[i % channels]))}
    for method in names:
        fns[method] = lambda i, m=method: projector.project(
            image, LAYER, int(order[i % channels]), method=m
        )
    samples = interleaved(fns, range(calls))
    base = percentiles(samples["tape"])["p50"]
    for method in names:
        p50 = percentiles(samples[method])["p50"]
        target = TARGETS.get(method)
        section.rows.append(
            Row(
                f"{LAYER}: one more channel, cached image, {method}",
                ms(p50),
                f"{ms(base)} (tape: forward + backward)",
                f"{p50 / base:.2f}×",
                "—" if target is None else f"≤ {target}×",
                None if target is None else p50 / base <= target,
            )
        )
    frames = {  # a fresh image for every call of every function
        name: [rng.uniform(-1, 1, (size, size, 3)).astype(np.float32) for _ in range(calls)]
        for name in ("tape", "saliency", "guided")
    }
    fresh = interleaved(
        {
            "tape": lambda i: tape(frames["tape"][i], 5),
            "saliency": lambda i: projector.project(
                frames["saliency"][i], LAYER, 5, method="saliency"
            ),
            "guided": lambda i: projector.project(frames["guided"][i], LAYER, 5, method="guided"),
        },
        range(calls),
    )
    fresh_base = percentiles(fresh["tape"])["p50"]
    for method in ("saliency", "guided"):
        p50 = percentiles(fresh[method])["p50"]
        section.rows.append(
            Row(
                f"{LAYER}: a fresh image's first channel (forward + backward), {method}",
                ms(p50),
                f"{ms(fresh_base)} (tape)",
                f"{p50 / fresh_base:.2f}×",
                f"≤ {FRESH_TARGET}×",
                p50 / fresh_base <= FRESH_TARGET,
            )
        )
    reference = tape(image, 7)
    eager = _eager_tape(model, LAYER, image, 7)
    ours = projector.project(image, LAYER, 7, method="saliency")
    largest = float(np.abs(reference).max())
    agreement = float(np.abs(ours - reference).max()) / (largest or 1.0)
    agreement_eager = float(np.abs(ours - eager).max()) / (largest or 1.0)
    section.notes += [
        f"MobileNetV2 (weights=None, BN statistics from a random batch) at {size}×{size}×3, "
        f"layer {LAYER} ({channels} channels), {calls} calls each, interleaved; medians.",
        f"Saliency through project() vs the tape, channel 7: max |diff| / max |tape| = "
        f"{agreement:.1e} against the compiled tape, {agreement_eager:.1e} against the same "
        f"tape run eagerly (max |tape| = {largest:.3g}). The compiled tape's forward pass is "
        "rewritten by TensorFlow's graph optimiser (fused convolution, BN and ReLU6), which "
        "moves values by ~1e-6 and can flip a ReLU6 mask where an input sits at 0 or 6.",
        f"Traces after the run: {projector.trace_count} (one forward and one backward per "
        "method; a channel switch or a new image traces nothing).",
    ]
    return [section]
