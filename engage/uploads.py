"""Uploaded files: told by their bytes, bounded in size, never read past the limit.

A file's type is what its first bytes say it is (never its name or the browser's
word): PDF, JPEG and PNG by their signatures; a Word or Excel file is a ZIP archive
holding the part that makes it one (only the archive's list of names is read, never
a part); plain text is UTF-8 without control characters. A file larger than the
limit is refused by its size before anything is read, where the stream tells it, and
otherwise by reading no more than one byte beyond the limit. Expense receipts
(``engage/involvement/claims.py``) and interaction attachments use these checks.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO
from typing import Protocol

from engage.errors import ValidationError

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()-]+")
#: Enough of a file's start to tell every signature below.
_HEAD_BYTES = 8
#: Control characters a plain text file may hold: tab, line feed, form feed, return.
_TEXT_CONTROLS = frozenset("\t\n\x0c\r")


class Upload(Protocol):
    """What an upload offers (Werkzeug's FileStorage does)."""

    filename: str | None
    stream: IO[bytes]


@dataclass(frozen=True)
class FileType:
    """A type of file accepted: its name in messages, how it is sent back, and how its
    bytes are told (a signature; for Word and Excel, a part inside the ZIP)."""

    name: str
    content_type: str
    extension: str
    signature: bytes | None
    zip_part: str | None = None

    def matches(self, data: bytes) -> bool:
        if self.signature is None:
            return _is_plain_text(data)
        if not data.startswith(self.signature):
            return False
        return self.zip_part is None or _zip_holds(data, self.zip_part)


PDF = FileType("PDF", "application/pdf", "pdf", b"%PDF-")
JPEG = FileType("JPEG", "image/jpeg", "jpg", b"\xff\xd8\xff")
PNG = FileType("PNG", "image/png", "png", b"\x89PNG\r\n\x1a\n")
DOCX = FileType(
    "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
    b"PK\x03\x04",
    "word/document.xml",
)
XLSX = FileType(
    "Excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsx",
    b"PK\x03\x04",
    "xl/workbook.xml",
)
TEXT = FileType("plain text", "text/plain", "txt", None)


def _zip_holds(data: bytes, part: str) -> bool:
    """Whether the ZIP archive ``data`` lists ``part`` (nothing is decompressed)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return part in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return False


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return bool(text) and not any(
        (ord(ch) < 32 and ch not in _TEXT_CONTROLS) or ord(ch) == 127 for ch in text
    )


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks: its cleaned name, type and bytes."""

    filename: str
    content_type: str
    data: bytes


def clean_filename(name: str, extension: str, *, stem: str = "file") -> str:
    """A file name safe to store and send back: no folders, odd characters or tricks,
    at most 100 characters, ending in the extension of the type its bytes are
    (``stem`` when nothing of the name is left)."""
    base = re.split(r"[\\/]", name or "")[-1]
    kept = base.rsplit(".", 1)[0] if "." in base else base
    kept = " ".join(_UNSAFE_NAME.sub(" ", kept).split()).strip(" .")[:90]
    return f"{kept or stem}.{extension}"


def _shown_name(name: str) -> str:
    """The name a file was sent with, extension and all ("fake.pdf"), made safe to
    show: messages name the file as the person knows it."""
    base = re.split(r"[\\/]", name)[-1]
    return " ".join(_UNSAFE_NAME.sub(" ", base).split()).strip(" .")[:100]


def _size_without_reading(stream: IO[bytes]) -> int | None:
    """The stream's size if it can be seeked (Werkzeug spools uploads to a file)."""
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
        size = stream.seek(0, 2) - start
        stream.seek(start)
    except (OSError, ValueError, AttributeError):
        return None
    return size


def type_names(types: Sequence[FileType]) -> str:
    names = [t.name for t in types]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def read_upload(
    upload: Upload,
    *,
    types: Sequence[FileType],
    max_bytes: int,
    called: str,
    stem: str,
    wrong_type_advice: str,
    too_large_advice: str,
) -> CheckedFile:
    """Check one upload and read it (at most ``max_bytes`` + 1 bytes).

    ``called`` names the file in messages when it has no name of its own ("A
    receipt"); ``stem`` is the name it is kept under then. The advice follows the
    message saying what is wrong.
    """
    shown = _shown_name(upload.filename or "") or called
    size = _size_without_reading(upload.stream)
    too_large = ValidationError(
        f"{shown} is larger than {max_bytes // (1024 * 1024)} MB. {too_large_advice}"
    )
    if size is not None and size > max_bytes:
        raise too_large
    head = upload.stream.read(_HEAD_BYTES)
    wrong_type = ValidationError(
        f"{shown} is not a {type_names(types)} file. {wrong_type_advice}"
    )
    # A type told by its signature is refused before the rest is read.
    if not any(t.signature is None or head.startswith(t.signature) for t in types):
        raise wrong_type
    data = head + upload.stream.read(max_bytes + 1 - len(head))
    if len(data) > max_bytes:
        raise too_large
    found = next((t for t in types if t.matches(data)), None)
    if found is None:
        raise wrong_type
    return CheckedFile(
        clean_filename(upload.filename or "", found.extension, stem=stem),
        found.content_type,
        data,
    )


def chosen(uploads: Sequence[Upload | None]) -> list[Upload]:
    """The files chosen (an empty file box sends a part with no name)."""
    return [u for u in uploads if u is not None and (u.filename or "").strip()]
