"""Benchmarks comparing fastap with pycocotools and its other peers.

Run ``python -m bench --help`` from the repository root; see ``bench/README.md``.
This package is not part of the installed ``fastap`` wheel and is kept free of
heavy imports so that a benchmark child's memory baseline is not inflated by it.
"""
