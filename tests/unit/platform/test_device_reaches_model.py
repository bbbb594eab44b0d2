"""`--device` reaches the model wherever it is offered (proved without CUDA: a spy records the device asked for)."""

from __future__ import annotations

import pytest
import torch

from cvkit.reid_cluster import pipeline
from cvkit.reid_cluster.data import synthetic_pedestrians, write_crop_folder
from cvkit.reid_cluster.registry import build_embedder


def test_reid_cluster_moves_the_net_and_embeds_on_the_requested_device(tmp_path, monkeypatch) -> None:
    images, ids, cams = synthetic_pedestrians(3, 3, (128, 64), n_cameras=1, seed=0)
    write_crop_folder(images, ids, cams, tmp_path / "crops")
    embedder = build_embedder("lite0-imagenet")
    seen: list[str] = []
    real_to = torch.nn.Module.to

    def spy_to(module, *args, **kwargs):
        if module is embedder.net:
            seen.append(f"net.to({args[0] if args else kwargs})")
        return real_to(module, *args, **kwargs)

    real_embed = embedder.embed
    monkeypatch.setattr(torch.nn.Module, "to", spy_to)
    monkeypatch.setattr(embedder, "embed", lambda imgs, **kw: seen.append(f"embed({kw['device']})")
                        or real_embed(imgs, **{**kw, "device": "cpu"}))
    opts = pipeline.RunOptions(model="lite0-imagenet", rounds=0, clusters=3, p=3, k=3, top=2, html=False,
                               device="cuda:1")
    with pytest.raises((AssertionError, RuntimeError)):  # no CUDA here: the move itself is what is checked
        pipeline.run(tmp_path / "crops", tmp_path / "out", opts, embedder=embedder)
    assert seen and seen[0] == "net.to(cuda:1)"
