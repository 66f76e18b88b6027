"""Forms for expense claims and involvement levels: amounts as people type them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField
from wtforms import StringField
from wtforms.validators import InputRequired
from wtforms.validators import NumberRange

from engage.errors import ValidationError
from engage.formtools import IntegerField
from engage.formtools import MultiCheckboxField
from engage.formtools import RadioField
from engage.formtools import SelectField
from engage.formtools import choices
from engage.formtools import enum_parser
from engage.formtools import parse_id
from engage.formtools import text
from engage.involvement import claims
from engage.involvement.models import ClaimStatus
from engage.involvement.rates import MAX_MILEAGE_PENCE
from engage.involvement.rates import MAX_SESSION_PENCE


class PoundsField(StringField):  # type: ignore[misc]
    """An amount in pounds ("75", "75.00", "£1,000"); ``data`` is whole pence."""

    def __init__(
        self, label: str, *, most_pence: int, required: str | None = None, **kw: Any
    ) -> None:
        super().__init__(label, **kw)
        self.most_pence = most_pence
        self.required = required
        self.typed: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.typed = str(valuelist[0])
        if self.required and not self.typed.strip():
            self.data = None
            raise ValueError(self.required)
        try:
            self.data = claims.parse_pounds(
                self.typed, most_pence=self.most_pence, called=str(self.label.text)
            )
        except ValidationError as error:
            self.data = None
            raise ValueError(error.message) from None

    def _value(self) -> str:
        if self.typed is not None:
            return self.typed
        if isinstance(self.data, int) and self.data:
            return claims.pounds(self.data).lstrip("£").replace(",", "")
        return "0.00" if self.data == 0 and self.required else ""


class MilesField(StringField):  # type: ignore[misc]
    """Miles to one decimal place; ``data`` is a Decimal."""

    def __init__(self, label: str, **kw: Any) -> None:
        super().__init__(label, **kw)
        self.typed: str | None = None

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.typed = str(valuelist[0])
        self.data: Decimal | None
        try:
            self.data = claims.parse_miles(self.typed)
        except ValidationError as error:
            self.data = None
            raise ValueError(error.message) from None

    def _value(self) -> str:
        return self.typed if self.typed is not None else ""


class ClaimForm(FlaskForm):  # type: ignore[misc]
    """The claim itself: travel, fares, carer costs, receipts and a note."""

    expenses_only = BooleanField(
        "Pay my expenses only, not the involvement payment",
        description="For example, if the payment could affect your benefits.",
    )

    miles = MilesField(
        "Miles travelled by car",
        description="There and back, to one decimal place, for example 12.5. "
        "Leave empty if you did not drive.",
    )
    fares = PoundsField(
        "Fares (bus, train, taxi, parking)",
        most_pence=claims.MAX_EXPENSE_PENCE,
        description="In pounds, for example 7.40. Upload a receipt or ticket below.",
    )
    carer = PoundsField(
        "Carer or care costs",
        most_pence=claims.MAX_EXPENSE_PENCE,
        description="In pounds: what you paid a carer, or for care, so you could "
        "take part.",
    )
    details = text(
        "Anything else we should know",
        max_length=claims.MAX_DETAILS,
        lines=True,
        description="For example, the journey you made.",
    )
    receipts = MultipleFileField(
        "Receipts",
        description=f"Up to {claims.MAX_RECEIPTS} files: PDFs or photos (JPEG or "
        f"PNG), each up to {claims.MAX_RECEIPT_BYTES // (1024 * 1024)} MB and "
        "15 MB in all at one time (send the claim again to add more).",
    )
    remove_receipts = MultiCheckboxField("Remove receipts", parse=parse_id)

    def set_receipts(self, existing: list[Any]) -> None:
        """Offer each receipt already uploaded for removal."""
        self.remove_receipts.choices = choices(
            (receipt.id, receipt.filename) for receipt in existing
        )

    @property
    def uploads(self) -> list[Any]:
        """The files chosen (an empty file box sends a part with no name)."""
        return [f for f in (self.receipts.data or []) if getattr(f, "filename", "")]


class StaffClaimForm(ClaimForm):
    """A claim entered by staff for a member invited to, or at, the session: the
    member's fields, worded for the member of staff entering them."""

    member = RadioField(
        "Who is the claim for?",
        validators=[InputRequired("Choose the member the claim is for")],
        parse=parse_id,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expenses_only.label.text = (
            "The member wants their expenses only, not the involvement payment"
        )
        self.expenses_only.description = (
            "For example, if the payment could affect their benefits."
        )
        self.miles.description = (
            "There and back, to one decimal place, for example 12.5. Leave empty "
            "if they did not drive."
        )
        self.carer.description = (
            "In pounds: what they paid a carer, or for care, so they could take part."
        )

    def set_members(self, members: list[Any]) -> None:
        self.member.choices = choices(
            (m.id, f"{m.name or 'No name'} (member number {m.id})") for m in members
        )


class DecisionForm(FlaskForm):  # type: ignore[misc]
    """Approve a claim or not, with a note (needed when not approving)."""

    decision = RadioField(
        "Decision",
        validators=[InputRequired("Choose whether to approve the claim")],
        choices=choices([("approve", "Approve"), ("reject", "Do not approve")]),
    )
    note = text(
        "Note",
        max_length=claims.MAX_NOTE,
        lines=True,
        description="Needed if you do not approve it: the member may be told why.",
    )


class ClaimFilterForm(FlaskForm):  # type: ignore[misc]
    """The claims list's filter (from the query string)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=choices(
            [("", "Any status"), *((s.value, s.label) for s in ClaimStatus)]
        ),
        parse=enum_parser(ClaimStatus),
    )


class ExportForm(FlaskForm):  # type: ignore[misc]
    """Which claims to export (those waiting, or a past export again) and the format."""

    batch = RadioField("Which claims")
    fmt = RadioField(
        "Format",
        choices=choices([("csv", "CSV"), ("xlsx", "Excel workbook (.xlsx)")]),
        default="csv",
    )


class RateForm(FlaskForm):  # type: ignore[misc]
    """An involvement level."""

    name = text("Name", max_length=100, required="Enter the level's name")
    description = text("What it covers", max_length=2000, lines=True)
    session_pounds = PoundsField(
        "Involvement payment for a session",
        most_pence=MAX_SESSION_PENCE,
        required="Enter the payment for a session (0 for expenses only)",
        description="In pounds, for example 75 or 75.00. Enter 0 for expenses only.",
    )
    is_active = BooleanField("In use (activities can be given this level)")


class MileageForm(FlaskForm):  # type: ignore[misc]
    """The organisation's mileage rate."""

    pence = IntegerField(
        "Mileage rate, in pence a mile",
        validators=[
            InputRequired("Enter the mileage rate in pence, like 45"),
            NumberRange(
                0,
                MAX_MILEAGE_PENCE,
                f"The mileage rate must be from 0 to {MAX_MILEAGE_PENCE} pence a mile",
            ),
        ],
        description=f"From 0 to {MAX_MILEAGE_PENCE}. HMRC's approved rate for a car "
        "is 45p a mile for the first 10,000 miles.",
    )
