from fastapi.testclient import TestClient

from tests.conftest import auth


def test_health_needs_no_auth(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"
    assert r.headers["x-request-id"]


def test_ingest_and_read_back(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/events",
        json={
            "type": "order.placed",
            "identities": [{"type": "email", "value": "Ana@Example.com"}],
            "traits": {"name": "Ana"},
        },
        headers=auth(tokens["integration"]),
    )
    assert r.status_code == 200, r.text
    cid = r.json()["results"][0]["customer_id"]
    r = client.get(f"/api/v1/customers/{cid}", headers=auth(tokens["agent"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["traits"] == {"name": "Ana"}
    assert body["identities"][0]["value"] == "ana@example.com"
