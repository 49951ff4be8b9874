"""A tiny video host on 127.0.0.1 for download tests: no test reaches the internet."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {".mp4": "video/mp4", ".rss": "application/rss+xml", ".txt": "text/plain"}


class Server:
    """Serves `files` (name -> bytes) with HTTP range support, as video hosts do; logs each request.

    The content type follows the name's extension (.mp4 video, .rss a feed), as yt-dlp reads it."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None: ...

            def _send(self, body: bool) -> None:
                owner.requests.append((self.command, self.path, self.headers.get("Range")))
                data = owner.files.get(self.path.lstrip("/"))
                if data is None:
                    self.send_error(404, "File not found")
                    return
                start, status = 0, 200
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match and int(match[1]) < len(data):
                    start, status = int(match[1]), 206
                self.send_response(status)
                kind = CONTENT_TYPES.get(Path(self.path).suffix, "application/octet-stream")
                self.send_header("Content-Type", kind)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(data) - start))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if body:
                    self.wfile.write(data[start:])

            def do_GET(self) -> None:
                self._send(True)

            def do_HEAD(self) -> None:
                self._send(False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def gets(self, name: str) -> list[str | None]:
        return [r for m, p, r in self.requests if m == "GET" and p == f"/{name}"]
