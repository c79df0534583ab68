"""Generated COCO-format data, shared by the tests, the benchmarks and ``fastap demo``.

Everything here is deterministic for a given ``seed``. The generator aims at the
statistics of real detector output on COCO: a few ground truths per image, many
detections per image (most of them low-scoring false positives), detections that are
jittered copies of ground truths (so IoUs spread over the thresholds), scores rounded
to a few decimals (so ties are common), crowd regions, and optionally the awkward
cases that break evaluators (``ignore`` flags, ``area`` fields that differ from the
box area, images without ground truth or without detections, categories without
ground truth).

Scales used by the benchmarks:

* ``coco_val2017``: 5,000 images, 80 categories, ~7.3 ground truths and 100
  detections per image (~36.5k ground truths, 500k detections).
* ``objects365``: 20,000 images, 365 categories, ~15 ground truths and 100
  detections per image.
"""

from __future__ import annotations

import json
import os

import numpy as np

__all__ = ["make_coco", "make_arrays", "write_coco", "SCALES"]

SCALES = {
    "tiny": dict(n_images=50, n_categories=5, gt_per_image=4.0, dets_per_image=20),
    "small": dict(n_images=500, n_categories=20, gt_per_image=7.3, dets_per_image=100),
    "coco_val2017": dict(n_images=5000, n_categories=80, gt_per_image=7.3, dets_per_image=100),
    "objects365": dict(n_images=20000, n_categories=365, gt_per_image=15.0, dets_per_image=100),
}


def make_arrays(n_images=100, n_categories=10, gt_per_image=7.3, dets_per_image=100,
                seed=0, crowd_frac=0.01, score_decimals=3, box_decimals=2,
                edge_cases=False, image_size=(640, 480), categories=None, first_image_id=None):
    """Generate ground truth and detections as columnar NumPy arrays.

    Returns ``(images, categories, gt, dt)`` where ``images`` is int64[n_images] of
    image ids, ``categories`` int64[n_categories] of category ids, ``gt`` a dict with
    ``id`` int64[G], ``image_id`` int64[G], ``category_id`` int64[G], ``bbox``
    float64[G, 4] (xywh), ``area`` float64[G], ``iscrowd`` uint8[G], ``ignore``
    uint8[G]; and ``dt`` a dict with ``image_id`` int64[D], ``category_id`` int64[D],
    ``bbox`` float64[D, 4] (xywh) and ``score`` float64[D].

    ``categories`` fixes the category ids (then ``n_categories`` is their number) and
    ``first_image_id`` numbers the images consecutively from it: shards generated with
    different seeds then form one dataset (see bench/scale.py).

    With ``edge_cases=True`` the data also has ``ignore`` flags, ``area`` fields that
    differ from ``w*h``, images without ground truth, images without detections, a
    category without ground truth, exact duplicate detections and exact score ties.
    """
    rng = np.random.default_rng(seed)
    W, H = image_size
    # Image ids are not contiguous and not sorted, as in real datasets.
    images = rng.choice(np.arange(1, n_images * 7 + 1), size=n_images, replace=False).astype(np.int64)
    if first_image_id is not None:
        images = np.arange(first_image_id, first_image_id + n_images, dtype=np.int64)
    if categories is None:
        categories = np.sort(rng.choice(np.arange(1, n_categories * 2 + 2), size=n_categories,
                                        replace=False)).astype(np.int64)
    else:
        categories = np.asarray(categories, dtype=np.int64)
        n_categories = categories.shape[0]

    # --- ground truth -------------------------------------------------------
    n_gt_img = rng.poisson(gt_per_image, size=n_images)
    if edge_cases:
        n_gt_img[rng.random(n_images) < 0.1] = 0          # images without ground truth
    G = int(n_gt_img.sum())
    gt_img = np.repeat(images, n_gt_img)
    # a few categories dominate, as in COCO (person, car, ...)
    cat_p = rng.gamma(0.7, size=n_categories)
    if edge_cases and n_categories > 2:
        cat_p[-1] = 0.0                                    # a category without ground truth
    cat_p /= cat_p.sum()
    gt_cat = categories[rng.choice(n_categories, size=G, p=cat_p)]
    # log-uniform sizes give small, medium and large objects
    side = np.exp(rng.uniform(np.log(4.0), np.log(400.0), size=(G, 2)))
    w = np.minimum(side[:, 0], W - 1)
    h = np.minimum(side[:, 1] * rng.uniform(0.5, 1.5, size=G), H - 1)
    x = rng.uniform(0, W - w)
    y = rng.uniform(0, H - h)
    gt_box = np.round(np.stack([x, y, w, h], axis=1), box_decimals)
    gt_area = gt_box[:, 2] * gt_box[:, 3]
    iscrowd = (rng.random(G) < crowd_frac).astype(np.uint8)
    ignore = np.zeros(G, np.uint8)
    if edge_cases:
        ignore[rng.random(G) < 0.05] = 1
        # segmentation areas are smaller than box areas
        shrink = rng.random(G) < 0.3
        gt_area[shrink] = np.round(gt_area[shrink] * rng.uniform(0.4, 1.0, shrink.sum()), 2)
    gt = dict(id=np.arange(1, G + 1, dtype=np.int64), image_id=gt_img, category_id=gt_cat,
              bbox=gt_box, area=gt_area, iscrowd=iscrowd, ignore=ignore)

    # --- detections -----------------------------------------------------------
    n_dt_img = np.full(n_images, int(dets_per_image))
    if dets_per_image != int(dets_per_image):
        n_dt_img = rng.poisson(dets_per_image, size=n_images)
    if edge_cases:
        n_dt_img[rng.random(n_images) < 0.1] = 0          # images without detections
        n_dt_img[rng.random(n_images) < 0.05] = int(dets_per_image) * 2 + 7  # over maxDets
    D = int(n_dt_img.sum())
    dt_img = np.repeat(images, n_dt_img)
    # first detections of an image are jittered copies of its ground truths
    gt_start = np.concatenate([[0], np.cumsum(n_gt_img)[:-1]])
    rank = np.arange(D) - np.repeat(np.concatenate([[0], np.cumsum(n_dt_img)[:-1]]), n_dt_img)
    img_pos = np.repeat(np.arange(n_images), n_dt_img)
    n_gt_of = n_gt_img[img_pos]
    from_gt = (n_gt_of > 0) & (rank < 2 * n_gt_of)
    src = gt_start[img_pos] + np.where(n_gt_of > 0, rank % np.maximum(n_gt_of, 1), 0)
    src = np.where(from_gt, src, 0)
    dt_box = np.empty((D, 4))
    dt_cat = categories[rng.choice(n_categories, size=D, p=np.full(n_categories, 1.0 / n_categories))]
    # random false positives
    rside = np.exp(rng.uniform(np.log(4.0), np.log(400.0), size=(D, 2)))
    rw = np.minimum(rside[:, 0], W - 1)
    rh = np.minimum(rside[:, 1], H - 1)
    dt_box[:] = np.stack([rng.uniform(0, W - rw), rng.uniform(0, H - rh), rw, rh], axis=1)
    score = rng.beta(0.6, 3.0, size=D)
    if G > 0 and from_gt.any():
        sb = gt_box[src[from_gt]]
        jit = rng.normal(0, 1, size=(int(from_gt.sum()), 4)) * rng.uniform(0.0, 0.25, size=(int(from_gt.sum()), 1))
        jb = sb.copy()
        jb[:, 0] += jit[:, 0] * sb[:, 2]
        jb[:, 1] += jit[:, 1] * sb[:, 3]
        jb[:, 2] *= np.exp(jit[:, 2])
        jb[:, 3] *= np.exp(jit[:, 3])
        dt_box[from_gt] = jb
        keep_cat = rng.random(int(from_gt.sum())) < 0.85   # some right boxes with the wrong label
        dt_cat[from_gt] = np.where(keep_cat, gt_cat[src[from_gt]], dt_cat[from_gt])
        score[from_gt] = rng.beta(3.0, 1.5, size=int(from_gt.sum()))
    dt_box = np.round(dt_box, box_decimals)
    dt_box[:, 2:] = np.maximum(dt_box[:, 2:], 0.0)
    score = np.round(score, score_decimals)
    if edge_cases and D > 4:
        # exact duplicates and exact ties
        dup = rng.choice(D, size=max(1, D // 50), replace=False)
        tgt = np.minimum(dup + 1, D - 1)
        same_img = dt_img[dup] == dt_img[tgt]
        dt_box[tgt[same_img]] = dt_box[dup[same_img]]
        score[tgt[same_img]] = score[dup[same_img]]
        dt_cat[tgt[same_img]] = dt_cat[dup[same_img]]
    dt = dict(image_id=dt_img, category_id=dt_cat, bbox=dt_box, score=score)
    return images, categories, gt, dt


def _to_py(v):
    return v.item() if hasattr(v, "item") else v


def make_coco(seed=0, edge_cases=False, **kw):
    """Generate a COCO ground-truth dataset dict and a results list (list of dicts).

    Keyword arguments are those of :func:`make_arrays` (or ``scale=`` a key of
    ``SCALES``). The ground-truth dict has ``images`` (with width/height),
    ``categories`` and ``annotations`` (with ``ignore`` only when ``edge_cases``).
    """
    scale = kw.pop("scale", None)
    if scale is not None:
        kw = {**SCALES[scale], **kw}
    images, categories, gt, dt = make_arrays(seed=seed, edge_cases=edge_cases, **kw)
    W, H = kw.get("image_size", (640, 480))
    gt_box = gt["bbox"].tolist()
    anns = []
    for i, (aid, img, cat, area, crowd, ign) in enumerate(zip(
            gt["id"].tolist(), gt["image_id"].tolist(), gt["category_id"].tolist(),
            gt["area"].tolist(), gt["iscrowd"].tolist(), gt["ignore"].tolist())):
        a = {"id": aid, "image_id": img, "category_id": cat, "bbox": gt_box[i],
             "area": area, "iscrowd": crowd}
        if edge_cases:
            a["ignore"] = ign
        anns.append(a)
    dataset = {
        "info": {"description": "fastap synthetic", "seed": seed},
        "images": [{"id": i, "width": W, "height": H, "file_name": "%012d.jpg" % i}
                   for i in images.tolist()],
        "categories": [{"id": c, "name": "class_%d" % c, "supercategory": "thing"}
                       for c in categories.tolist()],
        "annotations": anns,
    }
    dt_box = dt["bbox"].tolist()
    results = [{"image_id": img, "category_id": cat, "bbox": dt_box[i], "score": s}
               for i, (img, cat, s) in enumerate(zip(dt["image_id"].tolist(),
                                                    dt["category_id"].tolist(),
                                                    dt["score"].tolist()))]
    return dataset, results


def write_coco(directory, seed=0, edge_cases=False, **kw):
    """Write ``gt.json`` and ``results.json`` into ``directory``; return both paths."""
    dataset, results = make_coco(seed=seed, edge_cases=edge_cases, **kw)
    os.makedirs(directory, exist_ok=True)
    gt_path = os.path.join(directory, "gt.json")
    dt_path = os.path.join(directory, "results.json")
    with open(gt_path, "w") as f:
        json.dump(dataset, f)
    with open(dt_path, "w") as f:
        json.dump(results, f)
    return gt_path, dt_path


# --- masks and polygons (fastap.mask tests and benchmarks) -------------------------------

def random_masks(rng, n, h, w, kind="blobs"):
    """n binary masks, uint8 [h, w, n] in Fortran order (COCO's layout).

    kind: "blobs" -- an axis-aligned ellipse per mask, with a few flipped pixels (COCO-like
    objects: a few runs per column); "noise" -- independent pixels, density drawn per mask
    (many short runs); "mixed" -- each mask one of blobs, noise, empty, full, one pixel.
    """
    masks = np.zeros((h, w, n), np.uint8, order="F")
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        k = kind
        if kind == "mixed":
            k = ("blobs", "noise", "empty", "full", "pixel")[int(rng.integers(5))]
        if k == "noise":
            masks[:, :, i] = rng.random((h, w)) < rng.uniform(0.05, 0.95)
        elif k == "full":
            masks[:, :, i] = 1
        elif k == "pixel" and h and w:
            masks[int(rng.integers(h)), int(rng.integers(w)), i] = 1
        elif k == "blobs" and h and w:
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            ry, rx = rng.uniform(1, max(h / 2, 1.5)), rng.uniform(1, max(w / 2, 1.5))
            m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
            flips = rng.random((h, w)) < 0.002
            masks[:, :, i] = m ^ flips
    return masks


def random_polygons(rng, n, h, w, n_points=(3, 30), outside=0.1):
    """n COCO polygons (flat lists [x0, y0, x1, y1, ...] of Python floats) around random
    centres of an h x w image: star-shaped, with n_points vertices drawn from the range;
    `outside` is the fraction of the image size by which vertices may leave it."""
    polys = []
    for _ in range(n):
        k = int(rng.integers(n_points[0], n_points[1] + 1))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(1, max(min(h, w) / 3, 1.5)) * rng.uniform(0.3, 1.0, k)
        t = np.sort(rng.uniform(0, 2 * np.pi, k))
        x = np.clip(cx + r * np.cos(t), -outside * w, (1 + outside) * w)
        y = np.clip(cy + r * np.sin(t), -outside * h, (1 + outside) * h)
        polys.append(np.round(np.stack([x, y], 1).ravel(), 2).tolist())
    return polys
