"""Tests of the asset store backends and the storage/db commands."""
