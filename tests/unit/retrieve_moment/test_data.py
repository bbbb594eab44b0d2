import json

import numpy as np
import pytest

from cvkit.errors import InputError
from cvkit.retrieve_moment.data import FeatureStore, read_annotations, read_charades_sta


def test_charades_sta_official_line_format(tmp_path):
    p = tmp_path / "charades_sta_test.txt"
    p.write_text("3MSZA 24.3 30.4##person turn a light on.\nY1HGC 0.2 9.8##a person walks in a doorway drinking some "
                 "coffee.\n\n")
    qs = read_charades_sta(p, {"3MSZA": 31.0})
    assert [(q.vid, q.start, q.end) for q in qs] == [("3MSZA", 24.3, 30.4), ("Y1HGC", 0.2, 9.8)]
    assert qs[0].sentence == "person turn a light on."
    assert qs[0].duration == 31.0 and qs[1].duration is None


def test_charades_sta_bad_line(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("3MSZA 24.3##no end\n")
    with pytest.raises(InputError, match="line 1"):
        read_charades_sta(p)


def test_moment_detr_and_anet(tmp_path):
    j = tmp_path / "val.jsonl"
    j.write_text(json.dumps({"qid": 1, "query": "Chef makes pizza and cuts it up.", "vid": "RoripwjYFp8_60.0_210.0",
                             "duration": 150, "relevant_windows": [[106, 122]]}) + "\n")
    q = read_annotations(j)[0]
    assert (q.vid, q.start, q.end, q.duration) == ("RoripwjYFp8_60.0_210.0", 106.0, 122.0, 150.0)
    a = tmp_path / "val_1.json"
    a.write_text(json.dumps({"v_x": {"duration": 20.0, "timestamps": [[1, 5], [6, 9.5]],
                                     "sentences": ["A man walks. ", "He sits."]}}))
    qs = read_annotations(a)
    assert [(q.start, q.end, q.sentence) for q in qs] == [(1, 5, "A man walks."), (6, 9.5, "He sits.")]


def test_feature_store_npy(tmp_path):
    np.save(tmp_path / "v1.npy", np.ones((7, 3), np.float64))
    s = FeatureStore(tmp_path)
    assert "v1" in s and "v2" not in s
    assert s["v1"].dtype == np.float32 and s["v1"].shape == (7, 3)
