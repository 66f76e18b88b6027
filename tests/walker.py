"""A crawler and fuzzer of every page, form and query parameter (no input gives a 500).

``crawl`` signs in, follows every same-site link from the pages it can reach and
reads each page's forms (their fields and the values their selects, radios and
checkboxes offer); the request class records which query-string and form keys each
view reads, so parameters that no form shows (``?page=``, ``?period=``) are found
too. ``Target``s are what it found: one per form and one per page with its query
parameters. ``values`` gives Hypothesis strategies that fill a target with a mix
of valid values and hostile ones (CR/LF and NUL, huge and negative numbers,
``NaN`` and ``1e23``, empty lists, unknown choices). ``Snapshot`` puts the
database back between targets, so each starts from the same data.
"""

from __future__ import annotations

import io
import re
import threading
import weakref
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

from flask import Flask
from flask import Request
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy import Table
from sqlalchemy import delete
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import MultiDict

from engage.extensions import db
from engage.mail.delivery import wait_for_deliveries

#: Values no well-behaved browser sends, each a way a view has failed before.
HOSTILE = (
    "",
    " ",
    "\r\n",
    "\t",
    "abc",
    "bogus",
    "-1",
    "0",
    "2147483647",
    "2147483648",
    "-2147483649",
    "99999999999999999999999",
    "1e23",
    "-1e308",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1.5",
    "0x10",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "2026-13-01T25:61",
    "<script>alert(1)</script>",
    "'; DROP TABLE members; --",
    "{{7*7}}",
    "../../etc/passwd",
    "’é漢字\u200b",
    "x" * 5000,
    "\x00",
    "a\x00b",
    "\x1b[31m",
)

#: Values of each kind that have broken a view, by the kind of field they go to.
_CHOICE_SWEEP: tuple[tuple[str, ...], ...] = (
    ("\r\n",),  # blank to Optional(), which then dropped the "not a choice" error
    ("bogus",),  # not among the choices
    ("99999999999999999999999",),  # beyond every integer column
    ("",),  # an empty value where a list of ids is expected
)
_NUMBER_SWEEP: tuple[tuple[str, ...], ...] = (
    ("99999999999999999999999",),
    # Beyond PostgreSQL's integer yet short enough for a text box's length limit.
    ("2147483648",),
    ("1e23",),  # a float that int() would make huge
    ("NaN",),
)
_DATE_SWEEP: tuple[tuple[str, ...], ...] = (("9999-12-31",), ("0001-01-01",))
#: The boxes of a date (day, month, year): impossible, huge, beyond the years allowed.
_DAY_SWEEP: tuple[tuple[str, ...], ...] = (
    ("31",),
    ("0",),
    ("99999999999999999999999",),
)
_MONTH_SWEEP: tuple[tuple[str, ...], ...] = (("13",), ("abc",), ("",))
_YEAR_SWEEP: tuple[tuple[str, ...], ...] = (("9999",), ("0001",), ("26",), ("1e23",))
SWEEP: dict[str, tuple[tuple[str, ...], ...]] = {
    "select": _CHOICE_SWEEP,
    "radio": _CHOICE_SWEEP,
    "checkbox": _CHOICE_SWEEP,
    "hidden": _CHOICE_SWEEP + _NUMBER_SWEEP[1:2] + _NUMBER_SWEEP[3:],
    "number": _NUMBER_SWEEP,
    "date": _DATE_SWEEP,
    "date-day": _DAY_SWEEP,
    "date-month": _MONTH_SWEEP,
    "date-year": _YEAR_SWEEP,
    # A query parameter may be anything.
    "query": _CHOICE_SWEEP[:3] + _NUMBER_SWEEP[2:] + _DATE_SWEEP[:1],
}
#: Text boxes (their text may be read as a number).
_TEXT_SWEEP = _NUMBER_SWEEP

#: Path values for ``<int:…>`` segments besides the real ids a crawl finds.
HOSTILE_IDS = (0, 2_147_483_648, 10**20)

#: A few bytes that no upload check should let through to a 500.
HOSTILE_FILES = (
    b"",
    b"name,group\r\nA,public\r\n",
    b"\x00\x01\x02binary",
    b"PK\x03\x04not really a zip",
    b"\xff\xfe" + "name\r\n".encode("utf-16-le"),
    b"a,b\r\n" + b"x" * 9000 + b"\x00,1\r\n",
)

_PARTS = ("day", "month", "year")

#: Plausible values by input type, so that a form gets past its validation.
_VALID_TEXT = {
    "email": "walker@example.org",
    "tel": "07700 900123",
    "date": "2026-03-02",
    "date-day": "2",
    "date-month": "3",
    "date-year": "2026",
    "datetime-local": "2026-03-02T10:30",
    "time": "10:30",
    "number": "3",
    "url": "https://example.org/feed.xml",
    "password": "a long and unusual walker passphrase",
}
_VALID_BY_NAME = {
    "postcode": "LS1 4AP",
    "phone": "07700 900123",
    "email": "walker@example.org",
    "code": "123456",
}


@dataclass
class Field:
    """One named input of a form: its kind and the values its page offers."""

    name: str
    kind: str  # text, select, radio, checkbox, file, hidden, submit, textarea, …
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    default: str | None = None


@dataclass
class Target:
    """Something to fuzz: a form, or a page and the query parameters it reads."""

    method: str
    url: str
    endpoint: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, self.endpoint, tuple(sorted(self.fields)))


# Recording what views read ------------------------------------------------------------

_read_keys: set[str] = set()


class RecordingDict(ImmutableMultiDict[str, str]):
    """Query-string and form data that remember which keys a view asked for."""

    def __getitem__(self, key: str) -> str:
        _read_keys.add(key)
        return super().__getitem__(key)

    def getlist(self, key: str, type: Any = None) -> list[Any]:
        _read_keys.add(key)
        return super().getlist(key, type)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            _read_keys.add(key)
        return super().__contains__(key)


class RecordingRequest(Request):
    parameter_storage_class = RecordingDict


def take_read_keys() -> set[str]:
    """The keys views have read since the last call."""
    keys = set(_read_keys)
    _read_keys.clear()
    return keys


# Reading pages ------------------------------------------------------------------------


class _PageParser(HTMLParser):
    """Links and forms (with their fields) of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, str, dict[str, Field]]] = []
        self._form: tuple[str, str, dict[str, Field]] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.default = a.get("value", "")
        elif tag == "form":
            self._form = (a.get("action", ""), a.get("method", "get").upper(), {})
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            self._input(a)
        elif tag == "button" and a.get("value") is not None:
            self._add(Field(a["name"], "submit", [a.get("value", "")]))
        elif tag == "select":
            self._select = self._add(
                Field(a["name"], "select", multiple="multiple" in a)
            )
        elif tag == "textarea":
            self._textarea = self._add(Field(a["name"], "textarea"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def _input(self, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        value = a.get("value", "")
        if kind in {"radio", "checkbox"}:
            known = self._add(Field(a["name"], kind, multiple=kind == "checkbox"))
            known.options.append(value or "on")
            if "checked" in a:
                known.default = value or "on"
        else:
            # The boxes of an NHS.UK date input: name-day, name-month, name-year.
            part = a["name"].rpartition("-")[2]
            if "nhsuk-date-input__input" in a.get("class", "") and part in _PARTS:
                kind = f"date-{part}"
            self._add(Field(a["name"], kind, default=value or None))

    def _add(self, new: Field) -> Field:
        assert self._form is not None
        existing = self._form[2].get(new.name)
        if existing is not None:
            existing.options.extend(v for v in new.options if v not in existing.options)
            return existing
        self._form[2][new.name] = new
        return new

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._textarea.default is None:
            self._textarea.default = data.strip() or None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_page(html: str) -> tuple[list[str], list[tuple[str, str, dict[str, Field]]]]:
    """The links and the forms ``(action, method, fields)`` of a page."""
    parser = _PageParser()
    parser.feed(html)
    return parser.links, parser.forms


# Crawling -----------------------------------------------------------------------------


@dataclass
class Crawl:
    """What a crawl found: targets by key, and every page it read."""

    app: Flask
    targets: dict[tuple[str, str, tuple[str, ...]], Target] = field(
        default_factory=dict
    )
    seen: set[str] = field(default_factory=set)
    per_endpoint: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def endpoint(self, method: str, url: str) -> str | None:
        adapter = self.app.url_map.bind("engage.test")
        parts = urlsplit(url)
        try:
            endpoint, _ = adapter.match(parts.path, method=method)
        except Exception:
            return None
        return str(endpoint)

    def add(self, target: Target) -> None:
        known = self.targets.get(target.key)
        if known is None:
            self.targets[target.key] = target
            return
        for name, new in target.fields.items():
            old = known.fields[name]
            old.options.extend(v for v in new.options if v not in old.options)


#: Pages a crawl does not open: they change state on GET-free routes or end sessions.
SKIPPED_ENDPOINTS = {"static", "web.nhsuk_assets", "accounts.logout"}
#: At most this many addresses per endpoint (the plan has dozens of actions).
PER_ENDPOINT = 3


def crawl(
    client: Any,
    crawl_state: Crawl,
    start: Iterable[str],
    *,
    extra_bodies: Iterable[str] = (),
) -> None:
    """Open every same-site page reachable from ``start``; record its targets."""
    queue: list[str] = list(start)
    for body in extra_bodies:
        queue.extend(_harvest(crawl_state, "/", body))
    while queue:
        url = queue.pop(0)
        path = urlsplit(url).path
        endpoint = crawl_state.endpoint("GET", url)
        if endpoint is None or endpoint in SKIPPED_ENDPOINTS:
            continue
        if url in crawl_state.seen:
            continue
        if crawl_state.per_endpoint.get(endpoint, 0) >= PER_ENDPOINT:
            continue
        crawl_state.seen.add(url)
        crawl_state.per_endpoint[endpoint] = (
            crawl_state.per_endpoint.get(endpoint, 0) + 1
        )
        take_read_keys()
        response = client.get(url)
        crawl_state.requests += 1
        read = take_read_keys()
        query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        fields = {name: Field(name, "query", [query.get(name, "")]) for name in read}
        for name, value in query.items():
            fields.setdefault(name, Field(name, "query", [value]))
        crawl_state.add(Target("GET", path, endpoint, fields))
        if response.status_code == 200 and response.mimetype == "text/html":
            queue.extend(_harvest(crawl_state, url, response.get_data(as_text=True)))
        response.close()


def _harvest(crawl_state: Crawl, base: str, html: str) -> Iterator[str]:
    links, forms = read_page(html)
    for action, method, fields in forms:
        url = urljoin("http://engage.test" + base, action or base)
        parts = urlsplit(url)
        if parts.netloc != "engage.test":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        endpoint = crawl_state.endpoint(method, path)
        if endpoint is None or endpoint in SKIPPED_ENDPOINTS:
            continue
        fields.pop("csrf_token", None)
        crawl_state.add(Target(method, path, endpoint, fields))
    for link in links:
        parts = urlsplit(urljoin("http://engage.test" + base, link))
        if parts.netloc == "engage.test" and parts.scheme == "http":
            yield parts.path + (f"?{parts.query}" if parts.query else "")


# Values -------------------------------------------------------------------------------


def valid_value(item: Field) -> str:
    """A value the page itself would send for this field."""
    if item.options:
        usable = [o for o in item.options if o] or item.options
        return item.default if item.default in usable else usable[0]
    if item.default:
        return item.default
    if item.name in _VALID_BY_NAME:
        return _VALID_BY_NAME[item.name]
    return _VALID_TEXT.get(item.kind, "Walker test")


def valid_form(target: Target) -> MultiDict[str, Any]:
    """The form as the page would send it, each field filled in plausibly."""
    data: MultiDict[str, Any] = MultiDict()
    for item in target.fields.values():
        if item.kind == "file":
            data.add(item.name, (io.BytesIO(HOSTILE_FILES[1]), "walker.csv"))
        elif item.kind == "submit":
            data.add(item.name, item.options[0])
        elif item.kind != "query" or any(item.options):
            # A query parameter is sent as the link had it, if a link had it.
            data.add(item.name, valid_value(item))
    return data


hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)


@st.composite
def field_values(draw: st.DrawFn, item: Field) -> list[Any]:
    """Values for one field: valid, hostile, several, an empty list or none at all."""
    if item.kind == "file":
        content = draw(st.sampled_from(HOSTILE_FILES))
        name = draw(st.sampled_from(["walker.csv", "walker.xlsx", "walker.txt", ""]))
        return [(io.BytesIO(content), name)]
    mode = draw(
        st.sampled_from(["valid", "hostile", "hostile", "many", "empty", "none"])
    )
    if mode == "valid":
        return [valid_value(item)]
    if mode == "hostile":
        return [draw(hostile_text)]
    if mode == "many":
        pool = st.one_of(st.sampled_from(item.options or ["1"]), hostile_text)
        return draw(st.lists(pool, min_size=2, max_size=4))
    if mode == "empty":
        return [""]
    return []


def sweep(target: Target) -> Iterator[MultiDict[str, Any]]:
    """Each field in turn given the values of SWEEP for its kind, the others valid."""
    for name in sorted(target.fields):
        kind = target.fields[name].kind
        if kind in {"file", "submit"}:
            continue
        for values in SWEEP.get(kind, _TEXT_SWEEP):
            data = valid_form(target)
            data.setlist(name, list(values))
            yield data


@st.composite
def submissions(draw: st.DrawFn, target: Target) -> MultiDict[str, Any]:
    """A submission of ``target``: mostly valid, with one to three fields changed."""
    data = valid_form(target)
    names = sorted(target.fields)
    if not names:
        return data
    changed = draw(
        st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)
    )
    for name in changed:
        data.poplist(name)
        for value in draw(field_values(target.fields[name])):
            data.add(name, value)
    return data


# Putting the database back ------------------------------------------------------------


#: The first word of a statement, and the table a plain INSERT, UPDATE or DELETE
#: writes (the forms SQLAlchemy compiles them to).
_VERB = re.compile(r"\s*(\w+)")
_WRITTEN = re.compile(
    r"\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?",
    re.IGNORECASE,
)
_READS = {
    "SELECT",
    "PRAGMA",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK",
    "BEGIN",
    "COMMIT",
    "SET",
    "SHOW",
}
#: The snapshots alive now, each told of every table written since it last restored
#: (statements come from the mail threads too, hence the lock).
_watching: weakref.WeakSet[Snapshot] = weakref.WeakSet()
_watching_lock = threading.Lock()
#: Set on the connection a snapshot restores with: its own statements are not news
#: to it (they are to the other snapshots).
_RESTORING = "walker_restoring"


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(
    connection: Any, cursor: Any, statement: str, *args: Any, **kwargs: Any
) -> None:
    """Tell the snapshots which table a statement writes (``None``: it cannot tell,
    as for several statements in one, so every table is put back)."""
    if not _watching:
        return
    verb = _VERB.match(statement)
    if verb and verb.group(1).upper() in _READS:
        return
    written = _WRITTEN.match(statement)
    table = written.group(1) if written and ";" not in statement.strip()[:-1] else None
    restoring = connection.info.get(_RESTORING)
    with _watching_lock:
        for snapshot in _watching:
            if snapshot is not restoring:
                snapshot.written.add(table)


class Snapshot:
    """Every table's rows, to put back after a target has changed them.

    Only the tables written since the last restore are put back, with every table
    whose rows point at them (a delete there may have cascaded): most targets change
    a few of the ninety-odd tables.
    """

    def __init__(self) -> None:
        db.session.commit()
        wait_for_deliveries()  # mail threads write to the outbox
        self.written: set[str | None] = set()
        with _watching_lock:
            _watching.add(self)
        tables = db.metadata.sorted_tables
        with db.engine.connect() as connection:
            self.rows = {
                table: [dict(r) for r in connection.execute(select(table)).mappings()]
                for table in tables
            }

    @staticmethod
    def _changed(written: set[str | None]) -> list[Table]:
        """The tables to put back, parents first."""
        tables = db.metadata.sorted_tables
        if None in written:
            return tables
        changed = {table for table in tables if table.name in written}
        grew = True
        while grew:
            pointing = {
                table
                for table in tables
                if any(key.column.table in changed for key in table.foreign_keys)
            }
            grew = not pointing <= changed
            changed |= pointing
        return [table for table in tables if table in changed]

    def restore(self, *, whole: bool = False) -> None:
        """Put the rows back: every table's if ``whole``, else those written since."""
        wait_for_deliveries()
        db.session.rollback()
        db.session.remove()
        # Taken first: a write from now on is news for the next restore.
        written, self.written = self.written, set()
        tables = db.metadata.sorted_tables if whole else self._changed(written)
        with db.engine.begin() as connection:
            connection.info[_RESTORING] = self
            try:
                for table in reversed(tables):
                    connection.execute(delete(table))
                for table in tables:
                    if self.rows[table]:
                        connection.execute(insert(table), self.rows[table])
            finally:
                del connection.info[_RESTORING]


def describe(method: str, url: str, data: MultiDict[str, Any]) -> str:
    """A failing request, short enough to read in a test report."""
    shown = []
    for key, value in data.items(multi=True):
        if isinstance(value, tuple):
            value = f"<file {value[1]!r}>"
        text = repr(value)
        shown.append(f"{key}={text[:60]}{'…' if len(text) > 60 else ''}")
    return f"{method} {url} " + " ".join(shown)


def is_denied(response: Any) -> bool:
    """Whether the role may not use this target at all (login page, 401 or 403)."""
    location = response.headers.get("Location", "")
    return response.status_code in (401, 403) or (
        response.status_code == 302 and re.match(r"^/login\b", location) is not None
    )
