"""Reading a YOLO label folder: ground truth and predictions of COCO val2017 scale
(5,000 images, ~7.3 ground truths and 100 predictions per image, ultralytics' "%g"
six-digit text) written by fastap.synthetic.write_yolo_dataset, then read with
fastap.formats.read_yolo (image sizes from a JSON file). Prints the median of the
repeats per phase, and the evaluation of what was read.

    python -m bench.formats [--scale coco_val2017] [--repeat 5]
"""
import argparse
import statistics
import tempfile
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="coco_val2017")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    import fastap
    from fastap import formats, synthetic
    with tempfile.TemporaryDirectory(prefix="fastap-bench-yolo-") as d:
        p = synthetic.write_yolo_dataset(d, seed=0, scale=args.scale)
        t_gt, t_dt = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            gt = formats.read_yolo(p["labels"], image_sizes=p["image_sizes"], class_names=p["classes"])
            t1 = time.perf_counter()
            dt = formats.read_yolo(p["predictions"], predictions=True, images=gt)
            t2 = time.perf_counter()
            t_gt.append(t1 - t0)
            t_dt.append(t2 - t1)
        t0 = time.perf_counter()
        res = fastap.evaluate(gt, dt, img_ids=gt.image_ids)
        t_ev = time.perf_counter() - t0
    g, dd = statistics.median(t_gt), statistics.median(t_dt)
    print("YOLO folder, %s scale: %d images, %d ground truths, %d predictions (median of %d)"
          % (args.scale, len(gt.images), len(gt["bbox"]), len(dt["bbox"]), args.repeat))
    print("read ground truth %.3f s, predictions %.3f s, both %.3f s; evaluate %.3f s; mAP %.4f"
          % (g, dd, g + dd, t_ev, res.map))


if __name__ == "__main__":
    main()
