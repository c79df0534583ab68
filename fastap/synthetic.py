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

from . import mask

__all__ = ["make_coco", "make_arrays", "write_coco", "SCALES", "make_keypoints_coco", "make_segm_coco", "write_yolo_labels", "write_voc_xml",
           "write_voc_results", "write_yolo_dataset", "write_png", "make_lvis", "make_lvis_arrays", "LVIS_V1_VAL",
           "make_rotated_coco", "make_dota", "rbox_to_quad", "write_dota"]

SCALES = {
    "tiny": dict(n_images=50, n_categories=5, gt_per_image=4.0, dets_per_image=20),
    "small": dict(n_images=500, n_categories=20, gt_per_image=7.3, dets_per_image=100),
    "coco_val2017": dict(n_images=5000, n_categories=80, gt_per_image=7.3, dets_per_image=100),
    "objects365": dict(n_images=20000, n_categories=365, gt_per_image=15.0, dets_per_image=100),
}



def _jittered(rng, boxes):
    """xywh ``boxes`` [n, 4] moved and scaled by a random jitter of up to a quarter of
    their size (the detections of a fair detector)."""
    n = boxes.shape[0]
    jit = rng.normal(0, 1, size=(n, 4)) * rng.uniform(0.0, 0.25, size=(n, 1))
    out = boxes.copy()
    out[:, 0] += jit[:, 0] * boxes[:, 2]
    out[:, 1] += jit[:, 1] * boxes[:, 3]
    out[:, 2] *= np.exp(jit[:, 2])
    out[:, 3] *= np.exp(jit[:, 3])
    return out

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
        dt_box[from_gt] = _jittered(rng, gt_box[src[from_gt]])
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


# ------------------------------------------------------------------------ keypoints
def make_keypoints_coco(seed=0, n_images=100, gt_per_image=3.0, dets_per_image=20, n_kpt=17,
                        edge_cases=False, with_bbox=False, image_size=(640, 480)):
    """A COCO person-keypoints dataset and keypoint results (lists of dicts).

    Ground truths carry ``keypoints`` (``n_kpt`` (x, y, v) triples inside their box,
    v in {0, 1, 2}) and ``num_keypoints``; some have none visible (num_keypoints 0,
    which pycocotools ignores), a few are crowds. Detections are jittered copies of the
    ground truths' keypoints plus random poses, with scores rounded to 2 decimals (ties).
    ``with_bbox`` gives the results a ``bbox`` (then loadRes takes the box branch).
    ``edge_cases`` adds integer coordinates, a ``num_keypoints`` that disagrees with the
    visibilities, zero-area ground truths and images without ground truth.
    """
    rng = np.random.default_rng(seed)
    images, _, gt, dt = make_arrays(n_images=n_images, n_categories=1, gt_per_image=gt_per_image,
                                    dets_per_image=dets_per_image, seed=seed, crowd_frac=0.03,
                                    score_decimals=2, edge_cases=edge_cases, image_size=image_size,
                                    categories=[1])
    W, H = image_size
    G, D = gt["id"].shape[0], dt["image_id"].shape[0]
    gb = gt["bbox"]
    kx = gb[:, :1] + rng.random((G, n_kpt)) * gb[:, 2:3]
    ky = gb[:, 1:2] + rng.random((G, n_kpt)) * gb[:, 3:4]
    v = rng.choice([0, 1, 2], size=(G, n_kpt), p=[0.3, 0.2, 0.5])
    none = rng.random(G) < 0.1
    v[none] = 0
    kx[v == 0] = 0
    ky[v == 0] = 0
    kx, ky = np.round(kx, 2), np.round(ky, 2)
    num = (v > 0).sum(axis=1)
    area = np.round(gt["area"] * rng.uniform(0.3, 0.9, G), 2)
    if edge_cases:
        ints = rng.random(G) < 0.2
        kx[ints], ky[ints] = np.round(kx[ints]), np.round(ky[ints])
        odd = rng.random(G) < 0.05
        num[odd] = np.maximum(num[odd] - 1, 0)
        area[rng.random(G) < 0.02] = 0.0
    gkp = np.stack([kx, ky, v], axis=2).reshape(G, 3 * n_kpt)
    anns = []
    for i in range(G):
        k = gkp[i].tolist()
        if edge_cases and float(kx[i].sum()).is_integer() and ints[i]:
            k = [int(c) for c in k]
        anns.append({"id": int(gt["id"][i]), "image_id": int(gt["image_id"][i]), "category_id": 1,
                     "bbox": gb[i].tolist(), "area": float(area[i]), "iscrowd": int(gt["iscrowd"][i]),
                     "keypoints": k, "num_keypoints": int(num[i])})
    # detections: most near a ground truth of their image, the rest random
    by_img = {}
    for i, img in enumerate(gt["image_id"].tolist()):
        by_img.setdefault(img, []).append(i)
    results = []
    dimg = dt["image_id"].tolist()
    score = dt["score"].tolist()
    for j in range(D):
        cand = by_img.get(dimg[j])
        if cand and rng.random() < 0.7:
            g = cand[int(rng.integers(len(cand)))]
            s = max(gb[g, 2], gb[g, 3], 1.0)
            x = gkp[g, 0::3] + rng.normal(0, 1, n_kpt) * s * rng.uniform(0.0, 0.04)
            y = gkp[g, 1::3] + rng.normal(0, 1, n_kpt) * s * rng.uniform(0.0, 0.04)
            none_vis = gkp[g, 2::3] == 0
            x[none_vis] = gb[g, 0] + rng.random(int(none_vis.sum())) * gb[g, 2]
            y[none_vis] = gb[g, 1] + rng.random(int(none_vis.sum())) * gb[g, 3]
        else:
            x = rng.uniform(0, W, n_kpt)
            y = rng.uniform(0, H, n_kpt)
        k = np.stack([np.round(x, 2), np.round(y, 2), np.round(rng.random(n_kpt), 3)], axis=1).reshape(-1)
        r = {"image_id": dimg[j], "category_id": 1, "keypoints": k.tolist(), "score": score[j]}
        if with_bbox:
            x0, y0 = float(np.min(x)), float(np.min(y))
            r["bbox"] = [round(x0, 2), round(y0, 2), round(float(np.max(x)) - x0, 2), round(float(np.max(y)) - y0, 2)]
        results.append(r)
    dataset = {
        "info": {"description": "fastap synthetic keypoints", "seed": seed},
        "images": [{"id": i, "width": W, "height": H} for i in images.tolist()],
        "categories": [{"id": 1, "name": "person", "supercategory": "person",
                        "keypoints": ["k%d" % i for i in range(n_kpt)], "skeleton": []}],
        "annotations": anns,
    }
    return dataset, results

# ----------------------------------------------------------------------------- YOLO / VOC writers

def _num(v, fmt):
    if fmt == "repr":
        return repr(float(v))
    return fmt % v


def write_yolo_labels(directory, cols, images, image_sizes, fmt="repr", empty_files=False):
    """Write columns as a YOLO label folder: ``<stem>.txt`` per image, lines ``class cx
    cy w h`` (``conf`` appended when ``cols`` has ``score``), normalised as ultralytics'
    ``convert_coco`` does: ``cx = (x + w / 2) / W``, ``w = w / W`` (same for y, h).

    ``cols``: ``image_id`` (position in ``images``), ``category_id`` (the class index),
    ``bbox`` float [N, 4] pixel xywh, optional ``score``; ``images``: stems;
    ``image_sizes``: [I, 2] (width, height). ``fmt``: "repr" (exact round trip of the
    normalised floats) or a %-format such as "%g" (ultralytics' six digits).
    ``empty_files``: also write empty files for images without records."""
    os.makedirs(directory, exist_ok=True)
    img = np.asarray(cols["image_id"], np.int64)
    b = np.asarray(cols["bbox"], np.float64).reshape(-1, 4)
    wh = np.asarray(image_sizes, np.float64).reshape(-1, 2)
    W, H = wh[img, 0], wh[img, 1]
    v = np.stack([(b[:, 0] + b[:, 2] / 2) / W, (b[:, 1] + b[:, 3] / 2) / H, b[:, 2] / W, b[:, 3] / H], axis=1)
    score = cols.get("score")
    cls = np.asarray(cols["category_id"], np.int64)
    lines = {}
    for i in range(img.shape[0]):
        parts = [str(int(cls[i]))] + [_num(x, fmt) for x in v[i].tolist()]
        if score is not None:
            parts.append(_num(float(score[i]), fmt))
        lines.setdefault(int(img[i]), []).append(" ".join(parts))
    for k, stem in enumerate(images):
        if k in lines or empty_files:
            with open(os.path.join(directory, "%s.txt" % stem), "w") as f:
                f.write("".join(ln + "\n" for ln in lines.get(k, [])))


def _xml_num(v):
    v = float(v)
    return str(int(v)) if v == int(v) else repr(v)


def write_voc_xml(directory, cols, images, image_sizes, class_names, file_ext=".jpg"):
    """Write ground-truth columns as PASCAL VOC XML files (``<stem>.xml``, one per
    image, also for images without objects): ``xmin = x``, ``xmax = x + w`` (same for
    y), ``<difficult>`` from ``ignore``."""
    os.makedirs(directory, exist_ok=True)
    img = np.asarray(cols["image_id"], np.int64)
    b = np.asarray(cols["bbox"], np.float64).reshape(-1, 4)
    diff = np.asarray(cols.get("ignore", np.zeros(img.shape[0])), np.int64)
    cls = np.asarray(cols["category_id"], np.int64)
    for k, stem in enumerate(images):
        w, h = (int(x) for x in image_sizes[k])
        out = ["<annotation>", "  <folder>VOC</folder>", "  <filename>%s%s</filename>" % (stem, file_ext),
               "  <size><width>%d</width><height>%d</height><depth>3</depth></size>" % (w, h),
               "  <segmented>0</segmented>"]
        for i in np.flatnonzero(img == k).tolist():
            x, y, bw, bh = b[i].tolist()
            out += ["  <object>", "    <name>%s</name>" % class_names[cls[i]], "    <pose>Unspecified</pose>",
                    "    <truncated>0</truncated>", "    <difficult>%d</difficult>" % diff[i],
                    "    <bndbox><xmin>%s</xmin><ymin>%s</ymin><xmax>%s</xmax><ymax>%s</ymax></bndbox>"
                    % (_xml_num(x), _xml_num(y), _xml_num(x + bw), _xml_num(y + bh)),
                    "  </object>"]
        out.append("</annotation>")
        with open(os.path.join(directory, "%s.xml" % stem), "w") as f:
            f.write("\n".join(out) + "\n")


def write_voc_results(directory, cols, images, class_names, prefix="comp4_det_test_"):
    """Write detection columns in the VOC devkit's per-class format:
    ``<prefix><class>.txt`` with lines ``<stem> <score> <xmin> <ymin> <xmax> <ymax>``
    (``xmax = x + w``), in input order."""
    os.makedirs(directory, exist_ok=True)
    img = np.asarray(cols["image_id"], np.int64)
    b = np.asarray(cols["bbox"], np.float64).reshape(-1, 4)
    cls = np.asarray(cols["category_id"], np.int64)
    score = np.asarray(cols["score"], np.float64)
    for k, name in enumerate(class_names):
        with open(os.path.join(directory, "%s%s.txt" % (prefix, name)), "w") as f:
            for i in np.flatnonzero(cls == k).tolist():
                x, y, bw, bh = b[i].tolist()
                f.write("%s %s %s %s %s %s\n" % (images[img[i]], repr(float(score[i])), _xml_num(x), _xml_num(y),
                                                 _xml_num(x + bw), _xml_num(y + bh)))


def write_yolo_dataset(directory, seed=0, fmt="%g", **kw):
    """Generated data (:func:`make_arrays`, or ``scale=``) as a YOLO dataset: boxes
    clipped to the image, category ids renumbered to class indices 0..K-1, images named
    ``%012d``. Writes ``labels/`` (ground truth, empty files for images without
    objects), ``predictions/`` (with ``conf``), ``image_sizes.json`` and
    ``classes.txt``; returns the directory's paths as a dict."""
    scale = kw.pop("scale", None)
    if scale is not None:
        kw = {**SCALES[scale], **kw}
    images, categories, gt, dt = make_arrays(seed=seed, **kw)
    W, H = kw.get("image_size", (640, 480))
    stems = ["%012d" % i for i in images.tolist()]
    pos = {int(v): k for k, v in enumerate(images.tolist())}
    cls_of = {int(c): k for k, c in enumerate(categories.tolist())}

    def conv(cols):
        b = np.asarray(cols["bbox"], np.float64)
        x1 = np.clip(b[:, 0], 0, W)
        y1 = np.clip(b[:, 1], 0, H)
        x2 = np.clip(b[:, 0] + b[:, 2], 0, W)
        y2 = np.clip(b[:, 1] + b[:, 3], 0, H)
        out = {"image_id": np.array([pos[int(i)] for i in cols["image_id"].tolist()], np.int64),
               "category_id": np.array([cls_of[int(c)] for c in cols["category_id"].tolist()], np.int64),
               "bbox": np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)}
        if "score" in cols:
            out["score"] = cols["score"]
        return out

    sizes = np.tile([W, H], (len(stems), 1))
    paths = {"labels": os.path.join(directory, "labels"), "predictions": os.path.join(directory, "predictions"),
             "image_sizes": os.path.join(directory, "image_sizes.json"),
             "classes": os.path.join(directory, "classes.txt")}
    write_yolo_labels(paths["labels"], conv(gt), stems, sizes, fmt=fmt, empty_files=True)
    write_yolo_labels(paths["predictions"], conv(dt), stems, sizes, fmt=fmt)
    with open(paths["image_sizes"], "w") as f:
        json.dump({s: [W, H] for s in stems}, f)
    with open(paths["classes"], "w") as f:
        f.write("".join("class_%d\n" % c for c in categories.tolist()))
    return paths


def write_png(path, width, height):
    """Write a valid all-black 1-bit greyscale PNG of the given size (a few hundred
    bytes): test input for image-header readers."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" * (1 + (width + 7) // 8)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(row * height, 9)) + chunk(b"IEND", b""))


# ------------------------------------------------------------------------ masks
def _star_polygon(rng, box, n_vertices):
    """A star-shaped polygon inscribed in an xywh box: flat [x0, y0, x1, y1, ...]."""
    x, y, w, h = box
    ang = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    rad = rng.uniform(0.45, 1.0, n_vertices)
    px = x + w / 2 + np.cos(ang) * rad * w / 2
    py = y + h / 2 + np.sin(ang) * rad * h / 2
    return np.round(np.stack([px, py], axis=1).reshape(-1), 2).tolist()


def _uncompressed_counts(mask):
    """COCO's uncompressed RLE counts of a binary mask [h, w] (column-major runs,
    starting with a run of zeros)."""
    flat = np.asarray(mask, dtype=np.uint8).reshape(-1, order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate([[0], change, [flat.shape[0]]])
    runs = np.diff(edges).tolist()
    if flat.shape[0] and flat[0] == 1:
        runs = [0] + runs
    return runs


def make_segm_coco(seed=0, n_images=100, n_categories=10, gt_per_image=7.3, dets_per_image=100,
                   image_size=(640, 480), edge_cases=False, with_bbox=False, mask_api=None,
                   result_format="rle"):
    """A COCO instance-segmentation dataset and mask results (lists of dicts).

    Ground truths are star-shaped polygons inside the boxes of :func:`make_arrays`
    (some in two parts), crowds as uncompressed RLE (``counts`` a list), with ``area``
    the mask's area (``edge_cases``: sometimes another area, a polygon reaching outside
    the image, a one-pixel object). Results are compressed RLE (``counts`` str) of
    polygons inside the detection boxes, scores with ties; ``with_bbox`` adds the box
    (then pycocotools' loadRes takes its box branch, as for detectron2's output).
    ``mask_api``: a module with pycocotools.mask's functions (default ``fastap.mask``).
    ``result_format="polygon"``: the results' segmentations are polygons instead, as an
    exporter writes ``cv2.findContours`` output: the outline resampled to 20-60 vertices,
    one in ten objects with a second part (see :func:`_contour_polygons`); with
    ``with_bbox`` the box is the outline's own box (``cv2.boundingRect``-like).
    """
    if result_format not in ("rle", "polygon"):
        raise ValueError("result_format should be 'rle' or 'polygon', got %r" % (result_format,))
    if mask_api is None:
        mask_api = mask
    rng = np.random.default_rng(seed)
    W, H = image_size
    images, categories, gt, dt = make_arrays(n_images=n_images, n_categories=n_categories,
                                             gt_per_image=gt_per_image, dets_per_image=dets_per_image,
                                             seed=seed, crowd_frac=0.02, edge_cases=edge_cases,
                                             image_size=image_size)
    anns = []
    for i in range(gt["id"].shape[0]):
        box = gt["bbox"][i].tolist()
        polys = [_star_polygon(rng, box, int(rng.integers(6, 16)))]
        if rng.random() < 0.1:
            x, y, w, h = box
            polys.append(_star_polygon(rng, [x + w / 2, y + h / 2, w / 2, h / 2], 5))
        if edge_cases and rng.random() < 0.03:
            polys[0] = [c + (W if k % 2 == 0 else 0) * 0.5 for k, c in enumerate(polys[0])]  # partly outside
        if edge_cases and rng.random() < 0.02:
            x, y = float(np.floor(box[0])), float(np.floor(box[1]))
            polys = [[x, y, x + 1, y, x + 1, y + 1, x, y + 1]]                # about one pixel
        rle = mask_api.merge(mask_api.frPyObjects(polys, H, W))
        area = float(mask_api.area(rle))
        if gt["iscrowd"][i]:
            seg = {"size": [H, W], "counts": _uncompressed_counts(mask_api.decode(rle))}
        else:
            seg = polys
        if edge_cases and rng.random() < 0.1:
            area = round(area * rng.uniform(0.5, 1.5), 2)
        anns.append({"id": int(gt["id"][i]), "image_id": int(gt["image_id"][i]),
                     "category_id": int(gt["category_id"][i]), "bbox": box, "area": area,
                     "iscrowd": int(gt["iscrowd"][i]), "segmentation": seg})
    # a detection near a ground truth gets that ground truth's outline, moved and scaled
    # into the detection's box (with a little noise), so mask IoUs spread like real ones
    by_img = {}
    for i, img in enumerate(gt["image_id"].tolist()):
        by_img.setdefault(img, []).append(i)
    results = []
    for j in range(dt["image_id"].shape[0]):
        box = dt["bbox"][j].tolist()
        cand = by_img.get(int(dt["image_id"][j]), [])
        best, best_iou = -1, 0.3
        if cand:
            gb = gt["bbox"][cand]
            ix = np.minimum(gb[:, 0] + gb[:, 2], box[0] + box[2]) - np.maximum(gb[:, 0], box[0])
            iy = np.minimum(gb[:, 1] + gb[:, 3], box[1] + box[3]) - np.maximum(gb[:, 1], box[1])
            inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
            iou = inter / (gb[:, 2] * gb[:, 3] + box[2] * box[3] - inter + 1e-9)
            k = int(np.argmax(iou))
            if iou[k] > best_iou:
                best = cand[k]
        if best >= 0 and isinstance(anns[best]["segmentation"], list):
            gx, gy, gw, gh = gt["bbox"][best].tolist()
            poly = np.asarray(anns[best]["segmentation"][0], dtype=np.float64).reshape(-1, 2)
            sx, sy = box[2] / max(gw, 1e-6), box[3] / max(gh, 1e-6)
            poly = np.stack([box[0] + (poly[:, 0] - gx) * sx, box[1] + (poly[:, 1] - gy) * sy], axis=1)
            poly += rng.normal(0, 0.03, poly.shape) * np.array([box[2], box[3]])
            polys = [np.round(poly.reshape(-1), 2).tolist()]
        else:
            polys = [_star_polygon(rng, box, int(rng.integers(6, 16)))]
        r = {"image_id": int(dt["image_id"][j]), "category_id": int(dt["category_id"][j])}
        if result_format == "polygon":
            polys = _contour_polygons(rng, polys[0], box)
            r["segmentation"] = polys
            if with_bbox:
                xy = np.concatenate([np.reshape(q, (-1, 2)) for q in polys])
                lo, hi = xy.min(axis=0), xy.max(axis=0)
                box = np.round([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]], 2).tolist()
        else:
            rle = mask_api.merge(mask_api.frPyObjects(polys, H, W))
            counts = rle["counts"]
            r["segmentation"] = {"size": [H, W], "counts": counts.decode() if isinstance(counts, bytes) else counts}
        r["score"] = float(dt["score"][j])
        if with_bbox:
            r["bbox"] = box
        results.append(r)
    dataset = {
        "info": {"description": "fastap synthetic masks", "seed": seed},
        "images": [{"id": i, "width": W, "height": H} for i in images.tolist()],
        "categories": [{"id": c, "name": "class_%d" % c, "supercategory": "thing"} for c in categories.tolist()],
        "annotations": anns,
    }
    return dataset, results

def _contour_polygons(rng, outline, box):
    """A detection's polygons as a contour exporter writes them: ``outline`` (flat x, y
    list) resampled along its edges to 20-60 vertices with a little jitter (rounded to
    0.01 px); one time in ten a second, smaller part (a 20-30-vertex star in a corner of
    ``box``)."""
    p = np.asarray(outline, dtype=np.float64).reshape(-1, 2)
    k = int(rng.integers(20, 61))
    seg = np.linalg.norm(np.roll(p, -1, axis=0) - p, axis=1)
    at = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.sort(rng.uniform(0, at[-1], k)) if at[-1] > 0 else np.zeros(k)
    i = np.clip(np.searchsorted(at, t, side="right") - 1, 0, p.shape[0] - 1)
    f = ((t - at[i]) / np.where(seg[i] > 0, seg[i], 1.0))[:, None]
    q = p[i] + f * (np.roll(p, -1, axis=0)[i] - p[i]) + rng.normal(0, 0.4, (k, 2))
    polys = [np.round(q.reshape(-1), 2).tolist()]
    if rng.random() < 0.1:
        x, y, w, h = box
        polys.append(_star_polygon(rng, [x + w * 0.7, y + h * 0.7, w * 0.3, h * 0.3], int(rng.integers(20, 31))))
    return polys


def make_boxes(n, seed=0, fmt="xyxy", dtype=np.float32, image=(1333.0, 800.0), dense=False):
    """``n`` boxes, float [n, 4] in ``fmt`` ("xyxy", "xywh" or "cxcywh"), for the IoU
    benchmarks (``bench.gpu_iou``): detector-like boxes in one ``image`` (width, height),
    sides log-uniform from 8 px to half the image, so most pairs do not overlap; with
    ``dense=True`` a crowd scene where every box covers the image centre (every pair
    overlaps: the IoU division runs for all pairs). Coordinates rounded to 1/16 px."""
    rng = np.random.default_rng(seed)
    W, H = image
    if dense:
        w = rng.uniform(0.2 * W, 0.9 * W, n)
        h = rng.uniform(0.2 * H, 0.9 * H, n)
        x = W / 2 - rng.uniform(0.05, 0.95, n) * w
        y = H / 2 - rng.uniform(0.05, 0.95, n) * h
    else:
        w = np.exp(rng.uniform(np.log(8.0), np.log(W / 2), n))
        h = np.clip(w * np.exp(rng.normal(0.0, 0.5, n)), 4.0, H / 2)
        x = rng.uniform(0, W - w)
        y = rng.uniform(0, H - h)
    b = np.round(np.stack([x, y, w, h], axis=1) * 16) / 16
    if fmt == "xyxy":
        b = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)
    elif fmt == "cxcywh":
        b = np.concatenate([b[:, :2] + b[:, 2:] / 2, b[:, 2:]], axis=1)
    elif fmt != "xywh":
        raise ValueError("fmt should be 'xyxy', 'xywh' or 'cxcywh', got %r" % (fmt,))
    return np.ascontiguousarray(b, dtype=dtype)


__all__ += ["make_boxes"]

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


# ------------------------------------------------------------------------ LVIS
#: LVIS v1 val's scale: 19,809 images, 1,203 categories (337 rare, 461 common, 405
#: frequent), about 12.5 ground truths and 300 detections per image
LVIS_V1_VAL = dict(n_images=19809, n_categories=1203, gt_per_image=12.5, dets_per_image=300)


def make_lvis_arrays(seed=0, n_images=200, n_categories=60, gt_per_image=12.5, dets_per_image=300,
                     image_size=(640, 480), edge_cases=True, score_decimals=2):
    """LVIS-style ground truth and results as arrays (see :func:`make_lvis`).

    Returns ``(images, categories, gt, dt)``: ``images`` a dict with ``id`` int64 [I]
    and, per image, ``neg_category_ids`` / ``not_exhaustive_category_ids`` (lists of
    lists of ids); ``categories`` a dict with ``id`` int64 [K] and ``frequency`` (list
    of "r" / "c" / "f"); ``gt`` columns ``id``, ``image_id``, ``category_id``, ``bbox``
    (xywh), ``area``, ``ignore``; ``dt`` columns ``image_id``, ``category_id``,
    ``bbox``, ``score``.

    The long tail: frequent categories appear in many images, common ones in some, rare
    ones in a handful (LVIS v1's 28% / 38% / 34% split). Each image has the categories
    of its ground truth, a few verified-absent ones (``neg_category_ids``) and, for
    some of its categories, a not-exhaustive mark. Results: two jittered copies of each
    ground truth (mostly with its category), then detections of the image's negative
    categories and of random categories (which the federated rule leaves out); scores
    rounded to ``score_decimals`` (ties everywhere, across categories too).
    ``edge_cases``: images with more than 300 results whose scores tie at the cut,
    images without results or without ground truth, categories without any ground
    truth, ground truths with ``ignore`` set or with a zero area, results of zero area,
    and one ground truth of id 0."""
    rng = np.random.default_rng(seed)
    W, H = image_size
    img_ids = rng.choice(np.arange(1, n_images * 5 + 1), size=n_images, replace=False).astype(np.int64)
    cat_ids = np.sort(rng.choice(np.arange(1, n_categories * 2 + 1), size=n_categories, replace=False)).astype(np.int64)
    freq = rng.choice(np.array(["r", "c", "f"]), size=n_categories, p=[0.28, 0.38, 0.34])
    weight = rng.gamma(0.8, size=n_categories) * np.select([freq == "f", freq == "c"], [1.0, 0.08], 0.006)
    if edge_cases and n_categories > 4:
        weight[rng.choice(n_categories, size=2, replace=False)] = 0.0    # categories without ground truth
    p = weight / weight.sum()
    n_gt = rng.poisson(gt_per_image, size=n_images)
    if edge_cases:
        n_gt[rng.random(n_images) < 0.05] = 0
    G = int(n_gt.sum())
    gt_img_pos = np.repeat(np.arange(n_images), n_gt)
    gt_cat_pos = rng.choice(n_categories, size=G, p=p)
    # an image's objects of one category come in small clusters
    side = np.exp(rng.uniform(np.log(3.0), np.log(400.0), size=(G, 2)))
    w, h = np.minimum(side[:, 0], W - 1), np.minimum(side[:, 1], H - 1)
    gt_box = np.round(np.stack([rng.uniform(0, W - w), rng.uniform(0, H - h), w, h], axis=1), 2)
    gt_area = np.round(gt_box[:, 2] * gt_box[:, 3] * rng.uniform(0.5, 1.0, G), 2)
    ignore = np.zeros(G, np.uint8)
    gt_id = np.arange(1, G + 1, dtype=np.int64)
    if edge_cases and G:
        ignore[rng.random(G) < 0.03] = 1
        gt_area[rng.random(G) < 0.01] = 0.0            # lvis-api leaves these out
        gt_id[0] = 0
    # per image: the categories of its ground truth, a few verified-absent ones, not-exhaustive marks
    pos_of = [[] for _ in range(n_images)]
    for i, k in zip(gt_img_pos.tolist(), gt_cat_pos.tolist()):
        pos_of[i].append(k)
    neg, nel = [], []
    n_neg = rng.poisson(4.0, size=n_images)
    for i in range(n_images):
        pos = set(pos_of[i])
        cand = rng.choice(n_categories, size=n_neg[i] + len(pos), replace=False, p=p) \
            if n_neg[i] + len(pos) <= np.count_nonzero(p) else np.zeros(0, int)
        neg.append(sorted(int(k) for k in cand if int(k) not in pos)[:n_neg[i]])
        nel.append(sorted(k for k in pos if rng.random() < 0.15))
    # results
    n_dt = np.full(n_images, int(dets_per_image))
    if edge_cases:
        n_dt[rng.random(n_images) < 0.15] = int(dets_per_image) + 53    # over the cap
        n_dt[rng.random(n_images) < 0.04] = 0
    D = int(n_dt.sum())
    dt_img_pos = np.repeat(np.arange(n_images), n_dt)
    rank = np.arange(D) - np.repeat(np.concatenate([[0], np.cumsum(n_dt)[:-1]]), n_dt)
    gt_start = np.concatenate([[0], np.cumsum(n_gt)[:-1]])
    n_gt_of = n_gt[dt_img_pos]
    from_gt = rank < 2 * n_gt_of
    src = gt_start[dt_img_pos] + np.where(from_gt, rank % np.maximum(n_gt_of, 1), 0)
    dt_cat_pos = rng.choice(n_categories, size=D)
    n_neg_of = np.array([len(x) for x in neg])[dt_img_pos]
    use_neg = ~from_gt & (n_neg_of > 0) & (rng.random(D) < 0.3)
    neg_flat = [k for x in neg for k in x]
    neg_start = np.concatenate([[0], np.cumsum([len(x) for x in neg])[:-1]]).astype(np.int64)
    if use_neg.any():
        pick = neg_start[dt_img_pos[use_neg]] + rng.integers(0, 1 << 30, int(use_neg.sum())) % n_neg_of[use_neg]
        dt_cat_pos[use_neg] = np.asarray(neg_flat, dtype=np.int64)[pick]
    rside = np.exp(rng.uniform(np.log(3.0), np.log(400.0), size=(D, 2)))
    rw, rh = np.minimum(rside[:, 0], W - 1), np.minimum(rside[:, 1], H - 1)
    dt_box = np.stack([rng.uniform(0, W - rw), rng.uniform(0, H - rh), rw, rh], axis=1)
    score = rng.beta(0.5, 4.0, size=D)
    if G and from_gt.any():
        nf = int(from_gt.sum())
        dt_box[from_gt] = _jittered(rng, gt_box[src[from_gt]])
        dt_cat_pos[from_gt] = np.where(rng.random(nf) < 0.85, gt_cat_pos[src[from_gt]], dt_cat_pos[from_gt])
        score[from_gt] = rng.beta(3.0, 1.5, size=nf)
    dt_box = np.round(dt_box, 2)
    dt_box[:, 2:] = np.maximum(dt_box[:, 2:], 0.0)
    score = np.round(score, score_decimals)
    if edge_cases and D:
        over = np.flatnonzero(n_dt[dt_img_pos] > dets_per_image)
        score[over[rng.random(over.shape[0]) < 0.5]] = 0.05     # many ties at the cut
        dt_box[rng.random(D) < 0.005, 2] = 0.0                     # zero area: left out
    # shuffle each image's results, then interleave images a little (as merged shards)
    order = np.lexsort((rng.random(D), dt_img_pos + (rng.random(D) < 0.02) * rng.integers(0, 3, D)))
    dt = dict(image_id=img_ids[dt_img_pos][order], category_id=cat_ids[dt_cat_pos][order],
              bbox=dt_box[order], score=score[order], gt_index=np.where(from_gt & (G > 0), src, -1)[order])
    gt = dict(id=gt_id, image_id=img_ids[gt_img_pos], category_id=cat_ids[gt_cat_pos], bbox=gt_box,
              area=gt_area, ignore=ignore)
    images = dict(id=img_ids, neg_category_ids=[[int(cat_ids[k]) for k in x] for x in neg],
                  not_exhaustive_category_ids=[[int(cat_ids[k]) for k in x] for x in nel])
    categories = dict(id=cat_ids, frequency=freq.tolist())
    return images, categories, gt, dt


def make_lvis(seed=0, segm=False, with_bbox=False, image_size=(640, 480), **kw):
    """An LVIS-style ground-truth dataset dict and a results list (lists of dicts).

    Keyword arguments are those of :func:`make_lvis_arrays`. The dataset has
    ``images`` (``id``, ``width``, ``height``, ``neg_category_ids``,
    ``not_exhaustive_category_ids``), ``categories`` (``id``, ``name``,
    ``frequency``, ``image_count``) and ``annotations`` (``id``, ``image_id``,
    ``category_id``, ``bbox``, ``area``, ``segmentation``; ``ignore`` where set; no
    ``iscrowd``). ``segm``: ground-truth polygons inside the boxes (area: the mask's,
    unless an edge case changed it) and results as compressed RLE (with their box too
    when ``with_bbox``, as detectron2 writes them before it pops them); otherwise box
    results, and the ground truths' segmentation is their box as a polygon."""
    rng = np.random.default_rng(seed + 7)
    W, H = image_size
    images, cats, gt, dt = make_lvis_arrays(seed=seed, image_size=image_size, **kw)
    anns = []
    boxes = gt["bbox"].tolist()
    for i, (aid, img, cat, area, ign) in enumerate(zip(gt["id"].tolist(), gt["image_id"].tolist(),
                                                       gt["category_id"].tolist(), gt["area"].tolist(),
                                                       gt["ignore"].tolist())):
        x, y, w, h = boxes[i]
        seg = [[x, y, x, y + h, x + w, y + h, x + w, y]]
        if segm:
            seg = [_star_polygon(rng, boxes[i], int(rng.integers(5, 12)))]
            if area > 0:
                area = float(mask.area(mask.merge(mask.frPyObjects(seg, H, W))))
        a = {"id": aid, "image_id": img, "category_id": cat, "bbox": boxes[i], "area": area, "segmentation": seg}
        if ign:
            a["ignore"] = 1
        anns.append(a)
    count = dict(zip(cats["id"].tolist(), [0] * len(cats["id"])))
    for c in set(zip(gt["image_id"].tolist(), gt["category_id"].tolist())):
        count[c[1]] += 1
    dataset = {
        "info": {"description": "fastap synthetic LVIS", "seed": seed},
        "images": [{"id": i, "width": W, "height": H, "neg_category_ids": n, "not_exhaustive_category_ids": e}
                   for i, n, e in zip(images["id"].tolist(), images["neg_category_ids"],
                                      images["not_exhaustive_category_ids"])],
        "categories": [{"id": c, "name": "class_%d" % c, "frequency": f, "image_count": count[c]}
                       for c, f in zip(cats["id"].tolist(), cats["frequency"])],
        "annotations": anns,
    }
    results = []
    dboxes = dt["bbox"].tolist()
    src = dt["gt_index"].tolist()
    for j, (img, cat, s) in enumerate(zip(dt["image_id"].tolist(), dt["category_id"].tolist(), dt["score"].tolist())):
        r = {"image_id": img, "category_id": cat, "score": s}
        if segm:
            polys = [_star_polygon(rng, dboxes[j], int(rng.integers(5, 12)))]
            if src[j] >= 0:        # the ground truth's outline moved into the result's box, with noise
                gx, gy, gw, gh = boxes[src[j]]
                x, y, w, h = dboxes[j]
                poly = np.asarray(anns[src[j]]["segmentation"][0], dtype=np.float64).reshape(-1, 2)
                poly = np.stack([x + (poly[:, 0] - gx) * w / max(gw, 1e-6), y + (poly[:, 1] - gy) * h / max(gh, 1e-6)], 1)
                poly += rng.normal(0, 0.03, poly.shape) * np.array([w, h])
                polys = [np.round(poly.reshape(-1), 2).tolist()]
            rle = mask.merge(mask.frPyObjects(polys, H, W))
            c = rle["counts"]
            r["segmentation"] = {"size": [H, W], "counts": c.decode() if isinstance(c, bytes) else c}
            if with_bbox:
                r["bbox"] = dboxes[j]
        else:
            r["bbox"] = dboxes[j]
        results.append(r)
    return dataset, results


def lvis_results_for(dataset, seed=0, segm=False, dets_per_image=60, score_decimals=3):
    """Results (a list of dicts) for a real LVIS ground-truth ``dataset`` dict: for each
    annotation two jittered copies (85% with its category, else a random one of the
    dataset's), then, up to ``dets_per_image`` per image, detections of the image's
    ``neg_category_ids`` and of random categories (which the federated rule leaves
    out) at random places; scores rounded to ``score_decimals`` (ties). ``segm``:
    compressed RLE masks (an annotation's polygons moved and scaled into its copy's box;
    a random box's polygon otherwise), without ``bbox``; else ``bbox`` (xywh)."""
    rng = np.random.default_rng(seed)
    imgs = {im["id"]: im for im in dataset["images"]}
    cat_ids = np.array(sorted(c["id"] for c in dataset["categories"]), dtype=np.int64)
    by_img = {}
    for a in dataset["annotations"]:
        by_img.setdefault(a["image_id"], []).append(a)
    out = []
    for img_id in sorted(imgs):
        im = imgs[img_id]
        W, H = im["width"], im["height"]
        anns = by_img.get(img_id, [])
        src = [a for a in anns for _ in range(2)]
        boxes = _jittered(rng, np.array([a["bbox"] for a in src], dtype=np.float64).reshape(-1, 4))
        n_extra = max(0, dets_per_image - len(src))
        side = np.exp(rng.uniform(np.log(4.0), np.log(0.6 * min(W, H)), size=(n_extra, 2)))
        extra = np.stack([rng.uniform(0, W - side[:, 0]), rng.uniform(0, H - side[:, 1]), side[:, 0], side[:, 1]], 1)
        negs = im.get("neg_category_ids") or []
        cats = [a["category_id"] if rng.random() < 0.85 else int(rng.choice(cat_ids)) for a in src]
        cats += [int(rng.choice(negs)) if negs and rng.random() < 0.4 else int(rng.choice(cat_ids))
                 for _ in range(n_extra)]
        scores = np.concatenate([rng.beta(3.0, 1.5, len(src)), rng.beta(0.5, 4.0, n_extra)])
        all_boxes = np.round(np.concatenate([boxes, extra]), 2)
        all_boxes[:, 2:] = np.maximum(all_boxes[:, 2:], 0.0)
        for j, (b, c, s) in enumerate(zip(all_boxes.tolist(), cats, np.round(scores, score_decimals).tolist())):
            r = {"image_id": img_id, "category_id": c, "score": s}
            if not segm:
                r["bbox"] = b
            else:
                x, y, w, h = b
                polys = [_star_polygon(rng, b, int(rng.integers(5, 12)))]
                seg = src[j].get("segmentation") if j < len(src) else None
                if isinstance(seg, list) and seg:
                    gx, gy, gw, gh = src[j]["bbox"]
                    polys = []
                    for p in seg:
                        q = np.asarray(p, dtype=np.float64).reshape(-1, 2)
                        q = np.stack([x + (q[:, 0] - gx) * w / max(gw, 1e-6), y + (q[:, 1] - gy) * h / max(gh, 1e-6)], 1)
                        polys.append(np.round(q.reshape(-1), 2).tolist())
                rle = mask.merge(mask.frPyObjects(polys, H, W))
                c_ = rle["counts"]
                r["segmentation"] = {"size": [H, W], "counts": c_.decode() if isinstance(c_, bytes) else c_}
            out.append(r)
    return out


__all__ += ["lvis_results_for"]

def _rotated_jitter(rng, boxes, sd=0.08):
    """Jittered copies of rotated boxes float64 [n, 5] (x_ctr, y_ctr, w, h, angle deg)."""
    n = boxes.shape[0]
    out = boxes.copy()
    out[:, 0:2] += rng.normal(0, sd, (n, 2)) * boxes[:, 2:4]
    out[:, 2:4] *= np.exp(rng.normal(0, sd, (n, 2)))
    out[:, 4] += rng.normal(0, 25 * sd, n)
    return out


def _random_rboxes(rng, n, image_size, min_side, max_frac, max_angle):
    """n rotated boxes float64 [n, 5] (x_ctr, y_ctr, w, h, angle in degrees): sides
    log-uniform in [min_side, max_frac * the image's smaller side], centres uniform in
    the image, angles uniform in [-max_angle, max_angle] (drawn in that order)."""
    W, H = image_size
    wh = np.exp(rng.uniform(np.log(min_side), np.log(max_frac * min(W, H)), (n, 2)))
    return np.c_[rng.uniform(0, W, n), rng.uniform(0, H, n), wh, rng.uniform(-max_angle, max_angle, n)]


def make_rotated_coco(seed=0, n_images=50, n_categories=4, gt_per_image=6.0, dets_per_image=12.0,
                      crowd_frac=0.05, image_size=(800.0, 800.0), score_decimals=1):
    """Ground truth (a COCO dataset dict) and results (a list of dicts) of rotated boxes:
    ``bbox`` = [x_ctr, y_ctr, w, h, angle] (degrees, counter-clockwise: detectron2's
    XYWHA). Ground-truth ``area`` differs a little from w*h (pycocotools reads the
    field); some ground truth is crowd; detections are jittered copies of ground truths
    (a few of another category) plus random boxes, scores rounded to
    ``score_decimals`` (ties). Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    W, H = image_size
    n_gt = rng.poisson(gt_per_image, n_images)
    g_img = np.repeat(np.arange(1, n_images + 1), n_gt)
    G = g_img.shape[0]
    gb = _random_rboxes(rng, G, image_size, 4, 0.4, 180)
    g_cat = rng.integers(1, n_categories + 1, G)
    anns = [{"id": i + 1, "image_id": int(g_img[i]), "category_id": int(g_cat[i]), "bbox": gb[i].tolist(),
             "area": float(gb[i, 2] * gb[i, 3] * a), "iscrowd": int(c)}
            for i, (a, c) in enumerate(zip(rng.uniform(0.85, 1.0, G), rng.random(G) < crowd_frac))]
    n_copy = min(G, int(round(0.6 * dets_per_image * n_images)))
    src = rng.integers(0, G, n_copy) if G else np.zeros(0, np.int64)
    db = _rotated_jitter(rng, gb[src]) if G else np.zeros((0, 5))
    d_img, d_cat = g_img[src], g_cat[src].copy()
    other = rng.random(n_copy) < 0.1
    d_cat[other] = rng.integers(1, n_categories + 1, int(other.sum()))
    n_rand = int(round(0.4 * dets_per_image * n_images))
    db = np.r_[db, _random_rboxes(rng, n_rand, image_size, 4, 0.4, 180)]
    d_img = np.r_[d_img, rng.integers(1, n_images + 1, n_rand)]
    d_cat = np.r_[d_cat, rng.integers(1, n_categories + 1, n_rand)]
    # copies of ground truth score higher than random boxes, as a detector's do
    score = np.round(np.r_[0.4 + 0.6 * rng.random(n_copy), 0.7 * rng.random(n_rand)], score_decimals)
    order = rng.permutation(db.shape[0])
    results = [{"image_id": int(d_img[i]), "category_id": int(d_cat[i]), "bbox": db[i].tolist(),
                "score": float(score[i])} for i in order]
    dataset = {"images": [{"id": i, "width": int(W), "height": int(H)} for i in range(1, n_images + 1)],
               "categories": [{"id": c, "name": "class%d" % c} for c in range(1, n_categories + 1)],
               "annotations": anns}
    return dataset, results


def rbox_to_quad(boxes):
    """Quads float64 [n, 8] (x1 y1 ... x4 y4, clockwise on the image) of rotated boxes
    float [n, 5] (x_ctr, y_ctr, w, h, angle in degrees counter-clockwise: detectron2's
    XYWHA, the convention of fastap.rotated_iou)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 5)
    t = np.deg2rad(b[:, 4])
    c, s = np.cos(t), np.sin(t)
    out = np.empty((b.shape[0], 8))
    for i, (dx, dy) in enumerate(((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))):
        ex, ey = dx * b[:, 2], dy * b[:, 3]
        out[:, 2 * i] = b[:, 0] + c * ex + s * ey
        out[:, 2 * i + 1] = b[:, 1] - s * ex + c * ey
    return out


def make_dota(seed=0, n_images=500, n_classes=15, objects_per_image=50.0, dets_per_image=80.0,
              difficult_frac=0.1, image_size=(1024.0, 1024.0), score_decimals=None):
    """DOTA-like ground truth and detections as mappings of arrays
    (:func:`fastap.evaluate_dota`'s input): ``image_id``, ``category_id`` (1-based),
    ``poly`` float64 [n, 8] (convex quads: rotated rectangles, small objects many, as in
    aerial images), gt ``difficult``, dt ``score`` (continuous unless ``score_decimals``
    rounds them into ties). Detections are jittered copies of ground truths (scored
    higher) and random quads. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n_gt = rng.poisson(objects_per_image, n_images)
    g_img = np.repeat(np.arange(1, n_images + 1), n_gt)
    G = g_img.shape[0]
    gb = _random_rboxes(rng, G, image_size, 6, 0.2, 90)
    g_cat = rng.integers(1, n_classes + 1, G)
    n_copy = min(G, int(round(0.7 * dets_per_image * n_images)))
    src = rng.integers(0, G, n_copy) if G else np.zeros(0, np.int64)
    db = _rotated_jitter(rng, gb[src], sd=0.1) if G else np.zeros((0, 5))
    d_cat = g_cat[src].copy()
    other = rng.random(n_copy) < 0.05
    d_cat[other] = rng.integers(1, n_classes + 1, int(other.sum()))
    n_rand = int(round(0.3 * dets_per_image * n_images))
    rb = _random_rboxes(rng, n_rand, image_size, 6, 0.2, 90)
    score = np.r_[0.3 + 0.7 * rng.random(n_copy), 0.6 * rng.random(n_rand)]
    if score_decimals is not None:
        score = np.round(score, score_decimals)
    order = rng.permutation(n_copy + n_rand)
    gt = {"image_id": g_img.astype(np.int64), "category_id": g_cat.astype(np.int64), "poly": rbox_to_quad(gb),
          "difficult": (rng.random(G) < difficult_frac).astype(np.uint8)}
    dt = {"image_id": np.r_[g_img[src], rng.integers(1, n_images + 1, n_rand)][order].astype(np.int64),
          "category_id": np.r_[d_cat, rng.integers(1, n_classes + 1, n_rand)][order].astype(np.int64),
          "poly": rbox_to_quad(np.r_[db, rb])[order], "score": score[order]}
    return gt, dt


def write_dota(directory, gt, dt, class_names, image_names=None, header=True):
    """Write :func:`make_dota`'s output as DOTA files: ``labelTxt/<image>.txt`` (optional
    ``imagesource:`` / ``gsd:`` header, then ``x1 y1 ... x4 y4 class difficult``) and
    ``results/Task1_<class>.txt`` (``image score x1 y1 ... x4 y4``), numbers written with
    repr (read back exactly). ``class_names[k]`` names category id k; images are named
    ``image_names[i - 1]`` for image id i (default ``P%04d``). Returns (labels folder,
    results folder, image names)."""
    lab, res = os.path.join(directory, "labelTxt"), os.path.join(directory, "results")
    os.makedirs(lab, exist_ok=True)
    os.makedirs(res, exist_ok=True)
    n_img = int(max(gt["image_id"].max(initial=0), dt["image_id"].max(initial=0)))
    names = list(image_names) if image_names is not None else ["P%04d" % i for i in range(1, n_img + 1)]
    lines = {i: [] for i in range(1, n_img + 1)}
    for img, cat, q, d in zip(gt["image_id"].tolist(), gt["category_id"].tolist(), gt["poly"].tolist(),
                              gt["difficult"].tolist()):
        lines[img].append(" ".join(repr(v) for v in q) + " %s %d" % (class_names[cat], d))
    for img, ls in lines.items():
        with open(os.path.join(lab, names[img - 1] + ".txt"), "w") as f:
            if header:
                f.write("imagesource:GoogleEarth\ngsd:0.146343590398\n")
            f.write("".join(x + "\n" for x in ls))
    per_class = {}
    for img, cat, q, sc in zip(dt["image_id"].tolist(), dt["category_id"].tolist(), dt["poly"].tolist(),
                               dt["score"].tolist()):
        per_class.setdefault(cat, []).append("%s %r %s\n" % (names[img - 1], sc, " ".join(repr(v) for v in q)))
    for cat, ls in per_class.items():
        with open(os.path.join(res, "Task1_%s.txt" % class_names[cat]), "w") as f:
            f.write("".join(ls))
    return lab, res, names
