"""LVIS benchmark: fastap.lvis against lvis-api 0.5.3, hotcoco, ultrafast-pycocotools and
faster-coco-eval on generated LVIS-style files.

    python -m bench.lvis                                 # 2,000 images, 1,203 categories, 300 results each
    python -m bench.lvis --images 19809 --keep DIR       # LVIS v1 val's scale (6M results), files kept
    python -m bench.lvis --data DIR --repeat 2           # the kept files again, runs interleaved
    python -m bench.lvis --images 500 --iou-type segm
    python -m bench.lvis --peers hotcoco --skip-lvis-api

The data (fastap.synthetic.make_lvis_arrays: LVIS v1's long tail of rare / common /
frequent categories, neg_category_ids and not_exhaustive_category_ids per image; with
--edge-cases also the test suite's edge cases: ignore flags, zero areas, an annotation id
0, more than 300 results on some images with score ties at the cut) is written once as
JSON files, by a child interpreter. Each library then runs in its own interpreter, the
sequence its users write (see _steps), from the files, and reports its phase times (load;
evaluate; accumulate + summarize), its peak memory (``ru_maxrss``) and its 13 numbers
with the precision and recall arrays; the parent prints whether each library's numbers
and arrays equal lvis-api's (fastap's when lvis-api is skipped) and the ratios, and names
the fastest peer that is exact. lvis-api is run with ``np.float = float`` set first (it
uses the alias that NumPy 1.24 removed); it and faster-coco-eval keep Python dicts per
result and are skipped where they would not fit the memory. Timings are noisy on shared
machines: compare the ratios of one run.
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


def write_data(directory, n_images, n_categories, dets_per_image, seed=0, segm=False, edge_cases=True,
               score_decimals=2):
    """Generate and write ``gt.json`` / ``results.json``; returns their paths and counts."""
    from fastap import mask
    from fastap.synthetic import make_lvis_arrays
    images, cats, gt, dt = make_lvis_arrays(seed=seed, n_images=n_images, n_categories=n_categories,
                                            dets_per_image=dets_per_image, edge_cases=edge_cases,
                                            score_decimals=score_decimals)
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


PEERS = ("hotcoco", "ultrafast", "faster_coco_eval")
DISPLAY = {"fastap": "fastap", "lvis-api": "lvis-api", "hotcoco": "hotcoco", "ultrafast": "ultrafast",
           "faster_coco_eval": "faster-coco"}


def _quiet():
    """A context that swallows what a library prints on stdout (the peers print progress)."""
    import contextlib
    import io
    return contextlib.redirect_stdout(io.StringIO())


def _steps(lib, iou_type):
    """``(load, make_eval, accumulate_and_summarize, results)`` for one library, each the
    call that library's users write for LVIS's protocol:

    * lvis-api / fastap / hotcoco: ``LVIS(gt)``, ``LVISResults(gt, results)`` (the
      300-per-image cap), ``LVISEval(gt, dt, iou_type)``;
    * ultrafast-pycocotools: ``COCO(gt).loadRes(results)`` and
      ``COCOeval(gt, dt, iou_type, lvis_style=True)`` (its official protocol: the global
      300 cap, federated filtering, the ``ignore`` field);
    * faster-coco-eval: ``COCO(gt).loadRes(results)`` and
      ``COCOeval_faster(gt, dt, iou_type, lvis_style=True)`` with ``params.maxDets =
      [300]`` (its LVIS mode, as ultralytics calls it; its own documented caveat: no
      global per-image cap).

    ``results(E)`` gives the 13 numbers in lvis-api's order and the precision and
    recall arrays with lvis-api's shapes."""
    keys = ("AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf",
            "AR@300", "ARs@300", "ARm@300", "ARl@300")
    if lib in ("lvis-api", "fastap", "hotcoco"):
        if lib == "lvis-api":
            np.float = float      # lvis-api 0.5.3 uses np.float, removed in NumPy 1.24
            import logging
            import lvis as mod
            logging.getLogger("lvis").setLevel(logging.ERROR)
        elif lib == "fastap":
            import fastap.lvis as mod
        else:
            import hotcoco as mod

        def load(gt_path, dt_path):
            gt = mod.LVIS(gt_path)
            return gt, mod.LVISResults(gt, dt_path)

        def results(E):
            ev = E.eval
            r = E.results if lib != "hotcoco" else E.get_results()
            P, R = np.asarray(ev["precision"]), np.asarray(ev["recall"])    # hotcoco: a maxDets axis of 1
            return [float(r[k]) for k in keys], P.reshape(P.shape[:4]), R.reshape(R.shape[:3])
        return load, lambda gt, dt: mod.LVISEval(gt, dt, iou_type), results
    if lib == "ultrafast":
        from ultrafast_pycocotools import COCO, COCOeval

        def make_eval(gt, dt):
            return COCOeval(gt, dt, iou_type, lvis_style=True)
    elif lib == "faster_coco_eval":
        from faster_coco_eval import COCO, COCOeval_faster

        def make_eval(gt, dt):
            E = COCOeval_faster(gt, dt, iou_type, lvis_style=True)
            E.params.maxDets = [300]
            return E
    else:
        raise ValueError("unknown library %r" % lib)

    def load(gt_path, dt_path):
        gt = COCO(gt_path)
        return gt, gt.loadRes(dt_path)

    def results(E):
        if lib == "faster_coco_eval":       # its stats lack APr/c/f: read them by name
            d = E.stats_as_dict
            s = [float(d[k]) for k in ("AP_all", "AP_50", "AP_75", "AP_small", "AP_medium", "AP_large", "APr",
                                       "APc", "APf", "AR_all", "AR_small", "AR_medium", "AR_large")]
        else:                               # AP x6, APr/c/f, AR, ARs/m/l: lvis-api's order
            s = [float(v) for v in E.stats[:13]]
        ev = E.eval
        P, R = np.asarray(ev["precision"]), np.asarray(ev["recall"])
        return s, P.reshape(P.shape[:4]), R.reshape(R.shape[:3])
    return load, make_eval, results


def child(lib, gt_path, dt_path, out_path, iou_type):
    """One library's run (in its own interpreter): phase times, peak memory, numbers."""
    rss0 = _maxrss()
    try:
        load, make_eval, results = _steps(lib, iou_type)
    except ImportError as e:
        with open(out_path, "w") as f:
            json.dump({"lib": lib, "missing": str(e)}, f)
        return
    rss1 = _maxrss()
    import warnings
    warnings.simplefilter("ignore")     # faster-coco-eval warns of an annotation id 0 (--edge-cases)
    with _quiet():
        t0 = time.perf_counter()
        gt, dt = load(gt_path, dt_path)
        t1 = time.perf_counter()
        ev = make_eval(gt, dt)
        ev.evaluate()
        t2 = time.perf_counter()
        ev.accumulate()
        ev.summarize()
        t3 = time.perf_counter()
    numbers, precision, recall = results(ev)
    np.save(out_path + ".precision.npy", precision)
    np.save(out_path + ".recall.npy", recall)
    out = {"lib": lib, "times": {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "total": t3 - t0},
           "rss_start": rss0, "rss_imported": rss1, "rss_peak": _maxrss(),
           "results": [v.hex() for v in numbers]}
    with open(out_path, "w") as f:
        json.dump(out, f)


def _child_env():
    return dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p]))


def run_child(lib, gt_path, dt_path, out_path, iou_type, threads=None):
    env = _child_env()
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    subprocess.run([sys.executable, "-m", "bench.lvis", "--child", lib, gt_path, dt_path, out_path, iou_type],
                   check=True, env=env, cwd=ROOT)
    with open(out_path) as f:
        return json.load(f)


# peak memory per result measured on this benchmark's data (2,000 images, 600k results):
# lvis-api 2.2 GB and faster-coco-eval 3.1 GB grow with the results (Python dicts per
# result); at LVIS v1 val's 6M results they need 22 and 31 GB
BYTES_PER_RESULT = {"lvis-api": 3800, "faster_coco_eval": 5300}


def _mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _fits(lib, n_results):
    """Whether ``lib``'s estimated peak memory on ``n_results`` results fits 80% of the
    available memory (a library that would not is skipped, with a message, instead of
    taking the machine down)."""
    per, avail = BYTES_PER_RESULT.get(lib), _mem_available()
    if per is None or avail is None or per * n_results < 0.8 * avail:
        return True
    print("%s: skipped: it would need about %.0f GB for %d results (%.0f GB available); run it on fewer "
          "images (--images)" % (DISPLAY[lib], per * n_results / 1e9, n_results, avail / 1e9))
    return False


def _compare(d, a, b):
    """Whether run ``a`` gives run ``b``'s numbers: ``(same, text)``."""
    arrays = {k: (np.load(os.path.join(d, a["file"] + ".%s.npy" % k)), np.load(os.path.join(d, b["file"] + ".%s.npy" % k)))
              for k in ("precision", "recall")}
    shapes = all(x.shape == y.shape for x, y in arrays.values())
    same_arrays = shapes and all(np.array_equal(x, y) for x, y in arrays.values())
    if a["results"] == b["results"] and same_arrays:
        return True, "yes"
    ap = abs(float.fromhex(a["results"][0]) - float.fromhex(b["results"][0]))
    bad = sum(x != y for x, y in zip(a["results"], b["results"]))
    if not shapes:
        return False, "no: %d of 13 numbers differ, AP by %.2g; arrays of other shapes" % (bad, ap)
    dp = float(np.max(np.abs(arrays["precision"][0] - arrays["precision"][1])))
    return False, "no: %d of 13 numbers differ, AP by %.2g; precision by up to %.2g" % (bad, ap, dp)


def _table(runs, d, oracle):
    print("%-12s %8s %9s %11s %9s %9s %9s  %s" % ("library", "load s", "evaluate", "accum+summ", "eval+acc",
                                                 "total", "peak MB", "equals " + DISPLAY[oracle]))
    exact = {}
    for lib, r in runs.items():
        t = r["times"]
        same, text = (True, "(oracle)") if lib == oracle else _compare(d, r, runs[oracle])
        exact[lib] = same
        print("%-12s %8.2f %9.2f %11.2f %9.2f %9.2f %9.0f  %s" % (
            DISPLAY[lib], t["load"], t["evaluate"], t["accumulate"], t["evaluate"] + t["accumulate"], t["total"],
            r["rss_peak"] / 2 ** 20, text))
    return exact


def _ratios(runs, exact):
    a = runs["fastap"]
    ea = lambda r: r["times"]["evaluate"] + r["times"]["accumulate"]
    for lib, r in runs.items():
        if lib == "fastap":
            continue
        print("fastap vs %-12s evaluate+accumulate %6.1fx, end to end %6.1fx faster; peak memory %.2fx%s"
              % (DISPLAY[lib], ea(r) / ea(a), r["times"]["total"] / a["times"]["total"],
                 a["rss_peak"] / r["rss_peak"], "" if exact[lib] else "  (not exact)"))
    peers = [lib for lib in runs if lib in PEERS and exact[lib]]
    if peers:
        best = min(peers, key=lambda lib: ea(runs[lib]))
        best_e2e = min(peers, key=lambda lib: runs[lib]["times"]["total"])
        print("fastest exact peer: %s (evaluate+accumulate, %.1fx), %s (end to end, %.1fx)"
              % (DISPLAY[best], ea(runs[best]) / ea(a), DISPLAY[best_e2e],
                 runs[best_e2e]["times"]["total"] / a["times"]["total"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--categories", type=int, default=1203)
    ap.add_argument("--dets", type=int, default=300, help="results per image (default 300)")
    ap.add_argument("--iou-type", default="bbox", choices=["bbox", "segm"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--edge-cases", action="store_true",
                    help="add the test suite's edge cases (ignore flags, zero areas, id 0, over 300 results "
                         "with score ties at the cut); off: data shaped like LVIS v1's files")
    ap.add_argument("--score-decimals", type=int, default=4, help="scores rounded to (default 4: some ties)")
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="comma-separated peers (default: %s; '' for none)" % ",".join(PEERS))
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of fastap and of each peer, interleaved; the fastest of each is shown "
                         "(lvis-api runs once)")
    ap.add_argument("--skip-lvis-api", action="store_true")
    ap.add_argument("--dir", default=None, help="where the files go (default: a temporary folder)")
    ap.add_argument("--data", default=None,
                    help="a folder with gt.json and results.json to use instead of generating them "
                         "(write them once with --keep DIR)")
    ap.add_argument("--keep", default=None, help="write the generated gt.json and results.json to this folder")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    ap.add_argument("--write", nargs=9, help=argparse.SUPPRESS)
    ap.add_argument("--count", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.count:
        with open(args.count[0]) as f:
            ds = json.load(f)
        with open(args.count[1], "w") as f:
            json.dump([len(ds["images"]), len(ds["categories"]), len(ds["annotations"])], f)
        return 0
    if args.child:
        child(*args.child)
        return 0
    if args.write:
        w = args.write
        paths = write_data(w[0], int(w[2]), int(w[3]), int(w[4]), int(w[5]), segm=w[6] == "segm",
                           edge_cases=w[7] == "1", score_decimals=int(w[8]))
        with open(w[1], "w") as f:
            json.dump(list(paths), f)
        return 0
    with tempfile.TemporaryDirectory(prefix="fastap-bench-lvis-", dir=args.dir) as d:
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        t = time.perf_counter()
        if args.data:
            gt_path, dt_path = os.path.join(args.data, "gt.json"), os.path.join(args.data, "results.json")
            out = os.path.join(d, "counts.json")      # counted in a child too (see below)
            subprocess.run([sys.executable, "-m", "bench.lvis", "--count", gt_path, out], check=True,
                           env=_child_env(), cwd=ROOT)
            with open(out) as f:
                args.images, args.categories, n_gt = json.load(f)
            n_dt = -1
        else:
            # written by a child interpreter: Linux carries a process's peak RSS across fork
            # and exec, so a parent that held the generated data would raise every library's
            # reported peak to its own
            out = os.path.join(d, "written.json")
            subprocess.run([sys.executable, "-m", "bench.lvis", "--write", args.keep or d, out, str(args.images),
                            str(args.categories), str(args.dets), str(args.seed), args.iou_type,
                            str(int(args.edge_cases)), str(args.score_decimals)], check=True, env=_child_env(), cwd=ROOT)
            with open(out) as f:
                gt_path, dt_path, n_gt, n_dt = json.load(f)
        print("data: %d images, %d categories, %d ground truths, %s results (%.0f MB), iou_type %s%s; "
              "ready in %.1f s" % (args.images, args.categories, n_gt, n_dt if n_dt >= 0 else "the file's",
                                   os.path.getsize(dt_path) / 1e6,
                                     args.iou_type, ", edge cases" if args.edge_cases else "",
                                     time.perf_counter() - t), flush=True)
        n_est = n_dt if n_dt >= 0 else os.path.getsize(dt_path) // 95      # about 95 bytes per result
        peers = [p.strip() for p in args.peers.split(",") if p.strip() and _fits(p.strip(), n_est)]
        runs = {}
        for k in range(max(1, args.repeat)):
            for lib in ["fastap"] + peers:
                name = "%s-%d.json" % (lib, k)
                r = run_child(lib, gt_path, dt_path, os.path.join(d, name), args.iou_type, args.threads)
                if "missing" in r:
                    print("%s: not installed (%s); skipped" % (DISPLAY.get(lib, lib), r["missing"]))
                    peers.remove(lib)
                    continue
                r["file"] = name
                if lib not in runs or r["times"]["total"] < runs[lib]["times"]["total"]:
                    runs[lib] = r
        if not args.skip_lvis_api and _fits("lvis-api", n_est):
            r = run_child("lvis-api", gt_path, dt_path, os.path.join(d, "lvis-api.json"), args.iou_type)
            if "missing" in r:
                print("lvis-api: not installed (%s); numbers compared with fastap's" % r["missing"])
            else:
                r["file"] = "lvis-api.json"
                runs["lvis-api"] = r
        oracle = "lvis-api" if "lvis-api" in runs else "fastap"
        exact = _table(runs, d, oracle)
        _ratios(runs, exact)
        return 0 if exact["fastap"] else 1


if __name__ == "__main__":
    sys.exit(main())
