"""fastap.integrations.torchvision.CocoEvaluator against torchvision's reference
evaluator running the real pycocotools.

``RefCocoEvaluator`` below is a minimal re-implementation of the reference
(``references/detection/coco_eval.py``): predictions converted to COCO results as it
does (xyxy -> xywh in the tensor's dtype, masks ``> 0.5`` RLE-encoded, keypoints
flattened), per batch ``COCO.loadRes`` + ``evaluate()`` and the batch's ``evalImgs``
reshaped to [K, A, images], the ranks' ids and evalImgs concatenated and cut to the
first occurrence of each image (``np.unique(return_index=True)``), assigned as
``evalImgs``, ``params.imgIds`` and ``_paramsEval``, then ``accumulate()`` and
``summarize()``. torchvision itself is not needed.

Run as a script (``python test_integrations_torchvision.py DATA OUT``) this file is one
rank of the two-rank gloo test.
"""
import contextlib
import copy
import io
import os
import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
# pycocotools' own mask.decode on NumPy 2
# the segm case has detections of a label not in the ground truth, on purpose: the
# UnknownIdsWarning it gives is tests/test_warnings.py's matter
pytestmark = [pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::fastap.errors.UnknownIdsWarning")]

HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(HERE))

import fastap                                                       # noqa: E402
from fastap.integrations.torchvision import CocoEvaluator         # noqa: E402
from fastap.synthetic import make_keypoints_coco, make_segm_coco  # noqa: E402


def quiet():
    return contextlib.redirect_stdout(io.StringIO())


# -- the reference, on the real pycocotools ---------------------------------------------------
def ref_results(predictions, iou_type):
    import pycocotools.mask as pmask
    out = []
    for image_id, pred in predictions.items():
        if len(pred) == 0:
            continue
        scores = pred["scores"].tolist()
        labels = pred["labels"].tolist()
        if iou_type == "bbox":
            x1, y1, x2, y2 = pred["boxes"].unbind(1)
            boxes = torch.stack((x1, y1, x2 - x1, y2 - y1), dim=1).tolist()
            out += [{"image_id": image_id, "category_id": labels[k], "bbox": boxes[k], "score": scores[k]}
                    for k in range(len(boxes))]
        elif iou_type == "segm":
            masks = pred["masks"] > 0.5
            for k in range(masks.shape[0]):
                rle = pmask.encode(np.array(masks[k, 0, :, :, None].numpy(), dtype=np.uint8, order="F"))[0]
                rle["counts"] = rle["counts"].decode("utf-8")
                out.append({"image_id": image_id, "category_id": labels[k], "segmentation": rle,
                            "score": scores[k]})
        else:
            kps = pred["keypoints"].flatten(start_dim=1).tolist()
            out += [{"image_id": image_id, "category_id": labels[k], "keypoints": kps[k], "score": scores[k]}
                    for k in range(len(kps))]
    return out


class RefCocoEvaluator:
    def __init__(self, coco_gt, iou_types):
        from pycocotools.cocoeval import COCOeval
        self.coco_gt = copy.deepcopy(coco_gt)
        self.iou_types = iou_types
        self.coco_eval = {t: COCOeval(self.coco_gt, iouType=t) for t in iou_types}
        self.img_ids = []
        self.eval_imgs = {t: [] for t in iou_types}

    def update(self, predictions):
        from pycocotools.coco import COCO
        img_ids = list(np.unique(list(predictions.keys())))
        self.img_ids.extend(img_ids)
        for t in self.iou_types:
            results = ref_results(predictions, t)
            ev = self.coco_eval[t]
            with quiet():
                ev.cocoDt = COCO.loadRes(self.coco_gt, results) if results else COCO()
                ev.params.imgIds = list(img_ids)
                ev.evaluate()
            self.eval_imgs[t].append(np.asarray(ev.evalImgs).reshape(-1, len(ev.params.areaRng),
                                                                     len(ev.params.imgIds)))

    @staticmethod
    def synchronize(ranks):
        """The reference's merge over the ranks' evaluators (all_gather = this list); the
        result is left in ranks[0]."""
        first = ranks[0]
        for t in first.iou_types:
            ids = np.array([i for r in ranks for i in r.img_ids])
            evs = np.concatenate([np.concatenate(r.eval_imgs[t], 2) for r in ranks], 2)
            ids, idx = np.unique(ids, return_index=True)
            ev = first.coco_eval[t]
            ev.evalImgs = list(evs[..., idx].flatten())
            ev.params.imgIds = list(ids)
            ev._paramsEval = copy.deepcopy(ev.params)
        return first

    def accumulate(self):
        for ev in self.coco_eval.values():
            ev.accumulate()

    def summarize(self):
        for t, ev in self.coco_eval.items():
            print("IoU metric: {}".format(t))
            ev.summarize()


# -- data: torchvision-shaped predictions from generated COCO results ---------------------------
def _predictions(dataset, results, seed, masks=False, keypoints=False):
    """{image_id: {"boxes" xyxy float32, "scores" float32, "labels" int64, ["masks" [N, 1, H, W]
    probabilities], ["keypoints" [N, K, 3] float32]}} as NumPy arrays (see _tensors)."""
    import pycocotools.mask as pmask
    rng = np.random.default_rng(seed)
    by_img = {}
    for r in results:
        by_img.setdefault(r["image_id"], []).append(r)
    preds = {}
    for img in dataset["images"]:
        rs = by_img.get(img["id"], [])
        if keypoints:
            kp = np.array([r["keypoints"] for r in rs], np.float32).reshape(len(rs), -1, 3)
            box = np.concatenate([kp[:, :, :2].min(1), kp[:, :, :2].max(1)], 1) if len(rs) else np.zeros((0, 4))
        else:
            xywh = np.array([r["bbox"] for r in rs], np.float64).reshape(-1, 4)
            box = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)
        p = {"boxes": box.astype(np.float32), "scores": np.array([r["score"] for r in rs], np.float32),
             "labels": np.array([r["category_id"] for r in rs], np.int64)}
        if masks:
            H, W = img["height"], img["width"]
            m = np.zeros((len(rs), 1, H, W), np.float32)
            for k, r in enumerate(rs):
                on = pmask.decode(r["segmentation"]).astype(bool)
                prob = np.where(on, rng.uniform(0.5, 1.0, on.shape), rng.uniform(0.0, 0.5, on.shape))
                prob[rng.random(on.shape) < 0.02] = 0.5           # exactly at the threshold: off
                m[k, 0] = prob
            p["masks"] = m
        if keypoints:
            p["keypoints"] = kp
        preds[img["id"]] = p
    return preds


def _tensors(pred):
    return {k: torch.from_numpy(v) for k, v in pred.items()}


def _batches(preds, seed, size=5, drop=(), duplicate=None):
    """Batches of {image_id: tensors} in a shuffled image order; images in `drop` are left
    out; `duplicate` (an image id) comes again in a later batch with other scores (the
    first occurrence must count)."""
    rng = np.random.default_rng(seed)
    ids = [i for i in preds if i not in drop]
    rng.shuffle(ids)
    batches = [{int(i): _tensors(preds[i]) for i in ids[k:k + size]} for k in range(0, len(ids), size)]
    if duplicate is not None:
        p = _tensors(preds[duplicate])
        p["scores"] = torch.flip(p["scores"], [0]).contiguous()
        batches[-1][int(duplicate)] = p
    return batches


def _run_both(dataset, iou_types, batches, gt_kind="pycocotools"):
    from pycocotools.coco import COCO as PCOCO
    with quiet():
        ref_gt = PCOCO()
        ref_gt.dataset = copy.deepcopy(dataset)
        ref_gt.createIndex()
        gt = ref_gt if gt_kind == "pycocotools" else fastap.COCO(copy.deepcopy(dataset))
    ref = RefCocoEvaluator(ref_gt, iou_types)
    ours = CocoEvaluator(gt, iou_types)
    for b in batches:
        ref.update(b)
        ours.update(b)
    RefCocoEvaluator.synchronize([ref])
    ours.synchronize_between_processes()
    with quiet():
        ref.accumulate()
        ours.accumulate()
    out_ref, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out_ref):
        ref.summarize()
    with contextlib.redirect_stdout(out):
        ours.summarize()
    return ref, ours, out_ref.getvalue(), out.getvalue()


def assert_same(ref, ours, iou_types):
    for t in iou_types:
        a, b = ref.coco_eval[t], ours.coco_eval[t]
        for key in ("precision", "recall", "scores"):
            assert a.eval[key].shape == b.eval[key].shape, (t, key)
            assert np.array_equal(a.eval[key], b.eval[key]), (t, key, float(np.max(np.abs(a.eval[key] - b.eval[key]))))
        assert a.eval["counts"] == b.eval["counts"]
        assert np.array_equal(np.asarray(a.stats), np.asarray(b.stats)), (t, a.stats, b.stats)
        assert [int(i) for i in a.params.imgIds] == [int(i) for i in b.params.imgIds]
        assert list(a.eval["params"].catIds) == list(b.eval["params"].catIds)


@pytest.fixture(scope="module")
def segm_case():
    d, r = make_segm_coco(seed=3, n_images=24, n_categories=4, gt_per_image=3, dets_per_image=6,
                          image_size=(40, 32), with_bbox=True, edge_cases=True)
    r = [dict(x, category_id=99) if k % 37 == 5 else x for k, x in enumerate(r)]   # a label not in the gt
    return d, r, _predictions(d, r, seed=3, masks=True)


@pytest.fixture(scope="module")
def kp_case():
    d, r = make_keypoints_coco(seed=4, n_images=20, gt_per_image=2.0, dets_per_image=5)
    return d, r, _predictions(d, r, seed=4, keypoints=True)


@pytest.mark.parametrize("gt_kind", ["pycocotools", "fastap"])
def test_bbox_segm_batches_match_the_reference(segm_case, gt_kind):
    d, _, preds = segm_case
    ids = list(preds)
    preds = dict(preds)
    empty = ids[3]
    preds[empty] = {k: v[:0] for k, v in preds[empty].items()}       # an image without detections
    batches = _batches(preds, seed=1, drop=ids[:2], duplicate=ids[7])  # two images never given
    batches[0][int(ids[5])] = {}                                      # an empty dict: skipped, counted
    ref, ours, lines_ref, lines = _run_both(d, ["bbox", "segm"], batches, gt_kind)
    assert_same(ref, ours, ["bbox", "segm"])
    assert lines == lines_ref
    assert lines.startswith("IoU metric: bbox\n Average Precision")
    assert ours.img_ids == ref.img_ids
    assert ours.eval_imgs["bbox"] == []
    assert ours.eval_imgs["segm"].shape[2] == len(ours.coco_eval["segm"].params.imgIds)


def test_boolean_masks_as_detr_gives_them(segm_case):
    d, _, preds = segm_case
    preds = {i: dict(p, masks=p["masks"] > 0.5) for i, p in preds.items()}
    ref, ours, lines_ref, lines = _run_both(d, ["segm"], _batches(preds, seed=10, size=9))
    assert_same(ref, ours, ["segm"])
    assert lines == lines_ref
    assert isinstance(ours.coco_eval["segm"].stats, np.ndarray)       # DETR calls stats.tolist()


def test_bbox_all_images_once(segm_case):
    d, _, preds = segm_case
    ref, ours, lines_ref, lines = _run_both(d, ["bbox"], _batches(preds, seed=2, size=7))
    assert_same(ref, ours, ["bbox"])
    assert lines == lines_ref
    assert 0 < ours.coco_eval["bbox"].stats[0] < 1


def test_keypoints_match_the_reference(kp_case):
    d, _, preds = kp_case
    batches = _batches(preds, seed=5, size=4, drop=list(preds)[:1], duplicate=list(preds)[4])
    ref, ours, lines_ref, lines = _run_both(d, ["keypoints", "bbox"], batches)
    assert_same(ref, ours, ["keypoints", "bbox"])
    assert lines == lines_ref


def test_keypoints_empty_images_and_a_batch_of_repeats(kp_case):
    d, _, preds = kp_case
    ids = list(preds)
    preds = dict(preds)
    for i in ids[2:4]:
        preds[i] = {k: v[:0] for k, v in preds[i].items()}        # no detections
    batches = _batches(preds, seed=8, size=6)
    batches.insert(1, {int(ids[2]): _tensors(preds[ids[2]]), int(ids[3]): _tensors(preds[ids[3]])})
    batches.append({int(i): _tensors(preds[i]) for i in ids[:3]})  # only images seen before
    ref, ours, lines_ref, lines = _run_both(d, ["keypoints", "bbox"], batches)
    assert_same(ref, ours, ["keypoints", "bbox"])
    assert lines == lines_ref


def test_a_failed_update_changes_nothing(segm_case):
    d, _, preds = segm_case
    batches = _batches(preds, seed=9)
    ref, ours, _, _ = _run_both(d, ["bbox", "segm"], batches)
    again = CocoEvaluator(ours.coco_gt, ["bbox", "segm"])
    for b in batches:
        bad = {i: dict(p) for i, p in b.items()}
        last = list(bad)[-1]
        del bad[last]["masks"]                  # bbox could take it; segm cannot
        with pytest.raises(fastap.InvalidAnnotationError, match="missing key 'masks'"):
            again.update(bad)
        again.update(b)
    with quiet():
        again.synchronize_between_processes()
        again.accumulate()
        again.summarize()
    assert_same(ref, again, ["bbox", "segm"])


def test_params_edited_before_update(segm_case):
    d, _, preds = segm_case
    batches = _batches(preds, seed=6)
    from pycocotools.coco import COCO as PCOCO
    with quiet():
        ref_gt = PCOCO()
        ref_gt.dataset = copy.deepcopy(d)
        ref_gt.createIndex()
    ref, ours = RefCocoEvaluator(ref_gt, ["bbox"]), CocoEvaluator(ref_gt, ["bbox"])
    for ev in (ref, ours):
        ev.coco_eval["bbox"].params.maxDets = [1, 3, 100]
        ev.coco_eval["bbox"].params.catIds = [1, 2, 3]
        for b in batches:
            ev.update(b)
    RefCocoEvaluator.synchronize([ref])
    with quiet():
        ours.synchronize_between_processes()
        ref.accumulate()
        ours.accumulate()
        ref.summarize()
        ours.summarize()
    assert_same(ref, ours, ["bbox"])


def test_accumulate_without_synchronize_is_this_process(segm_case):
    d, _, preds = segm_case
    batches = _batches(preds, seed=7)
    ref, ours, _, _ = _run_both(d, ["bbox"], batches)
    again = CocoEvaluator(ours.coco_gt, ["bbox"])
    for b in batches:
        again.update(b)
    with quiet():
        again.accumulate()
        again.summarize()
    assert np.array_equal(again.coco_eval["bbox"].stats, ref.coco_eval["bbox"].stats)


def test_errors(segm_case):
    d, _, preds = segm_case
    with quiet():
        gt = fastap.COCO(copy.deepcopy(d))
    with pytest.raises(fastap.InvalidAnnotationError, match="unknown iou type 'boxes'"):
        CocoEvaluator(gt, ["boxes"])
    with pytest.raises(fastap.InvalidTypeError, match="list or a tuple"):
        CocoEvaluator(gt, "bbox")
    ev = CocoEvaluator(gt, ["bbox", "segm"])
    some = next(iter(preds))
    with pytest.raises(fastap.InvalidAnnotationError, match="not in the ground truth.*123456"):
        ev.update({123456: _tensors(preds[some])})
    p = _tensors(preds[some])
    del p["masks"]
    with pytest.raises(fastap.InvalidAnnotationError, match=r"predictions\[%d\]: missing key 'masks'" % some):
        CocoEvaluator(gt, ["segm"]).update({some: p})
    p = _tensors(preds[some])
    del p["scores"]
    with pytest.raises(fastap.InvalidAnnotationError, match="missing key 'scores'"):
        CocoEvaluator(gt, ["bbox"]).update({some: p})
    p = _tensors(preds[some])
    p["boxes"] = p["boxes"][:, :3]
    with pytest.raises(fastap.InvalidAnnotationError, match=r"'boxes'\] should have shape \[N, 4\]"):
        CocoEvaluator(gt, ["bbox"]).update({some: p})
    with pytest.raises(fastap.InvalidAnnotationError, match="no predictions"):
        CocoEvaluator(gt, ["bbox"]).accumulate()


# -- two torch.distributed (gloo) ranks ----------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shards(ids, world):
    """DistributedSampler's split without shuffling: pad with the first images to a
    multiple of world, then rank r takes every world-th from r."""
    total = -(-len(ids) // world) * world
    padded = list(ids) + list(ids)[:total - len(ids)]
    return [padded[r::world] for r in range(world)]


def test_two_gloo_ranks_with_a_padded_image(segm_case, tmp_path):
    pytest.importorskip("torch.distributed")
    d, _, preds = segm_case
    # 21 of the 24 images, the first (the one padded onto rank 1: 22 on 2 ranks) with most detections
    ids = sorted(preds, key=lambda i: -preds[i]["scores"].shape[0])[:21]
    assert preds[ids[0]]["scores"].shape[0] >= 3
    shards = _shards(ids, 2)
    assert len(set(shards[0]) & set(shards[1])) == 1          # the padded image is on both ranks
    data = tmp_path / "case.pkl"
    with open(data, "wb") as f:
        pickle.dump({"gt": d, "preds": preds, "shards": shards}, f)
    out = str(tmp_path / "rank%d.pkl")
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE="2",
               OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([os.path.dirname(HERE)] + sys.path))
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), str(data), out],
                              env=dict(env, RANK=str(k)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for k in range(2)]
    for p in procs:
        o, _ = p.communicate(timeout=180)
        assert p.returncode == 0, o.decode()
    # the reference: one process, every image once
    batches = [{int(i): _tensors(preds[i]) for i in ids[k:k + 4]} for k in range(0, len(ids), 4)]
    ref, _, lines_ref, _ = _run_both(d, ["bbox", "segm"], batches)
    for k in range(2):
        with open(out % k, "rb") as f:
            got = pickle.load(f)
        assert got["summary"] == lines_ref, k
        for t in ("bbox", "segm"):
            for key in ("precision", "recall", "scores"):
                assert np.array_equal(got[t][key], ref.coco_eval[t].eval[key]), (k, t, key)
            assert np.array_equal(got[t]["stats"], ref.coco_eval[t].stats), (k, t)
            assert got[t]["imgIds"] == sorted(int(i) for i in ids)


def _rank_main(data_path, out_path):
    import torch.distributed as dist
    from pycocotools.coco import COCO as PCOCO
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", rank=rank, world_size=world)
    with open(data_path, "rb") as f:
        case = pickle.load(f)
    with quiet():
        gt = PCOCO()
        gt.dataset = case["gt"]
        gt.createIndex()
    ev = CocoEvaluator(gt, ["bbox", "segm"])
    mine = case["shards"][rank]
    padded = set(case["shards"][0]) if rank else set()

    def tensors(i):
        p = _tensors(case["preds"][i])
        if i in padded:      # another output for the padded image: rank 0's (the first) must count
            p["scores"] = torch.flip(p["scores"], [0]).contiguous()
        return p
    for k in range(0, len(mine), 3):
        ev.update({int(i): tensors(i) for i in mine[k:k + 3]})
    ev.synchronize_between_processes()
    with quiet():
        ev.accumulate()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        ev.summarize()
    res = {"summary": buf.getvalue()}
    for t in ("bbox", "segm"):
        e = ev.coco_eval[t]
        res[t] = {key: e.eval[key] for key in ("precision", "recall", "scores")}
        res[t]["stats"] = e.stats
        res[t]["imgIds"] = [int(i) for i in e.params.imgIds]
    with open(out_path % rank, "wb") as f:
        pickle.dump(res, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    _rank_main(sys.argv[1], sys.argv[2])
