"""Dataset readers: malformed annotations name file and line (exit 3); VOC / COCO boxes; empty target folder."""

import json

import cv2
import numpy as np
import pytest

from cvkit.detect_adapt.data import load_coco, load_folder, load_voc, read_voc_xml
from cvkit.detect_adapt.predict import coco_json, voc_xml
from cvkit.detect_adapt.train import target_stream
from cvkit.errors import InputError

NAMES = ("car", "person")
XML = """<annotation>
  <filename>a.jpg</filename>
  <object><name>car</name><difficult>0</difficult>
    <bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>50</ymax></bndbox></object>
  <object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
  <object><name>person</name><difficult>1</difficult>
    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>9</ymax></bndbox></object>
</annotation>
"""


def _voc(tmp_path, xml=XML):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "JPEGImages").mkdir()
    (tmp_path / "Annotations" / "a.xml").write_text(xml)
    cv2.imwrite(str(tmp_path / "JPEGImages" / "a.jpg"), np.zeros((60, 60, 3), np.uint8))
    return tmp_path


def test_voc_reader_boxes_classes_difficult(tmp_path):
    items = load_voc(_voc(tmp_path), NAMES)
    assert len(items) == 1
    a = items[0]
    assert a.boxes.tolist() == [[10, 20, 40, 50], [0, 1, 3, 9]]  # 1-based inclusive -> 0-based
    assert a.labels.tolist() == [0, 1] and a.difficult.tolist() == [False, True]  # dog skipped


def test_malformed_xml_names_file_and_line(tmp_path):
    bad = XML.replace("</bndbox></object>\n  <object><name>dog", "</bndbox>\n  <object><name>dog", 1)
    _voc(tmp_path, bad)
    with pytest.raises(InputError) as e:
        load_voc(tmp_path, NAMES)
    assert "a.xml:" in str(e.value) and e.value.exit_code == 3
    line = int(str(e.value).split("a.xml:")[1].split(":")[0])
    assert 4 <= line <= 8


def test_non_numeric_box_names_file_and_line(tmp_path):
    p = tmp_path / "b.xml"
    p.write_text(XML.replace("<xmax>40</xmax>", "<xmax>forty</xmax>"))
    with pytest.raises(InputError, match=r"b\.xml:4"):
        read_voc_xml(p, NAMES)


def test_coco_reader_and_malformed_json_line(tmp_path):
    cv2.imwrite(str(tmp_path / "x.png"), np.zeros((20, 30, 3), np.uint8))
    data = {"images": [{"id": 7, "file_name": "x.png", "height": 20, "width": 30}],
            "categories": [{"id": 3, "name": "person"}],
            "annotations": [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 10, 5], "iscrowd": 0}]}
    f = tmp_path / "inst.json"
    f.write_text(json.dumps(data, indent=1))
    a = load_coco(f, NAMES)[0]
    assert a.boxes.tolist() == [[1, 2, 11, 7]] and a.labels.tolist() == [1]
    f.write_text(json.dumps(data, indent=1).replace('"bbox"', 'bbox', 1))
    with pytest.raises(InputError, match=r"inst\.json:\d+"):
        load_coco(f, NAMES)


def test_target_folder_without_images_is_input_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError) as e:
        target_stream(str(tmp_path))
    assert e.value.exit_code == 3
    with pytest.raises(InputError):
        load_folder(tmp_path, NAMES)


def test_written_coco_and_voc_reparse(tmp_path):
    dets = [{"box": [1.0, 2.0, 11.0, 22.0], "label": "person", "score": 0.9}]
    doc = json.loads(coco_json(dets, NAMES, "x.png", (30, 40)))
    assert doc["annotations"][0]["bbox"] == [1.0, 2.0, 10.0, 20.0]
    p = tmp_path / "x.xml"
    p.write_text(voc_xml(dets, "x.png", (30, 40)))
    boxes, labels, _ = read_voc_xml(p, NAMES)
    assert boxes.tolist() == [[1, 2, 11, 22]] and labels.tolist() == [1]
