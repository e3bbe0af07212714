"""Security headers on every answer, generated from the route table: every HTML page (console, admin,
public, error pages, 404s) forbids framing and carries the CSP; JSON is never sniffed, framed or
cached. Plus: no secret-looking strings in the repository (secrets come from the environment)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from amity.config import Settings
from amity.core.actions import App
from tests.conftest import auth
from tests.test_ui_auth_matrix import call, ui_routes
from tests.test_ui_console import signed_in

ROOT = Path(__file__).resolve().parent.parent
GIT = shutil.which("git") or "/usr/bin/git"


def _problems(r: Any) -> list[str]:
    ctype = r.headers.get("content-type", "")
    h = {k.lower(): v for k, v in r.headers.items()}
    out = []
    if h.get("x-content-type-options") != "nosniff":
        out.append("no nosniff")
    if ctype.startswith("text/html"):
        csp = h.get("content-security-policy", "")
        if "frame-ancestors 'none'" not in csp and "sandbox" not in csp:
            out.append(f"CSP without frame-ancestors: {csp!r}")
        if "default-src" not in csp and "sandbox" not in csp:
            out.append("CSP without default-src")
        if h.get("x-frame-options") != "DENY":
            out.append("no X-Frame-Options: DENY")
    elif "json" in ctype:
        if "default-src 'none'" not in h.get("content-security-policy", ""):
            out.append("JSON without CSP default-src 'none'")
        if "no-store" not in h.get("cache-control", ""):
            out.append("JSON without Cache-Control: no-store")
    return out


def test_every_ui_page_answers_with_the_security_headers(client: TestClient, app: App) -> None:
    admin, token, _ = signed_in(client, app, "admin")
    agent, agent_token, _ = signed_in(client, app, "agent")
    wrong = []
    for route in sorted(ui_routes(client)):
        if route == ("POST", "/logout"):
            continue
        for who, browser, t in (
            ("nobody", TestClient(client.app), None),
            ("admin", admin, token),
            ("agent", agent, agent_token),
        ):
            r = call(browser, route, t)
            wrong += [f"{who} {route} {r.status_code}: {p}" for p in _problems(r)]
    assert not wrong, "\n".join(wrong)


def test_every_api_answer_and_refusal_carries_the_json_headers(
    client: TestClient, tokens: dict[str, str]
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    wrong = []
    for path, ops in sorted(paths.items()):
        if "get" not in ops or path.endswith("/stream"):
            continue
        url = re.sub(r"\{[a-z_]+\}", "xxx_00000000000000000000000000", path)
        for headers in ({}, auth(tokens["admin"])):
            r = client.get(url, headers=headers)
            wrong += [f"GET {path} {r.status_code}: {p}" for p in _problems(r)]
    assert not wrong, "\n".join(wrong)


def test_error_answers_from_the_middleware_and_unknown_paths_carry_them_too(client: TestClient) -> None:
    for r in (
        client.get("/no/such/page"),
        client.get("/api/v1/customers?identity=%00"),
        client.post("/api/v1/events", content=b"x" * 2_000_000, headers={"content-type": "application/json"}),
    ):
        assert r.status_code in (404, 413, 422)
        assert _problems(r) == [], (r.status_code, dict(r.headers))


# ---- secrets only from the environment ------------------------------------------------------------
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Amity API token": re.compile(r"\bamity_tok_[0-9a-z]{26}_[A-Za-z0-9_-]{40,}"),
    "Twilio auth in a URL": re.compile(r"https://AC[0-9a-f]{32}:[0-9a-f]{32}@"),
    # A password or secret assigned a long literal in the code (tests use obvious test values).
    "hard-coded secret": re.compile(
        r"""(?i)\b(?:secret_key|api_key|auth_token|password)\s*[:=]\s*["'](?![^"']*(?:test|example|not-for-production|correct|horse|wrong|\{))[A-Za-z0-9+/_-]{24,}["']"""
    ),
}


def test_the_repository_holds_no_secret_looking_strings() -> None:
    files = (
        subprocess.run([GIT, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    hits = []
    for name in files:
        path = ROOT / name
        if not name or not path.is_file() or path.suffix in (".png", ".jpg", ".svg", ".ico", ".woff2"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for what, pattern in SECRET_PATTERNS.items():
            if name == "tests/test_security_headers.py":
                continue
            for m in pattern.finditer(text):
                hits.append(f"{name}: {what}: {m.group(0)[:40]}…")
    assert not hits, "\n".join(hits)


def test_the_secret_patterns_find_what_they_look_for() -> None:
    # Put together at run time, so this file holds none of them either.
    samples = {
        "private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "AWS access key": "AKIA" + "Z" * 16,
        "Amity API token": "amity_tok_" + "0" * 26 + "_" + "A" * 43,
        "hard-coded secret": "secret_key = '" + "Qx7" * 10 + "'",
    }
    for what, text in samples.items():
        assert SECRET_PATTERNS[what].search(text), what
    assert not SECRET_PATTERNS["hard-coded secret"].search('secret_key="test-secret-key-not-for-production"')


def test_settings_carry_no_default_secret() -> None:
    fields = Settings.model_fields
    assert fields["secret_key"].default is None  # generated into AMITY_HOME, never in the code


def test_a_generated_secret_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from amity.web.app import load_secret_key

    key = load_secret_key(Settings(home=tmp_path))
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key and len(key) >= 48
    assert path.stat().st_mode & 0o077 == 0
