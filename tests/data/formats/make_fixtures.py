"""Regenerate the YOLO and VOC fixtures in this folder from two real VOC-style cases in
../realdata (see README.md):

    PYTHONPATH=. python tests/data/formats/make_fixtures.py     # from the repository root

Uses the writers in fastap.synthetic (write_yolo_labels, write_voc_xml,
write_voc_results, write_png)."""
import glob
import json
import os
import shutil

import numpy as np

from fastap import synthetic

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "realdata")


def odm_sample():
    """Padilla's 7-image sample: (stems, gt columns, dt columns), one class 'person'."""
    d = os.path.join(REAL, "odm_voc_sample_7img")
    stems, gt, dt = [], {"image_id": [], "category_id": [], "bbox": []}, \
        {"image_id": [], "category_id": [], "bbox": [], "score": []}
    for i, path in enumerate(sorted(glob.glob(os.path.join(d, "groundtruths", "*.txt")))):
        stem = os.path.splitext(os.path.basename(path))[0]
        stems.append(stem)
        for ln in open(path).read().splitlines():
            if ln.strip():
                _, x, y, w, h = ln.split()
                gt["image_id"].append(i); gt["category_id"].append(0)
                gt["bbox"].append([float(x), float(y), float(w), float(h)])
        for ln in open(os.path.join(d, "detections", stem + ".txt")).read().splitlines():
            if ln.strip():
                _, s, x, y, w, h = ln.split()
                dt["image_id"].append(i); dt["category_id"].append(0)
                dt["bbox"].append([float(x), float(y), float(w), float(h)]); dt["score"].append(float(s))
    return stems, gt, dt


def toy_example():
    """review_odm's 10 VOC images, class 'cat': (stems, sizes, gt columns, dt columns)."""
    d = os.path.join(REAL, "review_odm_toyexample_voc")
    g = json.load(open(os.path.join(d, "toy_example_coco.json")))
    t = json.load(open(os.path.join(d, "coco_dets.json")))["annotations"]
    imgs = sorted(g["images"], key=lambda im: im["file_name"])
    stems = [os.path.splitext(im["file_name"])[0] for im in imgs]
    pos = {im["id"]: k for k, im in enumerate(imgs)}
    sizes = [(im["width"], im["height"]) for im in imgs]
    gt = {"image_id": [pos[a["image_id"]] for a in g["annotations"]], "category_id": [0] * len(g["annotations"]),
          "bbox": [a["bbox"] for a in g["annotations"]]}
    dt = {"image_id": [pos[a["image_id"]] for a in t], "category_id": [0] * len(t),
          "bbox": [a["bbox"] for a in t], "score": [a["score"] for a in t]}
    return stems, sizes, gt, dt


def main():
    for sub in ("odm7_yolo", "odm7_voc", "toy_yolo", "toy_voc"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    stems, gt, dt = odm_sample()
    sizes = [(256, 256)] * len(stems)      # powers of two: the YOLO round trip is exact
    o = os.path.join(HERE, "odm7_yolo")
    synthetic.write_yolo_labels(os.path.join(o, "labels"), gt, stems, sizes)
    synthetic.write_yolo_labels(os.path.join(o, "predictions"), dt, stems, sizes)
    os.makedirs(os.path.join(o, "images"))
    for s in stems:
        synthetic.write_png(os.path.join(o, "images", s + ".png"), 256, 256)
    with open(os.path.join(o, "image_sizes.json"), "w") as f:
        json.dump({s: list(wh) for s, wh in zip(stems, sizes)}, f, indent=1)
    with open(os.path.join(o, "classes.txt"), "w") as f:
        f.write("person\n")
    o = os.path.join(HERE, "odm7_voc")
    synthetic.write_voc_xml(os.path.join(o, "Annotations"), gt, stems, sizes, ["person"])
    synthetic.write_voc_results(os.path.join(o, "results"), dt, stems, ["person"])

    stems, sizes, gt, dt = toy_example()
    o = os.path.join(HERE, "toy_yolo")
    synthetic.write_yolo_labels(os.path.join(o, "labels"), gt, stems, sizes)
    synthetic.write_yolo_labels(os.path.join(o, "predictions"), dt, stems, sizes)
    with open(os.path.join(o, "image_sizes.csv"), "w") as f:
        f.write("name,width,height\n" + "".join("%s.jpg,%d,%d\n" % (s, w, h) for s, (w, h) in zip(stems, sizes)))
    with open(os.path.join(o, "data.yaml"), "w") as f:
        f.write("path: ../toy\ntrain: images\nval: images\nnames:\n  0: cat\n")
    o = os.path.join(HERE, "toy_voc")
    synthetic.write_voc_xml(os.path.join(o, "Annotations"), gt, stems, sizes, ["cat"])
    synthetic.write_voc_results(os.path.join(o, "results"), dt, stems, ["cat"])


if __name__ == "__main__":
    main()
