"""Tests for comparing generations: domain logic, ``chatimg compare`` and the compare screen."""
