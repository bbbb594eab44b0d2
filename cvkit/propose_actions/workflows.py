"""The train and evaluate workflows behind the CLI (option checks, recipe dispatch, card metrics)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ArgumentError, InputError
from .evaluate import evaluate_results, plot_curve, read_results, synthetic_comparison
from .train import (
    SIZES,
    TrainConfig,
    anet_samples,
    build_model_config,
    fit_prior,
    profile_dim,
    save_bcgnn,
    synthetic_samples,
    thumos_samples,
    train_bcgnn,
)


def _synthetic_metrics(report: dict, n: int) -> list[dict]:
    rows = []
    data = f"synthetic held-out test set ({n} videos, seed 10007; never trained on)"
    for name in ("bcgnn", "prior", "sliding-window"):
        for k in ("AR@1", "AR@10", "AR@100", "AUC"):
            rows.append({"data": data, "metric": f"{k} ({name})", "value": round(report[name][k], 2)})
    return rows


def train(model: str, data: str, features: Path | None, size: str, input_kind: str, videos: int, epochs: int,
          steps: int, batch: int, lr: float, weight_decay: float, fps: float, stride: int, out: Path, name: str,
          report: bool, device: str, threads: int, seed: int, command: str,
          log: Callable[[str], None] | None = None) -> Path:
    """Run a recipe and write the asset folder; returns the weights path."""
    from ..assets import save_asset

    if model == "prior":
        try:
            prior, desc = fit_prior(data)
        except ValueError as e:
            raise ArgumentError(str(e)) from None
        card = {"name": name if name != "bcgnn-small-synth" else "prior", "task": "propose-actions",
                "architecture": "prior", "config": {"bins": int(prior.table.shape[0]), "soft_nms": [0.4, 0.5, 0.9]},
                "training": {"command": command, "data": desc, "seconds": 0, "seed": seed},
                "metrics": [], "licence": "derived from the annotations' own terms (ActivityNet: research use)"}
        return save_asset(out, prior.state_dict(), card)
    if model != "bcgnn":
        raise ArgumentError(f"--model {model!r}: use bcgnn or prior")
    if size not in SIZES:
        raise ArgumentError(f"--size {size!r}: use {', '.join(SIZES)}")
    if input_kind not in ("profile", "raw"):
        raise ArgumentError(f"--input {input_kind!r}: use profile or raw")
    cfg = TrainConfig(data=data, size=size, input=input_kind, videos=videos, epochs=epochs, steps=steps,
                      batch=batch, lr=lr, weight_decay=weight_decay, seed=seed, threads=threads, device=device,
                      fps=fps, stride_frames=stride)
    kind, _, root = data.partition(":")
    if kind == "synthetic":
        if input_kind == "raw":
            raise ArgumentError("--data synthetic trains the feature-agnostic --input profile only")
        samples, tscale = synthetic_samples(cfg), 100
    elif kind in ("anet", "thumos"):
        if features is None or not features.is_dir():
            raise ArgumentError(f"--data {data}: give --features DIR (a folder of per-video feature files)")
        if kind == "anet":
            samples = anet_samples(Path(root), features, input_kind)
            tscale = samples[0][0].shape[1] if samples else 100
        else:
            samples, tscale = thumos_samples(Path(root), features, cfg), cfg.window
        if not samples:
            raise InputError(features, "no feature file matches an annotated video")
    else:
        raise ArgumentError(f"--data {data!r}: use synthetic, anet:DIR or thumos:CSV")
    in_dim = samples[0][0].shape[0] if input_kind == "raw" else profile_dim()
    mcfg = build_model_config(cfg, in_dim, tscale)

    def on_step(step: int, total: int, loss: float, elapsed: float) -> None:
        if log and (step % 25 == 0 or step == total - 1):
            log(f"step {step + 1}/{total} loss {loss:.3f} {elapsed:.0f} s")

    net, summary = train_bcgnn(cfg, samples, mcfg, on_step)
    metrics = []
    if report and kind == "synthetic":
        rep = synthetic_comparison(net, input_kind, seed=7, n=300, train_seed=seed,
                                   device=next(net.parameters()).device)
        metrics = _synthetic_metrics(rep, 300)
    feature = "any (self-similarity profile)" if input_kind == "profile" else f"{kind} features, {in_dim}-D"
    return save_bcgnn(net, summary, out, name, command, data if kind != "synthetic" else
                      f"synthetic: {videos} generated videos (seed {seed + 1000})", seed, metrics, feature)


def evaluate(dataset: str, root: Path | None, results: Path | None, subset: str, model: str, videos: int,
             plot: Path | None, device=None) -> dict:
    """Score a result file (anet/thumos) or compare models on the synthetic set; optional AR-AN PNG."""
    if dataset == "synthetic":
        from .run import load_proposer

        prop = load_proposer(model, device)
        if prop.kind != "bcgnn":
            raise ArgumentError("--dataset synthetic compares a BC-GNN model with the baselines")
        rep = synthetic_comparison(prop.net, prop.input, n=videos, device=prop.device)
        curves = rep.pop("_curves")
        out = {"dataset": "synthetic", "videos": videos, "models": rep}
    elif dataset in ("anet", "thumos"):
        if root is None or results is None:
            raise ArgumentError(f"--dataset {dataset} needs --root and --results")
        summary, curve = evaluate_results(dataset, root, read_results(results), subset if dataset == "anet"
                                          else "")
        curves = {results.stem: curve}
        out = {"dataset": dataset, "results": str(results), "models": {results.stem: summary}}
    else:
        raise ArgumentError(f"--dataset {dataset!r}: use anet, thumos or synthetic")
    if plot is not None:
        plot_curve(curves, plot, f"AR-AN ({dataset})")
    return out
