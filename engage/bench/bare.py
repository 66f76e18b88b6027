"""The join benchmark's baseline: a bare Flask app whose one endpoint does one insert.

Served by gunicorn (``engage.bench.bare:app``) against the bench database named in
``ENGAGE_BENCH_DATABASE_URL``, with Engage's SQLite settings (WAL, busy time-out).
"""

from __future__ import annotations

import os

from flask import Flask
from flask import request
from sqlalchemy import Column
from sqlalchemy import DateTime
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import create_engine

from engage.clock import utcnow
from engage.db import configure_sqlite

metadata = MetaData()
#: The baseline's own table in the bench database.
bare_inserts = Table(
    "bench_bare_inserts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), unique=True, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

configure_sqlite(busy_timeout_ms=5000, synchronous="FULL")
#: The join load creates the table before starting gunicorn (see join_load.join_load).
engine = create_engine(os.environ.get("ENGAGE_BENCH_DATABASE_URL", "sqlite://"))

app = Flask(__name__)


@app.post("/insert")
def insert() -> tuple[str, int]:
    with engine.begin() as conn:
        conn.execute(
            bare_inserts.insert().values(
                email=request.form["email"], created_at=utcnow()
            )
        )
    return "ok", 200
