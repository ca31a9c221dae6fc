"""Building your own CRM on crmkit: your fields, your pipeline, your rules, your storage adapter.

A team selling fleet software makes crmkit theirs:

1. a storage adapter of their own, `JournaledStore`: any crmkit store plus a journal of its
   units of work (who, read or write, committed or rolled back, and why), for their
   operations dashboard;
2. custom fields (vehicles, plan) saved in the store, which then checks and converts them;
3. their sales pipeline, loaded from TOML, with a stage that requires a custom field;
4. a qualifier with rules of their own next to BANT, and a qualified lead converted;
5. the proof that the adapter is a crmkit store: crmkit.testing's storage contract suite,
   run on it with pytest.

Run it with ``python examples/own_crm.py``; it writes ``own_crm.db`` (made anew each run)
and ``test_journaled_store.py`` in the current folder. The contract check needs pytest and
hypothesis (``pip install 'crmkit[test]'``); without them it is skipped. It exits 0 only if
the contract suite passed (or was skipped).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

import crmkit
from crmkit import (
    CustomField,
    CustomFieldSchema,
    FixedClock,
    HistoryEntry,
    LeadStatus,
    Pipeline,
    Qualifier,
    Rule,
    Store,
    StoredEvent,
    TransitionError,
    UnitOfWork,
    ValidationError,
    move_lead,
)
from crmkit.conditions import F
from crmkit.model import Lead
from crmkit.segments import parse
from crmkit.values import Money

clock = FixedClock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))

# -- 1. A storage adapter of our own -------------------------------------------------------


@attrs.frozen
class Session:
    """One unit of work as the journal remembers it."""

    actor: str | None
    readonly: bool
    outcome: str  # "committed", "read" or "rolled back: <error>"
    at: dt.datetime


class JournaledStore:
    """A crmkit store that journals its units of work; everything else is the inner store's.

    Wraps any store (memory, SQLite, PostgreSQL, or another wrapper), so it keeps whatever
    the inner store promises: the journal only watches units of work begin and end.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.journal: list[Session] = []

    def unit_of_work(
        self, actor: str | None = None, *, readonly: bool = False
    ) -> _JournaledUnitOfWork:
        inner = self.inner.unit_of_work(actor, readonly=readonly)
        return _JournaledUnitOfWork(self, inner, readonly)

    def history(self, entity_id: uuid.UUID) -> list[HistoryEntry]:
        return self.inner.history(entity_id)

    def events(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        return self.inner.events(after=after, limit=limit)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self) -> JournaledStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _JournaledUnitOfWork:
    """The inner unit of work (repositories, outbox, savepoints), journaled when it ends."""

    def __init__(self, store: JournaledStore, inner: UnitOfWork, readonly: bool) -> None:
        self._store = store
        self._inner = inner
        self._readonly = readonly

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # uow.contacts, uow.record(...), uow.clock, ...

    def __enter__(self) -> _JournaledUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._inner.__exit__(exc_type, exc, tb)
        except BaseException as failure:  # the commit itself failed: journal it, then raise
            self._write(f"rolled back: {type(failure).__name__}")
            raise
        if exc_type is not None:
            self._write(f"rolled back: {exc_type.__name__}")
        else:
            self._write("read" if self._readonly else "committed")

    def _write(self, outcome: str) -> None:
        session = Session(self._inner.actor, self._readonly, outcome, self._inner.clock.now())
        self._store.journal.append(session)


path = Path("own_crm.db")
for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
    leftover.unlink(missing_ok=True)
store = JournaledStore(crmkit.open_store(f"sqlite:///{path}", clock=clock))

# -- 2. Custom fields: declared once, stored, enforced by the store ------------------------
vehicles = CustomField("vehicles", "integer", label="Vehicles in the fleet")
plan = CustomField("plan", "choice", choices=("starter", "fleet", "enterprise"))
with store.unit_of_work(actor="admin@fleetwise") as uow:
    lead_fields = uow.custom_fields.save(CustomFieldSchema("lead", (vehicles, plan)))  # version 1
    deal_fields = uow.custom_fields.save(uow.custom_fields.get("deal").adding(vehicles))  # 0 -> 1
for schema in (lead_fields, deal_fields):
    keys = ", ".join(f"{f.key} ({f.type})" for f in schema.fields)
    print(f"Custom fields of a {schema.entity} (version {schema.version}): {keys}")

# A web form sends text; the store keeps what the schema makes of it ("40" becomes 40).
form = {"vehicles": "40", "plan": "fleet"}
hanse = Lead.create(
    first_name="Greta",
    last_name="Holm",
    email="greta.holm@hanse-kurier.de",
    title="Fleet Manager",
    company_name="Hanse Kurier GmbH",
    company_domain="hanse-kurier.de",
    employees=120,
    country="DE",
    source="webinar",
    bant={
        "budget": Money.of("24000", "EUR"),
        "authority": True,
        "need": "live routes",
        "timeline": "2027-01-15",
    },
    custom=form,
    clock=clock,
)
velo = Lead.create(
    first_name="Jan",
    last_name="Velde",
    email="jan@velobote.nl",
    company_name="Velo Bote B.V.",
    company_domain="velobote.nl",
    country="NL",
    bant={
        "budget": Money.of("6000", "EUR"),
        "authority": True,
        "need": "fewer late deliveries",
        "timeline": "2026-12-15",
    },
    custom={"vehicles": "8"},
    clock=clock,
)
rival = Lead.create(
    first_name="Max",
    last_name="Kern",
    email="max@routenrivale.de",
    company_name="RoutenRivale AG",
    company_domain="routenrivale.de",
    tags={"reseller"},
    bant={
        "budget": Money.of("90000", "EUR"),
        "authority": True,
        "need": "white-label routing",
        "timeline": "2026-12-31",
    },
    custom={"vehicles": "300", "plan": "enterprise"},
    clock=clock,
)
with store.unit_of_work(actor="forms@fleetwise") as uow:
    hanse, velo, rival = (uow.leads.add(lead) for lead in (hanse, velo, rival))  # as stored
print(f"Stored {hanse.name}: custom {dict(hanse.custom)} (the form sent {form})")

try:
    with store.unit_of_work(actor="forms@fleetwise") as uow:
        uow.leads.add(Lead.create(email="ops@example.com", custom={"plan": "gold"}, clock=clock))
except ValidationError as error:
    print(f"Refused: {error.problems[0].field} {error.problems[0].reason}")

# -- 3. Our pipeline, from a TOML file in our repository -----------------------------------
FLEET_PIPELINE = """
key = "fleet"
label = "Fleet sales"
allow_skipping = false

[[stages]]
key = "trial"
label = "Free trial"
probability = 0.2
forecast_category = "pipeline"
rotting_days = 14

[[stages]]
key = "pilot"
label = "Paid pilot"
probability = 0.5
forecast_category = "best_case"
requires = { and = [
    { field = "amount", op = "is not empty" },
    { field = "custom.vehicles", op = ">=", value = 10 },
] }

[[stages]]
key = "rollout"
label = "Rollout"
probability = 0.9
forecast_category = "commit"
requires = ["amount", "expected_close"]

[[stages]]
key = "won"
label = "Won"
probability = 1.0
forecast_category = "closed"
won = true

[[stages]]
key = "lost"
label = "Lost"
probability = 0.0
forecast_category = "omitted"
lost = true
requires = ["lost_reason"]
"""
fleet = Pipeline.from_toml(FLEET_PIPELINE)
with store.unit_of_work(actor="admin@fleetwise") as uow:
    saved = uow.pipelines.save(fleet)  # deals are stored only in pipelines the store knows
print(
    f"Pipeline {fleet.key!r} (version {saved.version}): "
    + " -> ".join(stage.key for stage in fleet.stages)
)

# -- 4. Qualifying with our own rules, next to BANT ----------------------------------------
qualifier = Qualifier.bant(
    Money.of("5000", "EUR"),
    timeline_days=90,
    rules=[
        Rule(
            "fleet size",
            F("custom.vehicles") >= 10,
            reason="fewer than 10 vehicles: the self-serve plan fits",
        ),
        Rule(
            "no resellers",
            parse('has tag "reseller"', kind="lead"),  # a rule can be written as a segment
            kind="disqualify",
            reason="resellers buy through the partner programme",
        ),
    ],
)
print("Qualifying:")
for lead in (hanse, velo, rival):
    result = qualifier.qualify(lead, clock=clock)
    why = "; ".join(f"{o.name}: {o.reason}" for o in result.failed)
    print(f"  {lead.company_name:<18} {result.verdict:<13} {why}".rstrip())
    if lead is hanse:
        judged = lead.changed(qualification=result.to_qualification(), clock=clock)
        hanse = move_lead(judged, LeadStatus.QUALIFIED, clock=clock)

with store.unit_of_work(actor="sam@fleetwise") as uow:
    hanse = uow.leads.update(hanse)
    done = uow.leads.convert(hanse, "fleet", deal_name="Hanse Kurier, 40 vans")  # in "trial"
deal, company = done.deal, done.company
assert company is not None  # the lead named its company: found by domain, or made
print(f"Converted {hanse.name}: {company.name}, deal {deal.name!r} in {deal.stage}")

# The pilot stage needs the fleet size on the deal: the move says what is missing.
clock.advance(days=7)
with store.unit_of_work(actor="sam@fleetwise") as uow:
    try:
        uow.deals.move(deal, "pilot")
    except TransitionError as error:
        print(f"Refused: trial -> pilot: {'; '.join(error.unmet)}")
    # moved, stored and its StageChanged event recorded, in one call
    deal = uow.deals.move(deal, "pilot", note="pilot: 12 of 40 vans", custom={"vehicles": 40}).deal
print(f"Moved {deal.name!r} to {deal.stage} (p={fleet.probability(deal)})")

with store.unit_of_work(actor="dashboard", readonly=True) as uow:
    converted = uow.leads.count(parse('status = "converted"'))
print(f"Leads converted so far: {converted}")

# -- What the journal saw ----------------------------------------------------------------
print("Journal of units of work:")
for session in store.journal:
    print(f"  {session.at:%d %b %H:%M}  {session.actor:<17}  {session.outcome}")

# -- 5. The proof: crmkit's storage contract, run on our adapter ---------------------------
CONTRACT_TEST = '''"""crmkit's storage contract, run on own_crm.py's JournaledStore."""

import pytest

from crmkit.testing import StoreContract


class TestJournaledStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _adapter(self, new_store):
        self._new_store = new_store  # handed over by own_crm.py, which runs pytest

    def make_store(self, clock):
        return self._new_store(clock)
'''

# crmkit.testing needs pytest and hypothesis; it is imported by pytest itself, in the test
# file, so that pytest rewrites the contract's asserts to explain a failure.
absent = [name for name in ("pytest", "hypothesis") if importlib.util.find_spec(name) is None]
if absent:
    print(f"Contract check skipped: it needs {' and '.join(absent)} (pip install 'crmkit[test]')")
    store.close()
    sys.exit(0)

import pytest  # noqa: E402 - only once we know it is there


class AdapterUnderTest:
    """A pytest plugin handing the contract tests a new, empty store to check."""

    @pytest.fixture
    def new_store(self) -> Any:
        return lambda clock: JournaledStore(crmkit.open_store("memory://", clock=clock))


test_file = Path("test_journaled_store.py")
test_file.write_text(CONTRACT_TEST, encoding="utf-8")
print(f"Running crmkit's storage contract on JournaledStore ({test_file}):")
sys.stdout.flush()
code = pytest.main(
    # -o timeout: with pytest-timeout (the test extra), a test that hangs fails instead.
    ["-q", "-p", "no:cacheprovider", "--rootdir", ".", "-o", "timeout=60", str(test_file)],
    plugins=[AdapterUnderTest()],
)
store.close()
print(f"Contract suite on JournaledStore: {'passed' if code == 0 else f'FAILED ({code})'}")
sys.exit(0 if code == 0 else 1)
