"""Task lists agree everywhere: memory, SQLite and PostgreSQL, and a brute-force reference.

Hypothesis builds random tasks (due times, reminders, deliveries, statuses, assignees; some
archived) and random windows; `reminders_due`, `overdue`, `open_tasks` and `due_today` must
return the same tasks in the same order on every adapter, equal to what a loop over the
tasks computes from `Task.next_reminder_at` and the due times. PostgreSQL joins when
CRMKIT_TEST_POSTGRES_DSN is set (a fresh ``?schema=`` per example, dropped afterwards).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit import FixedClock, Task
from crmkit.work import due_today, open_tasks, overdue, reminders_due

from .adapters import HAS_POSTGRES_ADAPTER, drop_schemas, with_schema

NOW = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)
QUARTER = dt.timedelta(minutes=15)
OPEN = ("open", "in_progress", "waiting")
POSTGRES_DSN = os.environ.get("CRMKIT_TEST_POSTGRES_DSN")

# On a quarter-hour grid over a day and a half, so windows often start or end exactly on a
# reminder or a due time (both sides of every boundary), and cross midnight.
minutes = st.integers(-72, 72).map(lambda q: NOW + q * QUARTER)


@st.composite
def tasks(draw: st.DrawFn) -> list[tuple[Task, bool]]:
    clock = FixedClock(NOW)
    made = []
    for _ in range(draw(st.integers(0, 12))):
        due = draw(st.none() | minutes)
        reminders = draw(st.lists(st.integers(0, 16).map(lambda q: q * QUARTER), max_size=3))
        task = Task.create(
            title="t",
            due_at=due,
            reminders=reminders if due is not None else (),
            status=draw(st.sampled_from([*OPEN, "done", "cancelled"])),
            assignee=draw(st.none() | st.sampled_from(["anna", "ben"])),
            clock=clock,
        )
        if due is not None and draw(st.booleans()):
            task = task.changed(reminded_at=draw(minutes), clock=clock)
        made.append((task, draw(st.booleans()) and draw(st.booleans())))  # a quarter archived
    return made


def load(url: str, made: list[tuple[Task, bool]]) -> crmkit.Store:
    store = crmkit.open_store(url, clock=FixedClock(NOW))
    with store.unit_of_work() as uow:
        stored = uow.tasks.add_many([task for task, _ in made])
        for task, (_, archived) in zip(stored, made, strict=True):
            if archived:
                uow.tasks.archive(task)
    return store


def ids(found: list[Task]) -> list[uuid.UUID]:
    return [t.id for t in found]


@settings(
    max_examples=settings.default.max_examples // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    made=tasks(),
    start=minutes,
    length=st.integers(0, 24).map(lambda q: q * QUARTER),
    assignee=st.none() | st.sampled_from(["anna", "ben"]),
)
def test_task_lists_agree_on_every_adapter_and_with_a_loop(
    tmp_path_factory, made, start, length, assignee
):
    directory = tmp_path_factory.mktemp("tasks")
    urls = {"memory": "memory://", "sqlite": f"sqlite:///{directory / 'store.db'}"}
    schemas: list[str] = []
    if POSTGRES_DSN and HAS_POSTGRES_ADAPTER:
        schemas.append(f"crmkit_test_{uuid.uuid4().hex[:16]}")
        urls["postgres"] = with_schema(POSTGRES_DSN, schemas[-1])
    end = start + length
    live = [task for task, archived in made if not archived]
    mine = [t for t in live if t.status.value in OPEN and assignee in (None, t.assignee)]
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    tonight = dt.datetime.combine(start.date(), dt.time(), dt.UTC) + dt.timedelta(days=1)
    expected = {
        "reminders": ids(
            sorted(
                (
                    t
                    for t in live
                    if t.next_reminder_at is not None
                    and start <= t.next_reminder_at < end
                    and assignee in (None, t.assignee)
                ),
                key=lambda t: (t.next_reminder_at, t.id),
            )
        ),
        "overdue": ids(
            sorted(
                (t for t in mine if t.due_at is not None and t.due_at < start),
                key=lambda t: (t.due_at, t.id),
            )
        ),
        "open": ids(sorted(mine, key=lambda t: (t.due_at or never, t.id))),
        "today": ids(
            sorted(
                (t for t in mine if t.due_at is not None and t.due_at < tonight),
                key=lambda t: (t.due_at, t.id),
            )
        ),
    }
    stores = {name: load(url, made) for name, url in urls.items()}
    try:
        for name, store in stores.items():
            with store.unit_of_work(readonly=True) as uow:
                got = {
                    "reminders": ids(reminders_due(uow, start, end, assignee)),
                    "overdue": ids(overdue(uow, assignee, now=start)),
                    "open": ids(open_tasks(uow, assignee)),
                    "today": ids(due_today(uow, assignee, now=start)),
                }
            assert got == expected, name
    finally:
        for store in stores.values():
            store.close()
        if schemas:
            drop_schemas(POSTGRES_DSN, schemas)
