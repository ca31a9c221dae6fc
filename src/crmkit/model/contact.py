"""Contacts: the people a business sells to and serves."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import Problem, ValidationError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    ProblemCollector,
    optional_time_zone,
    parse_country,
    parse_enum,
    parse_ref,
    parse_tags,
    parse_text,
    parse_user,
)
from crmkit.values.email import EmailAddress
from crmkit.values.enums import ConsentPurpose, LifecycleStage
from crmkit.values.phone import PhoneNumber
from crmkit.values.temporal import parse_instant

__all__ = ["Address", "Consent", "Contact"]


@attrs.frozen(kw_only=True)
class Address:
    """A postal address; the country lives on the contact or company itself."""

    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None

    @classmethod
    def parse(cls, value: object, field: str = "address") -> Address | None:
        """Build an address from a mapping of its parts (or pass an `Address` through)."""
        if value is None or isinstance(value, Address):
            return value
        if not isinstance(value, Mapping):
            raise ValidationError.single(field, value, "is not an address mapping")
        collector = ProblemCollector()
        parts: dict[str, str | None] = {}
        for key, item in value.items():
            if key not in ("street", "city", "region", "postal_code"):
                collector.add(f"{field}.{key}", item, "is not an address part")
                continue
            parts[key] = collector.parse(parse_text, item, f"{field}.{key}")
        collector.raise_if_any()
        address = cls(**parts)
        return address if any(parts.values()) else None


@attrs.frozen(kw_only=True)
class Consent:
    """Whether a contact agreed to one purpose, when, and how that was recorded.

    Attributes:
        purpose: What the consent is for (email marketing, calls, tracking, ...).
        granted: True when given, False when refused or withdrawn.
        at: When it was given or withdrawn (UTC).
        source: How: ``"web form"``, ``"double opt-in"``, ``"phone call"``, ...
    """

    purpose: ConsentPurpose
    granted: bool
    at: dt.datetime
    source: str | None = None


_parse_lifecycle = parse_enum(LifecycleStage)


def _parse_emails(value: object, field: str) -> tuple[EmailAddress, ...]:
    if value is None:
        return ()
    if isinstance(value, str | EmailAddress):
        return (EmailAddress.parse(value, field=field),)
    items = value
    if not isinstance(items, Iterable):
        raise ValidationError.single(field, value, "is not a list of email addresses")
    collector = ProblemCollector()
    parsed = [
        collector.parse(lambda v, f: EmailAddress.parse(v, field=f), item, f"{field}[{i}]")
        for i, item in enumerate(items)
    ]
    collector.raise_if_any()
    return tuple(dict.fromkeys(e for e in parsed if e is not None))


def _phone_parser(region: str | None) -> Any:
    def parse(value: object, field: str) -> tuple[PhoneNumber, ...]:
        if value is None:
            return ()
        if isinstance(value, str | PhoneNumber):
            return (PhoneNumber.parse(value, region, field=field),)
        items = value
        if not isinstance(items, Iterable):
            raise ValidationError.single(field, value, "is not a list of phone numbers")
        collector = ProblemCollector()
        parsed = [
            collector.parse(
                lambda v, f: PhoneNumber.parse(v, region, field=f), item, f"{field}[{i}]"
            )
            for i, item in enumerate(items)
        ]
        collector.raise_if_any()
        return tuple(dict.fromkeys(p for p in parsed if p is not None))

    return parse


def _parse_consents(value: object, field: str) -> tuple[Consent, ...]:
    if value is None:
        return ()
    if not isinstance(value, Iterable) or isinstance(value, str | Mapping):
        raise ValidationError.single(field, value, "is not a list of consents")
    result = []
    for i, item in enumerate(value):
        if isinstance(item, Consent):
            result.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ValidationError.single(f"{field}[{i}]", item, "is not a consent")
        where = f"{field}[{i}]"
        purpose = parse_enum(ConsentPurpose)(item.get("purpose"), f"{where}.purpose")
        granted = item.get("granted")
        if purpose is None or not isinstance(granted, bool):
            raise ValidationError.single(where, item, "needs a purpose and granted=True/False")
        result.append(
            Consent(
                purpose=purpose,
                granted=granted,
                at=parse_instant(item.get("at"), f"{where}.at"),
                source=parse_text(item.get("source"), f"{where}.source"),
            )
        )
    return tuple(result)


def _merge_primary(
    values: dict[str, Any], one: str, many: str, existing: tuple[Any, ...]
) -> tuple[tuple[str, object], tuple[str, object]] | None:
    """Pop `one` (the primary) and `many` (the rest) from `values`, keeping their field names.

    ``changed(email=...)`` replaces only the primary and keeps the other addresses.
    Returns None when neither was given.
    """
    if one not in values and many not in values:
        return None
    primary = values.pop(one, None)
    rest = values.pop(many, None)
    if rest is None:
        rest = existing[1:] if primary is not None else existing
    return (one, primary), (many, rest)


def _parse_primary_and_rest(
    collector: ProblemCollector,
    given: tuple[tuple[str, object], tuple[str, object]],
    parser: Any,
) -> tuple[Any, ...]:
    (one, primary), (many, rest) = given
    first = collector.parse(parser, primary, one) if primary is not None else ()
    others = collector.parse(parser, rest, many)
    unique: dict[object, Any] = {}
    for item in [*(first or ()), *(others or ())]:
        # Two spellings of one address (by match key) or one number are kept once.
        unique.setdefault(getattr(item, "match_key", item), item)
    return tuple(unique.values())


@attrs.frozen(kw_only=True)
class Contact(Entity):
    """A person: name, emails and phones (the first of each is the primary), company and more.

    Make one with `create`; change it with `changed`, `with_email`, `with_phone`,
    `with_tags`, `with_consent`. ``contact.email`` and ``contact.phone`` give the primaries.
    """

    KIND: ClassVar[str] = "contact"

    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[EmailAddress, ...] = ()
    phones: tuple[PhoneNumber, ...] = ()
    title: str | None = None
    company_id: uuid.UUID | None = None
    country: str | None = None
    address: Address | None = None
    time_zone: str | None = None
    owner: str | None = None
    tags: frozenset[str] = frozenset()
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    lead_source: str | None = None
    consents: tuple[Consent, ...] = ()

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "first_name": parse_text,
        "last_name": parse_text,
        "emails": _parse_emails,
        "phones": _phone_parser(None),
        "email": _parse_emails,
        "phone": _phone_parser(None),
        "title": parse_text,
        "company_id": parse_ref,
        "country": parse_country,
        "address": Address.parse,
        "time_zone": optional_time_zone,
        "owner": parse_user,
        "tags": parse_tags,
        "lifecycle_stage": lambda v, f: _parse_lifecycle(v, f) or LifecycleStage.LEAD,
        "lead_source": parse_text,
        "consents": _parse_consents,
    }

    @classmethod
    def create(
        cls,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | EmailAddress | None = None,
        emails: Iterable[str | EmailAddress] = (),
        phone: str | PhoneNumber | None = None,
        phones: Iterable[str | PhoneNumber] = (),
        region: str | None = None,
        title: str | None = None,
        company_id: uuid.UUID | str | None = None,
        country: str | None = None,
        address: Address | Mapping[str, str] | None = None,
        time_zone: str | None = None,
        owner: str | None = None,
        tags: Iterable[str] = (),
        lifecycle_stage: LifecycleStage | str = LifecycleStage.LEAD,
        lead_source: str | None = None,
        consents: Iterable[Consent | Mapping[str, Any]] = (),
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Contact:
        """Validate plain values and return a new contact (version 0).

        Args:
            first_name: Given name.
            last_name: Family name.
            email: The primary email address, as text.
            emails: Further addresses (after the primary).
            phone: The primary phone number, as text.
            phones: Further numbers.
            region: Region for numbers written without a country code; defaults to `country`.
            title: Job title.
            company_id: The id of the company the person works for.
            country: ISO 3166 alpha-2 code.
            address: Street, city, region and postal code.
            time_zone: IANA time zone name.
            owner: The app's id of the user who owns the contact.
            tags: Free labels (stored lowercased).
            lifecycle_stage: Where the person stands (lead, customer, ...).
            lead_source: Where the person came from (web, referral, event, ...).
            consents: Consents given or refused.
            custom: Custom field values.
            schema: The contact custom-field schema to validate `custom` against.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem; needs at least a name or an email.
        """
        values = {
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "emails": list(emails),
            "phone": phone,
            "phones": list(phones),
            "title": title,
            "company_id": company_id,
            "country": country,
            "address": address,
            "time_zone": time_zone,
            "owner": owner,
            "tags": tags,
            "lifecycle_stage": lifecycle_stage,
            "lead_source": lead_source,
            "consents": consents,
            "_region": region,
        }
        return cls._build(
            values,
            clock=clock,
            id=id,
            created_at=created_at,
            external_ids=external_ids,
            custom=custom,
            schema=schema,
        )

    @classmethod
    def _coerce(
        cls, values: dict[str, Any], collector: ProblemCollector, current: Self | None
    ) -> dict[str, Any]:
        values = dict(values)
        region = values.pop("_region", None)
        emails = _merge_primary(values, "email", "emails", current.emails if current else ())
        phones = _merge_primary(values, "phone", "phones", current.phones if current else ())
        out = super()._coerce(values, collector, current)
        if emails is not None:
            out["emails"] = _parse_primary_and_rest(collector, emails, _parse_emails)
        if phones is not None:
            country = out.get("country") or (current.country if current else None)
            out["phones"] = _parse_primary_and_rest(
                collector, phones, _phone_parser(region or country)
            )
        return out

    def _problems(self) -> list[Problem]:
        if not (self.first_name or self.last_name or self.emails):
            return [Problem("name", None, "is required: give a first name, last name or email")]
        return []

    @property
    def name(self) -> str:
        """The full name, or the primary email when there is no name."""
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or (str(self.email) if self.email else "")

    @property
    def email(self) -> EmailAddress | None:
        """The primary email address."""
        return self.emails[0] if self.emails else None

    @property
    def phone(self) -> PhoneNumber | None:
        """The primary phone number."""
        return self.phones[0] if self.phones else None

    def with_email(
        self, email: str | EmailAddress, *, primary: bool = True, clock: Clock | None = None
    ) -> Contact:
        """Return a copy with `email` added (as the primary unless ``primary=False``)."""
        new = EmailAddress.parse(email)
        others = [e for e in self.emails if e != new]
        emails = [new, *others] if primary else [*others, new]
        return self.changed(emails=emails, clock=clock)

    def with_phone(
        self,
        phone: str | PhoneNumber,
        *,
        primary: bool = True,
        region: str | None = None,
        clock: Clock | None = None,
    ) -> Contact:
        """Return a copy with `phone` added (as the primary unless ``primary=False``)."""
        new = PhoneNumber.parse(phone, region or self.country)
        others = [p for p in self.phones if p != new]
        phones = [new, *others] if primary else [*others, new]
        return self.changed(phones=phones, clock=clock)

    def with_tags(
        self, add: Iterable[str] = (), remove: Iterable[str] = (), *, clock: Clock | None = None
    ) -> Contact:
        """Return a copy with tags added and removed (case-insensitively)."""
        removed = {t.strip().lower() for t in remove}
        return self.changed(
            tags=(set(self.tags) | set(parse_tags(add, "tags"))) - removed, clock=clock
        )

    def with_consent(
        self,
        purpose: ConsentPurpose | str,
        granted: bool,
        *,
        source: str | None = None,
        at: dt.datetime | None = None,
        clock: Clock | None = None,
    ) -> Contact:
        """Return a copy recording that consent for `purpose` was given or withdrawn."""
        clock = resolve_clock(clock)
        consent = {
            "purpose": purpose,
            "granted": granted,
            "source": source,
            "at": at or clock.now(),
        }
        return self.changed(consents=[*self.consents, consent], clock=clock)

    def consent_for(self, purpose: ConsentPurpose | str) -> Consent | None:
        """Return the latest consent recorded for `purpose`, if any."""
        wanted = ConsentPurpose(purpose)
        matching = [c for c in self.consents if c.purpose is wanted]
        return max(matching, key=lambda c: c.at) if matching else None

    def may_contact(self, purpose: ConsentPurpose | str) -> bool:
        """Whether the latest consent for `purpose` is granted (no record means no)."""
        consent = self.consent_for(purpose)
        return consent is not None and consent.granted
