"""`--device` reaches segment-lidar's network: the CLI builds the segmenter on the selected device (checked on
torch's "meta" device, so no CUDA is needed), and the builder puts every parameter there."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvkit.segment_lidar.registry import build_segmenter
from tests.cli.helpers import cli

META = torch.device("meta")


def test_builder_puts_the_network_on_the_device() -> None:
    seg = build_segmenter("ssgv3-tiny-kitti", META, None, True)
    assert {p.device for p in seg.net.parameters()} == {META}


@pytest.mark.parametrize("command", ["segment", "evaluate"])
def test_cli_hands_the_selected_device_to_the_builder(command, tmp_path, monkeypatch) -> None:
    import cvkit.device
    import cvkit.segment_lidar.registry as registry

    asked: list[str] = []
    built: list[torch.device] = []

    def select(name: str) -> torch.device:
        asked.append(name)
        return META

    def build(model, device=None, *args, **kwargs):
        built.append(device)
        raise SystemExit(0)  # stop before any work: only the device matters here

    monkeypatch.setattr(cvkit.device, "select_device", select)
    monkeypatch.setattr(registry, "build_segmenter", build)
    scan = tmp_path / "scan.bin"
    np.zeros((100, 4), np.float32).tofile(scan)
    if command == "segment":
        args = ["segment-lidar", scan, "-o", tmp_path / "out.label", "--device", "cuda:1"]
    else:
        args = ["evaluate", "segment-lidar", "--root", tmp_path, "--device", "cuda:1"]
    with pytest.raises(SystemExit):
        cli(*args)
    assert asked == ["cuda:1"] and built == [META]
