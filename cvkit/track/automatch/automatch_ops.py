"""AutoMatch building blocks: the matching operators, the learn-to-match (LTM) block with binary channel
manipulation (BCM), the template RoI vector, the ltrb regression head and the two-stage classifier.

Zhang et al., "Learn to Match: Automatic Matching Network Design for Visual Tracking" (ICCV 2021). Each
operator fuses a search map x (B, C, Hx, Wx) with template information (the template map z, its 1x1 RoI
vector, or its pseudo mask) into (B, C, Hx, Wx). The LTM block runs the selected operators in parallel,
concatenates them, gates every channel by a retained weight sigmoid(w) (SOTS `merge2`), and fuses with
1x1 conv + BN + LeakyReLU(0.1). In search mode the gate is BCM's Gumbel-sigmoid relaxation of a Bernoulli
"keep this channel" variable, `y = sigmoid((w + g1 - g2) / tau)`, g1, g2 ~ Gumbel(0, 1) (supplement eq.;
the binary Gumbel-softmax reduces exactly to this form), and an operator's importance is mean_i sigmoid(w_i);
the top 2 per branch are kept. Module and parameter names follow the official SOTS code
(`lib/models/sot/match.py`, `modules.py`, `head.py`) so its checkpoints load; sizes are parameters so the
same classes serve the paper model (256 channels, 15x15 template, stride 8) and `automatch-lite`
(64 channels, 8x8 template, stride 16). Our choices: RoIAlign with a fixed 2x2 sampling grid
(`cvkit.nn.roi_align`, SOTS uses torchvision's adaptive one), the template mask is resized with bilinear
`align_corners=True` as in SOTS, and the Pairwise-Relation output width equals the block width (SOTS
hard-codes 256).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...nn.roi_align import roi_align

ALPHA = 0.1  # LeakyReLU slope used throughout SOTS
# operator index (SOTS numbering) -> (attribute name in LTM, paper name)
OPERATORS: dict[int, tuple[str, str]] = {
    1: ("GuidedSP", "Transductive-Guidance"),
    2: ("PointDW", "Point-DW"),
    3: ("PointAdd", "Pointwise-Addition"),
    4: ("Transformer", "Simple-Transformer"),
    5: ("FiLM", "FiLM"),
    6: ("PC", "Pairwise-Relation"),
    7: ("Concat", "Concatenation"),
}
SEARCHED_REG = (5, 6)  # FiLM + Pairwise-Relation (conv4), SOTS L2Mregression
SEARCHED_CLS = (4, 5)  # Simple-Transformer + FiLM (conv3), SOTS L2Mclassification


class PointDW(nn.Module):
    """Point-DW: E_x(x) * E_z(roi), the template vector broadcast over the search map (correlation-like)."""

    def __init__(self, inchannels: int, outchannels: int) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.t_embed = nn.Conv2d(inchannels, outchannels, 1)

    def forward(self, xf: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
        return self.s_embed(xf) * self.t_embed(roi)


class PointAdd(nn.Module):
    """Pointwise-Addition: E_x(x) + E_z(roi)."""

    def __init__(self, inchannels: int, outchannels: int) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.t_embed = nn.Conv2d(inchannels, outchannels, 1)

    def forward(self, xf: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
        return self.s_embed(xf) + self.t_embed(roi)


class Concat(nn.Module):
    """Concatenation: [E_x(x), tiled E_z(roi)] then 1x1 conv 2C -> C."""

    def __init__(self, inchannels: int, outchannels: int) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.t_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.down = nn.Conv2d(outchannels * 2, outchannels, 1)

    def forward(self, xf: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
        x = self.s_embed(xf)
        z = self.t_embed(roi).expand(-1, -1, x.shape[2], x.shape[3])
        return self.down(torch.cat((x, z), dim=1))


class FiLM(nn.Module):
    """FiLM: gamma, beta = LReLU(1x1(roi)); (1 + gamma) * E_x(x) + beta."""

    def __init__(self, inchannels: int, outchannels: int) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.conv_g = nn.Sequential(nn.Conv2d(inchannels, inchannels, 1), nn.LeakyReLU(ALPHA))
        self.conv_b = nn.Sequential(nn.Conv2d(inchannels, inchannels, 1), nn.LeakyReLU(ALPHA))

    def forward(self, xf: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
        return (1 + self.conv_g(roi)) * self.s_embed(xf) + self.conv_b(roi)


class PairRelation(nn.Module):
    """Pairwise-Relation: P = E(x)^T E(z) (shared embedding) -> (B, Hz*Wz, Hx, Wx) -> 1x1 conv to C."""

    def __init__(self, inchannels: int, embed: int, template_cells: int, outchannels: int) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, embed, 1)
        self.t_embed = nn.Conv2d(inchannels, embed, 1)  # present (unused) in SOTS: kept for its checkpoints
        self.down = nn.Conv2d(template_cells, outchannels, 1)

    def forward(self, xf: torch.Tensor, zf: torch.Tensor) -> torch.Tensor:
        x = self.s_embed(xf)
        z = self.s_embed(zf)  # SOTS embeds the template with the search embedding
        b, c, h, w = x.shape
        p = torch.einsum("bchw,bcn->bnhw", x, z.flatten(2))
        return self.down(p)


class SimpleSelfAtt(nn.Module):
    """Simple-Transformer: multi-head cross-attention, queries E_x(x), keys E_z(z), values E_v(z)."""

    def __init__(self, inchannels: int, outchannels: int, heads: int = 4) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.t_embed_v = nn.Conv2d(inchannels, outchannels, 1)
        self.t_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.trans = nn.MultiheadAttention(outchannels, heads)

    def forward(self, xf: torch.Tensor, zf: torch.Tensor) -> torch.Tensor:
        x = self.s_embed(xf)
        b, c, h, w = x.shape
        q = x.flatten(2).permute(2, 0, 1)
        k = self.t_embed(zf).flatten(2).permute(2, 0, 1)
        v = self.t_embed_v(zf).flatten(2).permute(2, 0, 1)
        out, _ = self.trans(q, k, v, need_weights=False)
        return out.permute(1, 2, 0).reshape(b, c, h, w)


class TransGuide(nn.Module):
    """Transductive-Guidance: attention of search on template positions propagates the template mask; x + m."""

    def __init__(self, inchannels: int, outchannels: int) -> None:
        super().__init__()
        self.s_embed = nn.Conv2d(inchannels, outchannels, 1)
        self.t_embed = nn.Conv2d(inchannels, outchannels, 1)

    def forward(self, xf: torch.Tensor, zf: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.s_embed(xf)
        z = self.t_embed(zf)
        b, c, h, w = x.shape
        att = torch.softmax(torch.einsum("bchw,bcn->bhwn", x, z.flatten(2)) / math.sqrt(c), dim=-1)
        m = F.interpolate(mask[:, None].to(x.dtype), size=zf.shape[-2:], mode="bilinear", align_corners=True)
        prop = torch.einsum("bhwn,bn->bhw", att, m.flatten(1))
        return xf + prop[:, None]


def gumbel_sigmoid(logits: torch.Tensor, tau: float, noise: tuple[torch.Tensor, torch.Tensor] | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """BCM relaxation sigmoid((w + g1 - g2) / tau), g1, g2 ~ Gumbel(0, 1) (or the given noise pair)."""
    if noise is None:
        u1 = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
        u2 = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
        eps = 1e-10
        noise = (-torch.log(-torch.log(u1 + eps) + eps), -torch.log(-torch.log(u2 + eps) + eps))
    g1, g2 = noise
    return torch.sigmoid((logits + g1 - g2) / tau)


class LTM(nn.Module):
    """Learn-to-match block: parallel operators, channel gate sigmoid(merge2) (BCM in search mode), 1x1 fuse.

    `used`: SOTS operator indices (see OPERATORS); all seven when None. `bcm=True` makes the gate stochastic
    while training (Gumbel-sigmoid at temperature `tau`); at eval the gate is sigmoid(merge2) either way.
    """

    def __init__(self, inchannel: int = 256, used: tuple[int, ...] | None = None, template_cells: int = 225,
                 pc_channels: int = 64, heads: int = 4, bcm: bool = False, tau: float = 1.0) -> None:
        super().__init__()
        used = tuple(sorted(used)) if used is not None else tuple(OPERATORS)
        c = inchannel
        builders = {
            1: lambda: TransGuide(c, pc_channels),
            2: lambda: PointDW(c, c),
            3: lambda: PointAdd(c, c),
            4: lambda: SimpleSelfAtt(c, c, heads),
            5: lambda: FiLM(c, c),
            6: lambda: PairRelation(c, pc_channels, template_cells, c),
            7: lambda: Concat(c, c),
        }
        for i in used:
            setattr(self, OPERATORS[i][0], builders[i]())
        self.used = used
        self.channels = c
        self.branches = len(used)
        self.merge2 = nn.Parameter(torch.ones(1, self.branches * c, 1, 1))
        self.embed2 = nn.Sequential(nn.Conv2d(c * self.branches, c, 1), nn.BatchNorm2d(c), nn.LeakyReLU(ALPHA))
        self.bcm = bcm
        self.tau = tau
        self.noise: tuple[torch.Tensor, torch.Tensor] | None = None  # fixed Gumbel noise (tests)

    def operator_outputs(self, xf: torch.Tensor, zf: torch.Tensor, roi: torch.Tensor,
                         mask: torch.Tensor) -> list[torch.Tensor]:
        """Each selected operator's output (B, C, Hx, Wx), in SOTS order."""
        out = []
        for i in self.used:
            op = getattr(self, OPERATORS[i][0])
            if i == 1:
                out.append(op(xf, zf, mask))
            elif i in (4, 6):  # operators on the template map
                out.append(op(xf, zf))
            else:  # operators on the template RoI vector
                out.append(op(xf, roi))
        return out

    def gate(self) -> torch.Tensor:
        """Channel gate (1, k*C, 1, 1): Gumbel-sigmoid of merge2 when searching in training, else sigmoid."""
        if self.bcm and self.training:
            return gumbel_sigmoid(self.merge2, self.tau, self.noise)
        return torch.sigmoid(self.merge2)

    def forward(self, xf: torch.Tensor, zf: torch.Tensor, roi: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        feats = torch.cat(self.operator_outputs(xf, zf, roi, mask), dim=1)
        return self.embed2(self.gate() * feats)

    def importance(self) -> dict[int, float]:
        """BCM contribution of each operator: mean over its channels of sigmoid(w)."""
        w = torch.sigmoid(self.merge2.detach()).view(self.branches, self.channels).mean(1)
        return {i: float(v) for i, v in zip(self.used, w, strict=True)}

    def top(self, k: int = 2) -> tuple[int, ...]:
        """The k most important operators (SOTS indices, sorted): the searched architecture of this branch."""
        imp = self.importance()
        return tuple(sorted(sorted(imp, key=lambda i: -imp[i])[:k]))

    def arch_parameters(self) -> list[nn.Parameter]:
        """The BCM logits (updated on the validation split during search)."""
        return [self.merge2]


def conv_bn(cin: int, cout: int, k: int = 3, act: str = "lrelu", pad: int | None = None,
            bias: bool = True) -> list[nn.Module]:
    """[conv, BN, activation] as a list (SOTS Sequential layout: indices 0, 1, 2)."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, padding=k // 2 if pad is None else pad, bias=bias),
                               nn.BatchNorm2d(cout)]
    if act == "lrelu":
        layers.append(nn.LeakyReLU(ALPHA))
    elif act == "relu":
        layers.append(nn.ReLU())
    return layers


class RoITemplate(nn.Module):
    """Template box -> one C-vector per level: 2 x 3x3 conv encoders, RoIAlign roi x roi, valid conv, BN, LReLU."""

    def __init__(self, roi_size: int, stride: float, inchannels: int) -> None:
        super().__init__()
        c = inchannels
        self.roi_size, self.stride = roi_size, float(stride)
        self.fea_encoder = nn.Sequential(*conv_bn(c, c), *conv_bn(c, c, act="none"))
        self.fea_encoder_s3 = nn.Sequential(*conv_bn(c, c), *conv_bn(c, c, act="none"))
        self.spatial_conv = nn.Sequential(*conv_bn(c, c, roi_size, pad=0))
        self.spatial_conv_s3 = nn.Sequential(*conv_bn(c, c, roi_size, pad=0))

    def forward(self, boxes: torch.Tensor, fea: torch.Tensor, feas3: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """boxes (B, 4) x1,y1,x2,y2 template-crop px; maps (B, C, h, w) -> (B, C, 1, 1) twice."""
        idx = torch.arange(boxes.shape[0], dtype=boxes.dtype, device=boxes.device)[:, None]
        rois = torch.cat((idx, boxes), dim=1)
        p4 = roi_align(self.fea_encoder(fea), rois, self.roi_size, 1.0 / self.stride)
        p3 = roi_align(self.fea_encoder_s3(feas3), rois, self.roi_size, 1.0 / self.stride)
        return self.spatial_conv(p4), self.spatial_conv_s3(p3)


class L2MRegression(nn.Module):
    """Box branch: RoI vectors, LTM(FiLM, PairRel) on conv4, tower of 3x3 conv+BN+ReLU, ltrb = exp(a*t + b)."""

    def __init__(self, inchannels: int = 256, towernum: int = 3, roi_size: int = 3, stride: float = 8.0,
                 template_cells: int = 225, pc_channels: int = 64, heads: int = 4,
                 used: tuple[int, ...] = SEARCHED_REG, bias_init: float = 1.0, reg_encode: bool = True,
                 bcm: bool = False) -> None:
        super().__init__()
        c = inchannels
        if reg_encode:  # SimpleMatrix in SOTS: built, never called; kept so official checkpoints load strictly
            self.reg_encode = nn.Module()
            self.reg_encode.matrix11_k = nn.Sequential(nn.Conv2d(c, 64, 3, padding=1, bias=False))
            self.reg_encode.matrix11_s = nn.Sequential(nn.Conv2d(c, 64, 3, padding=1, bias=False))
        self.roi_te = RoITemplate(roi_size, stride, c)
        self.LTM = LTM(c, used, template_cells, pc_channels, heads, bcm=bcm)
        tower: list[nn.Module] = []
        for _ in range(towernum):
            tower += conv_bn(c, c, act="relu")
        self.bbox_tower = nn.Sequential(*tower)
        self.bbox_pred = nn.Conv2d(c, 4, 3, padding=1)
        self.adjust = nn.Parameter(0.1 * torch.ones(1))
        self.bias = nn.Parameter(bias_init * torch.ones(1, 4, 1, 1))

    def forward(self, xf: torch.Tensor, zf: torch.Tensor, zfs3: torch.Tensor, mask: torch.Tensor,
                target_box: torch.Tensor) -> dict[str, torch.Tensor]:
        ts4, ts3 = self.roi_te(target_box, zf, zfs3)
        x_reg = self.bbox_tower(self.LTM(xf, zf, ts4, mask))
        ltrb = torch.exp(self.adjust * self.bbox_pred(x_reg) + self.bias)
        if self.training:
            ltrb = ltrb.clamp(0, 255)
        return {"reg_score": ltrb, "reg_feature": x_reg, "zf_conv4": ts4, "zf_conv3": ts3}


class RoIClassification(nn.Module):
    """Two-stage classifier: stage 1 dense on encoded maps x projected template vectors; stage 2 per box."""

    def __init__(self, roi_size: int = 3, stride: float = 8.0, inchannels: int = 256) -> None:
        super().__init__()
        c, h = inchannels, inchannels // 2
        self.roi_size, self.stride = roi_size, float(stride)
        self.fea_encoder = nn.Sequential(*conv_bn(c, c), *conv_bn(c, h))
        self.fea_encoder_s3 = nn.Sequential(*conv_bn(c, c), *conv_bn(c, h))
        self.down_spatial_conv = nn.Sequential(*conv_bn(h, h, roi_size, pad=0))
        self.down_spatial_linear = nn.Sequential(nn.Linear(h, h), nn.LeakyReLU(ALPHA))
        self.down_spatial_conv_s3 = nn.Sequential(*conv_bn(h, h, roi_size, pad=0))
        self.down_target_s3 = nn.Sequential(*conv_bn(c, h, 1))
        self.down_target_s4 = nn.Sequential(*conv_bn(c, h, 1))
        self.down_spatial_linear_s3 = nn.Sequential(nn.Linear(h, h), nn.LeakyReLU(ALPHA))
        self.merge_s3s4_s2 = nn.Sequential(nn.Linear(c, c), nn.LeakyReLU(ALPHA), nn.Linear(c, c), nn.LeakyReLU(ALPHA))
        self.merge_s3s4_s1 = nn.Sequential(*conv_bn(c, c), *conv_bn(c, c))
        self.pred_s1 = nn.Conv2d(c, 1, 3, padding=1)
        self.pred_s2 = nn.Linear(c, 1)

    def stage1(self, fea: torch.Tensor, feas3: torch.Tensor, ts4: torch.Tensor,
               ts3: torch.Tensor) -> dict[str, torch.Tensor]:
        """Dense logits (B, 1, H, W) and the encoded maps / projected template vectors stage 2 reuses."""
        fea, feas3 = self.fea_encoder(fea), self.fea_encoder_s3(feas3)
        t4, t3 = self.down_target_s4(ts4), self.down_target_s3(ts3)
        fused = self.merge_s3s4_s1(torch.cat((fea * t4, feas3 * t3), dim=1))
        return {"cls_score_s1": self.pred_s1(fused), "enc4": fea, "enc3": feas3, "t4": t4, "t3": t3}

    def stage2(self, s1: dict[str, torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        """Logits (K,) of RoIs (K, 5) [batch index, x1, y1, x2, y2 in search-crop px]."""
        p4 = roi_align(s1["enc4"], rois, self.roi_size, 1.0 / self.stride)
        p3 = roi_align(s1["enc3"], rois, self.roi_size, 1.0 / self.stride)
        p4 = self.down_spatial_linear(self.down_spatial_conv(p4).flatten(1))
        p3 = self.down_spatial_linear_s3(self.down_spatial_conv_s3(p3).flatten(1))
        b = rois[:, 0].long()
        p4 = p4 * s1["t4"].flatten(1)[b]
        p3 = p3 * s1["t3"].flatten(1)[b]
        return self.pred_s2(self.merge_s3s4_s2(torch.cat((p4, p3), dim=1)))[:, 0]


class L2MClassification(nn.Module):
    """Score branch: LTM(Transformer, FiLM) on conv3, then the two-stage RoI classifier."""

    def __init__(self, inchannels: int = 256, roi_size: int = 3, stride: float = 8.0, template_cells: int = 225,
                 pc_channels: int = 64, heads: int = 4, used: tuple[int, ...] = SEARCHED_CLS,
                 bcm: bool = False) -> None:
        super().__init__()
        self.LTM = LTM(inchannels, used, template_cells, pc_channels, heads, bcm=bcm)
        self.roi_cls = RoIClassification(roi_size, stride, inchannels)

    def forward(self, reg_feature: torch.Tensor, xfs3: torch.Tensor, zfs3: torch.Tensor, ts4: torch.Tensor,
                ts3: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.roi_cls.stage1(reg_feature, self.LTM(xfs3, zfs3, ts3, mask), ts4, ts3)


def grid_points(size: int, stride: float, search_size: int = 255) -> torch.Tensor:
    """Search-crop pixel of every score cell, centred: g_i = (i - (size-1)/2) * stride + (search-1)/2."""
    return (torch.arange(size, dtype=torch.float32) - (size - 1) / 2) * stride + (search_size - 1) / 2


def ltrb_to_boxes(ltrb: torch.Tensor, stride: float, search_size: int = 255) -> torch.Tensor:
    """(B, 4, H, W) distances l,t,r,b -> boxes x1,y1,x2,y2 (B, 4, H, W) in search-crop pixels."""
    gy = grid_points(ltrb.shape[2], stride, search_size).to(ltrb)[:, None]
    gx = grid_points(ltrb.shape[3], stride, search_size).to(ltrb)[None, :]
    return torch.stack((gx - ltrb[:, 0], gy - ltrb[:, 1], gx + ltrb[:, 2], gy + ltrb[:, 3]), dim=1)


class AutoMatchHead(nn.Module):
    """SOTS `Learn2Match`: regression then classification; returns ltrb, boxes, stage-1 logits and features."""

    def __init__(self, inchannels: int = 256, stride: float = 8.0, roi_size: int = 3, template_cells: int = 225,
                 pc_channels: int = 64, heads: int = 4, towernum: int = 3, reg_used: tuple[int, ...] = SEARCHED_REG,
                 cls_used: tuple[int, ...] = SEARCHED_CLS, bias_init: float = 1.0, reg_encode: bool = True,
                 bcm: bool = False, search_size: int = 255) -> None:
        super().__init__()
        self.stride, self.search_size = float(stride), search_size
        self.regression = L2MRegression(inchannels, towernum, roi_size, stride, template_cells, pc_channels, heads,
                                        reg_used, bias_init, reg_encode, bcm)
        self.classification = L2MClassification(inchannels, roi_size, stride, template_cells, pc_channels, heads,
                                                cls_used, bcm)

    def forward(self, xf4: torch.Tensor, xf3: torch.Tensor, zf4: torch.Tensor, zf3: torch.Tensor,
                mask: torch.Tensor, target_box: torch.Tensor) -> dict[str, torch.Tensor]:
        reg = self.regression(xf4, zf4, zf3, mask, target_box)
        cls = self.classification(reg["reg_feature"], xf3, zf3, reg["zf_conv4"], reg["zf_conv3"], mask)
        boxes = ltrb_to_boxes(reg["reg_score"], self.stride, self.search_size)
        return {"ltrb": reg["reg_score"], "boxes": boxes, **cls}

    def score_boxes(self, out: dict[str, torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        """Stage-2 logits (K,) of RoIs (K, 5) on the features of a forward output."""
        return self.classification.roi_cls.stage2(out, rois)

    def ltms(self) -> dict[str, LTM]:
        """The two LTM blocks by branch name."""
        return {"reg": self.regression.LTM, "cls": self.classification.LTM}
