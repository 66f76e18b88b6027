"""The interaction log beyond recording one: attachments and deleting.

Files kept with an interaction are checked on upload (engage/uploads.py) and audited
when added, removed or downloaded (they may hold personal data). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from datetime import datetime

from engage import uploads
from engage.accounts.models import User
from engage.audit.services import record_event
from engage.errors import ValidationError
from engage.extensions import db
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionAttachment

#: At most this many files an interaction, each at most this large.
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
#: The types an attachment may be, told by its bytes.
ATTACHMENT_TYPES = (
    uploads.PDF,
    uploads.DOCX,
    uploads.XLSX,
    uploads.JPEG,
    uploads.PNG,
    uploads.TEXT,
)


def read_attachments(files: Sequence[uploads.Upload]) -> list[uploads.CheckedFile]:
    """Check every file uploaded at once (files without a name were not chosen)."""
    chosen = uploads.chosen(files)
    if len(chosen) > MAX_ATTACHMENTS:
        raise ValidationError(
            f"Upload at most {MAX_ATTACHMENTS} files for an interaction."
        )
    return [
        uploads.read_upload(
            upload,
            types=ATTACHMENT_TYPES,
            max_bytes=MAX_ATTACHMENT_BYTES,
            called="A file",
            stem="attachment",
            wrong_type_advice="Attach a PDF, a Word or Excel file, a photo (JPEG or "
            "PNG) or a plain text file.",
            too_large_advice="Upload a smaller copy.",
        )
        for upload in chosen
    ]


def change_attachments(
    interaction: Interaction,
    files: Sequence[uploads.CheckedFile],
    *,
    actor: User | str,
    now: datetime,
    remove_ids: Collection[int] = (),
) -> None:
    """Remove the attachments in ``remove_ids`` and add ``files`` (at most
    MAX_ATTACHMENTS in all)."""
    removing = [a for a in interaction.attachments if a.id in set(remove_ids)]
    kept = len(interaction.attachments) - len(removing)
    if kept + len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            f"An interaction can have at most {MAX_ATTACHMENTS} files: it has "
            f"{kept}. Remove some first."
        )
    for attachment in removing:
        interaction.attachments.remove(attachment)
        record_event(
            actor,
            "delete",
            "interaction_attachment",
            attachment.id,
            f"removed from interaction {interaction.id}",
            now=now,
        )
    for checked in files:
        attachment = InteractionAttachment(
            filename=checked.filename,
            content_type=checked.content_type,
            size=len(checked.data),
            data=checked.data,
            uploaded_at=now,
        )
        interaction.attachments.append(attachment)
        db.session.flush()
        record_event(
            actor,
            "create",
            "interaction_attachment",
            attachment.id,
            f"a file added to interaction {interaction.id}",
            now=now,
        )
    db.session.flush()


def record_download(
    attachment: InteractionAttachment, *, actor: User | str, now: datetime
) -> None:
    """Audit a download of an attachment."""
    record_event(
        actor,
        "view",
        "interaction_attachment",
        attachment.id,
        f"downloaded from interaction {attachment.interaction_id}",
        now=now,
    )


def record_view(interaction: Interaction, *, actor: User | str, now: datetime) -> None:
    """Audit a look at a draft filed from email: its summary is the message as
    written, not yet replaced by staff's own account of it."""
    if interaction.is_draft and interaction.source_key is not None:
        record_event(
            actor,
            "view",
            "interaction",
            interaction.id,
            "draft from email opened",
            now=now,
        )


def delete_interaction(
    interaction: Interaction, *, actor: User | str, now: datetime
) -> None:
    """Delete an interaction, its attachments and links; its commitments stay (no
    longer tied to it)."""
    summary = (
        f"{interaction.kind.value} on {interaction.occurred_on.isoformat()}"
        f"{' (draft)' if interaction.is_draft else ''}"
    )
    for commitment in list(interaction.commitments):
        commitment.interaction = None
    record_event(actor, "delete", "interaction", interaction.id, summary, now=now)
    db.session.delete(interaction)
    db.session.flush()
