"""Email and phone normalisation: the libraries' answer, with a fast path for the everyday shapes.

email-validator and phonenumbers cost ~20 µs per new identifier here, and at a million people most
identifiers an event carries have not been seen by this process yet (the caches miss). Each fast path
accepts only inputs for which its result is provably the library's result, and says ``None`` for
everything else, which then goes through the library. The reasoning is written next to each check;
``tests/test_ingest_fastpath_normalise.py`` compares both paths on generated inputs.
"""

from __future__ import annotations

import re
from functools import lru_cache

import email_validator
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers.phonemetadata import PhoneMetadata, PhoneNumberDesc
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS


class NormaliseError(ValueError):
    """The library refused the value; the message says why."""


# ---- email -------------------------------------------------------------------------------------
# email-validator on a plain ASCII address (check_deliverability=False, the defaults otherwise):
# split_email finds the single unquoted "@" (no quotes, "<" or combining marks in ASCII dot-atom text);
# the local part matches its DOT_ATOM_TEXT and comes back unchanged (NFC is the identity on ASCII);
# the domain's only change is UTS-46 lower-casing of A-Z; it is returned as is when it has no "xn--"
# label. It is refused for: no dot, a last character that is not a letter, labels longer than 63, a
# domain longer than 253, an address longer than 254, R-LDH labels ("ab--"), special-use names, and a
# local part over 64 in strict mode. So an address matching the pattern below, within those lengths,
# without "--" and outside the special-use names, normalises to itself with the domain lower-cased;
# Amity lower-cases the whole address afterwards, so the result is ``value.lower()``.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z]"
_PLAIN_EMAIL = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@((?:{_LABEL}\.)+{_TLD})")


def email_fast(value: str) -> str | None:
    """``value.lower()`` when email-validator is certain to say exactly that, else None."""
    if len(value) > 254:
        return None
    m = _PLAIN_EMAIL.fullmatch(value)
    if m is None:
        return None
    domain = m.group(1).lower()
    if m.start(1) - 1 > 64 or "--" in domain:
        return None
    if any(len(label) > 63 for label in domain.split(".")):
        return None
    # Read at call time: the list is a public, mutable attribute of email-validator.
    for special in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        if domain == special or domain.endswith("." + special):
            return None
    return value.lower()


def email_slow(value: str) -> str:
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise NormaliseError(f"not a valid email address: {exc}") from None
    # Mailbox local parts are case-sensitive in theory, case-insensitive everywhere in practice.
    return info.normalized.lower()


@lru_cache(maxsize=200_000)
def email(value: str) -> str:
    return email_fast(value) or email_slow(value)


# ---- phone -------------------------------------------------------------------------------------
# phonenumbers.parse on "+" and ASCII digits only (no punctuation, extension, RFC 3966 context or
# letters): the plus is stripped and the country calling code is the first 1-3 digit prefix listed in
# COUNTRY_CODE_TO_REGION_CODE (a leading 0 sends parse down another route: not taken here). The rest
# is the national significant number, unless the national prefix pattern of the code's main region
# matches its start (then parse may strip it: not taken here). Without a leading zero the number object
# is (country code, int(rest)), and its E.164 form is "+" + code + rest: the input itself.
# is_valid_number then asks region_code_for_number, which for a code of one region, or whose main
# region has no leading-digits rule, answers the main region if the number has a type there; and
# is_valid_number_for_region(main region) is exactly "has a type there". The number has a type in a
# region iff it matches the general description and one of the type descriptions (_number_type_helper).
# When it has none there the answer may come from another region: the library decides.
_PLUS_DIGITS = re.compile(r"\+([1-9][0-9]{2,19})")
_NATIONAL_DIGITS = re.compile(r"0[0-9]{1,19}(?: [0-9]{1,19}){0,4}")  # ASCII digits, single spaces
_OTHER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@lru_cache(maxsize=4096)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)  # phonenumbers compiles its metadata patterns without flags too


def _matches(nsn: str, desc: PhoneNumberDesc | None) -> bool:
    """phonenumbers' _is_number_matching_desc: the possible lengths, then a full pattern match."""
    if desc is None:
        return False
    lengths = desc.possible_length
    if lengths and len(nsn) not in lengths:
        return False
    pattern = desc.national_number_pattern
    return bool(pattern) and _pattern(pattern).fullmatch(nsn) is not None


def _has_type(nsn: str, md: PhoneMetadata) -> bool:
    if not _matches(nsn, md.general_desc):
        return False
    if _matches(nsn, md.fixed_line):
        return True
    if not md.same_mobile_and_fixed_line_pattern and _matches(nsn, md.mobile):
        return True
    return any(_matches(nsn, getattr(md, name)) for name in _OTHER_TYPES)


def _valid_in_main_region(code: int, nsn: str) -> bool:
    """is_valid_number for (code, nsn), when that is certain to be True; False means "ask the library"."""
    if not 2 <= len(nsn) <= 17 or nsn[0] == "0":  # a leading zero is kept apart ("Italian") by parse
        return False
    regions = COUNTRY_CODE_TO_REGION_CODE[code]
    md = PhoneMetadata.metadata_for_region(regions[0], None)
    if md is None or md.country_code != code:  # non-geographic codes ("001") have no region metadata
        return False
    if len(regions) > 1 and md.leading_digits is not None:
        return False
    return _has_type(nsn, md)


def _international(value: str) -> str | None:
    m = _PLUS_DIGITS.fullmatch(value)
    if m is None:
        return None
    digits = m.group(1)
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    nsn = digits[size:]
    md = PhoneMetadata.metadata_for_region(COUNTRY_CODE_TO_REGION_CODE[code][0], None)
    prefix = md.national_prefix_for_parsing if md is not None else None
    if prefix and _pattern(prefix).match(nsn):
        return None
    return value if _valid_in_main_region(code, nsn) else None


def _national(value: str, region: str) -> str | None:
    """The national form of a number of ``region`` itself, when ``region`` is its code's main region.

    parse finds no country code (digits starting with 0 cannot start one, and the pattern below keeps
    the region's international prefix away), then strips the national prefix when the rest matches the
    general pattern and has a possible length (not a local-only one); with no transform rule the rest
    is the national significant number.
    """
    if not _NATIONAL_DIGITS.fullmatch(value) or region not in SUPPORTED_REGIONS:
        return None
    md = PhoneMetadata.metadata_for_region(region, None)
    code = md.country_code if md is not None else None
    if md is None or code is None or COUNTRY_CODE_TO_REGION_CODE.get(code, ("",))[0] != region:
        return None
    digits = value.replace(" ", "")
    if md.international_prefix and _pattern(md.international_prefix).match(digits):
        return None
    prefix, general = md.national_prefix_for_parsing, md.general_desc
    if not prefix or md.national_prefix_transform_rule or general is None:
        return None
    m = _pattern(prefix).match(digits)
    if m is None:
        return None
    nsn = digits[m.end() :]
    if not general.national_number_pattern or not _pattern(general.national_number_pattern).fullmatch(nsn):
        return None
    if len(nsn) not in general.possible_length or len(nsn) in general.possible_length_local_only:
        return None
    if not _valid_in_main_region(code, nsn):
        return None
    return f"+{code}{nsn}"


def phone_fast(value: str, region: str) -> str | None:
    """The E.164 form when phonenumbers is certain to give exactly it, else None."""
    if value.startswith("+"):
        return _international(value)
    return _national(value, region)


def phone_slow(value: str, region: str) -> str:
    try:
        num = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise NormaliseError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(num):
        raise NormaliseError(f"'{value}' is not a valid phone number (default region {region})")
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


@lru_cache(maxsize=200_000)
def phone(value: str, region: str) -> str:
    return phone_fast(value, region) or phone_slow(value, region)
