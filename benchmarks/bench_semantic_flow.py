"""Speed and memory of `cvkit semantic-flow` beside OpenCV DIS optical flow, on the graffiti pair (or any two
images) resized to 256 and 512 px, plus PCK of each on the same run when the pair has a homography.

Each (method, size) runs in its own subprocess so the peak resident memory (ru_maxrss) is its own.

    python benchmarks/bench_semantic_flow.py --threads 1 --out benchmarks/results/semantic_flow.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "semantic-flow"


def one(method: str, size: int, repeats: int, threads: int, src_path: str, tgt_path: str) -> dict:
    """Time `repeats` pairs of one method at one size in this process."""
    import cv2
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    from cvkit.semantic_flow.evaluate import dis_flow
    from cvkit.semantic_flow.metrics import homography_grid, pck, sample_flow
    from cvkit.semantic_flow.predict import GSFParams, SemanticFlow

    a, b = cv2.imread(src_path), cv2.imread(tgt_path)
    s = size / max(a.shape[:2])
    a2, b2 = (cv2.resize(x, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) for x in (a, b))
    if method == "dis":
        fn = dis_flow
    else:
        sf = SemanticFlow(GSFParams(size=size))
        fn = lambda x, y: sf(x, y, method).flow  # noqa: E731
    fn(a2, b2)  # warm-up (loads the trunk)
    t0 = time.perf_counter()
    for _ in range(repeats):
        flow = fn(a2, b2)
    dt = (time.perf_counter() - t0) / repeats
    out = {"method": method, "size": size, "pairs_per_s": round(1 / dt, 3), "seconds_per_pair": round(dt, 4),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    h_file = Path(src_path).parent / "H1to3p.xml"
    if h_file.is_file():
        fs = cv2.FileStorage(str(h_file), cv2.FILE_STORAGE_READ)
        h = fs.getNode("H13").mat()
        scale = np.diag([s, s, 1.0])
        hs = scale @ h @ np.linalg.inv(scale)
        src, gt = homography_grid(hs, a2.shape[:2], b2.shape[:2], step=max(4, size // 50))
        pred = sample_flow(flow, src)
        out.update({f"pck@{al}": round(pck(pred, gt, max(b2.shape[:2]), al), 4) for al in (0.05, 0.1)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(DATA / "graf1.png"))
    ap.add_argument("--target", default=str(DATA / "graf3.png"))
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--methods", default="gsf,nn,dis")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "semantic_flow.json"))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child[0], int(args.child[1]), args.repeats, args.threads, args.source,
                             args.target)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for method in args.methods.split(","):
            r = subprocess.run([sys.executable, __file__, "--child", method, str(size), "--repeats",
                                str(args.repeats), "--threads", str(args.threads), "--source", args.source,
                                "--target", args.target], capture_output=True, text=True, cwd=ROOT,
                               env={"PYTHONPATH": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE", "PATH": "/usr/bin:/bin"})
            if r.returncode:
                raise SystemExit(r.stderr)
            rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    result = {"bench": "semantic_flow", "pair": [args.source, args.target], "threads": args.threads,
              "machine": platform.processor() or platform.machine(), "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/bench_semantic_flow.py " + " ".join(sys.argv[1:]), "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
