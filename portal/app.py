"""The application factory: config, database, blueprints, error pages."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, jsonify, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from htmx_flask import Htmx
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import scoring
from portal.auth import csrf, init_auth, limiter, login_manager
from portal.config import ROOT, load_config, local_secret_key
from portal.db import Database
from portal.errors import ConfigError, Moved, PortalError
from portal.reports.warm import warm_reports
from portal.services.notifications import deliver_email
from portal.views import (
    admin,
    api,
    api_write,
    directory,
    duplicates,
    entities,
    imports,
    main,
    match,
    methodology,
    opendata,
    organisation,
    records,
    reports,
    screen,
    search,
    workspace,
)
from portal.wiring import get_db, init_search

log = logging.getLogger(__name__)
htmx = Htmx()

# Every area's views, in the order their routes are registered.
BLUEPRINTS = (
    main.bp,
    api.bp,
    match.bp,
    methodology.bp,
    entities.bp,
    search.bp,
    records.bp,
    directory.bp,
    workspace.bp,
    organisation.bp,
    imports.bp,
    admin.bp,
    duplicates.bp,
    api_write.bp,
    reports.bp,
    screen.bp,
    opendata.bp,
)
# Bearer tokens, not cookies: no cross-site request can use them (and the read API takes no form).
CSRF_EXEMPT = (api.bp, match.bp, api_write.bp)


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
    init_auth(app)
    htmx.init_app(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    app.after_request(_security_headers)
    app.after_request(_send_mail)
    app.after_request(_cache_headers)
    if proxies := app.config["TRUSTED_PROXIES"]:
        # The client's address (rate limits) and scheme (HSTS, cookies) as the proxy saw them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app


def require_secret_key(app: Flask) -> None:
    """Refuse to serve without a real secret key (see README: configuration)."""
    if not app.config.get("SECRET_KEY") and not app.testing:
        raise ConfigError(
            "PORTAL_SECRET_KEY is not set; set it (e.g. `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`) or use `make run` for a local demo."
        )


def production_app() -> Flask:
    """The app for an external WSGI server: `gunicorn 'portal.app:production_app()'`.

    Built in each worker, which pays its one-time report costs here, before serving.
    """
    app = create_app()
    require_secret_key(app)
    warm_reports(app, app.extensions["portal.db"])
    return app


def _register_blueprints(app: Flask) -> None:
    """Attach every area's views, and what their templates share."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for blueprint in CSRF_EXEMPT:
        csrf.exempt(blueprint)
    app.context_processor(_register_flags)
    app.add_template_global(rulebook_of)


def _register_flags() -> dict[str, bool]:
    """Whether this register is a demo (its templates say so)."""
    return {"demo_register": (Path(current_app.config["DATA_DIR"]) / "DEMO").exists()}


def rulebook_of(score: scoring.Score) -> scoring.Rulebook:
    """The rulebook version a score was computed under (its flags' thresholds)."""
    return scoring.default_rulebooks().get(score.rulebook_id, score.rulebook_version)


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


def moved(exc: Moved) -> ResponseReturnValue:
    """A merged entity's pages redirect to the entity it was merged into."""
    return redirect(request.path.replace(f"/{exc.old}", f"/{exc.new}", 1), 301)


def portal_error(exc: PortalError) -> ResponseReturnValue:
    """A refusal from a service, with its message (and, as JSON, its details)."""
    if _wants_json():
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return jsonify(body), exc.status
    return _error_response(exc.status, exc.code, "This request could not be done", exc.message)


def _retry_after() -> str:
    """Seconds until the breached rate limit resets (Flask-Limiter keeps it per request)."""
    current = limiter.current_limit
    return str(max(1, int(current.reset_at - time.time())) if current else 60)


def http_error(exc: HTTPException) -> ResponseReturnValue:
    """A 404, 405, 413, 429 ... as a page or JSON, keeping the headers the exception sets."""
    code = (exc.name or "error").lower().replace(" ", "_")
    status = exc.code or 500
    answer = _error_response(status, code, exc.name or "Error", exc.description or "")
    response = current_app.make_response(answer)
    # Keep what the exception says in headers: Allow on 405, Retry-After on 429.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if status == 429:
        response.headers.setdefault("Retry-After", _retry_after())
    return response


def database_down(exc: OperationalError) -> ResponseReturnValue:
    """The database cannot be reached: a 503 that says so."""
    log.error("database unavailable: %s", exc)
    if "_login_user" not in g:
        # The page and the after-request hooks would ask the absent database who is
        # signed in (Flask-Login loads users lazily) and turn this 503 into a 500.
        g._login_user = login_manager.anonymous_user()
    message = "The register's database is unavailable. Please try again in a minute."
    return _error_response(503, "unavailable", "Temporarily unavailable", message)


def unreadable_value(exc: DataError) -> ResponseReturnValue:
    """A value the database refuses to read (a NUL byte on PostgreSQL) is a 400, not a 500."""
    log.warning("database refused a value from the request: %s", exc.orig)
    message = "The request contains a value the register cannot read (such as a NUL byte)."
    return _error_response(400, "bad_request", "Bad request", message)


def unexpected(exc: Exception) -> ResponseReturnValue:
    """Any other failure: logged, and a page that gives nothing away."""
    log.exception("unhandled error")
    message = "Something went wrong on our side. The error has been logged."
    return _error_response(500, "internal_error", "Something went wrong", message)


def too_deep(exc: RecursionError) -> ResponseReturnValue:
    """A JSON body nested too deeply to parse is a 400, like any other malformed body."""
    # json.loads raises RecursionError, not ValueError, on `[[[[...` thousands deep, so
    # Flask's get_json(silent=True) lets it through: that is the client's error, not ours.
    if request.is_json:
        message = "The JSON body is nested too deeply."
        return _error_response(400, "bad_request", "Bad request", message)
    return unexpected(exc)


# Every failure becomes a clear message, never a traceback.
ERROR_HANDLERS: tuple[tuple[type[Exception], Callable[[Any], ResponseReturnValue]], ...] = (
    (Moved, moved),
    (PortalError, portal_error),
    (HTTPException, http_error),
    (OperationalError, database_down),
    (DataError, unreadable_value),
    (Exception, unexpected),
    (RecursionError, too_deep),
)


def _register_error_handlers(app: Flask) -> None:
    """Attach `ERROR_HANDLERS`."""
    for exception, handler in ERROR_HANDLERS:
        app.register_error_handler(exception, handler)


PRIVATE_PREFIXES = ("/workspace", "/admin")


def _cache_headers(response: Any) -> Any:
    """Public pages may be cached briefly; anything personal is never stored."""
    if "Cache-Control" in response.headers and request.endpoint == "static":
        return response
    # Read from the session cookie, not current_user: no query for the user on every page.
    personal = request.path.startswith(PRIVATE_PREFIXES) or "_user_id" in session
    if request.method != "GET" or personal or response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "public, max-age=60"
    # A page and its htmx partial share one URL: a cache must not give one for the other.
    response.vary.update(("Cookie", "HX-Request"))
    return response


def _send_mail(response: Any) -> Any:
    """After a successful form post, e-mail any new notifications (when SMTP is set)."""
    if request.method == "POST" and response.status_code < 400 and current_app.config["SMTP_HOST"]:
        deliver_email(get_db(), current_app.config, request.host_url.rstrip("/"))
    return response


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
