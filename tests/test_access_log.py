"""The access log: every view of a customer's profile or a conversation is in an append-only,
hash-chained table; tampering (edit, delete, reorder) is found by ``amity audit verify``."""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from amity.core.actions import SYSTEM, Actor, App, perform
from amity.privacy import access_log
from amity.privacy.models import AccessLogEntry
from tests.conftest import auth
from tests.conversation_helpers import api_channel, write_in
from tests.test_cli import _env, _run
from tests.test_ui_console import signed_in

SUBJECT_PREFIXES = ("/customers/{", "/conversations/{", "/api/v1/customers/{", "/api/v1/conversations/{")


def _served(client: TestClient) -> set[tuple[str, str]]:
    return {
        (m, rc.path)
        for rc in iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
        if rc.path
        for m in (rc.methods or ())
        if m != "HEAD"
    }


def test_every_route_that_reads_a_customer_or_a_conversation_is_watched(client: TestClient) -> None:
    """A new GET route under a customer or a conversation fails here until it is watched (or listed
    declared with access_log.exempt and a reason): customer data must not be readable without a trace."""
    watched = {(w.method, w.template) for w in access_log.watched()}
    reads = {(m, p) for m, p in _served(client) if m == "GET" and p.startswith(SUBJECT_PREFIXES)} | {
        (m, p) for m, p in _served(client) if m == "GET" and p.startswith("/inbox/rows/")
    }
    unwatched = reads - watched - set(access_log.exemptions())
    assert not unwatched, f"reads of customer data that are not in the access log: {sorted(unwatched)}"
    gone = watched - _served(client)
    assert not gone, f"watched routes the app no longer serves: {sorted(gone)}"


@pytest.fixture
def seen(client: TestClient, tokens: dict[str, str]) -> dict[str, str]:
    chan = api_channel(client, tokens["admin"])
    r = write_in(client, chan["id"], ("email", "ana@example.com"), "Shoes in 6.5?", name="Ana Silva")
    assert r.status_code == 201, r.text
    return {"customer": r.json()["customer_id"], "conversation": r.json()["conversation_id"]}


def _rows(app: App) -> list[AccessLogEntry]:
    with app.db.read() as s:
        return list(s.scalars(select(AccessLogEntry).order_by(AccessLogEntry.seq)))


@pytest.mark.parametrize("watched", access_log.watched(), ids=lambda w: f"{w.method} {w.template}")
def test_each_watched_route_records_who_viewed_what_and_in_which_request(
    app: App, client: TestClient, tokens: dict[str, str], seen: dict[str, str], watched: access_log.Watched
) -> None:
    path = watched.template.replace(f"{{{watched.param}}}", seen[watched.subject_type])
    before = len(_rows(app))
    if path.startswith("/api/"):
        r = client.get(path, headers={**auth(tokens["agent"]), "X-Request-Id": "req-view-1"})
        who = "token:"
    else:
        browser, _, user_id = signed_in(client, app, "agent")
        r = browser.get(path, headers={"X-Request-Id": "req-view-1"})
        who = f"user:{user_id}"
    assert r.status_code == 200, r.text
    rows = _rows(app)[before:]
    assert len(rows) == 1
    row = rows[0]
    assert (row.subject_type, row.subject_id) == (watched.subject_type, seen[watched.subject_type])
    assert row.route == f"GET {watched.template}"
    assert row.request_id == "req-view-1"
    assert row.actor.startswith(who) and row.actor_role == "agent"


def test_a_refused_or_missing_read_is_not_a_view(
    app: App, client: TestClient, tokens: dict[str, str], seen: dict[str, str]
) -> None:
    assert client.get(f"/api/v1/customers/{seen['customer']}").status_code == 401
    missing = client.get("/api/v1/customers/cus_00000000000000000000000000", headers=auth(tokens["agent"]))
    assert missing.status_code == 404
    listed = client.get("/api/v1/customers?identity=email:ana@example.com", headers=auth(tokens["agent"]))
    assert listed.status_code == 200 and listed.json()["items"]  # a search result is not a profile view
    assert _rows(app) == []


def _view(app: App, n: int, actor: Actor = SYSTEM) -> None:
    for i in range(n):
        perform(app, actor, access_log.record_view, "customer", f"cus_{i:026d}", "GET /x", f"r{i}")


def _verdict(app: App) -> access_log.Verdict:
    with app.db.read() as s:
        return access_log.verify(s)


def test_the_chain_links_every_row_to_the_one_before(app: App) -> None:
    _view(app, 5)
    rows = _rows(app)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == access_log.GENESIS
    for prev, row in itertools.pairwise(rows):
        assert row.prev_hash == prev.hash == access_log.row_hash(prev.prev_hash, prev)
    assert _verdict(app) == access_log.Verdict(True, 5)


TAMPERING = {
    "an edited row": (
        lambda s: s.execute(
            update(AccessLogEntry).where(AccessLogEntry.seq == 3).values(actor="user:someone")
        ),
        3,
    ),
    "a deleted row": (lambda s: s.execute(delete(AccessLogEntry).where(AccessLogEntry.seq == 2)), 2),
    "the newest row deleted": (lambda s: s.execute(delete(AccessLogEntry).where(AccessLogEntry.seq == 5)), 5),
    "two rows swapped": (
        lambda s: [
            s.execute(update(AccessLogEntry).where(AccessLogEntry.seq == 2).values(seq=-2)),
            s.execute(update(AccessLogEntry).where(AccessLogEntry.seq == 3).values(seq=2)),
            s.execute(update(AccessLogEntry).where(AccessLogEntry.seq == -2).values(seq=3)),
        ],
        2,
    ),
    "a row's time moved": (
        lambda s: s.execute(
            update(AccessLogEntry)
            .where(AccessLogEntry.seq == 4)
            .values(at=select(AccessLogEntry.at).where(AccessLogEntry.seq == 1).scalar_subquery())
        ),
        4,
    ),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_tampering_is_found_at_the_first_broken_row(app: App, how: str) -> None:
    _view(app, 5)
    change, broken = TAMPERING[how]
    with app.db.write_session() as s, s.begin():
        change(s)
    verdict = _verdict(app)
    assert not verdict.ok
    assert verdict.broken_seq == broken, verdict


def test_amity_audit_verify_exits_non_zero_on_tampering(app: App, tmp_path: Any) -> None:
    _view(app, 3)
    env = _env(tmp_path, app.db.url)
    ok = _run(["audit", "verify"], env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "3 rows" in ok.stdout
    with app.db.write_session() as s, s.begin():
        s.execute(update(AccessLogEntry).where(AccessLogEntry.seq == 2).values(subject_id="cus_other"))
    bad = _run(["audit", "verify"], env)
    assert bad.returncode == 1
    assert "row 2" in bad.stdout and "tampered" in bad.stdout


def test_writers_at_the_same_time_never_fork_the_chain(app: App) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            _view(app, 25, Actor(kind="user", id=f"usr_{k}", role="agent"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = _rows(app)
    assert [r.seq for r in rows] == list(range(1, 101))
    assert _verdict(app) == access_log.Verdict(True, 100)


# ---- browsing and exporting -----------------------------------------------------------------------
def test_admins_filter_the_log_through_the_api_and_others_may_not(
    app: App, client: TestClient, tokens: dict[str, str], seen: dict[str, str]
) -> None:
    client.get(f"/api/v1/customers/{seen['customer']}", headers=auth(tokens["agent"]))
    client.get(f"/api/v1/conversations/{seen['conversation']}", headers=auth(tokens["supervisor"]))
    r = client.get("/api/v1/access-log", headers=auth(tokens["admin"]))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["subject_type"] for i in items] == ["conversation", "customer"]  # newest first
    only = client.get(
        "/api/v1/access-log", params={"subject_type": "customer"}, headers=auth(tokens["admin"])
    ).json()["items"]
    assert [(i["subject_id"], i["actor_role"]) for i in only] == [(seen["customer"], "agent")]
    by_id = client.get(
        "/api/v1/access-log", params={"subject_id": seen["conversation"]}, headers=auth(tokens["admin"])
    ).json()["items"]
    assert len(by_id) == 1 and by_id[0]["actor_role"] == "supervisor"
    later = client.get(
        "/api/v1/access-log", params={"since": "2999-01-01T00:00:00Z"}, headers=auth(tokens["admin"])
    )
    assert later.json()["items"] == []
    for role in ("supervisor", "agent", "integration"):
        assert client.get("/api/v1/access-log", headers=auth(tokens[role])).status_code == 403


def test_the_admin_page_filters_and_exports_csv(
    app: App, client: TestClient, tokens: dict[str, str], seen: dict[str, str]
) -> None:
    client.get(f"/api/v1/customers/{seen['customer']}", headers=auth(tokens["agent"]))
    client.get(f"/api/v1/conversations/{seen['conversation']}", headers=auth(tokens["agent"]))
    admin, _, _ = signed_in(client, app, "admin")
    page = admin.get("/admin/access-log", params={"subject_type": "customer"})
    assert page.status_code == 200
    assert seen["customer"] in page.text and seen["conversation"] not in page.text
    csv = admin.get("/admin/access-log.csv", params={"subject_type": "conversation"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("seq,at,actor")
    assert len(lines) == 2 and seen["conversation"] in lines[1]
    bad = admin.get("/admin/access-log", params={"since": "yesterday"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text

    agent, _, _ = signed_in(client, app, "agent")
    assert agent.get("/admin/access-log").status_code == 403
    assert agent.get("/admin/access-log.csv").status_code == 403


def test_a_csv_cell_that_a_spreadsheet_would_run_is_quoted() -> None:
    assert access_log._csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert access_log._csv_cell("user:usr_1") == "user:usr_1"
    assert re.match(r"^'", access_log._csv_cell("+1"))


def test_a_view_that_cannot_be_logged_is_not_shown(
    app: App, client: TestClient, tokens: dict[str, str], seen: dict[str, str]
) -> None:
    """Fail closed: with the log's table gone (a real failure, not a stand-in), the customer's data
    is refused with a 503 instead of being shown without a trace."""
    with app.db.write_session() as s, s.begin():
        s.execute(text("ALTER TABLE access_log RENAME TO access_log_away"))
    try:
        r = client.get(f"/api/v1/customers/{seen['customer']}", headers=auth(tokens["agent"]))
    finally:
        with app.db.write_session() as s, s.begin():
            s.execute(text("ALTER TABLE access_log_away RENAME TO access_log"))
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"
    assert "Ana" not in r.text
