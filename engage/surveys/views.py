"""Survey staff pages: builder, distribution, staff entry and findings."""

from __future__ import annotations

from flask import Blueprint

from engage.surveys import models  # noqa: F401  (registers the tables)

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
