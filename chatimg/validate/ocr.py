"""The OCR engine (rapidocr-onnxruntime), loaded lazily once per process, kept quiet.

onnxruntime and RapidOCR write to the C-level stderr and to their own loggers. Their loggers are
silenced and onnxruntime's default log level raised; in command-line use file descriptor 2 also
points at the null device while the model loads and runs. Not inside the terminal app: Textual
draws the screen on that descriptor, so hiding it would drop frames.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chatimg.validate.reading import TextBox

#: Longest side the text detector works at.
DETECT_SIDE = 1280

_lock = threading.Lock()
_engine: Any = None
_error: str | None = None


class OcrUnavailable(Exception):
    """OCR cannot run here (the optional ``ocr`` extra is not installed or failed to load)."""


def _fd2_is_terminal() -> bool:
    try:
        return os.isatty(2)
    except OSError:
        return False


def _terminal_app_running() -> bool:
    """Whether a Textual app may be drawing on file descriptor 2 in this process."""
    return "textual.app" in sys.modules and _fd2_is_terminal()


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Point file descriptor 2 at the null device for the duration (C libraries included)."""
    if _terminal_app_running():
        yield
        return
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _silence_loggers() -> None:
    for name in ("RapidOCR", "OrtInferSession", "rapidocr_onnxruntime", "onnxruntime"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.handlers.clear()
        logger.propagate = False


def _load() -> Any:
    global _engine, _error
    if _engine is not None:
        return _engine
    if _error is not None:
        raise OcrUnavailable(_error)
    try:
        with _quiet_stderr():
            import onnxruntime
            from rapidocr_onnxruntime import RapidOCR

            onnxruntime.set_default_logger_severity(3)  # errors only
            _silence_loggers()
            # One thread: validation runs in the background and must not crowd out generation
            # or the UI; on busy or small machines it is also the faster choice.
            # The detector works at the size it is given, at most DETECT_SIDE (the check sizes
            # images itself), instead of enlarging every image to a 736-pixel short side.
            _engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1,
                               det_limit_type="max", det_limit_side_len=DETECT_SIDE)
            _silence_loggers()
    except Exception as exc:
        _error = f"OCR is not available ({type(exc).__name__}: {exc})"
        raise OcrUnavailable(_error + "; install chatimg[ocr]") from None
    return _engine


def available() -> bool:
    """Whether OCR can run (loads the model on first call)."""
    try:
        with _lock:
            _load()
    except OcrUnavailable:
        return False
    return True


def _bgr(image: Any) -> Any:
    import numpy as np

    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def read_boxes(image: Any, sensitive: bool = False) -> list[TextBox]:
    """Every run of text OCR finds in a PIL image, with its box (in the detector's order).

    Args:
        image: A PIL image.
        sensitive: Keep weaker detections, scored over their own outline rather than their
            bounding rectangle (curved text such as words on an arc).

    Raises:
        OcrUnavailable: OCR is not installed or failed to load.
    """
    pixels = _bgr(image)
    with _lock:
        engine = _load()
        post = engine.text_det.postprocess_op
        saved = (post.box_thresh, post.score_mode)
        if sensitive:
            post.box_thresh, post.score_mode = 0.3, "slow"
        try:
            with _quiet_stderr():
                found, _elapsed = engine(pixels)
        finally:
            post.box_thresh, post.score_mode = saved
    boxes: list[TextBox] = []
    for points, text, confidence in found or []:
        corners = tuple((float(x), float(y)) for x, y in points)
        if len(corners) == 4 and str(text).strip():
            boxes.append(TextBox(corners, str(text), float(confidence)))  # type: ignore[arg-type]
    return boxes


def recognise(crops: list[Any]) -> list[tuple[str, float]]:
    """Recognise already-cut text images (BGR arrays) without detection: (text, confidence).

    Raises:
        OcrUnavailable: OCR is not installed or failed to load.
    """
    if not crops:
        return []
    with _lock:
        engine = _load()
        with _quiet_stderr():
            results, _elapsed = engine.text_rec(list(crops))
    return [(str(text), float(score)) for text, score in results]


def read_lines(image: Any) -> list[tuple[str, float]]:
    """The text OCR finds in a PIL image, one entry per box in the detector's order.

    Raises:
        OcrUnavailable: OCR is not installed or failed to load.
    """
    return [(box.text, box.confidence) for box in read_boxes(image)]
