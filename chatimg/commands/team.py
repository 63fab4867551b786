"""``chatimg team``: one PostgreSQL history for a team, with row-level security.

``init`` (once, as the role that owns the tables), ``add-user NAME --role ...``, ``ls``;
``share``/``private`` set who may read a conversation; ``branch`` copies a readable thread
(a teammate's too) into a new one of your own.
"""

from __future__ import annotations

import os

import click

from chatimg.commands.common import json_option, open_studio, print_json

#: Where ``add-user`` takes the new password from when set (otherwise it asks, twice, hidden).
PASSWORD_ENV = "CHATIMG_TEAM_PASSWORD"


@click.group()
def team() -> None:
    """Team mode on PostgreSQL: people, roles, who sees what."""


@team.command()
def init() -> None:
    """Create the viewer/editor/admin group roles and turn row-level security on.

    Run once as the role that owns the tables (the one that ran the migrations); running it
    again is harmless. Conversations written before become yours.
    """
    from chatimg.store import team as store_team

    with open_studio() as studio:
        adopted = store_team.init(studio.db)
        click.echo(f"team mode is on for {studio.db.display_url()}")
        if adopted:
            click.echo(f"{adopted} earlier conversation(s) now belong to {studio.user}")
        click.echo("add people with: chatimg team add-user NAME --role viewer|editor|admin")


@team.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), default="editor",
              show_default=True, help="viewer reads; editor also writes their own; admin also "
              "adds people.")
@click.option("--no-password", is_flag=True,
              help="Log in without a password (the server's trust or peer authentication).")
def add_user(name: str, role: str, no_password: bool) -> None:
    """Create NAME's database role (or change its role) and print how NAME connects.

    The password comes from CHATIMG_TEAM_PASSWORD or is asked for (hidden); it is hashed on
    this machine and never printed, logged or stored by chatimg.
    """
    from chatimg.store import team as store_team

    store_team.check_name(name)
    password: str | None = None
    if not no_password:
        password = os.environ.get(PASSWORD_ENV) or click.prompt(
            f"password for {name}", hide_input=True, confirmation_prompt=True)
    with open_studio() as studio:
        store_team.add_user(studio.db, name, role, password)
        url = studio.db.engine.url.set(username=name, password=None)
    click.echo(f"{name} is a team {role}. On their machine:")
    click.echo(f'  database_url = "{url.render_as_string(hide_password=True)}"')
    click.echo("  with the password in PGPASSWORD or ~/.pgpass (never in the config file)")


@team.command("ls")
@json_option
def ls(as_json: bool) -> None:
    """List the team's people and their roles."""
    from chatimg.store import team as store_team

    with open_studio() as studio:
        people = store_team.members(studio.db)
        enabled = store_team.is_enabled(studio.db)
        me = studio.user
    if as_json:
        print_json({"team_mode": enabled, "you": me, "members": people})
        return
    click.echo(f"team mode: {'on' if enabled else 'off (run chatimg team init)'}; you are {me}")
    for person in people:
        click.echo(f"  {person.name:<24} {person.role}{'  (you)' if person.name == me else ''}")


def _set(conversation_id: str, visibility: str) -> None:
    with open_studio() as studio:
        conversation = studio.set_visibility(
            studio.resolve_id("conversation", conversation_id), visibility)
    who = "your team" if visibility == "team" else "only you"
    click.echo(f"{conversation.id}: {who} can read it")


@team.command()
@click.argument("conversation_id")
def share(conversation_id: str) -> None:
    """Let the whole team read a conversation of yours."""
    _set(conversation_id, "team")


@team.command()
@click.argument("conversation_id")
def private(conversation_id: str) -> None:
    """Make a conversation of yours readable by you only."""
    _set(conversation_id, "private")


@team.command()
@click.argument("conversation_id")
@click.option("--from", "up_to", default=None, metavar="MESSAGE_ID",
              help="Copy the messages up to and including this one only.")
@click.option("--title", default=None, help="The new conversation's title.")
@json_option
def branch(conversation_id: str, up_to: str | None, title: str | None, as_json: bool) -> None:
    """Copy a conversation you can read (a teammate's too) into a new one of your own."""
    with open_studio() as studio:
        source = studio.resolve_id("conversation", conversation_id)
        message = studio.resolve_id("message", up_to) if up_to else None
        conversation = studio.branch_conversation(source, message, title)
    if as_json:
        print_json(conversation)
        return
    click.echo(f"{conversation.id}  {conversation.message_count} msg  {conversation.title}")
