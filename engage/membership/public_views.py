"""Public membership views (being written): join, confirm, manage, withdraw."""

from __future__ import annotations

from flask import Blueprint

from engage.membership import models  # noqa: F401 - registers the tables

bp = Blueprint("join", __name__)
