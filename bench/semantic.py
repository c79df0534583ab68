"""Semantic segmentation benchmark: fastap's C confusion matrix against the NumPy
definition (fastap.reference.semantic_confusion: per image ``np.bincount(K*gt + pred)``
over the valid pixels, summed -- mmsegmentation's IoUMetric arithmetic).

    python -m bench.semantic                           # 100 maps of 512 x 1024, 19 classes
    python -m bench.semantic --images 500 --height 1024 --width 2048      # Cityscapes val
    python -m bench.semantic --images 200 --height 512 --width 512 --classes 150
    python -m bench.semantic --logits                 # predictions as float32 scores [N, C, H, W]

The label maps are generated Cityscapes-like (regions of one class, predictions wrong along
shifted borders and in patches, 5% of the ground truth ignore_index 255), uint8, and fed in
batches of --batch maps. Both paths must give the same integer matrix (checked); the
ratio of the medians of --repeat runs is printed. Timings are noisy on shared machines:
compare the ratios of one run.
"""
import argparse

import numpy as np

from bench.timing import median_time
from fastap import reference
from fastap.semantic import SemanticEvaluator


def make_maps(n, h, w, k, seed=0):
    """uint8 ground truth and prediction [n, h, w]: blocks of 32 x 32 pixels of one class,
    the prediction shifted by 5 pixels with 2% of its blocks replaced."""
    rng = np.random.default_rng(seed)
    bh, bw = -(-h // 32), -(-w // 32)
    low = rng.integers(0, k, (n, bh, bw), dtype=np.uint8)
    gt = np.repeat(np.repeat(low, 32, axis=1), 32, axis=2)[:, :h, :w]
    noise = np.where(rng.random((n, bh, bw)) < 0.02, rng.integers(0, k, (n, bh, bw), dtype=np.uint8), low)
    pred = np.roll(np.repeat(np.repeat(noise, 32, axis=1), 32, axis=2)[:, :h, :w], 5, axis=2)
    gt = np.ascontiguousarray(gt)
    gt[rng.random((n, h, w)) < 0.05] = 255
    return gt, np.ascontiguousarray(pred)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.semantic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--classes", type=int, default=19)
    ap.add_argument("--batch", type=int, default=10, help="maps per update (default 10)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--logits", action="store_true", help="predictions as float32 scores [N, C, H, W] "
                    "(one batch at a time is generated from the labels; the NumPy path takes np.argmax)")
    args = ap.parse_args(argv)
    n, K, B = args.images, args.classes, args.batch
    gt, pred = make_maps(n, args.height, args.width, K)
    print("bench.semantic: %d maps of %d x %d, %d classes, batches of %d%s"
          % (n, args.height, args.width, K, B, ", float32 scores" if args.logits else ""))

    def scores(i):
        s = np.zeros((min(B, n - i), K, args.height, args.width), np.float32)
        np.put_along_axis(s, pred[i:i + B, None].astype(np.int64), 1.0, axis=1)
        return s

    batches = [(scores(i) if args.logits else pred[i:i + B], gt[i:i + B]) for i in range(0, n, B)]

    def run_fastap():
        ev = SemanticEvaluator(K, num_threads=args.threads)
        for p, g in batches:
            ev.update(p, g)
        return ev.confusion

    def run_numpy():
        total = np.zeros((K, K), np.int64)
        for p, g in batches:
            labels = np.argmax(p, axis=1) if args.logits else p
            total += reference.semantic_confusion(labels, g, K)
        return total

    t_fa, c_fa = median_time(run_fastap, args.repeat)
    t_np, c_np = median_time(run_numpy, args.repeat)
    same = np.array_equal(c_fa, c_np)
    mpix = n * args.height * args.width / 1e6
    print("  fastap (C)          %8.3f s  %8.1f Mpixel/s" % (t_fa, mpix / t_fa))
    print("  NumPy bincount      %8.3f s  %8.1f Mpixel/s" % (t_np, mpix / t_np))
    print("  fastap is %.1fx the NumPy bincount; confusion matrices %s"
          % (t_np / t_fa, "identical" if same else "DIFFER"))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
