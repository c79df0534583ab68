# cython: language_level=3
"""fastap._core -- the only Cython binding (placeholder, filled in next)."""
include "_json.pxi"
