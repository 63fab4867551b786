"""A stand-in for the Hugging Face hub's HTTP API on 127.0.0.1, for ``chatimg models pull``.

It speaks what ``huggingface_hub`` asks for (read from its source, version 2.x):

- ``GET /api/models/{repo}/revision/{rev}``: model info with ``sha`` and ``siblings``;
- ``GET /api/models/{repo}/tree/{rev}?recursive=True``: the file listing (``type``, ``oid``,
  ``size``, ``path``, ``lfs`` for weight files), one page (no ``Link`` header);
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}``: the file, with ``X-Repo-Commit``, ``ETag`` (the
  LFS sha256 for weights, the git blob id otherwise), ``Content-Length`` and ``Range`` support;
- errors as the hub sends them: 404 + ``X-Error-Code: RepoNotFound`` / ``RevisionNotFound`` /
  ``EntryNotFound``; 401 + ``X-Error-Code: GatedRepo`` for a gated repository without a token.

Every request is logged (method, repo path, file, ``Range``) so tests count downloads per file.
A file can be made to stall halfway (``stall``) or to drop the connection halfway (``cut_once``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".ckpt")


@dataclass
class Repo:
    """One repository: commits (sha → path → bytes) and refs (name → sha)."""

    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    gated: bool = False

    def add_commit(self, files: dict[str, bytes], ref: str = "main") -> str:
        digest = hashlib.sha1()
        for path in sorted(files):
            digest.update(path.encode() + hashlib.sha1(files[path]).digest())
        digest.update(str(len(self.commits)).encode())
        sha = digest.hexdigest()
        self.commits[sha] = dict(files)
        self.refs[ref] = sha
        return sha


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative POSIX path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """The server's state; ``url`` is what ``HF_ENDPOINT`` should be."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.log: list[tuple[str, str, str, str | None]] = []
        """(method, repo id, file or API path, Range header)."""
        self.lock = threading.Lock()
        self.stall: dict[str, threading.Event] = {}
        """File path → event: its GET sends half the bytes, sets ``stalled``, then waits."""
        self.stalled = threading.Event()
        self.cut_once: set[str] = set()
        """File paths whose first GET drops the connection after half the bytes."""
        self.url = ""

    def repo(self, repo_id: str) -> Repo:
        return self.repos.setdefault(repo_id, Repo())

    def gets(self, path: str) -> list[str | None]:
        """The Range headers of every GET of a file (None: from the start)."""
        with self.lock:
            return [rng for method, _repo, name, rng in self.log
                    if method == "GET" and name == path]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                  head: bool = False) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and body:
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, head: bool = False,
                   commit: str | None = None) -> None:
            headers = {"X-Error-Code": code, "X-Error-Message": message,
                       "Content-Type": "application/json"}
            if commit:
                headers["X-Repo-Commit"] = commit
            self._send(status, json.dumps({"error": message}).encode(), headers, head)

        def do_HEAD(self) -> None:
            self._route(head=True)

        def do_GET(self) -> None:
            self._route(head=False)

        def _route(self, head: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path.startswith("/api/models/"):
                self._api(path[len("/api/models/"):])
            elif "/resolve/" in path:
                repo_id, rest = path.lstrip("/").split("/resolve/", 1)
                revision, _, name = rest.partition("/")
                self._resolve(repo_id, revision, name, head)
            else:
                self._error(404, "NotFound", "no such route", head)

        def _commit(self, repo: Repo, revision: str) -> str | None:
            if revision in repo.commits:
                return revision
            return repo.refs.get(revision)

        def _api(self, rest: str) -> None:
            for marker in ("/revision/", "/tree/"):
                if marker in rest:
                    repo_id, tail = rest.split(marker, 1)
                    break
            else:
                repo_id, marker, tail = rest, "/revision/", "main"
            with hub.lock:
                hub.log.append(("GET", repo_id, "api" + marker.rstrip("/"), None))
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", "Repository not found")
                return
            revision, _, _sub = tail.partition("/")
            commit = self._commit(repo, revision)
            if commit is None:
                self._error(404, "RevisionNotFound", "Invalid rev id: " + revision)
                return
            files = repo.commits[commit]
            if marker == "/revision/":
                body = {"id": repo_id, "sha": commit, "private": False,
                        "gated": "manual" if repo.gated else False,
                        "siblings": [{"rfilename": name} for name in sorted(files)]}
            else:
                folders = sorted({name.rsplit("/", 1)[0] for name in files if "/" in name})
                body = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f}
                        for f in folders]
                for name in sorted(files):
                    data = files[name]
                    item = {"type": "file", "oid": git_blob_id(data), "size": len(data),
                            "path": name}
                    if name.endswith(LFS_SUFFIXES):
                        item["lfs"] = {"oid": hashlib.sha256(data).hexdigest(),
                                       "size": len(data), "pointerSize": 134}
                    body.append(item)  # type: ignore[arg-type]
            self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

        def _resolve(self, repo_id: str, revision: str, name: str, head: bool) -> None:
            rng = self.headers.get("Range")
            with hub.lock:
                hub.log.append(("HEAD" if head else "GET", repo_id, name, rng))
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound", "Repository not found", head)
                return
            commit = self._commit(repo, revision)
            if commit is None:
                self._error(404, "RevisionNotFound", "Invalid rev id: " + revision, head)
                return
            if repo.gated and not self.headers.get("Authorization"):
                self._error(401, "GatedRepo", f"Access to model {repo_id} is restricted. You "
                            "must have access to it and be authenticated to access it.", head)
                return
            data = repo.commits[commit].get(name)
            if data is None:
                self._error(404, "EntryNotFound", "Entry not found", head, commit)
                return
            etag = (hashlib.sha256(data).hexdigest() if name.endswith(LFS_SUFFIXES)
                    else git_blob_id(data))
            headers = {"X-Repo-Commit": commit, "ETag": f'"{etag}"', "Accept-Ranges": "bytes",
                       "Content-Type": "application/octet-stream"}
            start = 0
            status = 200
            if rng and rng.startswith("bytes=") and not head:
                start = int(rng[len("bytes="):].split("-", 1)[0] or 0)
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            body = data[start:]
            headers["Content-Length"] = str(len(body) if not head else len(data))
            if head:
                self._send(200, b"", headers, head=True)
                return
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            half = len(body) // 2
            stall = hub.stall.get(name)
            cut = False
            with hub.lock:
                if name in hub.cut_once and start == 0:
                    hub.cut_once.discard(name)
                    cut = True
            try:
                if stall is not None or cut:
                    self.wfile.write(body[:half])
                    self.wfile.flush()
                    if cut:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    hub.stalled.set()
                    stall.wait(60)  # bounded: released by the test (or gives up)
                    self.wfile.write(body[half:])
                else:
                    for offset in range(0, len(body), 1 << 16):
                        self.wfile.write(body[offset:offset + (1 << 16)])
            except OSError:
                self.close_connection = True

    return Handler


@contextmanager
def serve_hub() -> Iterator[FakeHub]:
    """Run a FakeHub on 127.0.0.1 on a free port for the duration of the block."""
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        for event in hub.stall.values():
            event.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
