"""Model version states and the leaderboard behind ``chatimg models [--stats]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from chatimg.commands.common import open_studio, print_json
from chatimg.errors import ChatImgError

if TYPE_CHECKING:
    from chatimg.engines.catalog import Listing
    from chatimg.store.bench import VersionState


def version_states(listings: Sequence[Listing]) -> dict[str, VersionState]:
    """Each listed model's version state; empty when the database cannot be opened."""
    versions = {item.name: item.info.version for item in listings if item.info}
    try:
        with open_studio() as studio:
            return studio.repo.bench.version_states(versions)
    except ChatImgError:
        return {}


def print_stats(as_json: bool) -> None:
    """Print the leaderboard, best typography first."""
    with open_studio() as studio:
        rows = studio.repo.bench.model_stats()
    rows.sort(key=lambda r: (r.typography_cer is None, r.typography_cer or 0.0, r.model))
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no generations yet: try `chatimg bench default -m layout`")
        return
    click.echo(f"{'model':<22} {'images':>6} {'failed':>7} {'median':>9} {'CER':>6} "
               f"{'$/asset':>9} {'wins':>7}")
    for r in rows:
        failed = f"{r.failure_rate * 100:.1f}%" if r.failure_rate is not None else "-"
        median = f"{r.median_latency_ms:.0f} ms" if r.median_latency_ms is not None else "-"
        cer = f"{r.typography_cer:.3f}" if r.typography_cer is not None else "-"
        cost = f"${r.cost_per_asset:.4f}" if r.cost_per_asset is not None else "-"
        wins = f"{r.compare_wins}/{r.compare_appearances}"
        click.echo(f"{r.model[:22]:<22} {r.images:>6} {failed:>7} {median:>9} {cer:>6} "
                   f"{cost:>9} {wins:>7}")
