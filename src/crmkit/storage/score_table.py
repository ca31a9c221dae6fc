"""The score table of a unit of work (``uow.scores``): latest scores, outside versions."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from crmkit.errors import (
    Problem,
    ValidationError,
)
from crmkit.storage.protocol import (
    StoredScore,
)
from crmkit.values.storable import storable_problems

if TYPE_CHECKING:
    from crmkit.storage.unit_of_work import BackendUnitOfWork

__all__ = ["ScoreTable"]


class ScoreTable:
    """The score table of a unit of work (``uow.scores``); see the protocol `ScoreTable`."""

    def __init__(self, uow: BackendUnitOfWork) -> None:
        self._uow = uow

    def put_many(self, scores: Iterable[StoredScore]) -> int:
        """Write scores in bulk (batches of 5,000), replacing earlier ones; return the count.

        All or nothing: a score that is not storable (a NaN or infinite value or breakdown
        number, text with NUL: `crmkit.values.storable`) is a `ValidationError` naming its
        row and field, and no score of the call stays written.
        """
        self._uow._write()
        backend = self._uow._live_backend()
        count = 0
        iterator = iter(scores)
        with self._uow.savepoint():
            while batch := list(itertools.islice(iterator, 5000)):
                problems: list[Problem] = []
                for i, score in enumerate(batch, count):
                    if not isinstance(score, StoredScore):
                        raise ValidationError.single(
                            "scores", type(score).__name__, f"row {i} is not a StoredScore"
                        )
                    if isinstance(score.value, bool) or not isinstance(score.value, int | float):
                        problems.append(Problem("value", score.value, "is not a number", i))
                    problems.extend(p.at_row(i) for p in storable_problems(score, ""))
                if problems:
                    raise ValidationError(problems)
                backend.put_scores(batch)
                count += len(batch)
        return count

    def get(self, record_id: uuid.UUID, scorer: str) -> StoredScore | None:
        """Return the latest score of a record by a scorer, if any."""
        return self._uow._live_backend().scores([record_id], scorer).get(record_id)

    def for_records(
        self, record_ids: Iterable[uuid.UUID], scorer: str
    ) -> dict[uuid.UUID, StoredScore]:
        """Return the latest scores of many records by one scorer."""
        return self._uow._live_backend().scores(list(dict.fromkeys(record_ids)), scorer)
