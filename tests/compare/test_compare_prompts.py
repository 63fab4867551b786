"""``compare`` lists the prompt among what is the same or differs; the contact sheet labels it."""

from __future__ import annotations

import json

import pytest

from chatimg.compare import load_comparison, similarity_scores
from chatimg.compare_sheet import cell_labels, header_lines
from tests.compare.conftest import PROMPT, fan_out
from tests.compare.test_compare_cli import run_cli


async def test_same_prompt_is_listed_once_as_shared(cstudio, capsys) -> None:
    outcome = await fan_out(cstudio, ["layout-a", "layout-b"])
    ids = [g.id for g in outcome.generations]
    code, stdout, stderr = run_cli(["compare", *ids], capsys)
    assert code == 0, stderr
    same = next(line for line in stdout.splitlines() if line.startswith("same:"))
    assert same.startswith(f"same:    prompt {PROMPT!r} · ")
    assert "differs: prompt" not in stdout
    comparison = load_comparison(cstudio, ids)
    assert header_lines(comparison, [])[1].startswith(f"same: prompt {PROMPT} · ")
    assert all("prompt" not in text for lines in cell_labels(comparison) for text, _ in lines)


async def test_different_prompts_are_listed_per_generation(cstudio, capsys) -> None:
    first = await fan_out(cstudio, ["layout-a"])
    second = await fan_out(cstudio, ["layout-a"], prompt='a "BYE"   sign in blue',
                           conversation_id=first.message.conversation_id)
    ids = [first.generations[0].id, second.generations[0].id]
    code, stdout, stderr = run_cli(["compare", *ids], capsys)
    assert code == 0, stderr
    assert f"differs: prompt #1: {PROMPT}" in stdout.splitlines()
    assert 'differs: prompt #2: a "BYE" sign in blue' in stdout.splitlines()
    assert "same:    prompt" not in stdout

    code, stdout, _ = run_cli(["compare", *ids, "--json"], capsys)
    data = json.loads(stdout)
    assert data["differs"]["prompt"] == {ids[0]: PROMPT, ids[1]: 'a "BYE" sign in blue'}
    assert "prompt" not in data["shared"]

    comparison = load_comparison(cstudio, ids)
    labels = cell_labels(comparison)
    assert labels[0][1] == (f"prompt: {PROMPT}", True)
    assert labels[1][1] == ('prompt: a "BYE" sign in blue', True)
    assert "prompt" not in " ".join(header_lines(comparison, similarity_scores(comparison)))


@pytest.mark.parametrize("include", [False, True])
async def test_prompt_row_only_when_asked(cstudio, include: bool) -> None:
    outcome = await fan_out(cstudio, ["layout-a", "layout-c"])
    comparison = load_comparison(cstudio, [g.id for g in outcome.generations])
    keys = [row.key for row in comparison.shared_rows(include_prompt=include)]
    assert ("prompt" in keys) is include
