"""Serving with gunicorn from the `portal serve` command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from portal.app import create_app, production_app, require_secret_key


class PortalServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running the portal app with options given in code."""

    def __init__(self, options: dict[str, Any]) -> None:
        """Keep the options for load_config."""
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Hand our options to gunicorn."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in each worker."""
        return production_app()


def serve(host: str, port: int, workers: int, reload: bool, threads: int = 1) -> None:
    """Run gunicorn in the foreground; refuse at once without a secret key.

    With more than one thread per worker gunicorn uses its threaded worker (gthread).
    """
    app = create_app()
    app.extensions["portal.db"].dispose()
    require_secret_key(app)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "reload": reload,
        "accesslog": "-",
        "timeout": 60,
    }
    PortalServer(options).run()
