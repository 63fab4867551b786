"""Prompt sets for ``chatimg bench``: the shipped golden set, text and JSONL files."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatimg.benchrun import load_prompts
from chatimg.errors import InvalidRequestError
from chatimg.prompts import quoted_text


def test_the_golden_set_has_typography_and_composition_prompts() -> None:
    golden = load_prompts("default")
    assert golden.name == "golden" and len(golden.prompts) >= 20
    with_text = [p for p in golden.prompts if quoted_text(p)]
    assert len(with_text) >= 10 and len(golden.prompts) - len(with_text) >= 5
    assert load_prompts("default").sha256 == golden.sha256


def test_text_and_jsonl_files(tmp_path: Path) -> None:
    text = tmp_path / "p.txt"
    text.write_text("# comment\n\na red door\n  a sign \"HI\"  \n", encoding="utf-8")
    assert load_prompts(str(text)).prompts == ("a red door", 'a sign "HI"')
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"prompt": "one"}\n{"prompt": "two", "tags": ["x"]}\n', encoding="utf-8")
    assert load_prompts(str(jsonl)).prompts == ("one", "two")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "# nothing\n", "no prompts"),
        ("bad.jsonl", '{"text": "x"}\n', 'line 1: expected {"prompt": ...}'),
    ],
)
def test_bad_prompt_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidRequestError, match=message.replace("{", r"\{").replace(".", r"\.")):
        load_prompts(str(path))
