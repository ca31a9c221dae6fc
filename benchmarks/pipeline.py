"""Pipeline moves against python-statemachine and transitions, memory per deal, predicates.

``python -m benchmarks pipeline [--smoke]``. The two state-machine libraries are optional
benchmark-only dependencies (``pip install python-statemachine transitions``); without them
crmkit is measured alone.

Every library runs the same 7-state machine (the default sales pipeline, skipping allowed)
with the same guards (proposal and negotiation need an amount, decision an amount and an
expected close date, won an amount, lost a reason) and appends the same history entry per
move (closing the previous one). crmkit's deals are frozen: each move returns a new deal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import tracemalloc
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from benchmarks.report import gc_paused, gc_policy, interleaved, print_table
from crmkit import Deal, FixedClock, Money
from crmkit.conditions import ClosureCompiler, F, compile_predicate
from crmkit.pipelines import default_sales_pipeline

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
PATH = ("discovery", "proposal", "negotiation", "decision", "closed_won")
OPEN = ("prospecting", "discovery", "proposal", "negotiation", "decision")
STATES = (*OPEN, "closed_won", "closed_lost")
GUARDS: dict[str, Callable[[Any], bool]] = {
    "proposal": lambda m: m.amount is not None,
    "negotiation": lambda m: m.amount is not None,
    "decision": lambda m: m.amount is not None and m.expected_close is not None,
    "closed_won": lambda m: m.amount is not None,
    "closed_lost": lambda m: m.lost_reason is not None,
}
PROBABILITY = dict(zip(STATES, (0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 0.0), strict=True))
CATEGORY = dict(
    zip(
        STATES,
        ("pipeline", "pipeline", "best_case", "best_case", "commit", "closed", "omitted"),
        strict=True,
    )
)


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- crmkit ----------------------------------------------------------------------------------


def crmkit_deals(n: int) -> list[Deal]:
    pipeline = default_sales_pipeline()
    clock = FixedClock(T0)
    template = pipeline.open_deal(
        name="Acme, 50 seats",
        amount="12000",
        currency="EUR",
        expected_close="2026-06-30",
        clock=clock,
    )
    return [attrs.evolve(template, id=uuid.uuid4()) for _ in range(n)]


def crmkit_moves(deals: list[Deal]) -> Callable[[], object]:
    pipeline = default_sales_pipeline()
    clock = FixedClock(T0 + dt.timedelta(days=1))
    move = pipeline.move

    def run() -> object:
        out = []
        for deal in deals:
            for stage in PATH:
                deal = move(deal, stage, by="sam", clock=clock).deal
            out.append(deal)
        return out

    return run


# -- the same machine in transitions and python-statemachine ----------------------------------


class Record:
    """What each library's model holds: the deal's fields and its history list."""

    def __init__(self) -> None:
        self.amount: Money | None = Money.of("12000", "EUR")
        self.expected_close: dt.date | None = dt.date(2026, 6, 30)
        self.lost_reason: str | None = None
        self.history: list[dict[str, Any]] = []
        self.clock = FixedClock(T0)
        self.enter("prospecting", None)

    def enter(self, stage: str, by: str | None) -> None:
        now = self.clock.now()
        if self.history:
            self.history[-1]["left_at"] = now
        self.history.append(
            {
                "stage": stage,
                "entered_at": now,
                "left_at": None,
                "moved_by": by,
                "amount": self.amount,
                "expected_close": self.expected_close,
                "probability": PROBABILITY[stage],
                "forecast_category": CATEGORY[stage],
            }
        )


def transitions_machines(n: int, *, shared: bool = False) -> list[Any]:
    """`n` models of the machine: each with a Machine of its own, or all on one shared Machine
    (how that library is normally used with many objects, and faster)."""
    from transitions import Machine

    specs = []
    for target in STATES:
        guard = GUARDS.get(target)
        spec: dict[str, Any] = {
            "trigger": f"go_{target}",
            "source": [s for s in OPEN if s != target],
            "dest": target,
            "after": (lambda t: lambda self, by=None: self.enter(t, by))(target),
        }
        if guard is not None:
            spec["conditions"] = guard
        specs.append(spec)

    class Model(Record):
        pass

    for spec in specs:  # callables as methods, so transitions passes the model
        name = f"_after_{spec['dest']}"
        setattr(Model, name, spec.pop("after"))
        spec["after"] = name
        if "conditions" in spec:
            cond_name = f"_guard_{spec['dest']}"
            guard = spec.pop("conditions")
            setattr(Model, cond_name, (lambda g: lambda self, **_kw: g(self))(guard))
            spec["conditions"] = cond_name
    models = [Model() for _ in range(n)]
    for group in [models] if shared else [[m] for m in models]:
        Machine(
            model=group,
            states=list(STATES),
            transitions=specs,
            initial="prospecting",
            auto_transitions=False,
            send_event=False,
        )
    return models


def transitions_moves(models: list[Any]) -> Callable[[], object]:
    def run() -> object:
        for model in models:
            for stage in PATH:
                if not getattr(model, f"go_{stage}")(by="sam"):
                    raise AssertionError("guard refused")
        return models

    return run


def statemachine_machines(n: int) -> list[Any]:
    from statemachine import State, StateMachine

    class DealMachine(StateMachine):  # type: ignore[misc]
        prospecting = State(initial=True)
        discovery = State()
        proposal = State()
        negotiation = State()
        decision = State()
        closed_won = State(final=True)
        closed_lost = State(final=True)

        go_prospecting = prospecting.from_(discovery, proposal, negotiation, decision)
        go_discovery = discovery.from_(prospecting, proposal, negotiation, decision)
        go_proposal = proposal.from_(
            prospecting, discovery, negotiation, decision, cond="has_amount"
        )
        go_negotiation = negotiation.from_(
            prospecting, discovery, proposal, decision, cond="has_amount"
        )
        go_decision = decision.from_(
            prospecting, discovery, proposal, negotiation, cond="has_amount_and_close"
        )
        go_closed_won = closed_won.from_(*_open_states(locals()), cond="has_amount")
        go_closed_lost = closed_lost.from_(*_open_states(locals()), cond="has_reason")

        def __init__(self) -> None:
            self.record = Record()
            super().__init__()

        def has_amount(self) -> bool:
            return self.record.amount is not None

        def has_amount_and_close(self) -> bool:
            return self.record.amount is not None and self.record.expected_close is not None

        def has_reason(self) -> bool:
            return self.record.lost_reason is not None

        def after_transition(self, target: Any, by: str | None = None) -> None:
            self.record.enter(target.id, by)

    return [DealMachine() for _ in range(n)]


def _open_states(namespace: dict[str, Any]) -> list[Any]:
    return [namespace[name] for name in OPEN]


def statemachine_moves(machines: list[Any]) -> Callable[[], object]:
    def run() -> object:
        for machine in machines:
            for stage in PATH:
                machine.send(f"go_{stage}", by="sam")
        return machines

    return run


# -- memory ----------------------------------------------------------------------------------


def measure_memory(build: Callable[[int], object], n: int) -> float:
    """Bytes per object still allocated after building `n` of them."""
    with gc_paused():
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = build(n)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    del kept
    return (after - before) / n


def crmkit_stored_deals(n: int) -> list[Deal]:
    """Deals shaped as a store loads them: 6 stays each (created + 5 moves), each deal with
    its own id, name, amount and timestamps (a real clock's datetimes are distinct objects).
    Within one deal the stays share its Money object; loaded rows would not (+~1 KB/deal)."""
    pipeline = default_sales_pipeline()
    clock = FixedClock(T0)
    template = crmkit_deals(1)[0]
    out = []
    for i in range(n):
        deal = attrs.evolve(
            template,
            id=uuid.uuid4(),
            name=f"Deal {i}",
            amount=Money(Decimal(10_000 + i), "EUR"),
            created_at=clock.now(),
            stage_history=(attrs.evolve(template.stage_history[0], entered_at=clock.now()),),
        )
        for stage in PATH:
            clock.advance(seconds=1)
            deal = pipeline.move(deal, stage, by="sam", clock=clock).deal
        out.append(deal)
    return out


def transitions_with_history(n: int) -> list[Any]:
    models = transitions_machines(n)
    transitions_moves(models)()
    return models


def statemachine_with_history(n: int) -> list[Any]:
    machines = statemachine_machines(n)
    statemachine_moves(machines)()
    return machines


# -- predicates ------------------------------------------------------------------------------


def predicate_records(n: int) -> list[Deal]:
    base = crmkit_deals(1)[0]
    stages = ("prospecting", "proposal", "negotiation", "decision")
    owners = ("sam", "kim", "alex")
    return [
        attrs.evolve(
            base,
            stage=stages[i % 4],
            owner=owners[i % 3],
            amount=None if i % 10 == 0 else Money(Decimal(i % 20_000), "EUR"),
        )
        for i in range(n)
    ]


def predicate_ratios(n: int, repeat: int) -> list[tuple[str, float, float]]:
    records = predicate_records(n)
    cond = (
        F("stage").is_in(["proposal", "negotiation"])
        & (F("amount") >= 5000)
        & (F("owner") == "sam")
    )
    wanted = frozenset({"proposal", "negotiation"})

    def hand(d: Deal) -> bool:
        return (
            d.stage in wanted
            and d.amount is not None
            and d.amount.amount >= 5000
            and d.owner == "sam"
        )

    compiled = compile_predicate(cond, Deal)
    closures = ClosureCompiler().compile(cond)
    assert [hand(r) for r in records] == [compiled(r) for r in records]
    assert [hand(r) for r in records] == [closures(r) for r in records]
    timings = interleaved(
        {
            "hand-written function": lambda: [r for r in records if hand(r)],
            "compiled (generated source)": lambda: [r for r in records if compiled(r)],
            "closures (reference)": lambda: [r for r in records if closures(r)],
        },
        repeat,
    )
    base = timings["hand-written function"]
    return [(name, t * 1e9 / n, t / base) for name, t in timings.items()]


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks pipeline")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that only checks")
    args = parser.parse_args(argv)
    deals_n = 50 if args.smoke else 5_000
    memory_n = 200 if args.smoke else 100_000
    machine_memory_n = 50 if args.smoke else 10_000
    predicate_n = 2_000 if args.smoke else 100_000
    repeat = 1 if args.smoke else 5

    have_transitions = version("transitions")
    have_statemachine = version("python-statemachine")
    print(f"transitions: {have_transitions or 'not installed'}; {gc_policy()}; interleaved")
    print(f"python-statemachine: {have_statemachine or 'not installed'}")
    if not (have_transitions and have_statemachine):
        print(
            "note: install them to compare (pip install python-statemachine transitions); "
            "measuring what is installed"
        )

    moves = deals_n * len(PATH)
    rows: list[list[object]] = []
    deals: list[Deal] = []
    cases: dict[str, Callable[[], object]] = {"crmkit": crmkit_moves(deals)}
    setups: dict[str, Callable[[], object]] = {
        "crmkit": lambda: deals.__setitem__(slice(None), crmkit_deals(deals_n))
    }
    if have_transitions:
        shared: list[Any] = []
        own: list[Any] = []
        name = f"transitions {have_transitions}, one shared Machine"
        cases[name] = transitions_moves(shared)
        setups[name] = lambda: shared.__setitem__(
            slice(None), transitions_machines(deals_n, shared=True)
        )
        name = f"transitions {have_transitions}, a Machine per deal"
        cases[name] = transitions_moves(own)
        setups[name] = lambda: own.__setitem__(slice(None), transitions_machines(deals_n))
    if have_statemachine:
        machines: list[Any] = []
        name = f"python-statemachine {have_statemachine}"
        cases[name] = statemachine_moves(machines)
        setups[name] = lambda: machines.__setitem__(slice(None), statemachine_machines(deals_n))
    per_move = {name: t / moves for name, t in interleaved(cases, repeat, setups).items()}
    mine = per_move["crmkit"]
    for name, seconds in per_move.items():
        rows.append([name, seconds * 1e6, 1 / seconds, seconds / mine])
    print_table(
        f"moves ({deals_n} deals x {len(PATH)} moves, guards + history entry per move)",
        ["library", "µs/move", "moves/s", "x crmkit time"],
        rows,
    )
    others = [s for name, s in per_move.items() if name != "crmkit"]
    speedup = min(others) / mine if others else None

    memory_rows: list[list[object]] = []
    crm_bytes = measure_memory(crmkit_stored_deals, memory_n)
    memory_rows.append(
        ["crmkit (frozen deal + 6 stays)", memory_n, crm_bytes, crm_bytes * 1e5 / 2**20, 1.0]
    )
    if have_transitions:
        b = measure_memory(transitions_with_history, machine_memory_n)
        memory_rows.append(
            ["transitions (machine per deal)", machine_memory_n, b, b * 1e5 / 2**20, b / crm_bytes]
        )
    if have_statemachine:
        b = measure_memory(statemachine_with_history, machine_memory_n)
        memory_rows.append(
            [
                "python-statemachine (machine per deal)",
                machine_memory_n,
                b,
                b * 1e5 / 2**20,
                b / crm_bytes,
            ]
        )
    print_table(
        "memory per deal (tracemalloc; 100k figures extrapolated from the measured count)",
        ["what", "measured n", "bytes/deal", "MiB per 100k", "x crmkit"],
        memory_rows,
    )

    pred_rows = predicate_ratios(predicate_n, repeat)
    print_table(
        f"predicate over {predicate_n} deals: stage in [...] and amount >= 5000 and owner == 'sam'",
        ["evaluator", "ns/record", "x hand-written"],
        [list(r) for r in pred_rows],
    )

    summary = []
    if speedup is not None:
        summary.append(["move speed: fastest other library / crmkit (target >= 3)", speedup])
    for row in memory_rows[1:]:
        summary.append([f"memory: {row[0]} / crmkit", row[4]])
    summary.append(["predicate: compiled / hand-written", pred_rows[1][2]])
    summary.append(["predicate: closures / hand-written", pred_rows[2][2]])
    print_table("ratios", ["ratio", "value"], summary)
    return 0
