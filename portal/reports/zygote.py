"""Imported once, by the render server process only: loads weasyprint and the fonts.

portal/reports/bounded.py names this module as the forkserver's preload, so
every child forked to render a report starts with weasyprint imported (about
0.4 s) and fontconfig's fonts loaded (the first rendering in a process is
several times slower than the next). Importing it anywhere else costs one tiny
rendering and nothing more.
"""

from __future__ import annotations

import logging

from portal.reports.pdf import warm_up

try:
    warm_up()
except Exception:  # a cold server still renders, only slower
    logging.getLogger(__name__).exception("report renderer warm-up failed")
