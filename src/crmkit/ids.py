"""Time-ordered record ids: UUIDv7 (RFC 9562) whose millisecond comes from a `Clock`.

The 12 bits after the version hold a counter (RFC 9562, section 6.2, method 1), so ids made
within one millisecond, or under a `FixedClock` that never moves, are still unique and sort
in the order they were made. Time-ordered keys keep B-tree inserts append-only, which is why
bulk loads stay linear as a table grows.
"""

from __future__ import annotations

import random
import threading
import uuid

from crmkit.clock import Clock, resolve_clock
from crmkit.values.arguments import check_clock

__all__ = ["IdGenerator", "new_id", "uuid7_time_ms"]

_COUNTER_MAX = 0xFFF


class IdGenerator:
    """Makes UUIDv7 ids that never repeat and never go backwards, even if the clock does.

    Thread-safe. One process-wide generator backs `new_id`; make your own only to isolate
    sequences (for example in a benchmark).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0
        self._random = random.Random()

    def next(self, clock: Clock | None = None) -> uuid.UUID:
        """Return a new id stamped with the clock's current millisecond (or later).

        Raises:
            ValidationError: Naming ``clock`` when it is not None or a `Clock`.
        """
        ms = int(resolve_clock(check_clock(clock)).now().timestamp() * 1000)
        with self._lock:
            if ms > self._last_ms:
                self._last_ms = ms
                self._counter = self._random.getrandbits(10)  # leave room to count up
            else:
                self._counter += 1
                if self._counter > _COUNTER_MAX:
                    # The counter is spent: borrow the next millisecond (RFC 9562 6.2).
                    self._last_ms += 1
                    self._counter = 0
            ms, counter = self._last_ms, self._counter
            tail = self._random.getrandbits(62)
        value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | tail
        return uuid.UUID(int=value)


_generator = IdGenerator()


def new_id(clock: Clock | None = None) -> uuid.UUID:
    """Return a new UUIDv7 from the process-wide generator, timed by `clock`.

    Raises:
        ValidationError: Naming ``clock`` when it is not None or a `Clock`.
    """
    return _generator.next(clock)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """Return the Unix millisecond embedded in a UUIDv7."""
    return value.int >> 80
