"""A chart is saved as ``savefig(bbox_inches="tight")`` saves it, drawn once per file:
its PNG is cut from one drawing at 150 dpi (same size and pixels as savefig's, within
anti-aliasing), its SVG saved with the box measured on that drawing, and a chart that
draws beyond its own edge has its PNG from ``savefig`` instead. The explorer's exported
chart is the run's."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.transforms import Bbox
from PIL import Image

from audit_analysis.render import present
from audit_analysis.render.section import Figure

DPI = present.PNG_DPI
plt = present._pyplot()


def _chart(*, outside: bool = False, footnote_at: tuple[float, float] = (0.97, 0.1)):
    """A chart like the suite's: bars, a legend over the axes, a footnote near the
    bottom edge, laid out once by tight_layout; ``outside``: a word past the right edge."""
    fig, ax = plt.subplots(figsize=(6.5, 2.4))
    ax.barh(["Agency one", "Agency two", "Agency three"], [0.4, 0.7, 0.55], label="met")
    ax.barh(["Agency one", "Agency two", "Agency three"], [0.3, 0.1, 0.2], left=[0.4, 0.7, 0.55])
    ax.legend(ncols=2, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
    ax.set_xlabel("Share of returns")
    fig.text(*footnote_at, "Right: met or exceeded, 95% interval", ha="right", fontsize=7)
    fig.tight_layout()
    if outside:
        fig.text(1.02, 0.5, "past the edge", fontsize=9)
    return fig


def _pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGBA"
    return np.asarray(image).astype(int)


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference (0-255) over the part both images cover."""
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return float(np.abs(a[:h, :w] - b[:h, :w]).mean())


def _counting_draws(fig) -> list[int]:
    draws: list[int] = []
    draw = fig.draw

    def counted(renderer):
        draws.append(1)
        return draw(renderer)

    fig.draw = counted
    return draws


def _savefig_tight(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "footnote_at", [(0.97, 0.1), (0.99, 0.02)], ids=["inside", "padding-past-edge"]
)
def test_a_charts_png_is_savefigs_tight_png_from_one_drawing(footnote_at):
    # (0.99, 0.02): the footnote inside the figure, the box's padding (0.1 in) past the
    # right and bottom edges, where the PNG has savefig's background
    fig = _chart(footnote_at=footnote_at)
    box = fig.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
    past = box.x1 > fig.get_figwidth() or box.y0 < 0
    assert past == (footnote_at == (0.99, 0.02))
    draws = _counting_draws(fig)
    images = present._tight(fig, "png", "svg")
    assert len(draws) == 2  # once on the Agg canvas (the PNG), once as SVG
    expected = _savefig_tight(fig, "png")
    plt.close(fig)
    new, old = _pixels(images["png"]), _pixels(expected)
    assert abs(new.shape[0] - old.shape[0]) <= 2 and abs(new.shape[1] - old.shape[1]) <= 2
    assert new.shape[1] < 6.5 * DPI  # cut from the drawing: never wider than it
    assert _difference(new, old) < 6  # anti-aliasing at a sub-pixel offset, no more
    assert (new[:, :, 3] == 255).all()  # opaque, background included
    image = Image.open(io.BytesIO(images["png"]))
    assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.1)  # pHYs
    assert "Software" not in image.info


def test_the_cut_is_savefigs_pixels_for_the_same_box():
    fig = _chart()
    fig.dpi = DPI
    fig.canvas.draw()
    # a box on whole pixels (its size a half pixel over, as savefig truncates it): no
    # sub-pixel offset between the two drawings, so the same pixels
    box = Bbox.from_bounds(30 / DPI, 12 / DPI, 800.5 / DPI, 300.5 / DPI)
    cut = present._crop_png(fig, box, box)
    fig.dpi = 100
    assert cut is not None
    saved = present._save(fig, "png", box)
    plt.close(fig)
    a, b = _pixels(cut), _pixels(saved)
    assert a.shape == b.shape == (300, 800, 4)
    assert _difference(a, b) < 0.05


def test_a_chart_drawing_past_its_edge_is_saved_by_savefig():
    fig = _chart(outside=True)
    draws = _counting_draws(fig)
    images = present._tight(fig, "png", "svg")
    assert len(draws) == 3  # measured once, then savefig's PNG and the SVG
    expected = _savefig_tight(fig, "png")
    plt.close(fig)
    new, old = _pixels(images["png"]), _pixels(expected)
    assert new.shape[1] > 6.5 * DPI  # wider than the drawing: not cut from it
    assert abs(new.shape[0] - old.shape[0]) <= 2 and abs(new.shape[1] - old.shape[1]) <= 2
    assert _difference(new, old) < 6


def test_the_svg_has_savefigs_tight_size_and_the_same_bytes_each_time():
    def svg() -> bytes:
        fig = _chart()
        image = present._tight(fig, "png", "svg")["svg"]
        plt.close(fig)
        return image

    first = svg()
    assert first == svg()  # deterministic: stable ids, no date
    assert b"<dc:date>" not in first
    fig = _chart()
    tight = _savefig_tight(fig, "svg")
    plt.close(fig)

    def size(image: bytes) -> tuple[float, float]:
        root = image.decode()
        width = float(root.split('width="', 1)[1].split("pt", 1)[0])
        height = float(root.split('height="', 1)[1].split("pt", 1)[0])
        return width, height

    # measured on the Agg drawing instead of the SVG renderer: within a few points
    assert size(first) == pytest.approx(size(tight), abs=6)


def _spec(draw=_chart) -> Figure:
    return Figure(
        name="a-chart",
        title="A chart",
        subtitle="",
        alt="A chart",
        data=pd.DataFrame({"agency": ["one"], "share": [0.4]}),
        draw=draw,
    )


def test_the_explorers_exported_chart_is_the_runs(tmp_path):
    present.Report(tmp_path, "2018-19").html(_spec())
    saved = {fmt: (tmp_path / "figures" / f"a-chart.{fmt}").read_bytes() for fmt in ("png", "svg")}
    assert present.figure_images(_spec(), "png", "svg") == saved  # the explorer's export
    for fmt in ("png", "svg"):
        assert present.figure_image(_spec(), fmt) == saved[fmt]


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_chart_on_the_explorers_screen_is_drawn_once_with_its_own_margins(fmt):
    drawn = []

    def draw():
        fig = _chart()
        drawn.append(_counting_draws(fig))
        return fig

    image = present.figure_image(_spec(draw), fmt, tight=False)
    assert [len(d) for d in drawn] == [1]  # savefig's layout pass skipped: nothing to lay out
    fig = _chart()
    buffer = io.BytesIO()
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    plt.close(fig)
    assert image == buffer.getvalue()
