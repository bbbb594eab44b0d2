import pytest

from cvkit.retrieve_moment.metrics import recall_table, tiou


def test_tiou_hand_cases():
    assert tiou((0, 10), (0, 10)) == 1.0
    assert tiou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert tiou((0, 4), (6, 9)) == 0.0
    assert tiou((0.2, 9.8), (0.0, 10.0)) == pytest.approx(9.6 / 10.0)


def test_recall_table_hand_computed():
    gts = [(0, 10), (10, 20)]
    preds = [
        [(0, 9), (20, 30)],          # top-1 IoU 0.9
        [(0, 5), (12, 20), (10, 20)],  # top-1 IoU 0, second 0.8, third 1.0
    ]
    t = recall_table(preds, gts)
    assert t["R@1,IoU=0.5"] == 50.0
    assert t["R@1,IoU=0.7"] == 50.0
    assert t["R@5,IoU=0.7"] == 100.0
    assert t["mIoU"] == pytest.approx(45.0)


def test_recall_threshold_inclusive_and_empty_prediction_is_miss():
    t = recall_table([[(0, 5)], []], [(0, 10), (0, 10)], recalls=(1,), ious=(0.5,))
    assert t["R@1,IoU=0.5"] == 50.0   # IoU exactly 0.5 counts


def test_length_mismatch():
    with pytest.raises(ValueError):
        recall_table([[(0, 1)]], [])
