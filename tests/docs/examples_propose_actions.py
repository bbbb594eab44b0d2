"""Doc-test set-ups of the `propose-actions` examples in README.md and its --help."""

# ruff: noqa: F403, F405
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.docs.setups import *  # the shared generated inputs (Ex, F, SCAN, ...)

ANET_DATA = "../shared/data/propose-actions"
VIDEOS = [f"v_vid{k}" for k in range(6)]  # 4 training, 2 validation


def _anno() -> str:
    """anet_anno_action.json as BSN prepares it: per video duration, frames and (segment, label) annotations."""
    return json.dumps({v: {"duration_second": 30.0, "duration_frame": 900, "feature_frame": 896,
                           "annotations": [{"segment": [2.0 + 3 * k, 12.0 + 2 * k], "label": "Ballet"}]}
                       for k, v in enumerate(VIDEOS)})


INFO_CSV = F.text("video,numFrame,seconds,fps,rfps,subset,featureFrame\n" + "".join(
    f"{v},900,30.0,30.0,30.0,{'training' if k < 4 else 'validation'},896\n" for k, v in enumerate(VIDEOS)))
# ../shared/data/propose-actions: the BSN annotation files (no features, no videos)
ANET = {"anet/anet_anno_action.json": F.text(_anno()), "anet/video_info_new.csv": INFO_CSV,
        "anet/action_name.csv": F.text("action\nBallet\n")}
ANET_SUBS = [(ANET_DATA, "anet")]
# an ActivityNet result JSON for the two validation videos (ids without `v_`, as the official format)
RESULTS = F.text(json.dumps({"version": "VERSION 1.3", "external_data": {}, "results": {
    v[2:]: [{"segment": [2.0 + 3 * k, 20.0], "score": 0.9}, {"segment": [0.0, 30.0], "score": 0.4}]
    for k, v in enumerate(VIDEOS) if k >= 4}}))
CLIP = F.video(n=48, h=48, w=64)  # three 16-frame snippets


def _features(seed: int, rows: int = 100, dim: int = 12) -> F.Writer:
    """A BSN csv_mean_100 feature file: header f0..fN, one row per snippet, one burst of activity."""
    def write(path: Path) -> None:
        rng = np.random.default_rng(seed)
        x = rng.normal(0, 0.3, (rows, dim))
        x[20 + seed:60] += rng.normal(0, 2, dim)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(path, x, delimiter=",", header=",".join(f"f{i}" for i in range(dim)), comments="", fmt="%.4f")
    return write


def _trained_bcgnn(tmp: Path) -> None:
    """runs/bcgnn: a trained BC-GNN asset folder (the shipped one stands in for the user's run)."""
    from cvkit.assets import find_asset

    asset = find_asset("propose-actions", "bcgnn-small-synth")
    assert asset is not None
    shutil.copytree(asset.weights.parent, tmp / "runs/bcgnn")


def _trained_prior(tmp: Path) -> None:
    """runs/prior: the prior table from the generated annotations (`cvkit train propose-actions --model prior`)."""
    from tests.robustness.harness import invoke

    r = invoke(["train", "propose-actions", "--model", "prior", "--data", "anet:anet", "-o", "runs/prior", "--quiet"],
               cwd=tmp)
    assert r.code == 0, r.stderr


def few_prior_videos(mp: pytest.MonkeyPatch) -> None:
    """The synthetic comparison fits its prior on 3000 generated training videos (~25 s); here 50 show the path."""
    import cvkit.propose_actions.workflows as W

    real = W.synthetic_comparison
    mp.setattr(W, "synthetic_comparison", lambda *a, **kw: real(*a, **{**kw, "prior_videos": 50}))


EXAMPLES: dict[str, Ex] = {
    "cvkit propose-actions video.mp4 -o proposals.json   # ActivityNet result JSON + proposals.csv + proposals.png "
    "timeline": Ex({"video.mp4": CLIP}),
    "cvkit evaluate propose-actions --dataset anet --root ../shared/data/propose-actions --results proposals.json "
    "--plot ar.png": Ex({**ANET, "proposals.json": RESULTS}, subs=ANET_SUBS),
    "cvkit propose-actions ../shared/data/pets2009/vtest.avi -o proposals.json":
        Ex({"vtest.avi": CLIP}, subs=[("../shared/data/pets2009/vtest.avi", "vtest.avi")]),
    "cvkit propose-actions csv_mean_100/ -o val/ --durations video_info_new.csv --model runs/bcgnn --json":
        Ex({"csv_mean_100/v_vid4.csv": _features(4), "csv_mean_100/v_vid5.csv": _features(5),
            "video_info_new.csv": INFO_CSV}, prepare=_trained_bcgnn),
    "cvkit propose-actions video_info_new.csv --subset validation --model runs/prior -o prior_val.json":
        Ex({**ANET, "video_info_new.csv": INFO_CSV}, prepare=_trained_prior),
    "cvkit train propose-actions --data synthetic --steps 20 --videos 64 -o runs/smoke":
        Ex(subs=[("--steps 20 --videos 64", "--steps 2 --videos 4 --batch 2")], slow=True),
    "cvkit train propose-actions --model prior --data anet:../shared/data/propose-actions -o runs/prior":
        Ex(ANET, subs=ANET_SUBS),
    "cvkit evaluate propose-actions --dataset anet --root ../shared/data/propose-actions --results val.json "
    "--plot ar.png": Ex({**ANET, "val.json": RESULTS}, subs=ANET_SUBS),
    "cvkit evaluate propose-actions --dataset synthetic --videos 50": Ex(subs=[("--videos 50", "--videos 2")],
                                                                          patch=few_prior_videos),
}

NOT_RUNNABLE: dict[str, str] = {}
