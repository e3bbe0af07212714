"""The ``amity`` command: serve, migrate, demo data, users, tokens, traits."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from amity.config import get_settings
from amity.core.actions import SYSTEM, ActionError, Actor, App, perform

cli = typer.Typer(help="Amity: connected customer service.", no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
token_cli = typer.Typer(help="API tokens for systems.", no_args_is_help=True)
user_cli = typer.Typer(help="People who sign in.", no_args_is_help=True)
trait_cli = typer.Typer(help="The declared trait schema.", no_args_is_help=True)
audit_cli = typer.Typer(help="The access log of customer views.", no_args_is_help=True)
shop_cli = typer.Typer(
    help="The business's shop: stores, products, stock, orders, loyalty.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(user_cli, name="user")
cli.add_typer(trait_cli, name="trait")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(shop_cli, name="shop")
console = Console()


def _app() -> App:
    from amity.web.app import build_app

    return build_app(get_settings())


def _fail(exc: ActionError) -> None:
    where = f" ({exc.field})" if exc.field else ""
    console.print(f"[red]error{where}:[/red] {exc.message}")
    raise typer.Exit(2)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from amity.migrate import upgrade

    app = _app()
    upgrade(app.db)
    console.print(f"database is up to date: {_safe_url(app.db.url)}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    worker: Annotated[bool, typer.Option(help="Also run the background worker in this process")] = True,
    smtp: Annotated[bool, typer.Option(help="Also run the inbound SMTP listener in this process")] = True,
) -> None:
    """Run the web server, the background worker and the SMTP listener (migrates the schema first;
    never loads demo data). ``--no-worker`` / ``--no-smtp`` when they run as their own processes."""
    import uvicorn

    from amity.accounts.queries import user_count
    from amity.logs import setup_logging
    from amity.migrate import upgrade
    from amity.web.app import create_app

    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    app = _app()
    upgrade(app.db)
    with app.db.read() as s:
        users = user_count(s)
    h, p = host or settings.host, port or settings.port
    console.print(f"Amity is running at [bold]http://{h}:{p}/[/bold]  (API docs: http://{h}:{p}/docs)")
    if users == 0:
        console.print(
            "No users yet. Create the first admin with:\n"
            "  amity user create --email you@example.com --role admin\n"
            "and an API token for a system with:\n"
            "  amity token create --name shop --role integration"
        )
    # The settings' host/port are what webhook URLs are built from when AMITY_PUBLIC_URL is unset.
    app.settings.host, app.settings.port = h, p
    app.cache["run_worker"] = worker
    listener = _start_smtp(app) if smtp else None
    try:
        uvicorn.run(create_app(app), host=h, port=p, log_config=None, proxy_headers=False)
    finally:
        if listener is not None:
            listener.stop()


def _start_smtp(app: App) -> Any:
    """The inbound SMTP listener of the email channel, if this installation ships it and a port is set."""
    from amity.channels.registry import adapter_module

    mod = adapter_module("amity.channels.email.listener")
    if mod is None or not app.settings.smtp_port:
        return None
    listener = mod.SmtpListener(app, app.settings.smtp_host, app.settings.smtp_port)
    try:
        listener.start()
    except OSError as exc:
        console.print(
            f"[yellow]SMTP listener not started on {app.settings.smtp_host}:{app.settings.smtp_port}: {exc}[/yellow]"
        )
        return None
    console.print(f"Receiving email on smtp://{app.settings.smtp_host}:{app.settings.smtp_port}")
    return listener


@cli.command("worker")
def worker_cmd(
    threads: Annotated[int, typer.Option(help="Worker threads")] = 2,
) -> None:
    """Run the background worker alone (outbound delivery, retries, SLA checks, webhooks)."""
    import signal
    import threading

    from amity.jobs import jobs_of
    from amity.logs import setup_logging
    from amity.migrate import upgrade

    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    app = _app()
    upgrade(app.db)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    jobs = jobs_of(app)
    jobs.start(workers=threads)
    console.print("Amity worker running; Ctrl-C stops it")
    while not stop.wait(1.0):
        pass
    jobs.stop()


@cli.command("smtp")
def smtp_cmd(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
) -> None:
    """Run the inbound SMTP listener alone (the email channel's receiving side)."""
    from amity.channels.registry import adapter_module
    from amity.logs import setup_logging

    settings = get_settings()
    setup_logging(settings.log_level, settings.log_format)
    mod = adapter_module("amity.channels.email.listener")
    if mod is None:
        console.print("[red]this installation has no email channel[/red]")
        raise typer.Exit(2)
    chosen = settings.smtp_port if port is None else port
    if not chosen:
        console.print("[red]AMITY_SMTP_PORT is 0 (do not listen); give --port[/red]")
        raise typer.Exit(2)
    mod.run_forever(_app(), host or settings.smtp_host, chosen)


@cli.command()
def demo(
    customers: Annotated[int, typer.Option(help="How many people to generate")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data)")] = 7,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if demo data is already loaded")
    ] = False,
) -> None:
    """Load a fictional retailer's customers, orders, calls, chats and page views."""
    from amity.demo import DEMO_EMAIL, DEMO_PASSWORD, already_loaded, load_demo
    from amity.migrate import upgrade

    app = _app()
    upgrade(app.db)
    if if_empty and already_loaded(app):
        console.print("demo data is already loaded")
    else:
        stats = load_demo(app, people=customers, seed=seed, progress=True)
        console.print(
            f"loaded {stats['events']} events for {stats['customers']} customers "
            f"({stats['merges']} merges through shared identifiers)"
        )
    console.print(f"demo login: [bold]{DEMO_EMAIL}[/bold] / [bold]{DEMO_PASSWORD}[/bold]")


@token_cli.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What uses the token, e.g. 'shop'")],
    role: Annotated[str, typer.Option(help="admin, supervisor, agent or integration")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Limit it to these of the role's permissions (repeat), e.g. events:write"),
    ] = None,
) -> None:
    """Print a new API token once; only its hash is stored."""
    from amity.accounts.actions import create_token

    app = _app()
    try:
        token = perform(app, SYSTEM, create_token, name, role, scope or None)
    except ActionError as exc:
        _fail(exc)
        return
    console.print("New token (shown once, store it now):", style="bold")
    typer.echo(token)


@user_cli.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in address")],
    role: Annotated[str, typer.Option(help="admin, supervisor or agent")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
) -> None:
    """Create a person's account. The password is prompted for, or read from AMITY_USER_PASSWORD."""
    from amity.accounts.actions import create_user

    password = os.environ.get("AMITY_USER_PASSWORD")
    if not password:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            console.print("[red]the passwords differ[/red]")
            raise typer.Exit(2)
    app = _app()
    try:
        user = perform(app, SYSTEM, create_user, email, password, role, name)
    except ActionError as exc:
        _fail(exc)
        return
    console.print(f"created {user.role} {user.email} ({user.id})")


@user_cli.command("disable")
def user_disable(email: Annotated[str, typer.Option(help="Sign-in address")]) -> None:
    """Disable a person: no sign-in; their sessions and the tokens they made stop working at once."""
    from amity.accounts.actions import disable_user
    from amity.accounts.queries import user_by_email

    app = _app()
    with app.db.read() as s:
        user = user_by_email(s, email)
    if user is None:
        console.print(f"[red]error:[/red] nobody signs in as {email}")
        raise typer.Exit(2)
    try:
        perform(app, SYSTEM, disable_user, user.id)
    except ActionError as exc:
        _fail(exc)
    console.print(f"disabled {user.email} ({user.id})")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the access log's hash chain; exit 1 at the first row that was edited, deleted or moved."""
    from amity.privacy.access_log import verify

    app = _app()
    with app.db.read() as s:
        verdict = verify(s)
    if verdict.ok:
        console.print(f"access log intact: {verdict.rows} rows, chain verified")
        return
    console.print(
        f"[red]access log tampered:[/red] row {verdict.broken_seq}: {verdict.reason} "
        f"({verdict.rows} rows before it verified)"
    )
    raise typer.Exit(1)


@shop_cli.command("import")
def shop_import(
    folder: Annotated[Path, typer.Argument(help="A reference-shop export: one <kind>.jsonl file per kind")],
    only: Annotated[
        list[str] | None, typer.Option(help="Load only this kind (repeat), e.g. --only inventory")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load a shop's export (docs/commerce.md). Safe to run again: what is there is left as it is.
    Exits 1 if any record was refused (each is named with its file, line and field)."""
    import orjson

    from amity.commerce.reference_shop import ReferenceShop
    from amity.commerce.shop_sync import KINDS, sync

    unknown = sorted(set(only or ()) - set(KINDS))
    if unknown:
        console.print(
            f"[red]error (only):[/red] unknown kind {', '.join(unknown)}; one of {', '.join(KINDS)}"
        )
        raise typer.Exit(2)
    try:
        shop = ReferenceShop(folder)
    except FileNotFoundError as exc:
        console.print(f"[red]error (folder):[/red] {exc}")
        raise typer.Exit(2) from None
    actor = Actor(kind="system", id="shop-import", role="integration", name=shop.name)
    report = sync(_app(), actor, shop, only or shop.kinds())
    if as_json:
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        for kind, r in report.kinds.items():
            console.print(f"{kind:20} {r.accepted:7} loaded {r.unchanged:7} unchanged {r.rejected:7} refused")
            for p in r.problems[:20]:
                console.print(f"  [red]{p['where']}[/red] {p['field']}: {p['message']}")
    if report.rejected:
        raise typer.Exit(1)


@trait_cli.command("declare")
def trait_declare(
    name: Annotated[str, typer.Option(help="lower_snake_case name")],
    type_: Annotated[str, typer.Option("--type", help="string, number, boolean, date, enum or list")],
    purpose: Annotated[str, typer.Option(help="Why it is kept (no purpose, no data)")],
    pii: Annotated[bool, typer.Option("--pii/--no-pii", help="Is it personal data?")] = False,
    retention_days: Annotated[int | None, typer.Option(help="Keep values this many days")] = None,
    description: Annotated[str, typer.Option(help="What it means")] = "",
    enum_values: Annotated[str | None, typer.Option(help="Comma-separated values, for enum")] = None,
) -> None:
    """Declare a trait so events may carry it."""
    from pydantic import ValidationError

    from amity.customers.actions import declare_trait
    from amity.customers.schemas import TraitIn

    try:
        data = TraitIn(
            name=name,
            type=type_,
            pii=pii,
            purpose=purpose,
            retention_days=retention_days,
            description=description,
            enum_values=[v.strip() for v in enum_values.split(",")] if enum_values else None,
        )
    except ValidationError as exc:
        for err in exc.errors():
            console.print(f"[red]error ({'.'.join(map(str, err['loc']))}):[/red] {err['msg']}")
        raise typer.Exit(2) from None
    try:
        perform(_app(), SYSTEM, declare_trait, data)
    except ActionError as exc:
        _fail(exc)
    console.print(f"declared trait {name} ({type_})")


@trait_cli.command("list")
def trait_list() -> None:
    """Show the trait schema."""
    from amity.customers.queries import list_traits

    with _app().db.read() as s:
        rows = list_traits(s)
    table = Table("name", "type", "pii", "purpose", "retention", "description")
    for r in rows:
        table.add_row(
            r["name"],
            r["type"] + (f" {r['enum_values']}" if r["enum_values"] else ""),
            "yes" if r["pii"] else "",
            r["purpose"],
            f"{r['retention_days']} d" if r["retention_days"] else "",
            r["description"],
        )
    console.print(table)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
