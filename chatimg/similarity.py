"""How alike two images are, and where they differ (Pillow and numpy only).

Similarity is measured two ways, both on grayscale copies of the two images after the larger
one is resized to the smaller one's size:

- **SSIM** (structural similarity, Wang et al. 2004) with an 11-tap Gaussian window
  (sigma 1.5), constants ``K1=0.01``, ``K2=0.03`` over the 0-255 range, averaged over the
  valid (unpadded) window positions; images are first downscaled (area filter) so the long side
  is at most ``SSIM_MAX_SIDE`` (256) pixels, as the reference implementation's automatic
  downsampling does for viewing-distance reasons (and to keep it fast). 1.0 means identical;
  lower means less alike.
- **dHash distance**: a 64-bit difference hash (9x8 grayscale, each pixel brighter than its
  right neighbour or not) and the number of differing bits, 0 (same) to 64.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

SSIM_MAX_SIDE = 256
SIMILARITY_METHODS = {
    "ssim": "SSIM on grayscale, 11x11 Gaussian window (sigma 1.5), K1=0.01, K2=0.03, "
            f"long side <= {SSIM_MAX_SIDE} px; 1.0 = identical",
    "dhash": "64-bit difference hash (9x8 grayscale); Hamming distance 0 (same) to 64",
}


def match_sizes(a: Image, b: Image) -> tuple[Image, Image]:
    """Resize the larger image (by pixel count) to the smaller one's size."""
    if a.size == b.size:
        return a, b
    from PIL import Image as PILImage

    if a.width * a.height <= b.width * b.height:
        return a, b.resize(a.size, PILImage.Resampling.LANCZOS)
    return a.resize(b.size, PILImage.Resampling.LANCZOS), b


def difference_image(a: Image, b: Image) -> Image:
    """Per-pixel absolute RGB difference (black where identical), at the smaller size."""
    from PIL import ImageChops

    left, right = match_sizes(a.convert("RGB"), b.convert("RGB"))
    return ImageChops.difference(left, right)


def _gaussian(size: int = 11, sigma: float = 1.5) -> Any:
    import numpy as np

    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    kernel = np.exp(-(offsets**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def _blur(plane: Any, kernel: Any) -> Any:
    """Separable 'valid' convolution of a 2-D array with a 1-D kernel."""
    taps = len(kernel)
    height, width = plane.shape
    rows = sum(kernel[i] * plane[:, i : width - taps + 1 + i] for i in range(taps))
    return sum(kernel[i] * rows[i : height - taps + 1 + i, :] for i in range(taps))


def ssim(a: Image, b: Image) -> float:
    """Mean SSIM of two images on grayscale (see the module docstring), in [-1, 1]."""
    import numpy as np
    from PIL import Image as PILImage

    left, right = match_sizes(a, b)
    scale = SSIM_MAX_SIDE / max(left.size)
    if scale < 1:
        size = (max(1, round(left.width * scale)), max(1, round(left.height * scale)))
        left = left.resize(size, PILImage.Resampling.BOX)
        right = right.resize(size, PILImage.Resampling.BOX)
    x = np.asarray(left.convert("L"), dtype=np.float64)
    y = np.asarray(right.convert("L"), dtype=np.float64)
    if np.array_equal(x, y):
        return 1.0
    window = min(11, *x.shape)
    kernel = _gaussian(window, 1.5 * window / 11)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_x, mu_y = _blur(x, kernel), _blur(y, kernel)
    var_x = _blur(x * x, kernel) - mu_x**2
    var_y = _blur(y * y, kernel) - mu_y**2
    cov = _blur(x * y, kernel) - mu_x * mu_y
    index = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return round(float(index.mean()), 6)


def dhash(image: Image) -> int:
    """A 64-bit difference hash of ``image``."""
    from PIL import Image as PILImage

    small = image.convert("L").resize((9, 8), PILImage.Resampling.BOX)
    pixels = small.tobytes()
    bits = 0
    for row in range(8):
        for column in range(8):
            left, right = pixels[row * 9 + column], pixels[row * 9 + column + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    return bits


def dhash_distance(a: Image, b: Image) -> int:
    """Bits that differ between the two images' dHashes (0 to 64)."""
    return bin(dhash(a) ^ dhash(b)).count("1")
