"""Who may use each route: the checked-in allow/deny matrix (docs/security.md B1).

Every rule in the app must appear here; a new route missing from this table fails
``tests/test_access.py``. Policies:
  public    – anyone, signed in or not
  signed_in – any staff role (admin, officer, lead)
  editors   – officers and admins
  admins    – admins only
  leads     – leads and admins (the board report's commentary)
"""

PUBLIC = "public"
SIGNED_IN = "signed_in"
EDITORS = "editors"
ADMINS = "admins"
LEADS = "leads"
#: Needs a bearer token; a session cookie alone gets a JSON 401 (tests/api).
API = "api"

ALLOWED_ROLES = {
    PUBLIC: {"anonymous", "lead", "officer", "admin"},
    SIGNED_IN: {"lead", "officer", "admin"},
    EDITORS: {"officer", "admin"},
    ADMINS: {"admin"},
    LEADS: {"lead", "admin"},
    API: set(),
}

MATRIX = {
    "static": PUBLIC,
    "web.nhsuk_assets": PUBLIC,
    "web.healthz": PUBLIC,
    "web.home": SIGNED_IN,
    "accounts.login": PUBLIC,
    "accounts.logout": SIGNED_IN,
    "accounts.forgot_password": PUBLIC,
    "accounts.set_password": PUBLIC,
    "accounts.session_status": PUBLIC,
    "accounts.extend_session": SIGNED_IN,
    "accounts.account": SIGNED_IN,
    # Two-factor sign-in (the code step is reached with a password, before sign-in)
    "twofactor.code": PUBLIC,
    "twofactor.setup_at_login": PUBLIC,
    "twofactor.setup": SIGNED_IN,
    "twofactor.recovery_codes": SIGNED_IN,
    "twofactor.disable": SIGNED_IN,
    "admin.index": ADMINS,
    "admin.users": ADMINS,
    "admin.create_user": ADMINS,
    "admin.edit_user": ADMINS,
    "admin.send_password_link": ADMINS,
    "admin.reset_two_factor": ADMINS,
    "audit.index": ADMINS,
    "audit.export": ADMINS,
    # The organisation: its details and notices (admins), the notices (everyone)
    "organisation.settings": ADMINS,
    "organisation.edit_notice": ADMINS,
    "organisation.privacy": PUBLIC,
    "organisation.accessibility": PUBLIC,
    "organisation.notice_version": PUBLIC,
    "mail.index": ADMINS,
    "mail.detail": ADMINS,
    # Scheduled jobs
    "jobs.index": ADMINS,
    "jobs.run_now": ADMINS,
    # Stakeholder map
    "audiences.index": SIGNED_IN,
    "audiences.create": EDITORS,
    "audiences.detail": SIGNED_IN,
    "audiences.edit": EDITORS,
    "audiences.archive": EDITORS,
    "audiences.restore": EDITORS,
    "audiences.add_contact": EDITORS,
    "audiences.delete_contact": EDITORS,
    "audiences.set_override": EDITORS,
    "audiences.delete_override": EDITORS,
    "audiences.programmes": SIGNED_IN,
    "audiences.create_programme": EDITORS,
    "audiences.edit_programme": EDITORS,
    "audiences.contact_intervals": ADMINS,
    "map.index": SIGNED_IN,
    # Action plan
    "actions.index": SIGNED_IN,
    "actions.mine": SIGNED_IN,
    "actions.month": SIGNED_IN,
    "actions.create": EDITORS,
    "actions.detail": SIGNED_IN,
    "actions.edit": EDITORS,
    "actions.set_status": EDITORS,
    "actions.log_delivery": EDITORS,
    "actions.objectives": SIGNED_IN,
    "actions.create_objective": EDITORS,
    "actions.edit_objective": EDITORS,
    "actions.channels": ADMINS,
    "actions.create_channel": ADMINS,
    "actions.edit_channel": ADMINS,
    # Calendar feed: the token in the URL is the credential
    "calendar.feed": PUBLIC,
    "calendar.create_token": SIGNED_IN,
    "calendar.revoke_token": SIGNED_IN,
    # Import and export
    "imports.upload": EDITORS,
    "imports.confirm": EDITORS,
    "imports.export": SIGNED_IN,
    # Membership: public pages (the join form, e-mailed links)
    # (public-membership endpoints go here)
    "join.index": PUBLIC,
    "join.equality": PUBLIC,
    "join.confirm": PUBLIC,
    "join.manage_request": PUBLIC,
    "join.manage": PUBLIC,
    "join.confirm_email": PUBLIC,
    "join.download": PUBLIC,
    "join.own_data": PUBLIC,
    "join.withdraw": PUBLIC,
    # Membership: staff pages
    # (staff-membership endpoints go here)
    "members.index": SIGNED_IN,
    "members.create": EDITORS,
    "members.detail": SIGNED_IN,
    "members.edit": EDITORS,
    "members.withdraw": EDITORS,
    "members.erase": ADMINS,
    "members.subject_access": ADMINS,
    "members.sar_register": ADMINS,
    # Personal-data breach register (SECURITY D9).
    "breaches.index": ADMINS,
    "breaches.create": ADMINS,
    "breaches.detail": ADMINS,
    "breaches.edit": ADMINS,
    "members.sar_new": ADMINS,
    "members.sar_complete": ADMINS,
    "members.export": EDITORS,
    "members.equality": ADMINS,
    "members.population": ADMINS,
    "members.practices": ADMINS,
    "members.topics": ADMINS,
    # Surveys: staff pages; leads read, officers and admins change
    "surveys.index": SIGNED_IN,
    "mailings.index": EDITORS,
    "newsletters.show": PUBLIC,
    "unsubscribe.unsubscribe": PUBLIC,
    "mailing_tracking.click": PUBLIC,
    "mailing_tracking.opened": PUBLIC,
    # GOV.UK Notify's delivery receipts: its bearer token, not a session
    "mailing_receipts.notify_receipt": PUBLIC,
    "surveys.create": EDITORS,
    "surveys.detail": SIGNED_IN,
    "surveys.edit": EDITORS,
    "surveys.delete": EDITORS,
    "surveys.open_survey": EDITORS,
    "surveys.close_survey": EDITORS,
    "surveys.duplicate": EDITORS,
    "surveys.preview": SIGNED_IN,
    "surveys.public_link": EDITORS,
    "surveys.show_public_link": SIGNED_IN,
    "surveys.new_public_link": EDITORS,
    "surveys.public_link_qr": SIGNED_IN,
    "surveys.remove_public_link": EDITORS,
    "surveys.add_question": EDITORS,
    "surveys.edit_question": EDITORS,
    "surveys.delete_question": EDITORS,
    "surveys.move_question": EDITORS,
    "surveys.invitations": SIGNED_IN,
    "surveys.invite": EDITORS,
    "surveys.send": EDITORS,
    "surveys.remind": EDITORS,
    "surveys.post_list": EDITORS,
    "surveys.export_post_list": EDITORS,
    "surveys.enter_response": EDITORS,
    "surveys.findings_page": SIGNED_IN,
    "surveys.add_finding": EDITORS,
    "surveys.edit_finding": EDITORS,
    "surveys.delete_finding": EDITORS,
    "surveys.publish_findings": EDITORS,
    "surveys.tell_participants": EDITORS,
    # Surveys: answering (the token in the URL is the credential) and the public
    # "you said, we did" page of a survey whose findings are published
    "answer.form": PUBLIC,
    "answer.you_said_we_did": PUBLIC,
    # Measures of reach
    "metrics.index": SIGNED_IN,
    "metrics.create": EDITORS,
    "metrics.edit": EDITORS,
    "metrics.detail": SIGNED_IN,
    "metrics.observe": EDITORS,
    "feeds.feeds_index": SIGNED_IN,
    "feeds.create_feed": EDITORS,
    "feeds.edit_feed": EDITORS,
    "feeds.feed_detail": SIGNED_IN,
    "feeds.mentions": SIGNED_IN,
    "feeds.set_tone": EDITORS,
    "reports.reports_index": SIGNED_IN,
    "reports.make_report": EDITORS,
    "reports.report_detail": SIGNED_IN,
    "reports.report_download": SIGNED_IN,
    "reports.subscription": SIGNED_IN,
    "reach_labels.index": ADMINS,
    "reach_labels.create": ADMINS,
    "reach_labels.edit": ADMINS,
    # Survey results, exports and imports (the equality cross-tab is
    # admins only, checked in tests/surveys/results/test_views.py)
    "survey_results.index": SIGNED_IN,
    "survey_results.crosstab": SIGNED_IN,
    "survey_results.text_answers": SIGNED_IN,
    "survey_results.export_results": SIGNED_IN,
    "survey_results.export_for_publication": SIGNED_IN,
    "survey_results.export_responses": EDITORS,
    "survey_results.import_responses": EDITORS,
    "survey_results.confirm_import": EDITORS,
    # Dashboard and board report
    "dashboard.index": SIGNED_IN,
    "dashboard.board_report": SIGNED_IN,
    "dashboard.board_report_xlsx": SIGNED_IN,
    "dashboard.board_report_pdf": SIGNED_IN,
    "dashboard.board_commentary": LEADS,
    # API tokens on the account page
    "api_tokens.create": SIGNED_IN,
    "api_tokens.revoke": SIGNED_IN,
    # JSON API: a bearer token is the credential (tests/api checks it); no session
    "api.openapi": PUBLIC,
    "api.summary": API,
    "api.actions": API,
    "api.action": API,
    "api.audiences": API,
    "api.audience": API,
    "api.metrics": API,
    "api.metric": API,
    "api.surveys": API,
    "api.survey_results": API,
}
