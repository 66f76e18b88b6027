"""Lists that admins keep of named things: channels, programmes, GP practices, topics.

Each name is unique ignoring case and surrounding spaces; an item is added, renamed or
retired (``is_active``), never deleted while anything points to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from sqlalchemy import func
from sqlalchemy import select

from engage.audit.services import record_event
from engage.errors import Conflict
from engage.errors import ValidationError
from engage.extensions import db

if TYPE_CHECKING:
    from engage.accounts.models import User

M = TypeVar("M")


def by_name(model: type[M], name: str) -> M | None:
    """The ``model`` row called ``name``, ignoring case and surrounding spaces."""
    column: Any = getattr(model, "name")  # noqa: B009 - every named model has one
    found: M | None = db.session.scalar(
        select(model).where(func.lower(column) == name.strip().lower())
    )
    return found


def save_named(
    model: type[M],
    item: M | None,
    *,
    noun: str,
    name: str,
    values: Mapping[str, object],
    actor: User | str,
    now: datetime,
    summary: str | None = None,
) -> M:
    """Add an item (``item`` None) or change one; ``values`` are its other columns.

    The audit event's summary is the item's name unless ``summary`` is given.
    """
    name = name.strip()
    if not name:
        raise ValidationError(f"Enter the {noun}'s name")
    other: Any = by_name(model, name)
    if other is not None and (item is None or other.id != getattr(item, "id", None)):
        raise Conflict(f"A {noun} with that name already exists.")
    action = "update"
    if item is None:
        item = model()
        db.session.add(item)
        action = "create"
    row: Any = item
    row.name = name
    for column, value in values.items():
        setattr(row, column, value)
    db.session.flush()
    record_event(
        actor, action, noun, row.id, name if summary is None else summary, now=now
    )
    return item
