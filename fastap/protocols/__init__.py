"""The evaluation protocols over grouped tables: :mod:`fastap.protocols.coco`
(pycocotools' evaluate / accumulate / summarize) and :mod:`fastap.protocols.voc`
(the PASCAL VOC devkit's AP)."""
