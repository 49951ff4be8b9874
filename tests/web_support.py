"""Shared by the web tests: a tiny project with real clips, a live server, Debian's Chromium."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autotosis import media
from autotosis.web.server import TOKEN_HEADER, WebApp, make_server, serve_in_thread, url_of

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
WIDTH, HEIGHT = 640, 360
INSET = (0.62, 0.04, 0.98, 0.68)  # where the "face-cam" photo sits, as fractions of the frame


def stream_frames(seconds: float, fps: int, seed: int = 0) -> Iterator[np.ndarray]:
    """A stream-like picture: a moving game scene and a face-cam inset (skimage's astronaut)."""
    skimage_data = pytest.importorskip("skimage.data")
    x0, y0, x1, y1 = (round(INSET[0] * WIDTH), round(INSET[1] * HEIGHT),
                      round(INSET[2] * WIDTH), round(INSET[3] * HEIGHT))
    inset = np.asarray(Image.fromarray(skimage_data.astronaut()).resize((x1 - x0, y1 - y0)))
    rng = np.random.default_rng(seed)
    xs = np.arange(WIDTH)[None, :]
    ys = np.arange(HEIGHT)[:, None]
    for i in range(int(seconds * fps)):
        img = np.empty((HEIGHT, WIDTH, 3), np.uint8)
        img[..., 0] = 30 + (xs + 3 * i) % 60
        img[..., 1] = 50 + (ys * 2 + 5 * i) % 80
        img[..., 2] = 90 + ((xs + ys + 9 * i) // 40 % 2) * 40
        cx = (i * 11) % (WIDTH - 120)
        img[230:290, cx:cx + 60] = rng.integers(120, 255, 3)
        img[y0:y1, x0:x1] = inset
        yield img


def make_clip(path: Path, seconds: float = 8.0, fps: int = 15, codec: str = "libx264",
              loud: list[tuple[float, float]] | None = None) -> Path:
    """A stream-like clip; with `loud`, shouting (loud noise) in those spans and a murmur elsewhere."""
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    if loud is None:
        audio = 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    else:
        shouting = np.any([(t >= a) & (t < b) for a, b in loud], axis=0)
        noise = np.random.default_rng(1).uniform(-1, 1, t.size)
        audio = np.where(shouting, 0.6, 0.01) * noise
    return media.encode_frames(path, stream_frames(seconds, fps), fps=fps, audio=audio, sample_rate=rate,
                               codec=codec)


@contextlib.contextmanager
def cli_server(*args: str, cwd: Path | None = None) -> Iterator[int]:
    """`python -m autotosis ARGS --no-browser` in a child; yields the port of the URL it prints."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "autotosis", *args, "--no-browser"], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + proc.stderr.read()
        yield int(line.split("127.0.0.1:")[1].split("/")[0])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get_json(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    return json.loads(conn.getresponse().read())


class LiveServer:
    """A running server for `app` on a free port, with small HTTP helpers."""

    def __init__(self, app: WebApp):
        self.app = app
        self.httpd = make_server(app, 0)
        self.thread = serve_in_thread(self.httpd)
        self.url = url_of(self.httpd)
        self.port = self.httpd.server_address[1]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = "auto",
                headers: dict[str, str] | None = None) -> tuple[int, dict]:
        """(status, JSON body); `token="auto"` sends the right token, None sends none."""
        sent = dict(headers or {})
        if token == "auto":
            token = self.app.token
        if token is not None:
            sent[TOKEN_HEADER] = token
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def save_screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """AUTOTOSIS_SCREENSHOTS=docs/img refreshes the README's pictures (palette PNG, small in git)."""
    folder = os.environ.get("AUTOTOSIS_SCREENSHOTS")
    if not folder:
        return
    target = Path(folder) / name
    page.screenshot(path=str(target))
    small = Image.open(target).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(target, optimize=True)
