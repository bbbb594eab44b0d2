"""`--device` of `search-expand index|query` and `train|evaluate search-expand` reaches the descriptor network
(EfficientNet-Lite0) and LAttQE, proved without CUDA: the device asked for resolves to torch's `meta` device and
the models' parameters must end up there (the run then stops, as meta tensors hold no data)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.robustness.harness import invoke


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Two image classes, descriptors with ids and labels, and a database of the descriptors."""
    from cvkit.search_expand.run import index_descriptor_file

    d = tmp_path_factory.mktemp("se")
    rng = np.random.default_rng(0)
    for c in "ab":
        for i in range(2):
            (d / "classes" / c).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(d / "classes" / c / f"{i}.png"), rng.integers(0, 255, (40, 48, 3), np.uint8))
    np.save(d / "x.npy", rng.standard_normal((40, 16)).astype(np.float32))
    np.save(d / "y.npy", np.repeat(np.arange(8), 5))
    (d / "x.ids.txt").write_text("".join(f"item{i}\n" for i in range(40)))
    index_descriptor_file(d / "x.npy", d / "x.db")
    return d


@pytest.mark.parametrize(("argv", "model"), [
    (["search-expand", "index", "{d}/classes", "-o", "{tmp}/p.db"], "EfficientNetLite"),
    (["search-expand", "{d}/classes/a/0.png", "--db", "{tmp}/p.db"], "EfficientNetLite"),
    (["search-expand", "{d}/x.npy", "--db", "{d}/x.db", "--qe", "lattqe"], "LAttQE"),
    (["evaluate", "search-expand", "--dataset", "folders", "--root", "{d}/classes"], "LAttQE"),
    (["evaluate", "search-expand", "--dataset", "folders", "--root", "{d}/classes"], "EfficientNetLite"),
    (["train", "search-expand", "--features", "{d}/x.npy", "--labels", "{d}/y.npy", "--arch", "small", "--epochs", "1",
      "--updates", "1", "--dba-epochs", "0", "--out", "{tmp}/run"], "LAttQE"),
], ids=["index", "query-image", "query-lattqe", "evaluate-lattqe", "evaluate-descriptor", "train"])
def test_device_reaches_the_models(argv, model, files, tmp_path, on_meta) -> None:
    asked, moved = on_meta
    if "{tmp}/p.db" in argv and argv[1] != "index":  # querying images needs a database built from images
        from cvkit.search_expand.descriptor import GemDescriptor
        from cvkit.search_expand.run import index_images

        d = GemDescriptor()
        index_images(files / "classes", tmp_path / "p.db", d, {**d.params, "whiten": False})
    r = invoke([a.format(d=files, tmp=tmp_path) for a in [*argv, "--device", "cuda:1", "--threads", "1", "--quiet"]])
    assert asked == ["cuda:1"], r.stderr
    assert any(m.startswith(model) for m in moved), (moved, r.stderr)
    assert r.code != 0  # meta tensors hold no values: the run cannot finish, and must not pretend to
