"""weasyprint, called one way: our HTML, our print stylesheet, our fetcher, tagged output."""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field
from functools import lru_cache

from weasyprint import CSS, HTML, Attachment

from portal.reports.fetcher import STATIC_DIR, StaticFetcher

STYLESHEET = STATIC_DIR / "css" / "print-report.css"


@dataclass
class PdfJob:
    """What one rendering needs: the HTML, the PDF variant and optional attachments."""

    html: str
    variant: str = "pdf/ua-1"
    attachments: list[tuple[str, str, str]] = field(default_factory=list)  # name, text, about


@dataclass
class RenderResult:
    """A rendered PDF, weasyprint's complaints, every URL it asked for, and what it cost."""

    pdf: bytes
    messages: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    start_rss_kb: int = 0
    peak_rss_kb: int = 0


@lru_cache(maxsize=4)
def _stylesheet(mtime_ns: int) -> CSS:
    """The print stylesheet, parsed once per process (and per change of the file)."""
    return CSS(url=STYLESHEET.as_uri(), url_fetcher=StaticFetcher())


def stylesheet() -> CSS:
    """The current print stylesheet."""
    return _stylesheet(STYLESHEET.stat().st_mtime_ns)


class _Collect(logging.Handler):
    """Keeps weasyprint's warnings and errors so that the caller can report them."""

    def __init__(self) -> None:
        """Start with no messages."""
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one message."""
        self.messages.append(f"{record.levelname}: {record.getMessage()}"[:500])


def rss_kb() -> int:
    """This process's resident memory now, in KiB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def _pdf_bytes(job: PdfJob, fetcher: StaticFetcher) -> bytes:
    """One weasyprint rendering: tagged, in the job's variant, with its attachments."""
    attachments = [
        Attachment(
            string=text, name=name, description=about, relationship="Data", url_fetcher=fetcher
        )
        for name, text, about in job.attachments
    ]
    document = HTML(string=job.html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(
        stylesheets=[stylesheet()],
        pdf_variant=job.variant,
        pdf_tags=True,
        attachments=attachments,
    )
    return pdf


def write_pdf(job: PdfJob) -> RenderResult:
    """Render a job in this process, collecting weasyprint's log and the fetcher's requests."""
    fetcher, collect = StaticFetcher(), _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    start, start_cpu, start_rss = time.perf_counter(), time.process_time(), rss_kb()
    try:
        pdf = _pdf_bytes(job, fetcher)
    finally:
        logger.removeHandler(collect)
    return RenderResult(
        pdf,
        collect.messages,
        fetcher.requested,
        fetcher.refused,
        seconds=time.perf_counter() - start,
        cpu_seconds=time.process_time() - start_cpu,
        start_rss_kb=start_rss,
        peak_rss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )


# Every kind of text a report sets (headings, bold, italic, tables, code, an SVG), so
# that each font face is loaded and laid out once before any child is forked.
WARM_UP_HTML = """<html lang="en"><head><title>warm-up</title></head><body>
<header class="cover"><p class="eyebrow">Warm-up</p><h1 class="subject">Warm-up Ltd</h1>
<dl class="facts"><div><dt>Kind</dt><dd>Business</dd></div></dl></header>
<h2>Why the score is 88.00</h2><h3>Counting (1)</h3>
<p><strong>Bold</strong> <em>italic</em> <strong><em>both</em></strong> <code>R-2026-000001</code>
<small>small</small> − · “quoted” 12 January 2027</p>
<table class="explanation"><caption>Table</caption><thead><tr><th>Record</th>
<th class="num">Points</th></tr></thead><tbody><tr><th scope="row">R-1</th>
<td class="num">−12.00</td></tr></tbody></table>
<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20" role="img"><title>chart</title>
<polyline points="0,10 30,5 60,15" fill="none" stroke="black"/><text x="2" y="18">90</text></svg>
</body></html>"""


def warm_up() -> None:
    """Render a document of every text style once, so fonts and the stylesheet are loaded."""
    write_pdf(PdfJob(WARM_UP_HTML))
