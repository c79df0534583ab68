"""Scale benchmark: fastap.Evaluator on generated data of 100,000 or 1,000,000 images
x 100 detections (COCO-like: 80 categories, ~7.3 ground truths per image), fed shard by
shard, with the peak RSS of the process; optionally the same images split into M
partial states (saved to .npz, as workers would send them), merged, and checked bit for
bit against the single evaluation.

    python -m bench.scale --images 100000 [--shard 10000] [--merge 8] [--threads N]
"""
import argparse
import os
import resource
import tempfile
import time

import numpy as np


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def shard(s, size, cats, seed0=100):
    from fastap.synthetic import make_arrays
    _, _, gt, dt = make_arrays(n_images=size, categories=cats, gt_per_image=7.3, dets_per_image=100,
                               seed=seed0 + s, first_image_id=s * size + 1)
    gt["id"] = gt["id"] + s * size * 100
    gt.pop("ignore")
    return gt, dt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=100000)
    ap.add_argument("--shard", type=int, default=10000, help="images per update (default 10000)")
    ap.add_argument("--merge", type=int, default=0, help="also split into this many partial states and merge")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    import fastap
    n_shards = (args.images + args.shard - 1) // args.shard
    cats = np.arange(1, 81)
    t0 = time.perf_counter()
    parts = [shard(s, args.shard, cats)[0] for s in range(n_shards)]
    gt = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    del parts
    t_gen = time.perf_counter() - t0
    n_gt = gt["image_id"].shape[0]
    base_rss = rss_mib()
    print("images %d, ground truths %d, detections %d (%d shards of %d images); ground truth generated in %.1f s, "
          "RSS so far %.0f MiB" % (args.images, n_gt, args.images * 100, n_shards, args.shard, t_gen, base_rss))

    ev = fastap.Evaluator(gt, num_threads=args.threads, flush_images=args.shard)
    ev.params.imgIds = list(range(1, n_shards * args.shard + 1))     # images without ground truth too
    t_update = 0.0
    n_dt = 0
    for s in range(n_shards):
        dt = shard(s, args.shard, cats)[1]
        n_dt += dt["image_id"].shape[0]
        t = time.perf_counter()
        ev.update(dt)
        t_update += time.perf_counter() - t
        del dt
    t = time.perf_counter()
    state_bytes = ev.nbytes()
    res = ev.compute()
    t_compute = time.perf_counter() - t
    print("update %.1f s (matching included), compute %.1f s; state %.0f MiB = %.1f bytes per detection; "
          "peak RSS %.0f MiB; AP %.4f" % (t_update, t_compute, state_bytes / 2 ** 20, state_bytes / n_dt,
                                            rss_mib(), res.map))
    if args.merge:
        want = {k: getattr(res, k) for k in ("precision", "recall", "scores", "stats")}
        del res
        ev.reset()
        tmp = tempfile.mkdtemp(prefix="fastap-scale-")
        paths = []
        t = time.perf_counter()
        groups = np.array_split(np.arange(n_shards), args.merge)
        for j, group in enumerate(groups):
            part = ev.fresh()
            for s in group.tolist():
                part.update(shard(s, args.shard, cats)[1])
            paths.append(os.path.join(tmp, "state%d.npz" % j))
            part.save(paths[-1])
            del part
        t_parts = time.perf_counter() - t
        t = time.perf_counter()
        merged = fastap.Evaluator.merge_all([fastap.Evaluator.load(p) for p in paths[::-1]])
        got = merged.compute()
        t_merge = time.perf_counter() - t
        same = all(np.array_equal(getattr(got, k), want[k]) for k in want)
        print("%d partial states of %s images: built and saved in %.1f s (%.0f MiB on disk); loaded, merged "
              "(in reverse order) and computed in %.1f s; identical to the single evaluation: %s; peak RSS %.0f MiB"
              % (args.merge, "/".join(str(len(g) * args.shard) for g in groups), t_parts, sum(os.path.getsize(p) for p in paths) / 2 ** 20,
                 t_merge, same, rss_mib()))
        for p in paths:
            os.remove(p)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
