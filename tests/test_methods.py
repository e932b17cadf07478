"""The method registry, `deconv_widgets.methods`: its entries, keys and refusals.

DESIGN (third release, rule 4): methods are entries; `NAMES` is the one list of their names,
`get` reads a name or a key such as "lrp_epsilon(epsilon=0.1)" back into a Method, and a
configured Method works wherever a method name does (`project`, `project_many`, `top_k`).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from deconv_widgets import methods
from deconv_widgets.projection import Projector

L = keras.layers
SHAPE = (8, 8, 2)


def assert_lists_names(message: str) -> None:
    """The message names every method of the registry."""
    for name in methods.NAMES:
        assert name in message, f"{name!r} missing from: {message}"


# --------------------------------------------------------------------- the entries
def test_names_are_the_designs_tuple():
    assert methods.NAMES == ("deconvnet", "guided", "saliency", "lrp_epsilon", "lrp_alpha_beta")


@pytest.mark.parametrize("name", methods.NAMES)
def test_get_gives_a_described_method(name):
    method = methods.get(name)
    assert isinstance(method, methods.Method)
    assert method.name == name
    for text in (method.label, method.doc, method.rectifier_text, method.linear_text):
        assert isinstance(text, str) and text.strip()
    assert callable(method.rectifier)
    assert method.relevance is name.startswith("lrp_")
    assert method.relevance is (method.linear is not None)
    assert set(method.seeds) <= set(methods.SEEDS)
    if method.relevance:  # relevance starts as the seed: never the all-ones one
        assert "ones" not in method.seeds
    else:
        assert method.seeds == methods.SEEDS
    assert methods.get(method) is method  # a Method is taken as it is


def test_defaults_are_the_designs():
    assert methods.get("lrp_epsilon").params == (("epsilon", 0.25),)
    assert methods.get("lrp_alpha_beta").params == (("alpha", 1.0), ("beta", 0.0))
    assert methods.lrp_epsilon().key == methods.get("lrp_epsilon").key
    assert methods.lrp_alpha_beta().key == methods.get("lrp_alpha_beta").key


@pytest.mark.parametrize(
    "method",
    [
        methods.lrp_epsilon(0.1),
        methods.lrp_epsilon(1e-9),
        methods.lrp_epsilon(3),
        methods.lrp_epsilon(np.float32(0.5)),
        methods.lrp_alpha_beta(2, 1),
        methods.lrp_alpha_beta(1.5, 0.5),
        methods.lrp_alpha_beta(),
        methods.get("guided"),
        methods.get("deconvnet"),
    ],
    ids=str,
)
def test_keys_round_trip(method):
    back = methods.get(method.key)
    assert back.name == method.name
    assert back.params == method.params
    assert back.key == method.key
    assert str(method) == method.key
    assert all(isinstance(v, float) for _, v in method.params)


def test_key_spelling_is_tolerant_of_spaces_and_parameter_order():
    assert methods.get(" lrp_epsilon( epsilon = 0.1 ) ").key == "lrp_epsilon(epsilon=0.1)"
    ab = methods.get("lrp_alpha_beta(beta=1, alpha=2)")
    assert ab.params == (("alpha", 2.0), ("beta", 1.0))
    assert methods.keys(["guided", methods.lrp_epsilon(0.5)]) == [
        "guided",
        "lrp_epsilon(epsilon=0.5)",
    ]


# -------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("name", ["deconv", "Guided", "lrp", "lrp_epsilon(epsilon=0.1", ""])
def test_unknown_method_lists_every_name(name):
    with pytest.raises(ValueError, match="unknown method") as info:
        methods.get(name)
    assert_lists_names(str(info.value))


@pytest.mark.parametrize("value", [3, None, ["guided"]])
def test_method_of_another_type_lists_every_name(value):
    with pytest.raises((TypeError, ValueError)) as info:
        methods.get(value)
    assert_lists_names(str(info.value))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: methods.lrp_epsilon(0), ValueError, ["epsilon", "> 0"]),
        (lambda: methods.lrp_epsilon(-1), ValueError, ["epsilon", "> 0"]),
        (lambda: methods.lrp_epsilon(float("nan")), ValueError, ["epsilon", "finite"]),
        (lambda: methods.lrp_epsilon(math.inf), ValueError, ["epsilon", "finite"]),
        (lambda: methods.lrp_epsilon("a"), TypeError, ["epsilon", "number", "'a'"]),
        (lambda: methods.lrp_epsilon(True), TypeError, ["epsilon", "number", "bool"]),
        (lambda: methods.lrp_epsilon(None), TypeError, ["epsilon", "number"]),
        (lambda: methods.lrp_alpha_beta(1, 1), ValueError, ["alpha - beta = 1"]),
        (lambda: methods.lrp_alpha_beta(3, 1), ValueError, ["alpha - beta = 1"]),
        (lambda: methods.lrp_alpha_beta(0, -1), ValueError, ["beta >= 0"]),
        (lambda: methods.lrp_alpha_beta("2", 1), TypeError, ["alpha", "number"]),
        (lambda: methods.lrp_alpha_beta(2, float("nan")), ValueError, ["beta", "finite"]),
    ],
)
def test_bad_parameters_are_refused_clearly(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("lrp_epsilon(epsilon=abc)", ["lrp_epsilon(epsilon=abc)", "name=number"]),
        ("lrp_epsilon(0.1)", ["name=number"]),
        ("deconvnet(epsilon=1)", ["deconvnet", "'epsilon'"]),
        ("lrp_epsilon(eps=1)", ["'eps'", "epsilon"]),
        ("lrp_alpha_beta(gamma=1)", ["'gamma'", "alpha", "beta"]),
        ("lrp_epsilon(epsilon=0)", ["epsilon", "> 0"]),
        ("lrp_epsilon(epsilon=nan)", ["epsilon", "finite"]),
        ("lrp_alpha_beta(alpha=2)", ["alpha - beta = 1"]),
    ],
)
def test_bad_keys_are_refused_clearly(key, words):
    with pytest.raises(ValueError) as info:
        methods.get(key)
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------- in the Projector
@pytest.fixture(scope="module")
def projector() -> Projector:
    """A small random conv net: conv relu → max pool → conv relu → dense head."""
    model = keras.Sequential(
        [
            keras.Input(SHAPE),
            L.Conv2D(3, 3, padding="same", activation="relu", name="c1"),
            L.MaxPooling2D(2, name="pool"),
            L.Conv2D(4, 3, padding="same", activation="relu", name="c2"),
            L.GlobalAveragePooling2D(name="gap"),
            L.Dense(3, name="logits"),
        ]
    )
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0.05, 0.5, w.shape).astype(np.float32) for w in model.weights])
    return Projector(model)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    """One random input."""
    return np.random.default_rng(1).uniform(0, 1, SHAPE).astype(np.float32)


def test_unknown_method_through_the_projector_lists_every_name(projector, image):
    for call in (
        lambda: projector.project(image, "c2", 0, method="lrp"),
        lambda: projector.project_many(image, "c2", [0], method="lrp"),
        lambda: projector.project_class(image, 0, method="lrp"),
        lambda: projector.top_k(image[None], "c2", k=1, progress=False, method="lrp"),
    ):
        with pytest.raises(ValueError) as info:
            call()
        assert_lists_names(str(info.value))


@pytest.mark.parametrize("method", ["lrp_epsilon", methods.lrp_alpha_beta(2, 1)], ids=str)
def test_lrp_refuses_the_ones_seed_naming_the_accepted_ones(projector, image, method):
    for call in (
        lambda: projector.project(image, "c2", 0, method=method, seed="ones"),
        lambda: projector.project_many(image, "c2", [0, 1], method=method, seed="ones"),
    ):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert "'ones'" in message
        assert "activation" in message and "max" in message


def test_configured_method_projects_everywhere(projector, image):
    method = methods.lrp_epsilon(0.1)
    channel = 1
    single = projector.project(image, "c2", channel, method=method)
    assert single.shape == SHAPE and single.dtype == np.float32
    assert np.isfinite(single).all() and np.abs(single).max() > 0
    many = projector.project_many(image, "c2", [0, channel], method=method)
    np.testing.assert_allclose(many[1], single, rtol=1e-5, atol=1e-7)
    by_key = projector.project(image, "c2", channel, method=method.key)
    np.testing.assert_allclose(by_key, single, rtol=1e-6, atol=1e-8)
    # "max": the relevance 1 at the channel's maximum
    at_max = projector.project(image, "c2", channel, method=method, seed="max")
    assert np.isfinite(at_max).all() and np.abs(at_max).max() > 0
    head = projector.project_class(image, 0, method=methods.lrp_alpha_beta(2, 1))
    assert head.shape == SHAPE and np.isfinite(head).all()


def test_configured_method_projects_top_k_hits(projector):
    images = np.random.default_rng(2).uniform(0, 1, (3, *SHAPE)).astype(np.float32)
    method = methods.lrp_alpha_beta(2, 1)
    found = projector.top_k(images, "c2", k=2, channels=[1], progress=False, method=method)
    hits = found.hits[1]
    assert len(hits) == 2
    for hit in hits:
        assert np.isfinite(hit.projection).all() and np.abs(hit.projection).max() > 0
        # the hit's projection is its single activation projected by the configured method
        seed = np.zeros((1, *projector.layer_info("c2").output_shape), np.float32)
        seed[0, hit.y, hit.x, 1] = hit.value
        full = projector.project_seeds(images[hit.image][None], "c2", seed, method=method)[0]
        top, left, size = projector.receptive_box("c2", hit.y, hit.x)
        rows = slice(max(top, 0), min(top + size, SHAPE[0]))
        cols = slice(max(left, 0), min(left + size, SHAPE[1]))
        inside = hit.projection[
            rows.start - top : rows.stop - top, cols.start - left : cols.stop - left
        ]
        np.testing.assert_allclose(inside, full[rows, cols], rtol=1e-5, atol=1e-7)


def test_two_epsilons_give_two_projections(projector, image):
    small = projector.project(image, "c2", 1, method=methods.lrp_epsilon(0.01))
    large = projector.project(image, "c2", 1, method=methods.lrp_epsilon(10.0))
    assert not np.allclose(small, large, rtol=1e-3, atol=0)
    # a larger ε absorbs more relevance: less of it reaches the pixels
    assert np.abs(large).sum() < np.abs(small).sum()
    # each configuration compiles its own backward; asking again reuses it
    again = projector.project(image, "c2", 1, method=methods.get("lrp_epsilon(epsilon=0.01)"))
    np.testing.assert_array_equal(again, small)
