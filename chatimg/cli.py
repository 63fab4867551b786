"""The ``chatimg`` command: runs the TUI with no arguments, or a subcommand.

Subcommands are imported only when used, so ``chatimg --help`` stays fast and never imports
torch or Textual.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from chatimg import __version__
from chatimg.errors import ChatImgError

#: name → (module, attribute, one-line help). Modules load only when the command runs.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ls": ("chatimg.commands.conversations", "ls", "List conversations, newest first."),
    "show": ("chatimg.commands.conversations", "show", "Show a conversation's thread."),
    "search": ("chatimg.commands.conversations", "search", "Search prompts and titles."),
    "rename": ("chatimg.commands.conversations", "rename", "Rename a conversation."),
    "rm": ("chatimg.commands.conversations", "rm", "Delete a conversation."),
    "gen": ("chatimg.commands.gen", "gen", "Generate images from a prompt on one or more models."),
    "vary": ("chatimg.commands.image_actions", "vary",
             "A variation (image to image) of a generation's image."),
    "upscale": ("chatimg.commands.image_actions", "upscale", "Upscale a generation's image."),
    "edit": ("chatimg.commands.image_actions", "edit",
             "Inpaint a generation's image with a mask."),
    "describe": ("chatimg.commands.image_actions", "describe",
                 "Describe a generation's image as a prompt."),
    "models": ("chatimg.commands.models", "models", "List models, capabilities and availability."),
    "db": ("chatimg.commands.db", "db", "Database: upgrade, current, downgrade, copy."),
    "export": ("chatimg.commands.bundle", "export", "Export a conversation as a bundle (zip)."),
    "import": ("chatimg.commands.bundle", "import_", "Import a bundle, after checking all of it."),
    "replay": ("chatimg.commands.bundle", "replay", "Replay a thread or bundle; diff the images."),
    "check": ("chatimg.commands.check", "check", "Run the validators on image files."),
    "bench": ("chatimg.commands.bench", "bench", "Benchmark models on a prompt set."),
    "compare": ("chatimg.commands.compare", "compare", "Compare 2-4 generations; contact sheet."),
    "doctor": ("chatimg.commands.doctor", "doctor", "Check the store; --repair, --gc."),
    "storage": ("chatimg.commands.storage", "storage",
                "The image store: migrate to S3/GCS, verify, gc."),
    "share": ("chatimg.commands.storage", "share",
              "Presigned links to a conversation's bundle and images."),
    "team": ("chatimg.commands.team", "team",
             "Team mode on PostgreSQL: init, add-user, ls, share, private, branch."),
    "ray": ("chatimg.commands.ray", "ray", "Serve diffusers models on Ray Serve (chatimg[ray])."),
    "fixtext": ("chatimg.commands.fixtext", "fixtext",
                "Repair a generated image's misspelled text (new generation)."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attribute, _ = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module_name), attribute)
            return command  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="chatimg")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """chatimg: make images by chatting with many image models at once.

    With no command, opens the terminal app. Everything lives under one folder when
    CHATIMG_HOME is set; CHATIMG_CONFIG names another config file.
    """
    if ctx.invoked_subcommand is None:
        from chatimg.commands.app import run_app

        run_app()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: expected failures print one line and exit non-zero."""
    try:
        result: Any = cli.main(args=argv, prog_name="chatimg", standalone_mode=False)
    except ChatImgError as exc:
        from chatimg.safetext import shown

        click.echo(f"chatimg: error: {shown(exc.one_line())}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("chatimg: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("chatimg: interrupted", err=True)
        sys.exit(130)
    if isinstance(result, int) and result:
        sys.exit(result)
