"""The Textual terminal app (the only layer that imports Textual)."""
