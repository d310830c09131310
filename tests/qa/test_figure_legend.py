"""The axial/coronal figures' legend stays inside the picture with every item present
(8 segments, tumour, resected): before, 6 items per row ran off both edges."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from livermet.imaging import figures  # noqa: E402


def test_full_legend_fits_the_figure():
    fig = plt.figure(figsize=figures.SLICE_FIGSIZE, dpi=100)
    ax = fig.add_axes([0.02, 0.08, 0.96, 0.86])  # where the slice is drawn
    figures._legend(fig, plt, range(1, 9), tumour=True, resected=True)
    fig.canvas.draw()
    (legend,) = fig.legends
    box = legend.get_window_extent(fig.canvas.get_renderer())
    assert len(legend.get_texts()) == 10
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1
    assert box.y1 <= ax.get_window_extent().y0 + 1  # below the image, not over it
    plt.close(fig)
