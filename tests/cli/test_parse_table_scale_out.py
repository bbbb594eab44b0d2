"""parse-table batches on Ray (`--executor ray`): byte-identical to a local run, failures collected, resumable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import cli
from tests.robustness import files as F


def _pages(folder: Path) -> None:
    """Five small PDFs (text layer, ruled 2x2 table per page; one in a subfolder) and one broken PDF."""
    for i in range(4):
        F.pdf(pages=1 + i % 2)(folder / f"doc{i}.pdf")
    F.pdf()(folder / "sub" / "doc4.pdf")
    F.raw(b"%PDF-1.4\n garbage")(folder / "broken.pdf")


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_parse_table_on_ray_equals_local_collects_failures_and_resumes(tmp_path: Path, ray_cluster, capsys) -> None:
    src = tmp_path / "pdfs"
    _pages(src)
    local, remote = tmp_path / "local", tmp_path / "ray"
    args = ("--no-detect", "--threads", "1", "--quiet")  # the shipped graph-lite model on each page's text layer
    code_local, _ = cli("parse-table", src, "-o", local / "xml", "--overlay", local / "png", *args)
    capsys.readouterr()
    code_ray, _ = cli("parse-table", src, "-o", remote / "xml", "--overlay", remote / "png", *args,
                      "--executor", "ray", "--workers", "2")
    err = capsys.readouterr().err
    assert code_local == code_ray == 6
    assert "broken.pdf" in err and "doc0.pdf" not in err  # the failed item is listed, the others are not
    done = _outputs(local)
    assert sorted(done) == ["png/doc0.png", "png/doc1.png", "png/doc2.png", "png/doc3.png", "png/sub/doc4.png",
                            "xml/doc0-str.xml", "xml/doc1-str.xml", "xml/doc2-str.xml", "xml/doc3-str.xml",
                            "xml/sub/doc4-str.xml"]
    assert _outputs(remote) == done  # same files, byte for byte (no temp files left either)
    assert all(v.count(b"<cell ") >= 4 for k, v in done.items() if k.endswith(".xml"))  # the 2x2 tables
    (src / "broken.pdf").unlink()
    before = {p: p.stat().st_mtime_ns for p in remote.rglob("*") if p.is_file()}
    code, out = cli("parse-table", src, "-o", remote / "xml", "--overlay", remote / "png", *args,
                    "--executor", "ray", "--skip-existing", "--json")
    assert code == 0 and out == ""  # nothing left to do
    assert before == {p: p.stat().st_mtime_ns for p in remote.rglob("*") if p.is_file()}
