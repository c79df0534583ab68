"""One rank of the torch.distributed test (run by tests/test_scale.py)."""
import json
import os
import sys

import numpy as np
import torch.distributed as dist

import fastap
from fastap.distributed import all_gather_merge


def main(data_path, out_path):
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", rank=rank, world_size=world)
    with open(data_path) as f:
        case = json.load(f)
    d, r = case["gt"], case["results"]
    imgs = sorted({x["image_id"] for x in r})
    mine = set(imgs[rank::world])                # a DistributedSampler-like split
    ev = fastap.Evaluator(d)
    ev.update([x for x in r if x["image_id"] in mine])
    res = all_gather_merge(ev).compute()
    np.savez(out_path % rank, precision=res.precision, recall=res.recall, scores=res.scores, stats=res.stats)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
