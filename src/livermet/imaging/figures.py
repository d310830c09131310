"""Figures for the MDT: CT slices with the liver plan overlaid, segment volumes, a schematic.

- :func:`write_figures` writes ``axial.png`` and ``coronal.png`` (a slice through the largest
  tumour, or the liver's centre, with segments, tumours and the resected part over the CT in
  a 400/40 HU window, orientation letters and a scale bar, in true physical proportions)
  and ``segment_volumes.png`` (a bar chart of segment volumes with the remnant marked and
  the sFLR written on it).
- :func:`couinaud_schematic` draws the classic frontal diagram of the eight segments with
  the lesions and the resected segments, for reports on cases without images.

Slices are shown in the radiological convention: the patient's right on the left of the
image, anterior at the top of axial slices and superior at the top of coronal ones.
matplotlib (Agg backend) is imported inside the functions.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from livermet.imaging.grid import Grid

CT_WINDOW = (400.0, 40.0)  # width, level (HU): the usual abdominal soft-tissue window
SEGMENT_COLOURS = {  # one distinct colour per Couinaud segment (colour-blind-friendlier set)
    1: "#8c564b", 2: "#1f77b4", 3: "#17becf", 4: "#9467bd",
    5: "#2ca02c", 6: "#bcbd22", 7: "#ff7f0e", 8: "#e377c2",
}
TUMOUR_COLOUR = "#ffd700"
RESECTED_COLOUR = "#d62728"
REMNANT_COLOUR = "#2ca02c"
SLICE_FIGSIZE = (7.0, 7.0)  # inches at DPI -> 700 x 700 pixels
BAR_FIGSIZE = (8.0, 4.5)  # -> 800 x 450 pixels
SCHEMATIC_FIGSIZE = (8.0, 5.5)  # -> 800 x 550 pixels
DPI = 100


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return matplotlib, plt


# --- orientation ------------------------------------------------------------------------------


def _to_lps_axes(grid: Grid) -> tuple[tuple[int, int, int], tuple[bool, bool, bool]]:
    """For each world axis (x, y, z): the array axis closest to it, and whether to flip it."""
    d = grid.direction
    perm = [-1, -1, -1]
    flips = [False, False, False]
    used: set[int] = set()
    for world in np.argsort(-np.max(np.abs(d), axis=1)):  # most clearly aligned first
        order = np.argsort(-np.abs(d[world]))
        axis = next(int(a) for a in order if int(a) not in used)
        used.add(axis)
        perm[world] = axis
        flips[world] = bool(d[world, axis] < 0)
    return tuple(perm), tuple(flips)  # type: ignore[return-value]


class _View:
    """Arrays reoriented so that index axes run along +x (left), +y (back), +z (head)."""

    def __init__(self, grid: Grid):
        self.perm, self.flips = _to_lps_axes(grid)
        self.grid = grid
        sp = np.asarray(grid.spacing)
        self.spacing = sp[list(self.perm)]
        corner = np.array([(grid.shape[a] - 1) if f else 0 for a, f in zip(self.perm, self.flips)], dtype=float)
        ijk0 = np.zeros(3)
        for world, a in enumerate(self.perm):
            ijk0[a] = corner[world]
        self.origin = grid.index_to_lps(ijk0)  # world position of reoriented voxel (0, 0, 0)
        self.shape = tuple(grid.shape[a] for a in self.perm)

    def __call__(self, arr: np.ndarray) -> np.ndarray:
        out = np.transpose(arr, self.perm)
        sl = tuple(slice(None, None, -1) if f else slice(None) for f in self.flips)
        return out[sl]

    def extent(self, world_axis: int) -> tuple[float, float]:
        """(first edge, last edge) in mm along a world axis, voxel edges included."""
        o, s, n = self.origin[world_axis], self.spacing[world_axis], self.shape[world_axis]
        return o - s / 2, o + (n - 0.5) * s


# --- overlays ---------------------------------------------------------------------------------


def _window(ct2d: np.ndarray) -> np.ndarray:
    w, l = CT_WINDOW
    return np.clip((ct2d.astype(np.float32) - (l - w / 2)) / w, 0.0, 1.0)


def _label_point(mask2d: np.ndarray) -> tuple[int, int] | None:
    """The pixel deepest inside ``mask2d`` (where a label is easiest to read)."""
    from scipy import ndimage

    if not mask2d.any():
        return None
    dist = ndimage.distance_transform_edt(np.pad(mask2d, 1))[1:-1, 1:-1]
    r, c = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(r), int(c)


def _largest_label_centroid(labels: np.ndarray) -> np.ndarray | None:
    lab = np.asarray(labels)
    if not lab.any():
        return None
    counts = np.bincount(lab[lab > 0].ravel().astype(np.int64))
    biggest = int(np.argmax(counts))
    return np.argwhere(lab == biggest).mean(axis=0)


def _draw_slice(ax, plt, img2d: dict[str, np.ndarray], ext: tuple[float, float, float, float], origin: str,
                letters: tuple[str, str, str, str], title: str, pixel_mm: tuple[float, float]) -> None:
    from matplotlib.colors import to_rgba

    liver, seg, tum, res = img2d["liver"], img2d["segments"], img2d["tumours"], img2d["resected"]
    if img2d.get("ct") is not None:
        ax.imshow(_window(img2d["ct"]), cmap="gray", vmin=0, vmax=1, extent=ext, origin=origin,
                  interpolation="nearest")
    else:
        bg = np.where(liver, 0.55, 0.12)
        ax.imshow(bg, cmap="gray", vmin=0, vmax=1, extent=ext, origin=origin, interpolation="nearest")
    rgba = np.zeros(seg.shape + (4,), dtype=np.float32)
    for s, colour in SEGMENT_COLOURS.items():
        m = seg == s
        if m.any():
            rgba[m] = to_rgba(colour, 0.38)
    tm = tum > 0
    rgba[tm] = to_rgba(TUMOUR_COLOUR, 0.85)
    ax.imshow(rgba, extent=ext, origin=origin, interpolation="nearest")
    rows, cols = liver.shape
    x0, x1, y0, y1 = ext
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    # imshow's extent is (left, right, bottom, top); row 0 is at the top for origin="upper"
    if origin == "upper":
        ys = y1 + (np.arange(rows) + 0.5) * (y0 - y1) / rows
    else:
        ys = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    if liver.any():
        ax.contour(xs, ys, liver.astype(np.float32), levels=[0.5], colors="white", linewidths=0.9)
    if tm.any():
        ax.contour(xs, ys, tm.astype(np.float32), levels=[0.5], colors=TUMOUR_COLOUR, linewidths=1.0)
    if res.any():
        prev = plt.rcParams["hatch.color"]
        plt.rcParams["hatch.color"] = RESECTED_COLOUR
        ax.contourf(xs, ys, res.astype(np.float32), levels=[0.5, 1.5], colors="none", hatches=["////"])
        plt.rcParams["hatch.color"] = prev
        ax.contour(xs, ys, res.astype(np.float32), levels=[0.5], colors=RESECTED_COLOUR, linewidths=1.6)
    for s in SEGMENT_COLOURS:
        m = seg == s
        if m.sum() < 25:
            continue
        p = _label_point(m)
        if p is not None:
            ax.text(xs[p[1]], ys[p[0]], str(s), color="white", fontsize=13, fontweight="bold",
                    ha="center", va="center",
                    bbox=dict(boxstyle="circle,pad=0.2", fc=SEGMENT_COLOURS[s], ec="white", lw=0.8, alpha=0.9))
    # view: the liver with a margin, else the whole slice
    if liver.any():
        rr, cc = np.nonzero(liver)
        margin = 15.0
        xa, xb = xs[cc.min()] - margin, xs[cc.max()] + margin
        ya, yb = sorted((ys[rr.min()], ys[rr.max()]))
        ya, yb = ya - margin, yb + margin
        lo_x, hi_x = sorted((x0, x1))
        lo_y, hi_y = sorted((y0, y1))
        xa, xb = max(xa, lo_x), min(xb, hi_x)
        ya, yb = max(ya, lo_y), min(yb, hi_y)
        ax.set_xlim(xa, xb)
        ax.set_ylim((yb, ya) if origin == "upper" else (ya, yb))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=11)
    left, right, top, bottom = letters
    style = dict(transform=ax.transAxes, color="white", fontsize=14, fontweight="bold",
                 bbox=dict(boxstyle="round,pad=0.15", fc="black", alpha=0.55, lw=0))
    ax.text(0.015, 0.5, left, ha="left", va="center", **style)
    ax.text(0.985, 0.5, right, ha="right", va="center", **style)
    ax.text(0.5, 0.985, top, ha="center", va="top", **style)
    ax.text(0.5, 0.015, bottom, ha="center", va="bottom", **style)
    # scale bar (bottom left), in data millimetres
    xl, xr = ax.get_xlim()
    yb_, yt_ = ax.get_ylim()
    width = abs(xr - xl)
    bar = 50.0 if width > 150 else 20.0 if width > 50 else 10.0
    bx = min(xl, xr) + 0.05 * width
    by = yb_ + 0.08 * (yt_ - yb_)
    ax.plot([bx, bx + bar], [by, by], color="white", lw=3, solid_capstyle="butt")
    ax.text(bx + bar / 2, by + 0.025 * (yt_ - yb_), f"{bar:.0f} mm", color="white", ha="center",
            va="bottom", fontsize=10, fontweight="bold")
    ax.text(0.985, 0.04, f"pixel {pixel_mm[0]:.2g} x {pixel_mm[1]:.2g} mm", transform=ax.transAxes,
            ha="right", va="bottom", color="#cccccc", fontsize=7)


def _legend(fig, plt, segments_present: Iterable[int], tumour: bool, resected: bool) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=SEGMENT_COLOURS[s], alpha=0.6, label=f"segment {s}") for s in segments_present]
    if tumour:
        handles.append(Patch(facecolor=TUMOUR_COLOUR, label="tumour"))
    if resected:
        handles.append(Patch(facecolor="none", edgecolor=RESECTED_COLOUR, hatch="////", label="resected"))
    if handles:
        # 5 per row: 8 segments + tumour + resected make two rows that fit the 7-inch figure
        # (6 per row ran off both edges)
        fig.legend(handles=handles, loc="lower center", ncol=min(5, len(handles)), fontsize=9, frameon=False,
                   labelcolor="white")


def _sflr_from_masks(liver, tumour, resected) -> float | None:
    functional = np.count_nonzero(liver & ~tumour)
    if functional == 0 or not resected.any():
        return None
    remnant = np.count_nonzero(liver & ~tumour & ~resected)
    return 100.0 * remnant / functional


def write_figures(
    out_dir: str | Path,
    grid: Grid,
    liver: np.ndarray,
    segments: np.ndarray,
    tumour_labels: np.ndarray,
    resected: np.ndarray,
    ct: np.ndarray | None = None,
    segments_ml: dict | None = None,
    remnant_segments: Sequence[int] | None = None,
    *,
    sflr_percent: float | None = None,
    dpi: int = DPI,
) -> list[Path]:
    """Write ``axial.png``, ``coronal.png`` and (with segments) ``segment_volumes.png``.

    All arrays lie on ``grid``: ``liver`` and ``resected`` masks, ``segments`` (0-8),
    ``tumour_labels`` (0 = none, n = lesion n), ``ct`` in HU (optional; a grey background
    otherwise). ``segments_ml`` (keys "1".."8") defaults to the voxel count of each segment;
    ``remnant_segments`` marks the bars kept by the plan. ``sflr_percent`` is written on the
    chart; when absent it is computed from the masks as remnant / functional liver, both
    without tumour (the measured sFLR). Returns the paths written.
    """
    _, plt = _mpl()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = {
        "liver": np.asarray(liver).astype(bool),
        "segments": np.asarray(segments),
        "tumours": np.asarray(tumour_labels),
        "resected": np.asarray(resected).astype(bool),
    }
    if ct is not None:
        arrays["ct"] = np.asarray(ct)
    for name, arr in arrays.items():
        if arr.shape != grid.shape:
            raise ValueError(f"{name}: shape {arr.shape}, expected the grid's shape {grid.shape}")
    view = _View(grid)
    va = {k: view(v) for k, v in arrays.items()}
    centre = _largest_label_centroid(va["tumours"])
    through = "the largest tumour"
    if centre is None:
        centre = np.argwhere(va["liver"]).mean(axis=0) if va["liver"].any() else (np.asarray(view.shape) - 1) / 2
        through = "the liver centre"
    ci, cj, ck = (int(round(float(v))) for v in centre)
    paths: list[Path] = []
    x_lo, x_hi = view.extent(0)
    y_lo, y_hi = view.extent(1)
    z_lo, z_hi = view.extent(2)
    seg_present = sorted(int(s) for s in np.unique(va["segments"]) if 1 <= s <= 8)
    tumour_any = bool(va["tumours"].any())
    res_any = bool(va["resected"].any())

    # axial: rows = y (anterior at top), columns = x (patient's right on the left)
    z_mm = view.origin[2] + ck * view.spacing[2]
    fig = plt.figure(figsize=SLICE_FIGSIZE, dpi=dpi)
    ax = fig.add_axes([0.02, 0.08, 0.96, 0.86])
    fig.patch.set_facecolor("black")
    ax.set_facecolor("black")
    sl2 = {k: v[:, :, ck].T for k, v in va.items()}
    _draw_slice(ax, plt, sl2, (x_lo, x_hi, y_hi, y_lo), "upper", ("R", "L", "A", "P"),
                f"Axial, z = {z_mm:.0f} mm (through {through})", (view.spacing[0], view.spacing[1]))
    ax.title.set_color("white")
    _legend(fig, plt, seg_present, tumour_any, res_any)
    p = out_dir / "axial.png"
    fig.savefig(p, dpi=dpi, facecolor=fig.get_facecolor())
    plt.close(fig)
    paths.append(p)

    # coronal: rows = z (superior at top), columns = x
    y_mm = view.origin[1] + cj * view.spacing[1]
    fig = plt.figure(figsize=SLICE_FIGSIZE, dpi=dpi)
    ax = fig.add_axes([0.02, 0.08, 0.96, 0.86])
    fig.patch.set_facecolor("black")
    ax.set_facecolor("black")
    sl2 = {k: v[:, cj, :].T for k, v in va.items()}
    _draw_slice(ax, plt, sl2, (x_lo, x_hi, z_lo, z_hi), "lower", ("R", "L", "S", "I"),
                f"Coronal, y = {y_mm:.0f} mm (through {through})", (view.spacing[0], view.spacing[2]))
    ax.title.set_color("white")
    _legend(fig, plt, seg_present, tumour_any, res_any)
    p = out_dir / "coronal.png"
    fig.savefig(p, dpi=dpi, facecolor=fig.get_facecolor())
    plt.close(fig)
    paths.append(p)

    if seg_present:
        if segments_ml is None:
            vv = grid.voxel_volume_ml
            counts = np.bincount(arrays["segments"][arrays["liver"]].ravel().astype(np.int64), minlength=9)
            segments_ml = {str(s): float(counts[s]) * vv for s in range(1, 9)}
        if sflr_percent is None:
            sflr_percent = _sflr_from_masks(arrays["liver"], arrays["tumours"] > 0, arrays["resected"])
        paths.append(_bar_chart(out_dir / "segment_volumes.png", segments_ml, remnant_segments, sflr_percent, dpi))
    return paths


def _bar_chart(path: Path, segments_ml: dict, remnant_segments, sflr_percent, dpi: int) -> Path:
    _, plt = _mpl()
    vols = [float(segments_ml.get(str(s), segments_ml.get(s, 0.0)) or 0.0) for s in range(1, 9)]
    remnant = None if remnant_segments is None else {int(s) for s in remnant_segments}
    colours = []
    for s in range(1, 9):
        if remnant is None:
            colours.append(SEGMENT_COLOURS[s])
        else:
            colours.append(REMNANT_COLOUR if s in remnant else RESECTED_COLOUR)
    fig = plt.figure(figsize=BAR_FIGSIZE, dpi=dpi)
    ax = fig.add_axes([0.09, 0.12, 0.88, 0.72])
    bars = ax.bar([str(s) for s in range(1, 9)], vols, color=colours, edgecolor="black", linewidth=0.6)
    if remnant is not None:
        for s, b in zip(range(1, 9), bars):
            if s not in remnant:
                b.set_hatch("////")
                b.set_facecolor("#f4c7c3")
                b.set_edgecolor(RESECTED_COLOUR)
    top = max(vols) if max(vols) > 0 else 1.0
    for b, v in zip(bars, vols):
        ax.text(b.get_x() + b.get_width() / 2, v + 0.01 * top, f"{v:.0f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, top * 1.15)
    ax.set_xlabel("Couinaud segment")
    ax.set_ylabel("volume (mL)")
    total = sum(vols)
    title = f"Segment volumes (total {total:.0f} mL)"
    if remnant is not None:
        rem = sum(v for s, v in zip(range(1, 9), vols) if s in remnant)
        title += f"; remnant segments {sorted(remnant)} = {rem:.0f} mL"
    ax.set_title(title, fontsize=10, loc="left")
    if sflr_percent is not None:
        ax.text(1.0, 1.02, f"sFLR {sflr_percent:.1f} %", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=13, fontweight="bold", color=REMNANT_COLOUR,
                bbox=dict(boxstyle="round", fc="white", ec=REMNANT_COLOUR))
    if remnant is not None:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(facecolor=REMNANT_COLOUR, label="remnant"),
                           Patch(facecolor="#f4c7c3", edgecolor=RESECTED_COLOUR, hatch="////", label="resected")],
                  loc="upper left", fontsize=9)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


# --- schematic ----------------------------------------------------------------------------------

# Frontal view of the liver (patient's right on the left), in arbitrary units; segment 1
# (caudate) lies behind, drawn dashed in the middle. Layout after the usual Couinaud diagram.
_SCHEMATIC = {
    7: [(0.3, 3.1), (0.6, 5.0), (1.6, 5.8), (2.9, 6.0), (2.9, 3.1)],
    8: [(2.9, 3.1), (2.9, 6.0), (4.7, 6.1), (4.9, 3.1)],
    6: [(0.3, 3.1), (2.9, 3.1), (2.9, 0.7), (1.6, 0.8), (0.6, 1.6)],
    5: [(2.9, 3.1), (4.9, 3.1), (4.9, 0.4), (3.8, 0.2), (2.9, 0.7)],
    4: [(4.9, 0.4), (4.9, 3.1), (4.7, 6.1), (6.4, 5.8), (6.6, 3.3), (6.2, 1.0)],
    2: [(6.6, 3.3), (6.4, 5.8), (7.8, 5.4), (9.2, 4.6), (9.8, 3.8)],
    3: [(6.2, 1.0), (6.6, 3.3), (9.8, 3.8), (9.0, 2.7), (7.6, 1.6)],
}
_CAUDATE = (4.35, 3.9, 1.0, 0.75)  # centre x, centre y, width, height (an ellipse)


def _schematic_centres() -> dict[int, tuple[float, float]]:
    c = {s: tuple(np.mean(np.asarray(p), axis=0)) for s, p in _SCHEMATIC.items()}
    c[1] = (_CAUDATE[0], _CAUDATE[1])
    c[4] = (5.65, 3.2)
    return c  # type: ignore[return-value]


def couinaud_schematic(lesions: Sequence[dict[str, Any]], resected_segments: Iterable[int] | None = None,
                       *, dpi: int = DPI) -> bytes:
    """A PNG (bytes) of the Couinaud segments with ``lesions`` placed in their segments.

    ``lesions``: dicts with ``id``, ``segments`` (list of 1-8) and ``diameter_mm`` (may be
    None); a lesion in several segments is drawn on their common border. Resected segments
    are hatched red, the remnant green. Purely schematic: positions and sizes are indicative.
    """
    _, plt = _mpl()
    from matplotlib.patches import Circle, Ellipse, Patch, Polygon

    resected = {int(s) for s in resected_segments} if resected_segments is not None else None
    fig = plt.figure(figsize=SCHEMATIC_FIGSIZE, dpi=dpi)
    ax = fig.add_axes([0.02, 0.1, 0.96, 0.8])
    centres = _schematic_centres()

    def style(s: int) -> dict[str, Any]:
        if resected is None:
            return dict(facecolor=SEGMENT_COLOURS[s], alpha=0.35, edgecolor="black")
        if s in resected:
            return dict(facecolor="#f4c7c3", edgecolor=RESECTED_COLOUR, hatch="////")
        return dict(facecolor="#cdeccd", edgecolor="black")

    for s, pts in _SCHEMATIC.items():
        ax.add_patch(Polygon(pts, closed=True, lw=1.5, **style(s)))
    ax.add_patch(Ellipse(_CAUDATE[:2], _CAUDATE[2], _CAUDATE[3], lw=1.5, linestyle="--", **style(1)))
    ax.plot([4.9, 4.7], [0.4, 6.1], color="#1f4e79", lw=2.5, alpha=0.7)  # middle hepatic vein (Cantlie)
    for s, (x, y) in centres.items():
        ax.text(x, y + (0.0 if s == 1 else 0.55), str(s), ha="center", va="center", fontsize=16,
                fontweight="bold", color="#222222")
    placed: dict[tuple, int] = {}
    for les in lesions:
        segs = [int(s) for s in (les.get("segments") or []) if 1 <= int(s) <= 8]
        if not segs:
            continue
        key = tuple(sorted(segs))
        n = placed.get(key, 0)
        placed[key] = n + 1
        x = float(np.mean([centres[s][0] for s in segs]))
        y = float(np.mean([centres[s][1] for s in segs])) - 0.35 - 0.55 * n
        d = les.get("diameter_mm")
        r = 0.35 if d is None else float(np.clip(float(d) / 60.0, 0.12, 0.9))
        ax.add_patch(Circle((x, y), r, facecolor=TUMOUR_COLOUR, edgecolor="#7a5c00", lw=1.2, alpha=0.9))
        label = str(les.get("id", "?")) + ("" if d is None else f" ({float(d):.0f} mm)")
        ax.text(x + r + 0.08, y, label, ha="left", va="center", fontsize=9, fontweight="bold")
    ax.set_xlim(0, 10.6)
    ax.set_ylim(0, 6.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Couinaud segments (frontal view; patient's right on the left)", fontsize=11)
    ax.text(0.3, 6.25, "R", fontsize=13, fontweight="bold")
    ax.text(10.2, 6.25, "L", fontsize=13, fontweight="bold")
    handles = [Patch(facecolor=TUMOUR_COLOUR, edgecolor="#7a5c00", label="lesion")]
    if resected is not None:
        handles += [Patch(facecolor="#cdeccd", edgecolor="black", label="remnant"),
                    Patch(facecolor="#f4c7c3", edgecolor=RESECTED_COLOUR, hatch="////", label="resected")]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
