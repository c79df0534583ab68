"""GPU IoU benchmark: fastap.box_iou on CUDA arrays against torchvision.ops.box_iou, a
CuPy broadcasting expression and fastap's CPU path, for n = m boxes.

    python -m bench.gpu_iou [--sizes 1000,10000,30000] [--dtype float32|float64]
                            [--dense] [--repeat 5] [--cpu-30k] [--markdown] [--assign]

Each row: median time of --repeat calls after one warm-up (the device synchronized
around each call), the bytes of the n x m result written per second, and on a GPU that
rate against the device's peak memory bandwidth (memory clock x bus width x 2 for DDR,
from the device's attributes). Boxes are fastap.synthetic.make_boxes: detector-like
boxes in a 1333 x 800 image (about 1 pair in 8 overlaps), or with --dense a crowd scene
where every pair overlaps. Results are checked against the CPU path (fastap's GPU path:
bitwise) where the CPU ran.

Without a CUDA device (or without CuPy) only the CPU rows run (1k and 10k; 30k only with
--cpu-30k: its float64 result takes 7.2 GB), and the script says so and exits 0.

--assign adds ``fastap.assign`` on the device (Matcher(0.7, 0.3, allow_low_quality_matches=
True) and SSDMatcher(0.5)): a batch of 16 images with 100k shared anchors and ragged ground
truth (10 to 90 per image, ``bench.iou_scale``'s data) and 30k x 30k, against torchvision's
per-image ``Matcher(box_iou(gt, anchors))`` on the device where torchvision imports with
CUDA, and fastap's CPU path; the matches are checked equal to the CPU path's.
"""
import argparse
import statistics
import sys
import time

import numpy as np


def _median_time(fn, sync, repeat):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_bandwidth(cp):
    """Peak memory bandwidth of the current device in bytes/s, or None: memory clock
    (kHz) x bus width (bits) / 8 x 2 (double data rate)."""
    dev = cp.cuda.Device().id
    try:
        props = cp.cuda.runtime.getDeviceProperties(dev)
        clock_khz, bus_bits = props["memoryClockRate"], props["memoryBusWidth"]
    except Exception:
        try:         # cudaDevAttrMemoryClockRate = 36, cudaDevAttrGlobalMemoryBusWidth = 37
            clock_khz = cp.cuda.runtime.deviceGetAttribute(36, dev)
            bus_bits = cp.cuda.runtime.deviceGetAttribute(37, dev)
        except Exception:
            return None
    if not clock_khz or not bus_bits:
        return None
    return clock_khz * 1e3 * bus_bits / 8 * 2


def cupy_broadcast_iou(cp, a, b):
    """IoU of corner boxes as one CuPy broadcasting expression (the usual hand-written
    baseline; n x m x 2 temporaries)."""
    lt = cp.maximum(a[:, None, :2], b[None, :, :2])
    rb = cp.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = cp.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def _is_oom(e):
    return "out of memory" in str(e).lower() or type(e).__name__ in ("OutOfMemoryError",)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,30000", help="n = m values, comma-separated")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                    help="box and result dtype on the GPU (the CPU path always returns float64)")
    ap.add_argument("--dense", action="store_true", help="crowd scene: every pair overlaps")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cpu-30k", action="store_true", help="also time the CPU path above 10k boxes")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--assign", action="store_true", help="also fastap.assign on the device (see above)")
    args = ap.parse_args(argv)

    import fastap
    from fastap import cuda
    from fastap.synthetic import make_boxes

    sizes = [int(s) for s in args.sizes.split(",")]
    gpu = cuda.is_available()
    cp = torch = tv = None
    peak = None
    if gpu:
        import cupy as cp
        dev = cp.cuda.Device()
        name = cp.cuda.runtime.getDeviceProperties(dev.id)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        peak = peak_bandwidth(cp)
        print("device %d: %s, peak memory bandwidth %s" % (dev.id, name, "%.0f GB/s" % (peak / 1e9) if peak else "unknown"))
        try:
            import torch
            import torchvision
            tv = torchvision.ops.box_iou if torch.cuda.is_available() else None
        except ImportError:
            torch = tv = None
        if tv is None:
            print("torchvision (with CUDA) not installed: its rows are skipped")
    else:
        print("no CUDA device (or CuPy not installed: pip install 'fastap[cuda]'): GPU rows "
              "skipped, CPU rows only")
    print("boxes: fastap.synthetic.make_boxes(%s), xyxy; median of %d"
          % ("dense=True" if args.dense else "detector-like", args.repeat))

    rows = []

    def row(n, impl, dtype, t, note=""):
        nbytes = n * n * np.dtype(dtype).itemsize if t else 0
        bw = nbytes / t if t else None
        rows.append(dict(n=n, impl=impl, dtype=dtype, t=t, bw=bw, note=note,
                         peak=(bw / peak if (bw and peak and impl != "fastap CPU") else None)))

    for n in sizes:
        a_h = make_boxes(n, seed=1, dtype=args.dtype, dense=args.dense)
        b_h = make_boxes(n, seed=2, dtype=args.dtype, dense=args.dense)
        cpu_res = None
        if n <= 10000 or args.cpu_30k:
            t = _median_time(lambda: fastap.box_iou(a_h, b_h, num_threads=args.threads), lambda: None,
                             max(1, min(args.repeat, 3)))
            cpu_res = fastap.box_iou(a_h, b_h, num_threads=args.threads)
            row(n, "fastap CPU", "float64", t, "%s threads" % (args.threads or "all"))
        if not gpu:
            continue
        a, b = cp.asarray(a_h), cp.asarray(b_h)
        sync = cp.cuda.Device().synchronize
        res = {}

        def run_fastap():
            res["fastap"] = fastap.box_iou(a, b)
        t = _median_time(run_fastap, sync, args.repeat)
        note = ""
        if cpu_res is not None:
            same = np.array_equal(cp.asnumpy(res["fastap"]), cpu_res.astype(args.dtype))
            note = "bitwise = CPU" if same else "DIFFERS from CPU"
        row(n, "fastap CUDA", args.dtype, t, note)
        out = cp.empty((n, n), dtype=args.dtype)
        t = _median_time(lambda: fastap.box_iou(a, b, out=out), sync, args.repeat)
        row(n, "fastap CUDA out=", args.dtype, t)
        del res["fastap"], out
        if tv is not None:
            ta, tb = torch.as_tensor(a_h, device="cuda"), torch.as_tensor(b_h, device="cuda")
            try:
                t = _median_time(lambda: tv(ta, tb), torch.cuda.synchronize, args.repeat)
                row(n, "torchvision.ops.box_iou", args.dtype, t)
            except Exception as e:
                if not _is_oom(e):
                    raise
                row(n, "torchvision.ops.box_iou", args.dtype, None, "out of memory")
            del ta, tb
            torch.cuda.empty_cache()
        try:
            t = _median_time(lambda: cupy_broadcast_iou(cp, a, b), sync, args.repeat)
            row(n, "CuPy broadcasting", args.dtype, t)
        except Exception as e:
            if not _is_oom(e):
                raise
            row(n, "CuPy broadcasting", args.dtype, None, "out of memory")
        cp.get_default_memory_pool().free_all_blocks()

    _print_rows(rows, args.markdown)
    if args.assign and gpu:
        assign_rows(cp, tv is not None, args)
    return 0


def _print_rows(rows, markdown):
    """The table of the box_iou rows (markdown or plain)."""
    tv_time = {r["n"]: r["t"] for r in rows if r["impl"] == "torchvision.ops.box_iou" and r["t"]}
    head = ["n = m", "implementation", "result dtype", "time ms", "GB/s written", "% of peak",
            "x torchvision", "note"]
    lines = []
    for r in rows:
        lines.append(["%d" % r["n"], r["impl"], r["dtype"],
                      "%.3f" % (r["t"] * 1e3) if r["t"] else "-",
                      ("%.1f" if r["bw"] < 1e11 else "%.0f") % (r["bw"] / 1e9) if r["bw"] else "-",
                      "%.0f%%" % (100 * r["peak"]) if r["peak"] else "-",
                      "%.1fx" % (tv_time[r["n"]] / r["t"]) if (r["t"] and r["n"] in tv_time) else "-",
                      r["note"]])
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(":---" if i < 3 or i == 7 else "---:" for i in range(len(head))) + "|")
        for ln in lines:
            print("| " + " | ".join(ln) + " |")
    else:
        widths = [max(len(h), *(len(ln[i]) for ln in lines)) if lines else len(h) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for ln in lines:
            print("  ".join(c.ljust(w) for c, w in zip(ln, widths)))


def assign_rows(cp, with_torchvision, args):
    """fastap.assign on the device against torchvision's per-image Matcher on the device
    and fastap's CPU path: the batch case (16 x 100k anchors x ragged gt) and 30k x 30k."""
    import fastap
    from bench.iou_scale import RULES, case_data
    sync = cp.cuda.Device().synchronize
    print("\nfastap.assign on the device (%s boxes); median of %d" % (args.dtype, args.repeat))
    print("%-7s %-16s %-28s %10s  %s" % ("rule", "case", "implementation", "time ms", "note"))
    for case, n in (("batch", 100000), ("square", 30000)):
        anchors, gts = case_data(case, n, args.dtype)
        da, dg = cp.asarray(anchors), [cp.asarray(g) for g in gts]
        label = "16 x 100k x ~50" if case == "batch" else "30k x 30k"
        for op, (high, low, allow) in RULES.items():
            kw = dict(low=None if op == "ssd" else low, allow_low_quality_matches=allow,
                      rule="ssd" if op == "ssd" else "matcher")
            res = {}

            def run():
                res["m"] = fastap.assign(da, dg, high, **kw)[0]
            t = _median_time(run, sync, args.repeat)
            t_cpu = _median_time(lambda: fastap.assign(anchors, gts, high, num_threads=args.threads, **kw),
                                 lambda: None, 1)
            want = fastap.assign(anchors, gts, high, **kw)[0]
            same = np.array_equal(cp.asnumpy(res["m"]), want)
            print("%-7s %-16s %-28s %10.3f  %s" % (op, label, "fastap CUDA", t * 1e3,
                                                   "matches = CPU" if same else "MATCHES DIFFER FROM CPU"))
            print("%-7s %-16s %-28s %10.3f" % (op, label, "fastap CPU", t_cpu * 1e3))
            if with_torchvision:
                _torchvision_assign_row(anchors, gts, op, high, low, allow, label, args, want)


def _torchvision_assign_row(anchors, gts, op, high, low, allow, label, args, want):
    import torch
    from torchvision.ops import box_iou
    from bench.iou_scale import torch_matcher
    ta = torch.as_tensor(anchors, device="cuda")
    tg = [torch.as_tensor(g, device="cuda") for g in gts]
    m = torch_matcher(torch, high, low, allow, op == "ssd")
    res = {}

    def run():
        res["m"] = [m(box_iou(g, ta)) for g in tg]
    try:
        t = _median_time(run, torch.cuda.synchronize, args.repeat)
    except Exception as e:
        if not _is_oom(e):
            raise
        print("%-7s %-16s %-28s %10s  out of memory" % (op, label, "torchvision Matcher (CUDA)", "-"))
        return
    same = all(np.array_equal(x.cpu().numpy(), w) for x, w in zip(res["m"], want))
    print("%-7s %-16s %-28s %10.3f  %s" % (op, label, "torchvision Matcher (CUDA)", t * 1e3,
                                           "matches = fastap" if same else "matches differ from fastap"))
    del res
    torch.cuda.empty_cache()


if __name__ == "__main__":
    sys.exit(main())
