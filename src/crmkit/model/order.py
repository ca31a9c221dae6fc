"""Orders: purchases, the history RFM and "total spent" segments are built from."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Self, cast

import attrs

from crmkit.clock import Clock, resolve_clock
from crmkit.errors import CurrencyMismatchError, Problem, ValidationError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.model.entity import Entity
from crmkit.model.fields import (
    ProblemCollector,
    fold_money,
    parse_enum,
    parse_ref,
    parse_text,
)
from crmkit.values.enums import OrderStatus
from crmkit.values.money import Money, parse_amount
from crmkit.values.temporal import parse_instant

__all__ = ["Order", "OrderLine"]

_status = parse_enum(OrderStatus)


@attrs.frozen(kw_only=True)
class OrderLine:
    """One line of an order: what, how many, at what unit price.

    Attributes:
        description: What was bought.
        quantity: How many (a Decimal, so 1.5 hours can be billed).
        unit_price: The price of one.
        sku: The product code, if any.
    """

    description: str
    quantity: Decimal
    unit_price: Money
    sku: str | None = None

    @property
    def total(self) -> Money:
        """Quantity times unit price."""
        return self.unit_price * self.quantity


def _parse_line(value: object, field: str, currency: str | None) -> OrderLine:
    if isinstance(value, OrderLine):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError.single(field, value, "is not an order line")
    collector = ProblemCollector()
    data = dict(value)
    description = collector.parse(
        lambda v, f: parse_text(v, f) or _missing(f, v),
        data.get("description"),
        f"{field}.description",
    )
    quantity = collector.parse(parse_amount, data.get("quantity", 1), f"{field}.quantity")
    price = data.get("unit_price")
    if not isinstance(price, Money):
        line_currency = data.get("currency", currency)
        price = collector.parse(
            lambda v, f: Money.of(v, cast(str, line_currency), field=f),
            price,
            f"{field}.unit_price",
        )
    sku = collector.parse(parse_text, data.get("sku"), f"{field}.sku")
    collector.raise_if_any()
    assert description is not None
    assert quantity is not None
    assert price is not None
    return OrderLine(description=description, quantity=quantity, unit_price=price, sku=sku)


def _missing(field: str, value: object) -> str:
    raise ValidationError.single(field, value, "is required")


def _line_parser(currency: str | None) -> Any:
    def parse(value: object, field: str) -> tuple[OrderLine, ...]:
        if value is None:
            return ()
        if not isinstance(value, Iterable) or isinstance(value, str | Mapping):
            raise ValidationError.single(field, value, "is not a list of order lines")
        collector = ProblemCollector()
        lines = [
            collector.parse(lambda v, f: _parse_line(v, f, currency), item, f"{field}[{i}]")
            for i, item in enumerate(value)
        ]
        collector.raise_if_any()
        return tuple(line for line in lines if line is not None)

    return parse


def _parse_total(value: object, field: str) -> Money:
    if isinstance(value, Money):
        return value
    raise ValidationError.single(field, value, "is required (Money, or an amount with currency)")


@attrs.frozen(kw_only=True)
class Order(Entity):
    """A purchase by a contact and/or a company: when, how much, and optionally what.

    Attributes:
        total: What the order came to.
        placed_at: When it was placed (UTC).
        status: Pending, paid, fulfilled, cancelled or refunded.
        contact_id: The buying person.
        company_id: The buying company.
        number: The order number in the shop or ERP.
        lines: The items, if known; their total must match `total`.
    """

    KIND: ClassVar[str] = "order"

    total: Money
    placed_at: dt.datetime
    status: OrderStatus = OrderStatus.PAID
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    number: str | None = None
    lines: tuple[OrderLine, ...] = ()

    _PARSERS: ClassVar[Mapping[str, Any]] = {
        "total": _parse_total,
        "placed_at": parse_instant,
        "status": lambda v, f: _status(v, f) or OrderStatus.PAID,
        "contact_id": parse_ref,
        "company_id": parse_ref,
        "number": parse_text,
        "lines": _line_parser(None),
    }
    _REQUIRED: ClassVar[frozenset[str]] = frozenset({"total", "placed_at"})

    @classmethod
    def create(
        cls,
        *,
        total: Money | str | int | None = None,
        currency: str | None = None,
        placed_at: dt.datetime | str | None = None,
        status: OrderStatus | str = OrderStatus.PAID,
        contact_id: uuid.UUID | str | None = None,
        company_id: uuid.UUID | str | None = None,
        number: str | None = None,
        lines: Iterable[OrderLine | Mapping[str, Any]] = (),
        custom: Mapping[str, object] | None = None,
        schema: CustomFieldSchema | None = None,
        id: uuid.UUID | str | None = None,
        created_at: dt.datetime | str | None = None,
        external_ids: Mapping[str, str] | None = None,
        clock: Clock | None = None,
    ) -> Order:
        """Validate and return a new order; with lines and no total, the total is their sum.

        Args:
            total: Money, or an amount with `currency`.
            currency: The currency of `total` and of lines given as plain amounts.
            placed_at: When it was placed; now when omitted.
            status: Paid by default.
            contact_id: The buying person.
            company_id: The buying company.
            number: The order number elsewhere.
            lines: Items as `OrderLine` or mappings (description, quantity, unit_price, sku).
            custom: Custom field values.
            schema: The order custom-field schema.
            id: An explicit id, for imports.
            created_at: An explicit creation time, for imports.
            external_ids: Ids in other systems.
            clock: Where "now" comes from.

        Raises:
            ValidationError: Listing every problem; needs a contact or a company.
        """
        values = {
            "total": total,
            "_currency": currency,
            "placed_at": placed_at if placed_at is not None else resolve_clock(clock).now(),
            "status": status,
            "contact_id": contact_id,
            "company_id": company_id,
            "number": number,
            "lines": list(lines),
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
        currency = values.pop("_currency", values.pop("currency", None))
        if currency is None and isinstance(values.get("total"), Money):
            currency = values["total"].currency
        if currency is None and current is not None:
            currency = current.total.currency
        lines = values.pop("lines", None)
        values_lines: tuple[OrderLine, ...] = ()
        if lines is not None:
            parsed = collector.parse(_line_parser(currency), lines, "lines")
            values_lines = parsed if parsed is not None else ()
            if values.get("total") is None and values_lines and "total" in values:
                try:
                    values["total"] = sum(
                        (line.total for line in values_lines),
                        start=Money.zero(values_lines[0].unit_price.currency),
                    )
                except CurrencyMismatchError as error:
                    collector.add("lines", lines, str(error))
        fold_money(values, "total", currency, collector)
        out = super()._coerce(values, collector, current)
        if lines is not None:
            out["lines"] = values_lines
        return out

    def _problems(self) -> list[Problem]:
        problems = []
        if self.contact_id is None and self.company_id is None:
            problems.append(
                Problem("contact_id", None, "is missing: an order needs a contact or a company")
            )
        if self.lines:
            currencies = {line.unit_price.currency for line in self.lines}
            if currencies != {self.total.currency}:
                problems.append(
                    Problem("lines", sorted(currencies), f"are not all in {self.total.currency}")
                )
            else:
                lines_total = sum(
                    (line.total for line in self.lines), Money.zero(self.total.currency)
                )
                if lines_total.amount != self.total.amount:
                    problems.append(
                        Problem(
                            "total", str(self.total), f"does not match the lines' {lines_total}"
                        )
                    )
        return problems
