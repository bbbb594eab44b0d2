"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def ray_cluster():
    """A local Ray cluster on loopback with 2 CPUs (2 workers) for `--executor ray` batches; shut down after."""
    ray = pytest.importorskip("ray", reason="Ray is the optional extra cvkit[ray]")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()
