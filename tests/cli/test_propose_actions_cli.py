"""End-to-end `cvkit propose-actions` / `train` / `evaluate propose-actions` through the app, in process."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cvkit_cli import main as m
from cvkit_cli._options import run_guarded


def cvkit(*args: str) -> int:
    """Run `cvkit ARGS` in this process; returns the exit code."""
    return run_guarded(lambda: m.app(list(args), standalone_mode=False))


def write_csv(path: Path, x: np.ndarray) -> Path:
    header = ",".join(f"f{i}" for i in range(x.shape[1]))
    np.savetxt(path, x, delimiter=",", header=header, comments="", fmt="%.5f")
    return path


def feature_file(tmp_path: Path, name: str = "v_demo1.csv", dim: int = 40) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.3, (100, dim))
    x[20:60] += rng.normal(0, 2, dim)
    return write_csv(tmp_path / name, x)


def test_features_to_activitynet_json_csv_and_png(tmp_path, capsys):
    f = feature_file(tmp_path)
    out = tmp_path / "out" / "p.json"
    assert cvkit("propose-actions", str(f), "-o", str(out), "--duration", "50", "--threads", "1", "--json") == 0
    d = json.loads(out.read_text())
    rows = d["results"]["demo1"]
    assert len(rows) == 100 and set(d) >= {"version", "results", "external_data"}
    segs = np.array([r["segment"] for r in rows])
    assert (segs[:, 0] >= 0).all() and (segs[:, 1] <= 50).all() and (segs[:, 1] > segs[:, 0]).all()
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert out.with_suffix(".csv").read_text().startswith("video,rank,t_start,t_end,score")
    assert cv2.imread(str(out.with_suffix(".png"))) is not None
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["video"] == "demo1" and line["duration"] == 50


def test_bad_inputs_exit_3_naming_the_file(tmp_path, capsys):
    x = np.random.default_rng(1).normal(size=(100, 8))
    x[5, 3] = np.nan
    nan = write_csv(tmp_path / "nan.csv", x)
    assert cvkit("propose-actions", str(nan), "-o", str(tmp_path / "a.json")) == 3
    assert "nan.csv" in capsys.readouterr().err
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("f0,f1,f2\n1,2,3\n4,5\n")
    assert cvkit("propose-actions", str(ragged), "-o", str(tmp_path / "b.json")) == 3
    assert "ragged.csv" in capsys.readouterr().err
    short = tmp_path / "short.avi"
    vw = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(8):
        vw.write(np.full((48, 64, 3), 128, np.uint8))
    vw.release()
    assert cvkit("propose-actions", str(short), "-o", str(tmp_path / "c.json")) == 3
    assert "short.avi" in capsys.readouterr().err
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "c.json").exists()
    assert cvkit("propose-actions", str(nan), "-o", str(tmp_path / "d.txt")) == 4


def _anet_root(tmp_path: Path) -> Path:
    root = tmp_path / "anet"
    root.mkdir()
    anno = {}
    info = ["video,numFrame,seconds,fps,rfps,subset,featureFrame"]
    rng = np.random.default_rng(2)
    for k in range(40):
        sub = "training" if k < 30 else "validation"
        s = float(rng.uniform(0, 40))
        anno[f"v_vid{k}"] = {"duration_second": 100.0, "duration_frame": 3000, "feature_frame": 3000,
                             "annotations": [{"segment": [s, s + float(rng.uniform(5, 50))], "label": "a"}]}
        info.append(f"v_vid{k},3000,100.0,30.0,30.0,{sub},3000")
    (root / "anet_anno_action.json").write_text(json.dumps(anno))
    (root / "video_info_new.csv").write_text("\n".join(info) + "\n")
    return root


def test_prior_train_propose_evaluate_round_trip(tmp_path, capsys):
    root = _anet_root(tmp_path)
    prior = tmp_path / "prior"
    assert cvkit("train", "propose-actions", "--model", "prior", "--data", f"anet:{root}", "-o", str(prior)) == 0
    card = json.loads((prior / "card.json").read_text())
    assert card["architecture"] == "prior" and card["sha256"]
    res = tmp_path / "val.json"
    assert cvkit("propose-actions", str(root / "video_info_new.csv"), "--subset", "validation", "--model",
                 str(prior), "-o", str(res), "--quiet") == 0
    assert len(json.loads(res.read_text())["results"]) == 10
    capsys.readouterr()
    png = tmp_path / "curve.png"
    assert cvkit("evaluate", "propose-actions", "--dataset", "anet", "--root", str(root), "--results", str(res),
                 "--plot", str(png), "--json") == 0
    rep = json.loads(capsys.readouterr().out)
    row = rep["models"]["val"]
    assert row["videos"] == 10 and 0 <= row["AR@100"] <= 100 and row["AR@1"] <= row["AR@100"]
    assert cv2.imread(str(png)) is not None


def test_evaluate_thumos_layout(tmp_path, capsys):
    gt = tmp_path / "test_Annotation.csv"
    gt.write_text("video,type,type_idx,start,end,startFrame,endFrame\n"
                  "video_test_1,Diving,1,2.0,4.0,60,120\nvideo_test_1,Diving,1,30.0,33.0,900,990\n")
    res = tmp_path / "r.json"
    res.write_text(json.dumps({"version": "1.3", "external_data": {}, "results": {"video_test_1": [
        {"segment": [2.0, 4.0], "score": 0.9}, {"segment": [29.0, 33.0], "score": 0.5}]}}))
    assert cvkit("evaluate", "propose-actions", "--dataset", "thumos", "--root", str(gt), "--results", str(res),
                 "--json") == 0
    row = json.loads(capsys.readouterr().out)["models"]["r"]
    assert set(row) >= {"AR@50", "AR@100", "AR@200", "AR@500", "AR@1000"}
    assert 50 < row["AR@1000"] < 100


def test_help_lists_examples(capsys):
    assert cvkit("propose-actions", "--help") == 0
    assert "cvkit propose-actions" in capsys.readouterr().out


def test_prior_from_thumos_annotations_scores_thumos_ar(tmp_path, capsys):
    gt = tmp_path / "test_Annotation.csv"
    rows = ["video,type,type_idx,start,end,startFrame,endFrame"]
    for k in range(6):
        rows += [f"video_test_{k},Diving,1,{10 + k}.0,{14 + k}.0,0,0", f"video_test_{k},Diving,1,50.0,58.0,0,0"]
    gt.write_text("\n".join(rows) + "\n")
    durs = tmp_path / "durations.csv"
    durs.write_text("video,seconds\n" + "".join(f"video_test_{k},60.0\n" for k in range(6)))
    prior = tmp_path / "prior"
    assert cvkit("train", "propose-actions", "--model", "prior", "--data", f"thumos:{gt}", "-o", str(prior)) == 0
    res = tmp_path / "thumos.json"
    assert cvkit("propose-actions", str(durs), "--model", str(prior), "--top-k", "1000", "-o", str(res),
                 "--quiet") == 0
    n = [len(v) for v in json.loads(res.read_text())["results"].values()]
    assert len(n) == 6 and min(n) == max(n) >= 5  # one proposal per non-empty table cell here
    capsys.readouterr()
    assert cvkit("evaluate", "propose-actions", "--dataset", "thumos", "--root", str(gt), "--results", str(res),
                 "--json") == 0
    row = json.loads(capsys.readouterr().out)["models"]["thumos"]
    assert row["AR@50"] <= row["AR@1000"] and row["AR@1000"] > 20


def test_folder_batch_mirrors_outputs_merges_and_exits_6_on_a_bad_file(tmp_path, capsys):
    src = tmp_path / "feats"
    (src / "sub").mkdir(parents=True)
    feature_file(src, "v_one.csv", 12)
    feature_file(src / "sub", "two.csv", 12)
    bad = np.ones((100, 12))
    bad[0, 0] = np.nan
    write_csv(src / "bad.csv", bad)
    out = tmp_path / "out"
    assert cvkit("propose-actions", str(src), "-o", str(out), "--duration", "30", "--no-timeline",
                 "--threads", "1") == 6
    assert "bad.csv" in capsys.readouterr().err
    assert (out / "v_one.json").is_file() and (out / "sub" / "two.json").is_file()
    merged = json.loads((out / "proposals.json").read_text())["results"]
    assert set(merged) == {"one", "two"}
    bad.__setitem__((0, 0), 1.0)
    write_csv(src / "bad.csv", bad)
    assert cvkit("propose-actions", str(src), "-o", str(out), "--duration", "30", "--no-timeline",
                 "--skip-existing", "--threads", "1") == 0
    assert "skipped 2" in capsys.readouterr().err
    assert set(json.loads((out / "proposals.json").read_text())["results"]) == {"one", "two", "bad"}


@pytest.mark.slow
def test_train_raw_model_on_anet_layout_then_wrong_width_exits_3(tmp_path, capsys):
    from tests.unit.propose_actions.test_model import _write_anet_fixture

    feats = _write_anet_fixture(tmp_path / "anet", n=2, dim=16)
    run = tmp_path / "run"
    assert cvkit("train", "propose-actions", "--data", f"anet:{tmp_path / 'anet'}", "--features", str(feats),
                 "--input", "raw", "--size", "small", "--steps", "2", "--batch", "2", "-o", str(run), "--quiet") == 0
    card = json.loads((run / "card.json").read_text())
    assert card["config"]["in_dim"] == 16 and card["input"] == "raw"
    ok = tmp_path / "p.json"
    assert cvkit("propose-actions", str(feats / "v_fake0.csv"), "--model", str(run), "-o", str(ok),
                 "--durations", str(tmp_path / "anet" / "video_info_new.csv"), "--quiet") == 0
    assert len(json.loads(ok.read_text())["results"]["fake0"]) > 0
    wide = write_csv(tmp_path / "wide.csv", np.zeros((100, 20)))
    assert cvkit("propose-actions", str(wide), "--model", str(run), "-o", str(tmp_path / "w.json")) == 3
    assert "20 columns but the model expects 16" in capsys.readouterr().err
