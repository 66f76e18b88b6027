"""PDFs made on the server by WeasyPrint, each in its own process with a time limit."""

from __future__ import annotations

import subprocess  # nosec B404 - the PDF writer, our own script
import sys
from pathlib import Path

from engage.errors import EngageError

_WRITER = Path(__file__).with_name("pdf_writer.py")
#: The PDFs' own stylesheets live beside the site's.
STYLESHEETS = Path(__file__).resolve().parents[1] / "static" / "css"


class PdfError(EngageError):
    """The PDF could not be made (too long a document, or the writer failed)."""


def html_pdf(html: str, *, stylesheet: Path, seconds: float, advice: str) -> bytes:
    """The PDF of ``html`` laid out with ``stylesheet``, made by a process stopped
    after ``seconds``; ``advice`` (what to do instead) ends a PdfError's message."""
    try:
        # Our own script, run by this interpreter; the HTML goes on standard input,
        # never on the command line.
        done = subprocess.run(  # noqa: S603  # nosec B603
            [sys.executable, "-I", str(_WRITER), str(stylesheet)],
            input=html.encode("utf-8"),
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PdfError(f"The PDF took too long to make. {advice}") from error
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        raise PdfError(f"The PDF could not be made. {advice}")
    return done.stdout
