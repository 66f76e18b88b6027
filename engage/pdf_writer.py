"""Making a PDF with WeasyPrint, in a process of its own (the board report, letters).

``engage.pdf`` runs this file as a script (``python -I pdf_writer.py STYLESHEET``)
with the document's HTML on standard input and reads the PDF from standard output,
stopping it after a time limit: a very long document costs a short-lived process,
never a web worker. The PDF is tagged (PDF/UA-1: headings, tables and reading order
for screen readers), with the document's title and language taken from the HTML.
Nothing is fetched: images are left out (their alt text stays in the tags) and the
stylesheet is read from disk.

It imports nothing from Engage (the package would take longer to load than a
document takes to lay out).
"""

from __future__ import annotations

import sys

#: The most memory the process may take (address space, bytes).
MEMORY_LIMIT = 2 * 1024 * 1024 * 1024


def _refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"Engage's PDFs fetch nothing ({url[:60]})")


def write_pdf(html: str, stylesheet: str) -> bytes:
    """The PDF of ``html`` laid out with the ``stylesheet`` file."""
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_refuse)
    pdf: bytes = document.write_pdf(
        stylesheets=[weasyprint.CSS(filename=stylesheet)],
        pdf_variant="pdf/ua-1",
        pdf_tags=True,
    )
    return pdf


def main() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    html = sys.stdin.buffer.read().decode("utf-8")
    sys.stdout.buffer.write(write_pdf(html, sys.argv[1]))


if __name__ == "__main__":
    main()
