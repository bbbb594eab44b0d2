"""reid-cluster on real pedestrians: PETS2009 S2L1 crops cut from ../shared/data/pets2009 (ids for scoring only).

Protocol (spec section 7): every 5th frame, boxes >= 12x30 px and >= 70 % inside the image; every crop queries
all others; same-id crops within +-50 frames of the query are junk (one camera). The colour-histogram baseline
is measured in the same run.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvkit.reid_cluster.clustering import pairwise_distances, two_stage_cluster
from cvkit.reid_cluster.data import extract_crops, load_crops
from cvkit.reid_cluster.metrics import cluster_scores, evaluate_ranking
from cvkit.reid_cluster.registry import build_embedder
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def pets_crops(tmp_path_factory):
    video = shared_path("pets2009", "vtest.avi")
    xml = shared_path("pets2009", "PETS2009-S2L1.xml")
    return extract_crops(video, xml, tmp_path_factory.mktemp("pets") / "crops", every=5)


def _scores(crops, feats) -> tuple[float, float]:
    pids = np.array([c.pid for c in crops])
    cams = np.array([c.camera for c in crops])
    frames = np.array([c.frame for c in crops])
    s = evaluate_ranking(pairwise_distances(feats, feats), pids, pids, cams, cams, q_frames=frames, g_frames=frames,
                         junk_window=50, exclude=np.eye(len(crops), dtype=bool))
    return s.mAP, s.rank(1)


def test_crop_protocol_matches_the_spec(pets_crops):
    assert len(pets_crops) == pytest.approx(929, abs=10)
    assert len({c.pid for c in pets_crops}) == 19


def test_histogram_baseline_and_two_stage_clustering(pets_crops):
    emb = build_embedder("hist")
    feats = emb.embed(load_crops([c.path for c in pets_crops], emb.input_size))
    m_ap, r1 = _scores(pets_crops, feats)
    assert 0.33 < m_ap < 0.43 and 0.40 < r1 < 0.50  # spec: mAP 38.4, R1 45.8
    pids = np.array([c.pid for c in pets_crops])
    cl = two_stage_cluster(feats, 19, p=20, k=20)
    first = cluster_scores(cl.first_stage, pids)["nmi"]
    second = cluster_scores(cl.labels, pids)
    assert second["nmi"] > first  # stage 2 cleans the k-means++ clusters ...
    assert second["coverage"] < 0.6  # ... at the cost of coverage (spec: NMI 0.656 -> 0.755 on 370 kept)


@pytest.mark.slow
def test_default_pipeline_with_adaptation_on_pets(pets_crops, tmp_path):
    """The default `cvkit reid-cluster VIDEO --boxes XML` run (adtc-lite, 3 ADTC rounds) against the histogram."""
    from cvkit.assets import find_asset
    from cvkit.reid_cluster.pipeline import RunOptions, run

    if find_asset("reid-cluster", "adtc-lite") is None:
        pytest.skip("adtc-lite weights not shipped in this checkout")
    hist = build_embedder("hist")
    hist_map, _ = _scores(pets_crops, hist.embed(load_crops([c.path for c in pets_crops], hist.input_size)))
    before = build_embedder("adtc-lite")
    before_map, _ = _scores(pets_crops, before.embed(load_crops([c.path for c in pets_crops], before.input_size)))
    result = run(shared_path("pets2009", "vtest.avi"), tmp_path / "out",
                 RunOptions(boxes=shared_path("pets2009", "PETS2009-S2L1.xml"), html=False))
    m = result.metrics
    ratio = m["retrieval"]["mAP"] / hist_map
    print(f"PETS2009 S2L1: hist mAP {hist_map:.3f}; adtc-lite mAP {before_map:.3f} before, "
          f"{m['retrieval']['mAP']:.3f} after adaptation (R1 {m['retrieval']['rank1']:.3f}, {ratio:.2f}x hist); "
          f"NMI {m['clustering']['nmi']:.3f} over {m['clustering']['kept']} kept crops")
    assert m["crops"] == len(pets_crops)
    assert before_map > 0.24  # multi-level stripe head; the paper's global head scored 0.194 here
    assert m["retrieval"]["mAP"] > max(0.25, before_map - 0.02)  # adaptation on the user's crops does not hurt
    assert m["clustering"]["nmi"] > 0.6
    # Issue 6 acceptance asks mAP >= 1.3 x histogram and NMI >= 0.75 -- not met yet, so not asserted. Measured
    # 2026-12-01 (1 thread): hist 0.376; adtc-lite (multi-level head) 0.277 before, 0.292 after 3 rounds at lr 1e-4
    # (0.78x hist), NMI 0.647 over 518 kept crops (lr 1e-3: 0.282, NMI 0.674 over 510). The previous global-GMP
    # asset (lr 1e-3): 0.194 -> 0.273, NMI 0.675 over 311 kept crops.
