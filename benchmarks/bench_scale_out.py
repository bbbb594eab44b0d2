"""Items/s of batch commands run locally vs on a local Ray cluster with 1 and 2 workers, same inputs, one run.

    python benchmarks/bench_scale_out.py --out benchmarks/results/bench_scale_out.json

Each configuration runs the real command (`python -m cvkit_cli.main ...`) as a whole process over the same
generated inputs; the wall time includes start-up (Ray's cluster start is part of what a user waits for), and the
per-item Ray overhead is (t_ray1 - t_local) / items. With two batch sizes (`--items 8,32`) the difference
t_ray1 - t_local is also split into a fixed part (cluster start, model shipping) and a marginal part per item (a
straight line through the two sizes). Outputs of every configuration are compared byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def street_scans(folder: Path, n: int, points: int = 60000) -> None:
    """Ground plane + a box per scan (x, y, z, remission), like a small real scan."""
    folder.mkdir(parents=True)
    for i in range(n):
        rng = np.random.default_rng(i)
        g = np.c_[rng.uniform(-40, 40, (points, 2)), np.full(points, -1.73)]
        m = points // 8
        box = np.c_[rng.uniform(8, 12, m), rng.uniform(2, 4, m), rng.uniform(-1.4, -0.3, m)]
        pts = np.concatenate([g, box])
        np.c_[pts, rng.uniform(0, 1, len(pts))].astype(np.float32).tofile(folder / f"{i:03d}.bin")


def table_pages(folder: Path, n: int, rows: int = 8, cols: int = 4) -> None:
    """Ruled tables with printed numbers, one page image each (parse-table reads them with --ocr none: the
    shipped graph-lite model on ink boxes, no OCR, so the timing is the structure model's)."""
    import cv2

    folder.mkdir(parents=True)
    for i in range(n):
        rng = np.random.default_rng(i)
        img = np.full((60 + 40 * rows, 80 + 160 * cols, 3), 255, np.uint8)
        for r in range(rows + 1):
            cv2.line(img, (30, 30 + 40 * r), (30 + 160 * cols, 30 + 40 * r), (0, 0, 0), 2)
        for c in range(cols + 1):
            cv2.line(img, (30 + 160 * c, 30), (30 + 160 * c, 30 + 40 * rows), (0, 0, 0), 2)
        for r in range(rows):
            for c in range(cols):
                text = "Item" if c == 0 else f"{rng.uniform(0, 1000):.1f}"
                cv2.putText(img, text, (45 + 160 * c, 58 + 40 * r), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
        cv2.imwrite(str(folder / f"{i:03d}.png"), img)


TASKS = {
    "segment-lidar": (street_scans, ["segment-lidar", "{src}", "-o", "{out}", "--model", "classical", "--threads", "1",
                                     "--quiet"], "*.label"),
    "parse-table": (table_pages, ["parse-table", "{src}", "-o", "{out}", "--ocr", "none", "--no-detect", "--threads",
                                  "1", "--quiet"], "*-str.xml"),
}


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "cvkit_cli.main", *cmd], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "RAY_DEDUP_LOGS": "0"})
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return time.perf_counter() - start


def time_task(task: str, items: int, tmp: Path) -> dict:
    """Seconds and items/s of one task locally and on Ray with 1 and 2 workers, and whether the outputs agree."""
    make, template, pattern = TASKS[task]
    src = tmp / task / f"in-{items}"
    make(src, items)
    row: dict = {}
    outputs = {}
    for name, extra in (("local", []), ("ray-1", ["--executor", "ray", "--workers", "1"]),
                        ("ray-2", ["--executor", "ray", "--workers", "2"])):
        out = tmp / task / name
        cmd = [a.format(src=src, out=out) for a in template] + extra
        seconds = run(cmd)
        row[name] = {"seconds": round(seconds, 2), "items_per_s": round(items / seconds, 3)}
        outputs[name] = {p.name: p.read_bytes() for p in sorted(out.rglob(pattern))}
        print(f"{task} x{items} {name}: {seconds:.1f} s, {items / seconds:.2f} items/s", file=sys.stderr)
        shutil.rmtree(out)
    row["outputs_identical"] = outputs["local"] == outputs["ray-1"] == outputs["ray-2"]
    row["ray_overhead_s_per_item"] = round((row["ray-1"]["seconds"] - row["local"]["seconds"]) / items, 3)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", default="24", help="Batch size, or two sizes (8,32) to split fixed and per-item cost.")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_scale_out.json")
    args = ap.parse_args()
    sizes = [int(n) for n in args.items.split(",")]
    results = {"items": sizes, "cpus": os.cpu_count(), "load_avg_start": os.getloadavg()[0], "tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            rows = {str(n): time_task(task, n, Path(tmp)) for n in sizes}
            entry: dict = {"by_items": rows}
            if len(sizes) == 2:
                (n0, r0), (n1, r1) = ((n, rows[str(n)]) for n in sizes)
                extra = [r["ray-1"]["seconds"] - r["local"]["seconds"] for r in (r0, r1)]
                marginal = (extra[1] - extra[0]) / (n1 - n0)
                entry["ray_marginal_s_per_item"] = round(marginal, 3)
                entry["ray_fixed_s"] = round(extra[0] - marginal * n0, 2)
            results["tasks"][task] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
