"""A style rule a reader can rely on, checked on the source: no function longer than
120 lines in the C kernels, the Cython binding, the Python package, the benchmarks or
the tools (split the rest along their steps)."""
import ast
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not os.path.isfile(os.path.join(ROOT, "fastap", "_core.pyx")):
    # the tests run from an unpacked sdist whose fastap/ was moved aside (.ci/run): read
    # the sources of the checkout it was built from
    ROOT = os.environ.get("FASTAP_SOURCE_ROOT", ROOT)
LIMIT = 120


def _python_functions():
    paths = [p for d in ("fastap", "bench", "tools") for p in glob.glob(os.path.join(ROOT, d, "**", "*.py"),
                                                                    recursive=True)]
    for path in paths:
        tree = ast.parse(open(path, encoding="utf-8").read())
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path, n.name, n.end_lineno - n.lineno + 1


_CY_DEF = re.compile(r"^(\s*)(?:cpdef|cdef|def)\s+(?:[\w\[\]\*,: ]+\s+)?\**(\w+)\s*\(")


def _cython_functions():
    """def / cdef / cpdef functions: from their first line to the last line before the
    next statement at the same or a lower indentation."""
    paths = glob.glob(os.path.join(ROOT, "fastap", "*.pyx")) + glob.glob(os.path.join(ROOT, "fastap", "*.pxi"))
    for path in paths:
        lines = open(path, encoding="utf-8").read().split("\n")
        for i, line in enumerate(lines):
            m = _CY_DEF.match(line)
            if not m or re.match(r"^\s*cdef\s+(extern|class|struct|enum|packed|public)\b", line):
                continue
            indent, end = len(m.group(1)), len(lines)
            for k in range(i + 1, len(lines)):
                s = lines[k]
                if s.strip() and len(s) - len(s.lstrip()) <= indent and not s.lstrip().startswith((")", "#")):
                    end = k
                    break
            while end > i and not lines[end - 1].strip():
                end -= 1
            yield path, m.group(2), end - i


def _c_functions():
    """Function definitions of csrc/ (C99, one brace style: the body closes with '}' in
    column 0)."""
    paths = glob.glob(os.path.join(ROOT, "csrc", "**", "*.[ch]"), recursive=True) + \
        glob.glob(os.path.join(ROOT, "csrc", "**", "*.cu"), recursive=True)
    for path in paths:
        lines = open(path, encoding="utf-8").read().split("\n")
        i = 0
        while i < len(lines):
            line = lines[i]
            if re.match(r"^[A-Za-z_].*\(", line) and not line.rstrip().endswith(";") \
                    and not line.startswith(("#", "typedef", "struct", "enum", "static const", "const")):
                j = i
                while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
                    j += 1
                if j < len(lines) and "{" in lines[j]:
                    k = j
                    while k < len(lines) and not lines[k].startswith("}"):
                        k += 1
                    name = re.search(r"(\w+)\s*\(", line).group(1)
                    yield path, name, k - i + 1
                    i = k
            i += 1


def _too_long(functions):
    return sorted("%s: %s is %d lines" % (os.path.relpath(p, ROOT), name, n)
                  for p, name, n in functions if n > LIMIT)


def test_python_functions_are_short():
    found = list(_python_functions())
    assert len(found) > 500                   # the scan finds the package's functions
    assert _too_long(found) == []


def test_cython_functions_are_short():
    found = list(_cython_functions())
    assert len(found) > 50                    # the scan finds the binding's functions
    assert _too_long(found) == []


def test_c_functions_are_short():
    found = list(_c_functions())
    assert len(found) > 50
    assert _too_long(found) == []
