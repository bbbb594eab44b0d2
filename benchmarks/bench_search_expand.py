"""search-expand benchmark: queries/s of search + query expansion over synthetic clustered descriptors (10k, 100k,
1M items; 128-d and 1280-d), faiss (exact IndexFlatIP, and IVF where the exact pass is memory-bound) beside a
plain numpy brute force in the same run; exactness of faiss vs brute force on sampled queries; images/s of the
EfficientNet-Lite0 GeM descriptor (what `index` spends its time on). JSON out.

    python benchmarks/bench_search_expand.py --out benchmarks/results/bench_search_expand.json

1M x 1280-d needs ~10 GB (database + index copy): pass --big to include it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


CPU: dict[str, float] = {}


def timed(fn, *args):
    """(result, wall seconds) of one call; its process CPU seconds go to CPU["last"]. On a shared machine the CPU
    time (one thread) is the load-independent cost: queries per CPU-second = single-core q/s on an idle core."""
    c, t = time.process_time(), time.perf_counter()
    r = fn(*args)
    CPU["last"] = time.process_time() - c
    return r, time.perf_counter() - t


def qps(n: int, wall: float) -> dict:
    """Wall-clock and per-CPU-second query rates of the last timed call."""
    return {"wall": round(n / wall, 1), "per_cpu_s": round(n / max(CPU["last"], 1e-9), 1)}


def bench_case(n: int, d: int, n_queries: int, top: int, brute_max: int, seed: int, brute_queries: int,
               nprobe: int = 16) -> dict:
    """q/s of no-QE and alpha-QE with faiss flat / IVF / numpy, and faiss-vs-brute-force agreement."""
    import numpy as np

    from cvkit.search_expand.index import SearchIndex, brute_force_search, l2n
    from cvkit.search_expand.qe import Expander, search_expanded
    from cvkit.search_expand.synthetic import clustered_database

    x = clustered_database(n, d, seed)
    rng = np.random.default_rng(seed + 1)
    q = l2n(x[rng.choice(n, n_queries, replace=False)] + rng.standard_normal((n_queries, d)).astype(np.float32)
            * (0.3 / np.sqrt(d)))
    alpha = Expander("alphaqe", 10)
    out: dict = {"n": n, "dim": d, "queries": n_queries, "top": top}
    flat, t_build = timed(SearchIndex, x, "flat")
    out["flat_build_s"] = round(t_build, 2)
    (_, ids_flat_none), t = timed(flat.search, q, top)
    out["flat_noqe_qps"] = qps(n_queries, t)
    (s_flat, ids_flat), t = timed(search_expanded, flat, q, alpha, top)
    out["flat_alphaqe_qps"] = qps(n_queries, t)
    if n <= brute_max:
        nb = min(n_queries, brute_queries)
        bf = SearchIndex(x, "numpy")
        (s_bf, ids_bf), t = timed(search_expanded, bf, q[:nb], alpha, top)
        out["numpy_alphaqe_qps"] = {**qps(nb, t), "queries": nb}
        s0, i0 = brute_force_search(x, q[:nb], top)
        sf, i_f = flat.search(q[:nb], top)
        tie = np.isclose(sf, s0, atol=1e-5)
        out["faiss_equals_bruteforce"] = {
            "queries": nb, "identical_rankings": int((i_f == i0).all(1).sum()),
            "max_score_diff": float(np.abs(sf - s0).max()),
            "all_equal_up_to_ties": bool(((i_f == i0) | tie).all())}
    if n >= 100_000:
        ivf, t_build = timed(SearchIndex, x, "ivf", nprobe)
        out["ivf_build_s"] = round(t_build, 2)
        out["ivf_nlist"] = int(ivf._faiss.nlist)
        out["ivf_nprobe"] = int(ivf._faiss.nprobe)
        (_, ids_ivf), t = timed(search_expanded, ivf, q, alpha, top)
        out["ivf_alphaqe_qps"] = qps(n_queries, t)
        hit = [len(set(a) & set(b)) / top for a, b in zip(ids_ivf, ids_flat, strict=True)]
        out["ivf_alphaqe_recall_vs_exact"] = round(float(np.mean(hit)), 4)
    return out


def describe_speed(n: int, size: int) -> dict:
    """Images/s of the default descriptor on n bundled-image variants (decode excluded)."""
    import numpy as np

    from cvkit.search_expand.data import _bundled_images, variant
    from cvkit.search_expand.descriptor import GemDescriptor

    rng = np.random.default_rng(0)
    src = _bundled_images()
    imgs = [variant(src[i % len(src)][1], rng, out_size=size) for i in range(n)]
    d = GemDescriptor()
    d(imgs[0])
    _, t = timed(lambda: [d(im) for im in imgs])
    return {"images": n, "image_side": size, "images_per_s": qps(n, t)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--dims", default="128,1280")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--top", type=int, default=100)
    ap.add_argument("--brute-max", type=int, default=1_000_000, help="Largest database for the numpy baseline.")
    ap.add_argument("--brute-queries", type=int, default=1000, help="Queries for the numpy baseline and the check.")
    ap.add_argument("--nprobe", type=int, default=16, help="IVF lists probed per query.")
    ap.add_argument("--big", action="store_true", help="Include 1M x 1280-d (~10 GB of memory).")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--describe", type=int, default=20, help="Images for the descriptor speed (0: skip).")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/bench_search_expand.json"))
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    res: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "threads": a.threads,
                             "load_avg_at_start": os.getloadavg()}, "cases": [], "skipped": []}
    for d in (int(v) for v in a.dims.split(",")):
        for n in (int(v) for v in a.sizes.split(",")):
            if n >= 1_000_000 and d >= 1280 and not a.big:
                res["skipped"].append({"n": n, "dim": d, "why": "needs ~10 GB; rerun with --big"})
                continue
            case = bench_case(n, d, a.queries, a.top, a.brute_max, 0, a.brute_queries, a.nprobe)
            print(json.dumps(case), flush=True)
            res["cases"].append(case)
            a.out.parent.mkdir(parents=True, exist_ok=True)
            a.out.write_text(json.dumps(res, indent=2) + "\n")
    if a.describe:
        res["describe"] = describe_speed(a.describe, 256)
        print(json.dumps(res["describe"]), flush=True)
    res["machine"]["load_avg_at_end"] = os.getloadavg()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
