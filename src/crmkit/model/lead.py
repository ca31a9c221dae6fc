"""Leads: prospects not yet qualified, with what has been captured about them so far."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

import attrs

from crmkit.clock import Clock
from crmkit.errors import Problem, ValidationError
from crmkit.model.company import normalize_domain
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    ProblemCollector,
    fold_money,
    optional_day,
    optional_instant,
    parse_count,
    parse_country,
    parse_enum,
    parse_ref,
    parse_tags,
    parse_text,
    parse_user,
)
from crmkit.values.email import EmailAddress
from crmkit.values.enums import LeadStatus, QualificationVerdict
from crmkit.values.money import Money
from crmkit.values.phone import PhoneNumber

__all__ = ["BantFacts", "Lead", "Qualification"]


@attrs.frozen(kw_only=True)
class BantFacts:
    """What is known of a lead's Budget, Authority, Need and Timeline (None = not known yet).

    Attributes:
        budget: What the prospect can spend.
        authority: Whether the person can decide (or sign) the purchase.
        need: The problem they want solved, in their words.
        timeline: When they intend to buy.
    """

    budget: Money | None = None
    authority: bool | None = None
    need: str | None = None
    timeline: dt.date | None = None

    @property
    def missing(self) -> tuple[str, ...]:
        """The BANT facts not captured yet."""
        return tuple(
            name
            for name in ("budget", "authority", "need", "timeline")
            if getattr(self, name) is None
        )


def _parse_bant(value: object, field: str) -> BantFacts:
    if value is None:
        return BantFacts()
    if isinstance(value, BantFacts):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError.single(field, value, "is not a mapping of BANT facts")
    collector = ProblemCollector()
    data = dict(value)
    unknown = sorted(set(data) - {"budget", "currency", "authority", "need", "timeline"})
    for key in unknown:
        collector.add(f"{field}.{key}", data[key], "is not a BANT fact")
    fold_money(data, "budget", data.pop("currency", None), collector)
    authority = data.get("authority")
    if authority is not None and not isinstance(authority, bool):
        collector.add(f"{field}.authority", authority, "is not True or False")
        authority = None
    need = collector.parse(parse_text, data.get("need"), f"{field}.need")
    timeline = collector.parse(optional_day, data.get("timeline"), f"{field}.timeline")
    problems = [
        p.within(field) if p.field in ("budget", "currency") else p for p in collector.problems
    ]
    if problems:
        raise ValidationError(problems)
    return BantFacts(budget=data.get("budget"), authority=authority, need=need, timeline=timeline)


@attrs.frozen(kw_only=True)
class Qualification:
    """The stored result of judging a lead: the verdict and why.

    Attributes:
        verdict: Qualified, nurture or disqualified.
        passed: The rules that passed.
        failed: The rules that failed, with reasons.
        missing: The information still missing to decide.
        decided_at: When it was judged.
    """

    verdict: QualificationVerdict
    passed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    decided_at: dt.datetime | None = None


def _parse_qualification(value: object, field: str) -> Qualification | None:
    if value is None or isinstance(value, Qualification):
        return value
    raise ValidationError.single(field, value, "is not a Qualification")


def _optional_email(value: object, field: str) -> EmailAddress | None:
    return None if value is None or value == "" else EmailAddress.parse(value, field=field)


@attrs.frozen(kw_only=True)
class Lead(Entity):
    """A prospect being qualified: who they are, their company, BANT facts, status, verdict."""

    KIND: ClassVar[str] = "lead"

    source: str | None = None
    status: LeadStatus = LeadStatus.NEW
    first_name: str | None = None
    last_name: str | None = None
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    title: str | None = None
    company_name: str | None = None
    company_domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    country: str | None = None
    owner: str | None = None
    tags: frozenset[str] = frozenset()
    bant: BantFacts = BantFacts()
    qualification: Qualification | None = None
    unqualified_reason: str | None = None
    converted_contact_id: uuid.UUID | None = None
    converted_company_id: uuid.UUID | None = None
    converted_deal_id: uuid.UUID | None = None
    converted_at: dt.datetime | None = None

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "source": parse_text,
        "status": lambda v, f: parse_enum(LeadStatus)(v, f) or LeadStatus.NEW,
        "first_name": parse_text,
        "last_name": parse_text,
        "email": _optional_email,
        "phone": lambda v, f: None if v in (None, "") else PhoneNumber.parse(v, field=f),
        "title": parse_text,
        "company_name": parse_text,
        "company_domain": normalize_domain,
        "industry": parse_text,
        "employees": parse_count,
        "country": parse_country,
        "owner": parse_user,
        "tags": parse_tags,
        "bant": _parse_bant,
        "qualification": _parse_qualification,
        "unqualified_reason": parse_text,
        "converted_contact_id": parse_ref,
        "converted_company_id": parse_ref,
        "converted_deal_id": parse_ref,
        "converted_at": optional_instant,
    }

    @classmethod
    def create(
        cls,
        *,
        source: str | None = None,
        status: LeadStatus | str = LeadStatus.NEW,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | EmailAddress | None = None,
        phone: str | PhoneNumber | None = None,
        title: str | None = None,
        company_name: str | None = None,
        company_domain: str | None = None,
        industry: str | None = None,
        employees: int | str | None = None,
        country: str | None = None,
        owner: str | None = None,
        tags: Iterable[str] = (),
        bant: BantFacts | Mapping[str, Any] | None = None,
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Lead:
        """Validate what was captured about a prospect and return a new lead (version 0).

        Args:
            source: Where the lead came from (web form, event, referral, ...).
            status: Where it is in qualification (new by default).
            first_name: Given name.
            last_name: Family name.
            email: Email address as text.
            phone: Phone number as text (in international form, or the lead's `country`).
            title: Job title.
            company_name: The company's name as captured.
            company_domain: The company's website, normalised like `Company.domain`.
            industry: The company's industry.
            employees: The company's head count.
            country: ISO 3166 alpha-2 code.
            owner: The app's id of the owning user.
            tags: Free labels.
            bant: Budget (with currency), authority, need and timeline, as far as known.
            custom: Custom field values.
            schema: The lead custom-field schema.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem; needs a name, an email or a company;
                ``status="converted"`` is refused (only `convert_lead` converts a lead).
        """
        if status in (LeadStatus.CONVERTED, LeadStatus.CONVERTED.value):
            raise ValidationError.single(
                "status",
                status,
                "needs a conversion: a new lead cannot start converted (use convert_lead)",
            )
        values = {
            "source": source,
            "status": status,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "phone": phone,
            "title": title,
            "company_name": company_name,
            "company_domain": company_domain,
            "industry": industry,
            "employees": employees,
            "country": country,
            "owner": owner,
            "tags": tags,
            "bant": bant,
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
        phone = values.get("phone")
        if isinstance(phone, str) and phone.strip():
            country = values.get("country") or (current.country if current else None)
            region = country.strip().upper() if isinstance(country, str) and country else None
            values["phone"] = collector.parse(
                lambda v, f: PhoneNumber.parse(v, region, field=f), phone, "phone"
            )
        return super()._coerce(values, collector, current)

    def _problems(self) -> list[Problem]:
        if not (self.first_name or self.last_name or self.email or self.company_name):
            return [Problem("name", None, "is required: give a name, an email or a company name")]
        return []

    @property
    def name(self) -> str:
        """The person's full name, or the email, or the company name."""
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or str(self.email or self.company_name or "")

    @property
    def is_converted(self) -> bool:
        """Whether the lead has been converted into a contact, company and deal."""
        return self.status is LeadStatus.CONVERTED
