"""Checks of the built distributions, run by .ci/run on the artefacts it built.

Each check needs an environment variable naming what to inspect, and is skipped without
it (a plain ``python -m pytest`` of a checkout skips them all):

* ``FASTAP_WHEEL``: a built wheel. It holds no C source (Cython's generated
  ``fastap/_core.c`` is 5 MB) and at most ``MAX_WHEEL_BYTES`` once unpacked, and its
  extension carries no debug information.
* ``FASTAP_SDIST``: a built sdist, with ``FASTAP_SOURCE_ROOT`` the git checkout it was
  built from. It holds every file that git tracks (but the top level's dot-files and
  dot-folders: .ci/, .github/, .gitignore), so every file the tests read, and nothing built: no generated C, no compiled extension, no bytecode.
* ``FASTAP_TESTED_FROM``: the folder the suite runs from (an unpacked sdist). The tests
  must import the installed fastap, not a source folder there; installed, with its
  bytecode, it takes at most ``MAX_WHEEL_BYTES``.
"""
import os
import subprocess
import sys
import tarfile
import zipfile

import pytest

#: The unpacked wheel's size limit (it was 16 MB with _core.c and debug information). 4 MB
#: held the COCO / VOC evaluator (3.6 MB installed); LVIS, semantic and panoptic metrics,
#: the IoU family and rotated IoU took the installed package (with pip's bytecode) to 4.9
#: MB: 2.1 MB of extension, 0.8 MB of Python and its bytecode, 0.6 MB of the demo data.
MAX_WHEEL_BYTES = 6 * 1000 * 1000

#: Tracked files that are not for the sdist: the top level's dot-folders and dot-files
#: (CI configuration: .ci/, .github/; git's own: .gitignore).
NOT_IN_SDIST_PREFIX = "."

#: File endings of build products, never in a distribution's source files.
BUILT = (".so", ".pyd", ".dylib", ".dll", ".o", ".obj", ".pyc", ".pyo")


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.skip("%s is not set (set by .ci/run after building the distributions)" % name)
    return value


def _elf_section_names(data):
    """Section names of a 64-bit little-endian ELF image, or None for anything else."""
    import struct
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    str_off, str_size = headers[shstrndx][4], headers[shstrndx][5]
    table = data[str_off:str_off + str_size]
    return [table[h[0]:table.index(b"\0", h[0])].decode() for h in headers]


def test_elf_section_reader():
    """The reader above finds the sections of this interpreter's own binary (Linux)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("ELF only")
    with open(os.path.realpath(sys.executable), "rb") as f:
        names = _elf_section_names(f.read())
    assert names is not None and ".text" in names and ".shstrtab" in names


def test_wheel_has_no_c_source_and_is_small():
    path = _env("FASTAP_WHEEL")
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        c_files = [n for n in names if n.endswith((".c", ".cpp", ".o", ".obj"))]
        assert not c_files, "the wheel ships C sources or objects: %s" % c_files
        assert not [n for n in names if n.endswith((".pyc", ".pyo"))]
        total = sum(i.file_size for i in infos)
        biggest = sorted(infos, key=lambda i: -i.file_size)[:5]
        assert total <= MAX_WHEEL_BYTES, "wheel unpacks to %d bytes (limit %d); largest: %s" % (
            total, MAX_WHEEL_BYTES, [(i.filename, i.file_size) for i in biggest])
        exts = [i for i in infos if i.filename.startswith("fastap/_core.") and i.filename.endswith((".so", ".pyd"))]
        assert len(exts) == 1, names
        assert "fastap/_cuda_src/box_iou.cu" in names and "fastap/_cuda_src/iou_pair.h" in names
        assert "fastap/_cuda_src/rotated_iou.cu" in names and "fastap/_cuda_src/rotated_pair.h" in names
        sections = _elf_section_names(z.read(exts[0]))
    if sections is not None:
        debug = [s for s in sections if s.startswith((".debug", ".zdebug"))]
        assert not debug, "the extension carries debug information: %s" % debug


def test_sdist_holds_every_tracked_file_and_nothing_built():
    path = _env("FASTAP_SDIST")
    root = _env("FASTAP_SOURCE_ROOT")
    try:
        tracked = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                                 capture_output=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip("git ls-files failed in %s: %s" % (root, e))
    tracked = [t for t in tracked if t and not t.startswith(NOT_IN_SDIST_PREFIX)]
    assert "tests/data/formats/toy_yolo/image_sizes.csv" in tracked
    with tarfile.open(path) as t:
        members = [m.name.split("/", 1)[1] for m in t.getmembers() if m.isfile() and "/" in m.name]
    have = set(members)
    missing = [f for f in tracked if f not in have]
    assert not missing, "tracked files missing from the sdist (see MANIFEST.in): %s" % missing
    built = [m for m in members if m.endswith(BUILT) or "/__pycache__/" in "/" + m]
    assert not built, "build products in the sdist: %s" % built
    generated = [m for m in members if m.startswith("fastap/") and m.endswith((".c", ".cpp"))]
    assert not generated, "generated C in the sdist: %s" % generated
    stray = [m for m in members if m.split("/")[0] in ("build", "dist", ".pytest_cache", ".hypothesis")
             or m.startswith("docs/_build/")]
    assert not stray, stray


def test_tests_import_the_installed_package():
    where = os.path.realpath(_env("FASTAP_TESTED_FROM"))
    import fastap
    import fastap._core
    pkg = os.path.realpath(os.path.dirname(fastap.__file__))
    assert not (pkg + os.sep).startswith(where + os.sep), "fastap imported from %s, inside %s" % (pkg, where)
    assert os.path.dirname(os.path.realpath(fastap._core.__file__)) == pkg
    assert any(pkg.startswith(os.path.realpath(p) + os.sep) for p in sys.path if p.endswith(("site-packages", "dist-packages"))), \
        "fastap imported from %s, not from a site-packages folder" % pkg


def test_installed_size():
    """The installed package, with the bytecode pip compiles at install time, stays within
    the wheel's limit too."""
    _env("FASTAP_TESTED_FROM")
    import fastap
    pkg = os.path.dirname(os.path.realpath(fastap.__file__))
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(pkg) for f in files)
    assert total <= MAX_WHEEL_BYTES, "fastap takes %d bytes installed in %s (limit %d)" % (total, pkg, MAX_WHEEL_BYTES)
