"""Bad input gets a 4xx JSON answer naming the field and the problem, never a 500, and never costs a
good event its place: the good items of a batch are stored whatever their neighbours look like."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App
from tests.conftest import auth
from tests.helpers import live_customers

MB = 1024 * 1024


def ident(type_: str, value: str) -> dict[str, str]:
    return {"type": type_, "value": value}


def event(email: str = "ana@example.com", **kw: Any) -> dict[str, Any]:
    return {"type": "order.placed", "identities": [ident("email", email)], **kw}


def field_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    """The errors of an error body, or of the items of a rejected single event."""
    if "errors" in body:
        return list(body["errors"])
    return [e for r in body.get("results", []) for e in r["errors"]]


def fields(r: Any) -> list[str]:
    return [e["field"] for e in field_errors(r.json())]


def assert_refused(r: Any, field: str, *words: str, status: int | tuple[int, ...] = 422) -> None:
    """A 4xx JSON answer with an error on exactly ``field`` whose message says ``words``."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, f"{r.status_code}: {r.text}"
    errors = [e for e in field_errors(r.json()) if e["field"] == field]
    assert errors, f"no error names {field!r}: {r.text}"
    for word in words:
        assert any(word.lower() in e["message"].lower() for e in errors), f"{word!r} not in {errors}"


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


def post(client: TestClient, headers: dict[str, str], body: Any) -> Any:
    return client.post("/api/v1/events", json=body, headers=headers)


def declare(client: TestClient, headers: dict[str, str], **trait: Any) -> None:
    r = client.post("/api/v1/traits", json={"purpose": "fit advice", **trait}, headers=headers)
    assert r.status_code == 201, r.text


# ---- the body itself ------------------------------------------------------------------------------
JSON_ROUTES = [
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/traits"),
    ("PATCH", "/api/v1/traits/name"),
    ("POST", "/api/v1/customers/cus_00000000000000000000000000/merge"),
    ("POST", "/api/v1/session"),
]


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES, ids=lambda v: str(v))
def test_malformed_json_is_refused_naming_the_body(
    client: TestClient, admin: dict[str, str], method: str, path: str
) -> None:
    r = client.request(
        method,
        path,
        content=b'{"type": "order.placed", ',
        headers={**admin, "content-type": "application/json"},
    )
    assert_refused(r, "body", status=(400, 422))
    assert r.json()["error"]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"order.placed"', b"null", b"42"], ids=repr)
def test_an_event_body_that_is_not_an_object_is_refused(
    client: TestClient, admin: dict[str, str], body: bytes
) -> None:
    r = client.post("/api/v1/events", content=body, headers={**admin, "content-type": "application/json"})
    assert_refused(r, "body", "event")


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"type": 123}, "type", "string"),
        ({"type": "Order Placed"}, "type", "pattern"),
        ({"identities": "ana@example.com"}, "identities", "list"),
        ({"identities": [{"type": "email", "value": 5}]}, "identities[0].value", "string"),
        ({"identities": [{"type": "email"}]}, "identities[0].value", "required"),
        ({"timestamp": "yesterday"}, "timestamp", "datetime"),
        ({"properties": ["red", "blue"]}, "properties", "dictionary"),
        ({"traits": "tall"}, "traits", "dictionary"),
        ({"id": 10442}, "id", "string"),
        ({"id": "order 10442"}, "id", "pattern"),
        ({"source": ["shop"]}, "source", "string"),
        ({"customer_id": 7}, "customer_id", "string"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(
    client: TestClient, app: App, admin: dict[str, str], change: dict[str, Any], field: str, says: str
) -> None:
    r = post(client, admin, {**event(), **change})
    assert_refused(r, field, says)
    assert live_customers(app) == set()


def test_a_batch_that_is_not_a_list_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    assert_refused(post(client, admin, {"events": {"0": event()}}), "events", "list")


@pytest.mark.parametrize("type_", ["fax", "e-mail", "social:", "social:Bad Network!", "external:", "twitter"])
def test_unknown_identity_types_are_refused(client: TestClient, admin: dict[str, str], type_: str) -> None:
    r = post(client, admin, {"type": "x", "identities": [ident(type_, "12345")]})
    assert_refused(r, "identities[0].type", type_)


@pytest.mark.parametrize(
    "value", ["not-an-email", "ana@", "@example.com", "ana@@example.com", "ana @example.com"]
)
def test_invalid_emails_are_refused(client: TestClient, admin: dict[str, str], value: str) -> None:
    r = post(client, admin, {"type": "x", "identities": [ident("email", value)]})
    assert_refused(r, "identities[0].value", "email")


@pytest.mark.parametrize("value", ["12", "12345", "+44 20 7946", "+999 1234 5678"])
def test_invalid_phone_numbers_are_refused(client: TestClient, admin: dict[str, str], value: str) -> None:
    r = post(client, admin, {"type": "x", "identities": [ident("phone", value)]})
    assert_refused(r, "identities[0].value", "phone")


def test_an_identity_value_over_320_characters_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    r = post(client, admin, {"type": "x", "identities": [ident("external:shop", "9" * 321)]})
    assert_refused(r, "identities[0].value", "320")


# ---- size limits ----------------------------------------------------------------------------------
def _big_batch() -> bytes:
    """About 1.1 MB of events that would each be fine on their own."""
    item = event(properties={"note": "x" * 1100})
    return orjson.dumps({"events": [{**item, "id": f"big-{i}"} for i in range(1000)]})


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/traits"])
def test_a_body_over_1_mb_is_refused_by_its_content_length(
    client: TestClient, app: App, admin: dict[str, str], path: str
) -> None:
    body = _big_batch()
    assert len(body) > MB
    r = client.post(path, content=body, headers={**admin, "content-type": "application/json"})
    assert_refused(r, "body", "bytes", status=413)
    assert r.json()["error"] == "too_large"
    assert live_customers(app) == set()


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/traits"])
def test_a_streamed_body_over_1_mb_is_refused_without_a_content_length(
    client: TestClient, app: App, admin: dict[str, str], path: str
) -> None:
    body = _big_batch()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server only learns the size by reading
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    r = client.post(path, content=chunks(), headers={**admin, "content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_refused(r, "body", "bytes", status=413)
    assert r.json()["error"] == "too_large"
    assert live_customers(app) == set()


def test_properties_over_32_kb_are_refused_and_just_under_is_kept(
    client: TestClient, admin: dict[str, str]
) -> None:
    big = post(client, admin, event(properties={"notes": "x" * (32 * 1024)}))
    assert_refused(big, "properties", "32768")
    ok = post(client, admin, event(properties={"notes": "x" * (31 * 1024)}))
    assert ok.status_code == 200, ok.text


def test_a_batch_over_1000_events_is_refused_naming_events(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    r = post(client, admin, {"events": [{"type": "x", "customer_id": "cus_x"}] * 1001})
    assert_refused(r, "events", "1001", "1000", status=413)
    assert live_customers(app) == set()


def test_a_batch_of_exactly_1000_events_is_taken(client: TestClient, admin: dict[str, str]) -> None:
    r = post(client, admin, {"events": [event(id=f"pv-{i}") for i in range(1000)]})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1000


# ---- timestamps -----------------------------------------------------------------------------------
def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).isoformat()


@pytest.mark.parametrize(
    ("timestamp", "says"),
    [
        # Relative times are computed when the test runs, so test ids are the same in every worker.
        (dt.timedelta(days=400), "future"),
        (dt.timedelta(hours=2), "future"),
        ("2999-01-01T00:00:00Z", "future"),
        ("1969-12-31T23:59:59Z", "1970"),
        # Both ends of the calendar: converting these to UTC leaves the range Python can represent.
        ("9999-12-31T23:59:59-10:00", ""),
        ("0001-01-01T00:00:00+01:00", ""),
        ("not a time", "datetime"),
    ],
)
def test_timestamps_out_of_range_are_refused_naming_timestamp(
    client: TestClient, admin: dict[str, str], timestamp: str | dt.timedelta, says: str
) -> None:
    when = _iso(timestamp) if isinstance(timestamp, dt.timedelta) else timestamp
    assert_refused(post(client, admin, event(timestamp=when)), "timestamp", says)


def test_a_timestamp_a_little_ahead_is_taken_and_one_without_offset_is_utc(
    client: TestClient, admin: dict[str, str]
) -> None:
    ahead = post(client, admin, event(timestamp=_iso(dt.timedelta(minutes=30))))
    assert ahead.status_code == 200, ahead.text
    naive = post(client, admin, event(timestamp="2026-01-05T10:00:00"))
    cid = naive.json()["results"][0]["customer_id"]
    items = client.get(f"/api/v1/customers/{cid}/events", headers=admin).json()["items"]
    assert "2026-01-05T10:00:00+00:00" in {e["timestamp"] for e in items}


# ---- traits ---------------------------------------------------------------------------------------
def test_an_undeclared_trait_is_refused_naming_it(client: TestClient, admin: dict[str, str]) -> None:
    r = post(client, admin, event(traits={"shoe_size": 6.5}))
    assert_refused(r, "traits.shoe_size", "not declared")


@pytest.mark.parametrize(
    ("declared", "value", "says"),
    [
        ({"type": "number"}, "6.5", "expected a number"),
        ({"type": "number"}, True, "expected a number"),
        ({"type": "boolean"}, "yes", "true or false"),
        ({"type": "date"}, "2026-02-30", "not a date"),
        ({"type": "enum", "enum_values": ["narrow", "wide"]}, "huge", "one of narrow, wide"),
        ({"type": "list"}, [{"nested": 1}], "item 0"),
        ({"type": "string"}, {"uk": 6}, "expected a string"),
    ],
)
def test_a_trait_value_of_the_wrong_type_is_refused_naming_the_trait(
    client: TestClient, admin: dict[str, str], declared: dict[str, Any], value: Any, says: str
) -> None:
    declare(client, admin, name="shoe_size", **declared)
    assert_refused(post(client, admin, event(traits={"shoe_size": value})), "traits.shoe_size", says)


def test_built_in_traits_check_their_values(client: TestClient, admin: dict[str, str]) -> None:
    r = post(client, admin, event(traits={"timezone": "Mars/Olympus", "language": "english please"}))
    assert_refused(r, "traits.timezone", "IANA")
    assert_refused(r, "traits.language", "language tag")


# ---- unknown keys ---------------------------------------------------------------------------------
def test_unknown_keys_on_an_event_are_refused_naming_them(client: TestClient, admin: dict[str, str]) -> None:
    r = post(client, admin, {**event(), "colour": "red"})
    assert_refused(r, "colour", "not permitted")
    r = post(
        client, admin, {"type": "x", "identities": [{**ident("email", "a@example.com"), "primary": True}]}
    )
    assert_refused(r, "identities[0].primary", "not permitted")


def test_unknown_keys_next_to_a_batch_are_refused_naming_them(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = post(client, admin, {"events": [event()], "dry_run": True})
    assert r.status_code == 422, r.text
    assert "dry_run" in r.json()["message"]


@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        (
            "/api/v1/traits",
            "POST",
            {"name": "vip", "type": "boolean", "purpose": "p", "indexed": True},
            "indexed",
        ),
        ("/api/v1/traits/name", "PATCH", {"colour": "red"}, "colour"),
        ("/api/v1/merges/mrg_x/undo", "POST", {"reason": "wrong", "force": True}, "force"),
        ("/api/v1/customers/cus_x/merge", "POST", {"other_id": "cus_y", "why": "same"}, "why"),
    ],
)
def test_unknown_keys_elsewhere_are_refused_naming_them(
    client: TestClient, admin: dict[str, str], path: str, method: str, body: dict[str, Any], field: str
) -> None:
    assert_refused(client.request(method, path, json=body, headers=admin), field, "not permitted")


def test_a_trait_declaration_with_bad_fields_names_each(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/traits", json={"name": "Shoe Size", "type": "decimal", "purpose": ""}, headers=admin
    )
    assert r.status_code == 422, r.text
    assert set(fields(r)) == {"name", "type", "purpose"}


# ---- batches: one bad item never loses a good one -------------------------------------------------
def test_a_bad_item_in_a_batch_is_rejected_and_the_good_ones_are_stored(
    client: TestClient, app: App, admin: dict[str, str]
) -> None:
    batch = [
        event("ana@example.com", id="o-1"),
        {"type": "order.placed", "id": "o-2", "identities": [ident("email", "bob at example")]},
        event("carl@example.com", id="o-3", traits={"name": "Carl"}),
    ]
    r = post(client, admin, {"events": batch})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 0, 1)
    assert [x["status"] for x in body["results"]] == ["accepted", "rejected", "accepted"]
    bad = body["results"][1]
    assert bad["id"] == "o-2" and bad["customer_id"] is None
    assert [e["field"] for e in bad["errors"]] == ["events[1].identities[0].value"]
    assert "email" in bad["errors"][0]["message"]

    carl = client.get(f"/api/v1/customers/{body['results'][2]['customer_id']}", headers=admin).json()
    assert carl["traits"] == {"name": "Carl"}
    assert [e["id"] for e in carl["events"]["items"]] == ["o-3"]
    assert len(live_customers(app)) == 2
    again = post(client, admin, {"events": [batch[1]]})
    assert again.json()["results"][0]["status"] == "rejected"  # the bad one was not stored under its id


def test_each_bad_item_of_a_batch_is_named_by_its_index(client: TestClient, admin: dict[str, str]) -> None:
    batch = [
        event(traits={"shoe_size": 6}),
        event(),
        {"type": "x", "identities": [ident("fax", "1")]},
        event(timestamp="2999-01-01T00:00:00Z"),
    ]
    results = post(client, admin, {"events": batch}).json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [[e["field"] for e in r["errors"]] for r in results] == [
        ["events[0].traits.shoe_size"],
        [],
        ["events[2].identities[0].type"],
        ["events[3].timestamp"],
    ]


@pytest.mark.parametrize("item", [1, "order.placed", None, []], ids=repr)
def test_a_batch_item_that_is_not_an_object_is_named_by_its_index(
    client: TestClient, admin: dict[str, str], item: Any
) -> None:
    r = post(client, admin, {"events": [event(), item]})
    assert r.status_code == 200, r.text
    rejected = r.json()["results"][1]
    assert rejected["status"] == "rejected"
    assert [e["field"] for e in rejected["errors"]] == ["events[1]"]


def test_an_event_sent_twice_is_stored_once_and_reported_duplicate(
    client: TestClient, admin: dict[str, str]
) -> None:
    first = post(client, admin, {"events": [event(id="order-10442"), event(id="order-10442")]}).json()
    assert [r["status"] for r in first["results"]] == ["accepted", "duplicate"]
    assert (first["accepted"], first["duplicate"]) == (1, 1)
    cid = first["results"][0]["customer_id"]
    assert first["results"][1]["customer_id"] == cid

    retry = post(client, admin, event(id="order-10442"))
    assert retry.status_code == 200
    assert retry.json()["results"][0] == {
        "index": 0,
        "id": "order-10442",
        "status": "duplicate",
        "customer_id": cid,
        "errors": [],
        "flags": [],
    }
    c360 = client.get(f"/api/v1/customers/{cid}", headers=admin).json()
    assert c360["counts"]["events"] == 1
    audit = client.get("/api/v1/audit?action=events.ingested", headers=admin).json()["items"]
    assert [(a["details"]["accepted"], a["details"]["duplicate"]) for a in audit] == [(0, 1), (1, 1)]


# ---- placeholders are kept on the event, never matched ---------------------------------------------
@pytest.mark.parametrize(
    "placeholder",
    [
        ident("loyalty", "anonymous"),
        ident("loyalty", "null"),
        ident("external:shop", ""),
        ident("device", "undefined"),
        ident("email", "noreply@shop.example"),
        ident("email", "Anonymous"),
        ident("phone", "000-000-0000"),
        ident("phone", "0"),
    ],
    ids=lambda i: f"{i['type']}={i['value']!r}",
)
def test_a_placeholder_identifier_is_kept_on_the_event_but_never_merges_two_people(
    client: TestClient, admin: dict[str, str], placeholder: dict[str, str]
) -> None:
    ids = []
    for email in ("ana@example.com", "bob@example.com"):
        r = post(client, admin, {"type": "order.placed", "identities": [ident("email", email), placeholder]})
        assert r.status_code == 200, r.text
        ids.append(r.json()["results"][0]["customer_id"])
    assert ids[0] != ids[1]
    for cid in ids:
        c360 = client.get(f"/api/v1/customers/{cid}", headers=admin).json()
        assert c360["merges"] == [] and c360["merged_profiles"] == []
        assert [i["type"] for i in c360["identities"]] == ["email"]
        kept = c360["events"]["items"][0]["identities"]
        assert {"type": placeholder["type"], "value": placeholder["value"].strip(), "blocked": True} in kept


def test_an_event_with_only_placeholder_identifiers_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = post(
        client, admin, {"type": "x", "identities": [ident("loyalty", "anonymous"), ident("phone", "000")]}
    )
    assert_refused(r, "identities", "placeholder")


def test_an_event_with_no_identity_and_no_customer_id_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert_refused(post(client, admin, {"type": "x"}), "identities", "customer_id")


def test_an_event_for_an_unknown_customer_id_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    assert_refused(
        post(client, admin, {"type": "x", "customer_id": "cus_nobody"}), "customer_id", "no customer"
    )


# ---- reads ----------------------------------------------------------------------------------------
@pytest.fixture
def ana(client: TestClient, admin: dict[str, str]) -> str:
    r = post(client, admin, event("ana@example.com", traits={"name": "Ana"}))
    return str(r.json()["results"][0]["customer_id"])


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


BAD_CURSORS = {
    "text": "bogus",
    "punctuation": "!!!",
    "not json": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "an object": _b64({"a": 1}),
    "numbers": _b64([1, 2]),
    "wrong time format": _b64(["2026-01-01", "evt_1"]),
    "no event id": _b64(["2026-01-01T00:00:00.000000Z", 5]),
    "three parts": _b64(["2026-01-01T00:00:00.000000Z", "evt_1", "x"]),
}


@pytest.mark.parametrize("cursor", list(BAD_CURSORS.values()), ids=list(BAD_CURSORS))
@pytest.mark.parametrize("suffix", ["", "/events"])
def test_an_invalid_cursor_is_refused_naming_cursor(
    client: TestClient, admin: dict[str, str], ana: str, cursor: str, suffix: str
) -> None:
    r = client.get(f"/api/v1/customers/{ana}{suffix}", params={"cursor": cursor}, headers=admin)
    assert_refused(r, "cursor", "cursor")


@pytest.mark.parametrize("suffix", ["", "/events", "/traits/history"])
def test_an_unknown_customer_is_404(client: TestClient, admin: dict[str, str], suffix: str) -> None:
    r = client.get(f"/api/v1/customers/cus_nobody{suffix}", headers=admin)
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "not_found" and "cus_nobody" in r.json()["message"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "x" * 501}, "cursor"),
    ],
)
def test_paging_parameters_out_of_range_are_refused_naming_them(
    client: TestClient, admin: dict[str, str], ana: str, params: dict[str, Any], field: str
) -> None:
    assert_refused(client.get(f"/api/v1/customers/{ana}/events", params=params, headers=admin), field)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"identity": "bogus"}, "identity"),
        ({"identity": "fax:0207946000"}, "identity"),
        ({"identity": "email:not-an-email"}, "identity"),
        ({"identity": "phone:12"}, "identity"),
        ({"identity": "email:ana@example.com", "q": "ana"}, "identity"),
        ({}, "identity"),
        ({"identity": "", "q": ""}, "identity"),
        ({"q": "   "}, "q"),
        ({"q": "ana", "limit": 0}, "limit"),
    ],
)
def test_customer_lookup_needs_exactly_one_valid_identity_or_search(
    client: TestClient, admin: dict[str, str], params: dict[str, Any], field: str
) -> None:
    assert_refused(client.get("/api/v1/customers", params=params, headers=admin), field)


def test_looking_up_a_placeholder_finds_nobody(client: TestClient, admin: dict[str, str]) -> None:
    post(
        client,
        admin,
        {"type": "x", "identities": [ident("email", "ana@example.com"), ident("loyalty", "null")]},
    )
    r = client.get("/api/v1/customers", params={"identity": "loyalty:null"}, headers=admin)
    assert r.status_code == 200 and r.json()["items"] == []


# ---- merges ---------------------------------------------------------------------------------------
@pytest.fixture
def bob(client: TestClient, admin: dict[str, str]) -> str:
    r = post(client, admin, event("bob@example.com"))
    return str(r.json()["results"][0]["customer_id"])


def test_merging_into_an_unknown_customer_is_404(client: TestClient, admin: dict[str, str], ana: str) -> None:
    r = client.post("/api/v1/customers/cus_nobody/merge", json={"other_id": ana}, headers=admin)
    assert_refused(r, "id", "cus_nobody", status=404)
    r = client.post(f"/api/v1/customers/{ana}/merge", json={"other_id": "cus_nobody"}, headers=admin)
    assert_refused(r, "other_id", "cus_nobody", status=404)


def test_merging_a_customer_with_itself_is_a_conflict(
    client: TestClient, admin: dict[str, str], ana: str
) -> None:
    r = client.post(f"/api/v1/customers/{ana}/merge", json={"other_id": ana}, headers=admin)
    assert_refused(r, "other_id", "already the same customer", status=409)
    assert client.get("/api/v1/audit?action=customer.merged", headers=admin).json()["items"] == []


def test_merging_two_already_merged_customers_again_is_a_conflict(
    client: TestClient, admin: dict[str, str], ana: str, bob: str
) -> None:
    assert (
        client.post(f"/api/v1/customers/{ana}/merge", json={"other_id": bob}, headers=admin).status_code
        == 201
    )
    r = client.post(f"/api/v1/customers/{bob}/merge", json={"other_id": ana}, headers=admin)
    assert_refused(r, "other_id", "already the same customer", status=409)


def test_undoing_an_unknown_merge_is_404(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/api/v1/merges/mrg_nothing/undo", headers=admin)
    assert_refused(r, "merge_id", "mrg_nothing", status=404)
    assert client.get("/api/v1/merges/mrg_nothing", headers=admin).status_code == 404


def test_undoing_a_merge_twice_is_a_conflict_and_audited_once(
    client: TestClient, admin: dict[str, str], ana: str, bob: str
) -> None:
    merge_id = client.post(f"/api/v1/customers/{ana}/merge", json={"other_id": bob}, headers=admin).json()[
        "id"
    ]
    first = client.post(f"/api/v1/merges/{merge_id}/undo", json={"reason": "different people"}, headers=admin)
    assert first.status_code == 200, first.text
    second = client.post(f"/api/v1/merges/{merge_id}/undo", headers=admin)
    assert_refused(second, "merge_id", "already undone", status=409)
    undone = client.get("/api/v1/audit?action=merge.undone", headers=admin).json()["items"]
    assert [a["details"]["merge_id"] for a in undone] == [merge_id]


# ---- traits API -----------------------------------------------------------------------------------
def test_declaring_a_trait_twice_is_a_conflict(client: TestClient, admin: dict[str, str]) -> None:
    declare(client, admin, name="shoe_size", type="number")
    r = client.post(
        "/api/v1/traits", json={"name": "shoe_size", "type": "number", "purpose": "x"}, headers=admin
    )
    assert_refused(r, "name", "already declared", status=409)


def test_changing_an_undeclared_trait_is_404(client: TestClient, admin: dict[str, str]) -> None:
    r = client.patch("/api/v1/traits/shoe_size", json={"purpose": "fit"}, headers=admin)
    assert_refused(r, "name", "not declared", status=404)


@pytest.mark.parametrize(
    ("trait", "field"),
    [
        ({"name": "tier", "type": "enum"}, "enum_values"),
        ({"name": "vip", "type": "boolean", "enum_values": ["y"]}, "enum_values"),
        ({"name": "vip", "type": "boolean", "retention_days": 0}, "retention_days"),
    ],
)
def test_inconsistent_trait_declarations_are_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], trait: dict[str, Any], field: str
) -> None:
    assert_refused(client.post("/api/v1/traits", json={"purpose": "p", **trait}, headers=admin), field)


# ---- NUL characters: PostgreSQL cannot store them, so nobody may send them ---------------------------
NUL = "\x00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": f"shop{NUL}"}, "source"),
        ({"properties": {"note": f"a{NUL}b"}}, "properties.note"),
        ({"properties": {f"k{NUL}": 1}}, "properties"),
        ({"identities": [ident("external:shop", f"10{NUL}442")]}, "identities[0].value"),
        ({"traits": {"name": f"Ana{NUL}"}}, "traits.name"),
    ],
    ids=["source", "property value", "property key", "identity value", "trait value"],
)
def test_an_event_with_a_nul_character_is_refused_naming_the_field(
    client: TestClient, admin: dict[str, str], change: dict[str, Any], field: str
) -> None:
    r = post(client, admin, {**event(), **change})
    assert r.status_code == 422, r.text
    assert any(f.startswith(field) for f in fields(r)), r.text


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/traits", {"name": "vip", "type": "boolean", "purpose": f"p{NUL}"}, "purpose"),
        ("PATCH", "/api/v1/traits/name", {"description": f"d{NUL}"}, "description"),
    ],
)
def test_a_trait_declaration_with_a_nul_character_is_refused(
    client: TestClient, admin: dict[str, str], method: str, path: str, body: dict[str, Any], field: str
) -> None:
    assert_refused(client.request(method, path, json=body, headers=admin), field)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/api/v1/customers/cus%00x", None),
        ("GET", "/api/v1/customers/cus%00x/events", None),
        ("GET", "/api/v1/customers?q=an%00a", None),
        ("GET", "/api/v1/customers?identity=loyalty:1%002", None),
        ("GET", "/api/v1/merges/mrg%00x", None),
        ("POST", "/api/v1/merges/mrg%00x/undo", None),
        ("GET", "/api/v1/audit?subject_id=a%00", None),
        ("PATCH", "/api/v1/traits/na%00me", {"description": "d"}),
        ("POST", "/api/v1/customers/cus%00x/merge", {"other_id": "cus_y"}),
        ("POST", "/api/v1/session", {"email": "sam\x00@example.com", "password": "x"}),
        ("POST", "/api/v1/events", {"type": "x", "customer_id": "cus\x00x"}),
    ],
)
def test_a_nul_character_in_a_lookup_is_never_a_server_error(
    client: TestClient, admin: dict[str, str], method: str, url: str, body: Any
) -> None:
    r = client.request(method, url, json=body, headers=admin)
    assert r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/json"


@pytest.mark.parametrize("suffix", ["", "/events"])
def test_a_cursor_with_a_nul_character_is_refused_naming_cursor(
    client: TestClient, admin: dict[str, str], ana: str, suffix: str
) -> None:
    cursor = _b64(["2026-01-01T00:00:00.000000Z", f"evt{NUL}"])
    r = client.get(f"/api/v1/customers/{ana}{suffix}", params={"cursor": cursor}, headers=admin)
    assert_refused(r, "cursor")
