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


def test_credentials_in_urls_never_reach_the_logs() -> None:
    import io
    import logging

    from amity.logs import JsonFormatter, RedactFilter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning(
            '%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", "/hooks/chn_1/chat/ws?token=abc.def-123&x=1"
        )
    finally:
        log.removeHandler(handler)
    line = out.getvalue()
    assert "abc.def-123" not in line
    assert "token=[redacted]&x=1" in line
