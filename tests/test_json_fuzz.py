"""C-level fuzzing of the JSON reader (csrc/json_*.c) and the generated table it uses.

Each target in tests/fuzz/ (results file, annotation file, RLE segmentation value, number
array) is built with gcc (or $CC) and -fsanitize=address,undefined
-fno-sanitize-recover=all as a standalone program (-DFASTAP_FUZZ_STANDALONE: it replays
its built-in seeds -- valid files and hostile snippets, and the regressions of crashes
found -- plus the committed corpus tests/fuzz/corpus/<target>/ and the small fixtures of
../shared/fuzz-corpus/_fixtures when present, then runs a deterministic mutation loop) and
must exit 0 after executing exactly the inputs it was asked for. Where a clang with libFuzzer is found, each target is also run under libFuzzer
for a bounded number of inputs (a bonus: the gcc run always happens). The whole module
takes well under a minute on two cores. Same by hand, e.g.:

    gcc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \\
        -DFASTAP_FUZZ_STANDALONE -Icsrc -Itests/fuzz tests/fuzz/fuzz_json_results.c \\
        csrc/json_*.c -lm -o /tmp/fz && /tmp/fz -n 20000 tests/fuzz/corpus/results
    clang -fsanitize=fuzzer,address,undefined -Icsrc -Itests/fuzz \\
        tests/fuzz/fuzz_json_results.c csrc/json_*.c -lm -o /tmp/fz && /tmp/fz -max_total_time=60 \\
        tests/fuzz/corpus/results
A campaign of a given length over these and the Python-level targets: tools/fuzz_campaign.py.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CSRC = os.path.join(ROOT, "csrc")
FUZZ = os.path.join(HERE, "fuzz")
FIXTURES = os.path.join(ROOT, "..", "shared", "fuzz-corpus", "_fixtures")
CORPUS = os.path.join(FUZZ, "corpus")         # committed: tests/fuzz/corpus/<target>/

# target -> (extra C sources, fixture files to replay as seeds)
TARGETS = {
    "results": ([], "dt_*.json"),
    "annotations": ([], "gt_*.json"),
    "rle": ([os.path.join(CSRC, "rle.c")], None),
    "numbers": ([], None),
}
ITERATIONS = 100000         # mutated inputs per target (each: well under 5 s with the sanitizers)
LIBFUZZER_RUNS = 20000
SAN = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def _json_sources():
    return sorted(glob.glob(os.path.join(CSRC, "json_*.c")))


def _works(cc, flags, tmp, main="int main(void){return 0;}\n"):
    probe = os.path.join(tmp, "probe_%d.c" % abs(hash((cc, tuple(flags)))))
    with open(probe, "w") as f:
        f.write(main)
    return subprocess.run([cc, *flags, probe, "-o", probe[:-2]], capture_output=True).returncode == 0


def _seeds(name, pattern):
    """The committed corpus of a target, plus the shared fixtures when present."""
    corpus = sorted(glob.glob(os.path.join(CORPUS, name, "*")))
    if not pattern or not os.path.isdir(FIXTURES):
        return corpus
    return corpus + sorted(glob.glob(os.path.join(FIXTURES, pattern)))


@pytest.fixture(scope="module")
def gcc_builds(tmp_path_factory):
    """The standalone targets, built with gcc (or $CC) and the sanitizers when available."""
    tmp = str(tmp_path_factory.mktemp("json_fuzz_gcc"))
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler on PATH")
    flags = ["-std=c99", "-O1", "-g", "-DFASTAP_FUZZ_STANDALONE"]
    if _works(cc, SAN, tmp):
        flags += SAN
    else:
        sys.stderr.write("%s has no ASan/UBSan runtime: fuzzing without sanitizers\n" % cc)
    inc = ["-I", CSRC, "-I", FUZZ]
    srcs = _json_sources() + [os.path.join(CSRC, "rle.c")]

    def obj(src):
        o = os.path.join(tmp, os.path.basename(src)[:-2] + ".o")
        r = subprocess.run([cc, *flags, "-Wall", "-Wextra", *inc, "-c", src, "-o", o],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return o

    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as ex:
        objs = dict(zip(srcs, ex.map(obj, srcs)))

    def link(name):
        extra, _ = TARGETS[name]
        exe = os.path.join(tmp, "fuzz_json_" + name)
        r = subprocess.run([cc, *flags, "-Wall", "-Wextra", *inc,
                            os.path.join(FUZZ, "fuzz_json_%s.c" % name),
                            *[objs[s] for s in _json_sources() + extra], "-lm", "-o", exe],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return exe

    with ThreadPoolExecutor(2) as ex:
        return dict(zip(TARGETS, ex.map(link, TARGETS)))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target_gcc(gcc_builds, name):
    """Replay the seeds and ITERATIONS mutated inputs under ASan+UBSan: exit 0, all run."""
    seeds = _seeds(name, TARGETS[name][1])
    assert len(seeds) >= 10, "the committed corpus of %s is missing" % name
    run = subprocess.run([gcc_builds[name], "-n", str(ITERATIONS), *seeds], capture_output=True,
                         text=True, env=ENV, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    replayed = int(re.search(r"(\d+) seeds replayed", out).group(1))
    executed = int(re.search(r"(\d+) inputs executed", out).group(1))
    assert replayed >= len(seeds) + 5, out
    assert executed == replayed + ITERATIONS, out


def _clang_with_libfuzzer(tmp):
    names = [os.environ.get("FASTAP_FUZZ_CLANG"), "clang"] + ["clang-%d" % v for v in range(20, 13, -1)]
    main = ("#include <stdint.h>\n#include <stddef.h>\n"
            "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n){(void)d;(void)n;return 0;}\n")
    for name in names:
        cc = name and shutil.which(name)
        if cc and _works(cc, ["-fsanitize=fuzzer,address,undefined"], tmp, main):
            return cc
    return None


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target_libfuzzer(tmp_path, name):
    """The same target under libFuzzer (coverage-guided), where clang has it."""
    cc = _clang_with_libfuzzer(str(tmp_path))
    if not cc:
        pytest.skip("no clang with libFuzzer (the gcc run covers the target)")
    exe = str(tmp_path / ("lf_" + name))
    extra, pattern = TARGETS[name]
    build = subprocess.run([cc, "-O1", "-g", "-fsanitize=fuzzer,address,undefined",
                            "-fno-sanitize-recover=all", "-I", CSRC, "-I", FUZZ,
                            os.path.join(FUZZ, "fuzz_json_%s.c" % name), *_json_sources(), *extra,
                            "-lm", "-o", exe], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, s in enumerate(_seeds(name, pattern)):
        shutil.copy(s, corpus / ("%d_%s" % (i, os.path.basename(s))))
    run = subprocess.run([exe, "-runs=%d" % LIBFUZZER_RUNS, "-seed=1", "-max_len=4096",
                          "-rss_limit_mb=1024", "-artifact_prefix=%s/" % tmp_path, str(corpus)],
                         capture_output=True, text=True, env=ENV, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    assert re.search(r"Done %d runs" % LIBFUZZER_RUNS, out), out[-2000:]


def test_pow5_table_is_generated(tmp_path):
    """csrc/json_pow5_table.h is what tools/gen_pow5_table.py writes, byte for byte."""
    out = tmp_path / "table.h"
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_pow5_table.py"), str(out)],
                   check=True)
    with open(os.path.join(CSRC, "json_pow5_table.h"), "rb") as f:
        assert out.read_bytes() == f.read()
