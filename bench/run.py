"""Compare fastap with its peers: one run, the same generated files, one child per library.

    python -m bench [--scale coco_val2017] [--repeat 3] [--slow-repeat 1]
                    [--libs fastap,pycocotools,faster_coco_eval,hotcoco,ultrafast,reference]
                    [--threads N] [--skip-slow] [--json OUT] [--markdown]

See ``bench/README.md`` for what each column means and how memory is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench import adapters
from bench.data import BIG_SCALES, REPO_ROOT, SCALES, data_paths, default_data_dir, ensure_data

PHASES = ("load", "evaluate", "accumulate", "summarize")
THREAD_VARS = ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "FASTAP_NUM_THREADS")
ARRAY_NAMES = ("precision", "recall", "scores")
REF_CACHE = "pycocotools-ref"   # pycocotools' results cached next to the data


def log(msg=""):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# machine
# --------------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    try:
        import numpy
        npv = numpy.__version__
    except ImportError:
        npv = None
    return dict(
        cpu_model=cpu_model(), cpu_count=os.cpu_count(), cpus_usable=usable,
        memory_bytes=mem, platform=platform.platform(), python=platform.python_version(),
        python_implementation=platform.python_implementation(), numpy=npv,
        loadavg=os.getloadavg() if hasattr(os, "getloadavg") else None,
    )


# --------------------------------------------------------------------------------------
# running the children
# --------------------------------------------------------------------------------------

def run_child(lib, gt, dt, arrays_dir, repeat, warmup, env, timeout):
    out_path = os.path.join(arrays_dir, "%s.json" % lib)
    cmd = [sys.executable, "-m", "bench._child", lib, gt, dt, out_path, arrays_dir,
           str(repeat), str(warmup)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        err = (e.stderr or b"").decode(errors="replace")
        return dict(lib=lib, status="error", reason="timed out after %s s" % timeout,
                    stderr=err[-4000:], child_wall_s=time.perf_counter() - t0)
    err = p.stderr.decode(errors="replace")
    if err.strip():
        for line in err.rstrip().splitlines()[-40:]:
            log("  [%s stderr] %s" % (lib, line))
    res = None
    if os.path.exists(out_path):
        with open(out_path) as f:
            res = json.load(f)
    if p.returncode != 0 or res is None:
        reason = "exit status %d" % p.returncode
        if p.returncode < 0:
            reason = "killed by signal %d%s" % (-p.returncode,
                                                " (out of memory?)" if p.returncode == -9 else "")
        tail = err.strip().splitlines()[-1] if err.strip() else ""
        return dict(lib=lib, status="error", reason=reason + (": " + tail if tail else ""),
                    stderr=err[-4000:], child_wall_s=time.perf_counter() - t0)
    res["stderr"] = err[-4000:] if err.strip() else ""
    res["child_wall_s"] = time.perf_counter() - t0
    return res


def summarize_runs(res):
    """Median per phase and per total over the repeats."""
    runs = res["runs"]

    def med(vals):
        return statistics.median(vals)

    m = {ph: med([r["wall"][ph] for r in runs]) for ph in PHASES}
    m["eval_acc"] = med([r["wall"]["evaluate"] + r["wall"]["accumulate"] for r in runs])
    m["end_to_end"] = med([r["wall"]["load"] + r["wall"]["evaluate"] + r["wall"]["accumulate"]
                           for r in runs])
    cpu = {ph: med([r["cpu"][ph] for r in runs]) for ph in PHASES}
    cpu["eval_acc"] = med([r["cpu"]["evaluate"] + r["cpu"]["accumulate"] for r in runs])
    cpu["end_to_end"] = med([r["cpu"]["load"] + r["cpu"]["evaluate"] + r["cpu"]["accumulate"]
                             for r in runs])
    res["median_s"] = m
    res["median_cpu_s"] = cpu
    res["rss_delta_bytes"] = res["rss_peak_bytes"] - res["rss_baseline_bytes"]
    return res


# --------------------------------------------------------------------------------------
# correctness vs pycocotools
# --------------------------------------------------------------------------------------

def load_reference(results, data_dir, save_cache=True):
    """pycocotools' stats and arrays: from this run, else from the data dir's cache."""
    import numpy as np
    cache = os.path.join(data_dir, REF_CACHE)
    r = results.get("pycocotools")
    if r and r.get("status") == "ok":
        ref = dict(source="this run", version=r.get("version"), stats=r["stats"],
                   arrays={k: np.load(p) for k, p in r.get("arrays", {}).items()})
        if save_cache:
            try:
                os.makedirs(cache, exist_ok=True)
                for k, a in ref["arrays"].items():
                    np.save(os.path.join(cache, k + ".npy"), a)
                with open(os.path.join(cache, "stats.json"), "w") as f:
                    json.dump(dict(version=ref["version"], stats=ref["stats"]), f)
            except OSError:
                pass
        return ref
    path = os.path.join(cache, "stats.json")
    if os.path.exists(path):
        with open(path) as f:
            st = json.load(f)
        arrays = {}
        for k in ARRAY_NAMES:
            p = os.path.join(cache, k + ".npy")
            if os.path.exists(p):
                arrays[k] = np.load(p)
        return dict(source="cached from an earlier run (%s)" % cache, version=st.get("version"),
                    stats=st["stats"], arrays=arrays)
    return None


def max_abs_diff(a, b):
    import numpy as np
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return None, False, "shape %s vs %s" % (a.shape, b.shape)
    if a.size == 0:
        return 0.0, True, None
    same = bool(np.array_equal(a, b, equal_nan=True))
    with np.errstate(invalid="ignore"):
        d = np.abs(a - b)
    nan_mismatch = bool((np.isnan(a) != np.isnan(b)).any())
    d = float(np.nanmax(d)) if not np.isnan(d).all() else 0.0
    return d, same, ("NaN positions differ" if nan_mismatch else None)


def compare(res, ref):
    import numpy as np
    c = {}
    if ref is None:
        c["stats_identical"] = None
        return c
    d, same, note = max_abs_diff(res["stats"], ref["stats"])
    c.update(stats_identical=same, stats_max_abs_diff=d, stats_note=note)
    for k in ARRAY_NAMES:
        p = res.get("arrays", {}).get(k)
        if p is None or k not in ref["arrays"]:
            continue
        d, same, note = max_abs_diff(np.load(p), ref["arrays"][k])
        c[k + "_identical"] = same
        c[k + "_max_abs_diff"] = d
        if note:
            c[k + "_note"] = note
    return c


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------

def fmt_s(x):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 1:
        return "%.2f" % x
    if x >= 0.001:
        return "%.3f" % x
    return "<0.001"


def fmt_x(x):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0fx" % x
    if x >= 10:
        return "%.1fx" % x
    return "%.2fx" % x


def fmt_mib(b):
    return "-" if b is None else "%.0f" % (b / 2 ** 20)


def fmt_diff(d):
    if d is None:
        return "-"
    return "0" if d == 0 else "%.1e" % d


def ratio(num, den):
    if num is None or den is None or den <= 0:
        return None
    return num / den


def render(headers, rows, markdown, right=None):
    right = right if right is not None else [i > 0 for i in range(len(headers))]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join(("---:" if r else ":---") for r in right) + "|"]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        return "\n".join(lines)
    w = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
         for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join((str(c).rjust(w[i]) if right[i] else str(c).ljust(w[i]))
                         for i, c in enumerate(cells))
    out = [line(headers), "  ".join("-" * x for x in w)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def identical_cell(c):
    if not c or c.get("stats_identical") is None:
        return "n/a"
    s = "yes" if c["stats_identical"] else "NO (max diff %s)" % fmt_diff(c.get("stats_max_abs_diff"))
    if "precision_identical" in c:
        s += "; precision " + ("identical" if c["precision_identical"]
                               else "max diff " + fmt_diff(c.get("precision_max_abs_diff")))
    return s


def build_report(report, markdown=False):
    out = []
    m = report["machine"]
    meta = report["data"]
    out.append("machine: %s, %s CPUs (%s usable), %s GiB RAM, %s" % (
        m["cpu_model"], m["cpu_count"], m["cpus_usable"],
        "%.0f" % (m["memory_bytes"] / 2 ** 30) if m.get("memory_bytes") else "?", m["platform"]))
    out.append("python %s, numpy %s; load average at start %s" % (
        m["python"], m["numpy"],
        "/".join("%.2f" % x for x in m["loadavg"]) if m.get("loadavg") else "?"))
    vers = ["%s %s" % (adapters.DISPLAY[k], r.get("version") or "?")
            for k, r in report["results"].items() if r.get("status") == "ok"]
    if vers:
        out.append("versions: " + ", ".join(vers))
    out.append("threads: %s" % report["threads"])
    out.append("iou type: %s" % meta.get("iou_type", "bbox"))
    out.append("data: scale %s (seed %d): %d images, %d categories, %d ground truths, %d detections "
               "(gt.json %.1f MB, results.json %.1f MB) in %s" % (
                   meta["scale"], meta["seed"], meta["n_images"], meta["n_categories"], meta["n_gt"],
                   meta["n_dt"], meta["gt_bytes"] / 1e6, meta["results_bytes"] / 1e6,
                   report["data_dir"]))
    out.append("repeats: %d (fast libraries), %d (pycocotools, fastap.reference); median per phase"
               % (report["repeat"], report["slow_repeat"])
               + (", %d warm-up" % report["warmup"] if report["warmup"] else ""))
    ref = report.get("reference_source")
    if ref:
        out.append("exactness checked against pycocotools %s" % ref)
    out.append("")

    res = report["results"]
    ok = {k: r for k, r in res.items() if r.get("status") == "ok"}
    pyc = ok.get("pycocotools")
    refimpl = ok.get("reference")

    headers = ["library", "load", "evaluate", "accumulate", "summarize", "eval+acc",
               "end-to-end", "peak RSS MiB above baseline (raw)", "stats == pycocotools",
               "x pycoco e+a", "x pycoco e2e", "x ref e+a", "x ref e2e", "mem / pycoco"]
    rows = []
    for k, r in res.items():
        name = adapters.DISPLAY[k]
        if r.get("status") != "ok":
            rows.append([name] + ["-"] * 7 + [r.get("status", "?") + " (see below)"] + ["-"] * 5)
            continue
        ms = r["median_s"]
        acc = fmt_s(ms["accumulate"]) if r.get("has_accumulate", True) else "(in eval)"
        rows.append([
            name, fmt_s(ms["load"]), fmt_s(ms["evaluate"]), acc, fmt_s(ms["summarize"]),
            fmt_s(ms["eval_acc"]), fmt_s(ms["end_to_end"]),
            "%s (%s)" % (fmt_mib(r["rss_delta_bytes"]), fmt_mib(r["rss_peak_bytes"])),
            identical_cell(r.get("compare")),
            fmt_x(ratio(pyc["median_s"]["eval_acc"], ms["eval_acc"])) if pyc else "-",
            fmt_x(ratio(pyc["median_s"]["end_to_end"], ms["end_to_end"])) if pyc else "-",
            fmt_x(ratio(refimpl["median_s"]["eval_acc"], ms["eval_acc"])) if refimpl else "-",
            fmt_x(ratio(refimpl["median_s"]["end_to_end"], ms["end_to_end"])) if refimpl else "-",
            "%.2f" % ratio(r["rss_delta_bytes"], pyc["rss_delta_bytes"])
            if pyc and pyc["rss_delta_bytes"] > 0 else "-",
        ])
    right = [False] + [True] * 7 + [False] + [True] * 5
    out.append(render(headers, rows, markdown, right))
    out.append("")
    out.append(("Times in seconds, wall clock, median over the repeats. eval+acc = COCOeval(gt, dt, '%s') + "
                "evaluate() + accumulate(); end-to-end = load (COCO(gt.json) + loadRes(results.json)) + "
                "eval+acc; summarize is not in either total.") % meta.get("iou_type", "bbox"))
    out.append("Peak RSS: ru_maxrss of the library's own child process minus its value right after "
               "`import numpy` + the library (the baseline); the raw ru_maxrss in parentheses.")
    out.append("'x pycoco' / 'x ref' = pycocotools' / fastap.reference's time divided by this row's "
               "(higher = faster), for eval+acc (e+a) and end-to-end (e2e); mem / pycoco = this row's "
               "above-baseline peak divided by pycocotools'.")

    fa = ok.get("fastap")
    peers = {k: r for k, r in ok.items() if k in adapters.PEERS}
    if fa and peers:
        out.append("")
        for key, label in (("eval_acc", "evaluate+accumulate"), ("end_to_end", "end to end from files"),
                           ("load", "load")):
            best = min(peers, key=lambda k: peers[k]["median_s"][key])
            out.append("fastap vs the fastest peer, %s: %s (%s %s s vs fastap %s s)" % (
                label, fmt_x(ratio(peers[best]["median_s"][key], fa["median_s"][key])),
                adapters.DISPLAY[best], fmt_s(peers[best]["median_s"][key]),
                fmt_s(fa["median_s"][key])))
        lean = min(peers, key=lambda k: peers[k]["rss_delta_bytes"])
        out.append("fastap peak memory above baseline: %s MiB; leanest peer %s: %s MiB" % (
            fmt_mib(fa["rss_delta_bytes"]), adapters.DISPLAY[lean], fmt_mib(peers[lean]["rss_delta_bytes"])))

    # detailed exactness
    rows = []
    for k, r in ok.items():
        c = r.get("compare") or {}
        if c.get("stats_identical") is None:
            continue
        rows.append([adapters.DISPLAY[k], "yes" if c["stats_identical"] else "NO",
                     fmt_diff(c.get("stats_max_abs_diff")),
                     fmt_diff(c.get("precision_max_abs_diff")) if "precision_identical" in c else "n/a",
                     fmt_diff(c.get("recall_max_abs_diff")) if "recall_identical" in c else "n/a",
                     fmt_diff(c.get("scores_max_abs_diff")) if "scores_identical" in c else "n/a"])
    if rows:
        out.append("")
        out.append("exactness vs pycocotools (max abs difference; 0 = bit-identical):")
        out.append(render(["library", "12 stats identical", "stats", "eval['precision']",
                           "eval['recall']", "eval['scores']"], rows, markdown))
    skipped = [(k, r) for k, r in res.items() if r.get("status") != "ok"]
    if skipped:
        out.append("")
        for k, r in skipped:
            out.append("%s %s: %s" % (adapters.DISPLAY[k], r.get("status"), r.get("reason")))
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="coco_val2017", choices=SCALES,
                    help="fastap.synthetic scale (default coco_val2017)")
    ap.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="repeats for the fast libraries; median reported (default 3)")
    ap.add_argument("--slow-repeat", type=int, default=1,
                    help="repeats for pycocotools and fastap.reference (default 1)")
    ap.add_argument("--warmup", type=int, default=0,
                    help="unmeasured runs before the repeats, in the same child (default 0)")
    ap.add_argument("--libs", default=",".join(adapters.LIBS),
                    help="comma-separated, in order (default: %(default)s)")
    ap.add_argument("--skip-slow", action="store_true",
                    help="skip pycocotools and fastap.reference at scales %s" % "/".join(BIG_SCALES))
    ap.add_argument("--threads", type=int, default=None,
                    help="set OMP_NUM_THREADS, RAYON_NUM_THREADS and FASTAP_NUM_THREADS for the "
                         "children (default: leave the environment alone = all cores)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds after which a library's child is killed (default: none)")
    ap.add_argument("--data-dir", default=None,
                    help="where generated data is cached (default $FASTAP_BENCH_DATA or %s)"
                         % default_data_dir())
    ap.add_argument("--results-as", choices=("file", "list"), default="file",
                    help="give loadRes the results file's path (default), or the list json.load reads "
                         "from it (timed in the load; what an in-process evaluator passes)")
    ap.add_argument("--json", dest="json_out", default=None, help="write everything to this file")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--keep-arrays", default=None, metavar="DIR",
                    help="keep the children's .npy arrays and result files in DIR")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.repeat < 1 or args.slow_repeat < 1 or args.warmup < 0:
        log("--repeat and --slow-repeat must be >= 1, --warmup >= 0")
        return 2
    try:
        libs = [adapters.canonical(x) for x in args.libs.split(",") if x.strip()]
    except ValueError as e:
        log(str(e))
        return 2
    libs = list(dict.fromkeys(libs))
    # pycocotools first: it is what everything is compared with
    if "pycocotools" in libs:
        libs.remove("pycocotools")
        libs.insert(0, "pycocotools")

    gt, dt, meta = ensure_data(args.scale, args.seed, args.data_dir, log=log)
    data_dir = data_paths(args.scale, args.seed, args.data_dir)[0]

    env = dict(os.environ)
    if args.threads is not None:
        for k in THREAD_VARS:
            env[k] = str(args.threads)
        threads = "%d (%s set for the children)" % (args.threads, ", ".join(THREAD_VARS))
    else:
        inherited = {k: env[k] for k in THREAD_VARS if k in env}
        threads = ("default: all cores (%s)" % os.cpu_count() if not inherited else
                   "inherited from the environment: " + ", ".join("%s=%s" % kv for kv in inherited.items()))
    # the children import bench from the repository root; keep fastap's build there importable
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["FASTAP_BENCH_IOU_TYPE"] = meta.get("iou_type", "bbox")
    env["FASTAP_BENCH_RESULTS"] = args.results_as

    machine = machine_info()
    log("machine: %s, %s CPUs; python %s; threads: %s" % (machine["cpu_model"], machine["cpu_count"],
                                                           machine["python"], threads))
    log("data: %s, %d images, %d gt, %d dets; results given to loadRes as %s"
        % (args.scale, meta["n_images"], meta["n_gt"], meta["n_dt"],
           "a list (json.load, timed in the load)" if args.results_as == "list" else "the file's path"))

    work = args.keep_arrays or tempfile.mkdtemp(prefix="fastap-bench-")
    os.makedirs(work, exist_ok=True)
    results = {}
    try:
        for lib in libs:
            slow = lib in adapters.SLOW
            if args.skip_slow and slow and args.scale in BIG_SCALES:
                results[lib] = dict(lib=lib, status="skipped",
                                    reason="--skip-slow at scale %s" % args.scale)
                log("%-22s skipped (--skip-slow at scale %s)" % (adapters.DISPLAY[lib], args.scale))
                continue
            n = args.slow_repeat if slow else args.repeat
            log("%-22s running (%d repeat%s) ..." % (adapters.DISPLAY[lib], n, "s" if n > 1 else ""))
            r = run_child(lib, gt, dt, work, n, args.warmup, env, args.timeout)
            if r.get("status") == "ok":
                summarize_runs(r)
                ms = r["median_s"]
                log("%-22s load %s s, eval+acc %s s, end-to-end %s s, peak RSS +%s MiB (%s MiB)" % (
                    adapters.DISPLAY[lib], fmt_s(ms["load"]), fmt_s(ms["eval_acc"]),
                    fmt_s(ms["end_to_end"]), fmt_mib(r["rss_delta_bytes"]), fmt_mib(r["rss_peak_bytes"])))
            else:
                log("%-22s %s: %s" % (adapters.DISPLAY[lib], r.get("status"), r.get("reason")))
            results[lib] = r

        ref = load_reference(results, data_dir)
        for lib, r in results.items():
            if r.get("status") == "ok":
                r["compare"] = compare(r, ref)
        report = dict(
            argv=sys.argv[1:] if argv is None else list(argv), time=time.strftime("%Y-%m-%d %H:%M:%S"),
            machine=machine, threads=threads, data=meta, data_dir=data_dir, scale=args.scale,
            repeat=args.repeat, slow_repeat=args.slow_repeat, warmup=args.warmup,
            reference_source=(ref["source"] + (" (pycocotools %s)" % ref["version"] if ref.get("version") else ""))
            if ref else None,
            results=results,
        )
        text = build_report(report, markdown=args.markdown)
        print(text)
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(report, f, indent=1, default=str)
            log("wrote %s" % args.json_out)
    finally:
        if not args.keep_arrays:
            shutil.rmtree(work, ignore_errors=True)
    # exit status 1 when fastap (or its reference) failed or is not exact; peers only get reported
    ours = [r for k, r in results.items() if k in ("fastap", "reference")]
    bad = [r for r in ours if r.get("status") == "error"
           or (r.get("status") == "ok" and (r.get("compare") or {}).get("stats_identical") is False)]
    return 1 if bad else 0
