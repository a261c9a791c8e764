"""The QR code printed on every report: an inline SVG pointing to its verify page."""

from __future__ import annotations

import segno
from markupsafe import Markup

QR_TITLE = "QR code linking to the page that verifies this report"


def qr_svg(payload: str, scale: int = 3) -> Markup:
    """An inline SVG QR code (error correction M) encoding `payload`."""
    code = segno.make(payload, error="m", micro=False)
    svg = code.svg_inline(scale=scale, border=2, title=QR_TITLE)
    return Markup(svg)  # noqa: S704  # nosec B704: segno draws it; no text from data
