"""A rendered synthetic page with tables, shared by the learned table detectors' tests."""

from __future__ import annotations

import numpy as np

from cvkit.parse_table.synthetic_page import SynthPage, synth_page
from cvkit.parse_table.table_detector import render_page


def page_with_tables(start: int = 0) -> tuple[SynthPage, np.ndarray]:
    """The first synthetic page from seed `start` on that holds a table, and its rendering."""
    for seed in range(start, start + 200):
        rng = np.random.default_rng(seed)
        page = synth_page(rng)
        if page.tables:
            return page, render_page(page, rng)
    raise AssertionError("no synthetic page with a table")
