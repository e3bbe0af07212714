"""Demo data: Northwind Outfitters, a fictional shoe and outdoor-gear retailer.

Six stores (London, Manchester, Edinburgh, Dublin, Lisbon, Porto) and a web shop. Every generated person
reaches the business through several channels with overlapping identifiers, so identity resolution has
real work to do: anonymous browsing (``device`` cookie), a shop account (``external:shop`` + email), a
loyalty card at the till (``loyalty`` + phone), phone calls (phone), web chat (email, sometimes a second
address) and Telegram (``social:telegram``). Later events join those islands — logging in, a checkout
that gives a phone number, adding the card to the account, sharing a number on Telegram — and the
profiles merge. About one link in ten never happens, so some duplicates remain, as in real life.

Events go through the real action layer (``customers.service.ingest``) in batches of at most 1000.
The data depends only on the seed: timestamps count back from a fixed anchor and event ids are
derived from the seed, so loading the same seed again stores nothing new. Then the service desk
(channels, teams, SLA, macros) and live conversations across every channel are added by
``demo_conversations``, and other capabilities add theirs at the hook at the end of :func:`load_demo`.

Sign-ins, all with the password ``amity-demo-2026``:
  demo@amity.example        admin
  supervisor@amity.example  supervisor
  agent@amity.example       agent
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import logging
import random
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, select

from amity.accounts.actions import create_user
from amity.accounts.queries import user_by_email
from amity.core.actions import Actor, App, Conflict, perform
from amity.customers import service
from amity.customers.actions import declare_trait
from amity.customers.models import Customer, Merge
from amity.customers.schemas import TraitIn
from amity.db import utcnow
from amity.demo_conversations import load_conversations

DEMO_EMAIL = "demo@amity.example"
DEMO_PASSWORD = "amity-demo-2026"  # noqa: S105 -- documented, public demo sign-in
USERS = (
    (DEMO_EMAIL, "admin", "Demo Admin"),
    ("supervisor@amity.example", "supervisor", "Sofia Supervisor"),
    ("agent@amity.example", "agent", "Alex Agent"),
)
ACTOR = Actor(kind="system", id="demo", role="admin", name="Demo data loader")
ANCHOR = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)  # every demo event happened before this
BATCH = 1000
# fmt: off
TRAITS = (
    TraitIn(name="shoe_size", type="number", purpose="fit advice", description="UK shoe size, e.g. 6.5."),
    TraitIn(name="loyalty_tier", type="enum", enum_values=["bronze", "silver", "gold"], purpose="loyalty benefits",
            description="Northwind Club tier: silver from 300 spent, gold from 800."),
    TraitIn(name="city", type="string", pii=True, purpose="store and stock suggestions", description="Home city."),
)
STORES = (("lon-cg", "London", "GB"), ("man-nq", "Manchester", "GB"), ("edi-ps", "Edinburgh", "GB"),
          ("dub-gs", "Dublin", "IE"), ("lis-ch", "Lisbon", "PT"), ("opo-sc", "Porto", "PT"))
# country: time zone, language, currency, mobile prefixes (+ 7 digits, all valid for phonenumbers), names
COUNTRIES: dict[str, tuple[str, str, str, tuple[str, ...], str, str]] = {
    "GB": ("Europe/London", "en-GB", "GBP", ("+44740", "+44750", "+44771", "+44780", "+44790", "+44795"),
           "Olivia Amelia Isla Grace Sophie Priya Aisha Fiona Ruth Emily Jack Oliver Harry George Noah Callum "
           "Ewan Mohammed Thomas Oscar",
           "Smith Jones Taylor Brown Williams Wilson Davies Patel Wright Evans Walker Khan Campbell Stewart "
           "MacDonald Hughes Clarke Robinson"),
    "IE": ("Europe/Dublin", "en-IE", "EUR", ("+35383", "+35385", "+35387"),
           "Aoife Saoirse Niamh Ciara Roisin Emma Sean Conor Cian Oisin Darragh Liam",
           "Murphy Kelly O'Sullivan Walsh Byrne Ryan O'Brien Doyle McCarthy Gallagher"),
    "PT": ("Europe/Lisbon", "pt-PT", "EUR", ("+35191", "+35193", "+35196"),
           "João Maria Ana Beatriz Inês Matilde Leonor Carolina Francisco Tomás Rodrigo Duarte Afonso Gonçalo",
           "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Fernandes Gonçalves Lopes"),
}
CATALOG = (  # sku, name, kind, price in GBP
    ("NW-TRL-01", "Ridgeline Trail Runner", "shoe", 129.0),
    ("NW-HIK-02", "Summit Mid GTX Hiking Boot", "shoe", 189.0),
    ("NW-CTY-03", "Harbour Leather Sneaker", "shoe", 99.0),
    ("NW-SND-04", "Tidewater Sandal", "shoe", 59.0),
    ("NW-RUN-05", "Tempo Road Runner", "shoe", 139.0),
    ("NW-JKT-10", "Stormshell Rain Jacket", "apparel", 179.0),
    ("NW-FLC-11", "Cairn Fleece", "apparel", 79.0),
    ("NW-SCK-12", "Merino Hiking Socks (2-pack)", "apparel", 24.0),
    ("NW-BPK-20", "Trailhead 28L Daypack", "gear", 89.0),
    ("NW-BTL-21", "Insulated Bottle 750 ml", "gear", 29.0),
    ("NW-PLS-22", "Carbon Trekking Poles", "gear", 119.0),
)
PAGES = [("/", "Home"), ("/help/sizing", "Size guide"), ("/help/returns", "Returns"), ("/stores", "Stores")]
PAGES += [(f"/p/{sku.lower()}", name) for sku, name, _, _ in CATALOG]
CHATS = (
    ("order_status", "Hi, where is my order? It said 3 days."),
    ("stock", "Do you have the Ridgeline in my size in any store?"),
    ("returns", "How do I return something I bought online?"),
    ("defect", "The sole of my boots is coming off after two months."),
    ("coupon", "Can I use my coupon online as well as in store?"),
)
CALL_OUTCOMES = ("resolved", "resolved", "resolved", "callback", "escalated", "voicemail")
AGENTS = ("Alex Agent", "Priya Shah", "Tom Reilly", "Marta Costa", "Niamh Doyle")
COUPONS = (("WELCOME", 10, "loyalty welcome"), ("SORRY", 15, "service recovery"), ("BDAY", 20, "birthday"))
REVIEWS = {
    5: ("Love them", "Comfortable from day one."),
    4: ("Great, but runs small", "Lovely fit once I went half a size up; it runs small."),
    3: ("OK", "Does the job, nothing special."),
    2: ("Disappointed", "Started wearing through after a few weeks."),
}
# fmt: on
Event = dict[str, Any]
log = logging.getLogger(__name__)
# Other capabilities' demo data, loaded after everything above: (module, function). Each is called as
# ``fn(app, seed=seed)``, must be idempotent and deterministic like the rest, and may return counts
# to report. A capability not installed yet (module or function missing) is skipped.
MORE_DEMO = (
    ("amity.catalog", "load_catalog_demo"),
    ("amity.commerce", "load_commerce_demo"),
)
Ids = list[dict[str, str]]


def _ident(type_: str, value: str) -> dict[str, str]:
    return {"type": type_, "value": value}


def _ascii(s: str) -> str:
    folded = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _unique(used: set[str], make: Callable[[], str]) -> str:
    while (value := make()) in used:
        pass
    used.add(value)
    return value


def _person(rng: random.Random, n: int, seed: int, used: set[str], orders: Iterator[int]) -> list[Event]:
    """One person's history: islands of identifiers first, the events that join them later, then life."""
    store, city, country = rng.choice(STORES)
    tz, lang, currency, prefixes, firsts, lasts = COUNTRIES[country]
    first, last = rng.choice(firsts.split()), rng.choice(lasts.split())
    f, la = _ascii(first), _ascii(last)
    domains = ("example.com", "example.org", "example.net", "mail.example.com")

    def mail() -> str:
        local = rng.choice((f"{f}.{la}", f"{f[0]}{la}", f"{f}{la}{rng.randrange(10, 99)}", f"{la}.{f}"))
        return f"{local}{rng.choice(('', str(rng.randrange(1, 999))))}@{rng.choice(domains)}"

    def maybe(chance: float, make: Callable[[], str]) -> str | None:
        return _unique(used, make) if rng.random() < chance else None

    email = _unique(used, mail)
    email2 = maybe(0.15, mail)
    phone = maybe(0.85, lambda: f"{rng.choice(prefixes)}{rng.randrange(10**7):07d}")
    shop = maybe(0.75, lambda: f"SH{rng.randrange(10**7):07d}")
    loyalty = maybe(0.6, lambda: f"NW{rng.randrange(10**9):09d}") if phone else None
    telegram = maybe(0.2, lambda: f"{f}_{la}{rng.randrange(10**4)}")
    cookie = f"web-{seed}-{n}-{rng.getrandbits(40):010x}" if shop and rng.random() < 0.7 else None
    size = rng.randrange(6, 25) / 2  # UK 3 to 12
    apparel = rng.choice(("XS", "S", "M", "L", "XL"))
    channels = ["email", "chat"] + (["voice", "sms"] if phone else []) + (["telegram"] if telegram else [])
    profile = {"name": f"{first} {last}", "language": lang, "timezone": tz}
    days = rng.uniform(30, 730)  # how long ago we first met them; islands, links, then life till now
    start = ANCHOR - dt.timedelta(days=days)
    evs: list[Event] = []
    bought: list[str] = []
    spend, size_sent = 0.0, False

    def at(lo: float, hi: float) -> dt.datetime:
        return start + dt.timedelta(days=rng.uniform(lo, hi))

    def add(type_: str, ts: dt.datetime, src: str, ids: Ids, props: Any = None, traits: Any = None) -> None:
        eid = f"demo{seed}-{n:05d}-{len(evs):03d}"
        evs.append({"id": eid, "type": type_, "timestamp": ts, "source": src, "identities": ids})
        evs[-1].update({"properties": props or {}, "traits": traits or {}})

    def order(ts: dt.datetime, idents: Ids, in_store: bool) -> None:
        nonlocal spend, size_sent
        rate = 1.0 if currency == "GBP" else 1.15
        items: list[dict[str, Any]] = []
        for sku, name, kind, price in rng.sample(CATALOG, rng.choice((1, 1, 1, 2, 3))):
            fit = (size + rng.choice((0, 0, 0, 0.5, -0.5))) if kind == "shoe" else None
            item_size = fit if fit is not None else (apparel if kind == "apparel" else "one size")
            items.append({"sku": sku, "name": name, "size": item_size, "price": round(price * rate, 2)})
            bought.append(sku)
        total = round(sum(i["price"] for i in items), 2)
        spend += total / rate
        order_id = f"{'S' if in_store else 'W'}{next(orders):07d}"
        props = {"order_id": order_id, "items": items, "total": total, "currency": currency}
        props["store"] = store if in_store else "web"
        traits: dict[str, Any] = {}
        if not size_sent and any(isinstance(i["size"], float) for i in items):
            traits, size_sent = {"shoe_size": size}, True
        add("order.placed", ts, "pos" if in_store else "shop", idents, props, traits)

    def chat(ts: dt.datetime, idents: Ids, source: str = "chat") -> None:
        topic, text = rng.choice(CHATS)
        add("chat.started", ts, source, idents, {"topic": topic, "page": rng.choice(PAGES)[0]})
        add("chat.message", ts + dt.timedelta(seconds=20), source, idents, {"direction": "in", "text": text})

    def call(ts: dt.datetime) -> None:
        props = {"direction": "in", "duration_s": rng.randrange(40, 900), "agent": rng.choice(AGENTS)}
        props.update(outcome=rng.choice(CALL_OUTCOMES), reason=rng.choice(CHATS)[0])
        add("call.ended", ts, "telephony", [_ident("phone", phone or "")], props)

    def view(ts: dt.datetime, idents: Ids) -> None:
        path, title = rng.choice(PAGES)
        add("page.viewed", ts, "web", idents, {"path": path, "title": title})

    def coupon(ts: dt.datetime, idents: Ids, kind: int) -> None:
        prefix, pct, reason = COUPONS[kind]
        code = _unique(used, lambda: f"{prefix}-{rng.randrange(16**6):06X}")
        expires = (ts + dt.timedelta(days=90)).date().isoformat()
        props = {"code": code, "percent_off": pct, "reason": reason, "expires_on": expires}
        add("coupon.issued", ts, "crm", idents, props)

    web_ids = [_ident("external:shop", shop), _ident("email", email)] if shop else [_ident("email", email)]
    card_ids = [_ident("loyalty", loyalty), _ident("phone", phone)] if loyalty and phone else None

    # Islands: each channel meets the person on its own and makes its own profile.
    if cookie:
        for _ in range(rng.randint(1, 4)):
            view(at(0, 10), [_ident("device", cookie)])
    if shop:
        add("account.created", at(0, 10), "shop", web_ids, None, {**profile, "preferred_channels": channels})
    if card_ids:
        card = {"name": profile["name"], "city": city, "loyalty_tier": "bronze"}
        add("loyalty.joined", at(0, 10), "pos", card_ids, {"store": store}, card)
        coupon(at(0, 10), card_ids[:1], 0)
        if rng.random() < 0.5:
            order(at(0, 10), card_ids, in_store=True)
    if not shop and not card_ids:
        chat(at(0, 10), [_ident("email", email)])
    if phone and not card_ids and rng.random() < 0.5:
        call(at(0, 10))
    if telegram:
        chat(at(0, 10), [_ident("social:telegram", telegram)], source="telegram")
    if email2:
        chat(at(0, 10), [_ident("email", email2)])

    # Links: the events that prove two islands are one person (90% of them happen).
    def link() -> bool:
        return rng.random() < 0.9

    if cookie and link():
        view(at(10, 25), [_ident("device", cookie), _ident("external:shop", shop or "")])
    if shop and phone and link():
        order(at(10, 25), [*web_ids, _ident("phone", phone)], in_store=False)
    if shop and loyalty and link():
        add("loyalty.linked", at(10, 25), "shop", [web_ids[0], _ident("loyalty", loyalty)])
    if not shop and phone and link():
        chat(at(10, 25), [_ident("email", email), _ident("phone", phone)])
    if telegram and link():
        other = _ident("phone", phone) if phone else _ident("email", email)
        msg = {"direction": "in", "text": "Sharing my contact so you can find my order."}
        add("chat.message", at(10, 25), "telegram", [_ident("social:telegram", telegram), other], msg)
    if email2 and link():
        ids = [*web_ids, _ident("email", email2)]
        add("profile.updated", at(10, 25), "shop" if shop else "chat", ids, {"added": "email"})

    # Life goes on: orders, browsing, calls, chats, coupons, reviews.
    life = sorted(at(25, days - 0.01) for _ in range(rng.randint(2, 14)))
    if shop and rng.random() < 0.15:
        app_id = f"app-{seed}-{n}-{rng.getrandbits(32):08x}"
        props = {"platform": rng.choice(("ios", "android")), "version": "3.4.1"}
        add("app.installed", life[0], "app", [_ident("device", app_id), web_ids[0]], props)
    for ts in life:
        roll = rng.random()
        if roll < 0.3:
            in_store = bool(card_ids) and (not shop or rng.random() < 0.5)
            order(ts, card_ids if in_store and card_ids else web_ids, in_store=in_store)
        elif roll < 0.5:
            view(ts, [_ident("device", cookie)] if cookie else web_ids[:1])
        elif roll < 0.62 and phone:
            call(ts)
        elif roll < 0.72:
            chat(ts, [_ident("email", email)])
        elif roll < 0.8 and telegram:
            msg = {"direction": "in", "text": "Any news on my question?"}
            add("chat.message", ts, "telegram", [_ident("social:telegram", telegram)], msg)
        elif roll < 0.88:
            coupon(ts, [_ident("email", email)], rng.choice((1, 2)))
        elif bought:
            sku = rng.choice(bought)
            rating = rng.choice((5, 5, 4, 4, 3, 2)) if sku != "NW-TRL-01" else 4
            title, text = REVIEWS[rating]
            review = {"sku": sku, "rating": rating, "title": title, "text": text}
            add("review.posted", ts, "reviews", [_ident("email", email)], review)
    if card_ids and spend >= 300:
        tier = "gold" if spend >= 800 else "silver"
        ts = life[-1] + (ANCHOR - life[-1]) / 2
        add("loyalty.tier_changed", ts, "pos", card_ids[:1], {"tier": tier}, {"loyalty_tier": tier})
    return evs


def generate(people: int, seed: int) -> list[Event]:
    """All demo events in the order the outside world would send them (by time)."""
    rng, orders = random.Random(seed), itertools.count(1)
    used: set[str] = set()
    events = [e for n in range(people) for e in _person(rng, n, seed, used, orders)]
    events.sort(key=lambda e: (e["timestamp"], e["id"]))
    # Only on a machine whose clock is behind the anchor: shift back so that nothing is in the future.
    shift = min(dt.timedelta(0), utcnow() - dt.timedelta(hours=1) - ANCHOR)
    for e in events:
        e["timestamp"] = (e["timestamp"] + shift).isoformat()
    return events


def already_loaded(app: App) -> bool:
    with app.db.read() as s:
        return user_by_email(s, DEMO_EMAIL) is not None


def _count(app: App, q: Any) -> int:
    with app.db.read() as s:
        return int(s.scalar(q) or 0)


def load_demo(app: App, people: int = 1000, seed: int = 7, progress: bool = False) -> dict[str, int]:
    """Declare the demo traits, ingest the retailer's history, then create the demo sign-ins."""
    for trait in TRAITS:
        with suppress(Conflict):  # declared by an earlier load (or by the admin): keep theirs
            perform(app, ACTOR, declare_trait, trait)
    events = generate(people, seed)
    merges_before = _count(app, select(func.count()).select_from(Merge))
    stored = flagged = 0
    with Progress(disable=not progress) as bar:
        task = bar.add_task("Northwind Outfitters", total=len(events))
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            result = service.ingest(app, ACTOR, batch)
            bad = [r for r in result["results"] if r["status"] == "rejected"]
            if bad:
                raise RuntimeError(f"demo event {bad[0]['id']} was refused: {bad[0]['errors']}")
            stored += result["accepted"]
            flagged += sum(1 for r in result["results"] if r["flags"])
            bar.advance(task, len(batch))
    for email, role, name in USERS:
        with suppress(Conflict):
            perform(app, ACTOR, create_user, email, DEMO_PASSWORD, role, name)
    live = _count(app, select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_(None)))
    merges = _count(app, select(func.count()).select_from(Merge)) - merges_before
    talk = load_conversations(app, events, seed, ACTOR, count=min(24, max(1, people // 2)))
    stats = {"people": people, "customers": live, "events": stored, "merges": merges, "flagged": flagged}
    stats["conversations"] = talk["conversations"]
    # ---- HOOK: other capabilities' demo data (catalogue, commerce) -----------------------------------
    stats.update(_more_demo(app, seed))
    return stats


def _more_demo(app: App, seed: int) -> dict[str, int]:
    """Call each capability's demo loader in MORE_DEMO that exists (guarded: it may not be built yet)."""
    out: dict[str, int] = {}
    for module_name, fn_name in MORE_DEMO:
        for where in (module_name, f"{module_name}.demo"):
            try:
                fn = getattr(importlib.import_module(where), fn_name)
            except (ImportError, AttributeError):
                continue
            got = fn(app, seed=seed)
            if isinstance(got, dict):
                out.update({f"{module_name.rsplit('.', 1)[-1]}_{k}": int(v) for k, v in got.items()})
            break
        else:
            log.info("demo: %s.%s is not available yet; skipped", module_name, fn_name)
    return out
