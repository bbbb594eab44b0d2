"""OCR engines that ship their models: rapidocr-onnxruntime (PP-OCRv4 ONNX in the wheel) and Tesseract.

Both return text-line/word boxes in pixels as `Word`s; engines are created once and cached.
"""

from __future__ import annotations

import shutil
from functools import lru_cache

import numpy as np

from ..errors import ArgumentError, ModelError
from .words import Word

OCR_ENGINES = ("auto", "rapidocr", "tesseract", "none", "pdf")


@lru_cache(maxsize=1)
def _rapid():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:
        raise ModelError(f"--ocr rapidocr needs the rapidocr-onnxruntime package ({e})") from None
    return RapidOCR()


def ocr_scale(shape: tuple[int, ...], min_side: int = 800, target: int = 960, max_scale: float = 3.0) -> float:
    """Upscaling factor for OCR: crops whose long side is under `min_side` are enlarged towards `target` px
    (at least x2, at most x3); the detector misses single small digits at the native size of a table crop."""
    long_side = max(shape[:2])
    if long_side >= min_side:
        return 1.0
    return float(min(max_scale, max(2.0, target / max(long_side, 1))))


def rapidocr_words(img: np.ndarray, min_side: int = 800) -> list[Word]:
    """Text lines with their text from rapidocr (BGR input; small images are upscaled first, see `ocr_scale`).

    The angle classifier is off: table crops are upright, and it flips short digit strings ("30-39" -> "6E-0E").
    """
    import cv2

    scale = ocr_scale(img.shape, min_side)
    src = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale != 1.0 else img
    result, _ = _rapid()(src, use_cls=False)
    words = []
    for box, text, _score in result or []:
        pts = np.asarray(box, np.float32) / scale
        words.append(Word(float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()),
                          float(pts[:, 1].max()), str(text)))
    return words


def text_lines(img: np.ndarray, engine: str = "auto") -> list[Word]:
    """Text-line boxes without their text: rapidocr's detector alone (auto/rapidocr; a few seconds a page, against
    a minute with recognition), else ink components joined along lines (rules.text_blocks)."""
    if engine in ("auto", "rapidocr"):
        result = _rapid()(img, use_det=True, use_cls=False, use_rec=False)[0]
        words = []
        for box in result or []:
            pts = np.asarray(box, np.float32)
            words.append(Word(float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()),
                              float(pts[:, 1].max()), ""))
        return words
    from .rules import text_blocks

    return [Word(*b, "") for b in text_blocks(img)]


def tesseract_words(img: np.ndarray) -> list[Word]:
    """Words with their text from the Tesseract binary (pytesseract), confidence > 0."""
    if shutil.which("tesseract") is None:
        raise ModelError("--ocr tesseract needs the tesseract binary (apt-get install tesseract-ocr)")
    try:
        import pytesseract
    except ImportError as e:
        raise ModelError(f"--ocr tesseract needs the pytesseract package ({e})") from None
    d = pytesseract.image_to_data(img[:, :, ::-1] if img.ndim == 3 else img, output_type=pytesseract.Output.DICT)
    words = []
    for x, y, w, h, t, conf in zip(d["left"], d["top"], d["width"], d["height"], d["text"], d["conf"], strict=False):
        if str(t).strip() and float(conf) > 0:
            words.append(Word(float(x), float(y), float(x + w), float(y + h), str(t)))
    return words


def ocr_words(img: np.ndarray, engine: str) -> list[Word]:
    """Words/lines of an image with the named engine ('none': text blocks without text)."""
    if engine == "auto":
        engine = "rapidocr"
    if engine == "rapidocr":
        return rapidocr_words(img)
    if engine == "tesseract":
        return tesseract_words(img)
    if engine == "none":
        from .rules import text_blocks

        return [Word(*b, "") for b in text_blocks(img)]
    raise ArgumentError(f"--ocr {engine!r}: use one of {', '.join(OCR_ENGINES)}")
