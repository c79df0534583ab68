"""The error catalogue (docs/guide/errors.md): typical user mistakes, each raising the
documented class with a message that names what it should -- the file (where there is
one), the record (index, and id where it has one) or line, and the field.

Each entry is a mistake, the class it must raise (or, for the command line, the exit
code and the stderr line) and the words its message must hold.
"""
import contextlib
import io
import json
import os
import re
import warnings

import numpy as np
import pytest

import fastap
from fastap import cli, errors
from fastap.errors import (DeviceError, FastapError, InvalidAnnotationError, InvalidFileError,
                           InvalidOptionError, InvalidTypeError)

from conftest import DATA, REALDATA

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASE = os.path.join(REALDATA, "cocoapi_val2014_fake100")
GT = os.path.join(CASE, "instances_val2014_100.json")
DT = os.path.join(CASE, "instances_val2014_fakebbox100_results.json")
ODM_YOLO = os.path.join(DATA, "formats", "odm7_yolo")

ENTRIES = {}
USAGE, CLI_ERROR = "usage error", "one-line error"


def entry(expected, *names):
    """Register a mistake: ``expected`` is an exception class, a warning class,
    USAGE (argparse's usage error, exit code 2) or CLI_ERROR ('fastap: error: ...',
    exit code 2); ``names`` are the words the message must hold ('{tmp}' stands for the
    test's temporary folder)."""
    def register(fn):
        ENTRIES[fn.__name__] = (fn, expected, names)
        return fn
    return register


def quiet():
    return contextlib.redirect_stdout(io.StringIO())


def write(tmp, name, text):
    p = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    return p


def dataset(n=3, **ann_fields):
    d = {"images": [{"id": i, "width": 100, "height": 100} for i in range(1, n + 1)],
         "categories": [{"id": 1, "name": "a"}],
         "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100,
                          "iscrowd": 0} for i in range(1, n + 1)]}
    for k, v in ann_fields.items():
        d["annotations"][1][k] = v
    return d


def coco(d):
    with quiet():
        return fastap.COCO(d)


def evaluate_coco(gt, res, iou_type="bbox"):
    with quiet():
        g = gt if isinstance(gt, fastap.COCO) else fastap.COCO(gt)
        ev = fastap.COCOeval(g, g.loadRes(res), iou_type)
        ev.evaluate()
        ev.accumulate()


RES = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]


def arrays(**dt_fields):
    gt = {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 1, 1]]}
    dt = {"image_id": [1], "category_id": [1], "bbox": [[0, 0, 1, 1]], "score": [1.0]}
    dt.update(dt_fields)
    return gt, dt


# -- files ------------------------------------------------------------------------------------

@entry(InvalidFileError, "{tmp}/nope.json", "cannot read")
def annotation_file_missing(tmp):
    coco(os.path.join(tmp, "nope.json"))


@entry(InvalidFileError, "notjson.json", "JSON")
def annotation_file_not_json(tmp):
    coco(write(tmp, "notjson.json", "hello"))


@entry(InvalidFileError, "list.json", "JSON object")
def annotation_file_holds_a_list(tmp):
    coco(write(tmp, "list.json", "[1, 2]"))


@entry(InvalidFileError, "cut.json", "'images'", "end of file")
def annotation_file_cut_short(tmp):
    coco(write(tmp, "cut.json", '{"images": [{"id": 1'))


@entry(InvalidFileError, "{tmp}/nores.json", "cannot read")
def results_file_missing(tmp):
    coco(dataset()).loadRes(os.path.join(tmp, "nores.json"))


@entry(InvalidFileError, "resdict.json", "list")
def results_file_holds_an_object(tmp):
    coco(dataset()).loadRes(write(tmp, "resdict.json", '{"image_id": 1}'))


@entry(InvalidFileError, "noscore.json", "record 0", "'score'")
def results_file_record_without_score(tmp):
    coco(dataset()).loadRes(write(tmp, "noscore.json", '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}]'))


@entry(InvalidFileError, "scorestr.json", "record 0", "'score'", "string")
def results_file_score_is_a_string(tmp):
    coco(dataset()).loadRes(write(tmp, "scorestr.json", json.dumps([dict(RES[0], score="high")])))


@entry(InvalidFileError, "imgstr.json", "record 0", "'image_id'")
def results_file_image_id_is_a_string(tmp):
    coco(dataset()).loadRes(write(tmp, "imgstr.json", json.dumps([dict(RES[0], image_id="1")])))


@entry(InvalidFileError, "r2.json", "record 1", "'bbox'")
def results_file_second_record_without_bbox(tmp):
    coco(dataset()).loadRes(write(tmp, "r2.json", json.dumps(RES + [{"image_id": 2, "category_id": 1,
                                                                     "score": 0.5}])))


@entry(InvalidAnnotationError, "bbox5.json", "'bbox'", "rotated", "iouType='rotated'")
def results_file_bbox_of_five_numbers(tmp):
    # 5 values are a rotated box (loadRes keeps them, as pycocotools'): a box evaluation
    # of them is refused, naming iouType 'rotated'
    gt = coco(dataset())
    res = gt.loadRes(write(tmp, "bbox5.json", json.dumps([dict(RES[0], bbox=[0, 0, 1, 1, 1])])))
    with quiet():
        fastap.COCOeval(gt, res, "bbox").evaluate()


@entry(InvalidFileError, "P0001.txt", "line 3", "'difficult'")
def dota_label_difficult_not_integer(tmp):
    write(tmp, "labelTxt/P0001.txt", "imagesource:GoogleEarth\ngsd:0.1\n0 0 4 0 4 2 0 2 plane yes\n")
    fastap.read_dota(os.path.join(tmp, "labelTxt"))


@entry(InvalidAnnotationError, "'bbox' holds 4 values", "x_ctr, y_ctr, w, h, angle")
def rotated_eval_of_axis_aligned_boxes(tmp):
    gt = coco(dataset())
    with quiet():
        res = gt.loadRes(list(RES))
        fastap.COCOeval(gt, res, "rotated").evaluate()


@entry(InvalidFileError, "{tmp}/nolabels", "labels folder")
def yolo_labels_folder_missing(tmp):
    fastap.read_yolo(os.path.join(tmp, "nolabels"), image_sizes={})


@entry(InvalidFileError, "x.xml", "XML")
def voc_file_not_xml(tmp):
    write(tmp, "A/x.xml", "<annotation><object>")
    fastap.read_voc_xml(os.path.join(tmp, "A"))


@entry(InvalidFileError, "sizes.json", "JSON")
def yolo_image_sizes_file_not_json(tmp):
    write(tmp, "Y/a.txt", "0 0.5 0.5 0.1 0.1\n")
    fastap.read_yolo(os.path.join(tmp, "Y"), image_sizes=write(tmp, "sizes.json", "{bad"))


# -- records and fields ---------------------------------------------------------------------------

@entry(InvalidAnnotationError, "negw.json", "record 0", "'bbox'", "negative width")
def results_file_negative_width(tmp):
    coco(dataset()).loadRes(write(tmp, "negw.json", json.dumps([dict(RES[0], bbox=[0, 0, -1, 1])])))


@entry(InvalidAnnotationError, "nan.json", "record 0", "'score'", "finite")
def results_file_score_nan(tmp):
    coco(dataset()).loadRes(write(tmp, "nan.json", '[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], '
                                                   '"score": NaN}]'))


@entry(InvalidFileError, "unknown.json", "record 0", "image_id 7", "not an image of the ground truth")
def results_on_an_unknown_image(tmp):
    coco(dataset()).loadRes(write(tmp, "unknown.json", json.dumps([dict(RES[0], image_id=7)])))


@entry(InvalidAnnotationError, "record 0", "image_id 1", "no 'images' list")
def results_against_ground_truth_without_images(tmp):
    d = dataset()
    del d["images"]
    coco(d).loadRes(RES)


@entry(InvalidTypeError, "results record 0", "dict")
def results_entry_not_a_dict(tmp):
    coco(dataset()).loadRes([1, 2])


@entry(InvalidAnnotationError, "results record 0", "'bbox'", "'segmentation'")
def results_record_without_geometry(tmp):
    coco(dataset()).loadRes([{"image_id": 1, "category_id": 1, "score": 1}])


@entry(InvalidAnnotationError, "results record 0", "'bbox'", "'0 0 5 5'")
def results_bbox_as_a_string(tmp):
    evaluate_coco(dataset(), [dict(RES[0], bbox="0 0 5 5")])


@entry(InvalidAnnotationError, "results record 0", "'score'", "None")
def results_score_null(tmp):
    evaluate_coco(dataset(), [dict(RES[0], score=None)])


@entry(InvalidAnnotationError, "(N, 7)", "(3, 6)")
def results_array_of_six_columns(tmp):
    coco(dataset()).loadRes(np.zeros((3, 6)))


@entry(InvalidFileError, "rag.json", "annotations record 1 (id 2)", "'bbox'", "4 numbers")
def annotation_bbox_of_three_numbers(tmp):
    evaluate_coco(write(tmp, "rag.json", json.dumps(dataset(bbox=[0, 0, 5]))), RES)


@entry(InvalidFileError, "bnull.json", "annotations record 1 (id 2)", "'bbox'", "None")
def annotation_bbox_null(tmp):
    evaluate_coco(write(tmp, "bnull.json", json.dumps(dataset(bbox=None))), RES)


@entry(InvalidAnnotationError, "annotations record 1 (id 2)", "'bbox'", "negative width")
def annotation_negative_height(tmp):
    evaluate_coco(dataset(bbox=[0, 0, 10, -2]), RES)


@entry(InvalidFileError, "crowd.json", "annotations record 1 (id 2)", "'iscrowd'", "'no'")
def annotation_iscrowd_string(tmp):
    evaluate_coco(write(tmp, "crowd.json", json.dumps(dataset(iscrowd="no"))), RES)


@entry(InvalidFileError, "noarea.json", "annotations record 1 (id 2)", "missing field 'area'")
def annotation_without_area(tmp):
    d = dataset()
    del d["annotations"][1]["area"]
    evaluate_coco(write(tmp, "noarea.json", json.dumps(d)), RES)


@entry(InvalidAnnotationError, "id 3", "records 1 and 2", "unique")
def annotation_ids_duplicated(tmp):
    evaluate_coco(write(tmp, "dup.json", json.dumps(dataset(id=3))), RES)


@entry(InvalidAnnotationError, "badrle.json", "record 0", "segmentation", "counts")
def rle_counts_of_wrong_type(tmp):
    coco(dataset()).loadRes(write(tmp, "badrle.json", json.dumps(
        [{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"size": [100, 100], "counts": 5}}])))


@entry(InvalidAnnotationError, "rlesize.json", "record 0", "segmentation", "2500 pixels")
def rle_counts_not_summing_to_the_image(tmp):
    evaluate_coco(dataset(), write(tmp, "rlesize.json", json.dumps(
        [{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"size": [50, 50], "counts": "0"}}])), "segm")


@entry(InvalidAnnotationError, "rs.json", "record 0", "size", "[height, width]")
def rle_size_of_one_number(tmp):
    evaluate_coco(dataset(), write(tmp, "rs.json", json.dumps(
        [{"image_id": 1, "category_id": 1, "score": 1, "segmentation": {"size": [100], "counts": "0"}}])), "segm")


@entry(InvalidAnnotationError, "results record 0", "segmentation", "3 points")
def polygon_of_two_points(tmp):
    evaluate_coco(dataset(), [{"image_id": 1, "category_id": 1, "score": 1, "segmentation": [[1, 2, 3]]}], "segm")


@entry(InvalidAnnotationError, "ground truth record 0", "segmentation", "height and width")
def polygons_without_image_sizes(tmp):
    gt, dt = arrays()
    fastap.evaluate({**gt, "segmentation": [[[0, 0, 1, 0, 1, 1]]]},
                    {"image_id": [1], "category_id": [1], "score": [1], "segmentation": [[[0, 0, 1, 0, 1, 1]]]},
                    iou_type="segm")


def _keypoint_dataset(bad):
    d = dataset()
    for a in d["annotations"]:
        a["keypoints"], a["num_keypoints"] = [1, 1, 2] * 17, 17
    d["annotations"][1]["keypoints"] = bad
    return d


@entry(InvalidFileError, "kpshort.json", "annotations record 1", "keypoints", "51 numbers", "got 15")
def keypoints_fewer_than_the_sigmas(tmp):
    evaluate_coco(write(tmp, "kpshort.json", json.dumps(_keypoint_dataset([1, 1, 2] * 5))),
                  [{"image_id": 1, "category_id": 1, "keypoints": [1, 1, 2] * 17, "score": 1}], "keypoints")


@entry(InvalidFileError, "kpbad.json", "annotations record 1", "'keypoints'", "string")
def keypoints_not_numbers(tmp):
    evaluate_coco(write(tmp, "kpbad.json", json.dumps(_keypoint_dataset([1, "x", 2] * 17))),
                  [{"image_id": 1, "category_id": 1, "keypoints": [1, 1, 2] * 17, "score": 1}], "keypoints")


@entry(InvalidAnnotationError, "ground truth", "'bbox'", "shape (1, 4)", "(1, 3)")
def arrays_boxes_of_three_columns(tmp):
    gt, dt = arrays()
    fastap.evaluate({**gt, "bbox": [[0, 0, 1]]}, dt)


@entry(InvalidAnnotationError, "detections", "missing field 'score'")
def arrays_without_scores(tmp):
    gt, dt = arrays()
    del dt["score"]
    fastap.evaluate(gt, dt)


@entry(InvalidAnnotationError, "detections record 0", "'bbox'", "finite")
def arrays_nan_box(tmp):
    gt, dt = arrays(bbox=[[0, np.nan, 1, 1]])
    fastap.evaluate(gt, dt)


@entry(InvalidAnnotationError, "ground truth", "'category_id'", "shape (2,)")
def arrays_of_different_lengths(tmp):
    gt, dt = arrays()
    fastap.evaluate({**gt, "image_id": [1, 2]}, dt)


@entry(InvalidAnnotationError, "detections record 0", "'image_id'", "integer")
def arrays_fractional_id(tmp):
    gt, dt = arrays(image_id=[1.5])
    fastap.evaluate(gt, dt)


@entry(InvalidAnnotationError, "ground truth record 0", "'bbox'", "negative width")
def arrays_xyxy_boxes_given_as_xywh_the_other_way(tmp):
    gt, dt = arrays()
    fastap.evaluate({**gt, "bbox": [[5, 5, 1, 1]]}, dt, box_format="xyxy")


@entry(InvalidAnnotationError, "ground truth record 0", "'iscrowd'", "0 or 1")
def arrays_iscrowd_of_two(tmp):
    gt, dt = arrays()
    fastap.evaluate({**gt, "iscrowd": [2]}, dt)


@entry(InvalidTypeError, "ground truth", "mapping of arrays", "list")
def arrays_given_as_a_list(tmp):
    fastap.evaluate([1, 2], arrays()[1])


@entry(InvalidTypeError, "COCO objects", "mappings of arrays")
def coco_and_arrays_mixed_for_masks(tmp):
    fastap.evaluate(coco(dataset()), {"image_id": [1], "category_id": [1], "score": [1],
                                      "segmentation": [[[0, 0, 1, 0, 1, 1]]]}, iou_type="segm")


@entry(InvalidAnnotationError, "a.txt", "line 1", "'h'", "5 fields")
def yolo_line_of_four_fields(tmp):
    write(tmp, "Y/a.txt", "0 0.5 0.5 0.1\n")
    fastap.read_yolo(os.path.join(tmp, "Y"), image_sizes={"a": (10, 10)})


@entry(InvalidAnnotationError, "a.txt", "'size'", "image_sizes=", "images_dir=", "--image-sizes", "--images")
def yolo_without_image_sizes(tmp):
    write(tmp, "Y/a.txt", "0 0.5 0.5 0.1 0.1\n")
    fastap.read_yolo(os.path.join(tmp, "Y"))


@entry(InvalidAnnotationError, "comp4_det_test_cat.txt", "line 1", "'image_id'", "'zz'")
def voc_result_on_an_unknown_image(tmp):
    write(tmp, "V/A/im.xml", "<annotation><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                             "<xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>")
    write(tmp, "V/R/comp4_det_test_cat.txt", "zz 0.5 1 1 5 5\n")
    fastap.read_voc_results(os.path.join(tmp, "V/R"), fastap.read_voc_xml(os.path.join(tmp, "V/A")))


@entry(InvalidTypeError, "mask", "uint8", "float64")
def mask_of_floats(tmp):
    fastap.mask.encode(np.zeros((2, 2), np.float64))


@entry(InvalidAnnotationError, "rleObjs[0]", "counts", "0x7a")
def rle_string_of_other_characters(tmp):
    fastap.mask.decode({"size": [2, 2], "counts": b"zzzz"})


@entry(InvalidAnnotationError, "image 1", "'width'", "annotation 1")
def mask_of_an_image_without_width(tmp):
    d = dataset()
    del d["images"][0]["width"]
    d["annotations"][0]["segmentation"] = [[0, 0, 5, 0, 5, 5]]
    c = coco(d)
    c.annToMask(c.anns[1])


# -- parameters and call order --------------------------------------------------------------------

def _cocoeval(set_params=None, dt=True):
    g = coco(dataset())
    with quiet():
        ev = fastap.COCOeval(g, g.loadRes(RES) if dt else None, "bbox")
    if set_params:
        set_params(ev.params)
    return ev


@entry(InvalidAnnotationError, "maxDets", "[-1]")
def params_negative_max_dets(tmp):
    ev = _cocoeval(lambda p: setattr(p, "maxDets", [-1]))
    with quiet():
        ev.evaluate()


@entry(InvalidAnnotationError, "areaRng", "[lo, hi]")
def params_area_ranges_of_three(tmp):
    ev = _cocoeval(lambda p: setattr(p, "areaRng", [[0, 1, 2]]))
    with quiet():
        ev.evaluate()


@entry(InvalidAnnotationError, "iouThrs", "finite", "nan")
def params_nan_iou_threshold(tmp):
    ev = _cocoeval(lambda p: setattr(p, "iouThrs", np.array([0.5, np.nan])))
    with quiet():
        ev.evaluate()


@entry(InvalidAnnotationError, "params record 0", "'imgIds'", "'a'")
def params_image_ids_of_strings(tmp):
    ev = _cocoeval(lambda p: setattr(p, "imgIds", ["a"]))
    with quiet():
        ev.evaluate()


@entry(InvalidAnnotationError, "accumulate()", "evaluate() first")
def accumulate_before_evaluate(tmp):
    with quiet():
        _cocoeval().accumulate()


@entry(InvalidAnnotationError, "cocoDt is None", "loadRes")
def evaluate_without_results(tmp):
    with quiet():
        _cocoeval(dt=False).evaluate()


@entry(InvalidAnnotationError, "image 1", "already evaluated", "one update")
def evaluator_image_in_two_updates(tmp):
    ev = fastap.Evaluator(dataset())
    ev.update(RES)
    ev.update(RES)


@entry(InvalidAnnotationError, "results record 0", "image_id 9", "ground truth")
def evaluator_unknown_image(tmp):
    fastap.Evaluator(dataset()).update([dict(RES[0], image_id=9)])


@entry(InvalidAnnotationError, "params.maxDets")
def evaluator_merge_of_other_parameters(tmp):
    p = fastap.Params("bbox")
    p.maxDets = [1, 10, 50]
    fastap.Evaluator(dataset()).merge(fastap.Evaluator(dataset(), params=p))


@entry(InvalidAnnotationError, "preds[0]", "'scores'")
def evaluator_free_mode_without_scores(tmp):
    fastap.Evaluator().update([{"boxes": np.zeros((1, 4)), "labels": [1]}], [{"boxes": np.zeros((1, 4)),
                                                                            "labels": [1]}])


@entry(InvalidAnnotationError, "reports", "protocol='coco'")
def reports_of_a_voc_result(tmp):
    gt, dt = arrays()
    fastap.operating_points(fastap.evaluate(gt, dt, protocol="voc"))


@entry(InvalidAnnotationError, "a should have shape (n, 4)", "(2, 3)")
def box_iou_of_three_columns(tmp):
    fastap.box_iou(np.zeros((2, 3)), np.zeros((2, 4)))


class _CudaArray:
    """Says it lives on CUDA device 0 (DLPack device type 2); never read."""

    def __dlpack_device__(self):
        return (2, 0)

    def __dlpack__(self, **kw):
        raise AssertionError("not reached")


@entry(DeviceError, "a is a host array")
def box_iou_of_host_and_cuda_arrays(tmp):
    fastap.box_iou([[0, 0, 1, 1]], _CudaArray())


# -- the command line -------------------------------------------------------------------------------

def run_cli(argv):
    """(exit code, stdout, stderr) of cli.main(argv), in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as e:
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


@entry(USAGE, "--iou-threshold", "--protocol voc")
def cli_iou_threshold_under_coco(tmp):
    return run_cli(["eval", GT, DT, "--iou-threshold", "0.75"])


@entry(USAGE, "--iou-thr", "--iou-threshold")
def cli_report_threshold_for_voc(tmp):
    return run_cli(["eval", GT, DT, "--iou-thr", "0.75", "--protocol", "voc"])


@entry(USAGE, "--conf", "--confusion")
def cli_score_threshold_without_confusion_matrix(tmp):
    return run_cli(["eval", GT, DT, "--conf", "0.5"])


@entry(USAGE, "--iou-type", "--protocol coco")
def cli_masks_under_voc(tmp):
    return run_cli(["eval", GT, DT, "--iou-type", "segm", "--protocol", "voc"])


@entry(USAGE, "--f1", "--protocol coco")
def cli_report_under_voc(tmp):
    return run_cli(["eval", GT, DT, "--f1", "--protocol", "voc07"])


@entry(USAGE, "GT", "labels", "is a folder", "--format yolo", "--format voc")
def cli_folder_without_format(tmp):
    return run_cli(["eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions")])


@entry(USAGE, "--image-sizes", "--format yolo")
def cli_image_sizes_for_coco(tmp):
    return run_cli(["eval", GT, DT, "--image-sizes", GT])


@entry(USAGE, "--names", "--format yolo or voc")
def cli_names_for_coco(tmp):
    return run_cli(["eval", GT, DT, "--names", GT])


@entry(USAGE, "--format yolo", "--image-sizes FILE", "--images DIR")
def cli_yolo_without_sizes(tmp):
    return run_cli(["eval", os.path.join(ODM_YOLO, "labels"), os.path.join(ODM_YOLO, "predictions"),
                    "--format", "yolo"])


@entry(USAGE, "--plots", "not a folder")
def cli_plots_into_a_file(tmp):
    return run_cli(["eval", GT, DT, "--plots", GT])


@entry(USAGE, "--format", "invalid choice", "'xml'")
def cli_unknown_format(tmp):
    return run_cli(["eval", GT, DT, "--format", "xml"])


@entry(CLI_ERROR, "{tmp}/none.json", "cannot read")
def cli_missing_ground_truth(tmp):
    return run_cli(["eval", os.path.join(tmp, "none.json"), DT])


@entry(CLI_ERROR, "noimages.json", "no 'images' list")
def cli_ground_truth_without_images(tmp):
    d = json.load(open(GT))
    del d["images"]
    return run_cli(["eval", write(tmp, "noimages.json", json.dumps(d)), DT])


@entry(CLI_ERROR, "{tmp}/no/m.json", "cannot write")
def cli_output_into_a_missing_folder(tmp):
    return run_cli(["eval", GT, DT, "--quiet", "--json", os.path.join(tmp, "no", "m.json")])


@entry(CLI_ERROR, "--plots", "matplotlib", "pip install")
def cli_plots_without_matplotlib(tmp):
    real = cli.require_deps

    def missing():
        raise ImportError("fastap's plots need matplotlib: pip install fastap[plot] (or pip install matplotlib)")
    cli.require_deps = missing
    try:
        return run_cli(["eval", GT, DT, "--plots", os.path.join(tmp, "p")])
    finally:
        cli.require_deps = real


@entry(CLI_ERROR, "scorestr.json", "record 0", "'score'")
def cli_bad_results_record(tmp):
    return run_cli(["eval", GT, write(tmp, "scorestr.json", json.dumps([dict(RES[0], image_id=42, score="x")]))])


# -- warnings ---------------------------------------------------------------------------------------

@entry(errors.UnknownIdsWarning, "shifted.json", "734 of 734", "category_id")
def results_with_shifted_category_ids(tmp):
    res = json.load(open(DT))
    for r in res:
        r["category_id"] += 1000
    with quiet():
        fastap.COCO(GT).loadRes(write(tmp, "shifted.json", json.dumps(res)))


@entry(errors.EmptyResultsWarning, "empty.json", "no detections")
def empty_results_file(tmp):
    evaluate_coco(GT, write(tmp, "empty.json", "[]"))


@entry(errors.BoxesAsMasksWarning, "734 of 734", "'segmentation'", "iouType 'bbox'")
def masks_asked_of_box_results(tmp):
    evaluate_coco(GT, DT, "segm")


@entry(errors.IgnoredArgumentWarning, "iou_threshold", "iou_thresholds=[0.75]")
def voc_threshold_under_coco(tmp):
    fastap.evaluate(*arrays(), iou_threshold=0.75)


# -- the walk -----------------------------------------------------------------------------------------

def _check_words(message, words, tmp):
    for w in words:
        w = w.replace("{tmp}", str(tmp))
        assert w in message, "%r not in %r" % (w, message)


# -- added with the hardened inputs (ids, options, malformed datasets, Evaluator files) ---------

@entry(InvalidOptionError, "box_format", "'xyxy'", "'boxes'")
def wrong_box_format(tmp):
    fastap.evaluate(*arrays(), box_format="boxes")


@entry(InvalidOptionError, "protocol", "'coco'", "'pascal'")
def wrong_protocol(tmp):
    fastap.evaluate(*arrays(), protocol="pascal")


@entry(InvalidOptionError, "iouType", "'segm'", "'mask'")
def wrong_iou_type(tmp):
    with quiet():
        g = fastap.COCO(dataset())
        fastap.COCOeval(g, g.loadRes(RES), "mask")


@entry(InvalidOptionError, "FASTAP_NUM_THREADS", "0")
def threads_env_zero(tmp):
    os.environ["FASTAP_NUM_THREADS"] = "0"
    try:
        fastap.evaluate(*arrays())
    finally:
        del os.environ["FASTAP_NUM_THREADS"]


@entry(InvalidOptionError, "num_threads", "'four'")
def threads_not_a_number(tmp):
    fastap.evaluate(*arrays(), num_threads="four")


@entry(InvalidAnnotationError, "'image_id'", "18446744073709551615", "int64")
def id_beyond_int64(tmp):
    gt, dt = arrays()
    gt["image_id"] = np.array([2 ** 64 - 1], dtype=np.uint64)
    fastap.evaluate(gt, dt)


@entry(InvalidAnnotationError, "catIds", "1", "useCats")
def use_cats_0_with_a_repeated_category(tmp):
    with quiet():
        g = fastap.COCO(dataset())
        ev = fastap.COCOeval(g, g.loadRes(RES), "bbox")
        ev.params.useCats = 0
        ev.params.catIds = [1, 1]
        ev.evaluate()


@entry(InvalidFileError, "noid.json", "images record 0", "'id'")
def image_without_id(tmp):
    d = dataset()
    del d["images"][0]["id"]
    coco(write(tmp, "noid.json", json.dumps(d)))


@entry(InvalidFileError, "nullann.json", "annotations")
def annotations_null(tmp):
    d = dataset()
    d["annotations"] = None
    coco(write(tmp, "nullann.json", json.dumps(d)))


@entry(InvalidFileError, "state.json", "Evaluator")
def evaluator_load_of_a_json_file(tmp):
    fastap.Evaluator.load(write(tmp, "state.json", "{}"))


# -- added with the hardened files (empty, not JSON, UTF-16, nesting, empty boxes) -----------

@entry(InvalidFileError, "empty.json", "empty")
def results_file_empty(tmp):
    coco(dataset()).loadRes(write(tmp, "empty.json", ""))


@entry(InvalidFileError, "zeros.json", "NUL")
def annotation_file_of_zeros(tmp):
    p = os.path.join(tmp, "zeros.json")
    with open(p, "wb") as f:
        f.truncate(1 << 20)
    coco(p)


@entry(InvalidFileError, "utf16.json", "UTF-16", "iconv")
def results_file_in_utf16(tmp):
    p = os.path.join(tmp, "utf16.json")
    with open(p, "wb") as f:
        f.write(json.dumps(RES).encode("utf-16"))
    coco(dataset()).loadRes(p)


@entry(InvalidFileError, "deep.json", "record 0", "'x'", "nesting deeper than 1000 levels")
def results_file_nested_too_deeply(tmp):
    coco(dataset()).loadRes(write(tmp, "deep.json", json.dumps([dict(RES[0], x=0)]).replace(
        '"x": 0', '"x": ' + "[" * 2000 + "]" * 2000)))


@entry(InvalidAnnotationError, "record 0", "'bbox'", "empty", "iouType 'bbox'")
def box_evaluation_of_masks_with_empty_boxes(tmp):
    m = np.zeros((100, 100), np.uint8, order="F")
    m[10:20, 10:20] = 1
    rle = fastap.mask.encode(m)
    rle["counts"] = rle["counts"].decode()
    evaluate_coco(dataset(), [{"image_id": 1, "category_id": 1, "score": 0.5, "bbox": [], "segmentation": rle}])


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_mistake(name, tmp_path):
    fn, expected, words = ENTRIES[name]
    if expected in (USAGE, CLI_ERROR):
        rc, out, err = fn(str(tmp_path))
        assert rc == 2, (rc, err)
        assert out == "", "nothing is evaluated: %r" % out[:300]
        assert "Traceback" not in err
        if expected == USAGE:
            assert err.startswith("usage: fastap eval"), err
            message = err[err.index("fastap eval: error: "):]
        else:
            assert err.startswith("fastap: error: ") and len(err.strip().splitlines()) == 1, err
            message = err
    elif issubclass(expected, Warning):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn(str(tmp_path))
        got = [w for w in caught if issubclass(w.category, fastap.FastapWarning)]
        assert [w.category for w in got] == [expected], [str(w.message) for w in got]
        message = str(got[0].message)
    else:
        with pytest.raises(FastapError) as e:
            fn(str(tmp_path))
        assert type(e.value) is expected, (type(e.value), str(e.value))
        message = str(e.value)
    _check_words(message, words, tmp_path)


def test_catalogue_is_long_enough_and_covers_every_class():
    assert len(ENTRIES) >= 30
    kinds = {e[1] for e in ENTRIES.values()}
    for name in errors.__all__:
        cls = getattr(errors, name)
        if cls is not FastapError and cls is not fastap.FastapWarning:
            assert cls in kinds, name
    # FastapError itself: the command line's --plots without matplotlib (and every class
    # above derives from it)


def test_docs_table_lists_every_class():
    text = open(os.path.join(ROOT, "docs", "guide", "errors.md"), encoding="utf-8").read()
    for name in errors.__all__:
        assert re.search(r"\{class\}`fastap\.%s`" % name, text), name
        assert getattr(fastap, name) is getattr(errors, name)

