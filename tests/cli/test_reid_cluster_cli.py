"""`cvkit reid-cluster` end to end: outputs and their content, the crops subcommand, exit codes."""

from __future__ import annotations

import contextlib
import io
import json

import cv2
import numpy as np
import pytest
import typer
from sklearn.metrics import normalized_mutual_info_score

from cvkit.reid_cluster.data import parse_name, synthetic_pedestrians, write_crop_folder
from cvkit.reid_cluster.outputs import read_clusters_csv, read_ranking_jsonl
from cvkit_cli._options import run_guarded


def _app() -> typer.Typer:
    """The real app when it registers reid-cluster, else an app with just this task's commands."""
    from cvkit_cli import main

    names = {c.name for c in main.app.registered_commands} | {g.name for g in main.app.registered_groups}
    if "reid-cluster" in names:
        return main.app
    from cvkit_cli.reid_cluster import register

    app, train_app, eval_app = typer.Typer(), typer.Typer(), typer.Typer()
    app.add_typer(train_app, name="train")
    app.add_typer(eval_app, name="evaluate")
    register(app, train_app, eval_app)
    return app


def cli(*args: str) -> tuple[int, str]:
    """Run the CLI in-process with DESIGN.md's exit-code mapping; returns (code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_guarded(lambda: _app()([str(a) for a in args], standalone_mode=False))
    return code, out.getvalue()


def rc(*args: str) -> tuple[int, str]:
    """`cvkit reid-cluster ARGS`."""
    return cli("reid-cluster", *args)


@pytest.fixture(scope="module")
def crops_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("crops")
    images, ids, cams = synthetic_pedestrians(6, 6, (128, 64), n_cameras=2, seed=3)
    write_crop_folder(images, ids, cams, d)
    return d


def test_reid_cluster_histogram_outputs(crops_dir, tmp_path):
    out = tmp_path / "out"
    code, stdout = rc(crops_dir, "-o", out, "--model", "hist", "--rounds", "0", "--clusters", "6", "--p", "6",
                       "--k", "6", "--top", "5", "--json", "--quiet")
    assert code == 0
    rows = read_clusters_csv(out / "clusters.csv")
    assert len(rows) == 36 and {r["status"] for r in rows} <= {"kept", "ambiguous", "unassigned"}
    assert all((r["cluster"] >= 0) == (r["status"] == "kept") for r in rows)
    ranking = read_ranking_jsonl(out / "ranking.jsonl")
    assert len(ranking) == 36 and all(len(r["results"]) == 5 for r in ranking)
    assert all(r["query"] not in [x["file"] for x in r["results"]] for r in ranking)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["retrieval"]["valid_queries"] == 36 and metrics["retrieval"]["mAP"] > 0
    # the reported clustering scores are those of the clusters written to clusters.csv (kept crops, true ids)
    kept = [r for r in rows if r["status"] == "kept"]
    truth = [parse_name(crops_dir / r["file"]).pid for r in kept]
    assert metrics["clustering"]["kept"] == len(kept)
    assert metrics["clustering"]["nmi"] == pytest.approx(
        normalized_mutual_info_score(truth, [r["cluster"] for r in kept]), abs=1e-3)
    assert "cluster" in (out / "index.html").read_text()
    # `evaluate --results` scores the written clusters.csv exactly as the run did
    code, scored = cli("evaluate", "reid-cluster", "--results", out, "--json", "--quiet")
    rec = json.loads(scored)
    assert code == 0 and rec["crops"] == 36 and rec["cluster_kept"] == metrics["clustering"]["kept"]
    assert rec["cluster_nmi"] == pytest.approx(metrics["clustering"]["nmi"])
    assert rec["cluster_ari"] == pytest.approx(metrics["clustering"]["ari"])
    assert cli("evaluate", "reid-cluster", "--model", "hist", "--quiet")[0] == 4  # no --dataset/--root, no --results
    lines = [json.loads(x) for x in stdout.splitlines()]
    assert len(lines) == 37 and "metrics" in lines[-1]


def test_reid_cluster_with_adaptation(crops_dir, tmp_path):
    out = tmp_path / "out"
    code, _ = rc(crops_dir, "-o", out, "--model", "lite0-imagenet", "--rounds", "1", "--epochs", "1",
                  "--clusters", "6", "--p", "6", "--k", "6", "--no-html", "--quiet", "--threads", "1")
    assert code == 0
    assert (out / "clusters.csv").exists() and not (out / "index.html").exists()


def test_crops_subcommand_and_video_input(square_video, tmp_path):
    video, boxes = square_video
    gt = tmp_path / "gt.txt"  # MOT: 1-based frames
    gt.write_text("".join(f"{i + 1},{1 + i % 2},{b[0]},{b[1] - 20},{b[2]},{b[3] + 20},1,-1,-1\n"
                          for i, b in enumerate(boxes)))
    code, stdout = rc("crops", video, "--boxes", gt, "-o", tmp_path / "crops", "--every", "1", "--json", "--quiet")
    assert code == 0
    recs = [json.loads(x) for x in stdout.splitlines()]
    assert len(recs) == 12 and (tmp_path / "crops" / "crops.csv").exists()
    code, _ = rc(video, "--boxes", gt, "-o", tmp_path / "run", "--every", "1", "--model", "hist", "--rounds", "0",
                  "--clusters", "2", "--p", "6", "--k", "4", "--quiet")
    assert code == 0
    assert len(read_clusters_csv(tmp_path / "run" / "clusters.csv")) == 12
    assert len(list((tmp_path / "run" / "crops").glob("*.jpg"))) == 12


def test_exit_codes(tmp_path, square_video):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert rc(empty, "-o", tmp_path / "o1", "--model", "hist", "--quiet")[0] == 3
    assert not (tmp_path / "o1").exists()
    bad = tmp_path / "bad"
    bad.mkdir()
    cv2.imwrite(str(bad / "0001_c1_f1.jpg"), np.zeros((40, 20, 3), np.uint8))
    (bad / "0002_c1_f2.jpg").write_bytes(b"garbage")
    assert rc(bad, "-o", tmp_path / "o2", "--model", "hist", "--quiet")[0] == 3
    assert not (tmp_path / "o2" / "clusters.csv").exists()
    video, _ = square_video
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("frame,id,x,y,w,h\n900,1,10,10,20,40\n")
    assert rc(video, "--boxes", wrong, "-o", tmp_path / "o3", "--quiet")[0] == 3
    assert rc(video, "-o", tmp_path / "o4", "--quiet")[0] == 4  # a video needs --boxes
    assert rc(bad, "-o", tmp_path / "o5", "--model", "no-such-model", "--quiet")[0] == 5
    assert rc(bad, "-o", tmp_path / "o6", "--clusters", "many", "--quiet")[0] == 4


def test_evaluate_folder(crops_dir, tmp_path):
    code, stdout = cli("evaluate", "reid-cluster", "--dataset", "folder", "--root", crops_dir, "--model", "hist",
                       "--clusters", "6", "--json", "--quiet")
    assert code == 0
    rec = json.loads(stdout)
    assert rec["valid_queries"] == 36 and rec["junk_window_frames"] is None  # two cameras: Market same-camera rule
    # the same crops scored by `cvkit reid-cluster` (its metrics.json) give the same retrieval scores
    code, _ = rc(crops_dir, "-o", tmp_path / "out", "--model", "hist", "--rounds", "0", "--clusters", "6", "--quiet")
    run = json.loads((tmp_path / "out" / "metrics.json").read_text())["retrieval"]
    assert code == 0 and rec["mAP"] == pytest.approx(run["mAP"]) and rec["rank1"] == pytest.approx(run["rank1"])
    assert rec["rank1"] <= rec["rank5"] <= rec["rank10"]


def test_help_shows_examples():
    code, stdout = rc("--help")
    assert code == 0 and "cvkit reid-cluster crops/ -o out/" in stdout
    code, stdout = cli("train", "reid-cluster", "--help")
    assert code == 0 and "--data synthetic" in stdout


def _market_root(root, seed: int = 4):
    """A tiny Market-1501 layout of synthetic pedestrians: ids 1..5, cameras 1..2, junk and distractor files."""
    images, ids, cams = synthetic_pedestrians(5, 6, (128, 64), n_cameras=2, seed=seed)
    for split in ("bounding_box_train", "bounding_box_test", "query"):
        (root / split).mkdir(parents=True)
    for k, (img, pid, cam) in enumerate(zip(images, ids, cams, strict=True)):
        split = "query" if k % 6 == 0 else ("bounding_box_train" if k % 6 == 1 else "bounding_box_test")
        name = f"{int(pid) + 1:04d}_c{int(cam) + 1}s1_{k:06d}_00.jpg"
        cv2.imwrite(str(root / split / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(root / "bounding_box_test" / "-1_c1s1_000999_00.jpg"), np.zeros((64, 32, 3), np.uint8))
    cv2.imwrite(str(root / "bounding_box_test" / "0000_c2s1_000998_00.jpg"), np.full((64, 32, 3), 90, np.uint8))
    return root


def test_evaluate_market_layout(tmp_path):
    root = _market_root(tmp_path / "market")
    code, stdout = cli("evaluate", "reid-cluster", "--dataset", "market1501", "--root", root, "--model", "hist",
                       "--clusters", "5", "--json", "--quiet")
    assert code == 0
    rec = json.loads(stdout)
    assert rec["queries"] == 5 and 0 < rec["valid_queries"] <= 5 and rec["mAP"] > 0
    assert rec["cluster_total"] == 20  # the gallery's 5 ids x 4 crops: the junk (-1) and distractor (0) left out
    assert rec["rank1"] <= rec["rank5"] <= rec["rank10"]
    code, _ = cli("evaluate", "reid-cluster", "--dataset", "market1501", "--root", tmp_path, "--quiet")
    assert code == 3  # not a Market layout


def test_train_on_user_crops_writes_an_asset(crops_dir, tmp_path):
    out = tmp_path / "run"
    code, _ = cli("train", "reid-cluster", "--data", crops_dir, "--model", "lite0-imagenet", "--rounds", "1",
                  "--epochs", "1", "--clusters", "6", "--p", "6", "--k", "6", "--out", out, "--quiet", "--threads", "1")
    assert code == 0
    card = json.loads((out / "card.json").read_text())
    assert card["task"] == "reid-cluster" and card["config"]["backbone"] == "lite0" and card["sha256"]
    # the trained weights run through --model PATH
    code, _ = rc(crops_dir, "-o", tmp_path / "o", "--model", out / "weights.safetensors", "--rounds", "0",
                 "--clusters", "6", "--p", "6", "--k", "6", "--quiet", "--no-html")
    assert code == 0 and (tmp_path / "o" / "clusters.csv").exists()


def test_crops_is_a_sub_command_and_a_folder_named_crops_is_still_an_input(square_video, tmp_path):
    """`cvkit reid-cluster crops VIDEO` cuts crops, `cvkit reid-cluster crops -o out` clusters a folder named
    crops (the README's form), `cvkit reid-cluster cluster INPUT` is the long form of `cvkit reid-cluster INPUT`."""
    from tests.robustness.harness import invoke

    video, boxes = square_video
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(f"{i + 1},{1 + i % 2},{b[0]},{b[1] - 20},{b[2]},{b[3] + 20},1,-1,-1\n"
                          for i, b in enumerate(boxes)))
    assert invoke(["reid-cluster", "crops", str(video), "--boxes", str(gt), "-o", "crops", "--every", "1", "--quiet"],
                  cwd=tmp_path).code == 0
    assert (tmp_path / "crops" / "crops.csv").exists()
    hist = ["--model", "hist", "--rounds", "0", "--clusters", "2", "--p", "6", "--k", "4", "--quiet"]
    assert invoke(["reid-cluster", "crops", "-o", "out", *hist], cwd=tmp_path).code == 0
    assert len(read_clusters_csv(tmp_path / "out" / "clusters.csv")) == 12
    assert invoke(["reid-cluster", "cluster", "crops", "-o", "out2", *hist], cwd=tmp_path).code == 0
    assert (tmp_path / "out2" / "clusters.csv").read_text() == (tmp_path / "out" / "clusters.csv").read_text()
    # the verb still wins over the folder when a video follows it
    r = invoke(["reid-cluster", "crops", str(video), "--boxes", str(gt), "-o", "cut", "--every", "2", "--json"],
               cwd=tmp_path)
    assert r.code == 0 and len(r.stdout.splitlines()) == 6 and (tmp_path / "cut" / "crops.csv").exists()
    r = invoke(["reid-cluster", "--help"])
    assert r.code == 0 and "crops" in r.stdout and "cluster" in r.stdout


def test_glob_input_clusters_the_matching_crops(crops_dir, tmp_path):
    code, stdout = rc(str(crops_dir / "*_c1_*.jpg"), "-o", tmp_path / "out", "--model", "hist", "--rounds", "0",
                      "--clusters", "3", "--p", "6", "--k", "4", "--json", "--quiet")
    assert code == 0
    files = [json.loads(x)["file"] for x in stdout.splitlines() if "file" in json.loads(x)]
    assert files and all("_c1_" in f for f in files)
    assert len(files) == len(list(crops_dir.glob("*_c1_*.jpg"))) < len(list(crops_dir.glob("*.jpg")))
