"""COCO datasets: pycocotools' ``COCO`` object, read by fastap's C scanner.

A :class:`COCO` holds a dataset (a path or a dict) with pycocotools' lookup indices,
and hands the evaluation layers what they need without building a dict per record:

* :func:`columns_of` -- the annotations (or results) as columns;
* :func:`gt_keypoints` / :func:`dt_keypoints` -- keypoints as arrays;
* :func:`rles_of` -- masks as an RLE set.

Annotation files are validated as a whole and their ``annotations`` member is scanned
by C into columns; the dicts are parsed from the kept text only when someone reads
them. Results files with masks or keypoints are read in place (a memory map of the
file): the masks' strings and the keypoints are converted from the text when the
evaluation needs them.
"""
from __future__ import annotations

import copy
import functools
import mmap
import os
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from .. import _core
from .. import mask as mask_utils
from ..columns import IdIndex, dt_columns, gt_columns, index_of, sorted_image_ids, unique_ids
from ..checks import declared_ids, warn_once, warn_unknown_categories
from ..errors import (BoxesAsMasksWarning, FastapError, InvalidAnnotationError, InvalidFileError,
                      InvalidOptionError, InvalidTypeError)
from ..geometry import (DILATION_RATIO, attach_boundary_iou, attach_oks, attach_rle_iou, attach_rotated_iou, keypoint_arrays, keypoint_result_boxes, rles_from_annotations,
                        rles_from_objects, rles_from_spans, rows_all_nan, segm_result_boxes)
from .jsonfile import FileText, check_path, first_keypoints_len, load_json_bytes, load_results_columns, read_private
from .records import (check_annotation_records, columns_from_records, index_by_id, is_rotated_record,
                      keypoint_results_columns, rotated_columns_from_records,
                      results_from_array, results_kind, segm_results_columns)

__all__ = ["COCO", "DownloadError", "columns_of", "rotated_columns_of", "rotated_pass_inputs", "gt_keypoints", "dt_keypoints", "rles_of", "iou_attacher"]


def _is_array_like(obj):
    return hasattr(obj, "__iter__") and hasattr(obj, "__len__")



def _naming_source(fn):
    """``fn(coco, ...)`` whose InvalidAnnotationError, for a COCO read from a file, is an
    InvalidFileError naming the file (the records' errors then say where they are)."""
    @functools.wraps(fn)
    def wrapper(coco, *args, **kw):
        try:
            return fn(coco, *args, **kw)
        except InvalidAnnotationError as e:
            src = getattr(coco, "_source", None)
            if src is None or isinstance(e, (InvalidFileError, InvalidOptionError)) or str(e).startswith(src):
                raise
            raise InvalidFileError("%s: %s" % (src, e)) from None
    return wrapper



class COCO:
    """pycocotools' COCO: annotations in memory with lookup indices.

    ``COCO(annotation_file)`` takes a path or a dataset dict. Box results loaded by
    :meth:`loadRes` are kept as columns; their dicts (``dataset['annotations']``,
    ``anns``, ``imgToAnns``) are built only when read.

    Edits to annotation dicts are seen by the next evaluation. Evaluation reads columns
    (ids, boxes, areas, crowd flags); where they come from:

    * an annotation file whose annotations were never read as dicts, or loadRes
      results whose dicts were never built: the columns read at load time, kept (no
      one can have edited dicts that do not exist);
    * otherwise -- the dataset was given as a dict (``COCO(d)``, ``.dataset = d``), or
      ``dataset`` / ``anns`` / ``imgToAnns`` / ``loadAnns`` / ``getAnnIds`` made the
      dicts -- the dicts are read again at every evaluation (a C loop:
      ``records_to_columns``, about 3 ms per 36k annotations), so an ``area``, ``bbox``
      or ``iscrowd`` edited in place between two evaluations counts, as in pycocotools.
      Masks and keypoints of such dicts are likewise converted at every evaluation.

    Where ``anns`` / ``imgToAnns`` were assigned from outside (a subclass's
    ``createIndex`` that builds its own index without calling this one), evaluation
    reads the annotations through that index, as pycocotools' ``COCOeval`` does
    (``loadAnns(getAnnIds(imgIds=...))``). Segmentation annotations need no ``bbox``
    for ``iouType="segm"`` (pycocotools never reads it there); a box evaluation of them
    raises, naming the record. Results passed to :meth:`loadRes` as a list are read
    when loadRes runs (pycocotools writes ``area``, ``id`` and ``iscrowd`` into them
    then); edits made afterwards through the caller's own references to those dicts
    are seen once the results' dicts have been read through this object.
    """

    _index_own = False               # (class defaults: objects pickled by earlier versions)
    _no_bbox = None
    _imgs = None
    _images_checked = False          # loadRes: the images are the ground truth's, already checked
    _source = None                   # the file the annotations (or results) were read from
    _fa_box_masks = None             # loadRes: (box results whose mask is their box, results)
    _fa_what = "results"             # loadRes: what the results are called in warnings

    def __init__(self, annotation_file=None):
        self._dataset, self._anns, self.cats, self.imgs = dict(), dict(), dict(), dict()
        self._imgToAnns, self._catToImgs = defaultdict(list), defaultdict(list)
        self._cols = None            # cached columns of the annotations
        self._pending = None         # results columns whose dicts are not built yet
        self._index_stale = False    # anns / imgToAnns / catToImgs not built yet
        self._raw_anns = None        # (file bytes, start, end) of annotations not parsed yet
        self._raw_geom = None        # their segmentation / keypoint spans and num_keypoints
        self._res_kind = "bbox"      # loadRes: which of pycocotools' branches built the results
        self._index_own = False      # anns / imgToAnns assigned from outside (a subclass's index)
        self._no_bbox = None         # (kind, record, id) of the first record read without a bbox
        self._geom = {}              # loadRes: keypoints / masks of the results, as arrays, and
                                     # ("text") the results file's text and path
        if annotation_file is not None:
            raw = cols = None
            if isinstance(annotation_file, Mapping):
                dataset = annotation_file
            else:
                check_path(annotation_file, "COCO(annotation_file): the annotation file (or a dict of the dataset)")
                print('loading annotations into memory...')
                tic = time.time()
                dataset, raw, cols = _load_annotation_file(annotation_file)
                print('Done (t={:0.2f}s)'.format(time.time() - tic))
            self.dataset = dataset
            if raw is not None:
                # the annotations' dicts are parsed from the file when first read; until
                # then evaluation uses the columns the C scanner read from it (set before
                # createIndex: a subclass's createIndex that reads ``dataset`` parses them)
                self._raw_anns = raw
                self._raw_geom = cols.pop("_geom")
                self._cols = ("gt", cols)
            if isinstance(annotation_file, Mapping):
                self.createIndex()
            else:
                self._source = os.fspath(annotation_file)        # named by later errors of its records
                _naming_source(type(self).createIndex)(self)
            if self._raw_anns is not None:
                self._readgt_keypoints()

    def _readgt_keypoints(self):
        """Check the ground-truth keypoints the annotations scan read (as many per record
        as the first record has) now, and keep them: the load is where a file is read,
        and evaluations then find them. Problems are left to the evaluation, which names
        them."""
        g = self._raw_geom
        stride = g["kpt_values"].shape[1] if g and "kpt_values" in g else 0
        if stride and stride % 3 == 0:
            try:
                gt_keypoints(self, stride // 3)
            except ValueError:            # InvalidAnnotationError is a ValueError
                pass

    def _results_text(self):
        """The text of the results file loadRes read, for building the result dicts:
        bytes kept (a pipe's content, an unpickled object), or the file read again and
        checked against the size and digest loadRes took of it -- a file rewritten since
        (even at the same size) is refused, naming it, rather than giving dicts of other
        results than the ones evaluated."""
        src = self._geom["text"][0]
        return src.read() if isinstance(src, FileText) else src

    # -- lazily built members -----------------------------------------------------------
    def _materialize(self):
        cols, anns = self._pending
        if anns is None and "text" in self._geom:      # read from the file's text
            anns = load_json_bytes(self._results_text(), self._geom["text"][1])
        self._pending = None
        if anns is None:
            b = cols["bbox"].tolist()
            anns = [{"image_id": i, "category_id": c, "bbox": bb, "score": s}
                    for i, c, bb, s in zip(cols["image_id"].tolist(), cols["category_id"].tolist(),
                                           b, cols["score"].tolist())]
        area = cols["area"].tolist()
        kind = self._res_kind
        boxes = cols["bbox"].tolist() if kind == "keypoints" else None
        from_box = 0
        for n, ann in enumerate(anns):
            if kind == "bbox":
                bb = ann["bbox"]
                if "segmentation" not in ann:
                    x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
                    ann["segmentation"] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
                    from_box += 1
            elif kind == "keypoints":
                ann["bbox"] = boxes[n]
            elif "bbox" not in ann:          # segm: the mask's box unless one is given
                ann["bbox"] = cols["bbox"][n].tolist()
            ann["area"] = area[n]
            ann["id"] = n + 1
            if kind != "keypoints":
                ann["iscrowd"] = 0
        if kind == "bbox" and self._fa_box_masks is None:
            self._fa_box_masks = (from_box, len(anns))
        self._dataset["annotations"] = anns
        self._build_ann_index()

    def _ensure(self):
        if self._raw_anns is not None:
            data, start, end = self._raw_anns
            self._raw_anns = None
            self._dataset["annotations"] = load_json_bytes(data[start:end], "annotations")
            self._cols = None        # the dicts may now be edited: columns follow them
            self._index_stale = True
        if self._pending is not None:
            self._materialize()
        elif self._index_stale:
            self._index_stale = False
            self._build_ann_index()

    @property
    def dataset(self):
        self._ensure()
        return self._dataset

    @dataset.setter
    def dataset(self, value):
        self._dataset = value
        self._source = None
        self._raw_anns = None
        self._pending = None
        self._index_stale = False
        self._cols = None
        self._geom = {}

    @property
    def imgs(self):
        """{image id: image dict}. Built by ``createIndex()``; for the results of
        ``loadRes`` (whose images are the ground truth's, which evaluation reads through
        the ground truth's index) built when first read: a per-batch ``loadRes`` on a
        ground truth of 5,000 images spent a third of its time on it."""
        if self._imgs is None:
            self._imgs = index_by_id(self._dataset, "images", check=False)
        return self._imgs

    @imgs.setter
    def imgs(self, value):
        self._imgs = value

    @property
    def anns(self):
        self._ensure()
        return self._anns

    @anns.setter
    def anns(self, value):
        self._ensure()
        self._anns = value
        self._index_own = True       # evaluation reads the annotations through the index

    @property
    def imgToAnns(self):
        self._ensure()
        return self._imgToAnns

    @imgToAnns.setter
    def imgToAnns(self, value):
        self._ensure()
        self._imgToAnns = value
        self._index_own = True       # evaluation reads the annotations through the index

    @property
    def catToImgs(self):
        self._ensure()
        return self._catToImgs

    @catToImgs.setter
    def catToImgs(self, value):
        self._ensure()
        self._catToImgs = value

    # -- pycocotools API -------------------------------------------------------------------
    def _build_ann_index(self):
        anns, imgToAnns, catToImgs = {}, defaultdict(list), defaultdict(list)
        ds = self._dataset
        if "annotations" in ds:
            try:
                for ann in ds["annotations"]:
                    imgToAnns[ann["image_id"]].append(ann)
                    anns[ann["id"]] = ann
                if "categories" in ds:
                    for ann in ds["annotations"]:
                        catToImgs[ann["category_id"]].append(ann["image_id"])
            except (KeyError, TypeError, IndexError):
                check_annotation_records(ds)        # raises, naming the record and the field
                raise
        self._anns, self._imgToAnns, self._catToImgs = anns, imgToAnns, catToImgs

    def createIndex(self):
        """Build anns, imgs, cats, imgToAnns and catToImgs from ``dataset``."""
        print('creating index...')
        ds = self._dataset
        if not isinstance(ds, Mapping):
            raise InvalidTypeError("COCO dataset should be a dict (images, annotations, categories), got %s"
                                   % type(ds).__name__)
        # {id: record}, checked (ids within int64, ...) and built by C-level iteration;
        # loadRes results: built when first read (see imgs), their images being the
        # ground truth's, checked when it was indexed
        self._imgs = None if self._pending is not None and self._images_checked else \
            index_by_id(ds, "images", check=not self._images_checked)
        self.cats = index_by_id(ds, "categories")
        self._images_checked = False
        # the annotation index is built when first read: evaluation works on columns
        self._index_stale = self._pending is None
        self._index_own = False
        print('index created!')

    def __getstate__(self):
        """Pickled with the file texts it keeps (memory maps: the results file's pages,
        the annotation file's private copy) as bytes, so that a COCO goes to another
        process as pycocotools' does."""
        state = self.__dict__.copy()
        memo = {}
        geom = self._geom
        if "text" in geom and isinstance(geom["text"][0], FileText):
            # the file's bytes (checked) stand for its text; the copy of the values' text
            # the scan made (at the same offsets) is not pickled besides them
            text = self._results_text()
            memo[id(geom["text"][0])] = text
            for held in (geom.get("rle", {}).get("src"), geom.get("raw", (None,))[0]):
                if isinstance(held, np.ndarray) and held.shape == (len(text),):
                    memo[id(held)] = text
        for k in ("_raw_anns", "_geom"):
            state[k] = _maps_as_bytes(state[k], memo)
        return state

    def info(self):
        for key, value in self._dataset['info'].items():
            print('{}: {}'.format(key, value))

    def getAnnIds(self, imgIds=[], catIds=[], areaRng=[], iscrowd=None):
        imgIds = imgIds if _is_array_like(imgIds) else [imgIds]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if len(imgIds) == len(catIds) == len(areaRng) == 0:
            anns = self.dataset.get('annotations', [])
        else:
            if len(imgIds):
                anns = [a for i in imgIds if i in self.imgToAnns for a in self.imgToAnns[i]]
            else:
                anns = self.dataset.get('annotations', [])
            if len(catIds):
                anns = [a for a in anns if a['category_id'] in catIds]
            if len(areaRng):
                anns = [a for a in anns if areaRng[0] < a['area'] < areaRng[1]]
        if iscrowd is not None:
            return [a['id'] for a in anns if a['iscrowd'] == iscrowd]
        return [a['id'] for a in anns]

    def getCatIds(self, catNms=[], supNms=[], catIds=[]):
        catNms = catNms if _is_array_like(catNms) else [catNms]
        supNms = supNms if _is_array_like(supNms) else [supNms]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        cats = self._dataset.get('categories', [])
        if len(catNms):
            cats = [c for c in cats if c['name'] in catNms]
        if len(supNms):
            cats = [c for c in cats if c['supercategory'] in supNms]
        if len(catIds):
            cats = [c for c in cats if c['id'] in catIds]
        return [c['id'] for c in cats]

    def getImgIds(self, imgIds=[], catIds=[]):
        imgIds = imgIds if _is_array_like(imgIds) else [imgIds]
        catIds = catIds if _is_array_like(catIds) else [catIds]
        if len(imgIds) == len(catIds) == 0:
            return list(self.imgs.keys())
        ids = set(imgIds)
        for i, catId in enumerate(catIds):
            if i == 0 and len(ids) == 0:
                ids = set(self.catToImgs[catId])
            else:
                ids &= set(self.catToImgs[catId])
        return list(ids)

    def _load(self, table, ids):
        if _is_array_like(ids):
            return [table[i] for i in ids]
        if isinstance(ids, (int, np.integer)):
            return [table[ids]]
        return None

    def loadAnns(self, ids=[]):
        return self._load(self.anns, ids)

    def loadCats(self, ids=[]):
        return self._load(self.cats, ids)

    def loadImgs(self, ids=[]):
        return self._load(self.imgs, ids)

    def loadNumpyAnnotations(self, data):
        """Results from an [N, 7] array of (image_id, x, y, w, h, score, category_id)
        rows, as a list of dicts (pycocotools' conversion, ids truncated with int(); the
        other values stay NumPy scalars of the array's dtype; the same lines printed)."""
        print('Converting ndarray to lists...')
        data = np.asarray(data)
        print(data.shape)
        if data.ndim != 2 or data.shape[1] != 7:
            raise InvalidAnnotationError("results array should have shape (N, 7) "
                                         "(image_id, x, y, w, h, score, category_id), got %s" % (data.shape,))
        for i in range(0, data.shape[0], 1000000):
            print('{}/{}'.format(i, data.shape[0]))
        return [{'image_id': int(r[0]), 'bbox': [r[1], r[2], r[3], r[4]], 'score': r[5],
                 'category_id': int(r[6])} for r in data]

    # -- masks, drawing, images ------------------------------------------------------------
    def _image_size(self, ann):
        """(height, width) of the image of an annotation, for rasterising polygons."""
        img_id = ann.get("image_id") if isinstance(ann, Mapping) else None
        img = self.imgs.get(img_id) if img_id is not None else None
        if img is None:
            raise InvalidAnnotationError("annotation %s: image_id %r is not an image of this dataset"
                                         % (ann.get("id") if isinstance(ann, Mapping) else ann, img_id))
        for field in ("height", "width"):
            if field not in img:
                raise InvalidAnnotationError("image %r: missing field '%s' (needed to rasterise the mask of "
                                             "annotation %s)" % (img_id, field, ann.get("id")))
        return img["height"], img["width"]

    def annToRLE(self, ann):
        """The compressed RLE of an annotation's ``segmentation`` (pycocotools'
        annToRLE): polygons (a list: one RLE of all parts, merged) and uncompressed RLE
        (``counts`` a list) are converted at the size of the annotation's image in
        ``imgs``; a compressed RLE is returned as it is (the same object)."""
        if not isinstance(ann, Mapping) or "segmentation" not in ann:
            raise InvalidAnnotationError("annotation %s: missing field 'segmentation'"
                                         % (ann.get("id") if isinstance(ann, Mapping) else repr(ann)[:80]))
        segm = ann["segmentation"]
        if isinstance(segm, list):
            h, w = self._image_size(ann)
            if not segm:       # no parts: an empty mask of the image (pycocotools: IndexError)
                return mask_utils.encode(np.zeros((h, w), np.uint8, order="F"))
            # a single object may consist of several parts: one mask of them all
            return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
        if not isinstance(segm, Mapping) or "counts" not in segm:
            raise InvalidAnnotationError("annotation %s: field 'segmentation' should be polygons or an RLE dict "
                                         "with 'counts', got %s" % (ann.get("id"), type(segm).__name__))
        if isinstance(segm["counts"], list):
            h, w = self._image_size(ann)
            return mask_utils.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann):
        """The binary mask of an annotation, uint8 [h, w] (pycocotools' annToMask)."""
        return mask_utils.decode(self.annToRLE(ann))

    def showAnns(self, anns, draw_bbox=False):
        """Draw annotations on the current matplotlib axes, as pycocotools draws them:
        polygons as filled and outlined patches, masks as translucent images, keypoints
        and skeletons as lines and markers, boxes (``draw_bbox``) as patches; captions
        are printed. The colours are drawn from ``np.random`` in pycocotools' order.
        Needs matplotlib (``pip install fastap[plot]``)."""
        if len(anns) == 0:
            return 0
        if 'segmentation' not in anns[0] and 'keypoints' not in anns[0]:
            if 'caption' in anns[0]:
                for ann in anns:
                    print(ann['caption'])
                return None
            raise InvalidAnnotationError("showAnns: annotation 0 has neither 'segmentation', 'keypoints' nor "
                                         "'caption' (fields: %s)" % sorted(anns[0].keys()))
        try:
            import matplotlib.pyplot as plt
            from matplotlib.collections import PatchCollection
            from matplotlib.patches import Polygon
        except ImportError as e:
            raise ImportError("COCO.showAnns needs matplotlib: pip install fastap[plot] (%s)" % e) from None
        ax = plt.gca()
        ax.set_autoscale_on(False)
        polygons, color = [], []
        for ann in anns:
            c = (np.random.random((1, 3)) * 0.6 + 0.4).tolist()[0]
            if 'segmentation' in ann:
                segm = ann['segmentation']
                if isinstance(segm, list):
                    for poly in segm:
                        polygons.append(Polygon(np.array(poly).reshape((len(poly) // 2, 2))))
                        color.append(c)
                else:
                    m = mask_utils.decode(self.annToRLE(ann))
                    img = np.ones((m.shape[0], m.shape[1], 3))
                    # pycocotools: crowds in a fixed green, others in a random colour
                    color_mask = np.array([2.0, 166.0, 101.0]) / 255 if ann.get('iscrowd') == 1 else None
                    if ann.get('iscrowd', 0) == 0:
                        color_mask = np.random.random((1, 3)).tolist()[0]
                    if color_mask is None:
                        raise InvalidAnnotationError("annotation %s: field 'iscrowd' should be 0 or 1, got %r"
                                                     % (ann.get('id'), ann.get('iscrowd')))
                    for i in range(3):
                        img[:, :, i] = color_mask[i]
                    ax.imshow(np.dstack((img, m * 0.5)))
            if 'keypoints' in ann and isinstance(ann['keypoints'], list):
                cat = self.cats.get(ann.get('category_id'))
                if cat is None or 'skeleton' not in cat:
                    raise InvalidAnnotationError("annotation %s: category %r has no field 'skeleton' (needed to "
                                                 "draw keypoints)" % (ann.get('id'), ann.get('category_id')))
                sks = np.array(cat['skeleton']) - 1          # zero-based
                kp = np.array(ann['keypoints'])
                x, y, v = kp[0::3], kp[1::3], kp[2::3]
                for sk in sks:
                    if np.all(v[sk] > 0):
                        plt.plot(x[sk], y[sk], linewidth=3, color=c)
                plt.plot(x[v > 0], y[v > 0], 'o', markersize=8, markerfacecolor=c, markeredgecolor='k',
                         markeredgewidth=2)
                plt.plot(x[v > 1], y[v > 1], 'o', markersize=8, markerfacecolor=c, markeredgecolor=c,
                         markeredgewidth=2)
            if draw_bbox:
                if 'bbox' not in ann:
                    raise InvalidAnnotationError("annotation %s: missing field 'bbox' (showAnns draw_bbox=True)"
                                                 % (ann.get('id'),))
                bx, by, bw, bh = ann['bbox']
                polygons.append(Polygon(np.array([[bx, by], [bx, by + bh], [bx + bw, by + bh], [bx + bw, by]])))
                color.append(c)
        ax.add_collection(PatchCollection(polygons, facecolor=color, linewidths=0, alpha=0.4))
        ax.add_collection(PatchCollection(polygons, facecolor='none', edgecolors=color, linewidths=2))
        return None

    def download(self, tarDir=None, imgIds=[]):
        """Fetch the image files (each image's ``coco_url``) into ``tarDir``, skipping
        files already there (pycocotools' download). A failed fetch raises
        :class:`DownloadError` naming the image and its URL (and says when the network
        is unreachable); a partly written file is removed."""
        if tarDir is None:
            print('Please specify target directory')
            return -1
        imgs = list(self.imgs.values()) if len(imgIds) == 0 else self.loadImgs(imgIds)
        n = len(imgs)
        os.makedirs(tarDir, exist_ok=True)
        for i, img in enumerate(imgs):
            tic = time.time()
            for field in ("file_name", "coco_url"):
                if field not in img:
                    raise InvalidAnnotationError("image %r: missing field '%s' (needed to download it)"
                                                 % (img.get("id"), field))
            fname = os.path.join(tarDir, img['file_name'])
            if not os.path.exists(fname):
                _fetch(img['coco_url'], fname, img.get("id"))
            print('downloaded {}/{} images (t={:0.1f}s)'.format(i, n, time.time() - tic))
        return None

    def loadRes(self, resFile):
        """Load detections (a results file path, a list of dicts, or an [N, 7] array)
        into a new COCO sharing this one's images and categories. Box results get
        ``area = w*h``, ``id`` 1..N and ``iscrowd = 0``, as in pycocotools."""
        res = COCO()
        res._dataset['info'] = _copy_plain(self._dataset.get('info', {}))
        res._dataset['images'] = list(self._dataset.get('images', []))
        print('Loading and preparing results...')
        tic = time.time()
        anns, cols = None, None
        if isinstance(resFile, (str, os.PathLike)):
            kind, val = load_results_columns(resFile)
            if kind == "columns":
                cols = val
                cols.pop("has_area", None)
                cols = dt_columns({k: cols[k] for k in ("image_id", "category_id", "bbox", "score")},
                                         what="results file %s" % os.fspath(resFile))
            elif kind == "geometry":
                data, g, mapped = val
                try:
                    # what the results keep is read from g["text"] (a copy of the values'
                    # text, for a file's mapping), never from the mapping: see MappedText
                    cols = self._results_with_geometry(res, data, g, what="results file %s" % os.fspath(resFile))
                    text = mapped.file_text() if mapped is not None else data
                except BaseException:
                    if mapped is not None:
                        mapped.release(failing=True)
                    raise
                if mapped is not None:
                    mapped.release()
                res._geom["text"] = (text, os.fspath(resFile))     # see _results_text
            else:
                anns = val
        elif isinstance(resFile, np.ndarray):
            cols = results_from_array(resFile)
        else:
            anns = resFile
        source = os.fspath(resFile) if isinstance(resFile, (str, os.PathLike)) else None
        what = "results file %s" % source if source is not None else "results"
        try:
            cols = self._results_columns(res, anns, cols, what)
        except InvalidAnnotationError as e:
            if source is None or isinstance(e, InvalidFileError):
                raise
            raise InvalidFileError(str(e) if source in str(e) else "%s: %s" % (source, e)) from None
        known = declared_ids(self.cats)
        if known is not None:
            warn_unknown_categories(cols["category_id"], known, what, owner=self,
                                    deliberate=lambda: _narrowed(known, self._annotation_categories()))
        res._fa_what = what
        if res._res_kind == "bbox" and anns is None:
            # masks made from the boxes for a segm evaluation (see _box_masks)
            raw = res._geom.get("raw")
            n = cols["image_id"].shape[0]
            res._fa_box_masks = (n if raw is None or raw[1] is None else int((raw[1][:, 0] < 0).sum()), n)
        res._dataset['categories'] = _copy_records(self._dataset.get('categories', []))
        res._cols = ("dt", cols)
        res._pending = (cols, anns)
        print('DONE (t={:0.2f}s)'.format(time.time() - tic))
        res._images_checked = True
        res.createIndex()
        res._source = source
        return res

    def _results_columns(self, res, anns, cols, what):
        """loadRes: the columns of results given as dicts (``anns``; pycocotools' branch
        by the first record) or already read (``cols``), each on an image of this
        dataset."""
        if cols is None:
            if not isinstance(anns, list):
                raise InvalidTypeError("results should be a list of objects, got %s" % type(anns).__name__)
            res._res_kind = kind = results_kind(anns)
            if kind == "bbox" and anns and is_rotated_record(anns[0]):
                # rotated boxes (x_ctr, y_ctr, w, h, angle): kept whole for iouType "rotated";
                # area = w*h, as pycocotools' loadRes computes it from bbox[2] * bbox[3]
                cols = rotated_columns_from_records(anns, "dt", what=what, box_area=True)
            elif kind == "bbox":
                cols = columns_from_records(anns, "dt", with_ids=False, box_area=True)   # loadRes: area = w*h
            elif kind == "keypoints":
                cols, res._geom["keypoints"] = keypoint_results_columns(anns)
            else:
                cols, rles, empty = segm_results_columns(anns, self)
                res._geom["rle"] = rles
                _mark_empty_bbox(res, empty)
        cols["id"] = np.arange(1, cols["image_id"].shape[0] + 1, dtype=np.int64)
        ok = _on_known_images(cols["image_id"], self.imgs)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise InvalidAnnotationError(
                "%s record %d: image_id %d is not an image of the ground truth (%d of %d results are on unknown "
                "images)%s" % (what, i, cols["image_id"][i], int((~ok).sum()), ok.shape[0], self._no_images_note()))
        return cols

    def _annotation_categories(self):
        """Sorted unique category ids of the annotations (None if not integers): from
        the columns of a file whose annotations were not parsed, else the index."""
        if self._raw_anns is not None and self._cols is not None and self._cols[0] == "gt":
            return unique_ids(self._cols[1]["category_id"])
        return declared_ids(self.catToImgs)

    def _no_images_note(self):
        """Why no image is known, when the ground truth has none."""
        if self.imgs:
            return ""
        imgs = self._dataset.get("images")
        if imgs is None:
            return ": the ground truth has no 'images' list (a COCO annotation file lists its images under 'images')"
        return ": the ground truth's 'images' list is empty"

    def _results_with_geometry(self, res, data, g, what):
        """loadRes of a results file with masks or keypoints read by the C scanner:
        pycocotools' branch by the first record, without building any dict."""
        n = g["image_id"].shape[0]
        base = {k: g[k] for k in ("image_id", "category_id", "score")}
        seg, kpt = g["seg_span"], g["kpt_span"]
        empty = g["bbox_empty"]            # "bbox": [] (NaN, as no box)
        if n == 0 or not rows_all_nan(g["bbox"][:1])[0]:      # the first record decides
            kind = "bbox"
            has_bbox = ~rows_all_nan(g["bbox"])
            if not has_bbox.all():
                i = int(np.flatnonzero(~has_bbox)[0])
                raise InvalidAnnotationError("%s: record %d: %s (record 0 has one, so every record needs one, "
                                             "as in pycocotools)" % (what, i, "field 'bbox' is empty ([])"
                                                                     if empty[i] else "missing field 'bbox'"))
            cols = dt_columns({**base, "bbox": g["bbox"]}, what=what)
            kraw = kpt if (kpt[:, 0] >= 0).any() else None
            if kraw is not None and "kpt_values" in g:
                # read into numbers by the scan (their text is not kept): checked against
                # kpt_oks_sigmas when keypoints are evaluated (see _scanned_keypoints)
                kraw = {"values": g["kpt_values"], "count": g["kpt_count"], "box": g["kpt_box"], "span": kpt,
                        "xy": g["kpt_values"].shape[1] != first_keypoints_len(data)}
            res._geom["raw"] = (g.get("text", data), seg if (seg[:, 0] >= 0).any() else None, kraw)
            if res._geom["raw"][1] is not None and "seg_bound" in g:
                res._geom["seg_bound"] = g["seg_bound"]     # polygons' vertex boxes, from the scan
        elif seg[0, 0] >= 0:
            kind = "segm"
            try:
                # the strings left lazy stay in g["text"]: never in a file's mapping
                rles = rles_from_spans(g.get("text", data), seg, g["image_id"], self.imgs, "results", lazy=True,
                                       rle_fields=g.get("seg_rle"))
            except InvalidAnnotationError as e:
                raise InvalidAnnotationError("%s: %s" % (what, e)) from None
            bbox, area = segm_result_boxes(rles, g["bbox"])
            cols = dt_columns({**base, "bbox": bbox, "area": area}, what=what)
            res._geom["rle"] = rles
            _mark_empty_bbox(res, np.flatnonzero(empty).tolist() if empty.any() else [])
        elif kpt[0, 0] >= 0:
            kind = "keypoints"
            first = load_json_bytes(data[kpt[0, 0]:kpt[0, 1]], what)
            n_values = len(first) if isinstance(first, list) else 0
            kbox, xy = None, False
            scanned = g.get("kpt_values")
            if scanned is not None and (g["kpt_count"] == n_values).all():
                # parsed during the scan, boxes too; (x, y) pairs only when the scan kept those
                xy = n_values % 3 == 0 and scanned.shape[1] == n_values // 3 * 2
                if xy or scanned.shape[1] == n_values:
                    kp, kbox = scanned, g["kpt_box"]
            if kbox is None:
                try:
                    kp = _core.parse_keypoint_spans(data, kpt, n_values, "results")
                except InvalidOptionError:
                    raise
                except ValueError as e:
                    raise InvalidAnnotationError("%s: %s" % (what, e)) from None
            # a box is NaN (all four) where the record's numbers are not all finite
            bad = np.isnan(kbox[:, 0]) if kbox is not None else ~np.isfinite(kp).all(axis=1)
            if bad.any():
                raise InvalidAnnotationError("%s: results record %d: keypoints should be finite numbers"
                                             % (what, int(np.flatnonzero(bad)[0])))
            bbox, area = (kbox, kbox[:, 2] * kbox[:, 3]) if kbox is not None else keypoint_result_boxes(kp)
            cols = dt_columns({**base, "bbox": bbox, "area": area}, what=what)
            res._geom["keypoints"] = kp
            res._geom["keypoints_xy"] = xy
        else:
            raise InvalidAnnotationError("%s: record 0: needs 'bbox', 'segmentation' or 'keypoints'" % what)
        res._res_kind = kind
        return cols

    def _records(self, img_ids=None):
        """The annotation dicts an evaluation reads, as pycocotools' COCOeval reads them:
        through the index (``loadAnns(getAnnIds(imgIds=...))``) when ``anns`` /
        ``imgToAnns`` were assigned from outside (a subclass's ``createIndex``), else
        ``dataset['annotations']``."""
        if img_ids is not None:
            # the evaluated images' annotations only, through the index in image order
            # (each image's in the dataset's order), as pycocotools' _prepare gathers them
            index = self.imgToAnns
            lists = [(i, index.get(i, ())) for i in img_ids]
        elif not self._index_own:
            return self.dataset.get("annotations") or []
        else:
            lists = self.imgToAnns.items()
        if not self._index_own:
            return [a for _, lst in lists for a in lst]
        anns, out = self.anns, []
        for img_id, lst in lists:
            for a in lst:
                try:
                    out.append(anns[a["id"]])
                except (KeyError, TypeError):
                    raise InvalidAnnotationError(
                        "imgToAnns[%r]: annotation %r is not in anns by its 'id' (an index assigned by a "
                        "createIndex override should map every annotation of imgToAnns in anns)"
                        % (img_id, a.get("id") if isinstance(a, Mapping) else a)) from None
        return out

    @_naming_source
    def _columns(self, kind=None, bbox_optional=False, img_ids=None):
        """The annotations as columns.

        Columns read from text the user has not seen (an annotation file whose dicts were
        never parsed, results of loadRes whose dicts were never built) are kept; once
        the dicts exist where the user can reach them, they are read again at every call,
        so that edits made in place are seen (see the class docstring). With
        ``bbox_optional``, records without a ``bbox`` get a zero box and the first of
        them is kept in ``_no_bbox`` (mask evaluation never reads boxes). With ``img_ids``
        (a box evaluation of a few images), dicts are read for those images only."""
        if (self._cols is not None and (self._raw_anns is not None or self._pending is not None)
                and (kind is None or self._cols[0] == kind)):
            return self._cols[1]
        anns = self._records(img_ids)
        if kind is None:
            kind = "dt" if anns and isinstance(anns[0], Mapping) and "score" in anns[0] else "gt"
        missing = [] if bbox_optional else None
        cols = columns_from_records(anns, kind, no_bbox=missing)
        self._no_bbox = None
        if missing:
            i = missing[0]
            self._no_bbox = (kind, i, anns[i].get("id"), len(missing))
        return cols

class DownloadError(FastapError, OSError):
    """An image file could not be fetched (:meth:`COCO.download`); the message names
    the image, its URL and the reason."""


def _fetch(url, fname, img_id):
    """Fetch url into fname (urllib's urlretrieve), or raise DownloadError."""
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlretrieve(url, fname)
    except (urllib.error.URLError, OSError, ValueError) as e:
        if os.path.exists(fname):
            try:
                os.remove(fname)           # a partial file would be taken as downloaded next time
            except OSError:
                pass
        reason = getattr(e, "reason", e)
        unreachable = isinstance(e, urllib.error.URLError) and not isinstance(e, urllib.error.HTTPError) \
            and isinstance(reason, OSError)
        raise DownloadError("image %r: could not fetch %s into %s: %s%s"
                            % (img_id, url, fname, "the network is unreachable (" if unreachable else "",
                               str(reason) + (")" if unreachable else ""))) from None


_PLAIN = (int, float, str, bool, type(None))


def _copy_plain(x):
    """copy.deepcopy of JSON-like data (dicts, lists, numbers, strings), 5x faster;
    anything else inside is deep-copied."""
    if type(x) is dict:
        return {k: v if type(v) in _PLAIN else _copy_plain(v) for k, v in x.items()}
    if type(x) is list:
        return [v if type(v) in _PLAIN else _copy_plain(v) for v in x]
    return x if type(x) in _PLAIN else copy.deepcopy(x)


def _copy_records(x):
    """_copy_plain of a list of flat dicts of plain values (the categories), 4x faster;
    anything else as _copy_plain."""
    if type(x) is list and all(type(d) is dict for d in x) \
            and not any(type(v) not in _PLAIN for d in x for v in d.values()):
        return [d.copy() for d in x]
    return _copy_plain(x)


def _narrowed(known, ann_cats):
    """True when annotations have categories (``ann_cats``, sorted ids or None) that
    ``cats`` (the sorted ids ``known``) does not list: the categories were narrowed by
    assigning ``cats`` (as mmdetection does), not mistaken."""
    return ann_cats is not None and not IdIndex(known, ann_cats.shape[0])(ann_cats)[1].all()


def _on_known_images(image_ids, imgs):
    """bool [n]: which of the int64 ``image_ids`` are keys of ``imgs``. Few results (a
    per-batch call): each distinct id looked up in the dict; many (a results file): one
    pass over a table of the sorted image ids (np.unique of 500k ids costs more than
    the whole check)."""
    if image_ids.shape[0] <= len(imgs):
        unknown = [i for i in set(image_ids.tolist()) if i not in imgs]
        return ~np.isin(image_ids, unknown) if unknown else np.ones(image_ids.shape[0], bool)
    return index_of(sorted_image_ids(imgs), image_ids)[1]


def _mark_empty_bbox(res, empty):
    """Mask results (loadRes' segm branch) whose records ``empty`` (positions) carry
    ``"bbox": []``: pycocotools keeps that [] (only a record without a bbox gets the
    mask's box), which its box IoU then fails on; fastap's columns hold the mask's box
    (for the areas and the mask evaluation, which reads no box), and a box evaluation is
    refused, naming the first of them (see _missing_bbox)."""
    if empty:
        res._no_bbox = ("dt", empty[0], empty[0] + 1, len(empty), "empty")


def _maps_as_bytes(x, memo):
    """x with every mmap inside its dicts, lists and tuples replaced by its bytes (one
    copy per map), and every object whose id is a key of ``memo`` by its value."""
    if id(x) in memo:
        return memo[id(x)]
    if isinstance(x, mmap.mmap):
        if id(x) not in memo:
            memo[id(x)] = x[:]
        return memo[id(x)]
    if isinstance(x, dict):
        return {k: _maps_as_bytes(v, memo) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_maps_as_bytes(v, memo) for v in x)
    return x



class _Validation:
    """The whole-document check of an annotation file (``json_object_members``), on a
    second thread when the file is large enough and more than one thread may be used,
    so that it runs while the annotations are read (it costs as much as reading them).
    ``result()`` waits for it and raises its error, named as before."""

    MIN_BYTES = 1 << 20

    def __init__(self, data, name):
        self.data, self.name = data, name
        self.members, self.error, self.thread = None, None, None
        if len(data) >= self.MIN_BYTES and _core.max_threads() > 1:
            self.thread = threading.Thread(target=self._run, name="fastap-json-check", daemon=True)
            self.thread.start()

    def _run(self):
        try:
            self.members = _core.json_object_members(self.data)
        except BaseException as e:       # handed to result(), on the caller's thread
            self.error = e

    def result(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        elif self.members is None and self.error is None:
            self._run()
        e = self.error
        if isinstance(e, ValueError):
            if "expected a JSON object at the top level" in str(e):
                raise InvalidFileError("%s: annotation file should hold a JSON object (%s)" % (self.name, e)) from None
            raise InvalidFileError("%s: not a valid JSON file (%s)" % (self.name, e)) from None
        if isinstance(e, NotImplementedError):        # nesting deeper than the reader follows
            raise InvalidFileError("%s: not a valid JSON file (%s: arrays or objects nested deeper than JSON "
                                   "readers follow; json.loads and pycocotools stop near 1000 levels too)"
                                   % (self.name, e)) from None
        if e is not None:
            raise e
        return self.members


def _load_annotation_file(path):
    """(dataset dict, (bytes, start, end) of the annotations or None, their columns or
    None). The small members are parsed as JSON; the annotations are read by the C
    scanner into columns and kept as text until someone reads their dicts. Files the
    scanner does not take (annotations without bbox or area, ...) are parsed whole.

    The document is validated as a whole (the grammar of json.loads) first, or, for a
    large file on more than one thread, on a second thread while the members found by
    matching brackets (``json_member_spans``) are read; an invalid document then raises
    the same error, whatever the reading of its members ran into."""
    data = read_private(path)
    name = os.fspath(path)
    check = _Validation(data, name)
    members = _core.json_member_spans(data) if check.thread is not None else None
    if members is None:
        members = check.result()
    try:
        out = _read_members(data, name, members)
    except BaseException:
        check.result()            # an invalid document: its error, not what reading met
        raise
    valid = check.result()
    if valid != members:          # cannot happen for a valid document; read it again
        out = _read_members(data, name, valid)
    return out


def _read_members(data, name, members):
    dataset, span = {}, None
    for key, start, end in members:
        if key == "annotations":
            span = (start, end)
            dataset[key] = None                        # keeps the file's member order
        else:
            dataset[key] = load_json_bytes(data[start:end], name)
    if span is None:
        return dataset, None, None
    try:
        # the spans of segmentations and keypoints come along (kept for segm / keypoints
        # evaluation, which then reads those values straight from the text)
        # (keypoints read as they are met, as many per record as the first record has;
        # looked for in the first 64 KB only: a box file is not searched through)
        g = _core.parse_annotations_json(data, *span, geometry=True,
                                         kpt_stride=first_keypoints_len(data, span[0], min(span[1], span[0] + (1 << 16))))
        cols = gt_columns({k: g[k] for k in ("id", "image_id", "category_id", "bbox", "area", "iscrowd")},
                                 what="annotations")
        cols["_geom"] = {k: g[k] for k in ("seg_span", "kpt_span", "num_keypoints", "kpt_values", "kpt_count")
                         if k in g}
    except (ValueError, TypeError):
        # not plain box annotations: keep pycocotools' behaviour (load anything it can
        # index), and let evaluation report what is wrong with which record
        dataset["annotations"] = load_json_bytes(data[span[0]:span[1]], name)
        try:
            check_annotation_records(dataset)
        except InvalidAnnotationError as e:
            raise InvalidFileError("%s: %s" % (name, e)) from None
        return dataset, None, None
    return dataset, (data, span[0], span[1]), cols


def columns_of(coco, kind, iou_type=None, img_ids=None):
    """Columns of a fastap COCO, or of any object with pycocotools' ``dataset``.

    kind: "gt", "dt", or None (guessed from the records: results have a ``score``).
    Every record needs a ``bbox`` when kind is None or ``iou_type`` is "bbox"; for
    kind "gt" / "dt" with ``iou_type`` None or "segm", records without one are read with
    a zero box (pycocotools reads an annotation's box only for box IoU) and remembered:
    :func:`iou_attacher` then refuses a box evaluation of them, naming the record.

    ``img_ids`` (int64 [I], the evaluated images) lets a box evaluation of a few images
    of a COCO whose dicts are read at every evaluation read only theirs (a per-batch
    loop over a 5k-image ground truth: its dicts are read once per image, not 5k times);
    masks and keypoints are read in the order of all the annotations, so they read all."""
    optional = kind is not None and iou_type in (None, "segm")
    if isinstance(coco, COCO):
        n_img = len(coco._imgs if coco._imgs is not None else coco._dataset.get("images", ()))
        few = img_ids is not None and iou_type == "bbox" and 2 * len(img_ids) <= n_img
        cols = coco._columns(kind, bbox_optional=optional, img_ids=np.asarray(img_ids).tolist() if few else None)
        if "rbox" in cols:
            raise InvalidAnnotationError(
                "%s: field 'bbox' holds rotated boxes (5 values: x_ctr, y_ctr, w, h, angle); evaluate them with "
                "iouType='rotated' (iouType %r reads axis-aligned x, y, w, h boxes)"
                % (getattr(coco, "_fa_what", "results"), iou_type or "bbox"))
        return cols
    if coco is None or not hasattr(coco, "dataset"):
        raise InvalidTypeError("expected a COCO object (fastap or pycocotools), got %s" % type(coco).__name__)
    anns = coco.dataset.get("annotations", [])
    missing = [] if optional else None
    cols = columns_from_records(anns, kind, no_bbox=missing)
    try:
        if missing:
            _FOREIGN_NO_BBOX[coco] = (kind, missing[0], anns[missing[0]].get("id"), len(missing))
        else:
            _FOREIGN_NO_BBOX.pop(coco, None)
    except TypeError:            # not weakly referenceable: checked again, strictly, for boxes
        pass
    return cols


_FOREIGN_NO_BBOX = weakref.WeakKeyDictionary()    # the marks of pycocotools' COCO objects


def rotated_columns_of(coco, kind):
    """Columns of rotated boxes (``bbox`` of 5 values: x_ctr, y_ctr, w, h, angle in
    degrees counter-clockwise, detectron2's XYWHA) of a fastap COCO, or of any object
    with pycocotools' ``dataset``: :func:`fastap.columns.rotated_gt_columns` /
    ``rotated_dt_columns`` (``rbox`` float64 [n, 5]). kind: "gt" or "dt". Results of
    :meth:`COCO.loadRes` whose dicts were not built yet are read from their columns;
    otherwise from the annotation dicts, so that edits made in place are seen."""
    if isinstance(coco, COCO):
        cached = coco._cols
        if (cached is not None and cached[0] == kind and "rbox" in cached[1]
                and (coco._raw_anns is not None or coco._pending is not None)):
            return cached[1]
        anns = coco._records()
        what = getattr(coco, "_fa_what", None) if kind == "dt" else None
    elif coco is None or not hasattr(coco, "dataset"):
        raise InvalidTypeError("expected a COCO object (fastap or pycocotools), got %s" % type(coco).__name__)
    else:
        anns = coco.dataset.get("annotations", [])
        what = None
    if not isinstance(anns, list):
        anns = list(anns)
    return rotated_columns_from_records(anns, kind, what=what)


def rotated_pass_inputs(coco_gt, coco_dt, cut, num_threads=None):
    """(gt columns, dt columns, attach) of an iouType "rotated" evaluation of two COCO
    objects: their rotated boxes (:func:`rotated_columns_of`) and ``attach(tables)``,
    which sets their rotated IoUs (:func:`fastap.geometry.attach_rotated_iou`; the crowd
    rule against crowd ground truth) as the IoUs matching uses."""
    gt = rotated_columns_of(coco_gt, "gt")
    dt = rotated_columns_of(coco_dt, "dt")

    def attach(tables):
        attach_rotated_iou(tables, gt["rbox"], dt["rbox"], gt["iscrowd"], cut, num_threads=num_threads)
    return gt, dt, attach


def _missing_bbox(coco, iou_type):
    """Refuse to evaluate boxes of records read without one (see :func:`columns_of`)."""
    mark = coco._no_bbox if isinstance(coco, COCO) else _FOREIGN_NO_BBOX.get(coco) if _weakrefable(coco) else None
    if mark is None:
        return
    kind, i, rid, n = mark[:4]
    what = "annotations" if kind == "gt" else "results"
    if len(mark) > 4 and mark[4] == "empty":
        raise InvalidAnnotationError(
            "%s record %d (id %s): field 'bbox' is empty ([]), and iouType %r needs a box (%d record%s have an "
            "empty one; pycocotools' loadRes keeps it so for mask results, and its box IoU fails on it; iouType "
            "'segm' does not read boxes)" % (what, i, rid, iou_type, n, "" if n == 1 else "s"))
    raise InvalidAnnotationError(
        "%s record %d (id %s): missing field 'bbox', which iouType %r needs (%d record%s lack one; "
        "iouType 'segm' does not read boxes)" % (what, i, rid, iou_type, n, "" if n == 1 else "s"))


def _weakrefable(obj):
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def _keypoints_from_spans(data, spans, n_kpt, what):
    try:
        kp = _core.parse_keypoint_spans(data, spans, 3 * n_kpt, what)
    except InvalidOptionError:
        raise
    except ValueError as e:
        raise InvalidAnnotationError(str(e)) from None
    return _finite_keypoints(kp, what)


def _finite_keypoints(kp, what):
    if not np.isfinite(kp).all():
        i = int(np.flatnonzero(~np.isfinite(kp).all(axis=1))[0])
        raise InvalidAnnotationError("%s record %d: keypoints should be finite numbers" % (what, i))
    return kp


def _scanned_keypoints(s, n_kpt):
    """Keypoints of box-branch results that the scan read into numbers (``s``: their
    values, counts, boxes, spans, and whether only (x, y) were kept), checked as
    :func:`_keypoints_from_spans` checks text: every record has ``3 * n_kpt`` finite
    numbers, or an error names the first that does not."""
    want, count, span = 3 * n_kpt, s["count"], s["span"]
    bad = count != want
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        if span[i, 0] < 0:
            raise InvalidAnnotationError("results record %d: missing field 'keypoints'" % i)
        if count[i] < 0:
            raise InvalidAnnotationError("results record %d: keypoints should be a list of numbers" % i)
        raise InvalidAnnotationError(
            "results record %d: keypoints should hold %d numbers (x, y, v for each of the %d keypoints that "
            "kpt_oks_sigmas has), got %s" % (i, want, n_kpt, int(count[i]) if count[i] <= want else "more"))
    nan = np.isnan(s["box"][:, 0])                   # the scan's mark of a non-finite number
    if nan.any():
        raise InvalidAnnotationError("results record %d: keypoints should be finite numbers"
                                     % int(np.flatnonzero(nan)[0]))
    return s["values"], s["xy"]


@_naming_source
def gt_keypoints(coco, n_kpt):
    if isinstance(coco, COCO) and coco._raw_anns is not None:
        # straight from the file's text, which cannot change while it is not parsed:
        # kept for the next evaluation against this ground truth (e.g. every epoch)
        cached = coco._geom.get("gt_kpt")
        if cached is not None and cached[0] == n_kpt:
            return cached[1]
        data = coco._raw_anns[0]
        g = coco._raw_geom
        if "kpt_values" in g and g["kpt_values"].shape[1] == 3 * n_kpt and (g["kpt_count"] == 3 * n_kpt).all():
            kp = _finite_keypoints(g["kpt_values"], "annotations")    # read with the records
        else:
            kp = _keypoints_from_spans(data, g["kpt_span"], n_kpt, "annotations")
        num = g["num_keypoints"]
        if np.isnan(num).any():
            i = int(np.flatnonzero(np.isnan(num))[0])
            raise InvalidAnnotationError("annotations record %d (id %d): missing field 'num_keypoints'"
                                         % (i, coco._columns("gt")["id"][i]))
        coco._geom["gt_kpt"] = (n_kpt, (kp, num))
        return kp, num
    return keypoint_arrays(_annotation_records(coco), n_kpt, "annotations", gt=True)


@_naming_source
def dt_keypoints(coco, n_kpt):
    """(keypoints float64 [D, 3K], False), or ([D, 2K] (x, y) pairs, True) as the results
    scan keeps them."""
    if isinstance(coco, COCO) and "raw" in coco._geom and coco._geom["raw"][2] is not None:
        data, _, spans = coco._geom["raw"]
        if isinstance(spans, dict):
            return _scanned_keypoints(spans, n_kpt)
        return _keypoints_from_spans(data, spans, n_kpt, "results"), False
    if isinstance(coco, COCO) and "keypoints" in coco._geom:
        kpt, xy = coco._geom["keypoints"], coco._geom.get("keypoints_xy", False)
        per = 2 if xy else 3
        if kpt.shape[0] and kpt.shape[1] != per * n_kpt:
            raise InvalidAnnotationError("results keypoints hold %d numbers, but kpt_oks_sigmas has %d sigmas"
                                         % (kpt.shape[1] // per * 3, n_kpt))
        return kpt, xy
    return keypoint_arrays(_annotation_records(coco), n_kpt, "results", gt=False), False


@_naming_source
def rles_of(coco, gt_coco, kind, num_threads=None):
    """Masks of a COCO's annotations as an RLE set (see _core.rle_set_stats), in column
    order; polygons are rasterised at the ground truth's image sizes (pycocotools
    annToRLE). Files read by the C scanner are converted from their text, without
    building the annotation dicts."""
    what = "annotations" if kind == "gt" else "results"
    if isinstance(coco, COCO):
        if "rle" in coco._geom:
            return coco._geom["rle"]
        if "raw" in coco._geom and coco._geom["raw"][1] is not None:
            data, seg_span, _ = coco._geom["raw"]
            # results of loadRes' box branch: their areas are their boxes', so their
            # polygons are rasterised only where the IoU needs them (exact=False)
            return rles_from_spans(data, seg_span, coco._columns(kind)["image_id"], gt_coco.imgs, what,
                                   num_threads, lazy=kind != "gt", exact=kind == "gt",
                                   poly_bound=coco._geom.get("seg_bound") if kind != "gt" else None)
        if kind == "gt" and coco._raw_anns is not None:
            # straight from the file's text, which cannot change while it is not parsed:
            # kept for the next evaluation against this ground truth (e.g. every epoch)
            key = [(i, img.get("height"), img.get("width")) for i, img in gt_coco.imgs.items()]
            cached = coco._geom.get("gt_rle")
            if cached is not None and cached[0] == key:
                return cached[1]
            rles = rles_from_spans(coco._raw_anns[0], coco._raw_geom["seg_span"], coco._columns("gt")["image_id"],
                                   gt_coco.imgs, what, num_threads)
            coco._geom["gt_rle"] = (key, rles)
            return rles
    # results of loadRes' box branch (areas from their boxes): polygons rasterised only
    # where the IoU needs them, as from a file
    lazy = kind != "gt" and isinstance(coco, COCO) and coco._res_kind == "bbox"
    if lazy and coco._pending is not None and isinstance(coco._pending[1], list):
        # a list given to loadRes, its dicts not built yet: its records as they are now
        objs, from_box = _box_branch_segmentations(coco._pending[1])
        if coco._fa_box_masks is None:
            coco._fa_box_masks = (from_box, len(objs))
        return rles_from_objects(objs, coco._columns(kind)["image_id"], gt_coco.imgs, what, lazy=True)
    return rles_from_annotations(_annotation_records(coco), gt_coco.imgs,
                                 "annotations" if kind == "gt" else "results", lazy=lazy)


def _box_branch_segmentations(anns):
    """The segmentation of each of loadRes' box-branch records (dicts, checked by
    loadRes), as its dicts would hold them once built (COCO._materialize): the record's
    own, else its box's rectangle; and how many are rectangles."""
    objs = [a.get("segmentation", _NO_SEGM) for a in anns]
    from_box = 0
    for i, s in enumerate(objs):
        if s is _NO_SEGM:
            bb = anns[i]["bbox"]
            x1, x2, y1, y2 = bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]
            objs[i] = [[x1, y1, x1, y2, x2, y2, x2, y1]]
            from_box += 1
    return objs, from_box


_NO_SEGM = object()


def _warn_box_masks(coco_dt, coco_gt):
    """A mask evaluation of box results: their masks are their boxes' rectangles, as
    pycocotools' loadRes makes them (counted when loadRes read them, or when their
    dicts were built); warned once per ground truth."""
    m = coco_dt._fa_box_masks if isinstance(coco_dt, COCO) and coco_dt._res_kind == "bbox" else None
    if m and m[0]:
        warn_once(coco_gt, "box masks", BoxesAsMasksWarning,
                  "%s: iouType 'segm', but %d of %d results have no 'segmentation': their masks are their boxes' "
                  "rectangles (as pycocotools' loadRes makes them), so boxes are evaluated as masks. Evaluate "
                  "iouType 'bbox', or give the results' masks" % (coco_dt._fa_what, m[0], m[1]), m[0])


def _annotation_records(coco):
    """The annotation dicts an evaluation reads (see COCO._records), in column order."""
    if isinstance(coco, COCO):
        return coco._records()
    return coco.dataset.get("annotations", [])



def iou_attacher(coco_gt, coco_dt, iou_type, sigmas, cut, iou_thrs, use_cats, gt_crowd, num_threads=None,
                 dilation_ratio=DILATION_RATIO):
    """For masks and keypoints of two COCO objects: ``attach(tables)`` that computes
    their IoUs (OKS) for the grouped tables (:func:`fastap.geometry.attach_rle_iou` /
    :func:`~fastap.geometry.attach_oks`); None for boxes. ``tables`` must have been
    built from ``columns_of(coco_gt, "gt")`` and ``columns_of(coco_dt, "dt")``; ``gt_crowd``
    is the former's ``iscrowd`` column. ``iou_type`` "boundary": Boundary IoU
    (:func:`~fastap.geometry.attach_boundary_iou`, ``dilation_ratio``)."""
    if iou_type == "bbox":
        _missing_bbox(coco_gt, iou_type)
        _missing_bbox(coco_dt, iou_type)
        return None
    if iou_type == "keypoints":
        # OKS reads no box either, but a ground truth's area and the keypoints' boxes of
        # results are read; pycocotools' computeOks reads the ground truth's bbox
        _missing_bbox(coco_gt, iou_type)
    if iou_type in ("segm", "boundary"):
        def attach(tables):
            g_rle = rles_of(coco_gt, coco_gt, "gt", num_threads)
            d_rle = rles_of(coco_dt, coco_gt, "dt", num_threads)
            _warn_box_masks(coco_dt, coco_gt)
            if iou_type == "boundary":
                attach_boundary_iou(tables, g_rle, d_rle, gt_crowd, cut, dilation_ratio, num_threads=num_threads)
            else:
                attach_rle_iou(tables, g_rle, d_rle, cut, num_threads=num_threads)
        return attach
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)

    def attach(tables):
        gkp, gnum = gt_keypoints(coco_gt, len(sig))
        dkp, dt_xy = dt_keypoints(coco_dt, len(sig))
        attach_oks(tables, gkp, gnum, gt_crowd, dkp, sig, cut,
                   num_threads=num_threads, use_cats=bool(use_cats), iou_thrs=iou_thrs, dt_xy=dt_xy)
    return attach
