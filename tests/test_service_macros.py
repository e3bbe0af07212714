"""Macros: saved replies rendered in a sandbox that a malicious template cannot escape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from amity.core.actions import App, Invalid
from amity.service.macros import render
from tests.conftest import auth
from tests.test_service_kit import api_channel, inbound, ok, set_traits


@pytest.fixture
def conv(client: TestClient, tokens: dict[str, str]) -> str:
    brand = ok(
        client.post(
            "/api/v1/brands",
            json={"name": "Shoebox", "signature": "Warmly,\nShoebox", "from_address": "help@shoebox.example"},
            headers=auth(tokens["admin"]),
        ),
        201,
    )
    set_traits(client, tokens["admin"], "ana@example.com", name="Ana Maria Silva", language="pt")
    channel = api_channel(client, tokens["admin"], brand_id=brand["id"])
    return str(inbound(client, channel, "Size 6.5 please", subject="Trail runners")["conversation_id"])


def _macro(client: TestClient, admin: str, body: str, name: str = "m") -> str:
    return str(
        ok(client.post("/api/v1/macros", json={"name": name, "body": body}, headers=auth(admin)), 201)["id"]
    )


def test_a_macro_renders_customer_conversation_and_brand_fields(
    client: TestClient, tokens: dict[str, str], conv: str
) -> None:
    body = (
        "Olá {{ customer.first_name }} ({{ customer.traits.language }}, {{ customer.email }}),\n"
        'about "{{ conversation.subject }}" [{{ conversation.priority }}]:'
        "{% for t in conversation.tags %} #{{ t }}{% endfor %}{{ customer.traits.shoe_size | default('?') }}\n"
        "{{ brand.signature }}"
    )
    macro = _macro(client, tokens["admin"], body)
    r = client.post(
        f"/api/v1/macros/{macro}/render", json={"conversation_id": conv}, headers=auth(tokens["agent"])
    )
    assert ok(r)["text"] == (
        'Olá Ana (pt, ana@example.com),\nabout "Trail runners" [normal]:?\nWarmly,\nShoebox'
    )


MALICIOUS = [
    "{{ config }}{{ settings }}{{ app }}{{ request }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ customer.traits.__class__.__init__.__globals__ }}",
    "{{ customer | attr('__class__') }}",
    "{{ customer.items.__self__.__class__ }}",
    "{{ customer.update({'name': 'Mallory'}) }}",
    "{{ conversation.tags.append('pwned') }}",
    "{{ '%s' | format(customer.__class__) }}",
    "{{ 'x' * 100000000 }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% for i in range(100000000) %}x{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{{ namespace() }}{{ joiner() }}{{ dict(a=1) }}",
]


@pytest.mark.parametrize("body", MALICIOUS)
def test_a_malicious_template_cannot_read_config_or_escape_the_sandbox(
    client: TestClient, app: App, tokens: dict[str, str], conv: str, body: str
) -> None:
    macro = _macro(client, tokens["admin"], body)
    r = client.post(
        f"/api/v1/macros/{macro}/render", json={"conversation_id": conv}, headers=auth(tokens["agent"])
    )
    assert r.status_code in (200, 422), r.text
    text = r.text
    assert app.cache["secret_key"] not in text
    assert str(app.settings.home) not in text
    for leak in ("<class", "object at 0x", "Settings", "Mallory", "pwned", "uid="):
        assert leak not in text, text
    if r.status_code == 422:
        assert r.json()["errors"][0]["field"] == "body"


def test_rendering_cannot_mutate_the_data_it_was_given() -> None:
    data = {"customer": {"name": "Ana"}, "conversation": {"tags": ["a"]}}
    with pytest.raises(Invalid) as err:
        render("{{ conversation.tags.append('b') }}", data)
    assert err.value.field == "body"
    assert data == {"customer": {"name": "Ana"}, "conversation": {"tags": ["a"]}}


def test_a_template_that_does_not_parse_is_refused_when_saved(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = client.post(
        "/api/v1/macros",
        json={"name": "broken", "body": "Hi {{ customer.name "},
        headers=auth(tokens["admin"]),
    )
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert err["field"] == "body" and "line 1" in err["message"]


def test_previewing_names_what_is_missing(client: TestClient, tokens: dict[str, str], conv: str) -> None:
    macro = _macro(client, tokens["admin"], "Hi")
    r = client.post(
        "/api/v1/macros/mac_nope/render", json={"conversation_id": conv}, headers=auth(tokens["agent"])
    )
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "macro_id"
    r = client.post(
        f"/api/v1/macros/{macro}/render", json={"conversation_id": "cnv_x"}, headers=auth(tokens["agent"])
    )
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "conversation_id"
    r = client.post(f"/api/v1/macros/{macro}/render", json={}, headers=auth(tokens["agent"]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "conversation_id"
