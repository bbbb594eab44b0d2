"""DMTrack failure analysis on *validation* distractor clips: where frames are lost and what ONR/OFC score there.

Per frame (2..N) it records the IoU of the prediction with the target and with every distractor, the target's visible
fraction, the OFC score (max over anchors, nearest anchor cell) and ONR response (bilinear, feature cell) at the true
target centre and at the distractor most confusable with it, and the ONR memory event. `--mode ofc` tracks with OFC
alone but runs ONR in the shadow (μ = 0: identical boxes, ONR still stored/updated on OFC's boxes). Lost frames
(IoU = 0) are classified: `switch` (the box overlaps a distractor, IoU > 0.1), `occlusion` (target < 50 % visible),
else `drift`. Never run it on eval seeds 0-2 (test/confirmation sets).

    python experiments/track/analyze_dmtrack_failures.py --seed 7 --clips 20 --mode ofc --out /tmp/ofc7.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np


def _scores_at(tr: object, x: float, y: float) -> tuple[float | None, float | None]:
    """OFC score (max over anchors) and ONR response at image point (x, y) in the last frame's crop."""
    import torch
    import torch.nn.functional as F

    last = tr.last
    cx0, cy0 = last["centre"]
    st = tr.net.stride
    dx, dy = (x - cx0) * last["scale_z"] / st, (y - cy0) * last["scale_z"] / st
    s_a = last["s_a"]
    r = s_a.shape[-1]
    ja, ia = round(dx + (r - 1) / 2), round(dy + (r - 1) / 2)
    ofc = float(s_a[:, ia, ja].max()) if 0 <= ia < r and 0 <= ja < r else None
    onr = None
    m = last["s_r_map"]
    if m is not None:
        f = m.shape[-1]
        u, v = dx + (f - 1) / 2, dy + (f - 1) / 2
        if 0 <= u <= f - 1 and 0 <= v <= f - 1:
            g = torch.tensor([[[[u / (f - 1) * 2 - 1, v / (f - 1) * 2 - 1]]]], dtype=torch.float32)
            onr = float(F.grid_sample(m[None, None], g, align_corners=True)[0, 0, 0, 0])
    return ofc, onr


def analyse(net: object, seed: int, clips: int, mode: str, overrides: dict) -> dict:
    """Run the instrumented tracker on `clips` clips of eval seed `seed`; returns per-frame records and a summary."""
    from cvkit.track.dmtrack.dmtrack import DMTrackParams, build_dmtrack_tracker
    from cvkit.track.metrics import box_iou, ope_sequence
    from cvkit.track.synthetic import _mask_box, synthetic_clip
    from cvkit.track.train import EVAL_SEED_BASE

    params = DMTrackParams.from_dict(copy.deepcopy(net.tracker_params))
    for k, v in overrides.items():
        if k.startswith("onr."):
            setattr(params.onr, k[4:], v)
        else:
            setattr(params, k, v)
    if mode == "ofc":
        params.mu = 0.0  # OFC boxes exactly; ONR runs in the shadow
    tr = build_dmtrack_tracker(net, params, use_onr=True)
    recs, aucs = [], []
    for i in range(clips):
        clip = synthetic_clip("distractors", EVAL_SEED_BASE + 1000 * seed + i)
        gt = clip.boxes
        pred = [np.asarray(gt[0], float)]
        for t in range(clip.n_frames):
            frame = clip.render(t)
            if t == 0:
                tr.initialize(frame, tuple(gt[0]))
                continue
            box = np.asarray(tr.track(frame)[0], float)
            pred.append(box)
            dboxes = [_mask_box(*mv.warp(t, clip.size, with_patch=False)[1:]) for mv in clip.distractors]
            g = np.asarray(gt[t], float)
            iou = float(box_iou(box, g))
            d_iou = [float(box_iou(box, d)) for d in dboxes]
            gc = (g[0] + g[2] / 2, g[1] + g[3] / 2)
            ofc_t, onr_t = _scores_at(tr, *gc)
            # the most confusable distractor: the one the box sits on, else the nearest to the target
            j = int(np.argmax(d_iou)) if max(d_iou) > 0.1 else int(np.argmin(
                [np.hypot(d[0] + d[2] / 2 - gc[0], d[1] + d[3] / 2 - gc[1]) for d in dboxes]))
            d = dboxes[j]
            ofc_d, onr_d = _scores_at(tr, d[0] + d[2] / 2, d[1] + d[3] / 2)
            vis = clip.visible_fraction(t)
            kind = "ok" if iou > 0 else ("switch" if max(d_iou) > 0.1 else "occlusion" if vis < 0.5 else "drift")
            recs.append({"clip": i, "t": t, "iou": round(iou, 3), "d_iou": round(max(d_iou), 3), "vis": round(vis, 2),
                         "kind": kind, "ofc_t": ofc_t, "onr_t": onr_t, "ofc_d": ofc_d, "onr_d": onr_d,
                         "d_dist": round(float(np.hypot(d[0] + d[2] / 2 - gc[0], d[1] + d[3] / 2 - gc[1])
                                               / max(np.sqrt(g[2] * g[3]), 1)), 2),
                         "raw": round(tr.last["raw"], 3), "event": tr.last["event"]})
        aucs.append(float(ope_sequence(np.stack(pred), gt, include_first=False)["auc"]))
    return {"seed": seed, "clips": clips, "mode": mode, "overrides": overrides, "auc": float(np.mean(aucs)),
            "auc_per_clip": [round(a, 4) for a in aucs], "frames": recs, "summary": summarise(recs)}


def summarise(recs: list[dict]) -> dict:
    """Counts of lost frames by cause; ONR/OFC target-vs-distractor margins; memory events on wrong frames."""
    out: dict = {"frames": len(recs), "lost": sum(r["kind"] != "ok" for r in recs)}
    for k in ("switch", "occlusion", "drift"):
        out[f"lost_{k}"] = sum(r["kind"] == k for r in recs)
    out["lost_clips"] = len({r["clip"] for r in recs if r["kind"] != "ok"})

    def margin(sel: list[dict], a: str) -> dict:
        v = [(r[f"{a}_t"], r[f"{a}_d"]) for r in sel if r[f"{a}_t"] is not None and r[f"{a}_d"] is not None]
        if not v:
            return {}
        arr = np.array(v)
        return {"n": len(v), "target_mean": round(float(arr[:, 0].mean()), 3),
                "distractor_mean": round(float(arr[:, 1].mean()), 3),
                "target_higher": round(float((arr[:, 0] > arr[:, 1]).mean()), 3)}

    close = [r for r in recs if r["d_dist"] < 1.5]
    for name, sel in (("switch_frames", [r for r in recs if r["kind"] == "switch"]),
                      ("distractor_within_1.5_sides", close),
                      ("close_ok", [r for r in close if r["kind"] == "ok"])):
        out[name] = {"ofc": margin(sel, "ofc"), "onr": margin(sel, "onr")}
    ev: dict = {}
    for r in recs:
        key = f"{r['event']}@{'ok' if r['kind'] == 'ok' else 'lost'}"
        ev[key] = ev.get(key, 0) + 1
    out["events"] = ev
    return out


def main() -> None:
    """CLI."""
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from cvkit.assets import find_asset
    from cvkit.track.dmtrack.dmtrack_train import load_dmtrack

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--mode", choices=("ofc", "fusion"), default="fusion")
    ap.add_argument("--set", nargs="*", default=[], help="param overrides k=v (onr.k=v for ONRParams)")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if a.seed in (0, 1, 2, 3):
        raise SystemExit("eval seeds 0-3 are test/confirmation sets")
    torch.set_num_threads(1)
    net = load_dmtrack(find_asset("track", "dmtrack-lite").weights.parent)
    ov = {k: (v if v in ("fused", "ofc") else json.loads(v)) for k, v in (s.split("=", 1) for s in a.set)}
    res = analyse(net, a.seed, a.clips, a.mode, ov)
    a.out.write_text(json.dumps(res) + "\n")
    print(json.dumps({"auc": round(res["auc"], 4), **res["summary"]}, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
