"""LVIS benchmark: fastap.lvis against lvis-api 0.5.3 on generated LVIS-style files.

    python -m bench.lvis                       # 2,000 images, 1,203 categories, 300 results each
    python -m bench.lvis --images 19809        # LVIS v1 val's scale (6M results; lvis-api takes long)
    python -m bench.lvis --images 500 --iou-type segm
    python -m bench.lvis --skip-lvis-api       # fastap only

The data (fastap.synthetic.make_lvis_arrays: LVIS v1's long tail of rare / common /
frequent categories, neg_category_ids and not_exhaustive_category_ids per image, more
than 300 results on some images) is written once as JSON files. Each library then runs
in its own interpreter, the detectron2 sequence from the files::

    gt = LVIS(gt_path); dt = LVISResults(gt, results_path)       # load
    ev = LVISEval(gt, dt, iou_type); ev.evaluate()                # evaluate
    ev.accumulate(); ev.summarize()                               # accumulate

and reports its phase times, its peak memory (``ru_maxrss``) and its 13 numbers; the
parent checks that the precision and recall arrays and the numbers are bit-identical and
prints the ratios. lvis-api is run with ``np.float = float`` set first (it uses the alias
that NumPy 1.24 removed). Timings are noisy on shared machines: compare the ratios of
one run.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _maxrss():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r) if sys.platform == "darwin" else int(r) * 1024


def write_data(directory, n_images, n_categories, dets_per_image, seed=0, segm=False):
    """Generate and write ``gt.json`` / ``results.json``; returns their paths and counts."""
    from fastap import mask
    from fastap.synthetic import make_lvis_arrays
    images, cats, gt, dt = make_lvis_arrays(seed=seed, n_images=n_images, n_categories=n_categories,
                                            dets_per_image=dets_per_image)
    W, H = 640, 480
    boxes = gt["bbox"].tolist()
    anns = []
    for i, (aid, img, cat, area, ign) in enumerate(zip(gt["id"].tolist(), gt["image_id"].tolist(),
                                                       gt["category_id"].tolist(), gt["area"].tolist(),
                                                       gt["ignore"].tolist())):
        x, y, w, h = boxes[i]
        a = {"id": aid, "image_id": img, "category_id": cat, "bbox": boxes[i], "area": area,
             "segmentation": [[x, y, x, y + h, x + w, y + h, x + w, y]]}
        if ign:
            a["ignore"] = 1
        anns.append(a)
    ds = {"info": {"description": "fastap bench LVIS"},
          "images": [{"id": i, "width": W, "height": H, "neg_category_ids": n, "not_exhaustive_category_ids": e}
                     for i, n, e in zip(images["id"].tolist(), images["neg_category_ids"],
                                        images["not_exhaustive_category_ids"])],
          "categories": [{"id": c, "name": "c%d" % c, "frequency": f}
                         for c, f in zip(cats["id"].tolist(), cats["frequency"])],
          "annotations": anns}
    gt_path, dt_path = os.path.join(directory, "gt.json"), os.path.join(directory, "results.json")
    with open(gt_path, "w") as f:
        json.dump(ds, f)
    b = dt["bbox"].tolist()
    with open(dt_path, "w") as f:
        f.write("[")
        for j, (img, cat, s) in enumerate(zip(dt["image_id"].tolist(), dt["category_id"].tolist(),
                                              dt["score"].tolist())):
            r = {"image_id": img, "category_id": cat, "bbox": b[j], "score": s}
            if segm:
                x, y, w, h = b[j]
                rle = mask.frPyObjects([[x, y, x + w / 2, y + h, x + w, y]], H, W)[0]
                r["segmentation"] = {"size": [H, W], "counts": rle["counts"].decode()}
                del r["bbox"]
            f.write(("," if j else "") + json.dumps(r))
        f.write("]")
    return gt_path, dt_path, len(anns), int(dt["image_id"].shape[0])


def child(lib, gt_path, dt_path, out_path, iou_type):
    """One library's run (in its own interpreter): phase times, peak memory, numbers."""
    rss0 = _maxrss()
    if lib == "lvis-api":
        np.float = float      # lvis-api 0.5.3 uses np.float, removed in NumPy 1.24
        import logging
        import lvis
        logging.getLogger("lvis").setLevel(logging.ERROR)
        LVIS, LVISResults, LVISEval = lvis.LVIS, lvis.LVISResults, lvis.LVISEval
    else:
        from fastap.lvis import LVIS, LVISEval, LVISResults
    rss1 = _maxrss()
    t0 = time.perf_counter()
    gt = LVIS(gt_path)
    dt = LVISResults(gt, dt_path)
    t1 = time.perf_counter()
    ev = LVISEval(gt, dt, iou_type)
    ev.evaluate()
    t2 = time.perf_counter()
    ev.accumulate()
    ev.summarize()
    t3 = time.perf_counter()
    np.save(out_path + ".precision.npy", ev.eval["precision"])
    np.save(out_path + ".recall.npy", ev.eval["recall"])
    out = {"lib": lib, "times": {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "total": t3 - t0},
           "rss_start": rss0, "rss_imported": rss1, "rss_peak": _maxrss(),
           "results": {k: float(v).hex() for k, v in ev.results.items()}}
    with open(out_path, "w") as f:
        json.dump(out, f)


def run_child(lib, gt_path, dt_path, out_path, iou_type, threads=None):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    subprocess.run([sys.executable, "-m", "bench.lvis", "--child", lib, gt_path, dt_path, out_path, iou_type],
                   check=True, env=env, cwd=ROOT)
    with open(out_path) as f:
        return json.load(f)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--categories", type=int, default=1203)
    ap.add_argument("--dets", type=int, default=300, help="results per image (default 300)")
    ap.add_argument("--iou-type", default="bbox", choices=["bbox", "segm"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-lvis-api", action="store_true")
    ap.add_argument("--dir", default=None, help="where the files go (default: a temporary folder)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="fastap-bench-lvis-", dir=args.dir) as d:
        t = time.perf_counter()
        gt_path, dt_path, n_gt, n_dt = write_data(d, args.images, args.categories, args.dets, args.seed,
                                                  segm=args.iou_type == "segm")
        print("data: %d images, %d categories, %d ground truths, %d results (%.0f MB), iou_type %s; written in %.1f s"
              % (args.images, args.categories, n_gt, n_dt, os.path.getsize(dt_path) / 1e6, args.iou_type,
                 time.perf_counter() - t), flush=True)
        libs = ["fastap"] + ([] if args.skip_lvis_api else ["lvis-api"])
        runs = {lib: run_child(lib, gt_path, dt_path, os.path.join(d, lib + ".json"), args.iou_type, args.threads)
                for lib in libs}
        print("%-9s %9s %9s %11s %9s %10s" % ("library", "load s", "evaluate", "accum+summ", "total", "peak MB"))
        for lib, r in runs.items():
            t = r["times"]
            print("%-9s %9.2f %9.2f %11.2f %9.2f %10.0f" % (lib, t["load"], t["evaluate"], t["accumulate"],
                                                           t["total"], r["rss_peak"] / 2 ** 20))
        if "lvis-api" in runs:
            a, b = runs["fastap"], runs["lvis-api"]
            same = a["results"] == b["results"] and all(
                np.array_equal(np.load(os.path.join(d, "fastap.json.%s.npy" % k)),
                               np.load(os.path.join(d, "lvis-api.json.%s.npy" % k))) for k in ("precision", "recall"))
            ta, tb = a["times"], b["times"]
            print("fastap vs lvis-api: evaluate+accumulate %.0fx, end to end %.0fx faster; peak memory %.2fx; %s"
                  % ((tb["evaluate"] + tb["accumulate"]) / (ta["evaluate"] + ta["accumulate"]),
                     tb["total"] / ta["total"], a["rss_peak"] / b["rss_peak"],
                     "bit-identical (13 numbers, precision, recall)" if same else "DIFFER"))
            return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
