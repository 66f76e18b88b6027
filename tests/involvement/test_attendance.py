"""The attendance register: ticking without JavaScript, walk-ins, staff and guests,
the delivery on the plan, and hostile values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engage.actions.models import Activity
from engage.audit.models import AuditEvent
from engage.clock import local_day
from engage.clock import utcnow
from engage.extensions import db
from engage.involvement.models import Attendance
from engage.involvement.models import InvolvementActivity
from engage.involvement.models import InvolvementInvitation
from engage.involvement.models import Reply
from engage.involvement.models import SendStatus
from engage.membership.models import ContactChannel
from engage.membership.models import Member
from tests.factories import ActionFactory
from tests.involvement.helpers import activity
from tests.involvement.helpers import gold_member


def _held(**fields: Any) -> InvolvementActivity:
    """An activity whose one session was two hours ago (its register is open)."""
    starts = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    return activity(starts=starts, **fields)


def _invite(made: InvolvementActivity, member: Member, reply: Reply) -> None:
    db.session.add(
        InvolvementInvitation(
            session_id=made.sessions[0].id,
            member_id=member.id,
            channel=ContactChannel.EMAIL,
            address=member.email,
            send_status=SendStatus.SENT,
            reply=reply,
        )
    )
    db.session.commit()


def _url(made: InvolvementActivity, tail: str = "") -> str:
    return f"/involvement/{made.id}/sessions/{made.sessions[0].id}/register{tail}"


def _came(made: InvolvementActivity) -> set[int | None]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            select(Attendance.member_id).where(
                Attendance.session_id == made.sessions[0].id
            )
        )
    )


def test_the_register_lists_coming_and_maybe_first_and_works_on_a_plain_post(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _held()
    coming = gold_member(name="Zara Coming")
    maybe = gold_member(name="Yusuf Maybe")
    silent = gold_member(name="Abel Silent")
    no = gold_member(name="Aaron Notcoming")
    for member, reply in [
        (coming, Reply.ATTENDING),
        (maybe, Reply.MAYBE),
        (silent, Reply.NO_REPLY),
        (no, Reply.NOT_ATTENDING),
    ]:
        _invite(made, member, reply)
    login(cast["officer"])
    page = client.get(_url(made)).get_data(as_text=True)
    # Expected people first (alphabetical within a reply order), then the others.
    order = [page.index(name) for name in ("Zara", "Yusuf", "Abel", "Aaron")]
    assert order == sorted(order)
    assert 'type="checkbox"' in page
    assert 'name="came"' in page
    assert "<script" not in page.split("<main")[1].split("</main>")[0]

    # Tick two: a plain form post, back to the page with a success message.
    response = client.post(
        _url(made, "/save"), data={"came": [f"m{coming.id}", f"m{silent.id}"]}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_url(made))
    assert _came(made) == {coming.id, silent.id}
    page = client.get(_url(made)).get_data(as_text=True)
    assert "Register saved: 2 ticked as came, 0 taken off." in page
    assert f'name="was" value="m{coming.id}"' in page

    # Untick one (the page sent what was ticked when it was shown).
    client.post(
        _url(made, "/save"),
        data={"came": [f"m{coming.id}"], "was": [f"m{coming.id}", f"m{silent.id}"]},
    )
    assert _came(made) == {coming.id}


def test_a_save_changes_only_the_boxes_changed_on_that_page(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _held()
    one, two = gold_member(), gold_member()
    _invite(made, one, Reply.ATTENDING)
    _invite(made, two, Reply.ATTENDING)
    login(cast["officer"])
    # Phone A ticks one; phone B, loaded before, ticks two and sends nothing for one.
    client.post(_url(made, "/save"), data={"came": [f"m{one.id}"]})
    client.post(_url(made, "/save"), data={"came": [f"m{two.id}"]})
    assert _came(made) == {one.id, two.id}


def test_readers_see_the_register_but_cannot_change_it(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _held()
    member = gold_member(name="Rita Reader")
    _invite(made, member, Reply.ATTENDING)
    login(cast["lead"])
    page = client.get(_url(made)).get_data(as_text=True)
    assert "Rita Reader" in page
    assert 'name="came"' not in page
    assert (
        client.post(_url(made, "/save"), data={"came": [f"m{member.id}"]}).status_code
        == 403
    )
    assert _came(made) == set()


def test_walk_ins_staff_and_guests_are_added_and_removed(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _held()
    walk_in = gold_member(name="Winifred Walkin")
    gold_member(name="Someone Else")
    login(cast["officer"])

    page = client.get(_url(made), query_string={"q": "winif"}).get_data(as_text=True)
    assert "Winifred Walkin" in page
    assert "Someone Else" not in page
    search = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "search_members")
    ).one()
    assert search.summary == "1 member found"  # never the name searched for
    assert "winif" not in search.summary.lower()

    client.post(_url(made, "/member"), data={"member_id": str(walk_in.id)})
    client.post(_url(made, "/staff"), data={"user_id": str(cast["admin"].id)})
    client.post(_url(made, "/guest"), data={"name": "  Gus   Guest "})
    rows = db.session.scalars(
        select(Attendance).where(Attendance.session_id == made.sessions[0].id)
    ).all()
    assert {(r.member_id, r.user_id, r.guest_name) for r in rows} == {
        (walk_in.id, None, ""),
        (None, cast["admin"].id, ""),
        (None, None, "Gus Guest"),
    }
    page = client.get(_url(made)).get_data(as_text=True)
    assert "Winifred Walkin" in page
    assert "Alice Admin" in page
    assert "Gus Guest" in page

    # Adding the same member, or a guest of the same name, again changes nothing.
    client.post(_url(made, "/member"), data={"member_id": str(walk_in.id)})
    assert len(_came(made) - {None}) == 1
    again = client.post(
        _url(made, "/guest"), data={"name": "gus  GUEST"}, follow_redirects=True
    )
    assert "A guest of that name is already on the register." in again.get_data(
        as_text=True
    )
    guests = db.session.scalars(
        select(Attendance.guest_name).where(Attendance.guest_name != "")
    ).all()
    assert guests == ["Gus Guest"]

    # The inactive officer is not offered and is refused.
    assert "Ian Inactive" not in page
    client.post(_url(made, "/staff"), data={"user_id": str(cast["inactive"].id)})
    assert (
        db.session.scalar(
            select(Attendance).where(Attendance.user_id == cast["inactive"].id)
        )
        is None
    )

    # Taking the guest off (the button inside the register's form).
    guest_id = next(r.id for r in rows if r.guest_name)
    response = client.post(
        _url(made, f"/{guest_id}/remove"),
        data={
            "came": [f"m{walk_in.id}", f"u{cast['admin'].id}", f"g{guest_id}"],
            "was": [f"m{walk_in.id}", f"u{cast['admin'].id}", f"g{guest_id}"],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Attendance, guest_id) is None
    # Unticking staff takes them off too.
    client.post(
        _url(made, "/save"),
        data={
            "came": [f"m{walk_in.id}"],
            "was": [f"m{walk_in.id}", f"u{cast['admin'].id}"],
        },
    )
    assert _came(made) == {walk_in.id}
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"add_attendance", "remove_attendance", "record_attendance"} <= actions


def test_recording_attendance_logs_one_delivery_and_updates_it(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    action = ActionFactory()
    made = _held(action_id=action.id)
    members = [gold_member() for _ in range(3)]
    for member in members:
        _invite(made, member, Reply.ATTENDING)
    login(cast["officer"])
    client.post(_url(made, "/save"), data={"came": [f"m{m.id}" for m in members[:2]]})
    client.post(_url(made, "/staff"), data={"user_id": str(cast["officer"].id)})
    client.post(_url(made, "/guest"), data={"name": "A guest"})
    db.session.expire_all()
    deliveries = db.session.scalars(
        select(Activity).where(Activity.action_id == action.id)
    ).all()
    assert len(deliveries) == 1
    delivery = deliveries[0]
    assert made.sessions[0].delivery_id == delivery.id
    assert delivery.occurred_on == local_day(made.sessions[0].starts_at)
    # Staff are on the register but not counted as reached.
    assert {f.label: f.value for f in delivery.figures} == {"invited": 3, "attended": 3}

    # A wrong tick taken off lowers it; the same delivery is updated.
    client.post(
        _url(made, "/save"),
        data={"came": [f"m{members[0].id}"], "was": [f"m{m.id}" for m in members[:2]]},
    )
    db.session.expire_all()
    assert (
        len(
            db.session.scalars(
                select(Activity).where(Activity.action_id == action.id)
            ).all()
        )
        == 1
    )
    assert {f.label: f.value for f in delivery.figures} == {"invited": 3, "attended": 2}


def test_an_activity_without_an_action_logs_nothing(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _held()
    member = gold_member()
    _invite(made, member, Reply.ATTENDING)
    login(cast["officer"])
    client.post(_url(made, "/save"), data={"came": [f"m{member.id}"]})
    db.session.expire_all()
    assert made.sessions[0].delivery_id is None
    assert _came(made) == {member.id}


def test_the_register_of_a_session_to_come_or_cancelled_cannot_be_changed(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    later = activity()  # ten days ahead
    member = gold_member()
    _invite(later, member, Reply.ATTENDING)
    login(cast["officer"])
    client.post(_url(later, "/save"), data={"came": [f"m{member.id}"]})
    assert _came(later) == set()
    page = client.get(_url(later)).get_data(as_text=True)
    assert "The register opens on the day of the session." in page

    held = _held()
    held.sessions[0].cancelled_at = utcnow()
    db.session.commit()
    client.post(_url(held, "/guest"), data={"name": "Someone"})
    assert (
        db.session.scalar(
            select(Attendance).where(Attendance.session_id == held.sessions[0].id)
        )
        is None
    )


@pytest.mark.parametrize(
    ("tail", "data"),
    [
        (
            "/save",
            {
                "came": ["m99999999999", "x1", "m-1", "' OR 1=1", "\x00"],
                "was": ["\u202e"],
            },
        ),
        ("/member", {"member_id": "1e3"}),
        ("/member", {"member_id": "99999999999999"}),
        ("/member", {"member_id": "2147483647"}),
        ("/staff", {"user_id": "0"}),
        ("/staff", {"user_id": "abc"}),
        ("/guest", {"name": "a\r\nb"}),
        ("/guest", {"name": "x" * 5000}),
        ("/guest", {"name": ""}),
        ("/2147483647/remove", {}),
        ("/99999999999/remove", {}),
    ],
)
def test_hostile_values_never_give_a_500(
    client: Any, login: Any, cast: dict[str, Any], tail: str, data: dict[str, Any]
) -> None:
    made = _held()
    login(cast["admin"])
    response = client.post(_url(made, tail), data=data)
    assert response.status_code in (302, 400, 404)
    assert _came(made) == set()
    assert db.session.scalar(select(Attendance.id)) is None


def test_an_add_form_sent_incomplete_comes_back_with_an_error_summary(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    made = _held()
    gold_member(name="Winifred Walkin")
    login(cast["officer"])
    page = client.get(_url(made), query_string={"q": "winif"}).get_data(as_text=True)
    assert 'name="q" value="winif"' in page  # the search goes with the choice

    for tail, data, message, anchor in [
        ("/member", {"q": "winif"}, "Choose which member came", "#member_id"),
        ("/staff", {"user_id": ""}, "Choose a member of staff", "#user_id"),
        ("/guest", {"name": "   "}, "Enter the guest&#39;s name", "#name"),
        ("/guest", {"name": "x" * 201}, "200 characters or fewer", "#name"),
    ]:
        response = client.post(_url(made, tail), data=data)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        summary = page.split('class="nhsuk-error-summary"')[1].split("</div>")[0]
        assert message in summary
        assert f'href="{anchor}"' in summary
        assert page.count("nhsuk-error-message") == 1  # beside its own field
    # The member search is shown again with its results.
    response = client.post(_url(made, "/member"), data={"q": "winif"})
    assert "Winifred Walkin" in response.get_data(as_text=True)
    assert _came(made) == set()


@pytest.mark.parametrize("query", ["\x00", "a", "x" * 500, "%_%", "' OR 1=1 --"])
def test_hostile_searches_never_give_a_500(
    client: Any, login: Any, cast: dict[str, Any], query: str
) -> None:
    made = _held()
    gold_member(name="Percy Percent")
    login(cast["officer"])
    response = client.get(_url(made), query_string={"q": query})
    # A NUL anywhere in a request is refused (400) before any view runs.
    assert response.status_code == (400 if "\x00" in query else 200)
    assert "Percy Percent" not in response.get_data(as_text=True)


def test_a_session_of_another_activity_is_not_found(
    client: Any, login: Any, cast: dict[str, Any]
) -> None:
    one, other = _held(), _held(title="Another")
    login(cast["officer"])
    url = f"/involvement/{one.id}/sessions/{other.sessions[0].id}/register"
    assert client.get(url).status_code == 404
    assert client.get("/involvement/99999999999/sessions/1/register").status_code == 404


def test_the_activity_page_section_counts_who_came(cast: dict[str, Any]) -> None:
    from engage.involvement.panels import panels_for

    made = _held()
    member = gold_member()
    db.session.add(
        Attendance(
            session_id=made.sessions[0].id, member_id=member.id, recorded_at=utcnow()
        )
    )
    db.session.commit()
    sections = dict(panels_for(made))
    values = sections["involvement/_register_panel.html"]
    assert values["register_sessions"] == [(made.sessions[0], 1)]
