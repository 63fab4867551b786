"""``chatimg team ...`` and the everyday commands on a team database (and on SQLite)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from chatimg.cli import cli, main
from tests.teamdb import Team

PASSWORD = "correct-horse-battery-staple"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _cheap_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATIMG_VALIDATION__ENABLED", '["blank", "size"]')


def _admin(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False), autocommit=True)


@pytest.mark.postgres
@pytest.mark.xdist_group("team")
def test_init_add_user_and_ls(postgres_url: str, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CHATIMG_DATABASE_URL", postgres_url)
    name, other = f"dana_{uuid.uuid4().hex[:8]}", f"eve_{uuid.uuid4().hex[:8]}"
    try:
        code, out, _ = run(capsys, "team", "ls")
        assert code == 0 and "team mode: off" in out
        code, out, err = run(capsys, "team", "init")
        assert code == 0, err
        assert "team mode is on" in out

        monkeypatch.setenv("CHATIMG_TEAM_PASSWORD", PASSWORD)
        code, out, err = run(capsys, "team", "add-user", name, "--role", "editor")
        assert code == 0, err
        assert f"{name}@127.0.0.1" in out and PASSWORD not in out + err
        monkeypatch.delenv("CHATIMG_TEAM_PASSWORD")
        asked = CliRunner().invoke(cli, ["team", "add-user", other, "--role", "admin"],
                                   input=f"{PASSWORD}\n{PASSWORD}\n")
        assert asked.exit_code == 0, asked.output
        assert PASSWORD not in asked.output and "team admin" in asked.output
        with _admin(postgres_url) as admin:
            stored = admin.execute("SELECT rolname, rolpassword, rolcreaterole FROM pg_authid "
                                   "WHERE rolname IN (%s, %s) ORDER BY 1", (name, other)).fetchall()
        assert [(row[0], row[2]) for row in stored] == sorted([(name, False), (other, True)])
        assert all(row[1].startswith("SCRAM-SHA-256$") and PASSWORD not in row[1]
                   for row in stored)

        code, out, _ = run(capsys, "team", "add-user", name, "--role", "viewer", "--no-password")
        assert code == 0
        code, out, _ = run(capsys, "team", "ls", "--json")
        listed = json.loads(out)
        assert listed["team_mode"] is True
        roles = {m["name"]: m["role"] for m in listed["members"]}
        assert roles[name] == "viewer" and roles[other] == "admin"

        code, _, err = run(capsys, "team", "add-user", "Robert'); DROP TABLE message;--")
        assert code == 1 and "cannot be a user name" in err and len(err.splitlines()) == 1
    finally:
        with _admin(postgres_url) as admin:
            for role in (name, other):
                admin.execute(f'DROP OWNED BY "{role}"') if admin.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() else None
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
@pytest.mark.xdist_group("team")
def test_bob_on_the_command_line(team: Team, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    team.use(monkeypatch, "alice")
    ids = {}
    for title in ("shared", "secret"):
        code, out, err = run(capsys, "gen", f'a "{title.upper()}" sign', "-m", "layout",
                             "--title", title, "--json", "-q")
        assert code == 0, err
        ids[title] = json.loads(out)["conversation_id"]
    code, out, _ = run(capsys, "team", "share", ids["shared"][:12])
    assert code == 0 and "your team can read it" in out

    team.use(monkeypatch, "bob")
    code, out, _ = run(capsys, "ls")
    assert ids["shared"] in out and ids["secret"] not in out
    assert f"({team.names['alice']}, team)" in out
    code, _, err = run(capsys, "show", ids["secret"])
    assert code == 1 and "no conversation" in err
    code, out, _ = run(capsys, "show", ids["shared"])
    assert code == 0 and f"by {team.names['alice']}" in out
    code, _, err = run(capsys, "gen", "bob writes here", "-m", "layout", "--conversation",
                       ids["shared"], "-q")
    assert code == 1 and "belongs to" in err and "team branch" in err
    code, _, err = run(capsys, "team", "private", ids["shared"])
    assert code == 1 and "belongs to" in err
    code, out, err = run(capsys, "team", "branch", ids["shared"], "--title", "bob's copy",
                         "--json")
    assert code == 0, err
    branch = json.loads(out)
    assert branch["owner"] == team.names["bob"] and branch["message_count"] == 1
    code, out, _ = run(capsys, "ls", "--json")
    assert {c["id"] for c in json.loads(out)} == {ids["shared"], branch["id"]}


def test_team_commands_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "team", "init")
    assert code == 1 and "needs a PostgreSQL database" in err
    code, out, err = run(capsys, "gen", 'a "ONE" sign', "-m", "layout", "--json", "-q")
    assert code == 0, err
    first = json.loads(out)
    run(capsys, "gen", 'a "TWO" sign', "-m", "layout", "--conversation",
        first["conversation_id"], "-q")
    code, out, _ = run(capsys, "team", "share", first["conversation_id"])
    assert code == 0  # a mark only: a single-user history has nobody to share with
    code, out, err = run(capsys, "team", "branch", first["conversation_id"], "--from",
                         first["message_id"], "--json")
    assert code == 0, err
    branch = json.loads(out)
    assert branch["message_count"] == 1 and branch["owner"] is None
    code, out, _ = run(capsys, "show", branch["id"], "--json")
    messages = json.loads(out)["messages"]
    assert [m["text"] for m in messages] == ['a "ONE" sign']
    assert messages[0]["generations"][0]["status"] == "succeeded"
    code, _, err = run(capsys, "team", "share", "nope-no-such")
    assert code == 1
