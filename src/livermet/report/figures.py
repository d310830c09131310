"""Pictures drawn by the report itself: the sFLR gauge and a schematic Couinaud diagram.

Both are plain SVG built from strings (no plotting library, no fonts to fetch), so the report
stays one self-contained file and renders the same in a browser and in WeasyPrint.
The imaging part draws the real pictures (CT slices, segment bars) when the case has images;
this schematic is the fallback that places the lesions in their segments.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any, Iterable, Mapping

from livermet.calculators.base import Source

# Minimum standardised FLR by liver condition (calculators.md section 1, "Minimum sFLR by
# liver condition"); used only when the sflr calculator's result does not carry its threshold.
SFLR_MIN_PERCENT = {
    "normal": (20.0, Source("Kishi, Ann Surg 2009;250:540", "Surgical Resection")),
    "chemotherapy": (30.0, Source("Shindoh, Ann Surg Oncol 2013;20:2493", "Surgical Resection")),
    "cirrhosis": (40.0, Source("Kubota, Hepatology 1997", "Surgical Resection")),
}
# Chemotherapy counts as "prolonged" beyond 12 weeks (Shindoh 2013, as in calculators.md).
PROLONGED_CHEMOTHERAPY_WEEKS = 12

def resected_segments(name: str | None) -> tuple[int, ...]:
    """Couinaud segments a planned resection removes, by livermet's one plan parser
    (:func:`livermet.imaging.plans.parse_resection`: Brisbane 2000 names and their synonyms,
    ``segmentectomy_N``, ``segments:N,M``, combinations with ``+``); () when the plan is not a
    known anatomic resection (a lesion-only plan, free text)."""
    if not name:
        return ()
    from livermet.imaging.errors import ImagingInputError
    from livermet.imaging.plans import parse_resection

    try:  # lesion parts need their ids to parse; only the segments matter here
        plan = parse_resection(str(name).strip().replace(" ", "_"), ["?"])
    except ImagingInputError:
        return ()
    return plan.segments if plan is not None else ()


def sflr_threshold(score: Mapping[str, Any] | None, case: Mapping[str, Any]
                   ) -> tuple[float, str, str]:
    """(threshold %, liver condition, source text) for the gauge.

    Prefers what the sflr calculator reports in its details; otherwise the condition is read
    from the case (cirrhosis; chemotherapy > 12 weeks; else normal).
    """
    details = dict((score or {}).get("details") or {})
    inputs = dict((score or {}).get("inputs") or {})
    condition = details.get("liver_condition") or inputs.get("liver_condition")
    for key in ("threshold_percent", "minimum_percent", "min_sflr_percent", "threshold",
                "minimum_sflr_percent", "required_percent"):
        if isinstance(details.get(key), (int, float)):
            src = "; ".join(s.get("text") or s.get("citation", "") for s in
                            (score or {}).get("sources") or [] if isinstance(s, dict))
            return float(details[key]), str(condition or "as calculated"), src
    if not condition:
        liver = case.get("liver") or {}
        if liver.get("cirrhosis"):
            condition = "cirrhosis"
        elif (liver.get("chemotherapy_weeks") or 0) > PROLONGED_CHEMOTHERAPY_WEEKS:
            condition = "chemotherapy"
        else:
            condition = "normal"
    value, src = SFLR_MIN_PERCENT.get(str(condition), SFLR_MIN_PERCENT["normal"])
    return value, str(condition), str(src)


def sflr_gauge_svg(value: float | None, threshold: float, condition: str,
                   width: int = 520, height: int = 86) -> str:
    """Inline SVG: a 0-max % bar, the threshold line, and the patient's sFLR marker."""
    top = max(60.0, (value or 0) + 10.0, threshold + 20.0)
    x0, x1, y, h = 20.0, width - 20.0, 28.0, 20.0

    def x(v: float) -> float:
        return x0 + (x1 - x0) * max(0.0, min(v, top)) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gauge" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="sFLR gauge">',
        f'<rect x="{x0}" y="{y}" width="{x(threshold) - x0:.1f}" height="{h}" fill="#f4c7c3"/>',
        f'<rect x="{x(threshold):.1f}" y="{y}" width="{x1 - x(threshold):.1f}" height="{h}" '
        'fill="#cde8cf"/>',
        f'<rect x="{x0}" y="{y}" width="{x1 - x0}" height="{h}" fill="none" stroke="#555"/>',
        f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{y - 6}" y2="{y + h + 6}" '
        'stroke="#b00" stroke-width="2"/>',
        f'<text x="{x(threshold):.1f}" y="{y - 9}" font-size="11" text-anchor="middle" '
        f'fill="#b00">minimum {threshold:g}% ({escape(condition)})</text>',
    ]
    for t in range(0, int(top) + 1, 10):
        parts.append(f'<text x="{x(t):.1f}" y="{y + h + 16}" font-size="10" '
                     f'text-anchor="middle" fill="#333">{t}%</text>')
    if value is not None:
        colour = "#1b7a2b" if value >= threshold else "#b00"
        parts.append(f'<polygon points="{x(value) - 7:.1f},{y - 1} {x(value) + 7:.1f},{y - 1} '
                     f'{x(value):.1f},{y + 10}" fill="{colour}"/>')
        parts.append(f'<rect x="{x(value) - 1.5:.1f}" y="{y}" width="3" height="{h}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{min(x(value) + 9, x1 - 60):.1f}" y="{y + 14}" font-size="12" '
                     f'font-weight="bold" fill="{colour}">sFLR {value:.1f}%</text>')
    else:
        parts.append(f'<text x="{x0 + 6}" y="{y + 14}" font-size="12" fill="#333">'
                     'sFLR not available</text>')
    parts.append("</svg>")
    return "".join(parts)


# Schematic Couinaud layout (anterior view: the patient's right is on the left of the image).
# Boxes (x, y, w, h) in a 420 x 250 canvas; segment 1 (caudate) drawn on top, centrally.
_BOXES: dict[int, tuple[float, float, float, float]] = {
    7: (20, 40, 95, 85), 8: (115, 40, 95, 85), 6: (20, 125, 95, 80), 5: (115, 125, 95, 80),
    4: (210, 45, 65, 150), 2: (275, 50, 125, 70), 3: (275, 120, 115, 65),
    1: (188, 105, 44, 40),
}


def couinaud_svg(lesions: Iterable[Mapping[str, Any]],
                 resected: Iterable[int] = ()) -> str:
    """Schematic (not to scale) Couinaud diagram with lesions placed in their segments."""
    resected = set(resected)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="420" height="250" '
             'viewBox="0 0 420 250" font-family="sans-serif">',
             '<rect width="420" height="250" fill="white"/>',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e6e6e6"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>']
    for seg in (7, 8, 6, 5, 4, 2, 3, 1):
        bx, by, bw, bh = _BOXES[seg]
        fill = "url(#hatch)" if seg in resected else "#dff0e0"
        parts.append(f'<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="10" '
                     f'fill="{fill}" stroke="#6b4f3a" stroke-width="1.5"/>')
        parts.append(f'<text x="{bx + 8}" y="{by + 16}" font-size="13" fill="#444">'
                     f'{seg}</text>')
    placed: dict[int, int] = {}
    for les in lesions:
        segs = [s for s in (les.get("segments") or []) if isinstance(s, int) and s in _BOXES]
        if not segs:
            continue
        cx = sum(_BOXES[s][0] + _BOXES[s][2] / 2 for s in segs) / len(segs)
        cy = sum(_BOXES[s][1] + _BOXES[s][3] / 2 for s in segs) / len(segs)
        k = placed.get(segs[0], 0)
        placed[segs[0]] = k + 1
        cx += (k % 3 - 1) * 16 if k else 0
        cy += (k // 3) * 16
        d = les.get("diameter_mm") or les.get("longest_axial_diameter_mm") or 15
        r = max(5.0, min(24.0, float(d) / 3.0))
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="#c0392b" '
                     'fill-opacity="0.8" stroke="#7b241c"/>')
        parts.append(f'<text x="{cx:.1f}" y="{cy + 4:.1f}" font-size="10" fill="white" '
                     f'text-anchor="middle">{escape(str(les.get("id", "")))}</text>')
    parts.append('<text x="20" y="228" font-size="11" fill="#333">Schematic, not to scale. '
                 'hatched: resection; red: lesions</text>')
    parts.append("</svg>")
    return "".join(parts)


def data_uri(data: bytes | str, mime: str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return f"data:{mime};base64," + base64.b64encode(raw).decode("ascii")


def sniff_mime(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    head = data[:200].lstrip()
    if head.startswith(b"<svg") or head.startswith(b"<?xml"):
        return "image/svg+xml"
    raise ValueError("figure is not PNG, JPEG or SVG (first bytes %r)" % data[:8])
