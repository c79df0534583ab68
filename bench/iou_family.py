"""IoU family benchmark (CPU): fastap.box_iou(kind=...) against torchvision's
generalized_box_iou / distance_box_iou / complete_box_iou (and box_iou for kind="iou").

    python -m bench.iou_family [--n 2000] [--m 2000] [--repeat 5] [--threads N] [--aligned]
                               [--assign]

Boxes: fastap.synthetic.make_boxes-like detector boxes (xyxy, float32 and float64). Each
row: median of --repeat calls after a warm-up, fastap with all threads (or --threads) and
with one, torchvision with torch's threads (torch.get_num_threads()), and the ratio
torchvision / fastap. --aligned adds the elementwise variant (n pairs a[i], b[i]; torchvision
through its batch dimension, boxes [n, 1, 4]). --assign adds fastap.assign (100k anchors x 50
ground truths, Faster R-CNN's RPN rule Matcher(0.7, 0.3, allow_low_quality_matches=True))
against torchvision's box_iou + Matcher (or the same torch operations). torchvision.ops is used where it imports; otherwise (a CUDA build of
torchvision beside a CPU torch, or none) the same torch operations in the same order,
written out below, and the row says "torch ops".
"""
import argparse

import numpy as np

from bench.timing import warm_median


def _median(fn, repeat):
    return warm_median(fn, repeat)


def torch_family(torch):
    """{kind: f(boxes1, boxes2)}: torchvision.ops' functions, or their torch operations."""
    try:
        from torchvision import ops
        return {"iou": ops.box_iou, "giou": ops.generalized_box_iou, "diou": ops.distance_box_iou,
                "ciou": ops.complete_box_iou}, "torchvision"
    except Exception:
        pass

    def inter_union(b1, b2):
        area1 = (b1[..., 2] - b1[..., 0]) * (b1[..., 3] - b1[..., 1])
        area2 = (b2[..., 2] - b2[..., 0]) * (b2[..., 3] - b2[..., 1])
        wh = (torch.min(b1[..., None, 2:], b2[..., None, :, 2:])
              - torch.max(b1[..., None, :2], b2[..., None, :, :2])).clamp(min=0)
        inter = wh[..., 0] * wh[..., 1]
        return inter, area1[..., None] + area2[..., None, :] - inter

    def enclosing(b1, b2):
        return (torch.max(b1[..., None, 2:], b2[..., None, :, 2:])
                - torch.min(b1[..., None, :2], b2[..., None, :, :2])).clamp(min=0)

    def iou(b1, b2):
        inter, union = inter_union(b1, b2)
        return inter / union

    def giou(b1, b2):
        inter, union = inter_union(b1, b2)
        whi = enclosing(b1, b2)
        areai = whi[..., 0] * whi[..., 1]
        return inter / union - (areai - union) / areai

    def diou_iou(b1, b2, eps=1e-7):
        u = iou(b1, b2)
        whi = enclosing(b1, b2)
        diag = (whi[..., 0] ** 2) + (whi[..., 1] ** 2) + eps
        xp, yp = (b1[..., 0] + b1[..., 2]) / 2, (b1[..., 1] + b1[..., 3]) / 2
        xg, yg = (b2[..., 0] + b2[..., 2]) / 2, (b2[..., 1] + b2[..., 3]) / 2
        d = ((xp[..., None] - xg[..., None, :]) ** 2) + ((yp[..., None] - yg[..., None, :]) ** 2)
        return u - d / diag, u

    def ciou(b1, b2, eps=1e-7):
        d, u = diou_iou(b1, b2, eps)
        wp, hp = b1[..., None, 2] - b1[..., None, 0], b1[..., None, 3] - b1[..., None, 1]
        wg, hg = b2[..., None, :, 2] - b2[..., None, :, 0], b2[..., None, :, 3] - b2[..., None, :, 1]
        v = (4 / (torch.pi ** 2)) * torch.pow(torch.atan(wp / hp) - torch.atan(wg / hg), 2)
        return d - v / (1 - u + v + eps) * v

    return {"iou": iou, "giou": giou, "diou": lambda a, b: diou_iou(a, b)[0], "ciou": ciou}, "torch ops"


def torch_matcher(torch):
    """torchvision's Matcher(0.7, 0.3, True) on box_iou(gt, anchors), or its torch operations."""
    try:
        from torchvision.models.detection._utils import Matcher
        from torchvision.ops import box_iou
        m = Matcher(0.7, 0.3, True)
        return lambda anchors, gt: m(box_iou(gt, anchors))
    except Exception:
        pass
    fam, _ = torch_family(torch)

    def run(anchors, gt):
        q = fam["iou"](gt, anchors)
        vals, matches = q.max(dim=0)
        all_matches = matches.clone()
        matches[vals < 0.3] = -1
        matches[(vals >= 0.3) & (vals < 0.7)] = -2
        highest, _ = q.max(dim=1)
        preds = torch.where(q == highest[:, None])[1]
        matches[preds] = all_matches[preds]
        return matches
    return run


def bench_assign(fastap, torch, rng, nt, repeat):
    anchors, gt = make_boxes(rng, 100000), make_boxes(rng, 50)
    t_fa = _median(lambda: fastap.assign(anchors, gt, 0.7, 0.3, True, num_threads=nt), repeat)
    t_1 = _median(lambda: fastap.assign(anchors, gt, 0.7, 0.3, True, num_threads=1), repeat)
    t_tv = float("nan")
    if torch is not None:
        run, ta, tg = torch_matcher(torch), torch.from_numpy(anchors), torch.from_numpy(gt)
        assert np.array_equal(run(ta, tg).numpy(), fastap.assign(anchors, gt, 0.7, 0.3, True)[0])
        t_tv = _median(lambda: run(ta, tg), repeat)
    print("%-5s %-8s %-8s %12.2f %12.2f %12.2f %8.1f" % ("assign", "float64", "100k x 50", t_fa * 1e3,
                                                       t_1 * 1e3, t_tv * 1e3, t_tv / t_fa))


def make_boxes(rng, n):
    """Detector-like xyxy boxes in a 1333 x 800 image."""
    wh = np.exp(rng.uniform(np.log(8), np.log(400), size=(n, 2)))
    xy = rng.uniform(0, 1, size=(n, 2)) * (np.array([1333, 800]) - wh)
    return np.concatenate([xy, xy + wh], axis=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--m", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--aligned", action="store_true", help="also the elementwise variant (n pairs)")
    ap.add_argument("--assign", action="store_true", help="also fastap.assign against torchvision's Matcher")
    args = ap.parse_args(argv)
    import fastap
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    a, b = make_boxes(rng, args.n), make_boxes(rng, args.m)
    fam, tv_name = torch_family(torch) if torch is not None else ({}, "-")
    nt = fastap._core.thread_count(args.threads)
    print("IoU family, %d x %d boxes; fastap threads: %d; %s: %s (torch threads %s)"
          % (args.n, args.m, nt, "torchvision" if tv_name == "torchvision" else "torchvision's ops",
             tv_name, torch.get_num_threads() if torch is not None else "-"))
    print("%-5s %-8s %-8s %12s %12s %12s %8s" % ("kind", "dtype", "shape", "fastap ms", "fastap 1t ms",
                                                   "torch ms", "ratio"))
    for dtype in (np.float32, np.float64):
        x, y = a.astype(dtype), b.astype(dtype)
        tx = torch.from_numpy(x) if torch is not None else None
        ty = torch.from_numpy(y) if torch is not None else None
        for kind in ("iou", "giou", "diou", "ciou"):
            for aligned in ((False, True) if args.aligned else (False,)):
                yy, tyy = (x[::-1].copy(), torch.from_numpy(x[::-1].copy())) if aligned else (y, ty)
                t_fa = _median(lambda: fastap.box_iou(x, yy, kind=kind, aligned=aligned, num_threads=nt),
                               args.repeat)
                t_1 = _median(lambda: fastap.box_iou(x, yy, kind=kind, aligned=aligned, num_threads=1),
                              args.repeat)
                t_tv = float("nan")
                if fam and not aligned:
                    t_tv = _median(lambda: fam[kind](tx, tyy), args.repeat)
                elif fam:           # elementwise through torchvision's batch dimension: [n, 1, 4]
                    t_tv = _median(lambda: fam[kind](tx[:, None], tyy[:, None]), args.repeat)
                print("%-5s %-8s %-8s %12.2f %12.2f %12.2f %8.1f"
                      % (kind, np.dtype(dtype).name, "aligned" if aligned else "n x m", t_fa * 1e3,
                         t_1 * 1e3, t_tv * 1e3, t_tv / t_fa))
    if args.assign:
        bench_assign(fastap, torch, rng, nt, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
