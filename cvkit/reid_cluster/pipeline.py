"""The main job: crops (folder, Market/Duke layout, or video + boxes) -> optional ADTC adaptation -> embeddings
-> two-stage clustering -> clusters.csv, ranking.jsonl, index.html and (when ids are known) metrics.json.

Unreadable crops are left out and listed in `RunResult.failures` (the CLI then exits 6 naming each, like a batch
with failures); only when fewer than two readable crops remain does the run fail (exit 3, all files named)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, InputError
from ..io.atomic import check_not_input
from .clustering import Clustering, pairwise_distances, rerank_distances, two_stage_cluster
from .data import Crop, detect_layout, extract_crops, has_labels, list_crops, market_split, read_crops, unreadable
from .metrics import cluster_scores, evaluate_ranking
from .outputs import (
    ranking_records,
    write_clusters_csv,
    write_contact_sheet,
    write_metrics_json,
    write_ranking_jsonl,
)
from .registry import DEFAULT_MODEL, Embedder, build_embedder
from .train import AdaptConfig, adapt

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass
class RunOptions:
    """Options of `cvkit reid-cluster` (see the CLI help for their meaning)."""

    model: str = DEFAULT_MODEL
    rounds: int = 3
    epochs: int = 4
    lr: float = 1e-4
    clusters: int | None = None
    p: int = 20
    k: int = 20
    top: int = 20
    rerank: bool = False
    boxes: Path | None = None
    every: int = 5
    junk_frames: int | None = None
    seed: int = 0
    html: bool = True
    device: str = "cpu"


@dataclass
class RunResult:
    """What one run produced: crops, embeddings, clustering, metrics (empty without ids), timings."""

    crops: list[Crop]
    features: np.ndarray
    clustering: Clustering
    metrics: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # unreadable crops left out (path, why)

    def records(self) -> list[dict]:
        """JSON Lines records: one per crop (file, cluster, status), then the metrics when ids are known."""
        cl = self.clustering
        out = [{"file": str(c.path), "cluster": int(lab), "status": str(st)}
               for c, lab, st in zip(self.crops, cl.labels, cl.status, strict=True)]
        return out + ([{"metrics": self.metrics}] if self.metrics else [])

    def scores(self) -> dict:
        """The metrics as one flat dict (retrieval scores, then `cluster_*`), the layout of `cvkit evaluate`."""
        if not self.metrics:
            return {}
        return {**self.metrics["retrieval"], **{f"cluster_{k}": v for k, v in self.metrics["clustering"].items()}}

    def describe(self, out_dir: Path) -> str:
        """One line for the console: crops, clusters and kept crops, and the files written."""
        cl = self.clustering
        return (f"{len(self.crops)} crops -> {len(set(cl.labels[cl.kept].tolist()))} clusters, "
                f"{int(cl.kept.sum())} kept; wrote {', '.join(p.name for p in self.outputs)} in {out_dir}")


def cut_crops(video: Path, boxes: Path | None, out_dir: Path, every: int = 5) -> tuple[list[Crop], list[dict]]:
    """`cvkit reid-cluster crops`: cut the boxed persons of a video into `out_dir` with a crops.csv of their
    labels; returns the crops and one JSON record per crop."""
    from .data import write_label_csv

    if boxes is None:
        raise ArgumentError(f"{video}: cutting crops needs --boxes FILE (PETS/CVML .xml, MOT gt.txt or .csv)")
    crops = extract_crops(video, boxes, out_dir, every=every)
    write_label_csv(Path(out_dir) / "crops.csv", crops)
    return crops, [{"file": str(c.path), "id": c.pid, "camera": c.camera, "frame": c.frame} for c in crops]


def parse_clusters(text: str) -> int | None:
    """`--clusters`: a number >= 1, or `auto` (None: crops / p)."""
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        raise ArgumentError(f"--clusters {text!r}: use a number or 'auto'") from None
    if value < 1:
        raise ArgumentError(f"--clusters must be >= 1, got {value}")
    return value


def resolve_crops(input: Path, out_dir: Path, boxes: Path | None, every: int,
                  log: Callable[[str], None] | None = None) -> list[Crop]:
    """Crops from a folder / Market layout (query + bounding_box_test), or cut from a video with a boxes file."""
    input = Path(input)
    if input.is_file() and input.suffix.lower() in VIDEO_SUFFIXES:
        if boxes is None:
            raise ArgumentError(f"{input}: a video needs --boxes FILE (PETS/CVML .xml, MOT gt.txt or .csv)")
        crops_dir = out_dir / "crops"
        if log:
            log(f"cutting crops from {input.name} into {crops_dir}")
        return extract_crops(input, boxes, crops_dir, every=every)
    if boxes is not None:
        raise ArgumentError(f"--boxes is for a video input; {input} is not a video")
    if input.is_dir() and detect_layout(input) == "market":
        return market_split(input, "query") + market_split(input, "bounding_box_test")
    return list_crops(input)


def default_junk_window(crops: list[Crop]) -> int | None:
    """One camera with frame numbers (crops cut from one video): same-id crops within 50 frames are junk."""
    cams = {c.camera for c in crops}
    return 50 if len(cams) == 1 and all(c.frame >= 0 for c in crops) else None


def retrieval_scores(crops: list[Crop], feats: np.ndarray, junk_window: int | None, dist: np.ndarray) -> dict:
    """Every crop as a query against all others (itself excluded), Market protocol."""
    pids = np.array([c.pid for c in crops])
    cams = np.array([c.camera for c in crops])
    frames = np.array([c.frame for c in crops])
    s = evaluate_ranking(dist, pids, pids, cams, cams, q_frames=frames, g_frames=frames, junk_window=junk_window,
                         exclude=np.eye(len(crops), dtype=bool))
    return {**s.as_dict(), "junk_window_frames": junk_window}


def run(input: Path, out_dir: Path, opts: RunOptions, log: Callable[[str], None] | None = None,
        embedder: Embedder | None = None) -> RunResult:
    """Run the whole pipeline and write the outputs into `out_dir` (each file atomically)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ArgumentError(f"{out_dir}: -o must be a folder")
    if Path(input).resolve() == out_dir.resolve():
        raise ArgumentError(f"{out_dir}: output folder is the input folder (outputs would mix with the crops)")
    t0 = time.time()
    crops = resolve_crops(input, out_dir, opts.boxes, opts.every, log)
    if len(crops) < 2:
        raise InputError(input, f"only {len(crops)} crop(s); clustering needs at least 2")
    for name in ("clusters.csv", "ranking.jsonl", "index.html", "metrics.json"):
        check_not_input(out_dir / name, [c.path for c in crops[:1]])
    embedder = embedder or build_embedder(opts.model)
    images, ok, bad = read_crops([c.path for c in crops], embedder.input_size)
    if bad:  # one corrupt crop must not stop the run: cluster the others, list every bad file at the end
        crops = [c for c, keep in zip(crops, ok, strict=True) if keep]
        if len(crops) < 2:
            raise unreadable(bad)
        if log:
            log(f"skipping {len(bad)} unreadable crop(s): " + ", ".join(str(e.path) for e in bad))
    seconds = {"load": time.time() - t0}
    labelled = has_labels(crops)
    if embedder.net is not None:
        embedder.net.to(opts.device)
    if opts.rounds > 0 and embedder.net is not None:
        t = time.time()
        cfg = AdaptConfig.on_user_crops(rounds=opts.rounds, epochs=opts.epochs, clusters=opts.clusters, p=opts.p,
                                        k=opts.k, seed=opts.seed, lr=opts.lr, decay_start=max(1, opts.epochs // 2))
        adapt(embedder.net, images, cfg, log=log)
        seconds["adapt"] = time.time() - t
    t = time.time()
    feats = embedder.embed(images, device=opts.device)
    seconds["embed"] = time.time() - t
    t = time.time()
    cl = two_stage_cluster(feats, opts.clusters, opts.p, opts.k, opts.seed)
    seconds["cluster"] = time.time() - t
    dist = rerank_distances(feats, feats, opts.k) if opts.rerank else pairwise_distances(feats, feats)
    files = [str(c.path.relative_to(input)) if c.path.is_relative_to(input) else str(c.path) for c in crops]
    result = RunResult(crops, feats, cl, seconds=seconds, failures=[(str(e.path), e.problem) for e in bad])
    write_clusters_csv(out_dir / "clusters.csv", files, cl.labels, cl.status, cl.krjd, cl.first_stage)
    write_ranking_jsonl(out_dir / "ranking.jsonl", ranking_records(files, dist, opts.top))
    result.outputs += [out_dir / "clusters.csv", out_dir / "ranking.jsonl"]
    if opts.html:
        write_contact_sheet(out_dir / "index.html", [c.path for c in crops], cl.labels,
                            title=f"reid-cluster: {Path(input).name} ({embedder.name})")
        result.outputs.append(out_dir / "index.html")
    if labelled:
        pids = np.array([c.pid for c in crops])
        junk = opts.junk_frames if opts.junk_frames is not None else default_junk_window(crops)
        valid = pids > 0  # junk (-1) and distractors (0) have no identity to cluster
        result.metrics = {"model": embedder.name, "crops": len(crops),
                          "retrieval": retrieval_scores(crops, feats, junk, dist),
                          "clustering": cluster_scores(np.where(valid, cl.labels, -1)[valid], pids[valid]),
                          "rounds": opts.rounds, "seconds": seconds}
        write_metrics_json(out_dir / "metrics.json", result.metrics)
        result.outputs.append(out_dir / "metrics.json")
    return result
