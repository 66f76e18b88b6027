"""The organisation's identity (one row) and its notices, version by version."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engage.db import TimestampMixin
from engage.db import str_enum
from engage.extensions import db


class Organisation(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """Who runs this Engage: shown on every public page, email and report.

    There is at most one row (id 1); until an admin saves the settings, the defaults in
    ``engage.organisation.defaults`` stand in.
    """

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60))
    address: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    #: Who decides how personal data is used (usually the organisation itself).
    data_controller: Mapped[str] = mapped_column(String(200), default="")
    #: How to reach the data protection officer (name, email or address).
    dpo_contact: Mapped[str] = mapped_column(Text, default="")
    ico_registration: Mapped[str] = mapped_column(String(20), default="")
    #: The lawful basis for the membership scheme, in plain words.
    lawful_basis: Mapped[str] = mapped_column(Text, default="")
    #: Count opens and clicks of mailings (off by default: tracking pixels and
    #: per-person links need consent under PECR, so the organisation decides).
    mailing_tracking: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )
    #: What involvement expense claims pay a mile of travel by car, in pence (HMRC's
    #: approved mileage rate for the first 10,000 miles by default).
    mileage_pence_per_mile: Mapped[int] = mapped_column(default=45, server_default="45")


#: The name of the built-in text: consent given before any notice was published here
#: carries it, and it is kept as version 0 when the first version is published.
BUILT_IN_VERSION = "2026-11"


class NoticeKind(enum.StrEnum):
    """The public statements an admin publishes."""

    PRIVACY = "privacy"
    ACCESSIBILITY = "accessibility"

    @property
    def label(self) -> str:
        return {
            "privacy": "Privacy notice",
            "accessibility": "Accessibility statement",
        }[self.value]


class Notice(db.Model):  # type: ignore[name-defined,misc]
    """One published version of a notice; versions are kept and never changed."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(str_enum(NoticeKind))
    version: Mapped[int]
    #: The text as published, in Markdown (shown with raw HTML escaped).
    body: Mapped[str] = mapped_column(Text)
    #: The admin said the change needs fresh consent: consent given under an earlier
    #: version no longer allows contact until the member gives it again.
    fresh_consent: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime]
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    published_by = relationship("User")

    @property
    def label(self) -> str:
        """How people refer to the version: its number, or the built-in text's name."""
        return BUILT_IN_VERSION if self.version == 0 else str(self.version)
