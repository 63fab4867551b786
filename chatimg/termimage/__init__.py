"""Images in terminals: one encoder per protocol, and which protocol this terminal speaks.

Nothing here imports Textual: the encoders turn Pillow images into the exact escape streams a
terminal reads (``kitty``, ``sixel``, ``iterm``) or into cell colours (``halfcell``), and
``detect`` picks the protocol from ``CHATIMG_IMAGES``, the environment and, where it is safe,
the terminal's own answers. ``chatimg.tui.widgets.image`` places the results on screen.
"""

from __future__ import annotations

from typing import Literal

Protocol = Literal["kitty", "sixel", "iterm", "halfcell"]
PROTOCOLS: tuple[Protocol, ...] = ("kitty", "sixel", "iterm", "halfcell")
