"""Logging interactions: the form and its refusals, drafts confirmed, attachments, the
list and its filters, the audience page's timeline, deleting, and who may do what."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from engage import uploads
from engage.audit.models import AuditEvent
from engage.clock import today
from engage.clock import utcnow
from engage.errors import ValidationError
from engage.extensions import db
from engage.formtools import NOT_A_CHOICE
from engage.relationships import log
from engage.relationships.models import Direction
from engage.relationships.models import Interaction
from engage.relationships.models import InteractionAttachment
from engage.relationships.models import InteractionKind
from engage.relationships.models import InteractionStatus
from engage.relationships.models import Sentiment
from engage.relationships.models import interaction_audiences
from engage.relationships.models import interaction_themes
from engage.relationships.services import InteractionData
from engage.relationships.services import record_interaction
from engage.relationships.services import update_interaction
from tests import factories
from tests.pager import assert_stale_links_give_the_first_page
from tests.pager import pager_links

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _office(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buffer.getvalue()


def _form(audience: Any, **given: Any) -> MultiDict[str, Any]:
    day = given.pop("day", today())
    values: dict[str, Any] = {
        "kind": "meeting",
        "direction": "outbound",
        "occurred_on-day": str(day.day),
        "occurred_on-month": str(day.month),
        "occurred_on-year": str(day.year),
        "subject": "Stroke services review",
        "summary": "They asked about travel times.",
        "audiences": [str(audience.id)],
        "sentiment": "mixed",
    }
    values.update(given)
    data: MultiDict[str, Any] = MultiDict()
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                item = FileStorage(stream=item[0], filename=item[1])
            data.add(key, item)
    return data


def _post(client: Any, url: str, data: MultiDict[str, Any]) -> Any:
    """Send a form as the browser does, files and all, from memory (the test client
    would spool a large body to a temporary file it does not close)."""
    boundary, body = encode_multipart(data)
    return client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


# Services -----------------------------------------------------------------------------


def test_attachments_are_told_by_their_bytes() -> None:
    def read(data: bytes, name: str) -> uploads.CheckedFile:
        return log.read_attachments([FileStorage(io.BytesIO(data), name)])[0]

    assert read(PDF, "notes.txt").content_type == "application/pdf"
    assert read(PDF, "notes.txt").filename == "notes.pdf"
    assert read(_office("word/document.xml"), "a.xlsx").filename == "a.docx"
    assert read(_office("xl/workbook.xml"), "b").filename == "b.xlsx"
    assert read("Notes: café\n".encode(), "n.exe").content_type == "text/plain"
    for bad in (b"MZ\x90\x00binary", _office("other/part.xml"), b"\x00\x01\x02"):
        with pytest.raises(ValidationError, match="is not a PDF, Word, Excel"):
            read(bad, "x.pdf")


def test_an_attachment_over_the_limit_is_not_read_past_it() -> None:
    class Endless(io.RawIOBase):
        read_so_far = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            size = len(buffer)
            buffer[:size] = b"a" * size
            self.read_so_far += size
            return size

    stream = Endless()
    with pytest.raises(ValidationError, match="larger than 5 MB"):
        log.read_attachments([FileStorage(stream, "big.txt")])  # type: ignore[arg-type]
    assert stream.read_so_far <= log.MAX_ATTACHMENT_BYTES + 1
    with pytest.raises(ValidationError, match="at most 5 files"):
        log.read_attachments([FileStorage(io.BytesIO(PDF), "a.pdf")] * 6)


def _link_copies(interaction: Interaction) -> set[tuple[str, Any, Any, Any]]:
    """The day, sentiment and confirmed flag each link row of ``interaction`` holds."""
    found = set()
    for name, link in (
        ("audience", interaction_audiences),
        ("theme", interaction_themes),
    ):
        rows = db.session.execute(
            select(link.c.occurred_on, link.c.sentiment, link.c.confirmed).where(
                link.c.interaction_id == interaction.id
            )
        )
        found |= {(name, *row) for row in rows}
    return found


def test_link_rows_carry_the_day_sentiment_and_status_through_every_change(
    cast: dict[str, Any],
) -> None:
    """Last contact, health and theme counts read these copies, not the interaction."""
    first, second = factories.AudienceFactory(), factories.AudienceFactory()
    theme = factories.ThemeFactory()
    day = today() - timedelta(days=10)
    data = InteractionData(
        kind=InteractionKind.MEETING,
        direction=Direction.OUTBOUND,
        occurred_on=day,
        subject="Parking at the new hub",
        audience_ids=(first.id,),
        theme_ids=(theme.id,),
    )
    interaction = record_interaction(
        data, actor=cast["officer"], now=utcnow(), status=InteractionStatus.DRAFT
    )
    db.session.commit()
    assert _link_copies(interaction) == {
        ("audience", day, None, False),
        ("theme", day, None, False),
    }

    later = day + timedelta(days=3)
    update_interaction(
        interaction,
        replace(
            data,
            occurred_on=later,
            sentiment=Sentiment.NEGATIVE,
            audience_ids=(first.id, second.id),
        ),
        actor=cast["officer"],
        now=utcnow(),
        confirm=True,
    )
    db.session.commit()
    db.session.expire_all()
    assert _link_copies(interaction) == {
        ("audience", later, Sentiment.NEGATIVE, True),
        ("theme", later, Sentiment.NEGATIVE, True),
    }
    linked = interaction_audiences.c.interaction_id == interaction.id
    assert db.session.scalar(select(func.count()).where(linked)) == 2

    update_interaction(
        interaction,
        replace(data, occurred_on=later, sentiment=Sentiment.POSITIVE),
        actor=cast["officer"],
        now=utcnow(),
    )
    db.session.commit()
    assert _link_copies(interaction) == {
        ("audience", later, Sentiment.POSITIVE, True),
        ("theme", later, Sentiment.POSITIVE, True),
    }


def test_deleting_keeps_the_commitments_and_is_audited(cast: dict[str, Any]) -> None:
    audience = factories.AudienceFactory()
    interaction = factories.InteractionFactory(audiences=[audience])
    commitment = factories.CommitmentFactory(audience=audience, interaction=interaction)
    interaction_id = interaction.id
    log.delete_interaction(interaction, actor=cast["officer"], now=utcnow())
    db.session.commit()
    assert db.session.get(Interaction, interaction_id) is None
    assert commitment.interaction_id is None
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "interaction", AuditEvent.action == "delete"
        )
    )


# Logging one through the form ---------------------------------------------------------


def test_an_officer_logs_an_interaction(client: Any, login: Any, cast: Any) -> None:
    audience = factories.AudienceFactory(name="Northfield Council")
    contact = factories.ContactFactory(audience=audience, name="Cllr Patel")
    theme = factories.ThemeFactory(name="Parking")
    login(cast["officer"])

    page = client.get(f"/relationships/interactions/new?audience_id={audience.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Cllr Patel" in text
    assert "Parking" in text
    assert f'value="{audience.id}" checked' in text

    data = _form(
        audience,
        contacts=[str(contact.id)],
        themes=[str(theme.id)],
        staff=[str(cast["officer"].id)],
        attachments=[(io.BytesIO(PDF), "minutes.pdf")],
    )
    response = _post(client, "/relationships/interactions/new", data)
    assert response.status_code == 302
    interaction = db.session.scalar(select(Interaction))
    assert interaction is not None
    assert interaction.status is InteractionStatus.CONFIRMED
    assert interaction.sentiment is Sentiment.MIXED
    assert [c.name for c in interaction.contacts] == ["Cllr Patel"]
    assert interaction.owner_id == cast["officer"].id
    assert [a.filename for a in interaction.attachments] == ["minutes.pdf"]

    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Stroke services review" in detail
    assert "minutes.pdf" in detail
    assert (
        f"/relationships/commitments/new?audience_id={audience.id}"
        f"&amp;interaction_id={interaction.id}"
    ) in detail or "Add a commitment" in detail

    attachment = interaction.attachments[0]
    download = client.get(
        f"/relationships/interactions/{interaction.id}/attachments/{attachment.id}"
    )
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "interaction_attachment",
            AuditEvent.action == "view",
        )
    )


def test_show_contacts_offers_the_contacts_of_the_audiences_ticked(
    client: Any, login: Any, cast: Any
) -> None:
    first, second = factories.AudienceFactory(), factories.AudienceFactory()
    factories.ContactFactory(audience=second, name="Dr Okafor")
    login(cast["officer"])
    data = _form(first, audiences=[str(first.id), str(second.id)], show_contacts="1")
    response = client.post("/relationships/interactions/new", data=data)
    assert response.status_code == 200
    assert "Dr Okafor" in response.get_data(as_text=True)
    assert "There is a problem" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Interaction.id))) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subject": ""}, "Enter a short heading for the interaction"),
        ({"audiences": []}, "Choose at least one audience"),
        ({"audiences": ["999999"]}, "Select one of the options shown"),
        ({"kind": "fax"}, "Select one of the options shown"),
        ({"kind": []}, "Select how it took place"),
        ({"direction": []}, "Select who made contact"),
        ({"sentiment": []}, "Select how it went"),
        ({"sentiment": "ecstatic"}, "Select one of the options shown"),
        ({"day": "future"}, "The date must be today or in the past"),
        ({"occurred_on-month": "13"}, "The date must be a real date"),
        ({"staff": ["abc"]}, "Select one of the options shown"),
        ({"themes": ["2147483648"]}, "Select one of the options shown"),
        ({"contacts": "other"}, "Each contact must belong to one of the audiences"),
        (
            {"attachments": [(io.BytesIO(b"MZ\x90\x00"), "virus.pdf")]},
            "virus.pdf is not a PDF, Word, Excel, JPEG, PNG or plain text file",
        ),
        (
            {
                "attachments": [
                    (io.BytesIO(b"%PDF-" + b"a" * log.MAX_ATTACHMENT_BYTES), "big.pdf")
                ]
            },
            "big.pdf is larger than 5 MB",
        ),
    ],
)
def test_every_bad_input_is_shown_on_the_form(
    client: Any, login: Any, cast: Any, change: dict[str, Any], message: str
) -> None:
    audience = factories.AudienceFactory()
    elsewhere = factories.ContactFactory()
    if change.get("contacts") == "other":
        change["contacts"] = [str(elsewhere.id)]
    if change.get("day") == "future":
        change["day"] = today() + timedelta(days=1)
    login(cast["officer"])
    response = _post(
        client, "/relationships/interactions/new", _form(audience, **change)
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "There is a problem" in text
    assert message in text
    assert db.session.scalar(select(func.count(Interaction.id))) == 0


def test_an_edit_opened_before_another_save_is_shown_back(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    audience = factories.AudienceFactory()
    interaction = factories.InteractionFactory(audiences=[audience], subject="First")
    login(cast["officer"])
    url = f"/relationships/interactions/{interaction.id}/edit"
    page = client.get(url).get_data(as_text=True)
    opened = re.search(r'name="opened_at" type="hidden" value="([^"]+)"', page)
    assert opened is not None
    client.post(
        url,
        data={**_form(audience, subject="Tab B"), "opened_at": opened.group(1)},
    )
    late = client.post(
        url,
        data={**_form(audience, subject="Tab A"), "opened_at": opened.group(1)},
    ).get_data(as_text=True)
    assert "This interaction was saved at" in late
    db.session.refresh(interaction)
    assert interaction.subject == "Tab B"


def test_a_draft_is_marked_and_confirmed_by_saving(
    client: Any, login: Any, cast: Any
) -> None:
    audience = factories.AudienceFactory()
    draft = factories.InteractionFactory(
        audiences=[audience], status=InteractionStatus.DRAFT, sentiment=None
    )
    login(cast["officer"])
    page = client.get(f"/relationships/interactions/{draft.id}").get_data(as_text=True)
    assert "Draft: not yet counted as contact" in page
    form = client.get(f"/relationships/interactions/{draft.id}/edit")
    assert "Confirm and save" in form.get_data(as_text=True)
    # Needed to confirm it, so never labelled optional.
    assert "How did it go?" in form.get_data(as_text=True)
    assert "How did it go? (optional)" not in form.get_data(as_text=True)

    without = _form(audience, subject=draft.subject, sentiment=[])
    refused = client.post(f"/relationships/interactions/{draft.id}/edit", data=without)
    assert "Select how it went" in refused.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.is_draft

    response = client.post(
        f"/relationships/interactions/{draft.id}/edit",
        data=_form(audience, sentiment="positive"),
    )
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status is InteractionStatus.CONFIRMED
    assert draft.sentiment is Sentiment.POSITIVE
    assert db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "interaction", AuditEvent.action == "confirm"
        )
    )


def test_opening_a_draft_filed_from_e_mail_is_audited(
    client: Any, login: Any, cast: Any
) -> None:
    """Its summary is the message as written; once confirmed, staff's own account."""
    audience = factories.AudienceFactory()
    from_e_mail = factories.InteractionFactory(
        audiences=[audience],
        status=InteractionStatus.DRAFT,
        sentiment=None,
        source_key="<m1@trust.example>",
    )
    typed = factories.InteractionFactory(audiences=[audience])
    login(cast["officer"])

    def views() -> list[tuple[int, str]]:
        return [
            (event.entity_id, event.summary)
            for event in db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity_type == "interaction",
                    AuditEvent.action == "view",
                )
            )
        ]

    assert client.get(f"/relationships/interactions/{typed.id}").status_code == 200
    assert views() == []
    draft_page = client.get(f"/relationships/interactions/{from_e_mail.id}")
    assert draft_page.status_code == 200
    assert views() == [(str(from_e_mail.id), "draft from email opened")]
    from_e_mail.status = InteractionStatus.CONFIRMED
    from_e_mail.sentiment = Sentiment.NEUTRAL
    db.session.commit()
    client.get(f"/relationships/interactions/{from_e_mail.id}")
    assert len(views()) == 1


def test_attachments_are_removed_and_limited_when_changing(
    client: Any, login: Any, cast: Any
) -> None:
    audience = factories.AudienceFactory()
    interaction = record_interaction(
        InteractionData(
            kind=InteractionKind.CALL,
            direction=Direction.INBOUND,
            occurred_on=today(),
            subject="Call",
            sentiment=Sentiment.NEUTRAL,
            audience_ids=(audience.id,),
        ),
        actor=cast["officer"],
        now=utcnow(),
    )
    files = log.read_attachments(
        [FileStorage(io.BytesIO(PDF), f"f{n}.pdf") for n in range(5)]
    )
    log.change_attachments(interaction, files, actor=cast["officer"], now=utcnow())
    db.session.commit()
    login(cast["officer"])
    url = f"/relationships/interactions/{interaction.id}/edit"
    more = _form(audience, attachments=[(io.BytesIO(PNG), "photo.png")])
    refused = _post(client, url, more)
    assert "at most 5 files" in refused.get_data(as_text=True)

    first = interaction.attachments[0].id
    swap = _form(
        audience,
        remove_attachments=[str(first)],
        attachments=[(io.BytesIO(PNG), "photo.png")],
    )
    assert _post(client, url, swap).status_code == 302
    names = db.session.scalars(
        select(InteractionAttachment.filename).where(
            InteractionAttachment.interaction_id == interaction.id
        )
    ).all()
    assert sorted(names) == ["f1.pdf", "f2.pdf", "f3.pdf", "f4.pdf", "photo.png"]


def test_deleting_asks_first(client: Any, login: Any, cast: Any) -> None:
    interaction = factories.InteractionFactory(
        audiences=[factories.AudienceFactory()], subject="Old meeting"
    )
    interaction_id = interaction.id
    login(cast["officer"])
    url = f"/relationships/interactions/{interaction_id}/delete"
    assert "Delete Old meeting?" in client.get(url).get_data(as_text=True)
    response = client.post(url)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Interaction, interaction_id) is None


# The list and the timeline ------------------------------------------------------------


def test_the_list_filters(client: Any, login: Any, cast: Any) -> None:
    council, practice = factories.AudienceFactory(), factories.AudienceFactory()
    theme = factories.ThemeFactory()
    day = today()
    factories.InteractionFactory(
        audiences=[council], subject="Council call", kind=InteractionKind.CALL,
        occurred_on=day - timedelta(days=40), owner=cast["officer"],
    )  # fmt: skip
    factories.InteractionFactory(
        audiences=[practice], subject="Practice letter", themes=[theme],
        kind=InteractionKind.LETTER, sentiment=Sentiment.NEGATIVE,
    )  # fmt: skip
    factories.InteractionFactory(
        audiences=[practice], subject="Practice draft", sentiment=None,
        status=InteractionStatus.DRAFT,
    )  # fmt: skip
    login(cast["officer"])

    def shown(query: str) -> set[str]:
        text = client.get(f"/relationships/interactions/?{query}").get_data(
            as_text=True
        )
        return {
            s
            for s in ("Council call", "Practice letter", "Practice draft")
            if s in text
        }

    assert shown("") == {"Council call", "Practice letter", "Practice draft"}
    assert shown(f"audience={council.id}") == {"Council call"}
    assert shown(f"theme={theme.id}") == {"Practice letter"}
    assert shown("kind=letter") == {"Practice letter"}
    assert shown("sentiment=negative") == {"Practice letter"}
    assert shown("status=draft") == {"Practice draft"}
    assert shown("owner=mine") == {"Council call"}
    since = day - timedelta(days=10)
    assert shown(f"since={since.isoformat()}") == {"Practice letter", "Practice draft"}
    assert shown(f"until={since.isoformat()}") == {"Council call"}
    # Values no page offers are no filter, never an error.
    for hostile in ("audience=abc", "kind=%00", "since=2026-99-99", "page=-1"):
        assert client.get(f"/relationships/interactions/?{hostile}").status_code < 500


def test_a_filter_left_out_of_a_link_means_any_without_an_error(
    client: Any, login: Any, cast: Any
) -> None:
    council, practice = factories.AudienceFactory(), factories.AudienceFactory()
    theme = factories.ThemeFactory()
    factories.InteractionFactory(
        audiences=[council], subject="Council call", themes=[theme]
    )
    factories.InteractionFactory(
        audiences=[practice], subject="Practice draft", sentiment=None,
        status=InteractionStatus.DRAFT,
    )  # fmt: skip
    login(cast["lead"])
    # The links other pages make name one filter (an audience's page, a theme's);
    # the filters they leave out, "Logged by" among them, are "any".
    for query, expected in (
        (f"audience={council.id}", {"Council call"}),
        (f"theme={theme.id}", {"Council call"}),
        ("status=draft", {"Practice draft"}),
        ("page=-1", {"Council call", "Practice draft"}),
        ("", {"Council call", "Practice draft"}),
    ):
        response = client.get(f"/relationships/interactions/?{query}")
        text = response.get_data(as_text=True)
        assert response.status_code == 200, query
        assert NOT_A_CHOICE not in text, query
        assert "nhsuk-error-message" not in text, query
        shown = {s for s in ("Council call", "Practice draft") if s in text}
        assert shown == expected, query


def test_the_list_pages_newest_first_by_its_keys(
    client: Any, login: Any, cast: Any
) -> None:
    practice = factories.AudienceFactory()
    day = today()
    # Thirty on one day (ties on the date, then newest logged first), one older.
    for number in range(30):
        factories.InteractionFactory(
            audiences=[practice], subject=f"Visit {number:02}", occurred_on=day
        )
    factories.InteractionFactory(
        audiences=[practice], subject="Visit 30", occurred_on=day - timedelta(days=1)
    )
    login(cast["officer"])
    first = client.get(f"/relationships/interactions/?audience={practice.id}").get_data(
        as_text=True
    )
    assert "31 interactions" in first
    visits = re.findall(r"Visit \d\d", first)
    assert visits == [f"Visit {n:02}" for n in range(29, 4, -1)]  # 25 a page
    links = pager_links(first)
    assert f"audience={practice.id}" in links["next"]
    second = client.get(links["next"]).get_data(as_text=True)
    assert re.findall(r"Visit \d\d", second) == [
        f"Visit {n:02}" for n in (4, 3, 2, 1, 0, 30)
    ]
    # The last page is the oldest 25; the previous page from the second, the first.
    everything = visits + re.findall(r"Visit \d\d", second)
    last = client.get(pager_links(first)["last"]).get_data(as_text=True)
    assert re.findall(r"Visit \d\d", last) == everything[-25:]
    back = client.get(pager_links(second)["previous"]).get_data(as_text=True)
    assert re.findall(r"Visit \d\d", back) == visits
    assert_stale_links_give_the_first_page(
        client,
        "/relationships/interactions/",
        lambda html: re.findall(r"Visit \d\d", html),
        visits,
    )


def test_the_audience_page_shows_its_timeline(
    app: Any, client: Any, login: Any, cast: Any
) -> None:
    audience = factories.AudienceFactory(name="Westgate PCN")
    contact = factories.ContactFactory(audience=audience, name="Ms Rahman")
    day = today()
    for n in range(12):
        factories.InteractionFactory(
            audiences=[audience], subject=f"Catch-up {n:02d}",
            occurred_on=day - timedelta(days=n), contacts=[contact],
        )  # fmt: skip
    factories.InteractionFactory(
        audiences=[audience], subject="Draft from email",
        status=InteractionStatus.DRAFT, sentiment=None,
        occurred_on=day - timedelta(days=3),
    )  # fmt: skip
    login(cast["officer"])
    text = client.get(f"/audiences/{audience.id}").get_data(as_text=True)
    assert "Catch-up 00" in text
    assert "Draft from email" in text
    assert "Catch-up 10" not in text  # only the latest 10
    assert "Draft: not yet counted as contact" in text
    assert "Ms Rahman" in text
    assert "All 13 interactions with Westgate PCN" in text
    assert f"/relationships/interactions/?audience={audience.id}" in text
    assert f"/relationships/interactions/new?audience_id={audience.id}" in text

    reader = app.test_client()
    factories.sign_in(reader, cast["lead"])
    text = reader.get(f"/audiences/{audience.id}").get_data(as_text=True)
    assert "All 13 interactions" in text
    assert "Log an interaction" not in text


def test_the_timeline_names_a_single_interaction_in_words(
    client: Any, login: Any, cast: Any
) -> None:
    audience = factories.AudienceFactory(name="Westgate PCN")
    factories.InteractionFactory(audiences=[audience], subject="First meeting")
    login(cast["officer"])
    text = client.get(f"/audiences/{audience.id}").get_data(as_text=True)
    assert "All 1 interaction" not in text
    assert "The interaction with Westgate PCN in the list of interactions" in text


# Who may do what ----------------------------------------------------------------------


def test_leads_read_and_officers_write(client: Any, login: Any, cast: Any) -> None:
    interaction = factories.InteractionFactory(audiences=[factories.AudienceFactory()])
    base = "/relationships/interactions"
    assert client.get(f"{base}/").status_code == 302  # to sign in
    assert client.get(f"{base}/{interaction.id}").status_code == 302
    login(cast["lead"])
    assert client.get(f"{base}/").status_code == 200
    page = client.get(f"{base}/{interaction.id}")
    assert page.status_code == 200
    assert (
        "Change"
        not in page.get_data(as_text=True).split("<h1>", 1)[1].split("Summary")[0]
    )
    assert client.get(f"{base}/new").status_code == 403
    assert client.get(f"{base}/{interaction.id}/edit").status_code == 403
    assert client.post(f"{base}/{interaction.id}/delete").status_code == 403
    assert db.session.get(Interaction, interaction.id) is not None
    assert client.get(f"{base}/999999").status_code == 404
