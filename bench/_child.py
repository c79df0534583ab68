"""One library's benchmark, in its own interpreter (started by ``bench.run``).

    python -m bench._child LIB GT_PATH RESULTS_PATH OUT_JSON ARRAYS_DIR REPEAT [WARMUP]

Writes ``OUT_JSON``: status ("ok" / "skipped"), per-repeat phase times (wall and
process CPU), ``ru_maxrss`` before any import, after ``numpy`` + the library are
imported (the baseline), and at the end (the peak), the 12 stats of the first
measured repeat; and ``<ARRAYS_DIR>/<LIB>.<name>.npy`` for the library's
``eval['precision'|'recall'|'scores']``. The library's stdout goes to /dev/null (at
the file-descriptor level, so prints from C/Rust code go too); stderr is kept.
"""

import gc
import json
import os
import platform
import resource
import sys
import time


def maxrss_bytes():
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return int(r) if sys.platform == "darwin" else int(r) * 1024


def _write(path, obj):
    with open(path + ".part", "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(path + ".part", path)


def main(argv):
    lib, gt_path, dt_path, out_path, arrays_dir, repeat = argv[:6]
    repeat = int(repeat)
    warmup = int(argv[6]) if len(argv) > 6 else 0
    rss_start = maxrss_bytes()

    # silence stdout for the whole run (C/Rust prints included); keep stderr
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)

    out = dict(lib=lib, pid=os.getpid(), python=platform.python_version(),
               rss_start_bytes=rss_start,
               threads_env={k: os.environ.get(k) for k in
                            ("OMP_NUM_THREADS", "RAYON_NUM_THREADS", "FASTAP_NUM_THREADS")})
    import numpy as np
    out["numpy"] = np.__version__
    from bench import adapters
    try:
        ad = adapters.get_adapter(lib)
    except adapters.NotImportable as e:
        out.update(status="skipped", reason="not importable: %s" % e)
        _write(out_path, out)
        return 0
    out.update(version=ad.version, module_file=ad.module_file, has_accumulate=ad.has_accumulate)
    gc.collect()
    out["rss_baseline_bytes"] = maxrss_bytes()

    runs = []
    for i in range(warmup + repeat):
        wall, cpu = {}, {}

        def mark(phase, t0, c0):
            wall[phase] = time.perf_counter() - t0
            cpu[phase] = time.process_time() - c0

        t0, c0 = time.perf_counter(), time.process_time()
        gt, dt = ad.load(gt_path, dt_path)
        mark("load", t0, c0)
        t0, c0 = time.perf_counter(), time.process_time()
        E = ad.make_eval(gt, dt)
        ad.evaluate(E)
        mark("evaluate", t0, c0)
        t0, c0 = time.perf_counter(), time.process_time()
        ad.accumulate(E)
        mark("accumulate", t0, c0)
        t0, c0 = time.perf_counter(), time.process_time()
        ad.summarize(E)
        mark("summarize", t0, c0)
        if i >= warmup:
            runs.append(dict(wall=wall, cpu=cpu, rss_after_bytes=maxrss_bytes()))
        if i == warmup:  # first measured repeat: keep the results
            out["stats"] = ad.stats(E)
            files = {}
            for name, arr in ad.arrays(E).items():
                p = os.path.join(arrays_dir, "%s.%s.npy" % (lib, name))
                np.save(p, arr)
                files[name] = p
            out["arrays"] = files
        del E, gt, dt
        gc.collect()

    out["runs"] = runs
    out["rss_peak_bytes"] = maxrss_bytes()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_total_s"] = ru.ru_utime + ru.ru_stime
    out["status"] = "ok"
    _write(out_path, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
