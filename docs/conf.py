"""Sphinx configuration of fastap's documentation site.

Build (from the repository root, with fastap built and importable, e.g. after
``pip install -e ".[docs]"``):

    sphinx-build -W --keep-going -b html docs build/docs

The API reference is generated from the docstrings (autodoc, NumPy style through
napoleon) and documents the public names only: ``fastap.NAME`` and the stable modules
(``fastap.mask``, ``fastap.formats``, ...), never the internal module that defines a name,
so that moving code between internal modules does not move a page.
"""
import importlib.util

import fastap

project = "fastap"
author = "the fastap authors"
copyright = "the fastap authors, MIT license"
release = fastap.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# MyST: ```{directive} fences, $-free text, anchors for the ## headings of every page
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc: what the docstrings say, in the order they are written, with the signatures
autodoc_default_options = {"members": True, "member-order": "bysource", "show-inheritance": True}
autodoc_typehints = "description"
autoclass_content = "both"

# the docstrings are NumPy style ("Parameters\n----------")
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = False

pygments_style = "sphinx"
html_title = "fastap %s" % release
html_theme = "furo" if importlib.util.find_spec("furo") else "alabaster"
html_static_path = []

# Docstrings whose layout is not valid reStructuredText yet (an indented block or list
# straight after a paragraph line): shown as preformatted text, as written, so that
# ``-W`` keeps every other warning an error. Remove a name once its docstring is fixed;
# a name that autodoc no longer meets is an error (a rename or a typo).
PREFORMATTED_DOCSTRINGS = set()
_seen = set()


def _preformat(app, what, name, obj, options, lines):
    if name in PREFORMATTED_DOCSTRINGS and lines:
        _seen.add(name)
        doc = getattr(obj, "__doc__", None) or ""
        import inspect
        body = inspect.cleandoc(doc).splitlines() if doc else list(lines)
        lines[:] = ["::", ""] + ["    " + line for line in body] + [""]


def _check_preformatted(app, exception):
    if exception is None:
        from sphinx.util import logging
        for name in sorted(PREFORMATTED_DOCSTRINGS - _seen):
            logging.getLogger(__name__).warning(
                "docs/conf.py: PREFORMATTED_DOCSTRINGS names %s, which autodoc did not document" % name)


def setup(app):
    app.connect("autodoc-process-docstring", _preformat)
    app.connect("build-finished", _check_preformatted)
