"""Companies (accounts): the organisations contacts work for and deals are won with."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

import attrs
import email_validator

from crmkit.clock import Clock
from crmkit.errors import Problem, ValidationError
from crmkit.model.contact import Address
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    ProblemCollector,
    fold_money,
    parse_count,
    parse_country,
    parse_ref,
    parse_tags,
    parse_text,
    parse_user,
    required_text,
)
from crmkit.values.money import Money

__all__ = ["Company", "normalize_domain"]


def normalize_domain(value: object, field: str = "domain") -> str | None:
    """Reduce a web address to its bare domain: lowercase, IDNA (ASCII), no scheme or ``www.``.

    ``"https://www.Acme.de/about"`` → ``"acme.de"``; ``"Müller.de"`` → ``"xn--mller-kva.de"``.
    The domain's syntax is checked by email-validator, the same rules as an email's domain.

    Raises:
        ValidationError: When what remains is not a valid domain name.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError.single(field, value, "is not a web domain")
    text = value.strip().lower()
    if not text:
        return None
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1]  # user@host in a URL
    text = text.split(":", 1)[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        checked = email_validator.validate_email(
            f"x@{text}", check_deliverability=False, allow_smtputf8=True
        )
    except email_validator.EmailNotValidError as error:
        raise ValidationError.single(field, value, f"is not a valid web domain: {error}") from None
    return str(checked.ascii_domain)


def _parse_revenue(value: object, field: str) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    raise ValidationError.single(field, value, "is not Money (give annual_revenue with currency)")


@attrs.frozen(kw_only=True)
class Company(Entity):
    """An organisation, identified on the web by its normalised `domain`."""

    KIND: ClassVar[str] = "company"

    name: str
    domain: str | None = None
    industry: str | None = None
    employees: int | None = None
    annual_revenue: Money | None = None
    country: str | None = None
    address: Address | None = None
    phone: str | None = None
    parent_id: uuid.UUID | None = None
    owner: str | None = None
    tags: frozenset[str] = frozenset()

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "name": required_text,
        "domain": normalize_domain,
        "industry": parse_text,
        "employees": parse_count,
        "annual_revenue": _parse_revenue,
        "country": parse_country,
        "address": Address.parse,
        "phone": parse_text,
        "parent_id": parse_ref,
        "owner": parse_user,
        "tags": parse_tags,
    }
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"name"})

    @classmethod
    def create(
        cls,
        *,
        name: str,
        domain: str | None = None,
        industry: str | None = None,
        employees: int | str | None = None,
        annual_revenue: Money | str | int | None = None,
        currency: str | None = None,
        country: str | None = None,
        address: Address | Mapping[str, str] | None = None,
        phone: str | None = None,
        parent_id: uuid.UUID | str | None = None,
        owner: str | None = None,
        tags: Iterable[str] = (),
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Company:
        """Validate plain values and return a new company (version 0).

        Args:
            name: The company's name (required).
            domain: Its website or domain in any form; normalised to ``"acme.de"``.
            industry: Free text industry.
            employees: Head count.
            annual_revenue: Money, or an amount with `currency`.
            currency: The currency of `annual_revenue` when it is given as an amount.
            country: ISO 3166 alpha-2 code.
            address: Street, city, region and postal code.
            phone: The switchboard number as text.
            parent_id: The id of the parent company.
            owner: The app's id of the owning user.
            tags: Free labels.
            custom: Custom field values.
            schema: The company custom-field schema.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem.
        """
        values = {
            "name": name,
            "domain": domain,
            "industry": industry,
            "employees": employees,
            "annual_revenue": annual_revenue,
            "_currency": currency,
            "country": country,
            "address": address,
            "phone": phone,
            "parent_id": parent_id,
            "owner": owner,
            "tags": tags,
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
        fold_money(values, "annual_revenue", values.pop("_currency", None), collector)
        return super()._coerce(values, collector, current)

    def _problems(self) -> list[Problem]:
        if self.parent_id is not None and self.parent_id == self.id:
            return [Problem("parent_id", self.parent_id, "is the company itself")]
        return []
