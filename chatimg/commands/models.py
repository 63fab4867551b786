"""``chatimg models``: every model with its capabilities, cost and availability; and the
subcommands that manage local weights (``pull``, ``ls --local``, ``rm``, ``update``)."""

from __future__ import annotations

import click

from chatimg.commands.common import json_option, print_json
from chatimg.commands.model_weights import ls, pull, rm, update


@click.group(invoke_without_command=True)
@click.option("--stats", is_flag=True,
              help="Leaderboard from history and bench runs: images, failure rate, median "
                   "latency, typography error rate, cost per asset, compare wins.")
@json_option
@click.pass_context
def models(ctx: click.Context, stats: bool, as_json: bool) -> None:
    """List every model: engine, capabilities, cost per image, and whether it can run here.

    A model whose version (hub revision, file hash, provider model string) changed since it was
    last seen or validated shows as "unvalidated" until a `chatimg bench` run passes it.
    Local models: `chatimg models pull NAME` downloads one, `ls --local` lists what is here,
    `rm NAME` frees its space, `update NAME` fetches its newest revision.
    """
    if ctx.invoked_subcommand is not None:
        return
    if stats:
        from chatimg.commands.leaderboard import print_stats

        print_stats(as_json)
        return
    print_listing(as_json)


def print_listing(as_json: bool) -> None:
    """Every catalog model with its state (what ``chatimg models`` prints)."""
    from chatimg.config import load_settings
    from chatimg.engines.base import EngineContext
    from chatimg.engines.catalog import Catalog

    catalog = Catalog.from_settings(EngineContext(load_settings()))
    listings = catalog.listings()
    from chatimg.commands.leaderboard import version_states

    states = version_states(listings)
    if as_json:
        print_json(
            [
                {
                    "name": item.name,
                    "engine": item.engine,
                    "model_id": item.info.model_id if item.info else None,
                    "version": item.info.version if item.info else None,
                    "available": item.available,
                    "reason": item.reason,
                    "cost_per_image": item.info.cost_per_image if item.info else None,
                    "capabilities": item.info.capabilities.as_dict() if item.info else None,
                    "defaults": item.info.defaults if item.info else None,
                    "note": item.info.note if item.info else None,
                    "builtin": item.builtin,
                    "licence": item.licence,
                    "download_gb": item.download_gb,
                    "version_state": states[item.name].state if item.name in states else None,
                    "validated": states[item.name].state == "validated"
                    if item.name in states else None,
                }
                for item in listings
            ]
        )
        return
    for item in listings:
        state = "ready" if item.available else f"unavailable: {item.reason}"
        if item.download_gb:
            state += f" [about {item.download_gb:.1f} GB]"
        if item.name in states and states[item.name].state != "not benched":
            state += f" ({states[item.name].state})"
        cost = "-"
        caps = ""
        if item.info:
            if item.info.cost_per_image is not None:
                cost = f"${item.info.cost_per_image:.3f}"
            c = item.info.capabilities
            caps = ",".join(
                name for name in ("txt2img", "img2img", "inpaint", "upscale", "describe")
                if getattr(c, name)
            )
        click.echo(f"{item.name:<22} {item.engine:<10} {cost:>7}  {caps:<32} {state}")
        if item.info and item.info.note:
            click.echo(f"{'':<22} note: {item.info.note}")


for _command in (pull, ls, rm, update):
    models.add_command(_command)
