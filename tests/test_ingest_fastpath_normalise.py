"""The normalisers' fast paths give exactly the libraries' answers, or step aside.

For every generated input: when a fast path answers, email-validator (then lower-cased) or phonenumbers
(E.164) must give that same answer and must not refuse the value. Inputs are drawn around the edges the
fast paths reason about (case, dots and hyphens, lengths, special-use and Punycode domains, non-ASCII
look-alikes; country codes, national prefixes, leading zeros, shared codes) and at random.
"""

from __future__ import annotations

import datetime as dt
import os

import phonenumbers
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS

from amity.customers import normalise
from amity.db import SQLITE_TIME_FORMAT, _sqlite_time

# AMITY_FASTPATH_EXAMPLES=200000 for a long run after touching the fast paths or upgrading the libraries.
MANY = settings(max_examples=int(os.environ.get("AMITY_FASTPATH_EXAMPLES", "1000")), deadline=None)

# ---- email -------------------------------------------------------------------------------------

ATEXT = "abcxyzABCXYZ0129!#$%&'*+/=?^_`{|}~-"
TRICKY = ' ."@<>()[]\\,;:\u00e9\u00c9\u0301\u00df\u0131\uff0e\u3002\uff20\u200b\t'
special = st.sampled_from(["test", "local", "localhost", "onion", "invalid", "arpa", "example", "com"])
label = st.one_of(
    st.text(alphabet="abcXYZ019-", min_size=1, max_size=8),
    st.text(alphabet="abcXYZ019-" + TRICKY, min_size=0, max_size=6),
    st.sampled_from(["xn--bcher-kva", "ab--cd", "xn--", "-a", "a-", "A" * 63, "b" * 64, "123", "CoM"]),
)
domain = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(label, min_size=0, max_size=4),
    st.one_of(label, special),
)
local = st.one_of(
    st.text(alphabet=ATEXT + ".", min_size=0, max_size=12),
    st.text(alphabet=ATEXT + "." + TRICKY, min_size=0, max_size=8),
    st.integers(60, 70).map(lambda n: "a" * n),
)
# Addresses the fast path is meant to take, up to the limits it checks.
atom = st.text(alphabet=ATEXT, min_size=1, max_size=10)
plain_label = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,6}[A-Za-z0-9])?", fullmatch=True)
plain = st.builds(
    lambda atoms, labels, tld: f"{'.'.join(atoms)}@{'.'.join([*labels, tld])}",
    st.lists(atom, min_size=1, max_size=7),
    st.lists(plain_label, min_size=1, max_size=3),
    st.one_of(st.from_regex(r"[A-Za-z0-9-]{0,5}[A-Za-z]", fullmatch=True), special),
)
emails = st.one_of(
    plain,
    plain,
    st.builds(lambda lp, d: f"{lp}@{d}", local, domain),
    st.builds(lambda lp, n: f"{lp}@{'a' * n}.com", local, st.integers(230, 250)),
    st.text(max_size=40),
)


def _slow_email(value: str) -> str | None:
    try:
        return normalise.email_slow(value)
    except normalise.NormaliseError:
        return None


@MANY
@given(plain)
def test_the_email_fast_path_agrees_with_email_validator_on_plain_addresses(value: str) -> None:
    fast = normalise.email_fast(value)
    event("fast path" if fast is not None else "library")
    if fast is not None:
        assert _slow_email(value) == fast


@MANY
@given(emails)
@example("Ana.Silva@Example.COM")
@example("a@b.test")
@example("a@sub.localhost")
@example("a@xn--bcher-kva.example")
@example("a@ab--cd.com")
@example("a@example.c0m")
@example("a@example.123")
@example("info@Example.com")
@example("a" * 64 + "@example.com")
@example("a" * 65 + "@example.com")
@example("a@" + "b" * 63 + ".com")
@example("a@" + "b" * 64 + ".com")
@example("a@b..com")
@example(".a@b.com")
def test_the_email_fast_path_agrees_with_email_validator(value: str) -> None:
    fast = normalise.email_fast(value)
    event("fast path" if fast is not None else "library")
    if fast is not None:
        assert _slow_email(value) == fast


@pytest.mark.parametrize(
    "value",
    ["ana.silva@example.com", "Ana.Silva+tag@Mail.Example.COM", "o'brien@shop.co.uk", "x@y.io"],
)
def test_everyday_addresses_take_the_fast_path(value: str) -> None:
    assert normalise.email_fast(value) == value.lower() == normalise.email_slow(value)


# ---- phone -------------------------------------------------------------------------------------

codes = st.sampled_from(sorted(COUNTRY_CODE_TO_REGION_CODE))
rest = st.text(alphabet="0123456789", min_size=0, max_size=17)
plus_numbers = st.builds(lambda cc, r: f"+{cc}{r}", codes, rest)
odd_numbers = st.one_of(
    st.builds(lambda cc, r: f"+{cc}0{r}", codes, rest),  # national prefix / leading zero after the code
    st.builds(lambda r: f"+0{r}", rest),
    st.builds(lambda cc, r: f"+{cc} {r}", codes, rest),
    st.builds(lambda cc, r: f"\uff0b{cc}{r}", codes, rest),  # full-width plus
    st.builds(lambda cc, r: f"+{cc}{r}\u0663", codes, rest),  # an Arabic-Indic digit
    st.builds(lambda cc, r: f"+{cc}{r} ext 12", codes, rest),
    st.builds(lambda r: f"0{r}", rest),
    st.text(alphabet="+0123456789 -()x#", max_size=20),
    st.text(max_size=20),
)
regions = st.sampled_from(["GB", "US", "DE", "IT", "BR", "IN", "ZZ"])


def _example_numbers() -> list[tuple[str, str, str]]:
    """(region, E.164, national significant number) of each region's example numbers."""
    out = []
    for region in sorted(SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            num = phonenumbers.example_number_for_type(region, kind)
            if num is not None:
                e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
                out.append((region, e164, phonenumbers.national_significant_number(num)))
    return out


EXAMPLES = _example_numbers()


def _slow_phone(value: str, region: str) -> str | None:
    try:
        return normalise.phone_slow(value, region)
    except normalise.NormaliseError:
        return None


# Real numbers of every region with their last digits changed: mostly valid, sometimes not.
near_examples = st.builds(
    lambda ex, tail, extra: ex[1][: len(ex[1]) - len(tail)] + tail + extra,
    st.sampled_from(EXAMPLES),
    st.text(alphabet="0123456789", max_size=5),
    st.sampled_from(["", "", "", "", "1", "00"]),
)


@MANY
@given(st.one_of(plus_numbers, odd_numbers), regions)
@example("+447912345678", "GB")
@example("+447624123456", "GB")  # Isle of Man: shares +44, answered by the library
@example("+393123456789", "GB")  # Italy: leading digits and zeros
@example("+390612345678", "GB")
@example("+18005550100", "GB")
@example("+80012345678", "GB")  # non-geographic code
def test_the_phone_fast_path_agrees_with_phonenumbers(value: str, region: str) -> None:
    fast = normalise.phone_fast(value, region)
    event("fast path" if fast is not None else "library")
    if fast is not None:
        assert _slow_phone(value, region) == fast


@MANY
@given(near_examples, regions)
def test_the_phone_fast_path_agrees_with_phonenumbers_near_real_numbers(value: str, region: str) -> None:
    fast = normalise.phone_fast(value, region)
    event("fast path" if fast is not None else "library")
    if fast is not None:
        assert _slow_phone(value, region) == fast


def _national_prefix(region: str) -> str:
    md = PhoneMetadata.metadata_for_region(region)
    return (md.national_prefix or "") if md is not None else ""


@st.composite
def national_plain(draw: st.DrawFn) -> tuple[str, str]:
    """A region's own number as its people write it: national prefix, digits in a few groups."""
    region, _, nsn = draw(st.sampled_from(EXAMPLES))
    tail = draw(st.text(alphabet="0123456789", max_size=3))
    digits = _national_prefix(region) + nsn[: len(nsn) - len(tail)] + tail
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(digits) - 1)), max_size=3)))
    parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    return " ".join(p for p in parts if p), region


@st.composite
def national_forms(draw: st.DrawFn) -> tuple[str, str]:
    """A region's own number written nationally ("0" or another prefix, spaces), digits perturbed."""
    region, _, nsn = draw(st.sampled_from(EXAMPLES))
    own = _national_prefix(region)
    prefix = draw(st.sampled_from([own, own, own, "0", "00", "8", "1", "", "01", "06"]))
    digits = list(prefix + nsn)
    for _ in range(draw(st.integers(0, 2))):
        digits[draw(st.integers(0, len(digits) - 1))] = draw(st.sampled_from("0123456789"))
    text = "".join(digits)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(1, max(1, len(text) - 1)))
        text = text[:at] + " " + text[at:]
    return text, draw(st.sampled_from([region, region, region, "GB", "US", "ZZ"]))


@MANY
@given(national_plain())
def test_the_phone_fast_path_agrees_with_phonenumbers_on_plain_national_numbers(
    case: tuple[str, str],
) -> None:
    value, region = case
    fast = normalise.phone_fast(value, region)
    event("fast path" if fast is not None else "library")
    if fast is not None:
        assert _slow_phone(value, region) == fast


@MANY
@given(national_forms())
@example(("07912 345678", "GB"))
@example(("0044 7912 345678", "GB"))
@example(("07624 123456", "GB"))  # Isle of Man number dialled in GB: answered by the library
@example(("0 7912345678", "GB"))
@example(("07912  345678", "GB"))
@example(("06 12345678", "IT"))
def test_the_phone_fast_path_agrees_with_phonenumbers_on_national_forms(case: tuple[str, str]) -> None:
    value, region = case
    fast = normalise.phone_fast(value, region)
    event("fast path" if fast is not None else "library")
    if fast is not None:
        assert _slow_phone(value, region) == fast


def test_most_example_numbers_of_every_region_take_the_fast_path() -> None:
    taken = [e164 for _, e164, _ in EXAMPLES if normalise.phone_fast(e164, "GB") is not None]
    assert all(normalise.phone_slow(v, "GB") == v for v in taken)
    assert len(taken) > 0.8 * len(EXAMPLES)
    assert normalise.phone_fast("07912 345678", "GB") == "+447912345678"


# ---- stored times ------------------------------------------------------------------------------


@MANY
@given(
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))])),
)
@example(dt.datetime(999, 12, 31, 23, 59, tzinfo=dt.UTC))
@example(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
def test_sqlite_times_are_written_as_sqlalchemy_writes_them(value: dt.datetime) -> None:
    try:
        expected = value.astimezone(dt.UTC).strftime(SQLITE_TIME_FORMAT)
    except OverflowError:
        return  # no UTC instant: never reaches the database (prepare_item refuses it)
    assert _sqlite_time(value) == expected
