"""The text form of conditions: a tokenizer and a recursive-descent parser.

``parse('country in ("DE", "FR") and score.engagement >= 50')`` returns the same tree as
``F("country").is_in(["DE", "FR"]) & (F("score.engagement") >= 50)``, and ``str(tree)``
prints text that parses back to an equal tree. The grammar (EBNF) is in docs/segments.md;
keywords are case-insensitive, field names are not.

Errors raise `SegmentError` with the 0-based `position` of the offending token; the
message names the line and column, shows the text with a caret, and suggests the closest
word when a keyword or operator was misspelt.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

import attrs

from crmkit.conditions.binding import bind
from crmkit.conditions.constants import Constant, check_moment, check_number, check_text
from crmkit.conditions.dates import (
    MAX_AMOUNTS,
    UNITS,
    After,
    Before,
    InPeriod,
    MoreThanAgo,
    RelativeMoment,
    WithinLast,
    WithinNext,
)
from crmkit.conditions.limits import (
    MAX_INTEGER,
    MAX_NESTING,
    MAX_RELATED_NESTING,
    nesting,
)
from crmkit.conditions.outcomes import OUTCOMES, DealOutcome, PipelineStages
from crmkit.conditions.related import COUNTED_RELATIONS, Related, RelatedCount
from crmkit.conditions.tree import (
    And,
    Between,
    Compare,
    Condition,
    Contains,
    EqualsIgnoringCase,
    HasTag,
    In,
    IsEmpty,
    Not,
    Or,
    StartsWith,
)
from crmkit.errors import SegmentError, ValidationError
from crmkit.model.custom_fields import CustomFieldSchema
from crmkit.values.currencies import MINOR_UNITS
from crmkit.values.money import Money

__all__ = ["Token", "parse", "tokenize"]


@attrs.frozen
class Token:
    """One token of segment text.

    Attributes:
        type: ``string``, ``number``, ``date``, ``name``, ``op``, ``punct`` or ``end``.
        text: The token as written.
        position: Its 0-based offset in the text.
    """

    type: str
    text: str
    position: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\x00-\x1f]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}
        (?:[T\ ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2}))?)
  | (?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>==|!=|<>|<=|>=|=|<|>)
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)

_COMPARE = {
    "=": "==",
    "==": "==",
    "!=": "!=",
    "<>": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_FIELD_WORDS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "between",
    "contains",
    "starts with",
    "equals ignoring case",
    "is empty",
    "is not empty",
    "has tag",
    "within",
    "more than",
    "before",
    "after",
    "this",
    "last",
    "matches",
)
_START_WORDS = (
    "not",
    "has tag",
    "at least",
    "at most",
    "exactly",
    "no",
    "count",
    "is open",
    "is won",
    "is lost",
)
_CURRENCY_SHAPE = re.compile("[A-Z]{3}")
_KEYWORDS = frozenset({"and", "or", "not"})


def tokenize(text: str) -> list[Token]:
    """Split segment text into tokens, ending with an ``end`` token.

    Raises:
        SegmentError: At the first character that starts no token.
    """
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _error(text, position, f"unexpected character {text[position]!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _error(text: str, position: int, message: str) -> SegmentError:
    line = text.count("\n", 0, position) + 1
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    end = len(text) if end < 0 else end
    column = position - start + 1
    excerpt = text[start:end]
    caret = " " * (position - start) + "^"
    return SegmentError(
        f"{message} at line {line}, column {column}:\n  {excerpt}\n  {caret}", position
    )


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse(
    text: str,
    *,
    kind: str | None = None,
    schemas: Callable[[str], CustomFieldSchema | None] | None = None,
    pipelines: Mapping[str, PipelineStages] | None = None,
) -> Condition:
    """Parse segment text into a condition tree.

    Args:
        text: The segment, e.g. ``'country = "DE" and last_activity_at within 30 days'``.
        kind: When given (``"contact"``), also check every field against that kind of record
            and its custom fields, so an unknown name is reported at its position.
        schemas: The stored custom-field schema of a kind, for that check.
        pipelines: The store's pipelines by key, for that check of ``is open``,
            ``is won`` and ``is lost`` (which need them).

    Returns:
        The condition; ``parse(str(c)) == c``.

    Raises:
        SegmentError: With the position of the problem and a suggestion when one is close.
    """
    if not isinstance(text, str):
        raise SegmentError(f"a segment is text, not {type(text).__name__}")
    parser = _Parser(text, tokenize(text))
    condition = parser.segment()
    if kind is not None:
        try:
            bind(condition, kind, schemas=schemas, pipelines=pipelines)
        except SegmentError as error:
            field = getattr(error, "field", None)
            position = parser.fields.get(field) if isinstance(field, str) else None
            if position is None:
                raise
            raise _error(text, position, str(error)) from None
    return condition


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.fields: dict[str, int] = {}
        self.depth = 0

    # -- nesting ---------------------------------------------------------------------------

    def open_level(self, token: Token) -> None:
        """Enter one level of nesting (``(``, ``not``, ``matches (``, ``where``, ``count(``)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _error(
                self.text,
                token.position,
                f"nesting deeper than {MAX_NESTING} levels (each '(', 'not', 'matches (',"
                " 'where' and 'count(' opens one)",
            )

    def close_level(self) -> None:
        self.depth -= 1

    def checked(self, condition: Condition, token: Token) -> Condition:
        """Refuse a node nesting deeper than the limits, at the token that starts it."""
        depth, related = nesting(condition)
        if depth > MAX_NESTING:
            raise _error(
                self.text,
                token.position,
                f"nesting deeper than {MAX_NESTING} levels of and, or, not and related records",
            )
        if related > MAX_RELATED_NESTING:
            raise _error(
                self.text,
                token.position,
                f"related records nested deeper than {MAX_RELATED_NESTING} levels",
            )
        return condition

    # -- token helpers ---------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.current
        if token.type != "end":
            self.index += 1
        return token

    def is_word(self, word: str, token: Token | None = None) -> bool:
        token = token or self.current
        return token.type == "name" and token.text.lower() == word

    def accept(self, word: str) -> bool:
        if self.is_word(word):
            self.advance()
            return True
        return False

    def expect_word(self, word: str, after: str) -> None:
        if not self.accept(word):
            self.fail(f"expected {word!r} {after}")

    def expect_punct(self, char: str, after: str) -> Token:
        if self.current.type == "punct" and self.current.text == char:
            return self.advance()
        self.fail(f"expected {char!r} {after}")
        raise AssertionError  # pragma: no cover - fail raises

    def fail(self, message: str, token: Token | None = None, words: tuple[str, ...] = ()) -> None:
        token = token or self.current
        found = "the end of the text" if token.type == "end" else repr(token.text)
        hint = _suggest(token.text, words) if words and token.type == "name" else ""
        raise _error(self.text, token.position, f"{message}, found {found}{hint}")

    # -- grammar ---------------------------------------------------------------------------

    def segment(self) -> Condition:
        if self.current.type == "end":
            self.fail("expected a condition")
        condition = self.or_expr()
        if self.current.type != "end":
            self.fail("expected 'and', 'or' or the end", words=("and", "or"))
        return condition

    def or_expr(self) -> Condition:
        start = self.current
        items = [self.and_expr()]
        while self.accept("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else self.checked(Or(items), start)

    def and_expr(self) -> Condition:
        start = self.current
        items = [self.not_expr()]
        while self.accept("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else self.checked(And(items), start)

    def not_expr(self) -> Condition:
        token = self.current
        if self.accept("not"):
            self.open_level(token)
            inner = self.not_expr()
            self.close_level()
            return self.checked(Not(inner), token)
        return self.primary()

    def primary(self) -> Condition:
        token = self.current
        if token.type == "punct" and token.text == "(":
            self.advance()
            self.open_level(token)
            inner = self.or_expr()
            self.expect_punct(")", "to close the '(' opened before")
            self.close_level()
            return inner
        if token.type != "name":
            self.fail("expected a field name or a condition", words=_START_WORDS)
        if self.is_word("has") and self.is_word("tag", self.peek()):
            self.advance()
            self.advance()
            return HasTag("tags", self.string("after 'has tag'"))
        if self.is_word("at") and (
            self.is_word("least", self.peek()) or self.is_word("most", self.peek())
        ):
            self.advance()
            op = ">=" if self.advance().text.lower() == "least" else "<="
            return self.counted(op, self.integer("after 'at least' / 'at most'"), token)
        if self.is_word("exactly") and self.peek().type == "number":
            self.advance()
            return self.counted("==", self.integer("after 'exactly'"), token)
        if (
            self.is_word("no")
            and self.peek().type == "name"
            and self.peek().text in COUNTED_RELATIONS
        ):
            self.advance()
            return self.counted("==", 0, token)
        if self.is_word("count") and self.peek().type == "punct" and self.peek().text == "(":
            return self.count_form()
        if (
            self.is_word("is")
            and self.peek().type == "name"
            and self.peek().text.lower() in OUTCOMES
        ):
            self.advance()
            outcome = DealOutcome(self.advance().text.lower())
            self.fields.setdefault(str(outcome), token.position)
            return outcome
        return self.field_condition()

    def relation(self) -> str:
        token = self.current
        if token.type != "name" or token.text not in COUNTED_RELATIONS:
            self.fail(
                "expected related records (activities, orders, deals, contacts, tasks)",
                words=tuple(COUNTED_RELATIONS),
            )
        self.advance()
        return token.text

    def counted(self, op: str, value: int, start: Token) -> Condition:
        relation = self.relation()
        where_token = self.current
        where = None
        if self.accept("where"):
            self.open_level(where_token)
            where = self.primary()
            self.close_level()
        return self.checked(RelatedCount(relation, where, op, value), start)

    def count_form(self) -> Condition:
        start = self.advance()
        self.expect_punct("(", "after 'count'")
        self.open_level(start)
        relation = self.relation()
        where = self.or_expr() if self.accept("where") else None
        self.expect_punct(")", "to close 'count('")
        self.close_level()
        op_token = self.current
        if op_token.type != "op":
            self.fail("expected a comparison (=, !=, <, <=, >, >=) after 'count(...)'")
        self.advance()
        return self.checked(
            RelatedCount(
                relation, where, _COMPARE[op_token.text], self.integer("after the comparison")
            ),
            start,
        )

    def field_condition(self) -> Condition:
        token = self.advance()
        field = token.text
        self.fields.setdefault(field, token.position)
        try:
            return self.field_operator(field, token)
        except SegmentError as error:
            if error.position is not None:
                raise
            raise _error(self.text, token.position, str(error)) from None

    def field_operator(self, field: str, token: Token) -> Condition:
        current = self.current
        if current.type == "op":
            self.advance()
            return Compare(field, _COMPARE[current.text], self.value())
        if current.type != "name":
            self.fail(f"expected an operator after {field!r}", words=_FIELD_WORDS)
        word = current.text.lower()
        if word == "between":
            self.advance()
            low = self.value()
            self.expect_word("and", "between the two bounds of 'between'")
            return Between(field, low, self.value())
        if word == "in":
            self.advance()
            return In(field, self.values())
        if word == "not" and self.is_word("in", self.peek()):
            self.advance()
            self.advance()
            return In(field, self.values(), negated=True)
        if word == "contains":
            self.advance()
            return Contains(field, self.value())
        if word == "starts":
            self.advance()
            self.expect_word("with", "after 'starts'")
            return StartsWith(field, self.string("after 'starts with'"))
        if word == "equals":
            if not self.is_word("ignoring", self.peek()):
                self.fail(
                    f"expected an operator after {field!r} (= for equality,"
                    " 'equals ignoring case' to ignore the case of A-Z)"
                )
            self.advance()
            self.advance()
            self.expect_word("case", "after 'equals ignoring'")
            return EqualsIgnoringCase(field, self.string("after 'equals ignoring case'"))
        if word == "is":
            self.advance()
            negated = self.accept("not")
            self.expect_word("empty", "after 'is'" if not negated else "after 'is not'")
            return IsEmpty(field, negated)
        if word == "has":
            self.advance()
            self.expect_word("tag", "after 'has'")
            return HasTag(field, self.string("after 'has tag'"))
        if word == "within":
            self.advance()
            ahead = False
            if self.accept("the"):
                if self.accept("next"):
                    ahead = True
                else:
                    self.expect_word("last", "after 'within the' ('last' or 'next')")
            elif self.accept("next"):
                ahead = True
            amount_token = self.current
            if ahead:
                amount = self.integer("after 'within the next'")
                unit = self.unit()
                self.check_amount(amount, unit, amount_token)
                return WithinNext(field, amount, unit)
            amount = self.integer("after 'within'")
            unit = self.unit()
            self.check_amount(amount, unit, amount_token)
            return WithinLast(field, amount, unit)
        if word == "more":
            self.advance()
            self.expect_word("than", "after 'more'")
            amount_token = self.current
            amount = self.integer("after 'more than'")
            unit = self.unit()
            self.check_amount(amount, unit, amount_token)
            self.expect_word("ago", f"after 'more than {amount} {unit}s'")
            return MoreThanAgo(field, amount, unit)
        if word in ("before", "after"):
            self.advance()
            if self.is_word("today") or self.is_word("now"):
                return RelativeMoment(field, word, self.advance().text.lower())
            moment = self.value()
            if not isinstance(moment, dt.date):
                self.fail(
                    f"expected a date or datetime after {word!r}", self.tokens[self.index - 1]
                )
            return Before(field, moment) if word == "before" else After(field, moment)
        if word in ("this", "last"):
            self.advance()
            return InPeriod(field, word, self.unit())
        if word == "matches":
            self.advance()
            self.open_level(self.expect_punct("(", "after 'matches'"))
            inner = self.or_expr()
            self.expect_punct(")", "to close 'matches ('")
            self.close_level()
            if "." in field:
                self.fail("'matches' follows a relation name such as 'company'", token)
            return self.checked(Related(field, inner), token)
        self.fail(f"expected an operator after {field!r}", words=_FIELD_WORDS)
        raise AssertionError  # pragma: no cover - fail raises

    def check_amount(self, amount: int, unit: str, token: Token) -> None:
        """Refuse a relative date reaching further back than `MAX_AMOUNTS` allows."""
        if amount > MAX_AMOUNTS[unit]:
            raise _error(
                self.text,
                token.position,
                f"a relative date reaches back at most {MAX_AMOUNTS[unit]} {unit}s",
            )

    def unit(self) -> str:
        token = self.current
        word = token.text.lower().removesuffix("s") if token.type == "name" else ""
        if word not in UNITS:
            self.fail(
                "expected days, weeks, months, quarters or years",
                words=tuple(f"{u}s" for u in UNITS),
            )
        self.advance()
        return word

    def integer(self, after: str) -> int:
        token = self.current
        if token.type != "number" or not token.text.isdigit():
            self.fail(f"expected a whole number {after}")
        self.advance()
        value = int(token.text)
        if value > MAX_INTEGER:
            raise _error(
                self.text,
                token.position,
                f"{token.text} is beyond the largest whole number conditions hold ({MAX_INTEGER})",
            )
        return value

    def string(self, after: str) -> str:
        token = self.current
        if token.type != "string":
            self.fail(f"expected quoted text {after}")
        self.advance()
        return self.text_of(token)

    def text_of(self, token: Token) -> str:
        """The text a string token holds; a bad escape or a lone surrogate at its position."""
        try:
            value = _string(token.text)
        except json.JSONDecodeError as error:
            at = self.text.rfind("\\", token.position, token.position + error.pos + 1)
            reason = (
                "invalid \\u escape: give four hex digits (\\u00e9)"
                if "uXXXX" in error.msg
                else 'invalid escape: use \\\\, \\", \\/, \\b, \\f, \\n, \\r, \\t'
                " or \\u and four hex digits"
            )
            raise _error(self.text, at if at >= 0 else token.position, reason) from None
        try:
            check_text(value)
        except SegmentError as error:
            raise _error(self.text, token.position, str(error)) from None
        return value

    def values(self) -> list[Constant]:
        opening = self.current
        if opening.type != "punct" or opening.text not in "([":
            self.fail("expected a list of values in ( ) or [ ]")
        self.advance()
        closing = ")" if opening.text == "(" else "]"
        items = [self.value()]
        while self.current.type == "punct" and self.current.text == ",":
            self.advance()
            items.append(self.value())
        self.expect_punct(closing, "to close the list")
        return items

    def value(self) -> Constant:
        token = self.current
        if token.type == "string":
            self.advance()
            return self.text_of(token)
        if token.type == "number":
            self.advance()
            number = _number(token.text)
            try:
                check_number(number)
            except SegmentError as error:
                raise _error(self.text, token.position, str(error)) from None
            following = self.current
            if following.type == "name" and following.text in MINOR_UNITS:
                self.advance()
                try:
                    return Money.of(Decimal(token.text), following.text)
                except (ValidationError, InvalidOperation):
                    self.fail("expected an amount of money", token)
            if (
                following.type == "name"
                and _CURRENCY_SHAPE.fullmatch(following.text)
                and following.text.lower() not in _KEYWORDS
            ):
                raise _error(
                    self.text,
                    following.position,
                    f"unknown currency {following.text!r}: give an ISO 4217 code such as EUR",
                )
            return number
        if token.type == "date":
            self.advance()
            try:
                return check_moment(_moment(token.text))
            except ValueError as error:  # SegmentError is a ValueError too
                reason = (
                    error.args[0]
                    if isinstance(error, SegmentError)
                    else f"{token.text} is not a valid date: {error}"
                )
                raise _error(self.text, token.position, reason) from None
        if self.is_word("true") or self.is_word("false"):
            self.advance()
            return token.text.lower() == "true"
        if self.is_word("uuid") and self.peek().type == "punct" and self.peek().text == "(":
            self.advance()
            self.advance()
            text = self.string("in uuid(...)")
            self.expect_punct(")", "to close uuid(")
            try:
                return uuid.UUID(text)
            except ValueError:
                self.fail("expected a valid uuid", self.tokens[self.index - 2])
        self.fail(
            'expected a value ("text", a number, an amount, a date, true or false)',
            words=("true", "false"),
        )
        raise AssertionError  # pragma: no cover - fail raises


def _string(text: str) -> str:
    if text.startswith('"'):
        value = json.loads(text)
        assert isinstance(value, str)
        return value
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _number(text: str) -> int | Decimal:
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return Decimal(text)


def _moment(text: str) -> dt.date:
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    return dt.datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
