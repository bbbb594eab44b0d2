"""`--model` names and `--device` for semantic-flow."""

from __future__ import annotations

import pytest
import torch

from cvkit.errors import ModelError
from cvkit.registry import build_model, discover, models


def test_models_and_device_reach_the_predictor():
    discover()
    assert {"gsf", "nn", "gsfnet", "gsfnet-lite"} <= set(models("semantic-flow"))
    sf = build_model("semantic-flow", "default", "cuda:1", size=256)  # nothing runs: the trunk loads lazily
    assert sf.name == "gsf" and sf.device == torch.device("cuda:1") and sf.params.size == 256
    assert build_model("semantic-flow", "nn", "cpu").method == "nn"
    with pytest.raises(ModelError):
        build_model("semantic-flow", "gsfnet", "cpu")
