# JSON results scanner binding (see csrc/json_results.c). Included by _core.pyx.
