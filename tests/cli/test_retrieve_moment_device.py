"""`--device` reaches the retrieve-moment models (retrieve, evaluate) without CUDA (see `probe_devices`);
`train retrieve-moment` offers no --device (its recipes run on the CPU)."""

from __future__ import annotations

from tests.cli.helpers import probe_devices
from tests.robustness.harness import invoke


def test_retrieve_and_evaluate_pass_the_device(monkeypatch, tmp_path):
    seen = probe_devices(monkeypatch, {
        "model": ("cvkit.retrieve_moment.predict.Retriever", lambda model, prior, device, *args: device),
        "synth": ("cvkit.retrieve_moment.train.synth_eval", lambda *args, device: device)})
    (tmp_path / "clip.mp4").write_bytes(b"")
    r = invoke(["retrieve-moment", str(tmp_path / "clip.mp4"), "a dog", "--device", "cuda:1"])
    assert r.code == 5 and seen == {"asked": "cuda:1", "model": "meta"}, r.stderr
    r = invoke(["evaluate", "retrieve-moment", "--dataset", "charades-sta", "--root", str(tmp_path), "--device",
                "cuda:2"])
    assert r.code == 5 and seen == {"asked": "cuda:2", "model": "meta"}, r.stderr
    r = invoke(["evaluate", "retrieve-moment", "--dataset", "synth-sta", "--device", "cuda:3"])
    assert r.code == 5 and seen["asked"] == "cuda:3" and seen["synth"] == "meta", r.stderr
    text = invoke(["train", "retrieve-moment", "--help"]).stdout
    assert "--epochs" in text and "--device" not in text
