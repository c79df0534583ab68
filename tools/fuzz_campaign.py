"""A fuzz campaign of a given length over every fuzz target, under ASan + UBSan.

    python tools/fuzz_campaign.py --minutes 30 [--jobs 2] [--out DIR] [--targets T ...]

Targets: the C targets of the JSON reader (tests/fuzz/fuzz_json_*.c: results, annotations,
rle, numbers; built as standalone programs with gcc -fsanitize=address,undefined) and the
Python-level targets of tests/fuzz/pyfuzz.py (mask, evaluate, coco_objects, results,
annotations, npz, yolo, voc_xml, voc_results; run in child interpreters against fastap built
with the sanitizers, the runtimes LD_PRELOADed, PYTHONMALLOC=malloc). The time is shared
equally between the targets; --jobs of them run at once. Each starts from its committed
corpus (tests/fuzz/corpus/<target>/) and, for the C targets, the shared fixtures when
../shared/fuzz-corpus/_fixtures exists.

Written under --out (default build/fuzz-campaign-<time>/):
  crashes/<target>/<sha1>.bin   inputs that crashed, raised a sanitizer report, ran over
                                the time limit or failed a self-check;
  unclear/<target>/<sha1>.bin   Python targets: the first input of each signature of an
                                exception that is neither fastap's nor documented;
  new/<target>/<sha1>.bin       Python targets: inputs with an outcome not seen before in
                                their run (candidates for the corpus);
  report.json, report.txt       per target: inputs executed, failures (with the
                                sanitizer's report), unclear exceptions;
  build/, c/                    the sanitizer builds (kept, to replay with).
The exit status is 1 when any target had a failure. Replay one input:
    python tests/fuzz/pyfuzz.py replay <target> FILE          (Python targets)
    build/.../c/fuzz_json_<target> -n 0 FILE                 (C targets)
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
import pyfuzz  # noqa: E402

CSRC = os.path.join(ROOT, "csrc")
FUZZ = os.path.join(ROOT, "tests", "fuzz")
FIXTURES = os.path.join(ROOT, "..", "shared", "fuzz-corpus", "_fixtures")
C_TARGETS = {"results": ([], "dt_*.json"), "annotations": ([], "gt_*.json"),
             "rle": (["rle.c"], None), "numbers": ([], None)}
C_FLAGS = ["-std=c99", "-O1", "-g", "-DFASTAP_FUZZ_STANDALONE", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
C_ENV = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:allocator_may_return_null=1",
         "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}


def build_c(name, dest):
    """The standalone sanitizer build of the C target `name` (tests/fuzz/fuzz_json_<name>.c)."""
    cc = os.environ.get("CC", "gcc")
    exe = os.path.join(dest, "fuzz_json_" + name)
    srcs = [os.path.join(FUZZ, "fuzz_json_%s.c" % name)] + sorted(glob.glob(os.path.join(CSRC, "json_*.c"))) + \
        [os.path.join(CSRC, s) for s in C_TARGETS[name][0]]
    r = subprocess.run([cc, *C_FLAGS, "-I", CSRC, "-I", FUZZ, *srcs, "-lm", "-o", exe],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("building %s failed:\n%s" % (exe, r.stderr[-4000:]))
    return exe


def run_c(name, exe, seconds, seed, out):
    """Run a C target for `seconds` (restarting it with another seed after a crash)."""
    res = {"target": "c:" + name, "executed": 0, "runs": 0, "failures": [], "unclear": {}, "counts": {}}
    seeds = [os.path.join(pyfuzz.CORPUS, name)]
    if C_TARGETS[name][1] and os.path.isdir(FIXTURES):
        seeds += sorted(glob.glob(os.path.join(FIXTURES, C_TARGETS[name][1])))
    current = os.path.join(out, "current-c-%s.bin" % name)
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds - 1:
        left = int(seconds - (time.monotonic() - t0))
        run_seed = "%d%03d" % (seed, res["runs"])
        res["runs"] += 1
        p = subprocess.run([exe, "-n", str(10 ** 15), "-s", str(max(left, 1)), "-r", run_seed, "-c", current,
                            *seeds], capture_output=True, text=True, env=dict(os.environ, **C_ENV),
                           timeout=left + 600)
        m = re.search(r"(\d+) inputs executed", p.stdout)
        if p.returncode == 0 and m:
            res["executed"] += int(m.group(1))
            continue
        with open(current, "rb") as f:
            data = f.read()
        res["failures"].append({"kind": pyfuzz._crash_kind(p.returncode, p.stderr), "i": -1, "input": data,
                                "saved": pyfuzz._save(out, "crashes", "c_" + name, data),
                                "stderr": pyfuzz._excerpt(p.stderr), "seed": run_seed})
    return res


def _schedule(targets, minutes, jobs):
    """Seconds per target: the campaign's wall time times the jobs, shared equally."""
    return minutes * 60.0 * jobs / len(targets)


def _summary(results, started, minutes, seed, out):
    lines = ["fuzz campaign: %d targets, %.1f minutes wall (asked %g), seed %d, out %s"
             % (len(results), (time.time() - started) / 60, minutes, seed, out)]
    total_fail = 0
    for res in results:
        total_fail += len(res["failures"])
        lines += pyfuzz.format_report(res)
    lines.append("TOTAL: %d inputs, %d failures (crashes, sanitizer reports, timeouts, failed checks), "
                 "%d unclear exception signatures"
                 % (sum(r["executed"] for r in results), total_fail, sum(len(r["unclear"]) for r in results)))
    return lines, total_fail


def _to_json(results):
    out = []
    for r in results:
        r = dict(r)
        r["failures"] = [{k: v for k, v in f.items() if k != "input"} for f in r["failures"]]
        r["unclear"] = {k: {kk: vv for kk, vv in u.items() if kk != "input"} for k, u in r["unclear"].items()}
        out.append(r)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0,
                    help="wall-clock length of the campaign (after the builds)")
    ap.add_argument("--jobs", type=int, default=1, help="targets run at once")
    ap.add_argument("--out", help="output folder (default build/fuzz-campaign-<time>)")
    ap.add_argument("--seed", type=int, default=None, help="default: the time (each campaign new inputs)")
    ap.add_argument("--targets", nargs="*", help="e.g. c:results py:mask (default: all)")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else int(time.time()) % 1000000
    out = os.path.abspath(a.out or os.path.join(ROOT, "build", "fuzz-campaign-%d" % int(time.time())))
    os.makedirs(os.path.join(out, "c"), exist_ok=True)
    targets = a.targets or ["c:" + t for t in C_TARGETS] + ["py:" + t for t in pyfuzz.FASTAP_TARGETS]
    started = time.time()
    print("building the sanitizer builds ...", flush=True)
    exes = {t[2:]: build_c(t[2:], os.path.join(out, "c")) for t in targets if t.startswith("c:")}
    env, dest = pyfuzz.sanitized_env(os.path.join(out, "build"), opt="-O1",
                                     log=os.path.join(out, "build.log"))
    started = time.time()                       # the campaign's time does not count the builds
    per = _schedule(targets, a.minutes, a.jobs)
    print("%d targets, %.0f s each, %d at once; fastap under test: %s" % (len(targets), per, a.jobs, dest),
          flush=True)

    def one(t):
        t0 = time.time()
        if t.startswith("c:"):
            res = run_c(t[2:], exes[t[2:]], per, seed, out)
        else:
            res = pyfuzz.run_target(t[3:], seconds=per, seed=seed, env=env, out_dir=out, report_new=True)
            res["target"] = t
        print("%s done in %.0f s: %d inputs, %d failures, %d unclear" % (
            t, time.time() - t0, res["executed"], len(res["failures"]), len(res["unclear"])), flush=True)
        return res

    with ThreadPoolExecutor(a.jobs) as ex:
        results = list(ex.map(one, targets))
    lines, failures = _summary(results, started, a.minutes, seed, out)
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump({"seed": seed, "minutes": a.minutes, "targets": _to_json(results)}, f, indent=1)
    print("\n".join(lines))
    print("replay a Python input under the sanitizers: PYTHONPATH=%s LD_PRELOAD='%s' PYTHONMALLOC=malloc "
          "ASAN_OPTIONS=%s python tests/fuzz/pyfuzz.py replay TARGET FILE"
          % (dest, env["LD_PRELOAD"], env["ASAN_OPTIONS"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
