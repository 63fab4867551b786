"""Prompt history for the composer: earlier prompts, newest first, walked with Up/Down.

Pure data (no Textual), owned by the main screen. It starts with the prompts stored in the
database (every conversation's, so nothing is kept twice) and takes each prompt sent since.
Walking it keeps what was typed before the first Up (the draft), so Down past the newest
entry brings the draft back, as a shell does.
"""

from __future__ import annotations

from collections.abc import Iterable

LIMIT = 1000
"""How many distinct prompts the history keeps."""


class PromptHistory:
    """Distinct prompts, newest first, with a position for Up/Down.

    Args:
        prompts: Earlier prompts, newest first (duplicates are dropped).
    """

    def __init__(self, prompts: Iterable[str] = ()) -> None:
        self.entries: list[str] = []
        self.position = -1
        """Which entry is shown (-1: the draft, nothing recalled)."""
        self.draft = ""
        self.add_older(prompts)

    def add_older(self, prompts: Iterable[str]) -> None:
        """Append prompts older than every entry (the ones loaded from the store)."""
        seen = set(self.entries)
        for prompt in prompts:
            if prompt.strip() and prompt not in seen and len(self.entries) < LIMIT:
                seen.add(prompt)
                self.entries.append(prompt)

    def add(self, prompt: str) -> None:
        """A prompt was just sent: it becomes the newest entry, and walking starts over."""
        self.reset()
        if not prompt.strip():
            return
        if prompt in self.entries:
            self.entries.remove(prompt)
        self.entries.insert(0, prompt)
        del self.entries[LIMIT:]

    def reset(self) -> None:
        """Forget the walk (the person typed something of their own)."""
        self.position, self.draft = -1, ""

    def older(self, current: str) -> str | None:
        """The entry before the one shown (``current`` is kept as the draft on the first step);
        ``None`` when there is none."""
        start = self.position
        if start == -1:
            self.draft = current
        position = start + 1
        while position < len(self.entries) and self.entries[position] == current:
            position += 1  # stepping onto the text already shown would look like nothing
        if position >= len(self.entries):
            return None
        self.position = position
        return self.entries[position]

    def newer(self) -> str | None:
        """The entry after the one shown, the draft after the newest; ``None`` when not
        walking."""
        if self.position == -1:
            return None
        self.position -= 1
        return self.draft if self.position == -1 else self.entries[self.position]

    def matching(self, query: str, limit: int = 200) -> list[str]:
        """Entries containing every word of ``query`` (any case), newest first."""
        words = query.lower().split()
        found: list[str] = []
        for prompt in self.entries:
            lowered = prompt.lower()
            if all(word in lowered for word in words):
                found.append(prompt)
                if len(found) >= limit:
                    break
        return found
