"""The Accountability Portal: a public register of findings with explained scores."""

from portal.app import create_app

__all__ = ["create_app"]
