"""Who may use each route: the checked-in allow/deny matrix (SECURITY.md B1).

Every rule in the app must appear here; a new route missing from this table fails
``tests/test_access.py``. Policies:
  public    – anyone, signed in or not
  signed_in – any staff role (admin, officer, lead)
  editors   – officers and admins
  admins    – admins only
"""

PUBLIC = "public"
SIGNED_IN = "signed_in"
EDITORS = "editors"
ADMINS = "admins"

ALLOWED_ROLES = {
    PUBLIC: {"anonymous", "lead", "officer", "admin"},
    SIGNED_IN: {"lead", "officer", "admin"},
    EDITORS: {"officer", "admin"},
    ADMINS: {"admin"},
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
    "admin.index": ADMINS,
    "admin.users": ADMINS,
    "admin.create_user": ADMINS,
    "admin.edit_user": ADMINS,
    "admin.send_password_link": ADMINS,
    "audit.index": ADMINS,
    "mail.index": ADMINS,
    "mail.detail": ADMINS,
}
