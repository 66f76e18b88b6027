"""Engage: the application factory."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChainableUndefined
from jinja2 import ChoiceLoader
from jinja2 import FileSystemLoader
from jinja2 import PackageLoader
from jinja2 import select_autoescape
from sqlalchemy.orm import configure_mappers
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from engage import extensions
from engage.config import load_config
from engage.db import configure_sqlite
from engage.formtools import MAX_INT

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; ``config`` overrides everything (tests use it)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    load_config(app, dict(config or {}))
    _configure_jinja(app)
    _configure_routing(app)
    _configure_logging(app)
    _register_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]), x_proto=1, x_host=1
        )
    return app


def ready_to_serve(app: Flask) -> Flask:
    """Finish start-up in a process that serves requests (wsgi.py; the benchmarks).

    Maps the models now rather than on the first request, then moves everything
    built so far (modules, the app, its models) out of the garbage collector's
    reach: its full passes walked all of it every few requests, a pause of about
    100 ms that doubled the dashboard's 95th percentile. Objects made later are
    collected as usual.
    """
    configure_mappers()
    gc.collect()
    gc.freeze()
    return app


def _configure_jinja(app: Flask) -> None:
    # nhsuk-frontend-jinja's templates need ChainableUndefined; trim/lstrip keep the
    # macro output compact. Typos in our templates are caught by tests instead.
    app.jinja_options = {
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader(
            [
                FileSystemLoader(str(ROOT / "templates")),
                PackageLoader("nhsuk_frontend_jinja"),
            ]
        ),
        # Plain-text emails (.txt) are not HTML: "O'Neill" must not become
        # "O&#39;Neill". Everything else, HTML and macros alike, is escaped.
        "autoescape": select_autoescape(
            disabled_extensions=("txt",), default_for_string=True, default=True
        ),
        "trim_blocks": True,
        "lstrip_blocks": True,
    }


class _BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in an address: an id within the integer columns' range.

    A larger number cannot name a row, and some engines refuse it outright, so such
    an address is simply not found.
    """

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INT)
        super().__init__(url_map, *args, **kwargs)


def _configure_routing(app: Flask) -> None:
    app.url_map.converters["int"] = _BoundedIntegerConverter


def _configure_logging(app: Flask) -> None:
    from engage.logs import configure_logging

    configure_logging(app.config["LOG_LEVEL"], str(app.config["LOG_FORMAT"]))


def _register_extensions(app: Flask) -> None:
    configure_sqlite(
        busy_timeout_ms=int(app.config["SQLITE_BUSY_TIMEOUT_MS"]),
        synchronous=str(app.config["SQLITE_SYNCHRONOUS"]),
    )
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # pool_pre_ping is for servers that restart; SQLite files need no ping.
        options.pop("pool_pre_ping", None)
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Compiling a plan just in time pays for long reports, not for pages: above
        # its cost threshold it added 20 ms and more to each of the dashboard's
        # grouped queries. Set as the connection starts, with no statement of its own.
        settings = "-c jit=off"
        if app.config.get("POSTGRESQL_SYNCHRONOUS_COMMIT"):
            settings += (
                f" -c synchronous_commit={app.config['POSTGRESQL_SYNCHRONOUS_COMMIT']}"
            )
        options["connect_args"] = {
            "options": settings,
            **options.get("connect_args", {}),
        }
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    from engage.accounts import sessions

    sessions.init_login_manager(app, extensions.login_manager)


def _register_blueprints(app: Flask) -> None:
    from engage.accounts.twofactor_views import bp as twofactor_bp
    from engage.accounts.views import admin_bp as accounts_admin_bp
    from engage.accounts.views import bp as accounts_bp
    from engage.actions.calendar_views import bp as calendar_bp
    from engage.actions.views import bp as actions_bp
    from engage.api.views import bp as api_bp
    from engage.api.views import tokens_bp as api_tokens_bp
    from engage.audiences.views import bp as audiences_bp
    from engage.audiences.views import map_bp
    from engage.audit.views import bp as audit_bp
    from engage.breaches.views import bp as breaches_bp
    from engage.dashboard.views import bp as dashboard_bp
    from engage.imports.views import bp as imports_bp
    from engage.involvement.attendance_views import bp as involvement_register_bp
    from engage.involvement.claim_views import bp as involvement_claims_bp
    from engage.involvement.claim_views import public_bp as involvement_claims_public_bp
    from engage.involvement.claim_views import rates_bp as involvement_rates_bp
    from engage.involvement.invitation_views import bp as involvement_invitations_bp
    from engage.involvement.outcome_views import bp as involvement_outcomes_bp
    from engage.involvement.reply_views import bp as involvement_reply_bp
    from engage.involvement.summary_views import bp as involvement_summary_bp
    from engage.involvement.views import bp as involvement_bp
    from engage.mail.views import bp as mail_bp
    from engage.mailings.archive_views import bp as newsletters_bp
    from engage.mailings.letter_views import bp as mailing_letters_bp
    from engage.mailings.readership_views import bp as readership_bp
    from engage.mailings.receipt_views import bp as mailing_receipts_bp
    from engage.mailings.send_views import bp as mailing_send_bp
    from engage.mailings.suppression_views import bp as suppressions_bp
    from engage.mailings.tracking_views import bp as mailing_tracking_bp
    from engage.mailings.unsubscribe_views import bp as unsubscribe_bp
    from engage.mailings.views import bp as mailings_bp
    from engage.membership.public_views import bp as join_bp
    from engage.membership.views import bp as members_bp
    from engage.metrics.label_views import bp as reach_labels_bp
    from engage.metrics.views import bp as metrics_bp
    from engage.metrics.views import feeds_bp
    from engage.metrics.views import reports_bp
    from engage.organisation.views import bp as organisation_bp
    from engage.relationships.capture_views import bp as capture_bp
    from engage.relationships.commitment_views import bp as commitments_bp
    from engage.relationships.health_views import bp as health_bp
    from engage.relationships.link_views import bp as audience_links_bp
    from engage.relationships.theme_views import bp as themes_bp
    from engage.relationships.views import bp as interactions_bp
    from engage.scheduling.views import bp as jobs_bp
    from engage.surveys.public_views import bp as answer_bp
    from engage.surveys.results.views import bp as survey_results_bp
    from engage.surveys.views import bp as surveys_bp
    from engage.web import bp as web_bp

    for blueprint in (
        web_bp,
        accounts_bp,
        twofactor_bp,
        accounts_admin_bp,
        audit_bp,
        breaches_bp,
        mail_bp,
        mailings_bp,
        readership_bp,
        mailing_letters_bp,
        mailing_send_bp,
        suppressions_bp,
        newsletters_bp,  # public: published newsletters
        unsubscribe_bp,  # public: /m/<token>/unsubscribe
        mailing_tracking_bp,  # public: counted clicks and opens
        mailing_receipts_bp,  # GOV.UK Notify's receipts (a bearer token)
        audiences_bp,
        map_bp,
        health_bp,  # relationship health, its history and the meeting brief
        actions_bp,
        calendar_bp,
        imports_bp,
        join_bp,
        members_bp,
        surveys_bp,
        involvement_bp,
        involvement_reply_bp,  # public: /i/<token>, an invitation's private pages
        involvement_register_bp,
        involvement_claims_bp,
        involvement_claims_public_bp,  # public: /i/<token>/claim
        involvement_rates_bp,
        involvement_outcomes_bp,
        involvement_summary_bp,
        involvement_invitations_bp,
        interactions_bp,
        answer_bp,  # /s/<token> and the public "you said, we did" pages
        survey_results_bp,
        metrics_bp,
        feeds_bp,
        reports_bp,
        reach_labels_bp,
        jobs_bp,
        dashboard_bp,
        api_bp,
        api_tokens_bp,
        organisation_bp,
        capture_bp,
        themes_bp,
        audience_links_bp,
        commitments_bp,
    ):
        app.register_blueprint(blueprint)


def _register_hooks(app: Flask) -> None:
    from engage import assets
    from engage import http
    from engage import navigation
    from engage import once
    from engage import server_timing
    from engage import templating
    from engage.accounts.sessions import session_info

    # E-mail leaves after the commit: the delivery module's session hooks start the
    # background sender once a transaction that wrote mail commits.
    from engage.mail import delivery  # noqa: F401
    from engage.organisation import views as organisation

    http.init_app(app)
    once.init_app(app)
    server_timing.init_app(app)
    navigation.init_app(app)
    templating.init_app(app)
    assets.init_app(app)
    organisation.init_app(app)
    app.context_processor(lambda: {"session_info": session_info})


def _register_cli(app: Flask) -> None:
    from engage.cli import register_commands

    register_commands(app)


__all__ = ["create_app"]
