"""Tests of the typesetter (chatimg.typeset) and text repair."""
