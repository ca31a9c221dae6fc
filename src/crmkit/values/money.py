"""Money: an exact `Decimal` amount in one ISO 4217 currency, never a float."""

from __future__ import annotations

import decimal
from decimal import Decimal

import attrs

from crmkit.errors import CurrencyMismatchError, Problem, ValidationError
from crmkit.values.currencies import MINOR_UNITS

__all__ = ["Money", "parse_amount", "parse_currency"]


def parse_currency(value: object, field: str = "currency") -> str:
    """Return an ISO 4217 code in upper case, or raise `ValidationError` naming `field`."""
    if not isinstance(value, str):
        raise ValidationError.single(field, value, "is not an ISO 4217 currency code")
    code = value.strip().upper()
    if code not in MINOR_UNITS:
        raise ValidationError.single(
            field, value, "is not an ISO 4217 currency code (e.g. 'EUR', 'USD')"
        )
    return code


def parse_amount(value: object, field: str = "amount") -> Decimal:
    """Return a finite `Decimal` from text, an int or a Decimal; floats are refused.

    The digits are kept as written (``"10.00"`` stays ``10.00``) but in plain notation, as
    every store keeps them: ``"1E+3"`` is ``1000`` and ``"-0.00"`` is ``0.00``.

    A float cannot hold most decimal amounts exactly (0.1 + 0.2 != 0.3), so crmkit asks for
    the text instead of guessing what was meant.
    """
    if isinstance(value, bool):
        raise ValidationError.single(field, value, "is a bool, not an amount")
    if isinstance(value, float):
        raise ValidationError.single(
            field, value, "is a float: give the amount as text or Decimal to keep it exact"
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace("_", ""))
        except decimal.InvalidOperation:
            raise ValidationError.single(field, value, "is not a decimal number") from None
    else:
        raise ValidationError.single(field, value, "is not an amount (text, int or Decimal)")
    if not amount.is_finite():
        raise ValidationError.single(field, value, "is not a finite number")
    if amount.as_tuple().exponent > 0 and amount.adjusted() < _PLAIN_DIGITS:  # type: ignore[operator]
        amount = amount.quantize(_ONE)  # 1E+3 -> 1000, as PostgreSQL's NUMERIC keeps it
    if amount.is_zero() and amount.is_signed():
        amount = amount.copy_abs()  # -0.00 -> 0.00: NUMERIC has no negative zero
    return amount


_ONE = Decimal(1)
_PLAIN_DIGITS = 28  # what the default context can quantize; larger amounts are not storable


def _check_amount(_instance: object, _attribute: object, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError.single("amount", value, "must be a finite Decimal")


def _check_currency(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or value not in MINOR_UNITS:
        raise ValidationError.single("currency", value, "is not an ISO 4217 currency code")


@attrs.frozen(order=False)
class Money:
    """An amount of one currency. Arithmetic and ordering only work within one currency.

    ``Money.of("12000", "EUR") + Money.of("500", "EUR")`` is ``Money.of("12500", "EUR")``;
    adding dollars to euros raises `CurrencyMismatchError` (exchange rates come later).
    Equal amounts are equal whatever their scale: ``10`` EUR equals ``10.00`` EUR.

    Attributes:
        amount: The exact amount.
        currency: The ISO 4217 code, upper case.
    """

    amount: Decimal = attrs.field(validator=_check_amount)
    currency: str = attrs.field(validator=_check_currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str, *, field: str = "amount") -> Money:
        """Make money from plain values, validating both.

        Args:
            amount: Text, an int or a Decimal; a float is refused.
            currency: An ISO 4217 code, any case.
            field: The field name to report in a `ValidationError`.

        Raises:
            ValidationError: Listing both problems when both are wrong.
        """
        problems: list[Problem] = []
        try:
            value = parse_amount(amount, field)
        except ValidationError as error:
            problems.extend(error.problems)
        try:
            code = parse_currency(
                currency, f"{field}.currency" if field != "amount" else "currency"
            )
        except ValidationError as error:
            problems.extend(error.problems)
        if problems:
            raise ValidationError(problems)
        return cls(value, code)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return nothing of a currency: the start of a sum."""
        return cls.of(0, currency)

    @property
    def minor_unit(self) -> int:
        """Digits after the decimal point of this currency's minor unit (EUR → 2, JPY → 0)."""
        return MINOR_UNITS[self.currency]

    def rounded(self, rounding: str = decimal.ROUND_HALF_EVEN) -> Money:
        """Return the amount rounded to the currency's minor unit (banker's rounding default)."""
        exponent = Decimal(1).scaleb(-self.minor_unit)
        return Money(self.amount.quantize(exponent, rounding=rounding), self.currency)

    def _same(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {self.currency} and {other.currency}: convert first"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other, "add").amount, self.currency)

    def __radd__(self, other: object) -> Money:
        if other == 0:  # lets sum() start from its default 0
            return self
        return self._same(other, "add") + self

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other, "subtract").amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int | Decimal):
            raise TypeError("Money can only be multiplied by an int or a Decimal")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: int | Decimal) -> Money:
        if isinstance(divisor, bool) or not isinstance(divisor, int | Decimal):
            raise TypeError("Money can only be divided by an int or a Decimal")
        return Money(self.amount / divisor, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
