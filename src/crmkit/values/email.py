"""Email addresses, validated and normalised by email-validator."""

from __future__ import annotations

import attrs
import email_validator

from crmkit.errors import ValidationError

__all__ = ["EmailAddress"]


@attrs.frozen(eq=False)
class EmailAddress:
    """A syntactically valid email address: the text as given and its normalised form.

    Two addresses are equal when their normalised forms are equal. Make one with `parse`;
    the constructor trusts its arguments (it is how stores load what they wrote).

    Attributes:
        normalized: The form email-validator produces (domain lowercased, Unicode NFC).
        original: The text exactly as it was given.
    """

    normalized: str
    original: str

    @classmethod
    def parse(
        cls, text: object, *, check_deliverability: bool = False, field: str = "email"
    ) -> EmailAddress:
        """Validate and normalise an address.

        Args:
            text: The address as a person typed it (surrounding spaces are ignored).
            check_deliverability: Also look up the domain's mail servers in DNS (slow, needs
                a network); off by default.
            field: The field name to report in a `ValidationError`.

        Returns:
            The validated address.

        Raises:
            ValidationError: When `text` is not a string or not a valid address.
        """
        if isinstance(text, EmailAddress):
            return text
        if not isinstance(text, str):
            raise ValidationError.single(field, text, "is not text")
        try:
            result = email_validator.validate_email(
                text.strip(), check_deliverability=check_deliverability
            )
        except email_validator.EmailNotValidError as error:
            raise ValidationError.single(
                field, text, f"is not a valid email address: {error}"
            ) from None
        return cls(normalized=result.normalized, original=text)

    @property
    def match_key(self) -> str:
        """The casefolded address: the key for finding one person written two ways."""
        return self.normalized.casefold()

    @property
    def local_part(self) -> str:
        """The part before the ``@``."""
        return self.normalized.rpartition("@")[0]

    @property
    def domain(self) -> str:
        """The part after the ``@``, lowercased."""
        return self.normalized.rpartition("@")[2]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EmailAddress):
            return NotImplemented
        return self.normalized == other.normalized

    def __hash__(self) -> int:
        return hash(self.normalized)

    def __str__(self) -> str:
        return self.normalized
