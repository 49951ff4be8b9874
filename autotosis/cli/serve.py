"""Running a local page from the CLI: print the URL, open the browser, serve until Ctrl-C."""

from __future__ import annotations

import contextlib
import threading
import webbrowser
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import click

from autotosis.web.server import WebApp, make_server, serve_in_thread, url_of


def _listen(app: WebApp, port: int) -> ThreadingHTTPServer:
    try:
        return make_server(app, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None


def run_app(app: WebApp, port: int, open_browser: bool) -> None:
    """Serve `app` on 127.0.0.1 until interrupted; the URL is printed so it works over SSH too."""
    httpd = _listen(app, port)
    url = url_of(httpd)
    click.echo(f"{app.title}: {url}  (Ctrl-C to stop)")
    if open_browser:
        webbrowser.open(url)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nstopped")
    finally:
        httpd.server_close()


@contextlib.contextmanager
def app_in_background(app: WebApp, port: int, open_browser: bool, hint: str) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 from a thread while the command works in the main thread (which
    keeps Ctrl-C); yields the URL and stops the server on the way out."""
    httpd = _listen(app, port)
    url = url_of(httpd)
    serve_in_thread(httpd)
    click.echo(f"{app.title}: {url}  ({hint})")
    if open_browser:
        webbrowser.open(url)
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()


def wait_for_ctrl_c() -> None:
    """Keep a background server up until the user is done with its page."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("\nstopped")
