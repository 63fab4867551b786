"""Per-engine options are typed: each engine declares them, ``[models.NAME]`` is validated
against them, and a wrong or unknown one is a one-line error naming the file, line and key."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_bad_input import assert_one_line_error, run


def test_an_unknown_option_names_the_file_line_and_key(home: Path) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[models.sharp]\nengine = "diffusers"\nsource = "/models/x"\n'
                      "sheduler_steps = 4\n", encoding="utf-8")
    line = assert_one_line_error(run(home, "gen", "a cat", "-m", "sharp"))
    assert f"{config}, line 4" in line
    assert "[models.sharp] unknown option 'sheduler_steps' for a diffusers model" in line


def test_a_wrong_option_value_is_refused(home: Path) -> None:
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[models.ideo]\nengine = "ideogram"\nmodel = "V_2"\n'
                      'resemblance = "very"\n', encoding="utf-8")
    line = assert_one_line_error(run(home, "gen", "a cat", "-m", "ideo"))
    assert "[models.ideo] resemblance:" in line and "line 4" in line


def test_declared_options_reach_the_engine_typed(home: Path) -> None:
    from chatimg.config import load_settings
    from chatimg.engines.base import EngineContext
    from chatimg.engines.catalog import Catalog
    from chatimg.engines.ideogram import IdeogramEngine

    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[models.ideo]\nengine = "ideogram"\nmodel = "V_3"\n'
                      'speed = "TURBO"\ndetail = 40\n', encoding="utf-8")
    engine = Catalog.from_settings(EngineContext(load_settings(config))).engine("ideo")
    assert isinstance(engine.options, IdeogramEngine.Options)
    assert (engine.options.speed, engine.options.detail) == ("TURBO", 40)
