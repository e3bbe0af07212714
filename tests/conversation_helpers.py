"""Helpers for conversation tests: an API channel to write in on, signed as a real sender would."""

from __future__ import annotations

from typing import Any

import httpx2
import orjson
from fastapi.testclient import TestClient

from amity.channels.api_channel import HttpTransport
from amity.channels.signing import sign
from amity.core.actions import App
from tests.conftest import auth

SECRET = "kiosk-secret-0123456789"


def api_channel(client: TestClient, admin: str, name: str = "kiosk", **config: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/channels",
        json={"type": "api", "name": name, "config": {"secret": SECRET, **config}},
        headers=auth(admin),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def write_in(client: TestClient, channel_id: str, frm: tuple[str, str], text: str, **extra: Any) -> Any:
    body = orjson.dumps({"from": {"type": frm[0], "value": frm[1]}, "text": text, **extra})
    return client.post(
        f"/hooks/{channel_id}/api",
        content=body,
        headers={"content-type": "application/json", "X-Amity-Signature": sign(SECRET, body)},
    )


class Receiver:
    """What a system behind an API channel's outbound_url receives (a real HttpTransport over
    httpx2's MockTransport): every request, and which idempotency keys it has already acted on."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx2.Request] = []
        self.acted_on: set[str] = set()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.status < 300:
            self.acted_on.add(request.headers["Idempotency-Key"])
            return httpx2.Response(self.status, json={"id": f"ext-{len(self.requests)}"})
        return httpx2.Response(self.status, text="nope")

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(r.content) for r in self.requests]


def use_receiver(app: App, receiver: Receiver, url: str = "https://kiosk.example/replies") -> None:
    config = {"secret": SECRET, "outbound_url": url, "timeout_seconds": 5}
    client = httpx2.Client(transport=httpx2.MockTransport(receiver))
    app.cache.setdefault("transports", {})["api"] = HttpTransport(config, client=client)
