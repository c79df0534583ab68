"""Streaming benchmark: fastap.Evaluator.update() over COCO val2017-scale results in
batches of images, then compute(), against the one-shot evaluation of the same data
(fastap.COCO + loadRes + COCOeval), from the same in-memory result dicts.

    python -m bench.streaming [--scale coco_val2017] [--batch 16] [--repeat 3]
"""
import argparse
import contextlib
import io
import statistics
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="coco_val2017")
    ap.add_argument("--batch", type=int, default=16, help="images per update (default 16)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    import fastap
    from fastap.synthetic import make_coco
    d, r = make_coco(seed=0, scale=args.scale)
    per = {}
    for x in r:
        per.setdefault(x["image_id"], []).append(x)
    batches = []
    imgs = list(per)
    for i in range(0, len(imgs), args.batch):
        batches.append([x for im in imgs[i:i + args.batch] for x in per[im]])
    with contextlib.redirect_stdout(io.StringIO()):
        gt = fastap.COCO(d)

    one, stream, comp = [], [], []
    for _ in range(args.repeat):
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            dt = gt.loadRes(r)
            ev = fastap.COCOeval(gt, dt, "bbox", num_threads=args.threads)
            ev.evaluate()
            ev.accumulate()
            t1 = time.perf_counter()
        one.append(t1 - t0)
        t0 = time.perf_counter()
        s = fastap.Evaluator(gt, num_threads=args.threads)
        for b in batches:
            s.update(b)
        t1 = time.perf_counter()
        res = s.compute()
        t2 = time.perf_counter()
        stream.append(t2 - t0)
        comp.append(t2 - t1)
        assert np.array_equal(res.precision, ev.eval["precision"]), "streaming result differs"
    o, st = statistics.median(one), statistics.median(stream)
    print("data: %s, %d images, %d detections; %d updates of %d images"
          % (args.scale, len(d["images"]), len(r), len(batches), args.batch))
    print("one-shot loadRes(list)+evaluate+accumulate: %.3f s (median of %d)" % (o, args.repeat))
    print("streaming %d x update() + compute():        %.3f s (compute %.3f s)"
          % (len(batches), st, statistics.median(comp)))
    print("streaming / one-shot: %.2fx; state %.1f MB (%.1f bytes per stored detection); arrays identical"
          % (st / o, s.nbytes() / 1e6, s.nbytes() / max(1, sum(p["image_id"].shape[0] for p in s._parts))))


if __name__ == "__main__":
    main()
