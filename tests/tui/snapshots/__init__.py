"""Snapshot tests of the terminal app (SVG files under __snapshots__)."""
