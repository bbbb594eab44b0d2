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


@pytest.fixture(scope="module")
def default_run(pets_crops, tmp_path_factory):
    """The default `cvkit reid-cluster VIDEO --boxes XML` run (adtc-lite, 3 ADTC rounds on the unlabelled crops),
    the histogram baseline and adtc-lite before adaptation, all measured in this one run."""
    from cvkit.assets import find_asset
    from cvkit.reid_cluster.pipeline import RunOptions, run

    assert find_asset("reid-cluster", "adtc-lite") is not None, "the tracked adtc-lite asset is missing"
    hist = build_embedder("hist")
    hist_map, _ = _scores(pets_crops, hist.embed(load_crops([c.path for c in pets_crops], hist.input_size)))
    before = build_embedder("adtc-lite")
    before_map, _ = _scores(pets_crops, before.embed(load_crops([c.path for c in pets_crops], before.input_size)))
    result = run(shared_path("pets2009", "vtest.avi"), tmp_path_factory.mktemp("run") / "out",
                 RunOptions(boxes=shared_path("pets2009", "PETS2009-S2L1.xml"), html=False))
    m = result.metrics
    print(f"PETS2009 S2L1: hist mAP {hist_map:.3f}; adtc-lite mAP {before_map:.3f} before, "
          f"{m['retrieval']['mAP']:.3f} after adaptation (R1 {m['retrieval']['rank1']:.3f}, "
          f"{m['retrieval']['mAP'] / hist_map:.2f}x hist); NMI {m['clustering']['nmi']:.3f} over "
          f"{m['clustering']['kept']} kept crops")
    return hist_map, before_map, m


@pytest.mark.slow
def test_default_pipeline_with_adaptation_on_pets(pets_crops, default_run):
    """No regression of the default pipeline (thresholds a few points under the measured numbers)."""
    hist_map, before_map, m = default_run
    assert m["crops"] == len(pets_crops)
    # measured 2026-12-01 (1 thread): hist 0.376; adtc-lite 0.372 before, 0.370 after 3 rounds (0.98x hist),
    # NMI 0.756 over 390 kept crops (0.360 / NMI 0.796 when split pseudo-classes of one person are negatives).
    # Earlier heads: stride-4 GMP branch 0.277 -> 0.292 (NMI 0.647); the paper's global GMP head 0.194 -> 0.273.
    assert before_map > 0.33  # stripe-averaged stride-8/16 branches + descriptors centred on the crops
    assert m["retrieval"]["mAP"] > max(0.33, before_map - 0.02)  # adaptation on the user's crops does not hurt much
    assert m["clustering"]["nmi"] > 0.7


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="not met yet: the default pipeline is about level "
                   "with the colour histogram on PETS2009 (see CHANGELOG), not 1.3x")
def test_issue6_acceptance_mAP_1_3x_histogram_and_nmi(default_run):
    """Target: mAP >= 1.3 x the histogram's (same run) and NMI >= 0.75 over the kept crops."""
    hist_map, _, m = default_run
    assert m["retrieval"]["mAP"] >= 1.3 * hist_map
    assert m["clustering"]["nmi"] >= 0.75
