"""The local HTTP server behind `label --ui` and `review`: routing, files and security.

Everything a page may touch goes through here, so the rules live in one place:
bound to 127.0.0.1, only files under the allowed folders are served (no `..`, no
absolute paths, no symlinks leading out), state-changing requests carry the per-run
token, and so do event streams (in the query string: EventSource sends no headers), the
Host header must name this server (DNS rebinding), and a strict Content-Security-Policy
keeps the page from reaching the network.
"""

from __future__ import annotations

import hmac
import json
import mimetypes
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from autotosis.core.errors import AutotosisError

HOST = "127.0.0.1"
TOKEN_HEADER = "X-Autotosis-Token"
# Connections can stay open while a video streams; chunks keep memory flat.
CHUNK = 1 << 18
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class HttpError(Exception):
    """A request the server refuses, with the status and a message for the page."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.extra = extra


@dataclass(frozen=True)
class Request:
    """What a route sees: the query string (first values) and the parsed JSON body."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]


Route = Callable[[Request], Any]
# A file route maps the rest of the URL path to a file on disk (or raises HttpError).
FileRoute = Callable[[str], Path]
# An event stream route yields Server-Sent Events text, given the Last-Event-ID the browser
# sends when it reconnects ("" on the first connection); the connection closes when it returns.
StreamRoute = Callable[[Request, str], Iterator[str]]


def static_dir() -> Path:
    """The page assets shipped inside the package."""
    return Path(str(resources.files("autotosis.web") / "static"))


def safe_relative(text: str) -> PurePosixPath:
    """A project-relative path from a request, refusing anything that could climb out."""
    if not text or "\x00" in text or "\\" in text:
        raise HttpError(HTTPStatus.FORBIDDEN, "path refused")
    rel = PurePosixPath(text)
    if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", text):
        raise HttpError(HTTPStatus.FORBIDDEN, f"path refused: {text}")
    return rel


@dataclass
class WebApp:
    """One page, its JSON routes and the folders whose files it may serve."""

    project: Path
    page: str
    roots: Sequence[Path]
    title: str = "autotosis"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    file_routes: dict[str, FileRoute] = field(default_factory=dict)
    streams: dict[str, StreamRoute] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # more pages than `page`: URL path -> file

    def __post_init__(self) -> None:
        self.project = self.project.resolve()
        self.roots = [r.resolve() for r in self.roots]
        self.file_routes.setdefault("/media/", self.project_file)

    def get(self, path: str) -> Callable[[Route], Route]:
        return self._add("GET", path)

    def post(self, path: str) -> Callable[[Route], Route]:
        return self._add("POST", path)

    def _add(self, method: str, path: str) -> Callable[[Route], Route]:
        def register(fn: Route) -> Route:
            self.routes[(method, path)] = fn
            return fn

        return register

    def project_file(self, text: str) -> Path:
        """The file a project-relative path names, if it lies inside an allowed folder."""
        rel = safe_relative(text)
        resolved = (self.project / rel).resolve()
        if not any(resolved.is_relative_to(root) for root in self.roots):
            raise HttpError(HTTPStatus.FORBIDDEN, f"not inside an allowed folder: {text}")
        if not resolved.is_file():
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such file: {text}")
        return resolved

    def relative(self, path: Path) -> str:
        """How the page names a file: its path relative to the project folder."""
        return path.resolve().relative_to(self.project).as_posix()

    def page_html(self, page: str | None = None) -> bytes:
        html = (static_dir() / (page or self.page)).read_text(encoding="utf-8")
        return html.replace("{{token}}", self.token).replace("{{title}}", self.title).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the URL, not a line per video chunk."""

    # ------------------------------------------------------------ dispatch

    def do_GET(self) -> None:
        self._dispatch("GET", head=False)

    def do_HEAD(self) -> None:
        self._dispatch("GET", head=True)

    def do_POST(self) -> None:
        self._dispatch("POST", head=False)

    def do_PUT(self) -> None:
        self._dispatch("PUT", head=False)

    def do_DELETE(self) -> None:
        self._dispatch("DELETE", head=False)

    def _dispatch(self, method: str, head: bool) -> None:
        app = self.server.app
        try:
            self._check_host()
            url = urlsplit(self.path)
            path = unquote(url.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if method != "GET":
                self._check_token(self.headers.get(TOKEN_HEADER, ""))
            # Routes may be added while serving (the live page mounts the review at the end):
            # each lookup reads a copy, never a dict that is changing.
            pages = dict(app.pages)
            if method == "GET" and (path in ("/", "/index.html") or path in pages):
                html = app.page_html(pages.get(path))
                self._send(HTTPStatus.OK, html, "text/html; charset=utf-8", head)
                return
            if method == "GET" and path.startswith("/static/"):
                self._send_file(self._static(path[len("/static/"):]), head)
                return
            for prefix, resolve in list(app.file_routes.items()):
                if method == "GET" and path.startswith(prefix):
                    self._send_file(resolve(path[len(prefix):]), head)
                    return
            stream = app.streams.get(path)
            if method == "GET" and stream is not None:
                self._check_token(query.get("token", ""))
                last = self.headers.get("Last-Event-ID", "")
                self._send_stream(stream(Request(path, query, {}), last), head)
                return
            route = app.routes.get((method, path))
            if route is None:
                raise HttpError(HTTPStatus.NOT_FOUND, f"no such page: {path}")
            result = route(Request(path, query, self._json_body() if method != "GET" else {}))
            self._send_json(HTTPStatus.OK, result, head)
        except HttpError as exc:
            self._send_json(exc.status, {"error": str(exc), **exc.extra}, head)
        except AutotosisError as exc:
            self._send_json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": str(exc)}, head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _check_token(self, sent: str) -> None:
        if not hmac.compare_digest(sent.encode(), self.server.app.token.encode()):
            raise HttpError(HTTPStatus.FORBIDDEN, "missing or wrong token")

    def _check_host(self) -> None:
        port = self.server.server_address[1]
        allowed = {f"127.0.0.1:{port}", f"localhost:{port}"}
        if self.headers.get("Host", "") not in allowed:
            raise HttpError(HTTPStatus.FORBIDDEN, "unexpected Host header")

    def _static(self, name: str) -> Path:
        folder = static_dir()
        names = {p.name for p in folder.iterdir() if p.is_file()}
        if name not in names:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no such asset: {name}")
        return folder / name

    def _json_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise HttpError(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
        if not isinstance(body, dict):
            raise HttpError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return body

    # ------------------------------------------------------------ responses

    def _headers(
        self, status: int, length: int | None, content_type: str, extra: Iterable[tuple[str, str]] = ()
    ) -> None:
        """The response's headers; no length for a stream, which ends when the connection closes."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, data: bytes, content_type: str, head: bool) -> None:
        self._headers(status, len(data), content_type)
        if not head:
            self.wfile.write(data)

    def _send_json(self, status: int, value: Any, head: bool) -> None:
        self._send(status, json.dumps(value).encode("utf-8"), "application/json", head)

    def _send_stream(self, events: Iterator[str], head: bool) -> None:
        """Server-Sent Events: each piece is written (unbuffered) as the route yields it."""
        try:
            self._headers(HTTPStatus.OK, None, "text/event-stream; charset=utf-8", [("Connection", "close")])
            self.close_connection = True
            for text in () if head else events:
                self.wfile.write(text.encode("utf-8"))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # a dropped client ends the route's generator now, not at garbage collection

    def _send_file(self, path: Path, head: bool) -> None:
        """Serve a file with single-range support: browsers need 206 answers to seek video."""
        size = path.stat().st_size
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start, end, status = 0, size - 1, HTTPStatus.OK
        extra = [("Accept-Ranges", "bytes")]
        wanted = self.headers.get("Range")
        if wanted:
            match = _RANGE.match(wanted.strip())
            if match and (match.group(1) or match.group(2)):
                if match.group(1):
                    start = int(match.group(1))
                    end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
                else:
                    start = max(0, size - int(match.group(2)))
                if start > end or start >= size:
                    self._headers(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 0, content_type,
                                  [("Content-Range", f"bytes */{size}")])
                    return
                status = HTTPStatus.PARTIAL_CONTENT
                extra.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        self._headers(status, end - start + 1, content_type, extra)
        if head:
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: WebApp, port: int):
        self.app = app
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that drops a connection (a closed tab, a video seek) is no error to print."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(app: WebApp, port: int = 0) -> ThreadingHTTPServer:
    """Bind to 127.0.0.1 (never other interfaces); port 0 picks a free one."""
    return _Server(app, port)


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/"


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Run the server in the background (tests, and the CLI while it opens a browser)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread
