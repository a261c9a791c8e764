"""HTTP helpers that more than one area's views share: CORS, and streamed export bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Response, request
from sqlmodel import Session

# An export's body, written chunk by chunk from one read session.
Chunks = Callable[[Session], Iterator[bytes]]


def add_cors(response: Response) -> Response:
    """Anyone's page may read the register: any origin, no credentials, reads only."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After, Content-Disposition"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response
