"""The contract other systems build on (docs/api.md): paths, shapes, paging, and the merged-away id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth

DOCUMENTED = [
    ("post", "/api/v1/events"),
    ("get", "/api/v1/customers"),
    ("get", "/api/v1/customers/{customer_id}"),
    ("get", "/api/v1/customers/{customer_id}/events"),
    ("get", "/api/v1/customers/{customer_id}/traits/history"),
    ("post", "/api/v1/customers/{customer_id}/merge"),
    ("get", "/api/v1/merges/{merge_id}"),
    ("post", "/api/v1/merges/{merge_id}/undo"),
    ("get", "/api/v1/traits"),
    ("post", "/api/v1/traits"),
    ("patch", "/api/v1/traits/{name}"),
    ("get", "/api/v1/audit"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/me"),
    ("get", "/healthz"),
]


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return auth(tokens["admin"])


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def ident(type_: str, value: str) -> dict[str, str]:
    return {"type": type_, "value": value}


def ingest(client: TestClient, headers: dict[str, str], *events: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post("/api/v1/events", json={"events": list(events)}, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


# ---- the OpenAPI document ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), DOCUMENTED, ids=lambda v: str(v))
def test_every_documented_operation_is_in_the_openapi_document(
    openapi: dict[str, Any], method: str, path: str
) -> None:
    assert method in openapi["paths"].get(path, {}), f"{method.upper()} {path} is not in /openapi.json"


def test_the_customer_lookup_documents_identity_and_q(openapi: dict[str, Any]) -> None:
    params = {p["name"]: p for p in openapi["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert {"identity", "q", "limit"} <= set(params)
    assert not params["identity"]["required"] and not params["q"]["required"]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_schema_reference_in_the_openapi_document_resolves(openapi: dict[str, Any]) -> None:
    """A dangling $ref makes client generators and schema-driven fuzzers give up on the operation."""
    schemas = openapi.get("components", {}).get("schemas", {})
    dangling = sorted({r for r in _refs(openapi) if r.removeprefix("#/components/schemas/") not in schemas})
    assert dangling == [], f"references to schemas that are not in components: {dangling}"


def test_the_event_body_is_described_field_by_field(openapi: dict[str, Any]) -> None:
    body = openapi["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    single = openapi["components"]["schemas"].get(body["oneOf"][0]["$ref"].rsplit("/", 1)[-1], {})
    assert {"id", "type", "timestamp", "source", "customer_id", "identities", "traits", "properties"} <= set(
        single.get("properties", {})
    )
    assert single.get("required") == ["type"]


@pytest.mark.parametrize(
    ("method", "path", "status", "schema"),
    [
        ("post", "/api/v1/events", "200", "IngestResponse"),
        ("post", "/api/v1/traits", "201", "TraitOut"),
        ("patch", "/api/v1/traits/{name}", "200", "TraitOut"),
    ],
)
def test_json_answers_are_documented_as_their_model_not_as_a_string(
    openapi: dict[str, Any], method: str, path: str, status: str, schema: str
) -> None:
    content = openapi["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    assert content.get("$ref") == f"#/components/schemas/{schema}", content


def test_no_json_answer_is_documented_as_a_plain_string(openapi: dict[str, Any]) -> None:
    strings = [
        f"{method.upper()} {path} {status}"
        for path, ops in openapi["paths"].items()
        for method, op in ops.items()
        for status, resp in op["responses"].items()
        if resp.get("content", {}).get("application/json", {}).get("schema") == {"type": "string"}
    ]
    assert strings == []


def test_the_openapi_document_says_how_to_authenticate(openapi: dict[str, Any]) -> None:
    schemes = openapi.get("components", {}).get("securitySchemes", {})
    bearer = [name for name, s in schemes.items() if s.get("type") == "http" and s.get("scheme") == "bearer"]
    assert bearer, "no HTTP bearer security scheme in /openapi.json"
    op = openapi["paths"]["/api/v1/customers/{customer_id}"]["get"]
    assert any(bearer[0] in req for req in op.get("security", openapi.get("security", [])))


# ---- ingest answers ---------------------------------------------------------------------------------
def test_a_batch_answer_lists_every_item_in_order_with_its_status(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/events",
        json={
            "events": [
                {
                    "id": "order-10442",
                    "type": "order.placed",
                    "identities": [ident("email", "ana@example.com")],
                },
                {
                    "type": "order.placed",
                    "identities": [ident("email", "ana@example.com")],
                    "traits": {"x": 1},
                },
                {
                    "id": "order-10442",
                    "type": "order.placed",
                    "identities": [ident("email", "ana@example.com")],
                },
            ]
        },
        headers=admin,
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"accepted", "duplicate", "rejected", "results"}
    assert (body["accepted"], body["rejected"], body["duplicate"]) == (1, 1, 1)
    for i, item in enumerate(body["results"]):
        assert set(item) == {"index", "id", "status", "customer_id", "errors", "flags"}
        assert item["index"] == i
    accepted, rejected, duplicate = body["results"]
    assert accepted["status"] == "accepted" and accepted["customer_id"].startswith("cus_")
    assert accepted["errors"] == []
    assert rejected["status"] == "rejected" and rejected["customer_id"] is None
    assert rejected["errors"] == [
        {"field": "events[1].traits.x", "message": rejected["errors"][0]["message"]}
    ]
    assert duplicate["status"] == "duplicate" and duplicate["customer_id"] == accepted["customer_id"]


def test_a_rejected_single_event_answers_422_with_the_error_envelope_and_its_result(
    client: TestClient, admin: dict[str, str]
) -> None:
    """docs/api.md: every error is {"error", "message", "errors"}; a single rejected event is 422 with
    the same body a batch gets. A client's generic error handling must work on both."""
    r = client.post(
        "/api/v1/events", json={"type": "order.placed", "identities": [ident("fax", "1")]}, headers=admin
    )
    assert r.status_code == 422
    body = r.json()
    assert body["results"][0]["errors"][0]["field"] == "identities[0].type"
    assert body["error"] and body["message"]
    assert body["errors"] == body["results"][0]["errors"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/nowhere"), ("put", "/api/v1/traits"), ("get", "/api/v1/customers/cus_nobody")],
)
def test_errors_are_json_with_a_code_and_a_message(
    client: TestClient, admin: dict[str, str], method: str, path: str
) -> None:
    r = client.request(method, path, headers=admin)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/json"
    assert isinstance(r.json()["error"], str) and isinstance(r.json()["message"], str)


def test_the_request_id_comes_back_and_lands_on_the_audit_row(
    client: TestClient, admin: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/traits",
        json={"name": "shoe_size", "type": "number", "purpose": "fit advice"},
        headers={**admin, "X-Request-Id": "shop-sync-7"},
    )
    assert r.status_code == 201
    assert r.headers["x-request-id"] == "shop-sync-7"
    rows = client.get("/api/v1/audit?action=trait.declared", headers=admin).json()["items"]
    assert [(row["subject_id"], row["request_id"]) for row in rows] == [("shoe_size", "shop-sync-7")]


# ---- the Customer 360 -------------------------------------------------------------------------------
def test_the_customer_360_has_the_documented_parts(client: TestClient, admin: dict[str, str]) -> None:
    (res,) = ingest(
        client,
        admin,
        {
            "id": "order-10442",
            "type": "order.placed",
            "timestamp": "2026-01-05T10:00:00Z",
            "source": "shop",
            "identities": [ident("email", "Ana@Example.com"), ident("external:shop", "10442")],
            "traits": {"name": "Ana Silva"},
            "properties": {"total": 89.0, "currency": "EUR"},
        },
    )
    r = client.get(f"/api/v1/customers/{res['customer_id']}", headers=admin)
    assert r.status_code == 200
    c = r.json()
    assert {
        "id",
        "created_at",
        "updated_at",
        "last_seen_at",
        "traits",
        "trait_updated_at",
        "identities",
        "merged_profiles",
        "merges",
        "counts",
        "events",
    } <= set(c)
    assert c["id"] == res["customer_id"]
    assert c["traits"] == {"name": "Ana Silva"}
    assert {(i["type"], i["value"]) for i in c["identities"]} == {
        ("email", "ana@example.com"),
        ("external:shop", "10442"),
    }
    assert all(i["first_event_id"] == "order-10442" for i in c["identities"])
    assert c["counts"] == {"events": 1, "events_by_type": {"order.placed": 1}, "identities": 2}
    assert set(c["events"]) == {"items", "next_cursor"} and c["events"]["next_cursor"] is None
    (e,) = c["events"]["items"]
    assert e["id"] == "order-10442" and e["source"] == "shop" and e["properties"]["currency"] == "EUR"
    assert dt.datetime.fromisoformat(e["timestamp"]) == dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
    assert "requested_id" not in c and "note" not in c


def test_a_merged_away_id_answers_with_the_survivor_and_says_so(
    client: TestClient, admin: dict[str, str], tokens: dict[str, str]
) -> None:
    ana, bob = (
        r["customer_id"]
        for r in ingest(
            client,
            admin,
            {"type": "order.placed", "identities": [ident("email", "ana@example.com")]},
            {"type": "chat.started", "identities": [ident("phone", "+447911123456")]},
        )
    )
    r = client.post(
        f"/api/v1/customers/{ana}/merge",
        json={"other_id": bob, "note": "same person, confirmed on the phone"},
        headers=auth(tokens["supervisor"]),
    )
    assert r.status_code == 201, r.text
    merge = r.json()
    assert (merge["survivor_id"], merge["merged_id"], merge["reason"]) == (ana, bob, "manual")
    assert merge["undone_at"] is None and merge["evidence"]["note"] == "same person, confirmed on the phone"
    assert client.get(f"/api/v1/merges/{merge['id']}", headers=admin).json() == merge

    c = client.get(f"/api/v1/customers/{bob}", headers=auth(tokens["agent"])).json()
    assert c["id"] == ana
    assert c["requested_id"] == bob and c["resolved_from_merged_id"] is True
    assert bob in c["note"] and ana in c["note"]
    assert c["merged_profiles"] == [bob]
    assert [m["id"] for m in c["merges"]] == [merge["id"]]
    assert c["counts"]["events"] == 2 and c["counts"]["identities"] == 2

    audit = client.get(f"/api/v1/audit?action=customer.merged&subject_id={ana}", headers=admin).json()[
        "items"
    ]
    assert len(audit) == 1 and audit[0]["details"]["merged_id"] == bob
    assert audit[0]["actor"].startswith("token:tok_")


def test_undoing_a_merge_brings_both_customers_back(client: TestClient, admin: dict[str, str]) -> None:
    ana, bob = (
        r["customer_id"]
        for r in ingest(
            client,
            admin,
            {"type": "x", "identities": [ident("email", "ana@example.com")]},
            {"type": "x", "identities": [ident("email", "bob@example.com")]},
        )
    )
    merge_id = client.post(f"/api/v1/customers/{ana}/merge", json={"other_id": bob}, headers=admin).json()[
        "id"
    ]
    r = client.post(f"/api/v1/merges/{merge_id}/undo", json={"reason": "two people"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"merge_id": merge_id, "survivor_id": ana, "restored_id": bob}
    restored = client.get(f"/api/v1/customers/{bob}", headers=admin).json()
    assert restored["id"] == bob and "requested_id" not in restored
    assert [i["value"] for i in restored["identities"]] == ["bob@example.com"]
    merge = client.get(f"/api/v1/merges/{merge_id}", headers=admin).json()
    assert merge["undone_at"] and merge["undo_reason"] == "two people"


# ---- paging the timeline ----------------------------------------------------------------------------
@pytest.fixture
def busy_customer(client: TestClient, admin: dict[str, str]) -> tuple[str, set[str]]:
    """45 events for one customer; groups of three share a timestamp, so ties must be broken by id."""
    base = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    events = [
        {
            "id": f"evt-{i:02d}",
            "type": "page.viewed" if i % 2 else "order.placed",
            "timestamp": (base + dt.timedelta(minutes=i // 3)).isoformat(),
            "identities": [ident("email", "ana@example.com")],
        }
        for i in range(45)
    ]
    results = ingest(client, admin, *events)
    assert {r["status"] for r in results} == {"accepted"}
    (cid,) = {r["customer_id"] for r in results}
    return cid, {e["id"] for e in events}


def _walk(
    client: TestClient, headers: dict[str, str], url: str, first_cursor: str | None = None, **filters: str
) -> list[Any]:
    pages, cursor = [], first_cursor
    for _ in range(20):
        params: dict[str, Any] = {"limit": 10, **filters}
        if cursor:
            params["cursor"] = cursor
        r = client.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the cursor never ran out")


def test_the_cursor_walks_the_whole_timeline_without_gaps_or_repeats(
    client: TestClient, admin: dict[str, str], busy_customer: tuple[str, set[str]]
) -> None:
    cid, sent = busy_customer
    pages = _walk(client, admin, f"/api/v1/customers/{cid}/events")
    assert [len(p) for p in pages] == [10, 10, 10, 10, 5]
    seen = [e["id"] for p in pages for e in p]
    assert len(seen) == len(set(seen)) == 45
    assert set(seen) == sent
    order = [(e["timestamp"], e["id"]) for p in pages for e in p]
    assert order == sorted(order, reverse=True)  # newest first, ties by id


def test_the_360_cursor_continues_on_the_timeline(
    client: TestClient, admin: dict[str, str], busy_customer: tuple[str, set[str]]
) -> None:
    cid, sent = busy_customer
    first = client.get(f"/api/v1/customers/{cid}", params={"limit": 10}, headers=admin).json()
    assert first["counts"]["events"] == 45
    assert first["counts"]["events_by_type"] == {"order.placed": 23, "page.viewed": 22}
    rest = _walk(client, admin, f"/api/v1/customers/{cid}/events", first["events"]["next_cursor"])
    seen = [e["id"] for e in first["events"]["items"]] + [e["id"] for p in rest for e in p]
    assert len(seen) == 45 and set(seen) == sent


def test_paging_a_filtered_timeline_keeps_to_the_type(
    client: TestClient, admin: dict[str, str], busy_customer: tuple[str, set[str]]
) -> None:
    cid, _ = busy_customer
    pages = _walk(client, admin, f"/api/v1/customers/{cid}/events", type="page.viewed")
    seen = [e for p in pages for e in p]
    assert len(seen) == len({e["id"] for e in seen}) == 22
    assert {e["type"] for e in seen} == {"page.viewed"}


def test_the_timeline_of_a_merged_away_id_is_the_survivors(
    client: TestClient, admin: dict[str, str], busy_customer: tuple[str, set[str]]
) -> None:
    cid, sent = busy_customer
    (other,) = ingest(
        client, admin, {"id": "late", "type": "x", "identities": [ident("email", "b@example.com")]}
    )
    assert client.post(
        f"/api/v1/customers/{cid}/merge", json={"other_id": other["customer_id"]}, headers=admin
    ).is_success
    pages = _walk(client, admin, f"/api/v1/customers/{other['customer_id']}/events")
    assert {e["id"] for p in pages for e in p} == sent | {"late"}


# ---- lookups ----------------------------------------------------------------------------------------
def test_lookup_by_identity_and_search_find_the_same_customer(
    client: TestClient, admin: dict[str, str], tokens: dict[str, str]
) -> None:
    (res,) = ingest(
        client,
        admin,
        {
            "type": "x",
            "identities": [ident("email", "ana@example.com"), ident("phone", "07911 123456")],
            "traits": {"name": "Ana Silva"},
        },
    )
    agent = auth(tokens["agent"])
    for params in (
        {"identity": "email:ANA@example.com"},
        {"identity": "phone:+44 7911 123456"},
        {"q": "ana s"},
        {"q": "+447911"},
    ):
        r = client.get("/api/v1/customers", params=params, headers=agent)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [c["id"] for c in items] == [res["customer_id"]], params
        assert items[0]["name"] == "Ana Silva"
        assert {"type": "email", "value": "ana@example.com"} in items[0]["identities"]
    missing = client.get("/api/v1/customers", params={"identity": "email:kim@example.com"}, headers=agent)
    assert missing.status_code == 200 and missing.json()["items"] == []
