"""retrieve-moment benchmark: feature-extraction speed (video seconds per wall second, default sampling rate, cold
cache), queries/s on cached features, and the real Charades clip's top-1 / best-of-top-5 IoU for every model side
by side (blind prior, concept bank, concept bank + prior, the synthetic-trained VLANet), JSON out.

    python benchmarks/bench_retrieve_moment.py --threads 1 --out benchmarks/results/bench_retrieve_moment.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
CLIP = DATA / "retrieve-moment" / "charades.mp4"
QUERY, GT = "a person walks in a doorway drinking some coffee", (0.2, 9.8)
SPEED_VIDEOS = [CLIP, DATA / "pets2009" / "vtest.avi"]
MODELS = ["prior", "concepts", "concepts+prior", "vlanet-small-synth"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--out", default="benchmarks/results/bench_retrieve_moment.json")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    from cvkit.errors import ModelError
    from cvkit.retrieve_moment.metrics import tiou
    from cvkit.retrieve_moment.predict import Retriever

    res: dict = {"machine": platform.processor() or platform.machine(), "threads": a.threads,
                 "load_avg_1m": os.getloadavg()[0], "extraction": [], "queries": [], "charades_clip": []}
    with tempfile.TemporaryDirectory() as cache:
        r = Retriever("auto", cache_dir=cache)
        r.features(CLIP)   # warm-up: model load
        for v in [p for p in SPEED_VIDEOS if p.is_file()]:
            with tempfile.TemporaryDirectory() as cold:
                r.cache_dir = cold
                t = time.perf_counter()
                vf, _ = r.features(v)
                dt = time.perf_counter() - t
            res["extraction"].append({"video": v.name, "seconds": round(vf.duration, 2), "wall_s": round(dt, 2),
                                      "x_real_time": round(vf.duration / dt, 2)})
            print(res["extraction"][-1], flush=True)
        for m in MODELS:
            try:
                rm = Retriever(m, cache_dir=cache)
            except ModelError as e:
                print(f"skipping {m}: {e}")
                continue
            vf, _ = rm.features(CLIP)
            rm.query(vf, "a person opens the door", 5)   # first query of the process: loads the text encoder
            t = time.perf_counter()
            vf, hit = rm.features(CLIP)                  # second query on the same video: cached features
            ms = rm.query(vf, QUERY, 5)
            first = time.perf_counter() - t
            t = time.perf_counter()
            for i in range(a.queries):
                rm.query(vf, f"{QUERY} {i}", 5)   # distinct strings: no text cache
            qps = a.queries / (time.perf_counter() - t)
            ious = [round(tiou((x.start, x.end), GT), 3) for x in ms]
            res["queries"].append({"model": m, "cached_second_query_s": round(first, 3),
                                   "queries_per_s": round(qps, 1)})
            res["charades_clip"].append({"model": m, "top5": [(x.start, x.end) for x in ms], "iou_top1": ious[0],
                                         "iou_best_top5": max(ious)})
            print(res["queries"][-1], res["charades_clip"][-1], flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
