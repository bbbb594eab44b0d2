"""The bad-input corpus: one row per case, run by test_corpus.py through the real CLI, in this process.

A case is `Case(id, inputs, argv, code)`:
  - `inputs` maps a path relative to the case folder to a writer from `files.py` (tiny generated files);
  - `argv` is the command line after `cvkit`; `{d}` stands for the case folder;
  - `code` is the documented exit status (README/DESIGN: 0 ok, 2 usage, 3 bad input file, 4 bad value or
    output, 5 model, 6 batch with failures).
Every case is also checked for: no traceback and no "internal error" on stderr, no native-library noise
(FFmpeg/OpenCV log lines) on stderr, no leftover `.part` temp file anywhere in the case folder, and for a
failed run (code not 0/6) no output file at any -o/--boxes/--overlay/--range-image path that did not exist
before. `names` (default for code 3: the first input) are paths that the message must name; `present`
lists outputs a run must leave (good items of a batch), `absent` outputs it must not.

To add a task's cases: write small writers in files.py if the task reads a new format, then append rows
below with a short helper like `SL(...)` that prefixes the command. One line per case is the aim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import files as F


@dataclass
class Case:
    """One corpus row (see the module docstring)."""

    id: str
    inputs: dict[str, F.Writer]
    argv: list[str]
    code: int
    names: list[str] | None = None
    present: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    stdout_json: bool = False
    xfail: str | None = None
    prepare: Callable[[Path], None] | None = None


CASES: list[Case] = []


def _case(prefix: list[str]) -> Callable[..., Case]:
    def add(id_: str, inputs: dict[str, F.Writer], args: list[str], code: int, **kw) -> Case:
        c = Case(f"{' '.join(prefix) or 'cvkit'}:{id_}", inputs, [*prefix, *args], code, **kw)
        CASES.append(c)
        return c
    return add


GOOD_SCAN = F.bin_scan()
GOOD_VIDEO = F.video()
GOOD_PNG = F.table_png()
GOOD_PDF = F.pdf()
NOT_A_DATA_FILE = F.text("this is not a data file, just some text\n" * 3)

# ============================================================================================== segment-lidar
SL = _case(["segment-lidar"])
_o = ["-o", "{d}/out.label"]
for name, writer in {
    "empty.bin": F.empty, "ten-bytes.bin": F.raw(b"0123456789"), "text.bin": F.text("hello world\n"),
    "png-as.bin": F.image(ext=".png"), "all-nan.bin": F.bin_scan(F.nan_points()),
    "all-inf.bin": F.bin_scan(F.inf_points()), "one-point.bin": F.bin_scan(F.one_point()),
    "truncated.bin": F.raw(b"\x00" * 18),
    "empty.pcd": F.empty, "no-data-line.pcd": F.text("VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\n"),
    "huge-points.pcd": F.pcd(declared=10**12), "huge-ascii.pcd": F.pcd(mode="ascii", declared=10**12),
    "ascii-garbage.pcd": F.text("VERSION 0.7\nFIELDS x y z intensity\nSIZE 4 4 4 4\nTYPE F F F F\nCOUNT 1 1 1 1\n"
                         "WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\na b c d\ne f g h\n"),
    "bad-type.pcd": F.text("FIELDS x y z\nSIZE 4 4 4\nTYPE X X X\nCOUNT 1 1 1\nWIDTH 1\nPOINTS 1\nDATA ascii\n1 2 3\n"),
    "no-xyz.pcd": F.pcd(fields="a b c d"), "negative-points.pcd": F.pcd(declared=-5),
    "compressed-cut.pcd": F.pcd(mode="binary_compressed"), "nan.pcd": F.pcd(F.nan_points(), mode="ascii"),
    "unknown-mode.pcd": F.pcd(mode="zip"), "truncated.pcd": F.truncated(F.pcd(), 0.5),
    "empty.ply": F.empty, "text.ply": NOT_A_DATA_FILE, "no-end-header.ply": F.text("ply\nformat ascii 1.0\n"),
    "huge-vertices.ply": F.ply(declared=str(10**12)), "words-count.ply": F.ply(declared="many"),
    "negative-count.ply": F.ply(declared="-1"), "odd-format.ply": F.ply(fmt="binary_middle_endian"),
    "list-prop.ply": F.ply(props="property list uchar int vertex_indices\n"),
    "ascii-garbage.ply": F.raw(b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
                               b"property float z\nend_header\nx y z\n1 2 3\n"),
    "truncated.ply": F.truncated(F.ply(), 0.6), "jpg-as.ply": F.image(ext=".jpg"),
    "nan.ply": F.ply(F.nan_points()), "one-point.ply": F.ply(F.one_point(), fmt="ascii"),
    "no-vertex.ply": F.text("ply\nformat ascii 1.0\nelement face 0\nend_header\n"),
    "empty.npy": F.empty, "truncated.npy": F.truncated(F.npy(F.scan_points(50)), 0.6),
    "two-columns.npy": F.npy(F.scan_points(50)[:, :2]), "flat.npy": F.npy(F.scan_points(50).ravel()),
    "objects.npy": F.npy(F.scan_points(5).astype(object)), "strings.npy": F.npy(F.scan_points(5).astype(str)),
    "nan.npy": F.npy(F.nan_points()), "text.npy": NOT_A_DATA_FILE, "empty-archive.npz": F.npz(),
    "three-d.npy": F.npy(F.scan_points(8)[:8].reshape(2, 4, 4)),
    "scan.label": F.labels(10), "scan.txt": F.text("1 2 3 4\n"),
}.items():
    SL(f"bad-{name}", {name: writer}, [f"{{d}}/{name}", *_o], 3)

for name, writer, code in [
    ("half-nan.bin", F.bin_scan(F.half_nan()), 0), ("same-point.bin", F.bin_scan(F.same_point()), 0),
("good.pcd", F.pcd(), 0), ("good-ascii.pcd", F.pcd(mode="ascii"), 0),
    ("good.ply", F.ply(), 0), ("good-ascii.ply", F.ply(fmt="ascii"), 0), ("good.npy", F.npy(F.scan_points(300)), 0),
    ("good.npz", F.npz(points=F.scan_points(300)), 0), ("three-cols.npy", F.npy(F.scan_points(300)[:, :3]), 0),
]:
    SL(f"ok-{name}", {name: writer}, [f"{{d}}/{name}", *_o], code, present=["{d}/out.label"])

SL("bad-far-away.bin", {"far-away.bin": F.bin_scan(F.far_points())}, ["{d}/far-away.bin", *_o], 3)  # 1e30 m
SL("missing-file", {}, ["{d}/nope.bin", *_o], 3, names=["{d}/nope.bin"])
SL("empty-folder", {"scans": F.empty_folder}, ["{d}/scans", "-o", "{d}/out"], 3)
SL("folder-without-scans", {"scans": F.folder(a_dot_txt=F.text("x"), b_dot_jpg=F.image())},
   ["{d}/scans", "-o", "{d}/out"], 3)
SL("out-is-folder", {"s.bin": GOOD_SCAN, "out.label": F.empty_folder}, ["{d}/s.bin", "-o", "{d}/out.label"], 4,
   names=["{d}/out.label"])
SL("out-under-file", {"s.bin": GOOD_SCAN, "f": F.text("x")}, ["{d}/s.bin", "-o", "{d}/f/out.label"], 4,
   names=["{d}/f/out.label"])
SL("out-unwritable", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", "-o", "/proc/cvkit-corpus.label"], 4,
   names=["/proc/cvkit-corpus.label"])
SL("out-is-input", {"s.ply": F.ply()}, ["{d}/s.ply", "-o", "{d}/s.ply"], 4, names=["{d}/s.ply"])
SL("out-bad-suffix", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", "-o", "{d}/out.txt"], 4, names=["{d}/out.txt"])
SL("batch-out-is-file", {"scans/a.bin": GOOD_SCAN, "out": F.text("x")}, ["{d}/scans", "-o", "{d}/out"], 4,
   names=["{d}/out"])
SL("batch-no-out", {"scans/a.bin": GOOD_SCAN}, ["{d}/scans"], 4, names=["{d}/scans"])
SL("batch-out-file-suffix", {"scans/a.bin": GOOD_SCAN}, ["{d}/scans", "-o", "{d}/x.label"], 4)
SL("range-image-is-folder", {"s.bin": GOOD_SCAN, "r.png": F.empty_folder},
   ["{d}/s.bin", "-o", "{d}/o.ply", "--range-image", "{d}/r.png"], 4, names=["{d}/r.png"])
SL("range-image-batch", {"scans/a.bin": GOOD_SCAN}, ["{d}/scans", "-o", "{d}/out", "--range-image", "{d}/r.png"], 4)
SL("range-image-classical", {"s.bin": GOOD_SCAN},
   ["{d}/s.bin", "-o", "{d}/o.ply", "--range-image", "{d}/r.png", "--model", "classical"], 0,
   present=["{d}/o.ply", "{d}/r.png"])
SL("bad-format", {"scans/a.bin": GOOD_SCAN}, ["{d}/scans", "-o", "{d}/out", "--format", "xyz"], 4)
SL("bad-sensor", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--sensor", "hdl1000"], 4)
SL("bad-width", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--width", "12"], 4)
SL("nan-fov", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--fov-up", "nan"], 4)
SL("inverted-fov", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--fov-up", "-30", "--fov-down", "10"], 4)
SL("negative-threads", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--threads", "-1"], 2)
SL("unknown-option", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--colour"], 2)
SL("bad-device", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--device", "tpu"], 4)
SL("model-missing-file", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--model", "{d}/w.safetensors"], 5,
   names=["{d}/w.safetensors"])
SL("model-garbage-file", {"s.bin": GOOD_SCAN, "w.safetensors": NOT_A_DATA_FILE},
   ["{d}/s.bin", *_o, "--model", "{d}/w.safetensors"], 5, names=["{d}/w.safetensors"])
SL("model-garbage-pt", {"s.bin": GOOD_SCAN, "w.pt": F.raw(b"\x80\x02garbage")},
   ["{d}/s.bin", *_o, "--model", "{d}/w.pt"], 5, names=["{d}/w.pt"])
SL("model-unknown", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", *_o, "--model", "ssgv9"], 5)
_mixed_scans = {"scans/good.bin": GOOD_SCAN, "scans/nan.bin": F.bin_scan(F.nan_points()),
                "scans/sub/empty.pcd": F.empty, "scans/sub/cut.ply": F.truncated(F.ply(), 0.5),
                "scans/sub/good.ply": F.ply(fmt="ascii")}
_bad_scans = ["{d}/scans/nan.bin", "{d}/scans/sub/empty.pcd", "{d}/scans/sub/cut.ply"]
SL("batch-mixed", _mixed_scans, ["{d}/scans", "-o", "{d}/out"], 6, names=_bad_scans,
   present=["{d}/out/good.label", "{d}/out/sub/good.label"],
   absent=["{d}/out/nan.label", "{d}/out/sub/empty.label", "{d}/out/sub/cut.label"])
SL("batch-mixed-json", _mixed_scans, ["{d}/scans", "-o", "{d}/out", "--json", "--format", "ply"], 6,
   names=_bad_scans, present=["{d}/out/good.ply"], stdout_json=True)
SL("batch-skip-existing", {"scans/a.bin": GOOD_SCAN, "out/a.label": F.labels(1750)},
   ["{d}/scans", "-o", "{d}/out", "--skip-existing"], 0)
SL("unicode-path-ok", {"dir with spaces/ünïcødé 扫描.bin": GOOD_SCAN},
   ["{d}/dir with spaces/ünïcødé 扫描.bin", "-o", "{d}/résultats x/é.ply"], 0, present=["{d}/résultats x/é.ply"])
SL("unicode-path-bad", {"dir with spaces/ünïcødé 扫描.bin": F.empty},
   ["{d}/dir with spaces/ünïcødé 扫描.bin", "-o", "{d}/résultats x/é.label"], 3)
SL("brackets-path-bad", {"[red]scan[/red] (1).bin": F.empty}, ["{d}/[red]scan[/red] (1).bin", *_o], 3)
SL("unicode-batch-mixed", {"日本/a b.bin": GOOD_SCAN, "日本/ß [x].bin": F.raw(b"12345")},
   ["{d}/日本", "-o", "{d}/出力"], 6, names=["{d}/日本/ß [x].bin"], present=["{d}/出力/a b.label"])
SL("nested-new-out", {"s.bin": GOOD_SCAN}, ["{d}/s.bin", "-o", "{d}/a/b/c/s.pcd"], 0, present=["{d}/a/b/c/s.pcd"])

EV_SL = _case(["evaluate", "segment-lidar"])
EV_SL("root-missing", {}, ["--root", "{d}/kitti"], 3, names=["{d}/kitti"])
EV_SL("root-empty", {"kitti": F.empty_folder}, ["--root", "{d}/kitti"], 3, names=["{d}/kitti"])
EV_SL("no-labels", {"kitti": F.kitti_root({"000000.bin": GOOD_SCAN})}, ["--root", "{d}/kitti"], 3)
EV_SL("label-count-mismatch", {"kitti": F.kitti_root({"000000.bin": GOOD_SCAN}, {"000000.label": F.labels(7)})},
      ["--root", "{d}/kitti"], 3, names=["{d}/kitti/sequences/08/labels/000000.label"])
EV_SL("label-truncated", {"kitti": F.kitti_root({"000000.bin": GOOD_SCAN}, {"000000.label": F.raw(b"123")})},
      ["--root", "{d}/kitti"], 3, names=["{d}/kitti/sequences/08/labels/000000.label"])
EV_SL("scan-empty", {"kitti": F.kitti_root({"000000.bin": F.empty}, {"000000.label": F.labels(0)})},
      ["--root", "{d}/kitti"], 3, names=["{d}/kitti/sequences/08/velodyne/000000.bin"])
EV_SL("pred-missing", {"kitti": F.kitti_root({"000000.bin": GOOD_SCAN}, {"000000.label": F.labels(1750)}),
                       "preds": F.empty_folder}, ["--root", "{d}/kitti", "--pred", "{d}/preds"], 3,
      names=["{d}/preds/sequences/08/predictions/000000.label"])
EV_SL("ok", {"kitti": F.kitti_root({"000000.bin": GOOD_SCAN}, {"000000.label": F.labels(1750)})},
      ["--root", "{d}/kitti", "--json"], 0, stdout_json=True)
TR_SL = _case(["train", "segment-lidar"])
TR_SL("data-missing", {}, ["--data", "semantickitti:{d}/kitti", "--steps", "1", "-o", "{d}/run"], 3,
      names=["{d}/kitti"])
TR_SL("data-bogus", {}, ["--data", "kitti360", "--steps", "1", "-o", "{d}/run"], 4)

# ============================================================================================== track
TK = _case(["track"])
_kcf = ["--model", "cv-kcf", "--init-box", "4,10,12,12"]
for name, writer in {
    "empty.mp4": F.empty, "empty.avi": F.empty, "text.mp4": NOT_A_DATA_FILE, "text.avi": NOT_A_DATA_FILE,
    "cut.mp4": F.truncated(GOOD_VIDEO, 0.5), "pdf-as.avi": GOOD_PDF,
    "zeros.mkv": F.raw(b"\x00" * 4096),
}.items():
    TK(f"bad-{name}", {name: writer}, [f"{{d}}/{name}", *_kcf, "-o", "{d}/o.mp4", "--boxes", "{d}/b.txt"], 3)
for name, writer in {
    "frames-first-bad": F.frames(bad={0: NOT_A_DATA_FILE}), "frames-middle-empty": F.frames(bad={2: F.empty}),
    "frames-huge-png": F.frames(ext=".png", bad={1: F.png_huge_header}),
    "frames-cut-png": F.frames(ext=".png", bad={3: F.truncated(F.image(), 0.3)}),
}.items():
    bad_frame = {"frames-first-bad": "0001.jpg", "frames-middle-empty": "0003.jpg", "frames-huge-png": "0002.png",
                 "frames-cut-png": "0004.png"}[name]
    TK(f"bad-{name}", {"clip": writer}, ["{d}/clip", *_kcf, "-o", "{d}/o.avi", "--boxes", "{d}/b.csv"], 3,
       names=[f"{{d}}/clip/{bad_frame}"])
TK("png-as.mp4", {"png-as.mp4": F.table_png(ext=".png")}, ["{d}/png-as.mp4", *_kcf, "--boxes", "{d}/b.txt"], 0,
   present=["{d}/b.txt"])  # FFmpeg sniffs the content: a one-frame "video"
TK("missing", {}, ["{d}/nope.mp4", *_kcf], 3, names=["{d}/nope.mp4"])
TK("empty-folder", {"clip": F.empty_folder}, ["{d}/clip", *_kcf], 3)
TK("folder-of-text", {"clip": F.folder(a_dot_txt=F.text("x"))}, ["{d}/clip", *_kcf], 3)
_v = {"v.avi": GOOD_VIDEO}
for id_, box in [("zero-box", "0,0,0,0"), ("outside-box", "1000,1000,10,10"), ("mostly-outside", "-10,-10,12,12"),
                 ("negative-size", "10,10,-5,8"), ("nan-box", "nan,1,5,5"), ("inf-box", "1,1,inf,5"),
                 ("three-values", "1,2,3"), ("words-box", "left,top,w,h")]:
    TK(id_, _v, ["{d}/v.avi", "--model", "cv-kcf", "--init-box", box, "-o", "{d}/o.mp4", "--boxes", "{d}/b.txt"], 4)
for id_, writer in [("empty", F.empty), ("garbage", NOT_A_DATA_FILE), ("nan", F.text("NaN,NaN,NaN,NaN\n")),
                    ("zero", F.text("0,0,0,0\n"))]:
    TK(f"init-file-{id_}", {**_v, "init.txt": writer},
       ["{d}/v.avi", "--model", "cv-kcf", "--init-box", "@{d}/init.txt", "--boxes", "{d}/b.txt"], 3,
       names=["{d}/init.txt"])
TK("init-file-missing", _v, ["{d}/v.avi", "--model", "cv-kcf", "--init-box", "@{d}/init.txt"], 3,
   names=["{d}/init.txt"])
TK("init-file-vot-polygon", {**_v, "init.txt": F.text("4,10,16,10,16,22,4,22\n")},
   ["{d}/v.avi", "--model", "cv-kcf", "--init-box", "@{d}/init.txt", "--boxes", "{d}/b.txt"], 0,
   present=["{d}/b.txt"])
TK("no-init", _v, ["{d}/v.avi", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 4, names=["{d}/v.avi"])
TK("lost-threshold-nan", _v, ["{d}/v.avi", *_kcf, "--lost-threshold", "nan", "--boxes", "{d}/b.txt"], 4)
TK("end-before-start", _v, ["{d}/v.avi", *_kcf, "--start-frame", "3", "--end-frame", "1", "--boxes", "{d}/b.txt"],
   4, names=["--end-frame 1"])
TK("start-past-end", _v, ["{d}/v.avi", *_kcf, "--start-frame", "50", "--boxes", "{d}/b.txt"], 4)
TK("negative-start", _v, ["{d}/v.avi", *_kcf, "--start-frame", "-1"], 2)
TK("bad-boxes-suffix", _v, ["{d}/v.avi", *_kcf, "--boxes", "{d}/b.xyz"], 4, names=["{d}/b.xyz"])
TK("bad-video-suffix", _v, ["{d}/v.avi", *_kcf, "-o", "{d}/o.gif"], 4, names=["{d}/o.gif"])
TK("model-unknown", _v, ["{d}/v.avi", "--model", "siamrpn", "--init-box", "4,10,12,12"], 5)
TK("model-garbage-file", {**_v, "w.pth": NOT_A_DATA_FILE},
   ["{d}/v.avi", "--model", "{d}/w.pth", "--init-box", "4,10,12,12"], 5, names=["{d}/w.pth"])
TK("bad-device", _v, ["{d}/v.avi", *_kcf, "--device", "gpu0"], 4)
TK("out-is-folder", {**_v, "o.mp4": F.empty_folder}, ["{d}/v.avi", *_kcf, "-o", "{d}/o.mp4"], 4,
   names=["{d}/o.mp4"])
TK("boxes-is-folder", {**_v, "b.txt": F.empty_folder}, ["{d}/v.avi", *_kcf, "--boxes", "{d}/b.txt"], 4,
   names=["{d}/b.txt"])
TK("out-unwritable", _v, ["{d}/v.avi", *_kcf, "-o", "/proc/cvkit-corpus.mp4"], 4, names=["/proc/cvkit-corpus.mp4"])
TK("boxes-unwritable", _v, ["{d}/v.avi", *_kcf, "--boxes", "/proc/cvkit-corpus.txt"], 4,
   names=["/proc/cvkit-corpus.txt"])
TK("out-under-file", {**_v, "f": F.text("x")}, ["{d}/v.avi", *_kcf, "-o", "{d}/f/o.avi"], 4, names=["{d}/f/o.avi"])
TK("out-is-input", _v, ["{d}/v.avi", *_kcf, "-o", "{d}/v.avi"], 4, names=["{d}/v.avi"])
TK("one-pixel-frames", {"v.avi": F.video(h=1, w=1)},
   ["{d}/v.avi", "--model", "cv-kcf", "--init-box", "0,0,1,1", "-o", "{d}/o.mp4"], 4, names=["1x1"])
TK("batch-no-out", {"vids/a.avi": GOOD_VIDEO, "vids/b.avi": GOOD_VIDEO}, ["{d}/vids", *_kcf], 4)
TK("batch-out-is-file", {"vids/a.avi": GOOD_VIDEO, "vids/b.avi": GOOD_VIDEO, "out": F.text("x")},
   ["{d}/vids", *_kcf, "-o", "{d}/out"], 4, names=["{d}/out"])
TK("batch-bad-boxes-format", {"vids/a.avi": GOOD_VIDEO, "vids/b.avi": GOOD_VIDEO},
   ["{d}/vids", *_kcf, "-o", "{d}/out", "--boxes-format", "xml"], 4)
TK("batch-mixed", {"vids/good.avi": GOOD_VIDEO, "vids/good.avi.init.txt": F.text("4,10,12,12\n"),
                   "vids/empty.mp4": F.empty, "vids/sub/text.avi": NOT_A_DATA_FILE},
   ["{d}/vids", "--model", "cv-kcf", "-o", "{d}/out", "--video"], 6,
   names=["empty", "text"], present=["{d}/out/good.txt", "{d}/out/good.mp4"],
   absent=["{d}/out/empty.txt", "{d}/out/empty.mp4", "{d}/out/sub/text.txt"])
TK("batch-init-box-applies", {"vids/a.avi": GOOD_VIDEO, "vids/b.avi": GOOD_VIDEO},
   ["{d}/vids", *_kcf, "-o", "{d}/out"], 0, present=["{d}/out/a.txt", "{d}/out/b.txt"])
TK("batch-bad-sidecar", {"vids/a.avi": GOOD_VIDEO, "vids/a.init.txt": NOT_A_DATA_FILE, "vids/b.avi": GOOD_VIDEO,
                         "vids/b.init.txt": F.text("4,10,12,12\n")},
   ["{d}/vids", "--model", "cv-kcf", "-o", "{d}/out"], 6, names=["{d}/vids/a.init.txt"],
   present=["{d}/out/b.txt"])
TK("batch-frames-mixed", {"seqs/a": F.frames(), "seqs/a/init.txt": F.text("4,10,12,12"),
                          "seqs/b": F.frames(bad={1: F.empty}), "seqs/b/init.txt": F.text("4,10,12,12")},
   ["{d}/seqs", "--model", "cv-kcf", "-o", "{d}/out", "--boxes-format", "csv"], 6, names=["{d}/seqs/b/0002.jpg"],
   present=["{d}/out/a.csv"], absent=["{d}/out/b.csv"])
TK("vot-garbage-gt", {"bag/color": F.frames(), "bag/groundtruth.txt": NOT_A_DATA_FILE},
   ["{d}/bag", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 3, names=["{d}/bag/groundtruth.txt"])
TK("vot-empty-gt", {"bag/color": F.frames(), "bag/groundtruth.txt": F.empty},
   ["{d}/bag", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 3, names=["{d}/bag/groundtruth.txt"])
TK("vot-nan-first-gt", {"bag/color": F.frames(), "bag/groundtruth.txt": F.text("nan,nan,nan,nan\n1,1,5,5\n" * 2)},
   ["{d}/bag", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 3, names=["{d}/bag"])
TK("vot-polygon-ok", {"bag/color": F.frames(), "bag/groundtruth.txt": F.text("4,10,16,10,16,22,4,22\n" * 4)},
   ["{d}/bag", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 0, present=["{d}/b.txt"])
TK("otb-short-rows", {"Seq/img": F.frames(), "Seq/groundtruth_rect.txt": F.text("1,2\n3,4\n")},
   ["{d}/Seq", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 3, names=["{d}/Seq/groundtruth_rect.txt"])
TK("otb-zero-box", {"Seq/img": F.frames(), "Seq/groundtruth_rect.txt": F.text("0,0,0,0\n" * 4)},
   ["{d}/Seq", "--model", "cv-kcf", "--boxes", "{d}/b.txt"], 3, names=["{d}/Seq"])  # OTB: 0,0,0,0 = absent
TK("unicode-ok", {"vidéo dir/clip 1 ü.avi": GOOD_VIDEO},
   ["{d}/vidéo dir/clip 1 ü.avi", *_kcf, "-o", "{d}/sortie é/o.mp4", "--boxes", "{d}/sortie é/b.csv"], 0,
   present=["{d}/sortie é/o.mp4", "{d}/sortie é/b.csv"])
TK("unicode-bad", {"vidéo dir/clip 1 ü.mp4": F.empty}, ["{d}/vidéo dir/clip 1 ü.mp4", *_kcf], 3)
TK("brackets-bad", {"[bold]clip[/bold].mp4": F.empty}, ["{d}/[bold]clip[/bold].mp4", *_kcf], 3)
TK("json-boxes-stdout", _v, ["{d}/v.avi", *_kcf, "--boxes", "-", "--json"], 0, stdout_json=True)
TK("json-only", _v, ["{d}/v.avi", *_kcf, "--json"], 0, stdout_json=True)
TK("frames-named-png-are-jpg", {"clip": F.frames(ext=".png", bad={1: F.image(ext=".jpg")})},
   ["{d}/clip", *_kcf, "--boxes", "{d}/b.txt"], 0, present=["{d}/b.txt"])

EV_TK = _case(["evaluate", "track"])
EV_TK("root-missing", {}, ["--dataset", "otb", "--root", "{d}/OTB", "--model", "cv-kcf", "--out", "{d}/res"], 3,
      names=["{d}/OTB"])
EV_TK("root-empty", {"OTB": F.empty_folder}, ["--dataset", "otb", "--root", "{d}/OTB", "--model", "cv-kcf",
                                             "--out", "{d}/res"], 3, names=["{d}/OTB"])
EV_TK("dataset-bogus", {"OTB": F.empty_folder}, ["--dataset", "imagenet", "--root", "{d}/OTB", "--model", "cv-kcf"],
      4)
EV_TK("nothing-to-do", {"OTB": F.empty_folder}, ["--dataset", "otb", "--root", "{d}/OTB"], 4)
_otb = {"OTB/Seq/img": F.frames(), "OTB/Seq/groundtruth_rect.txt": F.text("4,10,12,12\n" * 4)}
EV_TK("results-missing", _otb, ["--dataset", "otb", "--root", "{d}/OTB", "--results", "{d}/res"], 3,
      names=["{d}/res"])
EV_TK("results-garbage", {**_otb, "res/cv-kcf/Seq.txt": NOT_A_DATA_FILE},
      ["--dataset", "otb", "--root", "{d}/OTB", "--results", "{d}/res"], 3, names=["{d}/res/cv-kcf/Seq.txt"])
EV_TK("gt-garbage", {"OTB/Seq/img": F.frames(), "OTB/Seq/groundtruth_rect.txt": NOT_A_DATA_FILE},
      ["--dataset", "otb", "--root", "{d}/OTB", "--model", "cv-kcf", "--out", "{d}/res"], 3,
      names=["{d}/OTB/Seq/groundtruth_rect.txt"])
EV_TK("ok", _otb, ["--dataset", "otb", "--root", "{d}/OTB", "--model", "cv-kcf", "--out", "{d}/res", "--json"], 0,
      stdout_json=True)

# ============================================================================================== parse-table
PT = _case(["parse-table"])
_pt = ["--ocr", "none", "--model", "line-grid"]
for name, writer in {
    "empty.png": F.empty, "empty.jpg": F.empty, "text.png": NOT_A_DATA_FILE, "cut.png": F.truncated(GOOD_PNG, 0.3),
    "huge.png": F.png_huge_header, "pdf-as.png": GOOD_PDF, "zeros.tif": F.raw(b"\x00" * 512),
    "empty.pdf": F.empty, "text.pdf": NOT_A_DATA_FILE, "png-as.pdf": F.table_png(ext=".png"),
    "cut.pdf": F.truncated(GOOD_PDF, 0.4),
    "encrypted.pdf": F.pdf(encrypt=True), "table.txt": F.text("a,b\n1,2\n"), "header-only.pdf": F.raw(b"%PDF-1.4\n"),
}.items():
    PT(f"bad-{name}", {name: writer}, [f"{{d}}/{name}", *_pt, "-o", "{d}/out.html", "--overlay", "{d}/ov.png"], 3)
PT("missing", {}, ["{d}/nope.pdf", "-o", "{d}/t.xml"], 3, names=["{d}/nope.pdf"])
PT("empty-folder", {"in": F.empty_folder}, ["{d}/in", "-o", "{d}/out"], 3, names=["{d}/in"])
_p = {"t.pdf": GOOD_PDF}
for id_, writer in [("missing", None), ("empty", F.empty), ("not-xml", NOT_A_DATA_FILE),
                    ("page-past-end", F.reg_xml(page=5)), ("words", F.text('<document><table><region page="x">'
                                                                          '<bounding-box x1="a" y1="b" x2="c" y2="d"/>'
                                                                          "</region></table></document>")),
                    ]:
    inputs = dict(_p) if writer is None else {**_p, "r-reg.xml": writer}
    PT(f"regions-{id_}", inputs, ["{d}/t.pdf", "--regions", "{d}/r-reg.xml", "-o", "{d}/t.xml"], 3,
       names=["{d}/r-reg.xml"])
PT("regions-none", {**_p, "r-reg.xml": F.text("<document/>")},
   ["{d}/t.pdf", "--regions", "{d}/r-reg.xml", "-o", "{d}/t.xml"], 0, present=["{d}/t.xml"])  # no tables: empty
PT("regions-beside-broken", {**_p, "t-reg.xml": F.text("<document><table")}, ["{d}/t.pdf", "-o", "{d}/t.xml"], 3,
   names=["{d}/t-reg.xml"])
PT("regions-with-image", {"t.png": GOOD_PNG, "r-reg.xml": F.reg_xml()},
   ["{d}/t.png", *_pt, "--regions", "{d}/r-reg.xml", "-o", "{d}/t.xml"], 4)
_i = {"t.png": GOOD_PNG}
for id_, region in [("three", "1,2,3"), ("zero", "0,0,0,0"), ("outside", "100000,100000,10,10"), ("nan", "nan,0,5,5"),
                    ("words", "a,b,c,d"), ("negative", "10,10,-4,20")]:
    PT(f"region-{id_}", _i, ["{d}/t.png", *_pt, "--region", region, "-o", "{d}/t.html"], 4)
PT("pages-past-end", _p, ["{d}/t.pdf", "--pages", "5", "-o", "{d}/t.xml"], 4)
PT("pages-words", _p, ["{d}/t.pdf", "--pages", "one", "-o", "{d}/t.xml"], 4)
PT("pages-reversed", _p, ["{d}/t.pdf", "--pages", "3-1", "-o", "{d}/t.xml"], 4)
PT("format-bogus", _i, ["{d}/t.png", *_pt, "--format", "docx", "-o", "-"], 4)
PT("suffix-unknown", _i, ["{d}/t.png", *_pt, "-o", "{d}/t.docx"], 4, names=["{d}/t.docx"])
PT("ocr-bogus", _i, ["{d}/t.png", "--ocr", "abbyy", "-o", "{d}/t.html"], 4)
PT("dpi-too-low", _p, ["{d}/t.pdf", "--dpi", "5", "-o", "{d}/t.xml"], 2)
PT("model-unknown", _i, ["{d}/t.png", "--ocr", "none", "--model", "tablenet", "-o", "{d}/t.html"], 5)
PT("model-garbage-file", {**_i, "w.safetensors": NOT_A_DATA_FILE},
   ["{d}/t.png", "--ocr", "none", "--model", "{d}/w.safetensors", "-o", "{d}/t.html"], 5, names=["{d}/w.safetensors"])
PT("out-is-folder", {**_i, "t.html": F.empty_folder}, ["{d}/t.png", *_pt, "-o", "{d}/t.html"], 4, names=["{d}/t.html"])
PT("out-unwritable", _i, ["{d}/t.png", *_pt, "-o", "/proc/cvkit-corpus.html"], 4, names=["/proc/cvkit-corpus.html"])
PT("out-under-file", {**_i, "f": F.text("x")}, ["{d}/t.png", *_pt, "-o", "{d}/f/t.html"], 4, names=["{d}/f/t.html"])
PT("overlay-is-folder", {**_i, "ov.png": F.empty_folder},
   ["{d}/t.png", *_pt, "-o", "{d}/t.html", "--overlay", "{d}/ov.png"], 4, names=["{d}/ov.png"])
PT("overlay-unwritable", _i, ["{d}/t.png", *_pt, "-o", "{d}/t.html", "--overlay", "/proc/cvkit-ov.png"], 4,
   names=["/proc/cvkit-ov.png"])
PT("batch-no-out", {"in/a.png": GOOD_PNG}, ["{d}/in", *_pt], 4)
PT("batch-out-stdout", {"in/a.png": GOOD_PNG}, ["{d}/in", *_pt, "-o", "-"], 4)
PT("batch-out-is-file", {"in/a.png": GOOD_PNG, "out": F.text("x")}, ["{d}/in", *_pt, "-o", "{d}/out"], 4,
   names=["{d}/out"])
_mixed_pages = {"in/good.png": GOOD_PNG, "in/empty.png": F.empty, "in/sub/text.pdf": NOT_A_DATA_FILE,
                "in/sub/good.pdf": GOOD_PDF}
PT("batch-mixed", _mixed_pages, ["{d}/in", *_pt, "-o", "{d}/out", "--format", "html"], 6,
   names=["empty.png", "text.pdf"], present=["{d}/out/good.html", "{d}/out/sub/good.html"],
   absent=["{d}/out/empty.html", "{d}/out/sub/text.html"])
PT("batch-mixed-json", _mixed_pages, ["{d}/in", *_pt, "-o", "{d}/out", "--json"], 6, names=["empty.png", "text.pdf"],
   present=["{d}/out/good-str.xml"], stdout_json=True)
PT("unicode-ok", {"tâble dir/ページ 1.png": GOOD_PNG},
   ["{d}/tâble dir/ページ 1.png", *_pt, "-o", "{d}/sörtie/t.csv"], 0, present=["{d}/sörtie/t.csv"])
PT("unicode-bad", {"tâble dir/ページ 1.pdf": F.empty}, ["{d}/tâble dir/ページ 1.pdf", "-o", "{d}/t.xml"], 3)
PT("brackets-bad", {"[i]scan[/i].png": F.empty}, ["{d}/[i]scan[/i].png", *_pt, "-o", "{d}/t.html"], 3)
PT("one-pixel-image", {"t.png": F.image(1, 1)}, ["{d}/t.png", *_pt, "-o", "{d}/t.json"], 0, present=["{d}/t.json"])
PT("blank-page", {"t.png": F.image(60, 80)}, ["{d}/t.png", *_pt, "-o", "{d}/t.json"], 0, present=["{d}/t.json"])
PT("pdf-two-pages-ok", {"t.pdf": F.pdf(pages=2)}, ["{d}/t.pdf", "--pages", "2", "-o", "{d}/t.xml"], 0,
   present=["{d}/t.xml"])

EV_PT = _case(["evaluate", "parse-table"])
EV_PT("root-missing", {}, ["--dataset", "icdar2013", "--root", "{d}/icdar"], 3, names=["{d}/icdar"])
EV_PT("root-empty", {"icdar": F.empty_folder}, ["--dataset", "icdar2013", "--root", "{d}/icdar"], 3,
      names=["{d}/icdar"])
EV_PT("str-broken", {"icdar/t.pdf": GOOD_PDF, "icdar/t-reg.xml": F.reg_xml(), "icdar/t-str.xml": F.text("<doc")},
      ["--dataset", "icdar2013", "--root", "{d}/icdar"], 3, names=["{d}/icdar/t-str.xml"])
EV_PT("pdf-broken", {"icdar/t.pdf": F.empty, "icdar/t-reg.xml": F.reg_xml(), "icdar/t-str.xml": F.str_xml()},
      ["--dataset", "icdar2013", "--root", "{d}/icdar"], 3, names=["{d}/icdar/t.pdf"])
EV_PT("pubtabnet-empty", {"ptn": F.empty_folder}, ["--dataset", "pubtabnet", "--root", "{d}/ptn"], 3,
      names=["{d}/ptn"])
EV_PT("dataset-bogus", {"icdar": F.empty_folder}, ["--dataset", "scitsr", "--root", "{d}/icdar"], 4)
EV_PT("ok", {"icdar/t.pdf": GOOD_PDF, "icdar/t-reg.xml": F.reg_xml(), "icdar/t-str.xml": F.str_xml()},
      ["--dataset", "icdar2013", "--root", "{d}/icdar", "--model", "line-grid", "--json"], 0, stdout_json=True)
TR_PT = _case(["train", "parse-table"])
TR_PT("data-missing", {}, ["--model", "tabstructnet", "--data", "scitsr:{d}/scitsr", "--out", "{d}/run"], 4,
      names=["{d}/scitsr"])
TR_PT("data-bogus", {}, ["--data", "wikitables", "--out", "{d}/run"], 4)

# ============================================================================================== reid-cluster
RC = _case(["reid-cluster"])
_rc = ["--model", "hist", "--rounds", "0"]
_three_bad = {"x.jpg": F.empty, "y.jpg": NOT_A_DATA_FILE, "sub/z.png": F.truncated(F.image(64, 32), 0.2)}
RC("empty-folder", {"crops": F.empty_folder}, ["{d}/crops", *_rc, "-o", "{d}/out"], 3, names=["{d}/crops"])
RC("one-crop", {"crops/0001_c1_f00001.jpg": F.image(64, 32)}, ["{d}/crops", *_rc, "-o", "{d}/out"], 3,
   names=["{d}/crops"])
RC("three-bad-crops", {"crops": F.crops(bad=_three_bad)}, ["{d}/crops", *_rc, "-o", "{d}/out"], 6,
   names=["{d}/crops/x.jpg", "{d}/crops/y.jpg", "{d}/crops/sub/z.png"],
   present=["{d}/out/clusters.csv", "{d}/out/ranking.jsonl", "{d}/out/index.html"])
RC("three-bad-crops-json", {"crops": F.crops(bad=_three_bad)}, ["{d}/crops", *_rc, "-o", "{d}/out", "--json"], 6,
   names=["{d}/crops/x.jpg", "{d}/crops/y.jpg", "{d}/crops/sub/z.png"], stdout_json=True)
RC("all-bad-crops", {"crops": F.folder(a_dot_jpg=F.empty, b_dot_jpg=NOT_A_DATA_FILE, c_dot_png=F.empty)},
   ["{d}/crops", *_rc, "-o", "{d}/out"], 3, names=["{d}/crops/a.jpg", "{d}/crops/b.jpg", "{d}/crops/c.png"],
   absent=["{d}/out/clusters.csv"])
RC("one-pixel-crop", {"crops": F.crops(bad={"tiny.png": F.image(1, 1)})}, ["{d}/crops", *_rc, "-o", "{d}/out"], 6,
   names=["{d}/crops/tiny.png"], present=["{d}/out/clusters.csv"])
RC("huge-header-crop", {"crops": F.crops(bad={"huge.png": F.png_huge_header})}, ["{d}/crops", *_rc, "-o", "{d}/out"],
   6, names=["{d}/crops/huge.png"], present=["{d}/out/clusters.csv"])
RC("pdf-as-crop", {"crops": F.crops(bad={"p.jpg": GOOD_PDF})}, ["{d}/crops", *_rc, "-o", "{d}/out"], 6,
   names=["{d}/crops/p.jpg"])
RC("not-a-folder", {"c.jpg": F.image()}, ["{d}/c.jpg", *_rc, "-o", "{d}/out"], 3, names=["{d}/c.jpg"])
RC("missing", {}, ["{d}/nope", *_rc, "-o", "{d}/out"], 3, names=["{d}/nope"])
_vid = {"v.avi": F.video(n=6, h=64, w=64)}
RC("video-no-boxes", _vid, ["{d}/v.avi", *_rc, "-o", "{d}/out"], 4, names=["{d}/v.avi"])
RC("boxes-for-folder", {"crops": F.crops(), "b.xml": F.cvml_xml()},
   ["{d}/crops", *_rc, "--boxes", "{d}/b.xml", "-o", "{d}/out"], 4)
for id_, name, writer in [
    ("xml-broken", "b.xml", F.text("<dataset><frame")), ("xml-empty", "b.xml", F.empty),
    ("xml-no-frames", "b.xml", F.text("<dataset/>")),
    ("xml-words", "b.xml", F.text('<dataset><frame number="0"><objectlist><object id="1">'
                                  '<box h="tall" w="x" xc="1" yc="1"/></object></objectlist></frame></dataset>')),
    ("mot-garbage", "gt.txt", NOT_A_DATA_FILE), ("mot-empty", "gt.txt", F.empty),
    ("csv-short-rows", "b.csv", F.text("frame,id,x,y,w,h\n1,2\n")),
    ("boxes-outside", "b.xml", F.cvml_xml(box=(5000, 5000, 16, 40))),
    ("boxes-past-end", "gt.txt", F.mot_gt(["900,1,10,10,16,40,1,1,1"])),
    ("boxes-zero-size", "b.xml", F.cvml_xml(box=(30, 24, 0, 0))),
    ("boxes-nan", "gt.txt", F.mot_gt(["1,1,nan,nan,nan,nan,1,1,1"] * 3)),
    ("boxes-unknown-suffix", "b.json", F.text("{}")),
]:
    RC(f"boxes-{id_}", {**_vid, name: writer}, ["{d}/v.avi", *_rc, "--boxes", f"{{d}}/{name}", "-o", "{d}/out"], 3,
       names=[f"{{d}}/{name}"])
RC("video-empty", {"v.mp4": F.empty, "b.xml": F.cvml_xml()},
   ["{d}/v.mp4", *_rc, "--boxes", "{d}/b.xml", "-o", "{d}/out"], 3, names=["{d}/v.mp4"])
RC("video-text", {"v.avi": NOT_A_DATA_FILE, "b.xml": F.cvml_xml()},
   ["{d}/v.avi", *_rc, "--boxes", "{d}/b.xml", "-o", "{d}/out"], 3, names=["{d}/v.avi"])
RC("video-ok", {**_vid, "b.xml": F.cvml_xml(frames_=6)},
   ["{d}/v.avi", *_rc, "--boxes", "{d}/b.xml", "--every", "1", "-o", "{d}/out"], 0,
   present=["{d}/out/clusters.csv", "{d}/out/crops/0001_c1_f00000.jpg"])
RC("cut-only-bad-boxes", {**_vid, "b.xml": F.text("<dataset><frame")},
   ["crops", "{d}/v.avi", "--boxes", "{d}/b.xml", "-o", "{d}/out"], 3, names=["{d}/b.xml"])
RC("cut-only-no-boxes", _vid, ["crops", "{d}/v.avi", "-o", "{d}/out"], 4)
RC("out-is-file", {"crops": F.crops(), "out": F.text("x")}, ["{d}/crops", *_rc, "-o", "{d}/out"], 4, names=["{d}/out"])
RC("out-is-input", {"crops": F.crops()}, ["{d}/crops", *_rc, "-o", "{d}/crops"], 4, names=["{d}/crops"])
RC("out-unwritable", {"crops": F.crops()}, ["{d}/crops", *_rc, "-o", "/proc/cvkit-corpus"], 4,
   names=["/proc/cvkit-corpus"])
RC("out-csv-is-folder", {"crops": F.crops(), "out/clusters.csv": F.empty_folder}, ["{d}/crops", *_rc, "-o", "{d}/out"],
   4, names=["{d}/out/clusters.csv"], absent=["{d}/out/ranking.jsonl"])
RC("clusters-zero", {"crops": F.crops()}, ["{d}/crops", *_rc, "--clusters", "0", "-o", "{d}/out"], 4)
RC("clusters-words", {"crops": F.crops()}, ["{d}/crops", *_rc, "--clusters", "many", "-o", "{d}/out"], 4)
RC("clusters-more-than-crops", {"crops": F.crops()}, ["{d}/crops", *_rc, "--clusters", "500", "-o", "{d}/out"], 0,
   present=["{d}/out/clusters.csv"])  # M is capped at the number of crops
RC("model-unknown", {"crops": F.crops()}, ["{d}/crops", "--model", "osnet", "--rounds", "0", "-o", "{d}/out"], 5)
RC("model-garbage-file", {"crops": F.crops(), "w.safetensors": NOT_A_DATA_FILE},
   ["{d}/crops", "--model", "{d}/w.safetensors", "--rounds", "0", "-o", "{d}/out"], 5, names=["{d}/w.safetensors"])
RC("two-inputs", {"crops": F.crops()}, ["{d}/crops", "{d}/crops", *_rc, "-o", "{d}/out"], 4)
RC("market-bad-crop", {"m": F.market_root(bad={"query/0003_c1s1_000001_00.jpg": F.empty})},
   ["{d}/m", *_rc, "-o", "{d}/out"], 6, names=["{d}/m/query/0003_c1s1_000001_00.jpg"],
   present=["{d}/out/clusters.csv"])
RC("unicode-ok", {"crôps ü/日本": F.crops()}, ["{d}/crôps ü/日本", *_rc, "-o", "{d}/sortie x"], 0,
   present=["{d}/sortie x/clusters.csv"])
RC("unicode-bad-crop", {"crôps ü": F.crops(bad={"ß [b].jpg": F.empty})}, ["{d}/crôps ü", *_rc, "-o", "{d}/out"], 6,
   names=["{d}/crôps ü/ß [b].jpg"])

EV_RC = _case(["evaluate", "reid-cluster"])
EV_RC("root-empty", {"c": F.empty_folder}, ["--dataset", "folder", "--root", "{d}/c", "--model", "hist"], 3,
      names=["{d}/c"])
EV_RC("market-missing-split", {"m/query": F.crops()}, ["--dataset", "market1501", "--root", "{d}/m", "--model", "hist"],
      3, names=["{d}/m/bounding_box_test"])
EV_RC("dataset-bogus", {"c": F.crops()}, ["--dataset", "cuhk03", "--root", "{d}/c", "--model", "hist"], 4)
EV_RC("unlabelled", {"c": F.folder(a_dot_jpg=F.image(64, 32), b_dot_jpg=F.image(64, 32, seed=3))},
      ["--dataset", "folder", "--root", "{d}/c", "--model", "hist"], 3, names=["{d}/c"])
EV_RC("bad-crops", {"c": F.crops(bad={"0001_c1_f00099.jpg": F.empty, "0002_c2_f00099.jpg": NOT_A_DATA_FILE})},
      ["--dataset", "folder", "--root", "{d}/c", "--model", "hist"], 3,
      names=["{d}/c/0001_c1_f00099.jpg", "{d}/c/0002_c2_f00099.jpg"])
EV_RC("ok", {"c": F.crops()}, ["--dataset", "folder", "--root", "{d}/c", "--model", "hist", "--json"], 0,
      stdout_json=True)
EV_RC("results-not-clusters", {"r.csv": NOT_A_DATA_FILE}, ["--results", "{d}/r.csv"], 3, names=["{d}/r.csv"])
EV_RC("results-missing", {}, ["--results", "{d}/out"], 3, names=["{d}/out"])
EV_RC("no-dataset-no-results", {}, ["--model", "hist"], 4)
TR_RC = _case(["train", "reid-cluster"])
TR_RC("data-missing", {}, ["--data", "{d}/crops", "--rounds", "1", "--epochs", "1", "--out", "{d}/run"], 3,
      names=["{d}/crops"])
TR_RC("data-empty", {"crops": F.empty_folder}, ["--data", "{d}/crops", "--rounds", "1", "--epochs", "1",
                                               "--out", "{d}/run"], 3, names=["{d}/crops"])
TR_RC("data-bad-crops", {"crops": F.crops(bad={"x.jpg": F.empty, "y.png": NOT_A_DATA_FILE})},
      ["--data", "{d}/crops", "--rounds", "1", "--epochs", "1", "--out", "{d}/run"], 3,
      names=["{d}/crops/x.jpg", "{d}/crops/y.png"])

# ============================================================================================== retrieve-moment
RM = _case(["retrieve-moment"])
_rm_o = ["-o", "{d}/out.jsonl", "--srt", "{d}/out.srt", "--model", "prior"]
_RM_VIDEO = F.video(n=30)   # 3 s at 10 fps
RM("empty.mp4", {"empty.mp4": F.empty}, ["{d}/empty.mp4", "a person sits", *_rm_o], 3)
RM("text.mp4", {"text.mp4": NOT_A_DATA_FILE}, ["{d}/text.mp4", "a person sits", *_rm_o], 3)
RM("truncated.avi", {"t.avi": F.truncated(F.video(n=30), 0.05)}, ["{d}/t.avi", "a person sits", *_rm_o], 3)
RM("missing-file", {}, ["{d}/nope.mp4", "a person sits", *_rm_o], 3, names=["{d}/nope.mp4"])
RM("shorter-than-window", {"short.avi": F.video(n=4)}, ["{d}/short.avi", "a person sits", *_rm_o], 3)
RM("empty-query", {"a.avi": _RM_VIDEO}, ["{d}/a.avi", "   ", *_rm_o], 4)
RM("empty-queries-file", {"a.avi": _RM_VIDEO, "q.txt": F.text("\n# only a comment\n")},
   ["{d}/a.avi", "--queries", "{d}/q.txt", *_rm_o], 3, names=["{d}/q.txt"])
RM("query-and-queries", {"a.avi": _RM_VIDEO, "q.txt": F.text("x\n")},
   ["{d}/a.avi", "x", "--queries", "{d}/q.txt", *_rm_o], 4)
RM("bad-nms", {"a.avi": _RM_VIDEO}, ["{d}/a.avi", "x", *_rm_o, "--nms", "2"], 4)
RM("unknown-model", {"a.avi": _RM_VIDEO}, ["{d}/a.avi", "x", "-o", "{d}/out.jsonl", "--model", "nope"], 5)
RM("bad-prior-file", {"a.avi": _RM_VIDEO, "p.json": NOT_A_DATA_FILE},
   ["{d}/a.avi", "x", *_rm_o, "--prior", "{d}/p.json"], 3, names=["{d}/p.json"])
RM("bad-subtitle-suffix", {"a.avi": _RM_VIDEO}, ["{d}/a.avi", "x", "--model", "prior", "--srt", "{d}/out.txt"], 4)
RM("output-is-input", {"a.avi": _RM_VIDEO}, ["{d}/a.avi", "x", "--model", "prior", "--clip-out", "{d}/a.avi"], 4,
   names=[])
RM("folder-mixed", {"in/good.avi": _RM_VIDEO, "in/bad.mp4": F.empty},
   ["{d}/in", "x", "--model", "prior", "-o", "{d}/out.jsonl"], 6, names=["{d}/in/bad.mp4"], present=["{d}/out.jsonl"])
RM("folder-without-videos", {"in": F.empty_folder}, ["{d}/in", "x", "--model", "prior"], 3)

# ============================================================================================== app-level
APP = _case([])
APP("unknown-command", {}, ["detect", "x.jpg"], 2)
APP("unknown-train-task", {}, ["train", "detect"], 2)
