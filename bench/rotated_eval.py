"""Rotated-box evaluation benchmark on generated DOTA-like data (fastap.synthetic.make_dota:
rotated rectangles of 6-200 px at any angle in 1024 x 1024 images, 15 classes, about 50
objects and 80 detections per image).

    python -m bench.rotated_eval [--images 500] [--classes 15] [--objects 50] [--dets 80]
                                 [--repeat 3] [--threads N] [--no-reference] [--no-oracle]

Two protocols, each timed as the median of --repeat runs after one warm-up (the reference
and the oracle once: they are the slow side), with the ratio to fastap:

* DOTA task 1 (quadrilaterals, AP at IoU > 0.5, 11-point): fastap.evaluate_dota against
  fastap.reference.evaluate_dota (the devkit's loop: horizontal-box prefilter, shapely
  polygon IoU per kept pair). The APs are compared (equal unless an IoU lies within
  rounding of 0.5).
* COCO on rotated boxes (the same objects as XYWHA): fastap.COCOeval(iouType="rotated")
  against pycocotools' COCOeval with computeIoU replaced by fastap.rotated_iou
  (detectron2's RotatedCOCOeval with a float64 rotated IoU). Loading (COCO() and
  loadRes) is outside the timings; the eval arrays are compared bit for bit.
"""
import argparse
import contextlib
import copy
import io
import os
import time

import numpy as np

from bench.timing import warm_median

import fastap
from fastap import reference
from fastap.synthetic import make_dota
from fastap.threads import thread_count


def _median(fn, repeat):
    return warm_median(fn, repeat)


def _once(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def quad_to_xywha(q):
    """Rotated boxes (x_ctr, y_ctr, w, h, angle in degrees CCW) of make_dota's quads (its
    corners go (-w/2,-h/2), (w/2,-h/2), (w/2,h/2), (-w/2,h/2) turned by the angle)."""
    x, y = q[:, 0::2], q[:, 1::2]
    cx, cy = x.mean(axis=1), y.mean(axis=1)
    ex, ey = x[:, 1] - x[:, 0], y[:, 1] - y[:, 0]
    w = np.hypot(ex, ey)
    h = np.hypot(x[:, 3] - x[:, 0], y[:, 3] - y[:, 0])
    return np.c_[cx, cy, w, h, np.rad2deg(np.arctan2(-ey, ex))]


def rotated_coco(gt, dt, n_images, n_classes):
    """A COCO dataset dict and results list of the same objects as XYWHA boxes."""
    gb, db = quad_to_xywha(gt["poly"]), quad_to_xywha(dt["poly"])
    anns = [{"id": i + 1, "image_id": int(im), "category_id": int(c), "bbox": b.tolist(),
             "area": float(b[2] * b[3]), "iscrowd": 0}
            for i, (im, c, b) in enumerate(zip(gt["image_id"].tolist(), gt["category_id"].tolist(), gb))]
    res = [{"image_id": int(im), "category_id": int(c), "bbox": b.tolist(), "score": float(s)}
           for im, c, b, s in zip(dt["image_id"].tolist(), dt["category_id"].tolist(), db, dt["score"].tolist())]
    data = {"images": [{"id": i, "width": 1024, "height": 1024} for i in range(1, n_images + 1)],
            "categories": [{"id": c, "name": "c%d" % c} for c in range(1, n_classes + 1)], "annotations": anns}
    return data, res


def _oracle_class():
    from pycocotools.cocoeval import COCOeval

    class RotatedOracle(COCOeval):
        def computeIoU(self, imgId, catId):
            gt, dt = self._gts[imgId, catId], self._dts[imgId, catId]
            if len(gt) == 0 and len(dt) == 0:
                return []
            order = np.argsort([-d["score"] for d in dt], kind="mergesort")
            dt = [dt[i] for i in order][:self.params.maxDets[-1]]
            return fastap.rotated_iou(np.array([d["bbox"] for d in dt], np.float64).reshape(-1, 5),
                                      np.array([g["bbox"] for g in gt], np.float64).reshape(-1, 5),
                                      iscrowd=[int(g["iscrowd"]) for g in gt])
    return RotatedOracle


def bench_dota(gt, dt, args):
    def run():
        return fastap.evaluate_dota(gt, dt, num_threads=args.threads)
    t_fast = _median(run, args.repeat)
    res = run()
    print("DOTA task 1: %d gt, %d detections, %d classes; mAP %.4f" % (gt["poly"].shape[0], dt["poly"].shape[0],
                                                                       res.ap.shape[0], res.map))
    print("  fastap.evaluate_dota        %9.4f s" % t_fast)
    if args.no_reference:
        return
    t_ref, (cats, ap, npos, m) = _once(lambda: reference.evaluate_dota(gt, dt))
    same = np.array_equal(ap, res.ap, equal_nan=True)
    print("  reference (devkit, shapely) %9.4f s   %6.1fx   APs %s" % (
        t_ref, t_ref / t_fast, "equal" if same else "differ by %.2e" % np.nanmax(np.abs(ap - res.ap))))


def bench_coco(gt, dt, args):
    data, res = rotated_coco(gt, dt, args.images, args.classes)
    with contextlib.redirect_stdout(io.StringIO()):
        fg = fastap.COCO()
        fg.dataset = copy.deepcopy(data)
        fg.createIndex()
        fd = fg.loadRes(copy.deepcopy(res))

        def run():
            ev = fastap.COCOeval(fg, fd, "rotated", num_threads=args.threads)
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            return ev
        t_fast = _median(run, args.repeat)
        ev = run()
    print("COCO protocol on rotated boxes (iouType='rotated'): AP %.4f, AP50 %.4f" % (ev.stats[0], ev.stats[1]))
    print("  fastap.COCOeval             %9.4f s" % t_fast)
    if args.no_oracle:
        return
    try:
        from pycocotools.coco import COCO
    except ImportError:
        print("  pycocotools not installed: no oracle row")
        return
    with contextlib.redirect_stdout(io.StringIO()):
        pg = COCO()
        pg.dataset = copy.deepcopy(data)
        pg.createIndex()
        pd = pg.loadRes(copy.deepcopy(res))

        def oracle():
            o = _oracle_class()(pg, pd, "bbox")
            o.evaluate()
            o.accumulate()
            o.summarize()
            return o
        t_ref, o = _once(oracle)
    same = all(np.array_equal(o.eval[k], ev.eval[k]) for k in ("precision", "recall", "scores"))
    print("  pycocotools + rotated IoU   %9.4f s   %6.1fx   eval arrays %s" % (
        t_ref, t_ref / t_fast, "bit-identical" if same else "DIFFER"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--classes", type=int, default=15)
    ap.add_argument("--objects", type=float, default=50.0, help="ground truths per image")
    ap.add_argument("--dets", type=float, default=80.0, help="detections per image")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-reference", action="store_true", help="skip the DOTA reference (slow)")
    ap.add_argument("--no-oracle", action="store_true", help="skip pycocotools (slow)")
    args = ap.parse_args(argv)
    gt, dt = make_dota(args.seed, n_images=args.images, n_classes=args.classes, objects_per_image=args.objects,
                       dets_per_image=args.dets)
    print("fastap %s, %d threads, %s" % (fastap.__version__, thread_count(args.threads), os.uname().machine))
    bench_dota(gt, dt, args)
    bench_coco(gt, dt, args)


if __name__ == "__main__":
    main()
