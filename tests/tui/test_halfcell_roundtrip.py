"""Half-cell strips carry every pixel: decoding the cells gives back the image exactly."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from chatimg.tui.widgets.image import halfcell_strips
from tests.tui.halfcell_decode import strips_to_image


@pytest.mark.parametrize("size", [(37, 24), (20, 9), (1, 1)])
def test_strips_decode_back_to_the_pixels(size: tuple[int, int]) -> None:
    noise = Image.merge("RGB", [Image.effect_noise(size, 90 + 10 * i) for i in range(3)])
    strips = halfcell_strips(noise)
    assert len(strips) == (size[1] + 1) // 2
    assert all(strip.cell_length == size[0] for strip in strips)
    decoded = strips_to_image(strips)
    # an odd last row repeats its upper pixel below; everything above is exact
    assert ImageChops.difference(decoded.crop((0, 0, *size)), noise).getbbox() is None


def test_flat_areas_share_one_segment_per_run() -> None:
    image = Image.new("RGB", (30, 4), (10, 200, 30))
    image.paste((250, 0, 0), (10, 0, 20, 4))
    strips = halfcell_strips(image)
    assert [len(list(strip)) for strip in strips] == [3, 3]
