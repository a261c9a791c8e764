"""Errors the services raise; views and the CLI turn them into messages."""

from __future__ import annotations


class PortalError(Exception):
    """A failure with a message fit to show to the person who caused it."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: object = None) -> None:
        """Keep the message and any structured details (e.g. field errors)."""
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(PortalError):
    """The named thing does not exist (or is not public)."""

    status = 404
    code = "not_found"


class PermissionDenied(PortalError):
    """The acting user may not do this."""

    status = 403
    code = "forbidden"


class ValidationFailed(PortalError):
    """Input broke one or more rules; details maps each field to its problem."""

    status = 422
    code = "invalid"


class Conflict(PortalError):
    """The request clashes with the current state (e.g. already published)."""

    status = 409
    code = "conflict"


class ConfigError(PortalError):
    """The application is not configured well enough to start."""

    code = "config"


class Moved(PortalError):
    """The entity was merged into another; its pages move there."""

    status = 301
    code = "moved"

    def __init__(self, old: str, new: str) -> None:
        """Remember both slugs, to rewrite the request path."""
        super().__init__(f"{old} was merged into {new}.", {"location": new})
        self.old, self.new = old, new
