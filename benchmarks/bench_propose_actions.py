"""propose-actions benchmark: videos/s of the graph model at 100 snippets (paper size and the shipped small model,
Soft-NMS included), snippets/s of the raw-video feature extraction, and the held-out synthetic comparison
(shipped BC-GNN vs prior vs sliding windows, AR@AN in the same run). JSON out.

    python benchmarks/bench_propose_actions.py --out benchmarks/results/bench_propose_actions.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT.parent / "shared" / "data" / "pets2009" / "vtest.avi"


def time_graph(net, input_kind: str, repeats: int, dim: int) -> dict:
    """Seconds per ActivityNet-style video (100 positions): network + candidate filter + Soft-NMS."""
    import numpy as np

    from cvkit.propose_actions.predict import propose_bcgnn

    rng = np.random.default_rng(0)
    feats = rng.normal(size=(100, dim)).astype(np.float32)
    propose_bcgnn(net, feats, 120.0, input_kind)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        propose_bcgnn(net, feats, 120.0, input_kind)
    dt = (time.perf_counter() - t0) / repeats
    cpu = (time.process_time() - c0) / repeats
    return {"seconds_per_video": round(dt, 4), "videos_per_s": round(1 / dt, 2),
            "cpu_seconds_per_video": round(cpu, 4), "videos_per_cpu_s": round(1 / cpu, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_propose_actions.json")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--test-videos", type=int, default=300)
    ap.add_argument("--video", type=Path, default=VIDEO)
    args = ap.parse_args()

    import torch

    from cvkit.device import set_threads
    from cvkit.propose_actions.evaluate import synthetic_comparison
    from cvkit.propose_actions.model import BCGNN, count_parameters
    from cvkit.propose_actions.run import load_proposer

    set_threads(args.threads)
    out: dict = {"note": "wall times on a shared 2-core machine under load; cpu_* = this process's CPU time",
                 "machine": platform.machine(), "python": platform.python_version(), "torch": torch.__version__,
                 "threads": args.threads}
    paper = BCGNN().eval()
    out["graph_paper_size"] = {"params": count_parameters(paper), **time_graph(paper, "raw", args.repeats, 400)}
    small = load_proposer("default")
    out["graph_small_shipped"] = {"model": small.name, "params": count_parameters(small.net),
                                  **time_graph(small.net, small.input, args.repeats * 4, 64)}
    if args.video.is_file():
        from cvkit.propose_actions.video import extract_video_features

        t0, c0 = time.perf_counter(), time.process_time()
        vf = extract_video_features(args.video)
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out["feature_extraction"] = {"video": args.video.name, "snippets": len(vf.features),
                                     "frames": int(round(vf.duration * vf.fps)), "seconds": round(dt, 2),
                                     "snippets_per_s": round(len(vf.features) / dt, 2),
                                     "cpu_seconds": round(cpu, 2),
                                     "snippets_per_cpu_s": round(len(vf.features) / cpu, 2),
                                     "frames_per_s": round(vf.duration * vf.fps / dt, 1)}
    else:
        out["feature_extraction"] = {"skipped": f"{args.video} absent"}
    t0 = time.perf_counter()
    rep = synthetic_comparison(small.net, small.input, n=args.test_videos)
    rep.pop("_curves")
    out["synthetic_heldout"] = {"videos": args.test_videos, "seed": 10007,
                                "seconds": round(time.perf_counter() - t0, 1),
                                "models": {k: {m: round(v, 2) for m, v in r.items()} for k, r in rep.items()}}
    text = json.dumps(out, indent=2)
    json.loads(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
