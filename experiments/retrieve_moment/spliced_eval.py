"""Where does the concept bank help? Splice the real Charades moment (0.2-9.8 s of charades.mp4) into caption-less
real footage (PETS2009 vtest.avi) at different offsets and ask the clip's query: the prior cannot follow the
moment's position, the concept bank can. Evaluation only (no fitting); prints per offset the top-1 IoU and whether
a top-5 window has IoU >= 0.5, for prior, concepts and concepts+prior.

    python experiments/retrieve_moment/spliced_eval.py --out benchmarks/results/retrieve_moment_spliced.json
"""
import argparse
import json
import tempfile
from pathlib import Path

import cv2
import torch

from cvkit.retrieve_moment.metrics import tiou
from cvkit.retrieve_moment.predict import Retriever

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
QUERY = "a person walks in a doorway drinking some coffee"


def frames(path, start, end, fps_out, size):
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    out, i, nxt = [], 0, start
    while True:
        ok, f = cap.read()
        if not ok or i / fps >= end:
            break
        if i / fps >= nxt:
            out.append(cv2.resize(f, size))
            nxt += 1 / fps_out
        i += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results/retrieve_moment_spliced.json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    fps, size = 15.0, (480, 270)
    moment = frames(DATA / "retrieve-moment" / "charades.mp4", 0.2, 9.8, fps, size)
    filler = frames(DATA / "pets2009" / "vtest.avi", 0.0, 60.0, fps, size)
    total = 45.0
    rs = {m: Retriever(m) for m in ("prior", "concepts", "concepts+prior")}
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for off in (0.0, 8.0, 17.0, 26.0, 35.0):
            n0 = int(off * fps)
            seq = filler[:n0] + moment + filler[n0:int(total * fps) - len(moment)]
            path = Path(d) / f"splice_{off:g}.avi"
            w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
            for f in seq:
                w.write(f)
            w.release()
            gt = (off, off + len(moment) / fps)
            for m, r in rs.items():
                r.cache_dir = d
                vf, _ = r.features(path)
                ms = r.query(vf, QUERY, 5)
                ious = [tiou((x.start, x.end), gt) for x in ms]
                rows.append({"offset": off, "model": m, "gt": gt, "iou_top1": round(ious[0], 3),
                             "hit5": max(ious) >= 0.5, "top1": (ms[0].start, ms[0].end)})
                print(rows[-1], flush=True)
    summary = {m: {"mean_iou_top1": round(sum(r["iou_top1"] for r in rows if r["model"] == m) / 5, 3),
                   "R@5_IoU0.5": sum(r["hit5"] for r in rows if r["model"] == m) / 5} for m in rs}
    print(summary)
    Path(a.out).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
