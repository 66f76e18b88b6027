"""The board report's commentary: what the lead writes for a quarter, kept with it."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.extensions import db


class BoardCommentary(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """The lead's commentary on one quarter's board report (one per quarter)."""

    __tablename__ = "board_commentaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The quarter as the report's ``quarter`` value: ``2026-Q3``.
    quarter: Mapped[str] = mapped_column(String(7), unique=True)
    #: Plain text; paragraphs are separated by blank lines.
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    updated_by = relationship("User")

    @property
    def paragraphs(self) -> list[str]:
        """The text as paragraphs (blank lines between them), for the page and PDF."""
        parts = self.body.replace("\r\n", "\n").split("\n\n")
        return [part.strip() for part in parts if part.strip()]
