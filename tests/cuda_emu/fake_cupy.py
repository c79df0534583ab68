"""A stand-in for CuPy over NumPy whose RawModule runs box_iou.cu's kernels in the CPU
emulation (tests/cuda_emu/box_iou_emu.cpp): fastap.cuda's whole GPU path -- wrapping,
checks on the device, launches, out=, blocked mode -- runs on a machine without a GPU.

Only what fastap.cuda uses is here. "Device memory" is NumPy memory of the `ndarray`
subclass below (its class claims module "cupy", as CuPy's arrays do); one device, id 0.
"""
import contextlib
import ctypes
import types

import numpy as np


def make(lib):
    """A module object to put in sys.modules["cupy"]; `lib` is the emulation library."""
    cp = types.ModuleType("cupy")
    launches = []

    class Device:
        def __init__(self, i=None):
            self.id = 0 if i is None else int(i)
            if self.id != 0:
                raise RuntimeError("fake cupy: only device 0")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def synchronize(self):
            pass

    class ndarray(np.ndarray):
        @property
        def device(self):
            return Device(0)

        def get(self, stream=None, order="C", out=None, blocking=True):
            if out is None:
                return np.array(self, order=order)
            assert type(out) is np.ndarray and out.flags.c_contiguous and out.shape == self.shape
            out[...] = self
            return out

        def astype(self, dtype, copy=True, **kw):
            return np.ndarray.astype(self, dtype, copy=copy).view(ndarray)

    ndarray.__module__ = "cupy"

    def _dev(x):
        return np.asarray(x).view(ndarray)

    cp.ndarray = ndarray
    cp.uint8 = np.uint8
    cp.float32 = np.float32
    cp.float64 = np.float64
    cp.int64 = np.int64
    cp.concatenate = lambda arrs, axis=0: _dev(np.concatenate([np.asarray(x) for x in arrs], axis=axis))
    cp.asarray = lambda x, dtype=None: _dev(np.asarray(x, dtype=dtype))
    cp.from_dlpack = lambda x: _dev(np.from_dlpack(x))
    cp.ascontiguousarray = lambda x, dtype=None: _dev(np.ascontiguousarray(x, dtype=dtype))
    cp.asnumpy = lambda x: np.array(x)
    # unwritten memory shows: NaN, or for integers a value no kernel writes
    cp.empty = lambda shape, dtype=np.float64: _dev(np.full(shape, np.nan if np.dtype(dtype).kind == "f"
                                                            else -777, dtype=dtype))
    cp.zeros = lambda shape, dtype=np.float64: _dev(np.zeros(shape, dtype=dtype))
    cp.full = lambda shape, v, dtype=None: _dev(np.full(shape, v, dtype=dtype))
    cp.isfinite = lambda x: _dev(np.isfinite(x))
    cp.flatnonzero = lambda x: _dev(np.flatnonzero(x))

    class Stream:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        @classmethod
        def from_external(cls, obj):
            return cls()

    class Function:
        def __init__(self, name):
            self.name = name

        def __call__(self, grid, block, args):
            for arr in args:
                if isinstance(arr, np.ndarray):
                    assert isinstance(arr, ndarray), type(arr)    # device arrays only
            launches.append((self.name, grid, block))
            f32 = int(self.name.endswith("f32"))
            if self.name.startswith("fa_assign_"):
                _assign(self.name, f32, grid, block, args)
                return
            if "_family_" in self.name:
                pa, n, pb, m, layout, kind, eps, po, ld = args
                rc = lib.fa_emu_box_iou_family(f32, grid[0], grid[1], block[0], block[1], pa.ctypes.data,
                                               int(n), pb.ctypes.data, int(m), int(layout), int(kind),
                                               float(eps), po.ctypes.data, int(ld))
                assert rc == 0
                return
            if "_aligned_" in self.name:
                pa, pb, n, pc, hc, layout, kind, eps, po = args
                assert grid[1] == grid[2] == 1 and block[1] == block[2] == 1
                rc = lib.fa_emu_box_iou_aligned(f32, grid[0], block[0], pa.ctypes.data, pb.ctypes.data,
                                                int(n), pc.ctypes.data, int(hc), int(layout), int(kind),
                                                float(eps), po.ctypes.data)
                assert rc == 0
                return
            pa, n, pb, m, pc, hc, centre, one, po, ld = args
            rc = lib.fa_emu_box_iou(int("xywh" in self.name), int(self.name.endswith("f32")),
                                    grid[0], grid[1], block[0], block[1], pa.ctypes.data, int(n),
                                    pb.ctypes.data, int(m), pc.ctypes.data, int(hc), int(centre),
                                    float(one), po.ctypes.data, int(ld))
            assert rc == 0

    def _assign(name, f32, grid, block, args):
        """fa_assign_*: the arguments packed as fa_emu_assign takes them (pointers,
        integers, doubles, each in the kernel's order)."""
        which = ("rows", "cols", "reduce", "final").index(name.split("_")[2])
        ptrs, ints, dbls = [], [], []
        for x in args:
            if isinstance(x, np.ndarray):
                assert isinstance(x, ndarray) and x.flags.c_contiguous, (name, type(x))
                ptrs.append(x.ctypes.data)
            elif isinstance(x, np.floating):
                dbls.append(float(x))
            else:
                assert isinstance(x, np.integer), (name, type(x))
                ints.append(int(x))
        pv = (ctypes.c_void_p * max(1, len(ptrs)))(*ptrs)
        iv = (ctypes.c_longlong * max(1, len(ints)))(*ints)
        dv = (ctypes.c_double * max(1, len(dbls)))(*dbls)
        rc = lib.fa_emu_assign(which, f32, grid[0], grid[1], grid[2], block[0], pv, iv, dv)
        assert rc == 0, (name, grid, block)

    class RawModule:
        def __init__(self, code, options=()):
            assert "--fmad=false" in options
            self.code = code

        def get_function(self, name):
            assert 'extern "C" __global__' in self.code and name in self.code
            return Function(name)

    cuda = types.SimpleNamespace(
        Device=Device, Stream=Stream, ExternalStream=lambda ptr, dev=-1: Stream(),
        get_current_stream=Stream,
        runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    cp.cuda = cuda
    cp.RawModule = RawModule
    cp.launches = launches
    return cp
