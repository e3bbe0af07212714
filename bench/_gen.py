"""Deterministic synthetic traffic for the ingest benchmark: people with overlapping identifiers.

Every person has a few identifiers (email, phone, loyalty, external:shop, social:telegram) derived from
``(seed, person index)`` alone, so any part of the population can be regenerated without keeping it in
memory. An event names one person and carries 1-3 of that person's identifiers, usually including the
person's primary one: new identifiers get attached to the profile, and an event whose identifiers were
first seen on different events bridges two profiles and makes Amity merge them. Same seed, same data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from math import gcd
from typing import Any

import orjson

MASK = (1 << 64) - 1
ANCHOR = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # fixed, in the past: same seed gives the same timestamps
B32 = "0123456789abcdefghjkmnpqrstvwxyz"

FIRST = (
    "ana",
    "bruno",
    "carla",
    "diego",
    "eva",
    "filipe",
    "greta",
    "hugo",
    "ines",
    "joao",
    "kara",
    "leo",
    "maria",
    "nuno",
    "olga",
    "pedro",
    "rita",
    "sara",
    "tomas",
    "uma",
    "vera",
    "wim",
    "xana",
    "yuri",
    "zoe",
    "amir",
    "bea",
    "chen",
    "dara",
    "emil",
    "fatima",
    "goran",
    "hana",
    "ivo",
    "jun",
    "kofi",
    "lena",
    "milo",
    "nadia",
)
LAST = (
    "silva",
    "costa",
    "novak",
    "smith",
    "jones",
    "garcia",
    "muller",
    "rossi",
    "dubois",
    "kowalski",
    "ivanova",
    "tanaka",
    "kim",
    "okafor",
    "larsen",
    "patel",
    "nguyen",
    "santos",
    "mendes",
    "ferreira",
    "brown",
    "wilson",
    "moreau",
    "weber",
    "conti",
    "horvat",
    "popescu",
    "sato",
    "lopez",
)
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "post.example.org")
PHONE_BLOCKS = (
    "7912",
    "7400",
    "7500",
    "7800",
    "7900",
    "7450",
    "7300",
)  # GB mobile ranges valid in libphonenumber
LANGS = ("en", "en-GB", "pt-BR", "pt-PT", "de", "fr", "es", "pl")
ZONES = (
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Warsaw",
    "America/New_York",
)
CHANNELS = (["email"], ["sms", "email"], ["whatsapp"], ["telegram", "email"], ["voice"], ["chat", "email"])
# (event type, source, weight)
KINDS = (
    ("page.viewed", "web", 36),
    ("email.opened", "email", 12),
    ("order.placed", "shop", 12),
    ("cart.updated", "shop", 10),
    ("message.sent", "chat", 10),
    ("call.ended", "telephony", 8),
    ("device.offline", "device-cloud", 7),
    ("survey.answered", "surveys", 5),
)
WORDS = (
    "size",
    "colour",
    "stock",
    "store",
    "delivery",
    "return",
    "refund",
    "voucher",
    "loyalty",
    "promo",
    "basket",
    "checkout",
    "review",
    "rating",
    "warranty",
    "install",
    "visit",
    "firmware",
    "battery",
    "signal",
    "router",
    "plan",
    "upgrade",
)


def mix(seed: int, i: int, salt: int) -> int:
    """splitmix64 of (seed, i, salt): cheap, stateless per-person randomness."""
    z = (seed * 0x9E3779B97F4A7C15 + i * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB + 1) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def frac(seed: int, i: int, salt: int) -> float:
    return mix(seed, i, salt) / 2.0**64


def b32(n: int, length: int) -> str:
    return "".join(B32[(n >> (5 * k)) & 31] for k in range(length - 1, -1, -1))


def sortable_id(prefix: str, ms: int, rnd: int) -> str:
    """Same layout as ``amity.ids.new_id`` (time first), but deterministic."""
    return f"{prefix}_{b32(ms, 10)}{b32(rnd & ((1 << 80) - 1), 16)}"


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Person:
    index: int
    idents: tuple[tuple[str, str], ...]  # normalised (type, value); the first is the primary identifier
    traits: dict[str, Any]


class Population:
    """People 0..n-1 (and any index beyond, for people who are new to the database)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def person(self, i: int) -> Person:
        s = self.seed
        first, last = FIRST[mix(s, i, 1) % len(FIRST)], LAST[mix(s, i, 2) % len(LAST)]
        idents: list[tuple[str, str]] = []
        if frac(s, i, 3) < 0.9:
            idents.append(("email", f"{first}.{last}.{i}@{DOMAINS[mix(s, i, 4) % len(DOMAINS)]}"))
        if frac(s, i, 5) < 0.65 or not idents:
            block = PHONE_BLOCKS[(i // 1_000_000) % len(PHONE_BLOCKS)]
            idents.append(("phone", f"+44{block}{(i * 738_457 + 12_345) % 1_000_000:06d}"))
        if frac(s, i, 6) < 0.6:
            idents.append(("external:shop", f"shop-{mix(s, i, 7) % 10**12:012d}"))
        if frac(s, i, 8) < 0.4:
            idents.append(("loyalty", f"L{i:09d}"))
        if frac(s, i, 9) < 0.15:
            idents.append(("social:telegram", f"{first}_{last}_{i}"))
        if len(idents) > 1:  # the identifier a person's usual channel sends: not always the email
            p = mix(s, i, 10) % len(idents)
            idents[0], idents[p] = idents[p], idents[0]
        traits = {
            "name": f"{first.title()} {last.title()}",
            "language": LANGS[mix(s, i, 11) % len(LANGS)],
            "timezone": ZONES[mix(s, i, 12) % len(ZONES)],
            "preferred_channels": CHANNELS[mix(s, i, 13) % len(CHANNELS)],
        }
        return Person(i, tuple(idents), traits)

    def known(self, p: Person) -> tuple[tuple[str, str], ...]:
        """Identifiers already attached to the person's profile in a pre-populated database."""
        return tuple(x for k, x in enumerate(p.idents) if k == 0 or frac(self.seed, p.index, 20 + k) < 0.8)


def raw_form(rng: random.Random, type_: str, value: str) -> str:
    """How a sending system spells the identifier (Amity normalises it back)."""
    r = rng.random()
    if type_ == "email" and r < 0.1:
        local, _, domain = value.partition("@")
        return f"{local.title()}@{domain.title()}"
    if type_ == "phone" and r < 0.3:
        return f"0{value[3:7]} {value[7:]}"  # national format
    if type_.startswith("social:") and r < 0.5:
        return "@" + value.title()
    return value


def properties(rng: random.Random, kind: str) -> dict[str, Any]:
    """A 200-500 byte properties object shaped like the event type."""
    r = rng.randrange
    sku = f"SKU-{r(100_000):05d}"
    p: dict[str, Any]
    if kind == "order.placed":
        items = [
            {"sku": f"SKU-{r(100_000):05d}", "qty": r(1, 4), "price": r(300, 20_000) / 100}
            for _ in range(r(1, 4))
        ]
        p = {
            "order_id": f"O-{r(10**9):09d}",
            "currency": "EUR",
            "total": sum(i["price"] for i in items),
            "items": items,
            "store": f"S{r(300):03d}",
        }
    elif kind == "page.viewed":
        p = {
            "url": f"https://shop.example.com/p/{sku.lower()}",
            "title": " ".join(rng.sample(WORDS, 4)),
            "referrer": "https://search.example.org/",
            "session": f"{r(1 << 64):016x}",
        }
    elif kind == "call.ended":
        p = {
            "duration_s": r(20, 1800),
            "queue": rng.choice(("billing", "orders", "tech")),
            "agent": f"agent-{r(200)}",
            "disposition": rng.choice(("resolved", "callback", "escalated")),
        }
    elif kind == "device.offline":
        p = {
            "device_id": f"dev-{r(10**8):08x}",
            "model": rng.choice(("R-200", "R-300", "Cam-1")),
            "firmware": f"{r(1, 5)}.{r(20)}.{r(100)}",
            "region": rng.choice(("north", "south", "east", "west")),
        }
    else:
        p = {
            "ref": f"{kind}-{r(10**9):09d}",
            "channel": rng.choice(("email", "chat", "sms", "web")),
            "sku": sku,
            "score": r(0, 11),
        }
    target = r(200, 500)
    size = len(orjson.dumps(p))
    if size + 12 < target:  # "context" padding: free text such as a page section or a message excerpt
        words: list[str] = []
        while size + 12 + sum(len(w) + 1 for w in words) < target:
            words.append(rng.choice(WORDS))
        p["context"] = " ".join(words)[: target - size - 12]
    return p


class EventStream:
    """Raw event dicts as an integration would POST them; activity is skewed (a few very busy people)."""

    def __init__(
        self,
        pop: Population,
        n_people: int,
        *,
        seed: int,
        new_people: int = 0,
        start: dt.datetime,
        span: dt.timedelta,
    ) -> None:
        self.pop = pop
        self.n = n_people
        self.new_people = new_people
        self.rng = random.Random(seed)
        self.start = start
        self.span = span.total_seconds()
        mult = 1_000_003
        while gcd(mult, n_people) != 1:
            mult += 2
        self.mult = mult
        self.kinds = [k[:2] for k in KINDS]
        self.weights = [k[2] for k in KINDS]

    def pick_person(self) -> int:
        rng = self.rng
        if self.new_people and rng.random() < 0.03:
            return self.n + rng.randrange(self.new_people)
        return self.person_at(int(self.n * rng.random() ** 1.6))  # skewed activity

    def person_at(self, rank: int) -> int:
        """The person of a given activity rank (0: the busiest)."""
        return (rank * self.mult + 17) % self.n

    def events(self, count: int) -> Iterator[dict[str, Any]]:
        rng = self.rng
        recent: list[dict[str, Any]] = []
        for j in range(count):
            if recent and rng.random() < 0.005:  # a client retry: the very same event again
                yield rng.choice(recent)
                continue
            person = self.pop.person(self.pick_person())
            kind, source = rng.choices(self.kinds, self.weights)[0]
            idents = person.idents
            k = min(len(idents), rng.choices((1, 2, 3), (55, 33, 12))[0])
            if len(idents) == 1:
                chosen = [idents[0]]
            elif rng.random() < 0.75:
                chosen = [idents[0], *rng.sample(idents[1:], min(k - 1, len(idents) - 1))]
            else:
                chosen = rng.sample(idents[1:], min(k, len(idents) - 1))
            ev: dict[str, Any] = {
                "type": kind,
                "timestamp": iso(
                    self.start + dt.timedelta(seconds=self.span * j / count - rng.random() * 7200)
                ),
                "source": source,
                "identities": [{"type": t, "value": raw_form(rng, t, v)} for t, v in chosen],
                "properties": properties(rng, kind),
            }
            if rng.random() < 0.85:
                ev["id"] = f"{source}-{rng.getrandbits(64):016x}"
            if rng.random() < 0.005:  # a placeholder a sending system puts in when it has nothing
                ev["identities"].append(
                    rng.choice(
                        (
                            {"type": "email", "value": "noreply@shop.example.com"},
                            {"type": "phone", "value": "0000000000"},
                        )
                    )
                )
            if rng.random() < 0.12:
                names = rng.sample(sorted(person.traits), rng.randrange(1, 3))
                ev["traits"] = {n: person.traits[n] for n in names}
            if "id" in ev:
                if len(recent) < 5000:
                    recent.append(ev)
                else:
                    recent[rng.randrange(5000)] = ev
            yield ev
