"""`changed` and the stores copy records with generated copiers, as `attrs.evolve` would."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from crmkit import Contact, Deal, FixedClock
from crmkit.model import fast_records as module

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
LATER = FixedClock(T0 + dt.timedelta(hours=1))


def test_changed_equals_evolve_with_the_same_values():
    ada = Contact.create(first_name="Ada", emails=["ada@example.com"], clock=FixedClock(T0))
    for changes in ({"title": "CTO"}, {"title": "CEO", "last_name": "Lovelace"}, {"tags": ["x"]}):
        made = ada.changed(clock=LATER, **changes)
        expected = attrs.evolve(
            ada,
            **{k: getattr(made, k) for k in changes},
            updated_at=LATER.now(),
        )
        assert made == expected
        assert type(made) is Contact
    deal = Deal.create(name="Acme", pipeline="sales", stage="prospecting", clock=FixedClock(T0))
    priced = deal.changed(amount="1200", currency="EUR", clock=LATER)
    assert (str(priced.amount.amount), priced.amount.currency) == ("1200", "EUR")
    assert priced.name == "Acme"


def test_past_the_cap_changed_still_works_through_evolve(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(module, "_COPIERS", {})
    monkeypatch.setattr(module, "_MOST_COPIERS", 1)
    ada = Contact.create(first_name="Ada", clock=FixedClock(T0))
    first = ada.changed(title="CTO", clock=LATER)
    second = ada.changed(last_name="L", clock=LATER)  # a second key set: not kept
    assert len(module._COPIERS) == 1
    assert (first.title, second.last_name, second.title) == ("CTO", "L", None)
    assert second.updated_at == LATER.now()
