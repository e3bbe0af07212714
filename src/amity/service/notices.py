"""The words of approvals: amounts in a currency's own minor units, notes for agents, replies to customers."""

from __future__ import annotations

from typing import Any

# ISO 4217 currencies whose minor unit is not the cent; every other currency has two decimals.
EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

KIND_PHRASE = {
    "refund": "a refund of {amount}",
    "credit": "a credit of {amount} to your account",
    "goodwill": "a goodwill gesture of {amount}",
    "shipping": "faster shipping for your order (worth {amount})",  # commerce: upgrade without a benefit
    "replacement": "a replacement order worth {amount}",  # commerce: replacement or exchange
    "other": "your request",
}


def money(amount_minor: int, currency: str) -> str:
    exp = EXPONENTS.get(currency.upper(), 2)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**exp)
    return f"{sign}{major}.{minor:0{exp}d} {currency.upper()}" if exp else f"{sign}{major} {currency.upper()}"


def what(kind: str, amount_minor: int, currency: str) -> str:
    phrase = KIND_PHRASE.get(kind, KIND_PHRASE["other"])
    text = phrase.format(amount=money(amount_minor, currency))
    if kind == "other" and amount_minor:
        text += f" ({money(amount_minor, currency)})"
    return text


def requested_note(
    kind: str, amount_minor: int, currency: str, reason: str, limit: int | None, who: str
) -> str:
    over = (
        f"the requester's limit is {money(limit, currency)}"
        if limit is not None
        else f"the requester has no {kind} authority in {currency.upper()}"
    )
    return (
        f"Approval requested by {who}: {kind} of {money(amount_minor, currency)} ({over}).\nReason: {reason}"
    )


def decided_note(
    decision: str, kind: str, amount_minor: int, currency: str, who: str, comment: str | None,
    execution: dict[str, Any], notified: str | None,
) -> str:  # fmt: skip
    lines = [f"{kind.capitalize()} of {money(amount_minor, currency)} {decision} by {who}."]
    if comment:
        lines.append(f"Comment: {comment}")
    status = execution.get("status")
    if status == "executed":
        lines.append(f"Carried out automatically ({execution.get('executor', kind)}).")
    elif status == "manual":
        lines.append(f"No {kind} executor is installed: the {kind} must be carried out manually.")
    elif status == "failed":
        lines.append(
            f"Carrying it out failed ({execution.get('error')}): the {kind} must be carried out manually."
        )
    lines.append(
        "The customer was told on their channel."
        if notified is None
        else f"The customer could not be told automatically ({notified}); please contact them."
    )
    return "\n".join(lines)


def customer_reply(
    decision: str, kind: str, amount_minor: int, currency: str, first_name: str, brand: dict[str, str],
    executed: bool,
) -> str:  # fmt: skip
    hello = f"Hello {first_name}," if first_name else "Hello,"
    thing = what(kind, amount_minor, currency)
    if decision == "approved":
        done = (
            "It has been processed."
            if executed
            else "We are processing it now and will confirm when it is done."
        )
        body = f"Good news: we have approved {thing}. {done}"
    else:
        request = thing if kind == "other" else f"your request for {thing}"
        body = (
            f"Thank you for your patience. We have looked carefully at {request} and we are sorry that "
            "we cannot approve it. Reply to this message if you would like to talk it over."
        )
    signature = brand.get("signature") or f"Kind regards,\n{brand.get('name') or 'Customer service'}"
    return f"{hello}\n\n{body}\n\n{signature}"
