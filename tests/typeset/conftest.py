"""Helpers for typesetter tests: ink measurements on rendered images."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from chatimg.typeset.fonts import installed_fonts

NEEDED = ("dejavusans", "dejavusans-bold", "symbola_hint", "dancingscript-regular",
          "comicneue-regular")


@pytest.fixture(autouse=True)
def _fonts_installed() -> None:
    missing = [stem for stem in NEEDED if stem not in installed_fonts()]
    assert not missing, f"fonts missing: {missing}; run .ci/install-fonts.sh (as root)"


def near(image: Any, colour: tuple[int, int, int], tolerance: float = 40.0) -> Any:
    """Boolean mask of pixels within ``tolerance`` (Euclidean RGB) of ``colour``."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    distance = np.sqrt(((pixels - np.array(colour)) ** 2).sum(axis=2))
    return distance <= tolerance


def row_runs(mask: Any) -> list[tuple[int, int]]:
    """(first row, last row) of each run of consecutive rows that hold any True pixel."""
    rows = np.flatnonzero(mask.any(axis=1))
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], int(row))
        else:
            runs.append((int(row), int(row)))
    return runs
