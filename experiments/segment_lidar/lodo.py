"""Leave-one-drive-out (LODO) validation of the real-data SqueezeSegV3 recipe against the classical pipeline.

For each of the 8 drives in the training split (../shared/data/segment-lidar/train, one scan per drive), train the
recipe on the other 7 and score the held-out scan; the classical pipeline is scored on the same scan. Several
training lengths (checkpoints of one run) and kNN post-processing on/off are scored, so the run chooses the
shipped recipe's settings. Confusion matrices are stored per fold, so the pooled IoU is exact (sum of matrices).

    nice -n 10 python experiments/segment_lidar/lodo.py --folds 01,02,03,04 --out experiments/segment_lidar/lodo_a.json
    python experiments/segment_lidar/lodo.py --summarise experiments/segment_lidar/lodo_*.json

Grouped folds (`--folds 01+02,03+04,05+06,07+09`) hold two drives out per run when 8 runs do not fit: each is
still scored and stored per drive.

The 3 sequence-00 scans are never read here (reporting only).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cvkit.segment_lidar.data import find_semantickitti, load_scan  # noqa: E402
from cvkit.segment_lidar.labels import COARSE_GROUPS  # noqa: E402
from cvkit.segment_lidar.metrics import IoUEvaluator, report  # noqa: E402
from cvkit.segment_lidar.projection import make_sensor  # noqa: E402
from cvkit.segment_lidar.segment import Segmenter  # noqa: E402
from cvkit.segment_lidar.train import TrainConfig, train  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "segment-lidar" / "train"
HEADLINE = ("ground", "car", "building", "vegetation")


def _conf(seg: Segmenter, pts: np.ndarray, gt: np.ndarray) -> tuple[list, float]:
    ev = IoUEvaluator()
    res = seg.segment(pts)
    ev.add(res.labels, gt)
    return ev.conf.tolist(), res.seconds


def run_fold(root: Path, fold: str, drives: list[str], args: argparse.Namespace, log, save=None) -> list[dict]:
    """Train on the drives outside `fold` ("02", or "01+02" for a grouped fold), score each held-out drive at every
    checkpoint (kNN on and off) and classically; one record per held-out drive (confusions summed over its scans)."""
    held_drives = fold.split("+")
    recs: list[dict] = []
    for drive in held_drives:
        held = [it for it in find_semantickitti(root, (drive,)) if it.label is not None]
        recs.append({"drive": drive, "fold": fold, "scans": [f"{it.sequence}/{it.scan.stem}" for it in held],
                     "results": {}, "_data": [load_scan(it) for it in held]})
    cls = Segmenter("classical", None, make_sensor("hdl64"))
    for rec in recs:
        ev = IoUEvaluator()
        for pts, gt in rec["_data"]:
            ev.conf += np.asarray(_conf(cls, pts, gt)[0])
        rec["results"]["classical"] = ev.conf.tolist()
        log(f"{rec['drive']} classical: " + _fmt(ev))
    cfg = TrainConfig(data=f"semantickitti:{root}", arch=args.arch, steps=args.steps, batch=args.batch,
                      optimizer="adamw", lr=args.lr, width=args.width, seed=args.seed, threads=1,
                      sequences=tuple(d for d in drives if d not in held_drives), weights=args.weights,
                      init=args.init, bn_recal=args.bn_recal, crop=args.crop, crops=args.crops)
    sensor = make_sensor("hdl64", height=64, width=args.width)

    def public(rec: dict) -> dict:
        return {k: v for k, v in rec.items() if not k.startswith("_")}

    def on_checkpoint(step: int, model) -> None:
        for knn in (True, False):
            seg = Segmenter(f"{model.cfg.name}@{step}", model, sensor, True, knn)
            key = f"learned@{step}" + ("" if knn else "-noknn")
            for rec in recs:
                ev = IoUEvaluator()
                secs = []
                for pts, gt in rec["_data"]:
                    c, s = _conf(seg, pts, gt)
                    ev.conf += np.asarray(c)
                    secs.append(s)
                rec["results"][key] = ev.conf.tolist()
                log(f"{rec['drive']} {key}: " + _fmt(ev) + f" ({np.mean(secs):.2f} s/scan)")
        if save is not None:
            save([public(r) for r in recs])

    t0 = time.time()
    cps = tuple(int(c) for c in args.checkpoints.split(",")) if args.checkpoints else (args.steps,)
    train(cfg, checkpoints=cps, on_checkpoint=on_checkpoint)
    secs = round(time.time() - t0, 1)
    return [{**public(r), "train_seconds": secs} for r in recs]


def _fmt(ev: IoUEvaluator) -> str:
    r = report(ev)
    return " ".join(f"{k} {r['coarse_iou'][k]:.3f}" for k in HEADLINE) + f" mIoU19 {r['miou']:.3f}"


def summarise(paths: list[Path]) -> dict:
    """Per-drive and pooled coarse IoU and 19-class mIoU for every scored setting; a markdown table on stderr."""
    best: dict = {}
    for p in paths:  # a drive scored by two runs (a worker cut short and its replacement): keep the fuller one
        for f in json.loads(p.read_text())["folds"]:
            if len(f["results"]) > len(best.get(f["drive"], {"results": {}})["results"]):
                best[f["drive"]] = f
    folds = [best[d] for d in sorted(best)]
    keys = sorted({k for f in folds for k in f["results"]}, key=lambda k: (k != "classical", k))
    table: dict = {"drives": [f["drive"] for f in folds], "settings": {}}
    for key in keys:
        pooled = IoUEvaluator()
        per = {}
        for f in folds:
            if key not in f["results"]:
                continue
            ev = IoUEvaluator(conf=np.asarray(f["results"][key], dtype=np.int64))
            pooled.conf += ev.conf
            r = report(ev)
            per[f["drive"]] = {**{k: round(r["coarse_iou"][k], 4) for k in COARSE_GROUPS},
                               "miou19": round(r["miou"], 4), "miou_present": round(r["miou_present"], 4)}
        r = report(pooled)
        table["settings"][key] = {"folds": len(per), "per_drive": per,
                                  "pooled": {**{k: round(r["coarse_iou"][k], 4) for k in COARSE_GROUPS},
                                             "miou19": round(r["miou"], 4),
                                             "miou_present": round(r["miou_present"], 4)}}
    return table


def markdown(table: dict, keys: list[str]) -> str:
    """Per-drive rows of ground/car/building/vegetation/mIoU19 for the given settings, pooled last."""
    cols = ("ground", "car", "building", "vegetation", "miou19")
    lines = ["| drive | model | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for d in [*table["drives"], "pooled"]:
        for k in keys:
            s = table["settings"][k]
            row = s["pooled"] if d == "pooled" else s["per_drive"].get(d)
            if row is None:
                continue
            lines.append(f"| {d} | {k} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run folds (JSON written after each) or summarise finished runs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=DATA)
    ap.add_argument("--folds", default="", help="folds, comma-separated: a drive, or drives joined by + held out "
                    "together (e.g. 01+02,03+04,05+06,07+09); default: every drive alone")
    ap.add_argument("--arch", default="ssgv3-tiny-a3")
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--checkpoints", default="", help="step counts to score, e.g. 75,150")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--weights", default=None, help="class-weight formula: paper or code")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default=None, help="start weights, e.g. ssgv3-tiny-sim (simulator pretraining)")
    ap.add_argument("--bn-recal", type=int, default=8)
    ap.add_argument("--crop", type=int, default=0, help="train on azimuth windows this wide (0: whole images)")
    ap.add_argument("--crops", type=int, default=1, help="windows per scan with --crop")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--summarise", nargs="*", type=Path, default=None)
    ap.add_argument("--show", default="classical", help="settings in the markdown table (comma-separated)")
    a = ap.parse_args()
    if a.summarise:
        table = summarise(a.summarise)
        print(json.dumps(table, indent=1))
        print(markdown(table, [k for k in a.show.split(",") if k in table["settings"]]), file=sys.stderr)
        return
    import torch

    torch.set_num_threads(1)
    drives = sorted({it.sequence for it in find_semantickitti(a.root) if it.label is not None})
    folds = [d for d in a.folds.split(",") if d] or drives
    t0 = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - t0:7.1f}s] {msg}", flush=True)

    result = {"args": {k: str(v) for k, v in vars(a).items()}, "drives": drives, "folds": []}
    def save(partial: list[dict]) -> None:  # after every checkpoint, so a run cut short keeps its finished scores
        if a.out:
            a.out.write_text(json.dumps({**result, "folds": [*result["folds"], *partial]}) + "\n")

    for d in folds:
        result["folds"].extend(run_fold(a.root, d, drives, a, log, save))
        if a.out:
            a.out.write_text(json.dumps(result) + "\n")
    log("done")


if __name__ == "__main__":
    main()
