"""The board report as a PDF for board papers, made on the server (WeasyPrint)."""

from __future__ import annotations

import subprocess  # nosec B404 - the PDF writer, our own script
import sys
from pathlib import Path

from engage.errors import EngageError

_WRITER = Path(__file__).with_name("pdf_writer.py")
#: The PDF's own stylesheet (A4 pages, page numbers), beside the site's.
STYLESHEET = (
    Path(__file__).resolve().parents[2] / "static" / "css" / "board-report-pdf.css"
)
#: How long the PDF may take: a quarter's report takes a second or two.
PDF_SECONDS = 30.0


class PdfError(EngageError):
    """The PDF could not be made (too long a report, or the writer failed)."""


def report_pdf(html: str, *, seconds: float = PDF_SECONDS) -> bytes:
    """The PDF of the report's HTML, made by a process stopped after ``seconds``."""
    try:
        # Our own script, run by this interpreter; the HTML goes on standard input,
        # never on the command line.
        done = subprocess.run(  # noqa: S603  # nosec B603
            [sys.executable, "-I", str(_WRITER), str(STYLESHEET)],
            input=html.encode("utf-8"),
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PdfError(
            "The PDF took too long to make. Print the page instead, or download "
            "the report as Excel."
        ) from error
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        raise PdfError(
            "The PDF could not be made. Print the page instead, or download the "
            "report as Excel."
        )
    return done.stdout
