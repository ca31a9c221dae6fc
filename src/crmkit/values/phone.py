"""Phone numbers, parsed and validated by phonenumbers and kept in E.164 form."""

from __future__ import annotations

import enum

import attrs
import phonenumbers

from crmkit.errors import ValidationError

__all__ = ["PhoneNumber", "PhoneType"]


class PhoneType(enum.StrEnum):
    """What kind of line a number belongs to, as phonenumbers' metadata says."""

    FIXED_LINE = "fixed_line"
    MOBILE = "mobile"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


_TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: PhoneType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE: PhoneType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: PhoneType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE: PhoneType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE: PhoneType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST: PhoneType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP: PhoneType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: PhoneType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.PAGER: PhoneType.PAGER,
    phonenumbers.PhoneNumberType.UAN: PhoneType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL: PhoneType.VOICEMAIL,
}


@attrs.frozen
class PhoneNumber:
    """A valid phone number in E.164 form (``+4930901820``); ``str()`` gives that form.

    Make one with `parse`; the constructor trusts its argument (it is how stores load).

    Attributes:
        e164: The number in E.164 form, the key it is compared and stored by.
    """

    e164: str

    @classmethod
    def parse(cls, text: object, region: str | None = None, *, field: str = "phone") -> PhoneNumber:
        """Parse and validate a number as a person or a file wrote it.

        Args:
            text: The number, e.g. ``"+49 30 901820"`` or ``"030 901820"`` with a region.
            region: ISO 3166 alpha-2 region for numbers written without a country code.
            field: The field name to report in a `ValidationError`.

        Raises:
            ValidationError: When the text is not a valid number for its region.
        """
        if isinstance(text, PhoneNumber):
            return text
        if not isinstance(text, str):
            raise ValidationError.single(field, text, "is not text")
        region_code = region.upper() if region else None
        if region_code is not None and region_code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError.single(f"{field}.region", region, "is not a known region")
        try:
            number = phonenumbers.parse(text, region_code)
        except phonenumbers.NumberParseException as error:
            hint = (
                ""
                if region_code or text.strip().startswith("+")
                else (" (no country code: pass a region, e.g. region='DE')")
            )
            raise ValidationError.single(
                field, text, f"is not a phone number: {error._msg}{hint}"
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError.single(field, text, "is not a valid phone number")
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return cls(e164=e164)

    def _parsed(self) -> phonenumbers.PhoneNumber:
        return phonenumbers.parse(self.e164, None)

    @property
    def national(self) -> str:
        """The number as written inside its own country (``"030 901820"``)."""
        return str(
            phonenumbers.format_number(self._parsed(), phonenumbers.PhoneNumberFormat.NATIONAL)
        )

    @property
    def international(self) -> str:
        """The number as written from abroad, with spaces (``"+49 30 901820"``)."""
        return str(
            phonenumbers.format_number(self._parsed(), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        )

    @property
    def number_type(self) -> PhoneType:
        """Whether it is a mobile, a fixed line, toll-free, ..."""
        return _TYPES.get(phonenumbers.number_type(self._parsed()), PhoneType.UNKNOWN)

    @property
    def region(self) -> str | None:
        """The ISO 3166 alpha-2 region the number belongs to, if phonenumbers knows it."""
        code = phonenumbers.region_code_for_number(self._parsed())
        return str(code) if code and code != "ZZ" else None

    def __str__(self) -> str:
        return self.e164
