"""Handing one person's copy of a mailing to the mail server or to GOV.UK Notify.

Email goes through SMTP (``SMTP_URL``, one connection per batch) or GOV.UK Notify
(``MAILING_EMAIL_TRANSPORT = "notify"``); text messages always go through Notify,
with its official client. Nothing here touches the database: the sender records
each copy before the hand-off and its outcome after.

A failure is one of three kinds: the copy was refused for now (try again later),
refused for good (never try again), or the outcome is not known (the connection
was lost mid-hand-off, so it may have gone: it is never tried again, so no one is
sent a mailing twice).
"""

from __future__ import annotations

import contextlib
import smtplib
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any
from typing import Protocol

import requests
from flask import current_app
from notifications_python_client.errors import APIError
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from engage.mail.delivery import connect
from engage.mail.services import build_message
from engage.membership.models import ContactChannel

SMTP = "smtp"
NOTIFY = "notify"


class SendError(Exception):
    """A copy was not handed over; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


class TemporaryFailure(SendError):
    """Refused for now (busy, rate limited, unreachable): it may be tried again."""


class ProviderUnavailable(TemporaryFailure):
    """The mail server or Notify cannot take anything now (unreachable, rate limited,
    failing): the run stops without using up the copy's tries."""


class PermanentFailure(SendError):
    """Refused for good (a bad address, a bad template): never tried again."""


class OutcomeUnknown(SendError):
    """The hand-off broke off: the copy may have gone, so it is not tried again."""


class NotConfigured(SendError):
    """The channel has no provider set up (no Notify key or template id)."""


@dataclass(frozen=True)
class OutgoingEmail:
    """One email, ready to hand over."""

    recipient_id: int
    address: str
    subject: str
    html: str
    text: str
    #: The one-click unsubscribe link ("" for a message about something the person
    #: asked for, such as an involvement activity: no unsubscribe headers).
    unsubscribe_url: str
    #: The Message-ID, recorded before the hand-off (SMTP only).
    message_id: str
    #: Notify's reference for it (default: the copy's id, as mailings look it up).
    reference: str = ""


@dataclass(frozen=True)
class OutgoingText:
    """One text message, ready to hand over."""

    recipient_id: int
    phone: str
    text: str
    #: Notify's reference for it (default: the copy's id).
    reference: str = ""


class Transport(Protocol):
    """A connection to one provider, used for one batch then closed."""

    def send_email(self, email: OutgoingEmail) -> str:
        """Hand over an email; the provider's reference for it."""

    def send_text(self, text: OutgoingText) -> str:
        """Hand over a text message; the provider's reference for it."""

    def close(self) -> None:
        """End the connection."""


def email_provider() -> str:
    """Which provider sends email: ``"smtp"`` or ``"notify"``."""
    name = str(current_app.config.get("MAILING_EMAIL_TRANSPORT") or SMTP).lower()
    return NOTIFY if name == NOTIFY else SMTP


def new_message_id() -> str:
    """A fresh Message-ID in the sender's domain (recorded before the hand-off)."""
    sender = str(current_app.config["MAIL_FROM"])
    return make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or "localhost")


def missing_setup(channel: ContactChannel) -> str | None:
    """What stops ``channel`` being sent, in plain words (None: it is set up)."""
    config = current_app.config
    if channel is ContactChannel.EMAIL and email_provider() == SMTP:
        return None if config.get("SMTP_URL") else "No mail server is set up."
    if not config.get("NOTIFY_API_KEY"):
        return "GOV.UK Notify is not set up (no API key)."
    key = "NOTIFY_EMAIL_TEMPLATE_ID"
    if channel is ContactChannel.SMS:
        key = "NOTIFY_SMS_TEMPLATE_ID"
    if not config.get(key):
        return f"GOV.UK Notify has no template set up for {channel.message}s."
    return None


def open_notify() -> NotifyTransport:
    """A GOV.UK Notify client from the config (raises ``NotConfigured``)."""
    config = current_app.config
    if not config.get("NOTIFY_API_KEY"):
        raise NotConfigured("GOV.UK Notify is not set up (no API key).")
    return NotifyTransport(
        str(config["NOTIFY_API_KEY"]),
        base_url=str(config["NOTIFY_BASE_URL"]),
        email_template_id=str(config.get("NOTIFY_EMAIL_TEMPLATE_ID") or ""),
        sms_template_id=str(config.get("NOTIFY_SMS_TEMPLATE_ID") or ""),
        timeout=float(config["NOTIFY_TIMEOUT_SECONDS"]),
    )


def open_transport(channel: ContactChannel) -> Transport:
    """A transport for one batch of ``channel`` (email or text), from the config."""
    problem = missing_setup(channel)
    if problem is not None:
        raise NotConfigured(problem)
    config = current_app.config
    if channel is ContactChannel.EMAIL and email_provider() == SMTP:
        return SmtpTransport(
            str(config["SMTP_URL"]),
            timeout=float(config["SMTP_TIMEOUT_SECONDS"]),
            sender=str(config["MAIL_FROM"]),
        )
    return open_notify()


# SMTP --------------------------------------------------------------------------------


def _smtp_failure(code: int, what: str) -> SendError:
    reason = f"The mail server refused it ({code}{': ' + what if what else ''})"
    return PermanentFailure(reason) if code >= 500 else TemporaryFailure(reason)


class SmtpTransport:
    """Email through an SMTP server: one connection for the batch."""

    def __init__(self, smtp_url: str, *, timeout: float, sender: str) -> None:
        self.smtp_url = smtp_url
        self.timeout = timeout
        self.sender = sender
        self._client: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._client is None:
            try:
                self._client = connect(self.smtp_url, timeout=self.timeout)
            except (OSError, smtplib.SMTPException) as error:
                # Nothing was handed over: the copy can be tried again.
                raise ProviderUnavailable("Could not reach the mail server") from error
        return self._client

    def send_email(self, email: OutgoingEmail) -> str:
        message = build_message(
            self.sender, email.address, email.subject, email.text, email.html
        )
        del message["Message-ID"]
        message["Message-ID"] = email.message_id
        if email.unsubscribe_url:
            # RFC 8058: one-click unsubscribe from the mail program's own button.
            message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        client = self._connection()
        try:
            client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, _ = next(iter(error.recipients.values()), (550, b""))
            raise _smtp_failure(int(code), "recipient refused") from error
        except smtplib.SMTPResponseException as error:
            self._drop()
            raise _smtp_failure(int(error.smtp_code), "") from error
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise OutcomeUnknown(
                "The connection to the mail server broke off"
            ) from error
        return email.message_id

    def send_text(self, text: OutgoingText) -> str:
        raise NotConfigured("Text messages are sent through GOV.UK Notify only.")

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


# GOV.UK Notify -----------------------------------------------------------------------


def _never_connected(error: BaseException | None) -> bool:
    """The request never reached Notify (so nothing can have been sent)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        reason = getattr(error.args[0], "reason", None)
        return type(reason).__name__ == "NewConnectionError"
    return False


def _notify_failure(error: HTTPError) -> SendError:
    if error.response is None:
        if _never_connected(error.__cause__):
            return ProviderUnavailable("Could not reach GOV.UK Notify")
        return OutcomeUnknown("The connection to GOV.UK Notify broke off")
    status = error.status_code
    detail = error.message
    if isinstance(detail, list):
        detail = "; ".join(
            str(item.get("message", item)) if isinstance(item, dict) else str(item)
            for item in detail
        )
    reason = f"GOV.UK Notify refused it ({status}: {detail})"
    if status == 429 or status >= 500:
        return ProviderUnavailable(reason)
    return PermanentFailure(reason)


class NotifyTransport:
    """Email and text messages through GOV.UK Notify's official client."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        email_template_id: str,
        sms_template_id: str,
        timeout: float,
    ) -> None:
        self.client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            api_key, base_url=base_url, timeout=timeout
        )
        self.email_template_id = email_template_id
        self.sms_template_id = sms_template_id

    def _call(self, method: Any, **kwargs: Any) -> str:
        try:
            response = method(**kwargs)
        except HTTPError as error:
            raise _notify_failure(error) from error
        except APIError as error:
            # Notify's answer could not be read: the message may have been accepted.
            raise OutcomeUnknown("GOV.UK Notify's answer could not be read") from error
        if not isinstance(response, dict) or not response.get("id"):
            raise OutcomeUnknown("GOV.UK Notify's answer had no notification id")
        return str(response["id"])[:100]

    def send_email(self, email: OutgoingEmail) -> str:
        return self._call(
            self.client.send_email_notification,
            email_address=email.address,
            template_id=self.email_template_id,
            personalisation={"subject": email.subject, "body": email.text},
            reference=email.reference or str(email.recipient_id),
            one_click_unsubscribe_url=email.unsubscribe_url or None,
        )

    def send_text(self, text: OutgoingText) -> str:
        return self._call(
            self.client.send_sms_notification,
            phone_number=text.phone,
            template_id=self.sms_template_id,
            personalisation={"body": text.text},
            reference=text.reference or str(text.recipient_id),
        )

    def find(self, reference: str) -> str | None:
        """The id of the notification Notify accepted with ``reference`` (None: none).

        Notify lists the last seven days' notifications; a lookup that fails raises
        ``TemporaryFailure`` (nothing is known either way).
        """
        try:
            answer = self.client.get_all_notifications(  # type: ignore[no-untyped-call]
                reference=reference
            )
        except HTTPError as error:
            raise TemporaryFailure(
                f"Could not look the copy up in GOV.UK Notify ({error.status_code})"
            ) from error
        found = answer.get("notifications") if isinstance(answer, dict) else None
        for notification in found or []:
            if isinstance(notification, dict) and notification.get("id"):
                return str(notification["id"])[:100]
        return None

    def close(self) -> None:
        self.client.request_session.close()
