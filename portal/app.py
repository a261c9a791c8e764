"""The application factory: config, database, blueprints, error pages."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from htmx_flask import Htmx
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.config import ROOT, load_config, local_secret_key
from portal.db import Database
from portal.errors import ConfigError, PortalError
from portal.search_index import init_search

log = logging.getLogger(__name__)
htmx = Htmx()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; `config` overrides settings (tests pass a dict)."""
    settings = load_config(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=settings["DATA_DIR"],
    )
    app.config.update(settings)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = local_secret_key(app.config["DATA_DIR"])
    app.extensions["portal.db"] = Database(
        app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )
    init_search(app)
    htmx.init_app(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    app.after_request(_security_headers)
    return app


def require_secret_key(app: Flask) -> None:
    """Refuse to serve without a real secret key (see README: configuration)."""
    if not app.config.get("SECRET_KEY") and not app.testing:
        raise ConfigError(
            "PORTAL_SECRET_KEY is not set; set it (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`) or use `make run` for a local demo."
        )


def production_app() -> Flask:
    """The app for an external WSGI server: `gunicorn 'portal.app:production_app()'`."""
    app = create_app()
    require_secret_key(app)
    return app


def get_db() -> Database:
    """The database of the current app."""
    db: Database = current_app.extensions["portal.db"]
    return db


def _register_blueprints(app: Flask) -> None:
    """Attach every area's views."""
    from portal.views import api, directory, entities, main, methodology, records, search

    app.register_blueprint(main.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(methodology.bp)
    app.register_blueprint(entities.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(directory.bp)


def _wants_json() -> bool:
    """API callers get JSON errors; everyone else an HTML page."""
    return request.path.startswith("/api/")


def _error_response(status: int, code: str, title: str, message: str) -> ResponseReturnValue:
    """Render one error as JSON or as a helpful page."""
    if _wants_json():
        body = {"error": {"code": code, "message": message, "details": None}}
        return jsonify(body), status
    page = render_template("errors/error.html", code=status, title=title, message=message)
    return page, status


def _register_error_handlers(app: Flask) -> None:
    """Every failure becomes a clear message, never a traceback."""

    @app.errorhandler(PortalError)
    def portal_error(exc: PortalError) -> ResponseReturnValue:
        if _wants_json():
            body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
            return jsonify(body), exc.status
        return _error_response(exc.status, exc.code, "This request could not be done", exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error_response(exc.code or 500, code, exc.name or "Error", exc.description or "")

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError) -> ResponseReturnValue:
        log.error("database unavailable: %s", exc)
        message = "The register's database is unavailable. Please try again in a minute."
        return _error_response(503, "unavailable", "Temporarily unavailable", message)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error")
        message = "Something went wrong on our side. The error has been logged."
        return _error_response(500, "internal_error", "Something went wrong", message)


def _security_headers(response: Any) -> Any:
    """Headers that keep pages from being framed, sniffed or fed foreign scripts."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
