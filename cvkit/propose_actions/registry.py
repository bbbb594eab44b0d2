"""propose-actions model registry: the names `--model` accepts (loading lives in run.load_proposer).

The default is the shipped `bcgnn-small-synth`: the only model with weights that runs on any feature type. The
paper-size `bcgnn` and the `prior` table need training on annotations/features that cannot ship.
"""

from __future__ import annotations

from ..registry import ModelInfo, register_task

DEFAULT_MODEL = "bcgnn-small-synth"

MODELS: dict[str, ModelInfo] = {
    "bcgnn-small-synth": ModelInfo(
        "bcgnn-small-synth", "BC-GNN at small size (47 k params) on the feature-agnostic self-similarity profile, "
        "trained on generated sequences; any feature type, or a video", needs_weights=True),
    "bcgnn": ModelInfo(
        "bcgnn", "paper-size BC-GNN (2.19 M params) for real TSN/I3D features", needs_weights=True,
        train_hint="cvkit train propose-actions --data anet:DIR --features csv_mean_100 --input raw --size paper"),
    "prior": ModelInfo(
        "prior", "start/end frequency table of training annotations (needs only the duration)", needs_weights=True,
        train_hint="cvkit train propose-actions --model prior --data anet:DIR -o runs/prior"),
    "sliding-window": ModelInfo(
        "sliding-window", "content-free multi-scale sliding windows (classical baseline)", needs_weights=False),
}

register_task("propose-actions", default_model=DEFAULT_MODEL, table=MODELS, headline_metric="AR@100",
              description="temporal action proposals", datasets=("anet", "thumos", "synthetic"))
