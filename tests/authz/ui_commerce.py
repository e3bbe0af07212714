"""Commerce and stock dialogs beside a conversation (docs/commerce.md, docs/catalog.md)."""

from __future__ import annotations

from tests.authz import STAFF

UI_ALLOWED = {
    ("POST", "/conversations/{conversation_id}/commerce/apply-coupon"): STAFF,
    ("POST", "/conversations/{conversation_id}/commerce/upgrade-shipping"): STAFF,
    ("POST", "/conversations/{conversation_id}/commerce/refund"): STAFF,
    ("POST", "/conversations/{conversation_id}/commerce/goodwill"): STAFF,
    ("POST", "/conversations/{conversation_id}/commerce/order"): STAFF,
    ("GET", "/conversations/{conversation_id}/stock"): STAFF,
    ("POST", "/conversations/{conversation_id}/stock/lookup"): STAFF,
    ("POST", "/conversations/{conversation_id}/stock/reserve"): STAFF,
    ("POST", "/conversations/{conversation_id}/stock/advice"): STAFF,
}
