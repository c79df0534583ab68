"""fastap.mask against pycocotools.mask: bitwise-equal outputs, same types, dtypes and
memory orders; clear errors on malformed RLE; a sanitizer run of the C kernels."""
import os
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pycocotools_mask = pytest.importorskip("pycocotools.mask")
PM = pycocotools_mask

from fastap import mask as FM  # noqa: E402
from fastap import synthetic  # noqa: E402
from fastap.errors import InvalidAnnotationError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETTINGS = settings(max_examples=60, deadline=None)


def same_array(a, b):
    """Equal values, dtype, shape and memory order."""
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.flags.c_contiguous == b.flags.c_contiguous
    assert a.flags.f_contiguous == b.flags.f_contiguous
    np.testing.assert_array_equal(a, b)
    # bitwise, so NaN / -0.0 would count too
    assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


def same_rles(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        a, b = [a], [b]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert list(x) == list(y) == ["size", "counts"]
        assert type(x["counts"]) is bytes and x["counts"] == y["counts"]
        assert x["size"] == y["size"] and [type(v) for v in x["size"]] == [int, int]


def edge_masks(h, w):
    """Empty, full, one pixel (first, last, middle), one column, one row."""
    out = []
    for fill in ("empty", "full", "first", "last", "mid", "col", "row"):
        m = np.zeros((h, w), np.uint8, order="F")
        if h and w:
            if fill == "full":
                m[:] = 1
            elif fill == "first":
                m[0, 0] = 1
            elif fill == "last":
                m[-1, -1] = 1
            elif fill == "mid":
                m[h // 2, w // 2] = 1
            elif fill == "col":
                m[:, w // 2] = 1
            elif fill == "row":
                m[h // 2, :] = 1
        out.append(m)
    return np.asfortranarray(np.stack(out, axis=2))


# --- encode / decode / area / toBbox ------------------------------------------------------

@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 24), st.integers(0, 24), st.integers(0, 5),
       st.sampled_from(["blobs", "noise", "mixed"]))
def test_encode_decode_area_bbox_random(seed, h, w, n, kind):
    masks = synthetic.random_masks(np.random.default_rng(seed), n, h, w, kind)
    ours, ref = FM.encode(masks), PM.encode(masks)
    same_rles(ours, ref)
    if n == 0:
        return
    same_array(FM.decode(ours), PM.decode(ref))
    np.testing.assert_array_equal(FM.decode(ours), masks)
    same_array(FM.area(ours), PM.area(ref))
    same_array(FM.toBbox(ours), PM.toBbox(ref))
    # single objects: 2-D mask -> dict; dict -> 2-D mask, np.uint32, [4]
    one = np.asfortranarray(masks[:, :, 0])
    same_rles(FM.encode(one), PM.encode(one))
    same_array(FM.decode(ours[0]), PM.decode(ref[0]))
    a, b = FM.area(ours[0]), PM.area(ref[0])
    assert type(a) is type(b) is np.uint32 and a == b
    same_array(FM.toBbox(ours[0]), PM.toBbox(ref[0]))


@pytest.mark.parametrize("h,w", [(1, 1), (1, 7), (7, 1), (5, 8), (33, 17), (0, 0), (0, 5), (4, 0)])
def test_edge_masks(h, w):
    masks = edge_masks(h, w)
    ours, ref = FM.encode(masks), PM.encode(masks)
    same_rles(ours, ref)
    same_rles(FM.encode(np.asfortranarray(masks[:, :, 0])), PM.encode(np.asfortranarray(masks[:, :, 0])))
    if h and w:
        same_array(FM.decode(ours), PM.decode(ref))
    same_array(FM.area(ours), PM.area(ref))
    same_array(FM.toBbox(ours), PM.toBbox(ref))


def test_encode_layouts_and_values():
    rng = np.random.default_rng(3)
    m = (rng.random((9, 13, 3)) < 0.4).astype(np.uint8)
    ref = PM.encode(np.asfortranarray(m))
    same_rles(FM.encode(m), ref)                                   # C order accepted
    same_rles(FM.encode(np.asfortranarray(m.astype(bool))), ref)   # bool accepted
    same_rles(FM.encode(np.asfortranarray(m * 255)), ref)          # 0/255 masks: same runs
    # values > 1: nonzero is foreground (pycocotools toggles on every change of value)
    three = np.asfortranarray(m * rng.integers(1, 4, m.shape).astype(np.uint8))
    same_rles(FM.encode(three), ref)
    same_rles(FM.encode(np.asfortranarray(m[:, :, 0])), PM.encode(np.asfortranarray(m[:, :, 0])))
    assert FM.encode(np.zeros((4, 4, 0), np.uint8, order="F")) == PM.encode(np.zeros((4, 4, 0), np.uint8, order="F")) == []
    with pytest.raises(TypeError):
        FM.encode(m.astype(np.float32))
    with pytest.raises(ValueError):
        FM.encode(np.zeros((2, 2, 2, 2), np.uint8))
    with pytest.raises(TypeError):
        FM.encode([[0, 1]])


def test_long_runs_and_string_round_trip():
    # runs longer than 2^20 need 5+ characters per value
    h, w = 2048, 1024
    m = np.zeros((h, w), np.uint8, order="F")
    m[5, 900] = 1
    m[100:2000, 3:5] = 1
    ours, ref = FM.encode(m), PM.encode(m)
    same_rles(ours, ref)
    same_array(FM.decode(ours), PM.decode(ref))
    same_array(FM.toBbox(ours), PM.toBbox(ref))
    # counts near 2^32 (not decoded: area / bbox / merge / iou only)
    size = [65536, 65535]
    big = {"size": size, "counts": [1_000_000_000, 7, 1_100_000_000, 5, 65536 * 65535 - 2_100_000_012]}
    ours, ref = FM.frPyObjects(big, 0, 0), PM.frPyObjects(big, 0, 0)
    same_rles(ours, ref)
    assert FM.area(ours) == PM.area(ref)
    same_array(FM.toBbox([ours]), PM.toBbox([ref]))
    same_rles(FM.merge([ours, ours]), PM.merge([ref, ref]))
    same_array(FM.iou([ours], [ours], [0]), PM.iou([ref], [ref], [0]))
    # str counts are accepted as pycocotools accepts them
    same_array(FM.area([{"size": size, "counts": ours["counts"].decode()}]), PM.area([ref]))
    # a count delta <= -2^29 takes 7 characters; pycocotools' decoder shifts past its int
    # there (undefined behaviour) and gets other counts; fastap decodes it exactly
    far = {"size": size, "counts": [3_000_000_000, 7, 1_000_000_000, 5, 65536 * 65535 - 4_000_000_012]}
    ours = FM.frPyObjects(far, 0, 0)
    same_rles(ours, PM.frPyObjects(far, 0, 0))     # encoding agrees
    assert FM.area(ours) == 12
    # runs at column 45776 rows 24064..24070 and column 61035 rows 10247..10251
    same_array(FM.toBbox(ours), np.array([45776.0, 10247.0, 15260.0, 13824.0]))


def test_many_objects_parallel_equals_serial():
    rng = np.random.default_rng(7)
    masks = synthetic.random_masks(rng, 300, 20, 30, "mixed")
    one = FM.encode(masks, num_threads=1)
    same_rles(FM.encode(masks, num_threads=4), one)
    same_rles(one, PM.encode(masks))
    same_array(FM.decode(one, num_threads=4), FM.decode(one, num_threads=1))
    same_array(FM.toBbox(one, num_threads=4), PM.toBbox(one))
    crowd = rng.integers(0, 2, 150)
    same_array(FM.iou(one[:150], one[150:], crowd, num_threads=4), PM.iou(one[:150], one[150:], crowd))
    polys = synthetic.random_polygons(rng, 400, 20, 30)
    same_rles(FM.frPyObjects(polys, 20, 30, num_threads=4), PM.frPyObjects(polys, 20, 30))
    boxes = rng.uniform(-5, 35, (400, 4))
    same_rles(FM.frPyObjects(boxes, 20, 30, num_threads=4), PM.frPyObjects(boxes, 20, 30))


# --- frPyObjects -------------------------------------------------------------------------------

coord = st.floats(-30, 70, allow_nan=False, allow_infinity=False)
polygon = st.lists(coord, min_size=6, max_size=40)


@SETTINGS
@given(st.lists(polygon, min_size=1, max_size=5), st.integers(0, 50), st.integers(0, 50))
def test_polygons_random(polys, h, w):
    same_rles(FM.frPyObjects(polys, h, w), PM.frPyObjects(polys, h, w))


@SETTINGS
@given(st.lists(st.lists(st.integers(-8, 60), min_size=6, max_size=30), min_size=1, max_size=4),
       st.integers(1, 50), st.integers(1, 50))
def test_polygons_integer_and_half_coordinates(polys, h, w):
    # integer and .5 vertices sit exactly on the rasteriser's rounding points
    same_rles(FM.frPyObjects(polys, h, w), PM.frPyObjects(polys, h, w))
    halves = [[v / 2 for v in p] for p in polys]
    same_rles(FM.frPyObjects(halves, h, w), PM.frPyObjects(halves, h, w))


def test_polygons_coco_like_and_outside():
    rng = np.random.default_rng(11)
    for h, w in [(480, 640), (37, 23)]:
        polys = synthetic.random_polygons(rng, 60, h, w, outside=0.3)
        ours = FM.frPyObjects(polys, h, w)
        same_rles(ours, PM.frPyObjects(polys, h, w))
        same_rles(FM.merge(ours), PM.merge(PM.frPyObjects(polys, h, w)))
    # entirely outside, negative coordinates, a polygon around the whole image
    cases = [[-50, -50, -10, -50, -30, -5], [700, 10, 800, 10, 750, 90], [-5, -5, 700, -5, 700, 500, -5, 500],
             [-0.3, -0.3, 3.7, -0.2, 2, 2.4], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 4, 4, 4, 4]]
    same_rles(FM.frPyObjects(cases, 480, 640), PM.frPyObjects(cases, 480, 640))
    # numpy arrays and tuples as polygons, an odd trailing value (ignored)
    mixed = [np.array([1.0, 2, 30, 4, 15, 25]), (3, 3, 20, 3, 20, 20), [1, 2, 30, 4, 15, 25, 99]]
    same_rles(FM.frPyObjects(mixed, 40, 40), PM.frPyObjects(mixed, 40, 40))


def test_polygons_steep_flat_far_and_around_zero():
    """The rasteriser visits only the steps onto kept columns: near-vertical and
    near-horizontal edges, vertices far outside the image, and coordinates around zero
    (where the walk's int conversion truncates towards zero) rasterise as pycocotools."""
    rng = np.random.default_rng(1)
    for it in range(2000):
        h, w = int(rng.integers(1, 120)), int(rng.integers(1, 120))
        k = int(rng.integers(3, 8))
        mode = it % 4
        if mode == 0:
            x = rng.uniform(-5, w + 5) + rng.uniform(-2, 2, k)
            y = rng.uniform(-50, h + 50, k)
        elif mode == 1:
            y = rng.uniform(-5, h + 5) + rng.uniform(-2, 2, k)
            x = rng.uniform(-50, w + 50, k)
        elif mode == 2:
            x, y = rng.uniform(-3000, 3000, k), rng.uniform(-3000, 3000, k)
        else:
            x, y = rng.uniform(-3, 3, k) * rng.choice([1, 10]), rng.uniform(-3, 3, k) * rng.choice([1, 10])
        xy = np.stack([x, y], 1)
        if it % 3 == 0:
            xy = np.round(xy, 1)
        p = [xy.ravel().tolist()]
        same_rles(FM.frPyObjects(p, h, w), PM.frPyObjects(p, h, w))


def test_polygons_sorted_by_column_or_not():
    """A polygon's crossings are sorted by column buckets where they form more than 4
    runs (jagged outlines), by merging or radix where a column holds more than 32 or the
    columns are too many: every way, pycocotools' masks."""
    rng = np.random.default_rng(7)
    cases = []
    for it in range(60):                      # jagged stars: many runs, a few per column
        h, w = int(rng.integers(60, 900)), int(rng.integers(60, 900))
        k = int(rng.integers(30, 300))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(0.2, 1, k) * min(h, w) / 2
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        xy = np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], 1)
        cases.append(([np.round(xy, int(rng.integers(0, 3))).ravel().tolist()], h, w))
    # a comb: 60 teeth crossing the same few columns (buckets of more than 32)
    comb = []
    for t in range(60):
        comb += [10 + (t % 2) * 3.3, 5 + 2 * t]
    cases.append(([comb + [40, 130, 40, 5]], 140, 60))
    # wider than the column buckets go (over 4096 columns), jagged
    xs = np.linspace(0, 5990, 400)
    ys = 20 + 15 * (np.arange(400) % 3)
    cases.append(([np.stack([xs, ys], 1).ravel().tolist() + [5990, 90, 0, 90]], 100, 6000))
    # a zero width (every column kept: the sentinel is not the largest position)
    cases.append(([[1, 2, 30, 4.5, 5, 60, 17, 3, 40, 50, 2, 9]], 70, 0))
    for polys, h, w in cases:
        same_rles(FM.frPyObjects(polys, h, w), PM.frPyObjects(polys, h, w))


def test_degenerate_polygons():
    # 0, 1, 2 points after a proper polygon: pycocotools gives an empty mask; so do we
    for bad in ([], [3.0, 4.0], [1, 2, 9, 9], [5, 5, 5, 5, 5, 5]):
        polys = [[1, 1, 9, 1, 5, 8], bad]
        same_rles(FM.frPyObjects(polys, 10, 12), PM.frPyObjects(polys, 10, 12))
    # first polygon degenerate: pycocotools fails (reads the list as something else);
    # fastap rasterises it: empty masks (documented)
    out = FM.frPyObjects([[], [3.0, 4.0]], 10, 12)
    assert [FM.area(r) for r in out] == [0, 0]
    empty = PM.frPyObjects([[1, 1, 9, 1, 5, 8], []], 10, 12)[1]
    assert out[0] == empty
    with pytest.raises(TypeError):   # pycocotools: a list whose first item has 4 values is boxes
        PM.frPyObjects([[1, 2, 9, 9], [1, 1, 9, 1, 5, 8]], 10, 12)
    with pytest.raises(ValueError, match="boxes"):
        FM.frPyObjects([[1, 2, 9, 9], [1, 1, 9, 1, 5, 8]], 10, 12)
    with pytest.raises(ValueError, match="more than 4 values"):
        FM.frPyObjects([1.0, 2.0], 10, 12)


def test_polygon_zero_size_images():
    p = [[1, 2, 3, 4.0, 5, 6]]
    for h, w in [(0, 10), (10, 0), (0, 0)]:
        same_rles(FM.frPyObjects(p, h, w), PM.frPyObjects(p, h, w))


def test_boxes():
    rng = np.random.default_rng(5)
    boxes = np.round(rng.uniform(-20, 80, (50, 4)), 1)
    boxes[::7, 2] = 0
    for h, w in [(60, 70), (1, 1), (0, 5)]:
        same_rles(FM.frPyObjects(boxes, h, w), PM.frPyObjects(boxes, h, w))
        # lists of boxes and a single box (pycocotools raises TypeError on both)
        same_rles(FM.frPyObjects(boxes.tolist(), h, w), PM.frPyObjects(boxes, h, w))
        same_rles(FM.frPyObjects(boxes[3].tolist(), h, w), PM.frPyObjects(boxes[3:4], h, w)[0])
    same_rles(FM.frPyObjects(boxes.astype(np.int64), 60, 70),
              PM.frPyObjects(boxes.astype(np.int64).astype(np.float64), 60, 70))
    with pytest.raises(ValueError):
        FM.frPyObjects(np.zeros((3, 5)), 10, 10)
    with pytest.raises(ValueError, match="box 1"):
        FM.frPyObjects(np.array([[0, 0, 1, 1], [np.nan, 0, 1, 1]]), 10, 10)


def test_uncompressed_rle():
    ucs = [{"size": [4, 5], "counts": [3, 4, 13]}, {"size": [4, 5], "counts": [0, 20]},
           {"size": [4, 5], "counts": [20]}, {"size": [4, 5], "counts": [2, 0, 3, 15]},
           {"size": [3, 1], "counts": np.array([1, 1, 1], np.int64)}]
    same_rles(FM.frPyObjects(ucs, 99, 99), PM.frPyObjects(ucs, 99, 99))
    same_rles(FM.frPyObjects(ucs[0], 4, 5), PM.frPyObjects(ucs[0], 4, 5))
    # and the usual chain: uncompressed -> compressed -> decode / area / merge
    rles = FM.frPyObjects(ucs[:4], 4, 5)
    same_array(FM.decode(rles), PM.decode(PM.frPyObjects(ucs[:4], 4, 5)))
    same_rles(FM.merge(rles), PM.merge(PM.frPyObjects(ucs[:4], 4, 5)))
    with pytest.raises(ValueError, match="sum to 10, the image has 20"):
        FM.frPyObjects({"size": [4, 5], "counts": [3, 4, 3]}, 4, 5)
    with pytest.raises(ValueError, match=r"pyobj\[1\].*0..2\^32-1"):
        FM.frPyObjects([ucs[0], {"size": [4, 5], "counts": [3, -4, 21]}], 4, 5)
    with pytest.raises(TypeError):
        FM.frPyObjects({"size": [4, 5], "counts": [3.5, 4, 12.5]}, 4, 5)


def test_empty_and_unsupported_inputs():
    assert FM.frPyObjects([], 10, 10) == []
    with pytest.raises(TypeError):
        FM.frPyObjects("abc", 10, 10)
    with pytest.raises(TypeError):
        FM.frPyObjects([[1, 2, 3, 4, 5, 6]], 10.5, 10)
    with pytest.raises(ValueError, match="polygon 1 has a non-finite"):
        FM.frPyObjects([[1, 2, 3, 4, 5, 6], [1, 2, np.inf, 4, 5, 6]], 10, 10)
    with pytest.raises(ValueError, match="too large"):
        FM.frPyObjects([[1, 2, 3e9, 4, 5, 6]], 10, 10)
    with pytest.raises(ValueError, match="non-negative"):
        FM.frPyObjects([[1, 2, 3, 4, 5, 6]], -1, 10)


# --- iou -----------------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 6), st.integers(0, 6))
def test_iou_random(seed, m, n):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
    dt = FM.encode(synthetic.random_masks(rng, m, h, w, "mixed"))
    gt = FM.encode(synthetic.random_masks(rng, n, h, w, "mixed"))
    crowd = rng.integers(0, 2, n).tolist()
    ours, ref = FM.iou(dt, gt, crowd), PM.iou(dt, gt, crowd)
    if m == 0 or n == 0:
        assert ours == ref == []
    else:
        same_array(ours, ref)
    # boxes, as arrays and as lists of lists
    db, gb = np.round(rng.uniform(0, 10, (m, 4)), 1), np.round(rng.uniform(0, 10, (n, 4)), 1)
    ours, ref = FM.iou(db, gb, crowd), PM.iou(db, gb, crowd)
    if m == 0 or n == 0:
        assert ours == ref == []
    else:
        same_array(ours, ref)
        same_array(FM.iou(db.tolist(), gb.tolist(), crowd), PM.iou(db.tolist(), gb.tolist(), crowd))


def test_iou_sizes_crowd_empty():
    a = FM.encode(edge_masks(6, 7))            # empty, full, one pixel, ...
    b = FM.encode(synthetic.random_masks(np.random.default_rng(2), 4, 6, 7, "blobs"))
    other = FM.encode(np.ones((7, 6, 2), np.uint8, order="F"))  # another size
    crowd = [0, 1, 0, 1, 0, 1]
    gt = b + other
    ours = FM.iou(a, gt, crowd)
    same_array(ours, PM.iou(a, gt, crowd))
    assert (ours[1, 4:] == -1).all()           # full mask vs other size: boxes overlap -> -1
    assert ours.flags.f_contiguous and ours.shape == (7, 6)
    same_array(FM.iou(a, gt, np.array(crowd, bool)), PM.iou(a, gt, np.array(crowd, bool)))
    assert FM.iou([], gt, crowd) == PM.iou([], gt, crowd) == []
    assert FM.iou(a, [], []) == PM.iou(a, [], []) == []
    assert FM.iou(np.zeros((0, 4)), np.zeros((2, 4)), [0, 0]) == []
    with pytest.raises(ValueError, match="pyiscrowd has 1 entries, gt has 6"):
        FM.iou(a, gt, [0])
    with pytest.raises(TypeError):
        FM.iou(a, np.zeros((2, 4)), [0, 0])   # RLEs vs boxes
    with pytest.raises(TypeError):
        FM.iou([(0, 0, 1, 1)], [(0, 0, 1, 1)], [0])
    with pytest.raises(ValueError):
        FM.iou(np.zeros(4), np.zeros((1, 4)), [0])
    with pytest.raises(ValueError, match="dt box 0 is not finite"):
        FM.iou(np.array([[0, np.nan, 1, 1]]), np.zeros((1, 4)), [0])


# --- merge -----------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.booleans())
def test_merge_random(seed, n, intersect):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 16)), int(rng.integers(1, 16))
    rles = FM.encode(synthetic.random_masks(rng, n, h, w, "mixed"))
    same_rles(FM.merge(rles, intersect), PM.merge(rles, intersect))
    same_rles(FM.merge(rles, int(intersect)), PM.merge(rles, int(intersect)))
    masks = FM.decode(rles).astype(bool)
    expect = masks.all(axis=2) if intersect else masks.any(axis=2)
    np.testing.assert_array_equal(FM.decode(FM.merge(rles, intersect)), expect)


def test_merge_edge_cases():
    rles = FM.encode(edge_masks(5, 4))
    same_rles(FM.merge(rles[:1]), PM.merge(rles[:1]))
    same_rles(FM.merge([]), PM.merge([]))
    # non-canonical counts (zero-length runs) follow pycocotools' bookkeeping
    ucs = FM.frPyObjects([{"size": [4, 5], "counts": [2, 0, 3, 15]},
                          {"size": [4, 5], "counts": [0, 0, 5, 5, 10]},
                          {"size": [4, 5], "counts": [1, 2, 0, 3, 14]}], 4, 5)
    for inter in (0, 1):
        same_rles(FM.merge(ucs, inter), PM.merge(ucs, inter))
        same_rles(FM.merge(ucs[::-1], inter), PM.merge(ucs[::-1], inter))
    same_rles(FM.merge([{"size": r["size"], "counts": r["counts"].decode()} for r in rles]),
              PM.merge(rles))
    with pytest.raises(ValueError, match=r"rleObjs\[1\] has size \[4, 4\]"):
        FM.merge([rles[0], FM.encode(np.zeros((4, 4), np.uint8, order="F"))])


# --- malformed RLE -----------------------------------------------------------------------------

@pytest.mark.parametrize("counts,match", [
    (b"\x00", "0x00"), (b"p", "0x70"), (b"~1", "0x7e"), ("0é", "0xc3"),   # outside '0'..'o'
    (b"P", "ends inside a value"), (b"0Q", "ends inside a value"),         # continuation, no end
    (b"555F", "outside 0..4294967295"),                                    # a negative count (delta)
    (b"52", "counts sum to 7, the image has 6 pixels"),                    # overrun
    (b"3", "counts sum to 3, the image has 6 pixels"),                     # short
    (b"", "counts sum to 0, the image has 6 pixels"),
    (b"" + b"o" * 13 + b"0", "longer than 12"),
])
def test_malformed_counts(counts, match):
    rle = {"size": [2, 3], "counts": counts}
    for f in (FM.decode, FM.area, FM.toBbox, FM.merge, lambda rs: FM.iou(rs, rs, [0, 0])):
        with pytest.raises(InvalidAnnotationError, match=match):
            f([FM.encode(np.zeros((2, 3), np.uint8, order="F")), rle])


def test_malformed_rle_dicts():
    good = FM.encode(np.ones((2, 3), np.uint8, order="F"))
    with pytest.raises(ValueError, match=r"rleObjs\[1\].*'size' and 'counts'"):
        FM.area([good, {"counts": b"0"}])
    with pytest.raises(TypeError, match=r"rleObjs\[0\].*uncompressed"):
        FM.decode([{"size": [2, 3], "counts": [6]}])
    with pytest.raises(TypeError, match=r"rleObjs\[0\]"):
        FM.decode([{"size": [2, 3], "counts": 6}])
    with pytest.raises(TypeError, match="'size' must be"):
        FM.area([{"size": ["2", 3], "counts": b"6"}])
    with pytest.raises(ValueError, match="'size' must be"):
        FM.area([{"size": [2, 3, 1], "counts": b"6"}])
    with pytest.raises(ValueError, match="more than 2\\^32-1 pixels"):
        FM.area([{"size": [70000, 70000], "counts": b"0"}])
    with pytest.raises(TypeError, match=r"rleObjs\[0\] should be an RLE dict"):
        FM.toBbox([b"123"])
    with pytest.raises(ValueError, match="at least one RLE"):
        FM.decode([])
    with pytest.raises(ValueError, match=r"rleObjs\[1\] has size"):
        FM.decode([good, FM.encode(np.ones((3, 2), np.uint8, order="F"))])


# --- the C kernels under AddressSanitizer / UBSan ------------------------------------------

def test_rle_sanitizer(tmp_path):
    """Compile csrc/rle.c with -fsanitize=address,undefined and a driver feeding it
    malformed and random valid input (tests/rle_fuzz.c); it must run clean. Same as:
      gcc -std=c99 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \\
          -Icsrc tests/rle_fuzz.c csrc/rle.c -lm -o /tmp/rle_fuzz && /tmp/rle_fuzz 3000
    """
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler on PATH: the sanitizer check needs gcc or clang")
    exe = str(tmp_path / "rle_fuzz")
    flags = ["-std=c99", "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    probe = tmp_path / "probe.c"
    probe.write_text("int main(void){return 0;}\n")
    if subprocess.run([cc, *flags, str(probe), "-o", str(tmp_path / "probe")],
                      capture_output=True).returncode != 0:
        pytest.skip("%s cannot build with -fsanitize=address,undefined (no ASan runtime)" % cc)
    build = subprocess.run([cc, *flags, "-Wall", "-I", os.path.join(ROOT, "csrc"),
                            os.path.join(HERE, "rle_fuzz.c"), os.path.join(ROOT, "csrc", "rle.c"),
                            "-lm", "-o", exe], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([exe, "3000"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "passed" in run.stdout
