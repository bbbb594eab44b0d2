"""`cvkit semantic-flow`, `cvkit train semantic-flow`, `cvkit evaluate semantic-flow`: thin wrappers over
cvkit.semantic_flow."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import DeviceOpt, JsonOpt, QuietOpt, SeedOpt, ThreadsOpt, err_console

TASK = "semantic-flow"

SIZE_HELP = "Working size (longer side, px); memory grows with its 4th power (640: about 1 GB)."
FLOW_HELP = """Dense correspondence SOURCE -> TARGET (guided semantic flow): flow[y, x] = (u, v) moves source pixel
(x, y) to target pixel (x + u, y + v). Images may differ in size. Default model: training-free GSF on ImageNet
EfficientNet-Lite0 features (mutual-NN confident matches -> MLS propagation -> Gaussian modulation -> soft-argmax,
coarse to fine); --model nn is the nearest-neighbour argmax baseline, or a GSFNet trained with
`cvkit train semantic-flow` (weights.safetensors + card.json).

Examples:

  cvkit semantic-flow graf1.png graf3.png -o flow.flo --viz pair.png --warp warped.png

  cvkit semantic-flow a.jpg b.jpg -o flow.npy --keypoints kps.csv --json

  cvkit semantic-flow --pairs pairs.csv -o flows/      # pairs.csv: source,target per line -> flows/A__B.flo
"""


def flow_command(
    source: Annotated[Path | None, typer.Argument(help="Source image.", show_default=False)] = None,
    target: Annotated[Path | None, typer.Argument(help="Target image.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Flow .flo/.npy, or a folder with --pairs.")
                      ] = None,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="CSV of source,target pairs (batch).")] = None,
    warp: Annotated[Path | None, typer.Option("--warp", help="Write the source warped onto the target.")] = None,
    viz: Annotated[Path | None, typer.Option("--viz", help="Side-by-side picture, match lines by confidence.")
                   ] = None,
    matches: Annotated[Path | None, typer.Option("--matches", help="CSV of the confident (mutual-NN) matches.")
                       ] = None,
    keypoints: Annotated[Path | None, typer.Option("--keypoints", help="CSV of source points x,y to transfer.")
                         ] = None,
    keypoints_out: Annotated[Path | None, typer.Option(
        "--keypoints-out", help="Where the transferred points go (default: CSV on stdout).")] = None,
    model: Annotated[str, typer.Option(
        "--model", "-m", help="default (gsf), nn, gsfnet, gsfnet-lite, or a trained weights path.")] = "default",
    size: Annotated[int, typer.Option("--size", min=64, max=640, help=SIZE_HELP)] = 384,
    fmt: Annotated[str, typer.Option("--format", help="Batch flow format: flo or npy.")] = "flo",
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Batch: skip pairs already done.")] = False,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.io.batch import Inputs, Item, run_batch
    from cvkit.semantic_flow.run import Outputs, check_outputs, read_pairs, run_pair

    set_threads(threads)
    if fmt not in ("flo", "npy"):
        raise ArgumentError(f"--format {fmt!r}: use flo or npy")
    if pairs is not None:
        if source is not None or target is not None:
            raise ArgumentError("give either SOURCE TARGET or --pairs, not both")
        if output is None or output.suffix.lower() in (".flo", ".npy"):
            raise ArgumentError("--pairs needs -o DIR (an output folder)")
        if any(v is not None for v in (warp, viz, matches, keypoints, keypoints_out)):
            raise ArgumentError("--warp/--viz/--matches/--keypoints work on a single pair")
        rows = read_pairs(pairs)
        items = [Item(a, Path(f"{a.stem}__{b.stem}.{fmt}")) for a, b in rows]
        partner = {it: b for it, (_, b) in zip(items, rows, strict=True)}
        outs = {it: Outputs(flow=output / it.rel) for it in items}
    else:
        if source is None or target is None:
            raise ArgumentError("give SOURCE and TARGET images (or --pairs pairs.csv -o DIR)")
        items = [Item(source, Path(source.name))]
        partner = {items[0]: target}
        outs = {items[0]: Outputs(flow=output, warp=warp, viz=viz, matches=matches, keypoints_out=keypoints_out)}
    for it in items:
        check_outputs(outs[it], [it.path, partner[it]] + ([keypoints] if keypoints else []))
    sf = _build(model, size, select_device(device))
    kps_text: list[str] = []

    def work(item: Item) -> dict:
        summary = run_pair(sf, item.path, partner[item], outs[item], keypoints)
        if summary.get("keypoints_csv"):
            kps_text.append(summary.pop("keypoints_csv"))
        return summary

    def describe(item: Item, rec: dict) -> str:
        return f"{item.path} -> {partner[item]}: {rec.get('confident', 0)} confident matches, {rec['seconds']:.2f} s"

    run_batch(Inputs(items, pairs is not None, pairs.parent if pairs else source.parent), work,
              lambda it: outs[it].paths(), out_dir=output if pairs is not None else None,
              skip_existing=skip_existing, json_out=json_out, quiet=quiet, describe=describe)
    if kps_text and not json_out:
        sys.stdout.write("".join(kps_text))


def _build(model: str, size: int, device):
    from cvkit.registry import build_model

    return build_model("semantic-flow", model, device, size=size)


TRAIN_HELP = """Train the paper's GSF model (stage 1: pruning net with L_P; stage 2: end to end with L_final) on
synthetic affine + TPS warps (default: scikit-image / scikit-learn bundled images) or PF-PASCAL training pairs.

Examples:

  cvkit train semantic-flow --backbone lite0 --image-size 256 --width 16 --stage1-steps 150 \\
      --stage2-steps 350 --m-temperature 0.1 -o runs/gsf-lite

  cvkit train semantic-flow --backbone resnet101 --backbone-weights resnet101.pth \\
      --dataset pf-pascal --root DATA -o runs/gsf-r101
"""


def train_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for weights.safetensors + card.json.")],
    backbone: Annotated[str, typer.Option("--backbone", help="lite0 (packaged ImageNet weights) or resnet101.")
                        ] = "lite0",
    backbone_weights: Annotated[Path | None, typer.Option(
        "--backbone-weights", help="ImageNet ResNet-101 state dict (torchvision layout), if you have one.")] = None,
    image_size: Annotated[int, typer.Option("--image-size", min=64, help="Square input size (paper 320).")] = 320,
    width: Annotated[int, typer.Option("--width", min=4, help="Net base width (paper 64).")] = 64,
    stage1_steps: Annotated[int, typer.Option("--stage1-steps", min=0)] = 200,
    stage2_steps: Annotated[int, typer.Option("--stage2-steps", min=0)] = 200,
    batch: Annotated[int, typer.Option(
        "--batch", min=2, help="Pairs per step (>= 2: the nets' BatchNorm needs two samples at small sizes).")] = 4,
    lr: Annotated[float, typer.Option("--lr")] = 1e-4,
    m_temperature: Annotated[float, typer.Option("--m-temperature", help="L_M softmax temperature (paper 1).")
                             ] = 1.0,
    dataset: Annotated[str, typer.Option("--dataset", help="synthetic or pf-pascal.")] = "synthetic",
    root: Annotated[Path | None, typer.Option("--root", help="Dataset root (pf-pascal) or an image folder.")] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    threads: ThreadsOpt = 0,
) -> None:
    from cvkit.device import set_threads
    from cvkit.errors import ArgumentError
    from cvkit.io.images import list_images
    from cvkit.semantic_flow.data import read_pf_pascal
    from cvkit.semantic_flow.model import GSFConfig
    from cvkit.semantic_flow.train import TrainOptions, save_model, train

    set_threads(threads)
    if backbone not in ("lite0", "resnet101"):
        raise ArgumentError(f"--backbone {backbone!r}: use lite0 or resnet101")
    if image_size % 16:
        raise ArgumentError(f"--image-size {image_size}: must be a multiple of 16")
    opts = TrainOptions(config=GSFConfig(backbone=backbone, image_size=image_size, width=width),
                        stage1_steps=stage1_steps, stage2_steps=stage2_steps, batch=batch, lr=lr, seed=seed,
                        backbone_weights=backbone_weights, m_temperature=m_temperature)
    if dataset == "pf-pascal":
        if root is None:
            raise ArgumentError("--dataset pf-pascal needs --root")
        opts.pairs = [(r.source, r.target) for r in read_pf_pascal(root, "trn")]
    elif dataset == "synthetic":
        if root is not None:
            opts.images = list_images(root)
    else:
        raise ArgumentError(f"--dataset {dataset!r}: use synthetic or pf-pascal")
    cmd = "cvkit train semantic-flow " + " ".join(sys.argv[3:]) if len(sys.argv) > 3 else "cvkit train semantic-flow"
    model, summary = train(opts, log=lambda m: err_console.print(m))
    card = {"name": output.name, "task": "semantic-flow", "architecture": f"GSFNet ({backbone})",
            "training": {"command": cmd, "data": dataset if root is None else f"{dataset}:{root}",
                         "seconds": summary["seconds"], "seed": seed}, "metrics": [], "licence": "MIT"}
    path = save_model(model, output, card)
    err_console.print(f"wrote {path} ({summary['params']})")


EVAL_HELP = """PCK@alpha of transferred keypoints on a standard layout, at original resolution, with each benchmark's
own threshold (PF-PASCAL: target image max side; PF-WILLOW: target keypoint box; SPair-71k: target object box;
homography: target image max side over a 16 px grid of source points inside the overlap).

Examples:

  cvkit evaluate semantic-flow --dataset homography --root ../shared/data/semantic-flow --methods gsf,nn,dis,farneback
"""


def evaluate_command(
    dataset: Annotated[str, typer.Option("--dataset", help="pf-pascal, pf-willow, spair or homography.")],
    root: Annotated[Path, typer.Option("--root", help="Dataset root folder.")],
    alpha: Annotated[list[float] | None, typer.Option("--alpha", help="PCK alpha (repeatable).")] = None,
    methods: Annotated[str, typer.Option("--methods", help="Comma list: gsf, nn, identity, dis, farneback, "
                                         "or a trained weights path.")] = "gsf,nn",
    size: Annotated[int, typer.Option("--size", min=64, max=640, help=SIZE_HELP)] = 384,
    split: Annotated[str, typer.Option("--split", help="Split (pf-pascal, spair).")] = "test",
    limit: Annotated[int, typer.Option("--limit", min=0, help="Evaluate only the first N pairs (0 = all).")] = 0,
    device: DeviceOpt = "auto",
    threads: ThreadsOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    from cvkit.device import select_device, set_threads
    from cvkit.errors import ArgumentError
    from cvkit.semantic_flow.data import READERS
    from cvkit.semantic_flow.evaluate import evaluate_records, method_functions

    set_threads(threads)
    if dataset not in READERS:
        raise ArgumentError(f"--dataset {dataset!r}: use {', '.join(READERS)}")
    records = READERS[dataset](root, split) if dataset in ("pf-pascal", "spair") else READERS[dataset](root)
    records = records[:limit] if limit else records
    fns = method_functions([m.strip() for m in methods.split(",") if m.strip()], size, select_device(device))
    alphas = tuple(alpha) if alpha else (0.05, 0.1)
    res = evaluate_records(records, fns, alphas)
    res["dataset"] = dataset
    if json_out:
        sys.stdout.write(json.dumps(res) + "\n")
        return
    err_console.print(f"{dataset}: {res['pairs']} pairs; correct if distance <= {res['convention']}")
    for m, d in res["pck"].items():
        sys.stdout.write(f"{m}\t" + "\t".join(f"PCK@{a}={v:.4f}" for a, v in d.items()) + "\n")


def register(app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    """Add the command, `train semantic-flow` and `evaluate semantic-flow`."""
    app.command("semantic-flow", help=FLOW_HELP, no_args_is_help=True)(flow_command)
    train_app.command("semantic-flow", help=TRAIN_HELP)(train_command)
    evaluate_app.command("semantic-flow", help=EVAL_HELP)(evaluate_command)
