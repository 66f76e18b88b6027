"""Staff membership views (being written): the member list, records and reports."""

from __future__ import annotations

from flask import Blueprint

from engage.membership import models  # noqa: F401 - registers the tables

bp = Blueprint("members", __name__, url_prefix="/members")
