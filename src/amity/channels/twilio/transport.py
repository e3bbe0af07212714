"""Sending SMS and WhatsApp messages through Twilio's Messages API (or a compatible one).

``POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP Basic auth (account SID
and Auth Token) and a form body of ``To``, ``From``, ``Body`` and, when status callbacks are on,
``StatusCallback``. Twilio answers 201 with the message resource, whose ``sid`` becomes the message's
external id so later status callbacks find it.

What is retried: network errors, 429 and 5xx, and the few 4xx codes Twilio uses for "slow down". Every
other refusal (invalid number, unsubscribed recipient, bad credentials) is permanent: sending the same
request again cannot succeed, and the agent needs to see why at once.

Twilio's Messages API takes no idempotency key, so a send whose answer was lost (a timeout after Twilio
accepted it) can reach the customer twice when it is retried; the delivery lease keeps that to the
case where the network fails mid-request.
"""

from __future__ import annotations

from typing import Any

import httpx2

from amity.channels.base import DeliveryError, Outbound, Sent
from amity.channels.twilio.config import DEFAULT_API_BASE

TIMEOUT = httpx2.Timeout(15.0, connect=5.0)
# Twilio refuses a Body longer than this for SMS and WhatsApp alike (error 21617).
MAX_BODY = 1600
# 4xx codes that mean "not now" rather than "never": rate limits and queue overflow.
TEMPORARY_CODES = {14107, 20429, 30001}
FAILED_STATES = {"failed", "undelivered", "canceled"}


def status_callback_url(base_url: str, channel_id: str) -> str:
    return f"{base_url}/hooks/{channel_id}/twilio/status"


def messages_url(config: dict[str, Any]) -> str:
    base = str(config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    return f"{base}/2010-04-01/Accounts/{config['account_sid']}/Messages.json"


def recipient(message: Outbound) -> str:
    if message.to.type != "phone":
        raise DeliveryError(
            f"{message.channel_type} messages go to a phone number, not to a {message.to.type} identity",
            permanent=True,
        )
    return f"whatsapp:{message.to.value}" if message.channel_type == "whatsapp" else message.to.value


def _refusal(r: httpx2.Response) -> DeliveryError:
    try:
        data = r.json()
    except ValueError:
        data = None
    code = data.get("code") if isinstance(data, dict) else None
    text = data.get("message") if isinstance(data, dict) else None
    detail = f"error {code}: {text}" if code else (text or r.text[:300] or r.reason_phrase)
    temporary = r.status_code == 429 or r.status_code >= 500 or code in TEMPORARY_CODES
    if r.status_code in (401, 403) and code not in TEMPORARY_CODES:
        detail += " (check the channel's account_sid and auth_token)"
    return DeliveryError(f"Twilio answered {r.status_code} ({detail})", permanent=not temporary)


class TwilioTransport:
    """One transport for every SMS and WhatsApp channel: the account details come with each message."""

    def __init__(self, base_url: str, client: httpx2.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client

    def request(self, message: Outbound) -> dict[str, str]:
        """The form body Twilio receives for this message (refusing what Twilio would refuse)."""
        if message.attachments:
            # Twilio fetches media from a public URL (MediaUrl); Amity's attachments are private.
            raise DeliveryError(
                f"{message.channel_type} replies cannot carry attachments yet; send the text alone",
                permanent=True,
            )
        body = message.text.strip()
        if not body:
            raise DeliveryError("the message has no text to send", permanent=True)
        if len(body) > MAX_BODY:
            raise DeliveryError(
                f"the text is {len(body)} characters; Twilio sends at most {MAX_BODY} in one message",
                permanent=True,
            )
        form = {"To": recipient(message), "From": str(message.config["from_number"]), "Body": body}
        if message.config.get("status_callback", True):
            form["StatusCallback"] = status_callback_url(self.base_url, message.channel_id)
        return form

    def send(self, message: Outbound) -> Sent:
        form = self.request(message)
        auth = (str(message.config["account_sid"]), str(message.config["auth_token"]))
        url = messages_url(message.config)
        try:
            if self.client is not None:
                r = self.client.post(url, data=form, auth=auth)
            else:
                with httpx2.Client(timeout=TIMEOUT) as client:
                    r = client.post(url, data=form, auth=auth)
        except httpx2.HTTPError as exc:
            raise DeliveryError(f"could not reach Twilio: {type(exc).__name__}: {exc}") from None
        if r.status_code >= 400:
            raise _refusal(r)
        try:
            data = r.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if data.get("status") in FAILED_STATES:
            code, text = data.get("error_code"), data.get("error_message")
            raise DeliveryError(f"Twilio could not send it (error {code}: {text})", permanent=True)
        sid = data.get("sid")
        # Accepted without a sid (a non-conforming gateway): still sent, only no status updates can match.
        return Sent(external_id=str(sid) if sid else None)
