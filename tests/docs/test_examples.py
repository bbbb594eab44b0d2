"""Every example command in README.md and in every command's --help runs and exits 0 (doc-test style).

The examples are extracted from the documents themselves (README ```bash blocks; the "Examples:" section of
each --help), so an edited or new example without a runnable set-up here fails `test_every_example_is_covered`.
Each example runs in a fresh folder holding tiny generated inputs under the names the example uses, in this
process (no interpreter start). Where an example names data a user has (a dataset root, ../shared/data), the
set-up generates a tiny folder in the same layout and the path is substituted; training examples run with their
step budget cut to a couple of steps (`subs`), and the lite track recipe scores its card on 2 clips, not 50
(`patch`). A pipe (`| jq ...`) is run with the real `jq` when installed,
else stdout must be JSON Lines. Examples that cannot run offline are in NOT_RUNNABLE with the reason.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.robustness import files as F
from tests.robustness.harness import invoke

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------------ extraction
def readme_examples() -> list[str]:
    """`cvkit ...` lines of the README's ```bash blocks."""
    out, in_block = [], False
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            in_block = line.strip() == "```bash" if not in_block else False
            continue
        if in_block and line.strip().startswith("cvkit "):
            out.append(line.strip())
    return out


def help_examples() -> list[str]:
    """The lines after "Examples:" of every command's help text (backslash continuations joined)."""
    import typer.main

    from cvkit_cli.main import app

    out: list[str] = []

    def walk(cmd) -> None:
        text = cmd.help or ""
        if "Examples:" in text:
            body = text.split("Examples:", 1)[1]
            joined = re.sub(r"\\\n\s*", "", body)
            out.extend(ln.strip() for ln in joined.splitlines() if ln.strip().startswith("cvkit "))
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return out


def all_examples() -> list[str]:
    """README and --help examples, each once, in document order."""
    return list(dict.fromkeys(readme_examples() + help_examples()))


def split_example(example: str) -> tuple[list[str], str | None]:
    """argv after `cvkit` (comment dropped) and the pipe's command, if any."""
    text = re.sub(r"\s+#\s.*$", "", example)
    cmd, _, pipe = text.partition(" | ")
    return shlex.split(cmd)[1:], pipe.strip() or None


# ------------------------------------------------------------------------------------------------ set-ups
@dataclass
class Ex:
    """How to run one example here: the files it reads (generated), path/budget substitutions, slow or not."""

    files: dict[str, F.Writer] = field(default_factory=dict)
    subs: list[tuple[str, str]] = field(default_factory=list)
    slow: bool = False
    prepare: Callable[[Path], None] | None = None
    patch: Callable[[pytest.MonkeyPatch], None] | None = None  # test-only shortcuts (e.g. a smaller card eval)


def _few_eval_clips(mp: pytest.MonkeyPatch) -> None:
    """The lite track recipe scores its card on 50 held-out clips (minutes); here 2 show the path works."""
    import cvkit.track.train as T

    real = T.train_siamfc_lite

    def smaller(*args, **kw):
        kw["eval_clips"] = min(kw.get("eval_clips", 0), 2)
        return real(*args, **kw)

    mp.setattr(T, "train_siamfc_lite", smaller)


BIG_FRAMES = F.frames(n=3, h=300, w=480)
SMALL_VIDEO = F.video(n=4, h=120, w=160)
OTB = {"OTB100/Box/img": F.frames(n=4, h=120, w=160), "OTB100/Box/groundtruth_rect.txt": F.text("10,20,40,40\n" * 4)}
GOT = {"GOT-10k/val/GOT-10k_Val_000001": F.frames(n=4, h=120, w=160),
       "GOT-10k/val/GOT-10k_Val_000001/groundtruth.txt": F.text("10,20,40,40\n" * 4),
       "GOT-10k/val/GOT-10k_Val_000001/absence.label": F.text("0\n" * 4),
       "GOT-10k/val/list.txt": F.text("GOT-10k_Val_000001\n"),
       "results/cv-kcf/GOT-10k_Val_000001/GOT-10k_Val_000001_001.txt": F.text("10,20,40,40\n" * 4),
       "results/cv-kcf/GOT-10k_Val_000001/GOT-10k_Val_000001_time.txt": F.text("0.01\n" * 4)}
SCAN = F.bin_scan()
N_SCAN = len(F.scan_points())
KITTI = {"kitti/sequences/08/velodyne/000000.bin": SCAN, "kitti/sequences/08/labels/000000.label": F.labels(N_SCAN)}
ICDAR = {"icdar/eu-001.pdf": F.pdf(), "icdar/eu-001-reg.xml": F.reg_xml(), "icdar/eu-001-str.xml": F.str_xml()}
CVML_6 = F.cvml_xml(frames_=6, box=(60, 60, 24, 60))
BOXES_CSV = F.text("frame,id,x,y,w,h\n" + "".join(f"{i},{p},{10 + 60 * (p - 1)},20,24,60\n"
                                                   for i in range(0, 6) for p in (1, 2)))
PETS_VIDEO = F.video(n=6, h=120, w=160)
_fast_train_track = [("--steps 1600", "--steps 2")]


def _search_db(root: Path) -> None:
    """photos.db over the generated photos/ folder (the database the search-expand query examples read)."""
    from cvkit.search_expand.descriptor import GemDescriptor
    from cvkit.search_expand.run import index_images

    d = GemDescriptor()
    index_images(root / "photos", root / "photos.db", d, {**d.params, "whiten": False})


def _revisited(root: Path) -> None:
    """A 4-image revisited-Oxford layout with one query (bbx crop) under DATA/roxford5k."""
    import pickle

    for i, n in enumerate("abcq"):
        F.image(h=64, w=80, seed=i)(root / "DATA/roxford5k/jpg" / f"{n}.jpg")
    gnd = {"imlist": ["a", "b", "c"], "qimlist": ["q"],
           "gnd": [{"bbx": [0, 0, 60, 50], "easy": [0], "hard": [1], "junk": [2]}]}
    (root / "DATA/roxford5k/gnd_roxford5k.pkl").write_bytes(pickle.dumps(gnd))


SEARCH_PHOTOS = {"photos": F.frames(n=4, h=64, w=80)}
SEARCH_CLASSES = {f"my_classes/{c}/{i}.jpg": F.image(h=48, w=64, seed=10 * k + i)
                  for k, c in enumerate("ab") for i in range(3)}
_fast_train_search = [("--out", "--epochs 1 --updates 1 --dba-epochs 0 --threads 1 --out")]

EXAMPLES: dict[str, Ex] = {
    # ------------------------------------------------------------------------------------ track
    "cvkit track video.mp4 --init-box 10,20,60,80 -o tracked.mp4 --boxes boxes.csv": Ex({"video.mp4": SMALL_VIDEO}),
    "cvkit track frames/ --init-box 291,124,151,140 --json | jq -c .box       # image folder, JSON Lines on stdout":
        Ex({"frames": BIG_FRAMES}),
    "cvkit track vot15_bag/                                                      # benchmark sequence: GT init, scores":
        Ex({"vot15_bag/color": F.frames(), "vot15_bag/groundtruth.txt": F.text("4,10,16,10,16,22,4,22\n" * 4)}),
    "cvkit track videos/ -o results/ --video --skip-existing                     # batch (cron): mirrors the tree":
        Ex({"videos/a.mp4": SMALL_VIDEO, "videos/a.mp4.init.txt": F.text("10,20,40,40\n"),
            "videos/day2/b.avi": SMALL_VIDEO, "videos/day2/b.init.txt": F.text("10,20,40,40\n")}),
    "cvkit evaluate track --dataset otb --root OTB100 --model siam-lite --out results/": Ex(OTB),
    "cvkit track frames/ --init-box 291,124,151,140 --boxes - --json | jq .box": Ex({"frames": BIG_FRAMES}),
    "cvkit track OTB100/ -o results/ --skip-existing --model sesiamfc-lite":
        Ex({**OTB, "OTB100/Car/img": F.frames(n=3, h=120, w=160),
            "OTB100/Car/groundtruth_rect.txt": F.text("10,20,40,40\n" * 3)}),
    "cvkit train track --model sesiamfc-lite --data synthetic --steps 1600 --out runs/sesiamfc-lite":
        Ex(subs=_fast_train_track, slow=True, patch=_few_eval_clips),
    "cvkit train track --model automatch-lite --data synthetic --threads 1 --out runs/automatch-lite":
        Ex(subs=[("--threads 1", "--threads 1 --steps 2")], slow=True),
    "cvkit evaluate track --dataset got10k --root GOT-10k/val --results results/ --json": Ex(GOT),
    # ------------------------------------------------------------------------------------ parse-table
    "cvkit parse-table report.pdf -o table.xml                 # ICDAR-2013 -str.xml from the PDF text layer":
        Ex({"report.pdf": F.pdf()}),
    "cvkit parse-table page.png -o table.html --overlay check.png  # OCR (rapidocr), HTML with spans, overlay image":
        Ex({"page.png": F.table_png()}, slow=True),
    "cvkit parse-table scans/ -o out/ --format csv --skip-existing":
        Ex({"scans/a.pdf": F.pdf(), "scans/b/c.png": F.table_png()}, slow=True),
    "cvkit evaluate parse-table --dataset icdar2013 --root ../shared/data/parse-table/icdar2013-eu":
        Ex(ICDAR, subs=[("../shared/data/parse-table/icdar2013-eu", "icdar")]),
    "cvkit parse-table table.png -o table.html": Ex({"table.png": F.table_png()}, slow=True),
    "cvkit parse-table eu-001.pdf --regions eu-001-reg.xml -o eu-001-str.xml --overlay check.png":
        Ex({"eu-001.pdf": F.pdf(), "eu-001-reg.xml": F.reg_xml()}),
    "cvkit parse-table scans/ -o out/ --format icdar2013 --skip-existing --json | jq .n_cells":
        Ex({"scans/a.pdf": F.pdf(), "scans/more/b.pdf": F.pdf(pages=2)}),
    "cvkit train parse-table --data synthetic --max-steps 4000 --out assets/parse-table/graph-lite":
        Ex(subs=[("--max-steps 4000", "--max-steps 2")], slow=True),
    "cvkit evaluate parse-table --dataset pubtabnet --root ../shared/data/parse-table/pubtabnet-mini --json":
        Ex({"ptn/mini_val/t1.png": F.table_png(),
            "ptn/sample_gt.json": F.text(json.dumps({"t1.png": {"html": "<html><body><table><tr><td>00</td>"
                                                                         "<td>01</td></tr></table></body></html>"}}))},
           subs=[("../shared/data/parse-table/pubtabnet-mini", "ptn")], slow=True),
    # ------------------------------------------------------------------------------------ segment-lidar
    "cvkit segment-lidar scan.bin -o scan.label                       # SemanticKITTI labels, one uint32 per point":
        Ex({"scan.bin": SCAN}),
    "cvkit segment-lidar scan.bin -o scan.ply --range-image range.png  # coloured cloud (open3d/MeshLab/CloudCompare)":
        Ex({"scan.bin": SCAN}),
    "cvkit segment-lidar dataset/sequences/ -o out/ --skip-existing    # batch; SemanticKITTI layout -> predictions/":
        Ex({"dataset/sequences/00/velodyne/000000.bin": SCAN, "dataset/sequences/00/velodyne/000001.bin": SCAN}),
    "cvkit evaluate segment-lidar --root ../shared/data/segment-lidar --model ssgv3-tiny-sim --json":
        Ex(KITTI, subs=[("../shared/data/segment-lidar", "kitti")]),
    "cvkit segment-lidar 000000.bin -o 000000.label --json | jq .histogram": Ex({"000000.bin": SCAN}),
    "cvkit segment-lidar scan.pcd -o labelled.ply --sensor os1-64 --range-image range.png": Ex({"scan.pcd": F.pcd()}),
    "cvkit segment-lidar dataset/sequences/08 -o preds/ --skip-existing --model ssgv3-tiny-sim":
        Ex({"dataset/sequences/08/velodyne/000000.bin": SCAN}),
    "cvkit train segment-lidar --data synthetic --steps 560 --batch 2 -o assets/segment-lidar/ssgv3-tiny-sim":
        Ex(subs=[("--steps 560 --batch 2", "--steps 1 --batch 1")], slow=True),
    "cvkit evaluate segment-lidar --root ../shared/data/segment-lidar --model classical":
        Ex(KITTI, subs=[("../shared/data/segment-lidar", "kitti")]),
    "cvkit evaluate segment-lidar --root dataset --sequences 08 --pred preds/ --json":
        Ex({"dataset/sequences/08/velodyne/000000.bin": SCAN, "dataset/sequences/08/labels/000000.label":
            F.labels(N_SCAN), "preds/sequences/08/predictions/000000.label": F.labels(N_SCAN)}),
    # ------------------------------------------------------------------------------------ reid-cluster
    "cvkit reid-cluster crops/ -o out/                         # clusters.csv, ranking.jsonl, index.html "
    "(contact sheet)":
        Ex({"crops": F.crops(n_ids=3, per_id=4)}, slow=True),
    "cvkit reid-cluster crops VIDEO --boxes boxes.csv -o crops/ # cut person crops from a video first":
        Ex({"VIDEO": PETS_VIDEO, "boxes.csv": BOXES_CSV}),
    "cvkit evaluate reid-cluster --dataset market1501 --root Market-1501": Ex({"Market-1501": F.market_root()}),
    "cvkit reid-cluster crops/ -o out/ --rounds 3": Ex({"crops": F.crops(n_ids=3, per_id=4)}, slow=True),
    "cvkit reid-cluster vtest.avi --boxes PETS2009-S2L1.xml -o out/ --json | jq .cluster":
        Ex({"vtest.avi": PETS_VIDEO, "PETS2009-S2L1.xml": CVML_6}, subs=[("-o out/", "-o out/ --every 1")],
           slow=True),
    "cvkit reid-cluster crops VIDEO.avi --boxes gt.txt -o crops/     # only cut the crops":
        Ex({"VIDEO.avi": PETS_VIDEO, "gt.txt": F.mot_gt([f"{i},1,20,20,24,60,1,1,1" for i in range(1, 7)])}),
    "cvkit train reid-cluster --data my_camera_crops/ --rounds 10 --out runs/my-cams":
        Ex({"my_camera_crops": F.crops(n_ids=3, per_id=4)}, subs=[("--rounds 10", "--rounds 1 --epochs 1")],
           slow=True),
    "cvkit evaluate reid-cluster --dataset market1501 --root Market-1501-v15.09.15 --rounds 5":
        Ex({"Market-1501-v15.09.15": F.market_root()}, subs=[("--rounds 5", "--rounds 1 --epochs 1")], slow=True),
    "cvkit evaluate reid-cluster --dataset folder --root pets_crops/ --model hist --json":
        Ex({"pets_crops": F.crops()}),
    # ------------------------------------------------------------------------------------ search-expand
    "cvkit search-expand index photos/ -o photos.db            # EfficientNet-Lite0 GeM descriptors + faiss index":
        Ex(SEARCH_PHOTOS),
    "cvkit search-expand query query.jpg --db photos.db --top 20 --html sheet.html   # JSON Lines rankings":
        Ex({**SEARCH_PHOTOS, "query.jpg": F.image()}, prepare=_search_db),
    "cvkit evaluate search-expand --dataset roxford5k --root DATA/  # revisited E/M/H mAP (revisitop definition)":
        Ex(prepare=_revisited),
    "cvkit search-expand index photos/ -o photos.db": Ex(SEARCH_PHOTOS),
    "cvkit search-expand query query.jpg --db photos.db --top 20 --html sheet.html":
        Ex({**SEARCH_PHOTOS, "query.jpg": F.image()}, prepare=_search_db),
    "cvkit search-expand query queries/ --db photos.db --qe lattqe --dba alphaqe -o runs.jsonl":
        Ex({**SEARCH_PHOTOS, "queries/a.jpg": F.image(), "queries/b.png": F.image(seed=1)}, prepare=_search_db),
    "cvkit train search-expand --data synthetic --out assets/search-expand/lattqe-gram":
        Ex(subs=_fast_train_search, slow=True),
    "cvkit train search-expand --features X.npy --labels y.npy --arch paper --out runs/lattqe":
        Ex({"X.npy": F.npy(np.random.default_rng(0).standard_normal((120, 64)).astype(np.float32)),
            "y.npy": F.npy(np.repeat(np.arange(12), 10))}, subs=_fast_train_search, slow=True),
    "cvkit evaluate search-expand --dataset roxford5k --root DATA/": Ex(prepare=_revisited),
    "cvkit evaluate search-expand --dataset folders --root my_classes/ --json": Ex(SEARCH_CLASSES),
}

NOT_RUNNABLE: dict[str, str] = {
    "cvkit train track --model sesiamfc --data got10k:/data/GOT-10k --device cuda":
        "needs a CUDA device and the GOT-10k training set (paper-size SE-SiamFC)",
    "cvkit train segment-lidar --data semantickitti:/data/SemanticKITTI/dataset --arch ssgv3-21 --width 2048 "
    "--batch 16 --steps 180000 -o runs/ssgv3-21":
        "needs SemanticKITTI and a long run (paper-size SqueezeSegV3-21, 180k steps at batch 16)",
    "cvkit train parse-table --model tabstructnet --data scitsr:/data/SciTSR --epochs 20 --device cuda":
        "needs a CUDA device and SciTSR (paper-size TabStruct-Net, ResNet-101 Mask R-CNN)",
    "cvkit train reid-cluster --data synthetic --out assets/reid-cluster/adtc-lite":
        "the shipped asset's whole recipe (minutes of CPU; no step option to shorten it)",
    "cvkit train reid-cluster --model adtc-resnet50 --data Market-1501/ --init-backbone resnet50_imagenet.pth":
        "needs the user's ImageNet ResNet-50 state dict (no download at run time) and Market-1501",
}


def test_every_example_is_covered() -> None:
    missing = [e for e in all_examples() if e not in EXAMPLES and e not in NOT_RUNNABLE]
    assert not missing, "examples without a set-up in tests/docs/test_examples.py:\n" + "\n".join(missing)
    stale = [e for e in [*EXAMPLES, *NOT_RUNNABLE] if e not in all_examples()]
    assert not stale, "set-ups for examples no longer in the docs:\n" + "\n".join(stale)
    assert len(NOT_RUNNABLE) <= 5


def _params():
    for example in all_examples():
        ex = EXAMPLES.get(example)
        if ex is None:
            continue
        yield pytest.param(example, ex, id=example[:80], marks=[pytest.mark.slow] if ex.slow else [])


@pytest.mark.parametrize(("example", "ex"), list(_params()))
def test_example_runs(example: str, ex: Ex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = example
    for old, new in ex.subs:
        assert old in text, f"substitution {old!r} not in the example"
        text = text.replace(old, new)
    argv, pipe = split_example(text)
    for rel, writer in ex.files.items():
        writer(tmp_path / rel)
    if ex.prepare is not None:
        ex.prepare(tmp_path)
    if ex.patch is not None:
        ex.patch(monkeypatch)
    r = invoke(argv, cwd=tmp_path)
    assert r.code == 0, f"{example}\nexit {r.code}\n{r.stderr[-3000:]}"
    assert "Traceback" not in r.stderr
    if pipe is not None or "--json" in argv:
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        assert lines, f"{example}: nothing on stdout"
        for ln in lines:
            json.loads(ln)
    if pipe is not None and pipe.startswith("jq ") and shutil.which("jq"):
        jq = subprocess.run(shlex.split(pipe), input=r.stdout, capture_output=True, text=True, timeout=30)
        assert jq.returncode == 0 and jq.stdout.strip(), f"{example}: jq failed: {jq.stderr}"
