"""search-expand in the project registry: the query-expansion methods `--qe` accepts and the LAttQE weights.

The default is alpha-QE, a classical, training-free method: the shipped learned `lattqe-gram` lost to it on
validation (docs/search-expand.md). LAttQE weights load through `model.load_lattqe`."""

from __future__ import annotations

from ..registry import ModelInfo, register_task

TASK = "search-expand"
DEFAULT_MODEL = "alphaqe"
_TRAIN = "Train it with `cvkit train search-expand --features X.npy --labels y.npy --arch {arch}`"
MODELS: dict[str, ModelInfo] = {
    "alphaqe": ModelInfo("alphaqe", "alpha-QE (Radenovic 2018): weights max(cos, 0)^3 over the top-10; classical, "
                         "training-free; the default (beat LAttQE-gram on validation)", needs_weights=False),
    "aqe": ModelInfo("aqe", "average QE (Chum 2007) over the top-2; classical", needs_weights=False),
    "aqewd": ModelInfo("aqewd", "average QE with rank decay (k - i)/k over the top-4; classical", needs_weights=False),
    "dqe": ModelInfo("dqe", "discriminative QE (Arandjelovic 2012): linear-SVM normal, top-4 vs 5 far items",
                     needs_weights=False),
    "lattqe-gram": ModelInfo("lattqe-gram", "LAttQE with descriptor-agnostic similarity-row tokens (width 64, 3 "
                             "layers), trained on synthetic descriptors; any descriptor", needs_weights=True,
                             train_hint="cvkit train search-expand --data synthetic"),
    "lattqe-small": ModelInfo("lattqe-small", "LAttQE with a D->256 projection (8 heads, FFN 512)", needs_weights=True,
                              train_hint=_TRAIN.format(arch="small")),
    "lattqe": ModelInfo("lattqe", "LAttQE/LAttDBA as in the paper (width D, 3 layers, 64 heads, FFN 2048)",
                        needs_weights=True, train_hint=_TRAIN.format(arch="paper")),
}

register_task(TASK, default_model=DEFAULT_MODEL, table=MODELS, headline_metric="mAP",
              description="image search with query expansion (LAttQE, alpha-QE, AQE, AQEwD, DQE, DBA)",
              datasets=("roxford5k", "rparis6k", "folders", "pets2009", "digits", "bundled"))
