"""Reading order from OCR box geometry: lines grouped as a person reads them.

OCR returns boxes in the order its detector found them. People read lines top to bottom and
words left to right within a line, along the text's own direction: a sign tilted by 20 degrees,
a word set a few pixels higher than its neighbour, or words on an arc are still one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class TextBox:
    """One run of text the OCR found: its quadrilateral, its text and the OCR's confidence."""

    points: tuple[Point, Point, Point, Point]
    """Corners clockwise from the top left of the text (in the text's own direction)."""
    text: str
    confidence: float

    @property
    def centre(self) -> Point:
        """The mean of the four corners."""
        return (sum(p[0] for p in self.points) / 4, sum(p[1] for p in self.points) / 4)

    @property
    def width(self) -> float:
        """Length along the text direction (mean of top and bottom edges)."""
        a, b, c, d = self.points
        return (math.dist(a, b) + math.dist(d, c)) / 2

    @property
    def height(self) -> float:
        """Length across the text direction (mean of left and right edges)."""
        a, b, c, d = self.points
        return (math.dist(a, d) + math.dist(b, c)) / 2

    @property
    def angle(self) -> float:
        """Direction of the text in degrees (0 = left to right, positive = clockwise on screen)."""
        a, b, c, d = self.points
        dx = (b[0] - a[0]) + (c[0] - d[0])
        dy = (b[1] - a[1]) + (c[1] - d[1])
        return math.degrees(math.atan2(dy, dx))

    def scaled(self, factor: float) -> TextBox:
        """The same box in an image ``factor`` times as large."""
        scaled = tuple((x * factor, y * factor) for x, y in self.points)
        return TextBox(scaled, self.text, self.confidence)  # type: ignore[arg-type]


def dominant_angle(boxes: list[TextBox]) -> float:
    """The text direction most of the text follows (width-weighted median of box angles)."""
    if not boxes:
        return 0.0
    ranked = sorted((box.angle, box.width * max(1, len(box.text))) for box in boxes)
    half = sum(weight for _, weight in ranked) / 2
    running = 0.0
    for angle, weight in ranked:
        running += weight
        if running >= half:
            return angle
    return ranked[-1][0]


def _rotate(point: Point, degrees: float) -> Point:
    rad = math.radians(-degrees)
    cos, sin = math.cos(rad), math.sin(rad)
    return (point[0] * cos - point[1] * sin, point[0] * sin + point[1] * cos)


@dataclass
class _Placed:
    box: TextBox
    x: float
    y: float
    half: float  # half the box height


def _fits(line: list[_Placed], item: _Placed) -> bool:
    """Whether ``item`` continues ``line``: similar height, in line with its nearest box.

    "In line" is judged in the direction the two boxes share (the mean of their angles): on
    an arc the chord between two neighbouring words follows that mean, so a curved line
    holds together while a line above or below does not join it.
    """
    nearest = min(line, key=lambda p: abs(p.x - item.x))
    ratio = item.half / max(nearest.half, 1e-6)
    if not 0.6 <= ratio <= 1.0 / 0.6:
        return False
    a, b = nearest.box, item.box
    if abs(a.angle - b.angle) > 45:
        return False
    shared = (a.angle + b.angle) / 2
    dx = b.centre[0] - a.centre[0]
    dy = b.centre[1] - a.centre[1]
    across = _rotate((dx, dy), shared)[1]
    return abs(across) <= 0.55 * (nearest.half + item.half)


def reading_lines(boxes: list[TextBox]) -> list[list[TextBox]]:
    """Group boxes into lines and order them as a person reads.

    The boxes are turned into the text's dominant direction; a box joins the line whose nearest
    box (along the line) has a similar height and overlaps it across the line, so a word set a
    little higher, a tilted sign and words following an arc stay on one line. Lines are ordered
    top to bottom and the boxes within a line left to right.

    Args:
        boxes: What the OCR found, in any order.

    Returns:
        Lines, each a non-empty list of boxes.
    """
    angle = dominant_angle(boxes)
    placed = []
    for box in boxes:
        x, y = _rotate(box.centre, angle)
        placed.append(_Placed(box, x, y, box.height / 2))
    placed.sort(key=lambda p: (p.x, p.y))
    lines: list[list[_Placed]] = []
    for item in placed:
        candidates = [line for line in lines if _fits(line, item)]
        if candidates:
            best = min(candidates, key=lambda line: min(abs(p.x - item.x) for p in line))
            best.append(item)
        else:
            lines.append([item])
    lines.sort(key=lambda line: sum(p.y for p in line) / len(line))
    return [[p.box for p in sorted(line, key=lambda p: p.x)] for line in lines]
