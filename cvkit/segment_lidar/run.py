"""Batch running: collect input scans (file, folder, SemanticKITTI sequence/root) and write one output per scan.

A folder mirrors its tree under the output folder (`scans/a/b.bin` -> `OUT/a/b.label`); a SemanticKITTI layout
(`sequences/XX/velodyne/NNNNNN.bin`) writes `OUT/sequences/XX/predictions/NNNNNN.label`, where semantic-kitti-api
looks for predictions. Outputs are written atomically (no partial file on failure).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io.batch import Inputs, Item, discover
from ..io.pointcloud import POINT_SUFFIXES, read_points, write_label, write_pcd, write_ply
from .labels import CLASS_NAMES, COLORS, train_to_raw
from .projection import Sensor, pixel_labels, project
from .segment import Segmentation, Segmenter

OUTPUT_SUFFIXES = (".label", ".ply", ".pcd")
MIN_POINTS = 10  # fewer usable points than this is not a scan (the ground fit alone needs a handful)
MAX_RANGE_M = 1.0e4  # points farther than 10 km are corrupt values, treated like missing returns (NaN)


def collect_scans(source: Path | str) -> Inputs:
    """A single scan, or every point-cloud file under a folder (or glob); SemanticKITTI velodyne scans map to
    `sequences/XX/predictions/NNNNNN` so the outputs land where semantic-kitti-api looks for them."""
    inputs = discover(source, POINT_SUFFIXES, what="point-cloud")
    if not inputs.batch:
        return inputs
    items = []
    for item in inputs.items:
        rel = item.rel
        if item.path.parent.name == "velodyne" and item.path.suffix == ".bin":
            rel = Path("sequences") / item.path.parent.parent.name / "predictions" / item.path.name
        items.append(Item(item.path, rel))
    return Inputs(items, True, inputs.root)


def write_outputs(points: np.ndarray, seg: Segmentation, out: Path) -> None:
    """Write `.label` (raw SemanticKITTI ids, uint32), or a coloured `.ply` / `.pcd` with a label field."""
    raw = train_to_raw(seg.labels)
    suffix = out.suffix.lower()
    if suffix == ".label":
        write_label(out, raw)
    elif suffix == ".ply":
        write_ply(out, points, COLORS[seg.labels], raw)
    elif suffix == ".pcd":
        write_pcd(out, points, COLORS[seg.labels], raw)
    else:
        raise ValueError(f"unknown output format {suffix!r}")


def usable_points(points: np.ndarray, path: Path) -> np.ndarray:
    """The scan with corrupt coordinates (beyond MAX_RANGE_M) set to NaN, so every model masks them like
    missing returns; InputError naming the file when fewer than MIN_POINTS finite points remain."""
    xyz = points[:, :3]
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(xyz).all(1) | (np.abs(np.nan_to_num(xyz, nan=0.0)) > MAX_RANGE_M).any(1)
    n_ok = int((~bad).sum())
    if n_ok < MIN_POINTS:
        what = "no finite points" if n_ok == 0 else f"only {n_ok} usable point(s)"
        raise InputError(path, f"{what} among {len(points)} (x, y, z NaN, inf or beyond {MAX_RANGE_M:g} m); "
                               f"a scan needs at least {MIN_POINTS}")
    if bad.any():
        points = points.copy()
        points[bad, :3] = np.nan
    return points


def with_range_image(seg: Segmentation, points: np.ndarray, sensor: Sensor) -> Segmentation:
    """Give a segmentation without a projection (the classical pipeline) one, so its range image can be drawn."""
    if seg.projection is not None and seg.pixel_labels is not None:
        return seg
    proj = project(points, sensor)
    return Segmentation(seg.labels, proj, pixel_labels(seg.labels, proj), seg.seconds, seg.extra)


def segment_one(segmenter: Segmenter, path: Path, outputs: list[Path]) -> tuple[np.ndarray, Segmentation, dict]:
    """Read, label and write one scan; returns the points, the segmentation and a JSON-ready summary.

    Labels come back for every point of the file in its order; unusable points (NaN, inf, absurdly far) get 0."""
    points = usable_points(read_points(path), path)
    seg = segmenter.segment(points)
    for out in outputs:
        write_outputs(points, seg, out)
    hist = np.bincount(seg.labels, minlength=len(CLASS_NAMES))
    summary = {"file": str(path), "points": int(len(points)), "seconds": round(seg.seconds, 4),
               "model": segmenter.name, "outputs": [str(o) for o in outputs],
               "histogram": {CLASS_NAMES[c]: int(n) for c, n in enumerate(hist) if n}}
    return points, seg, summary


def sensor_from_options(sensor: str = "hdl64", fov_up: float | None = None, fov_down: float | None = None,
                        height: int | None = None, width: int | None = None) -> Sensor | None:
    """The projection asked for on the command line, or None for the model's own (ArgumentError on bad values)."""
    import math

    from ..errors import ArgumentError
    from .projection import make_sensor

    if width is not None and width % 8:
        raise ArgumentError(f"--width {width} must be divisible by 8 (SqueezeSegV3 downsamples columns 8x)")
    for flag, v in (("--fov-up", fov_up), ("--fov-down", fov_down)):
        if v is not None and not (math.isfinite(v) and -90.0 <= v <= 90.0):
            raise ArgumentError(f"{flag} {v}: expected degrees between -90 and 90")
    if all(v is None for v in (fov_up, fov_down, height, width)) and sensor == "hdl64":
        return None
    try:
        return make_sensor(sensor, fov_up, fov_down, height, width)
    except ValueError as e:
        raise ArgumentError(str(e)) from None


class SegmentJob:
    """What the batch runner needs per scan: its output path, the work (label, write, the optional range-image
    PNG) and the progress line. Checks the command line's outputs before any work or model loading (ArgumentError,
    exit 4); `segmenter` is set by the caller once they pass."""

    segmenter: Segmenter

    def __init__(self, source: Path, output: Path | None, fmt: str = "label", range_image: Path | None = None
                 ) -> None:
        from ..errors import ArgumentError
        from ..io.atomic import check_output

        if fmt not in ("label", "ply", "pcd"):
            raise ArgumentError(f"--format {fmt!r}: use label, ply or pcd")
        self.inputs = collect_scans(source)
        if self.inputs.batch:
            if output is None:
                raise ArgumentError(f"{source}: is a folder of {len(self.inputs.items)} scans; give -o DIR for "
                                    "the outputs")
            if output.suffix.lower() in OUTPUT_SUFFIXES:
                raise ArgumentError(f"{output}: batch mode needs an output folder, not a file")
            if range_image is not None:
                raise ArgumentError("--range-image works on a single scan")
        else:
            output = output if output is not None else Path(source).with_suffix(".label")
            if output.suffix.lower() not in OUTPUT_SUFFIXES:
                raise ArgumentError(f"{output}: output must end in {', '.join(OUTPUT_SUFFIXES)}")
        if range_image is not None:
            check_output(range_image, [Path(source)])
        self.output, self.fmt, self.range_image = output, fmt, range_image

    def load(self, model: str, device: object, sensor: Sensor | None = None, knn: bool = True) -> SegmentJob:
        """Build the segmenter of `--model` on `device` once the outputs passed (ArgumentError, exit 4, when the
        model and the projection options do not fit together); this job."""
        from ..errors import ArgumentError
        from . import registry

        try:
            self.segmenter = registry.build_segmenter(model, device, sensor, knn)
        except ValueError as e:
            raise ArgumentError(str(e)) from None
        return self

    @property
    def out_dir(self) -> Path | None:
        """The output folder of a batch (None for one scan)."""
        return self.output if self.inputs.batch else None

    def targets(self, item: Item) -> list[Path]:
        """The output file of one scan."""
        from ..io.batch import mirrored

        return [mirrored(item, self.output, "." + self.fmt) if self.inputs.batch else self.output]

    def work(self, item: Item) -> dict:
        """Label one scan, write its outputs; the summary record."""
        points, seg, summary = segment_one(self.segmenter, item.path, self.targets(item))
        if self.range_image is not None:  # the classical pipeline's labels are drawn on the sensor's projection
            import cv2

            from ..errors import ArgumentError
            from ..io.atomic import atomic_path
            from .segment import range_image_png

            picture = range_image_png(with_range_image(seg, points, self.segmenter.sensor))
            with atomic_path(self.range_image) as tmp:
                if not cv2.imwrite(str(tmp), picture):
                    raise ArgumentError(f"{self.range_image}: cannot write PNG")
        return summary

    @staticmethod
    def describe(item: Item, s: dict) -> str:
        """The progress line of a finished scan."""
        return f"{item.path} -> {s['outputs'][0]}: {s['points']} points, {s['seconds']:.2f} s"
