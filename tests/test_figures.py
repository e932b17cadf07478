"""Static figures: projections centred on grey, Fig. 2 mosaics cut from the shown images."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from deconv_widgets import figures, zoo
from deconv_widgets.projection import Projector

matplotlib.use("Agg")


def test_signed_rgb_puts_zero_at_grey_and_saturates_outliers():
    projection = np.zeros((10, 10, 1), np.float32)
    projection[0, 0] = 1000.0  # one outlier above the 99.5th percentile
    projection[5, 5] = -1.0
    picture = figures.signed_rgb(projection)
    assert picture.shape == (10, 10, 3)
    assert picture[1, 1].tolist() == [0.5, 0.5, 0.5]
    assert picture[0, 0].tolist() == [1.0, 1.0, 1.0]
    assert figures.signed_rgb(np.zeros((2, 2, 3))).tolist() == np.full((2, 2, 3), 0.5).tolist()


def test_top_k_figure_and_image_grid_draw(model):
    projector = Projector(model)
    images = zoo.shapes_images(6, random_seed=2)[0]
    top = projector.top_k(images, "conv2_1", k=4, channels=[0, 3], progress=False)
    figure = figures.top_k_figure(top, projector, images)
    assert len(figure.axes) == 4
    mosaic = figure.axes[0].get_images()[0].get_array()
    hit = top.hits[0][0]
    t, left, size = projector.receptive_box("conv2_1", hit.y, hit.x)
    patch = np.repeat(np.clip(images[hit.image], 0, 1), 3, axis=-1)
    inside = patch[max(t, 0) : t + size, max(left, 0) : left + size]
    assert np.isin(np.asarray(mosaic[:size, :size]), inside).mean() > 0.5
    grid = figures.image_grid({"row": [("photo", images[0], False), ("p", images[0] - 0.5)]})
    assert len(grid.axes) == 2


def test_occlusion_maps_figure_centres_cells_on_their_squares_and_names_the_winners():
    from deconv_widgets.projection.classifier import OcclusionMaps

    winners = np.array([[3, 3, 3], [3, 7, 3], [9, 3, 3]], np.int32)
    maps = OcclusionMaps(
        layer="block6d_add",
        channel=2,
        target=3,
        patch=16,
        stride=8,
        unit=np.arange(9, dtype=np.float32).reshape(3, 3),
        probability=np.full((3, 3), 0.5, np.float32),
        most_probable=winners,
        unoccluded=(10.0, 0.6, 3),
    )
    names = [f"name {i}" for i in range(10)]
    figure = figures.occlusion_maps_figure(np.zeros((32, 32, 3)), maps, names, legend=2)
    image_axis, unit_axis, _, winner_axis = figure.axes[:4]
    assert "name 3" in figure.axes[2].get_title()
    drawn = unit_axis.get_images()[-1]
    assert drawn.get_extent() == [4.0, 28.0, 28.0, 4.0]  # centres 8, 16, 24; 8 wide
    labels = [t.get_text() for t in winner_axis.get_legend().get_texts()]
    assert labels == ["name 3", "name 7", "other"]  # the most frequent first, the rest grey
    assert image_axis.get_title() == "image"


def test_faithfulness_figure_draws_one_panel_per_mode_with_each_auc():
    from deconv_widgets.projection.faithfulness import Faithfulness

    fractions = np.linspace(0, 1, 5, dtype=np.float32)

    def curve(mode, values):
        values = np.asarray(values, np.float32)
        return Faithfulness(mode, 1, values, fractions, float(np.trapezoid(values, fractions)))

    figure = figures.faithfulness_figure(
        {
            "a": [curve("deletion", [1, 0.5, 0.2, 0.1, 0]), curve("insertion", [0, 1, 1, 1, 1])],
            "b": curve("deletion", [1, 1, 1, 1, 1]),
        }
    )
    deletion, insertion = figure.axes
    assert "deletion" in deletion.get_title() and "insertion" in insertion.get_title()
    assert [t.get_text() for t in deletion.get_legend().get_texts()] == ["a (0.325)", "b (1.000)"]
    assert [t.get_text() for t in insertion.get_legend().get_texts()] == ["a (0.875)"]


def test_visualization_grid_draws_one_row_per_key_with_each_units_activation(model):
    projector = Projector(model)
    naive = projector.visualize("conv2_1", [1, 2], steps=5, parameterization="pixel")
    tricks = projector.visualize("conv2_1", [1, 2], steps=5)
    figure = figures.visualization_grid({"pixel": naive, "fourier": tricks})
    axes = figure.axes
    assert len(axes) == 4
    assert [axis.get_ylabel() for axis in axes[::2]] == ["pixel", "fourier"]
    assert axes[3].get_title() == f"ch 2\nact {tricks[1].activation:.3g}"
    shown = axes[0].get_images()[0].get_array()
    assert shown.shape == (64, 64, 3)  # the grey image drawn as RGB
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_unit_figure_shows_what_it_wants_beside_what_it_gets(model):
    import matplotlib.pyplot as plt

    projector = Projector(model)
    images = zoo.shapes_images(6, random_seed=2)[0]
    top = projector.top_k(images, "conv2_1", k=4, channels=[3], progress=False)
    found = projector.visualize("conv2_1", 3, steps=5)
    figure = figures.unit_figure(found, top, projector, images)
    wants, gets, projections = figure.axes
    np.testing.assert_array_equal(
        np.asarray(wants.get_images()[0].get_array()), np.repeat(found.image, 3, axis=-1)
    )
    assert wants.get_title() == f"what it wants: objective {found.activation:.3g}"
    assert gets.get_title() == f"what it gets: top-4, peak {top.hits[3][0].value:.3g}"
    expected = figures.top_k_figure(top, projector, images)  # the same mosaics
    for mine, theirs in zip((gets, projections), expected.axes, strict=True):
        np.testing.assert_array_equal(
            np.asarray(mine.get_images()[0].get_array()),
            np.asarray(theirs.get_images()[0].get_array()),
        )
    other = projector.visualize("conv2_1", 2, steps=1)
    with pytest.raises(ValueError, match="channel 2; the top-k is of conv2_1 channels"):
        figures.unit_figure(other, top, projector, images)
    plt.close("all")
