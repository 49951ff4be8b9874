"""Running a local page from the CLI: print the URL, open the browser, serve until Ctrl-C."""

from __future__ import annotations

import webbrowser

import click

from autotosis.web.server import WebApp, make_server, url_of


def run_app(app: WebApp, port: int, open_browser: bool) -> None:
    """Serve `app` on 127.0.0.1 until interrupted; the URL is printed so it works over SSH too."""
    try:
        httpd = make_server(app, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None
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
