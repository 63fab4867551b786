"""``chatimg ls``, ``show``, ``search``, ``rename``, ``rm``: conversations from the command line."""

from __future__ import annotations

import click

from chatimg.commands.common import json_option, open_studio, print_json, when
from chatimg.safetext import shown


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option("--filter", "query", default=None, help="Only titles or prompts matching TEXT.")
@json_option
def ls(limit: int | None, query: str | None, as_json: bool) -> None:
    """List conversations, newest activity first."""
    from chatimg.store.listing import quick_list

    # The default SQLite store at the newest schema is read without SQLAlchemy (fast start);
    # SQLite has no database roles, so nobody is "me" there (as ``Studio.user`` says).
    conversations = quick_list(limit) if not query else None
    me: str | None = None
    if conversations is None:
        with open_studio() as studio:
            conversations = studio.list_conversations(limit=limit, query=query)
            me = studio.user
    if as_json:
        print_json(conversations)
        return
    if not conversations:
        click.echo("no conversations yet: try `chatimg gen \"a poster that says \\\"HELLO\\\"\"`")
        return
    for c in conversations:
        title = shown(c.title) or "(untitled)"
        shared = f"  ({shown(c.owner)}, {c.visibility})" if c.owner is not None and (
            c.owner != me or c.visibility == "team") else ""
        click.echo(f"{c.id}  {when(c.updated_at)}  {c.message_count:>4} msg  {title}{shared}")


@click.command()
@click.argument("conversation_id")
@click.option("-r", "--receipts", is_flag=True,
              help="Also print each generation's readable receipt (seed, steps, lineage...).")
@json_option
def show(conversation_id: str, receipts: bool, as_json: bool) -> None:
    """Show a conversation: messages, generations, images, checks and compare winners.

    CONVERSATION_ID may be any unique prefix of the id. Each image file is hashed: one that is
    missing or damaged is marked (``chatimg doctor`` repairs it).
    """
    from chatimg.doctor import with_file_states
    from chatimg.receipt_view import checks_by_image, receipt_rows, rows_as_text

    with open_studio() as studio:
        thread = with_file_states(
            studio.load_thread(studio.resolve_id("conversation", conversation_id)), deep=True)
        me = studio.user
    if as_json:
        print_json(thread)
        return
    wins: dict[str, int] = {}
    for pick in thread.picks:
        wins[pick.winner_id] = wins.get(pick.winner_id, 0) + 1
    conv = thread.conversation
    click.echo(f"{shown(conv.title) or '(untitled)'}  [{conv.id}]  {len(thread.messages)} messages")
    for message in thread.messages:
        branch = f" (branch of {message.parent_id})" if message.parent_id else ""
        if message.author is not None and message.author != me:
            branch = f" by {shown(message.author)}{branch}"
        text = shown(message.text, keep_newlines=True)
        click.echo(f"\n{when(message.created_at)}  {message.role}{branch}: {text}")
        for g in message.generations:
            model = g.resolved_model or g.requested_model
            cost = f"${g.cost_usd:.3f}" if g.cost_usd is not None else "-"
            latency = f"{g.latency_ms:.0f} ms" if g.latency_ms is not None else "-"
            won = wins.get(g.id, 0)
            winner = f"  ♛ compare winner{f' ×{won}' if won > 1 else ''}" if won else ""
            click.echo(f"  [{g.status}] {model}  {latency}  {cost}  {g.id}{winner}")
            if g.route_reason:
                click.echo(f"     route: {shown(g.route_reason)}")
            if g.error:
                click.echo(f"     error: {shown(g.error)}")
            for number, asset in enumerate(g.assets, start=1):
                mark = f" [{asset.state.upper()}: run chatimg doctor]" if asset.state else ""
                click.echo(f"     image {number}: {asset.width}x{asset.height} seed={asset.seed}"
                           f" {shown(asset.path)}{mark}")
            for label, results in checks_by_image(g):
                which = f"{label} " if len(g.assets) > 1 else ""
                for check in results:
                    mark = "pass" if check.passed else "FAIL"
                    click.echo(f"     {which}check {check.name}: {mark} {check.score}")
            if receipts:
                for line in rows_as_text(receipt_rows(g, wins=won), indent="       "):
                    click.echo(shown(line))


@click.command()
@click.argument("text")
@click.option("--limit", type=click.IntRange(min=1), default=50)
@json_option
def search(text: str, limit: int, as_json: bool) -> None:
    """Find messages whose prompt has every word of TEXT, and conversations titled TEXT."""
    with open_studio() as studio:
        hits = studio.search(text, limit=limit)
    if as_json:
        print_json(hits)
        return
    if not hits:
        click.echo(f"nothing matches '{shown(text)}'")
        return
    for hit in hits:
        title = shown(hit.conversation_title)[:30]
        click.echo(f"{hit.conversation_id}  {title:<30}  {shown(hit.snippet)}")


@click.command()
@click.argument("conversation_id")
@click.argument("title")
def rename(conversation_id: str, title: str) -> None:
    """Rename a conversation."""
    with open_studio() as studio:
        conversation_id = studio.resolve_id("conversation", conversation_id)
        studio.rename_conversation(conversation_id, title)
    click.echo(f"renamed {conversation_id}")


@click.command()
@click.argument("conversation_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--keep-files/--reclaim-files", default=None,
              help="Keep (or delete) the images only this conversation used "
                   "(default: ask; with --yes, delete).")
def rm(conversation_id: str, yes: bool, keep_files: bool | None) -> None:
    """Delete a conversation, and (when you agree) the images nothing else uses."""
    from chatimg.restore import conversation_assets, reclaim_assets

    with open_studio() as studio:
        conversation_id = studio.resolve_id("conversation", conversation_id)
        conversation = studio.get_conversation(conversation_id)
        name = shown(conversation.title) or conversation_id
        if not yes and not click.confirm(f"Delete '{name}'?"):
            click.echo("kept")
            return
        hashes = conversation_assets(studio, conversation_id)
        studio.delete_conversation(conversation_id)
        click.echo(f"deleted {conversation_id}")
        if not hashes or keep_files:
            return
        if keep_files is None and not yes and not click.confirm(
            f"Also delete the images only it used (up to {len(hashes)})?", default=True
        ):
            return
        removed, freed = reclaim_assets(studio, hashes)
    if removed:
        click.echo(f"reclaimed {removed} image(s), {freed / 1e6:.1f} MB")
