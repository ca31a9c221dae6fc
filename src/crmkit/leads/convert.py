"""Converting a qualified lead into a contact, a company and a deal, in one unit of work."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

import attrs

from crmkit.clock import Clock
from crmkit.errors import TransitionError
from crmkit.leads.status import move_lead
from crmkit.model.company import Company
from crmkit.model.contact import Contact
from crmkit.model.deal import Deal
from crmkit.model.lead import Lead
from crmkit.pipelines.pipeline import Pipeline
from crmkit.storage.protocol import UnitOfWork
from crmkit.values.arguments import check_clock, check_text, require_attributes, require_instance
from crmkit.values.enums import LeadStatus, LifecycleStage
from crmkit.values.money import Money

__all__ = ["Conversion", "LeadConverted", "convert_lead"]


@attrs.frozen
class LeadConverted:
    """Domain event: a lead became a contact, a company (maybe) and a deal.

    Attributes:
        lead_id: The converted lead.
        contact_id: The contact it became or was linked to.
        company_id: The company it became or was linked to, if any.
        deal_id: The new deal.
        at: When.
        by: Who converted it (the unit of work's actor when None).
        contact_created: False when an existing contact was matched by email.
        company_created: False when an existing company was matched by web domain.
    """

    event_type: ClassVar[str] = "lead.converted"

    lead_id: uuid.UUID
    contact_id: uuid.UUID
    company_id: uuid.UUID | None
    deal_id: uuid.UUID
    at: dt.datetime
    by: str | None
    contact_created: bool
    company_created: bool

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data."""
        return {
            "lead_id": str(self.lead_id),
            "contact_id": str(self.contact_id),
            "company_id": None if self.company_id is None else str(self.company_id),
            "deal_id": str(self.deal_id),
            "at": self.at.isoformat(),
            "by": self.by,
            "contact_created": self.contact_created,
            "company_created": self.company_created,
        }


@attrs.frozen
class Conversion:
    """What a conversion stored: the converted lead, the contact, company and deal, the event."""

    lead: Lead
    contact: Contact
    company: Company | None
    deal: Deal
    event: LeadConverted


def convert_lead(
    uow: UnitOfWork,
    lead: Lead,
    pipeline: Pipeline,
    *,
    deal_name: str | None = None,
    stage: str | None = None,
    amount: Money | str | None = None,
    currency: str | None = None,
    owner: str | None = None,
    by: str | None = None,
    clock: Clock | None = None,
) -> Conversion:
    """Convert a qualified lead: link or create its contact and company, open a deal.

    The contact is the existing live one with the lead's email (by match key), or a new one
    from the lead's person data; the company is the existing live one with the lead's web
    domain, or a new one from its company data (none when the lead names no company). The
    deal opens in the pipeline's first stage (or `stage`), for the lead's budget unless an
    `amount` is given, with the contact and company attached. The lead is marked converted
    with the ids it became, and a `LeadConverted` event is recorded. Everything happens in
    `uow` inside a savepoint: if anything fails, nothing of the conversion remains.

    Args:
        uow: The unit of work to do it in (its actor is the default `by`).
        lead: The lead, as last read (its version is checked).
        pipeline: The pipeline the deal opens in.
        deal_name: The deal's name; by default the company's name, else the person's.
        stage: An open stage of the pipeline to start in; its first stage by default.
        amount: The deal's amount (Money, or text with `currency`); the BANT budget if None.
        currency: The currency of a text `amount`.
        owner: The owner of what is created; the lead's owner by default.
        by: Who converts; the unit of work's actor by default.
        clock: Where "now" comes from; the store's clock by default.

    Returns:
        The stored lead, contact, company and deal, and the event.

    Raises:
        TransitionError: When the lead is already converted or is not qualified.
        ConcurrencyError: When the lead changed since it was read.
        ValidationError: Naming the argument when `uow` is not a unit of work, `lead` not a
            Lead, `pipeline` not a Pipeline, `clock` not a Clock, or a text argument not
            text; and when the lead lacks what a contact or deal needs, or `stage` or
            `amount` are not valid.
    """
    _check(
        uow,
        lead,
        pipeline,
        clock,
        deal_name=deal_name,
        stage=stage,
        currency=currency,
        owner=owner,
        by=by,
    )
    clock = clock or uow.clock
    by = by if by is not None else uow.actor
    stored = uow.leads.get(lead.id)
    if stored.status is LeadStatus.CONVERTED or lead.status is LeadStatus.CONVERTED:
        raise TransitionError(f"lead {lead.id} is already converted")
    if lead.status is not LeadStatus.QUALIFIED:
        raise TransitionError(
            f"only a qualified lead can be converted: lead {lead.id} is {lead.status.value}",
            unmet=["status qualified (qualify the lead first)"],
        )
    owner = owner if owner is not None else lead.owner
    with uow.savepoint():
        company, company_created = _company(uow, lead, owner, clock)
        contact, contact_created = _contact(uow, lead, company, owner, clock)
        deal_amount: Money | str | None = amount if amount is not None else lead.bant.budget
        name = deal_name or (company.name if company is not None else contact.name)
        deal = pipeline.open_deal(
            name=name,
            stage=stage,
            by=by,
            clock=clock,
            amount=deal_amount,
            currency=currency if amount is not None and not isinstance(amount, Money) else None,
            expected_close=lead.bant.timeline,
            owner=owner,
            contact_ids=[contact.id],
            company_id=None if company is None else company.id,
            lead_id=lead.id,
            source=lead.source,
        )
        deal = uow.deals.add(deal)
        now = clock.now()
        converted = move_lead(lead, LeadStatus.CONVERTED, clock=clock).changed(
            converted_contact_id=contact.id,
            converted_company_id=None if company is None else company.id,
            converted_deal_id=deal.id,
            converted_at=now,
            clock=clock,
        )
        converted = uow.leads.update(converted)
        event = LeadConverted(
            lead_id=lead.id,
            contact_id=contact.id,
            company_id=None if company is None else company.id,
            deal_id=deal.id,
            at=now,
            by=by,
            contact_created=contact_created,
            company_created=company_created,
        )
        uow.record(event)
    return Conversion(lead=converted, contact=contact, company=company, deal=deal, event=event)


_UNIT_OF_WORK = "a UnitOfWork (store.unit_of_work() opens one)"


def _check(uow: object, lead: object, pipeline: object, clock: object, **texts: object) -> None:
    """Check what `convert_lead` is given before the unit of work is touched.

    `texts` are the optional text arguments, by name: each None or text.
    """
    require_attributes(
        uow,
        "uow",
        ("leads", "contacts", "companies", "deals", "savepoint", "record", "actor", "clock"),
        _UNIT_OF_WORK,
    )
    require_instance(lead, Lead, "lead")
    require_instance(pipeline, Pipeline, "pipeline")
    check_clock(clock)
    for name, value in texts.items():
        if value is not None:
            check_text(value, name)


def _company(
    uow: UnitOfWork, lead: Lead, owner: str | None, clock: Clock
) -> tuple[Company | None, bool]:
    if lead.company_domain is not None:
        found = uow.companies.find_by_domain(lead.company_domain)
        if found:
            return found[0], False
    if lead.company_name is None:
        return None, False
    company = Company.create(
        name=lead.company_name,
        domain=lead.company_domain,
        industry=lead.industry,
        employees=lead.employees,
        country=lead.country,
        owner=owner,
        clock=clock,
    )
    return uow.companies.add(company), True


def _contact(
    uow: UnitOfWork, lead: Lead, company: Company | None, owner: str | None, clock: Clock
) -> tuple[Contact, bool]:
    if lead.email is not None:
        found = uow.contacts.find_by_email(lead.email.normalized)
        if found:
            contact = found[0]
            if contact.company_id is None and company is not None:
                contact = uow.contacts.update(contact.changed(company_id=company.id, clock=clock))
            return contact, False
    contact = Contact.create(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone=lead.phone,
        title=lead.title,
        country=lead.country,
        company_id=None if company is None else company.id,
        owner=owner,
        tags=lead.tags,
        lifecycle_stage=LifecycleStage.OPPORTUNITY,
        lead_source=lead.source,
        clock=clock,
    )
    return uow.contacts.add(contact), True
