"""Drop-ins for the evaluation helpers that training frameworks copy into their code.

* :mod:`fastap.integrations.torchvision` -- ``CocoEvaluator`` of torchvision's detection
  references (``references/detection/coco_eval.py``) and the DETR family that copies it.
"""
