"""Benchmark: Couinaud segments on a clinical-size grid (512 x 512 x 300).

Generates the synthetic phantom at 0.7 x 0.55 x 0.8 mm (the liver is about 5 million
voxels), then times, in one run:

- ``segments_from_landmarks`` against its floor, one float32 pass per plane over the liver's
  bounding box (numpy broadcasting of a linear function: 7 planes);
- ``segments_from_portal_branches`` against its floor, scipy's Euclidean distance transform
  (distances only) on the same crop;

and prints the times, the ratios and the agreement with the phantom's true segments.
Goals: landmarks within 3x its floor, portal territories within 2x its floor.

Run: ``python bench/couinaud.py``
"""

from __future__ import annotations

import resource
import time

import numpy as np


def main() -> None:
    from scipy import ndimage

    from livermet.imaging import couinaud as C
    from livermet.imaging import phantom as P

    t = time.perf_counter()
    ph = P.make_phantom(shape=(512, 512, 300), spacing_mm=(0.7, 0.55, 0.8))
    print(f"phantom 512x512x300 in {time.perf_counter() - t:.1f} s; liver {int(ph.liver.sum()):,} voxels")
    sl = C._bbox(ph.liver)
    crop_shape = tuple(s.stop - s.start for s in sl)

    t = time.perf_counter()
    seg = C.segments_from_landmarks(ph.liver, ph.grid, ph.landmarks)
    t_lm = time.perf_counter() - t
    planes = C.couinaud_planes(ph.landmarks)
    t = time.perf_counter()
    for plane in (planes.middle, planes.right, planes.portal, planes.fissure, planes.left,
                  planes.caudate_front, planes.caudate_top):
        C._positive_side(plane, ph.grid, sl, crop_shape)
    t_lm_floor = time.perf_counter() - t

    t = time.perf_counter()
    seg2 = C.segments_from_portal_branches(ph.liver, ph.grid, ph.portal_branches)
    t_pb = time.perf_counter() - t
    sl_b = C._bbox(ph.portal_branches > 0)
    sl_u = tuple(slice(min(a.start, b.start), max(a.stop, b.stop)) for a, b in zip(sl, sl_b))
    t = time.perf_counter()
    ndimage.distance_transform_edt(ph.portal_branches[sl_u] == 0, sampling=ph.grid.spacing)
    t_pb_floor = time.perf_counter() - t

    def dice(a, b):
        return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))

    print(f"landmarks:        {t_lm:6.2f} s  floor {t_lm_floor:6.2f} s  ratio {t_lm / t_lm_floor:4.1f}  "
          f"min Dice {min(dice(seg == s, ph.segments == s) for s in range(1, 9)):.3f}")
    print(f"portal branches:  {t_pb:6.2f} s  floor {t_pb_floor:6.2f} s  ratio {t_pb / t_pb_floor:4.1f}  "
          f"min Dice {min(dice(seg2 == s, ph.segments == s) for s in range(1, 9)):.3f}")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (phantom generation included)")


if __name__ == "__main__":
    main()
