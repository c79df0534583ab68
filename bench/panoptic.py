"""Panoptic quality benchmark: fastap (the (gt, pred) pair histogram in C, the matching
vectorised over the pairs) against the NumPy reference (fastap.reference.panoptic_quality:
per image np.unique over gt << 32 | pred, then panopticapi's rules in Python dicts).

    python -m bench.panoptic                         # 200 images of 640 x 480
    python -m bench.panoptic --images 1000 --distinct 100

The segment maps are generated COCO-panoptic-like: about 40 segments per image (blocks of
32 x 32 pixels of one segment, 60% of the categories things, some crowd, 3% of the
pixels VOID), the prediction shifted by 6 pixels with 3% of its blocks given to other
segments. --distinct map pairs are generated and reused in turn (memory). Both paths must
give the same numbers (checked); the ratio of the medians of --repeat runs is printed.
Timings are noisy on shared machines: compare the ratios of one run. PNG decoding (Pillow)
is not timed: it costs both paths the same.
"""
import argparse

import numpy as np

from bench.timing import median_time
from fastap import reference
from fastap.panoptic import pq_from_segment_maps

N_CATS = 50


def make_case(rng, h, w, n_seg=40):
    """(gt map, gt segments, pred map, pred segments) of one image."""
    bh, bw = -(-h // 32), -(-w // 32)
    low = rng.integers(1, n_seg + 1, (bh, bw))
    gt = np.repeat(np.repeat(low, 32, 0), 32, 1)[:h, :w].astype(np.uint32)
    noise = np.where(rng.random((bh, bw)) < 0.03, rng.integers(1, n_seg + 1, (bh, bw)), low)
    pred = np.roll(np.repeat(np.repeat(noise, 32, 0), 32, 1)[:h, :w], 6, axis=1).astype(np.uint32) + 1000
    gt[rng.random((h, w)) < 0.03] = 0
    cats = rng.integers(1, N_CATS + 1, n_seg + 1)
    gsegs = [{"id": int(i), "category_id": int(cats[i]), "iscrowd": int(rng.random() < 0.05)}
             for i in np.unique(gt).tolist() if i]
    psegs = [{"id": int(i), "category_id": int(cats[i - 1000])} for i in np.unique(pred).tolist()]
    return gt, gsegs, pred, psegs


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.panoptic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--distinct", type=int, default=50, help="distinct map pairs, reused in turn (default 50)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    pool = [make_case(rng, args.height, args.width) for _ in range(min(args.distinct, args.images))]
    cases = [pool[i % len(pool)] for i in range(args.images)]
    g, gs, p, ps = (list(x) for x in zip(*cases))
    cats = [{"id": c, "isthing": int(c <= 0.6 * N_CATS)} for c in range(1, N_CATS + 1)]
    print("bench.panoptic: %d images of %d x %d, %d categories" % (args.images, args.width, args.height, N_CATS))
    t_fa, r = median_time(lambda: pq_from_segment_maps(g, gs, p, ps, cats, num_threads=args.threads), args.repeat)
    t_np, ref = median_time(lambda: reference.panoptic_quality(g, gs, p, ps, cats), args.repeat)
    same = r.to_panopticapi() == {k: v for k, v in ref.items() if k != "counts"}
    print("  fastap (C)          %8.3f s  %8.1f images/s" % (t_fa, args.images / t_fa))
    print("  NumPy reference     %8.3f s  %8.1f images/s" % (t_np, args.images / t_np))
    print("  fastap is %.1fx the NumPy reference; PQ %.6f / %.6f, results %s"
          % (t_np / t_fa, r.PQ, ref["All"]["pq"], "identical" if same else "DIFFER"))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
