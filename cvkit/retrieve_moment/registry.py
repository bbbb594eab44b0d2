"""The retrieve-moment models listed by `cvkit models`."""

from __future__ import annotations

from ..registry import ModelInfo, register_task

MODELS = {
    "auto": ModelInfo("auto", "default: concept bank + blind prior (concepts+prior)", False),
    "concepts+prior": ModelInfo("concepts+prior", "ImageNet concept bank (EfficientNet-Lite0 classes matched to the "
                                "query by MiniLM) + log blind prior", False),
    "concepts": ModelInfo("concepts", "ImageNet concept bank alone", False),
    "prior": ModelInfo("prior", "blind temporal prior (query-independent)", False),
    "vlanet-small-synth": ModelInfo("vlanet-small-synth", "VLANet D=128 on cheap features, trained weakly on "
                                    "Synth-STA shapes", True, "cvkit train retrieve-moment --synthetic"),
    "vlanet": ModelInfo("vlanet", "paper-size VLANet (D=512) on precomputed clip features", True,
                        "cvkit train retrieve-moment --ann charades_sta_train.txt --features DIR -o DIR; "
                        "--model DIR/weights.safetensors"),
}

register_task("retrieve-moment", default_model="auto", table=MODELS, headline_metric="R@1,IoU=0.5 (model)",
              datasets=("charades-sta", "qvhighlights", "anet-captions", "synth-sta"),
              description="find the moment of a video that a sentence describes (VLANet, concept bank, prior)")
