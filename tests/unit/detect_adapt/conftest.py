import pytest
import torch

from cvkit.detect_adapt.detector import DetectorConfig


@pytest.fixture
def tiny_cfg() -> DetectorConfig:
    return DetectorConfig(backbone="tiny", min_size=96, max_size=96, anchor_sizes=(16.0, 32.0, 64.0),
                          anchor_ratios=(0.5, 1.0, 2.0), rpn_channels=32, rpn_pre_nms=200, rpn_post_nms_train=32,
                          rpn_post_nms_test=32, roi_batch=16, head_dim=32)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)
