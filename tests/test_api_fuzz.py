"""Fuzzing: whatever a caller sends, the answer is never a server error.

Two sources of input: schemathesis generates valid and invalid requests for every operation in the
app's own /openapi.json (so a new route is fuzzed without anyone listing it here), and a hand-written
hypothesis strategy sends events that are almost right, which is where ingest bugs hide (time zones at
the edge of the calendar, NUL characters, placeholders, undeclared traits, junk next to good items).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from amity.config import Settings
from amity.core.actions import App
from amity.web.app import create_app
from tests.conftest import auth

FUZZ = settings(
    max_examples=10,  # across the generation modes, x~160 operations, x2 backends: enough to find the 500s
    deadline=None,
    suppress_health_check=list(HealthCheck),  # the app is fixed per test on purpose; slow data is fine
)


LIVE_STREAMS = {"/api/v1/stream"}


def _spec() -> dict[str, Any]:
    """The app's OpenAPI document; only the document is built, no database is touched."""
    blank = App(cast(Any, None), Settings(home=Path("/nonexistent"), secret_key="x"))
    # Round-tripped through JSON, as a client fetching /openapi.json would see it.
    return cast(dict[str, Any], orjson.loads(orjson.dumps(create_app(blank).openapi())))


SPEC = _spec()
# A live stream answers for as long as it is asked to (up to an hour): it is tested on its own.
OPERATIONS = sorted((m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops if p not in LIVE_STREAMS)


@functools.cache
def _schema() -> Any:
    """The document parsed once for every operation's test (fetching and parsing it per test, ~160
    times per backend, was most of this module's time); each test points it at its own app."""
    return schemathesis.openapi.from_dict(SPEC)


@pytest.fixture
def seeded(client: TestClient, tokens: dict[str, str]) -> dict[str, str]:
    """Real ids for path parameters, so the fuzzer also reaches past the 404 of a random id."""
    admin = auth(tokens["admin"])
    r = client.post(
        "/api/v1/events",
        json={
            "events": [
                {"type": "order.placed", "identities": [{"type": "email", "value": "ana@example.com"}]},
                {"type": "chat.started", "identities": [{"type": "email", "value": "bob@example.com"}]},
            ]
        },
        headers=admin,
    )
    ana, bob = (x["customer_id"] for x in r.json()["results"])
    merge = client.post(f"/api/v1/customers/{ana}/merge", json={"other_id": bob}, headers=admin).json()
    return {"customer_id": bob, "merge_id": merge["id"], "name": "language"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_a_server_error(
    client: TestClient, tokens: dict[str, str], seeded: dict[str, str], method: str, path: str
) -> None:
    schema = _schema()
    schema.app = client.app
    op = schema[path][method]
    headers = auth(tokens["admin"])
    known = {k: v for k, v in seeded.items() if f"{{{k}}}" in path}
    strategies = [op.as_strategy(mode, headers=headers) for mode in GenerationMode]
    if known:
        strategies.append(op.as_strategy(GenerationMode.POSITIVE, headers=headers, path_parameters=known))

    @FUZZ
    @given(case=st.one_of(strategies))
    def fuzz(case: Any) -> None:
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()


# ---- events that are almost right -----------------------------------------------------------------
# Plain random text, and the strings that have broken ingest pipelines before.
text = st.text(max_size=24) | st.sampled_from(
    ["", " ", "\x00", "shop\x00", "Zoë", "𝄞", "\u200b", "x" * 400, "null", "{i}", "events[0]"]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
timestamps = (
    st.datetimes(timezones=st.none() | offsets).map(lambda d: d.isoformat())
    | st.sampled_from(["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+01:00", "1970-01-01T00:00:00Z"])
    | text
)
identity_types = st.sampled_from(
    ["email", "phone", "loyalty", "device", "social:telegram", "external:shop", "EMAIL", "fax"]
)
identity_values = (
    st.emails()
    | st.sampled_from(["anonymous", "null", "", "noreply@shop.example", "000-000-0000", "+447911123456"])
    | st.from_regex(r"\+?[0-9 ]{3,16}", fullmatch=True)
    | text
)
real_identity = st.fixed_dictionaries({"type": st.just("email"), "value": st.emails()})
any_identity = st.fixed_dictionaries({"type": identity_types | text, "value": identity_values})
# Usually one real identifier, so that most events get as far as the database.
identities = st.tuples(st.lists(real_identity, max_size=1), st.lists(any_identity, max_size=3)).map(
    lambda t: t[0] + t[1]
)
traits = st.dictionaries(
    st.sampled_from(["name", "language", "timezone", "preferred_channels"]) | text, json_values, max_size=3
)
# A well-formed event with random content reaches the database; a noisy one tests the refusals.
good_events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["order.placed", "page.viewed", "call.ended"]),
        "identities": st.lists(real_identity, min_size=1, max_size=2),
    },
    optional={
        "id": st.from_regex(r"[!-~]{1,20}", fullmatch=True),
        "timestamp": timestamps,
        "source": text,
        "traits": st.fixed_dictionaries({}, optional={"name": text, "preferred_channels": json_values}),
        "properties": st.dictionaries(text, json_values, max_size=4),
    },
)
noisy_events = st.fixed_dictionaries(
    {"type": st.sampled_from(["order.placed", "page.viewed"]) | text},
    optional={
        "id": st.sampled_from(["order-1", "order-2"]) | text,
        "timestamp": timestamps,
        "source": text,
        "customer_id": text,
        "identities": identities,
        "traits": traits,
        "properties": st.dictionaries(text, json_values, max_size=4),
        "colour": text,
    },
)
events = good_events | noisy_events
bodies = events | st.fixed_dictionaries({"events": st.lists(events | json_values, max_size=6)})


def test_ingest_never_answers_a_server_error_and_every_verdict_names_its_item(
    client: TestClient, tokens: dict[str, str]
) -> None:
    headers = auth(tokens["integration"])
    reader = auth(tokens["agent"])

    @settings(FUZZ, max_examples=120)
    @given(body=bodies)
    def fuzz(body: dict[str, Any]) -> None:
        r = client.post("/api/v1/events", json=body, headers=headers)
        assert r.status_code in (200, 400, 413, 422), f"{r.status_code}: {r.text}"
        answer = r.json()
        if "results" not in answer:
            assert answer["error"] and answer["message"]
            return
        batch = "events" in body
        assert [x["index"] for x in answer["results"]] == list(range(len(body["events"]) if batch else 1))
        for item in answer["results"]:
            if item["status"] == "rejected":
                assert item["errors"], item
                prefix = f"events[{item['index']}]" if batch else ""
                assert all(e["field"].startswith(prefix) and e["message"] for e in item["errors"]), item
            else:
                assert (
                    client.get(f"/api/v1/customers/{item['customer_id']}", headers=reader).status_code == 200
                )

    fuzz()
