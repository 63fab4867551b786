"""The typesetter behind the ``layout`` engine and text repair.

``render_poster``/``typeset_poster`` draw a poster for a prompt (pure, deterministic, no ML);
``fonts`` finds installed fonts and picks one per character; ``fit`` sets text into a box in
time linear in its length.
"""

from __future__ import annotations

from chatimg.typeset.poster import TEMPLATES, Poster, render_poster, template_for, typeset_poster

__all__ = ["TEMPLATES", "Poster", "render_poster", "template_for", "typeset_poster"]
