"""The amity command, run as a user would run it (a real subprocess)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from amity.accounts.actions import hash_secret
from amity.accounts.models import ApiToken, User
from amity.core.actions import App
from amity.db import Database

AMITY = [sys.executable, "-m", "amity.cli"]


def _env(home: Path, url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMITY_")}
    env.update({"AMITY_HOME": str(home), **extra})
    if url:
        env["AMITY_DATABASE_URL"] = url
    return env


def _run(args: list[str], env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AMITY, *args], env=env, capture_output=True, text=True, timeout=60, check=False, **kw
    )  # type: ignore[call-overload]


def test_token_create_prints_the_token_once_and_stores_only_its_hash(app: App, tmp_path: Path) -> None:
    r = _run(["token", "create", "--name", "shop", "--role", "integration"], _env(tmp_path, app.db.url))
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("amity_tok_")
    with app.db.read() as s:
        row = s.scalars(select(ApiToken)).one()
        # amity_<tok_id>_<secret>: the id is 30 characters and the secret (which may hold "_") follows.
        token_id, secret = token[len("amity_") :][:30], token[len("amity_") :][31:]
        assert row.role == "integration" and row.id == token_id
        assert secret and secret not in row.secret_hash and row.secret_hash == hash_secret(secret)


def test_user_create_reads_the_password_from_the_environment_and_hashes_it_with_argon2(
    app: App, tmp_path: Path
) -> None:
    env = _env(tmp_path, app.db.url, AMITY_USER_PASSWORD="correct horse battery")
    r = _run(["user", "create", "--email", "Sam@Example.com", "--role", "admin"], env)
    assert r.returncode == 0, r.stderr
    with app.db.read() as s:
        user = s.scalars(select(User)).one()
        assert user.email == "sam@example.com" and user.password_hash.startswith("$argon2id$")
    bad = _run(["user", "create", "--email", "x@example.com", "--role", "wizard"], env)
    assert bad.returncode == 2 and "role" in bad.stdout


def test_trait_declare_and_list(app: App, tmp_path: Path) -> None:
    env = _env(tmp_path, app.db.url)
    r = _run(
        [
            "trait",
            "declare",
            "--name",
            "shoe_size",
            "--type",
            "number",
            "--purpose",
            "fit advice",
            "--retention-days",
            "365",
        ],
        env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    listed = _run(["trait", "list"], env)
    assert "shoe_size" in listed.stdout and "fit advice" in listed.stdout
    bad = _run(["trait", "declare", "--name", "Bad Name", "--type", "number", "--purpose", "x"], env)
    assert bad.returncode == 2 and "name" in bad.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_an_empty_database_starts_empty_and_says_how_to_create_the_first_admin(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = _env(tmp_path / "home", AMITY_LOG_FORMAT="json")
    proc = subprocess.Popen(
        [*AMITY, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 120  # a loaded CI machine can take a while to start a process
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    assert json.load(resp)["status"] == "ok"
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("amity serve did not come up")
                time.sleep(0.2)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/" in out
    assert "amity user create --email" in out and "--role admin" in out
    db = Database(f"sqlite:///{tmp_path / 'home' / 'amity.db'}")
    with db.read() as s:
        assert s.scalars(select(User)).first() is None  # no demo data in a plain serve
    db.dispose()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    health = [entry for entry in lines if entry.get("msg", "").startswith("GET /healthz")]
    assert health and health[0]["request_id"]  # structured logs carry the request id
