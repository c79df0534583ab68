"""Input adapters: files and objects in the forms users hold, turned into columns.

* :mod:`fastap.adapters.jsonfile` -- reading COCO JSON files (the C scanner for results);
* :mod:`fastap.adapters.records` -- annotation / result dicts and arrays into columns;
* :mod:`fastap.adapters.cocodata` -- pycocotools' ``COCO`` dataset object.

(:mod:`fastap.formats`, YOLO and PASCAL VOC files, is an adapter too; it keeps its
public module name.)
"""
