"""The board report as a PDF for board papers, made on the server (WeasyPrint)."""

from __future__ import annotations

from engage.pdf import STYLESHEETS
from engage.pdf import PdfError
from engage.pdf import html_pdf

__all__ = ["PDF_SECONDS", "STYLESHEET", "PdfError", "report_pdf"]

#: The PDF's own stylesheet (A4 pages, page numbers), beside the site's.
STYLESHEET = STYLESHEETS / "board-report-pdf.css"
#: How long the PDF may take: a quarter's report takes a second or two.
PDF_SECONDS = 30.0


def report_pdf(html: str, *, seconds: float = PDF_SECONDS) -> bytes:
    """The PDF of the report's HTML, made by a process stopped after ``seconds``."""
    return html_pdf(
        html,
        stylesheet=STYLESHEET,
        seconds=seconds,
        advice="Print the page instead, or download the report as Excel.",
    )
