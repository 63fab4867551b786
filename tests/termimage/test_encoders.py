"""Each protocol's escape stream decodes back to the image (PSNR >= 30 dB after the
protocol's own quantisation), and the protocol is chosen as a terminal would want."""

from __future__ import annotations

import zlib

import pytest
from PIL import Image

from chatimg.termimage import Protocol, detect, halfcell, iterm, kitty, sixel
from tests.termimage.decoders import (
    decode_halfcells,
    decode_iterm,
    decode_kitty,
    decode_sixel,
    decode_sixel_layers,
    psnr,
)

MIN_PSNR = 30.0


@pytest.fixture(scope="module")
def poster() -> Image.Image:
    """A layout poster (gradient, shapes, text) at a card's pixel size."""
    from chatimg.engines.layout import render

    image: Image.Image = render('a poster that says "SUMMER SALE" in red and blue', 7, 512, 512)
    return image.convert("RGB").resize((240, 240), Image.Resampling.LANCZOS)


def test_sixel_round_trip(poster: Image.Image) -> None:
    stream = sixel.encode(sixel.quantize(poster))
    assert stream.startswith("\x1bP") and stream.endswith("\x1b\\")
    decoded = decode_sixel(stream)
    assert decoded.size == poster.size
    assert psnr(decoded, poster) >= MIN_PSNR


def test_sixel_slice_sets_only_its_rows(poster: Image.Image) -> None:
    indexed = sixel.quantize(poster)
    image, mask = decode_sixel_layers(sixel.encode(indexed, top=40, bottom=60, left=30,
                                                   right=130))
    assert image.size == (100, 20)
    assert mask.getextrema() == (255, 255)  # every pixel of the slice is set, none beyond
    assert psnr(image, poster.crop((30, 40, 130, 60))) >= MIN_PSNR


def test_sixel_selects_each_colour_it_defines() -> None:
    # xterm does not select a register by defining it: a one-colour image must still be red
    red = Image.new("RGB", (12, 12), (255, 0, 0))
    stream = sixel.encode(sixel.quantize(red))
    assert "#0;2;100;0;0#0" in stream.replace("\x1b", "")
    assert decode_sixel(stream).getpixel((5, 5)) == (255, 0, 0)


@pytest.mark.parametrize("fmt", [24, 32, 100])
def test_kitty_round_trip(poster: Image.Image, fmt: kitty.Format) -> None:
    stream = kitty.transmit(poster, 0x12AB34, 24, 12, fmt=fmt)
    assert stream.count("\x1b_G") > 1  # chunked: m=1 ... m=0
    (sent,) = decode_kitty(stream)
    assert sent.keys["i"] == str(0x12AB34) and sent.keys["U"] == "1"
    assert (sent.keys["c"], sent.keys["r"]) == ("24", "12")
    assert sent.keys.get("o") == ("z" if fmt != 100 else None)
    assert psnr(sent.image, poster) >= MIN_PSNR


def test_kitty_compression_is_real(poster: Image.Image) -> None:
    raw = len(poster.tobytes())
    stream = kitty.transmit(poster, 7, 24, 12)
    assert len(stream) < raw  # base64 of zlib data, smaller than the raw pixels
    assert len(zlib.compress(poster.tobytes(), 1)) < raw


def test_kitty_placeholders_name_row_column_and_id() -> None:
    marks = kitty.diacritics()
    row = kitty.placeholder_row(3, 5, 4)
    assert row == kitty.PLACEHOLDER + marks[3] + marks[5] + kitty.PLACEHOLDER * 3
    assert kitty.id_colour(0x12AB34) == (0x12, 0xAB, 0x34)
    with pytest.raises(ValueError):
        kitty.placeholder_row(len(marks), 0, 1)


def test_kitty_marks_are_kittys_table() -> None:
    renderable = pytest.importorskip("textual_image.renderable.tgp")
    table = renderable._NUMBER_TO_DIACRITIC  # an independent copy of kitty's table
    assert [ord(mark) for mark in kitty.diacritics()] == table[: len(kitty.diacritics())]
    assert len(kitty.diacritics()) == 129


def test_kitty_tmux_passthrough_wraps_each_command(poster: Image.Image) -> None:
    stream = kitty.transmit(poster, 9, 24, 12)
    wrapped = kitty.tmux_wrap(stream)
    assert wrapped.count("\x1bPtmux;") == stream.count("\x1b_G")
    unwrapped = wrapped.replace("\x1bPtmux;", "").replace("\x1b\x1b", "\x1b")
    assert decode_kitty(unwrapped)[0].image.tobytes() == poster.tobytes()


def test_iterm_round_trip(poster: Image.Image) -> None:
    ((args, image),) = decode_iterm(iterm.inline(poster, 24, 12))
    assert (args["inline"], args["width"], args["height"]) == ("1", "24", "12")
    assert args["preserveAspectRatio"] == "0"
    assert psnr(image, poster) >= MIN_PSNR


def test_halfcell_round_trip(poster: Image.Image) -> None:
    small = poster.resize((40, 41))  # an odd height repeats the last row below itself
    rows = halfcell.cell_colours(small)
    assert len(rows) == 21 and len(rows[0]) == 40
    from rich.style import Style

    cells = [[("▀", Style(color=f"rgb{up}", bgcolor=f"rgb{down}")) for up, down in row]
             for row in rows]
    decoded = decode_halfcells(cells)
    assert psnr(decoded.crop((0, 0, 40, 41)), small) >= MIN_PSNR


ENVIRONMENTS = [
    ({"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}, "kitty"),
    ({"TERM": "xterm-ghostty", "TERM_PROGRAM": "ghostty"}, "kitty"),
    ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm", "WEZTERM_PANE": "0"}, "iterm"),
    ({"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, "iterm"),
    ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, "iterm"),
    ({"TERM": "foot"}, "sixel"),
    ({"TERM": "xterm-256color"}, "halfcell"),
    # tmux: the outer terminal's variables leak in and do not count
    ({"TERM": "tmux-256color", "TMUX": "/tmp/t,1,0", "KITTY_WINDOW_ID": "1"}, "halfcell"),
    ({"TERM": "screen", "TERM_PROGRAM": "iTerm.app"}, "halfcell"),
]


@pytest.mark.parametrize(("env", "expected"), ENVIRONMENTS)
def test_auto_detection_from_environment(env: dict[str, str], expected: str) -> None:
    assert detect.choose("auto", env) == expected


def test_auto_asks_the_terminal_only_when_the_environment_is_silent() -> None:
    asked: list[bool] = []

    def probe() -> Protocol | None:
        asked.append(True)
        return "sixel"

    assert detect.choose("auto", {"TERM": "xterm-256color"}, probe) == "sixel"
    assert detect.choose("auto", {"TERM": "xterm-kitty"}, probe) == "kitty"
    assert detect.choose("auto", {"TERM": "linux"}, probe) == "halfcell"
    assert len(asked) == 1
    # tmux answers device attributes itself: Sixel only when it draws Sixel
    assert detect.choose("auto", {"TMUX": "x", "TERM": "tmux"}, probe) == "sixel"
    assert detect.choose("auto", {"TMUX": "x", "TERM": "tmux"}, lambda: "kitty") == "halfcell"


def test_forced_mode_wins_and_bad_modes_are_refused() -> None:
    env = {"CHATIMG_IMAGES": " Kitty ", "TMUX": "x"}
    assert detect.choose(detect.requested(env), env) == "kitty"
    assert detect.requested({}) == "auto"
    from chatimg.errors import ConfigError

    with pytest.raises(ConfigError, match="not an image mode"):
        detect.requested({"CHATIMG_IMAGES": "ascii"})
