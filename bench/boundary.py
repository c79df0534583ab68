"""Boundary IoU against mask IoU: fastap's ``COCOeval(iouType="boundary")`` and
``COCOeval(iouType="segm")`` on the same masks, evaluate + accumulate.

    python -m bench.boundary                         # 1,000 images x 100 RLE results
    python -m bench.boundary --images 300 --dilation-ratio 0.008

Boundary IoU (boundary-iou-api's rule) first takes every mask IoU, then erodes the masks
that matter (every ground truth, the detections with a positive mask IoU) and takes the
IoU of the boundaries: the issue's target is at most 3x the segm evaluation. The two are
timed in alternation (``--repeat`` pairs, one untimed warm-up each, medians); the data
comes from :func:`fastap.synthetic.make_segm_coco` (80 categories, ~7.3 ground truths and
100 compressed-RLE results per 640 x 480 image). Loading is not timed: it is the same for
both. Timings are noisy on shared machines: compare the ratio of one run.
"""
import argparse
import contextlib
import io
import statistics
import time

import fastap
from fastap.threads import thread_count
from fastap.synthetic import make_segm_coco


def _evaluate(gt, dt, iou_type, dilation_ratio):
    kw = {"dilation_ratio": dilation_ratio} if iou_type == "boundary" else {}
    with contextlib.redirect_stdout(io.StringIO()):
        ev = fastap.COCOeval(gt, dt, iou_type, **kw)
        t0 = time.perf_counter()
        ev.evaluate()
        ev.accumulate()
        t = time.perf_counter() - t0
        ev.summarize()
    return t, ev.stats


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.boundary", description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--dets", type=int, default=100, help="results per image (default 100)")
    ap.add_argument("--dilation-ratio", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    ds, res = make_segm_coco(0, n_images=args.images, n_categories=80, dets_per_image=args.dets)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = fastap.COCO(ds)
        dt = gt.loadRes(res)
    times = {"segm": [], "boundary": []}
    stats = {}
    for i in range(args.repeat + 1):
        for kind in ("segm", "boundary"):
            t, stats[kind] = _evaluate(gt, dt, kind, args.dilation_ratio)
            if i:                                    # the first pair warms up
                times[kind].append(t)
    seg, bnd = statistics.median(times["segm"]), statistics.median(times["boundary"])
    print("bench.boundary: %d images, %d ground truths, %d results; dilation_ratio %g; %d threads"
          % (args.images, len(ds["annotations"]), len(res), args.dilation_ratio, thread_count()))
    print("  segm evaluate+accumulate       %8.3f s   AP %.4f" % (seg, stats["segm"][0]))
    print("  boundary evaluate+accumulate   %8.3f s   AP %.4f" % (bnd, stats["boundary"][0]))
    print("  boundary / segm: %.2fx (target: at most 3x)" % (bnd / seg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
