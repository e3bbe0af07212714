"""Test fixtures. Every storage test runs on SQLite and, when AMITY_TEST_DATABASE_URL is set (CI always
sets it), on PostgreSQL too: each run gets its own fresh database, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from amity.accounts.actions import create_token
from amity.config import Settings
from amity.core.actions import SYSTEM, App, perform
from amity.customers.traits import BUILTIN_TRAITS
from amity.db import Base, Database, utcnow
from amity.migrate import upgrade
from amity.models import TraitDefinition
from amity.web.app import build_app, create_app

PG_URL = os.environ.get("AMITY_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("AMITY_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _pg_database(tmp_name: str) -> tuple[str, str]:
    assert PG_URL
    base = make_url(PG_URL)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{tmp_name}"'))
    admin.dispose()
    return base.set(database=tmp_name).render_as_string(hide_password=False), base.render_as_string(
        hide_password=False
    )


def _drop_pg(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "amity.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        yield db
        db.dispose()
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("AMITY_REQUIRE_POSTGRES=1 but AMITY_TEST_DATABASE_URL is not set")
        pytest.skip(
            "PostgreSQL tests skipped: set AMITY_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    name = f"amity_test_{uuid.uuid4().hex[:10]}"
    try:
        url, admin_url = _pg_database(name)
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    db = Database(url)
    upgrade(db)
    yield db
    db.dispose()
    _drop_pg(admin_url, name)


def _tables_with_rows(db: Database) -> set[str]:
    """The tables a test left rows in, in one round trip: most tests touch a handful of the ~60."""
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in Base.metadata.sorted_tables
    )
    with db.engine.connect() as c:
        return {str(r[0]) for r in c.execute(text(probe))}


def reset(db: Database) -> None:
    """Empty every table and put back the built-in traits (faster than a new database per test).

    Only tables holding rows are emptied, children before parents, with DELETE: TRUNCATE of all 60
    tables cost ~0.8 s per test on PostgreSQL (it rewrites every table's files), which was most of the
    suite's time on that backend; a DELETE of a few small tables is a few milliseconds."""
    dirty = _tables_with_rows(db)
    with db.write_session() as s, s.begin():
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in dirty:
                s.execute(delete(table))
        now = utcnow()
        for t in BUILTIN_TRAITS:
            s.add(
                TraitDefinition(
                    name=t.name,
                    type=t.type,
                    pii=t.pii,
                    purpose=t.purpose,
                    retention_days=t.retention_days,
                    description=t.description,
                    builtin=True,
                    created_at=now,
                    updated_at=now,
                )
            )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", secret_key="test-secret-key-not-for-production")


@pytest.fixture
def app(database: Database, settings: Settings) -> App:
    reset(database)
    return build_app(settings, database)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as c:
        yield c


@pytest.fixture
def tokens(app: App) -> dict[str, str]:
    """One API token per role (the personas: admin, supervisor, agent, integration)."""
    return {
        role: perform(app, SYSTEM, create_token, f"test-{role}", role)
        for role in ("admin", "supervisor", "agent", "integration")
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
