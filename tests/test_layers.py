"""The package's layers: imports point down, never in a cycle, never at function level
to dodge one, and no private name crosses a module boundary.

The graph is read from the source (``ast``), so an import inside a function counts as
much as one at the top of a module. The layer of each module is listed below, lowest
first; a module may import only from strictly lower layers (the binding ``_core`` sits
in layer 1). ``python -m pytest tests/test_layers.py -q`` runs the check.
"""
import ast
import importlib
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(os.path.dirname(HERE), "fastap")
if not os.path.isfile(os.path.join(PKG, "api.py")):
    # the tests run from an unpacked sdist whose fastap/ was moved aside (.ci/run): read
    # the sources of the checkout it was built from
    PKG = os.path.join(os.environ.get("FASTAP_SOURCE_ROOT", os.path.dirname(HERE)), "fastap")

# module (dotted, without "fastap.") -> layer; the design's order (shared DESIGN.md,
# "Layers"): errors -> params/binding -> columns -> tables -> protocols and geometry ->
# the evaluation pass -> adapters and reports -> the array API -> facades, streaming,
# scale-out -> the CLI
LAYERS = {
    "_version": 0, "errors": 0, "params": 1, "reference": 0, "synthetic": 3,
    "_core": 1, "threads": 2, "cuda": 1, "mask": 2, "iou": 2, "semantic": 2, "panoptic": 2, "rotated": 2,
    "columns": 3,
    "tables": 4, "checks": 4,
    "protocols": 5, "protocols.coco": 5, "protocols.voc": 5, "protocols.dota": 5, "geometry": 5,
    "evalpass": 6, "protocols.lvis": 6,
    "adapters": 7, "adapters.jsonfile": 7, "reports.compute": 7,
    "adapters.records": 8, "reports.drawing": 8,
    "adapters.cocodata": 9, "formats": 9, "reports.orchestrate": 9,
    "reports": 10, "api": 10,
    "coco": 11, "evaluator": 11, "lvis": 11,
    "dask": 12, "distributed": 12, "compat": 12,
    "cli": 13, "integrations": 13, "integrations.torchvision": 13,
    "__main__": 14, "": 14,          # "" is fastap/__init__.py
}


def _modules():
    out = {}
    for root, _, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, PKG)[:-3].replace(os.sep, ".")
                name = rel[:-len(".__init__")] if rel.endswith(".__init__") else ("" if rel == "__init__" else rel)
                out[name] = path
    return out


def _resolve(module, node):
    """The fastap module an ImportFrom / Import names (None for other packages)."""
    if isinstance(node, ast.Import):
        return [a.name[len("fastap."):] if a.name.startswith("fastap.") else ("" if a.name == "fastap" else None)
                for a in node.names]
    pkg = module.split(".") if os.path.basename(_modules()[module]) == "__init__.py" else module.split(".")[:-1]
    pkg = [p for p in pkg if p]
    if node.level == 0:
        if not (node.module or "").startswith("fastap"):
            return [None]
        base = node.module[len("fastap"):].lstrip(".")
    else:
        up = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
        base = ".".join(up + ([node.module] if node.module else []))
    return [base]


def _imports():
    """[(importer, imported, names, at_function_level, lineno)]"""
    mods = _modules()
    edges = []
    for name, path in mods.items():
        tree = ast.parse(open(path, encoding="utf-8").read())
        func_nodes = set()
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                func_nodes.update(id(x) for x in ast.walk(n) if x is not n)
        for n in ast.walk(tree):
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                for target in _resolve(name, n):
                    if target is None:
                        continue
                    names = [a.name for a in n.names] if isinstance(n, ast.ImportFrom) else []
                    # "from . import x": x may be a submodule
                    if isinstance(n, ast.ImportFrom) and target in ("", "reports", "adapters", "protocols"):
                        subs = [a for a in names if (target + "." + a).lstrip(".") in mods or a == "_core"]
                        for s in subs:
                            edges.append((name, (target + "." + s).lstrip("."), [], id(n) in func_nodes, n.lineno))
                        names = [a for a in names if a not in subs]
                        if not names:
                            continue
                    edges.append((name, target, names, id(n) in func_nodes, n.lineno))
    return edges


def test_every_module_has_a_layer_and_imports():
    mods = _modules()
    assert len(mods) > 25                     # the walk finds the package's modules
    assert sorted(set(mods) - set(LAYERS)) == [], "give each new module a layer in LAYERS"
    for name in mods:
        if name == "__main__":            # runs the CLI
            continue
        importlib.import_module("fastap" + ("." + name if name else ""))


def test_imports_point_down():
    bad = ["fastap/%s:%d imports %s (layer %d -> %d)" % (a.replace(".", "/") or "__init__", line, b,
                                                          LAYERS[a], LAYERS[b])
           for a, b, _, _, line in _imports() if LAYERS[b] >= LAYERS[a] and not a.startswith(b + ".")
           and not (a == "" or b == "")]
    assert bad == []


def test_no_function_level_import_of_fastap():
    bad = ["fastap/%s:%d imports %s inside a function" % (a or "__init__", line, b)
           for a, b, _, in_func, line in _imports() if in_func]
    assert bad == []


def test_no_private_name_crosses_modules():
    bad = ["fastap/%s:%d takes %s from %s" % (a or "__init__", line, n, b)
           for a, b, names, _, line in _imports() for n in names
           if n.startswith("_") and b != "_core" and n not in ("__version__",)]
    assert bad == []


def test_no_cycle():
    graph = {}
    for a, b, _, _, _ in _imports():
        if a.startswith(b + ".") or a == b:
            continue                  # a package's own __init__ running first is no cycle
        graph.setdefault(a, set()).add(b)
    seen, stack = {}, []

    def visit(m):
        seen[m] = 1
        stack.append(m)
        for n in graph.get(m, ()):
            if seen.get(n) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in seen:
                visit(n)
        stack.pop()
        seen[m] = 2
    for m in list(graph):
        if m not in seen:
            visit(m)


@pytest.mark.parametrize("kind", ["cycle", "up", "private"])
def test_the_check_sees_a_violation(kind, monkeypatch):
    """The checks above catch what they are for: one made-up module of each kind."""
    src = {"cycle": "from .cli import main\n", "up": "def f():\n    from .api import evaluate\n",
           "private": "from .columns import _length\n"}[kind]
    tree_mods = dict(_modules())
    fake = os.path.join(HERE, "_fake_layer_module.py")
    tree_mods["errors"] = fake
    with open(fake, "w") as f:
        f.write(src)
    try:
        monkeypatch.setattr(__import__(__name__), "_modules", lambda: tree_mods)
        checks = {"cycle": test_imports_point_down, "up": test_no_function_level_import_of_fastap,
                  "private": test_no_private_name_crosses_modules}
        with pytest.raises(AssertionError):
            checks[kind]()
    finally:
        os.remove(fake)
