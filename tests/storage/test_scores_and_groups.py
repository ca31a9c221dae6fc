import datetime as dt

import pytest

import crmkit
from crmkit import Activity, Contact, FixedClock, StoredScore, ValidationError

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    clock = FixedClock(T0)
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/crm.db"
    with crmkit.open_store(url, clock=clock) as store:
        yield store


def test_scores_are_kept_outside_the_record(store):
    with store.unit_of_work(actor="sam") as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))
        bob = uow.contacts.add(Contact.create(first_name="Bob"))
    first = StoredScore(ada.id, "engagement", 42.5, T0, "3", "B", [["email opened", 42.5]])
    with store.unit_of_work(actor="scoring") as uow:
        assert uow.scores.put_many([first, StoredScore(bob.id, "engagement", 7.0, T0)]) == 2
        assert uow.scores.get(ada.id, "engagement") == first  # read your own writes
    later = StoredScore(ada.id, "engagement", 50.0, T0 + dt.timedelta(days=1), "3", "A")
    with store.unit_of_work(actor="scoring") as uow:
        uow.scores.put_many([later, StoredScore(ada.id, "fit", 80.0, T0)])
        # a user's edit made from the version read before scoring does not collide
        uow.contacts.update(ada.changed(title="CTO"))
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(ada.id, "engagement") == later
        assert uow.scores.get(ada.id, "fit").value == 80.0
        assert uow.scores.get(bob.id, "fit") is None
        found = uow.scores.for_records([ada.id, bob.id], "engagement")
        assert {k: v.value for k, v in found.items()} == {ada.id: 50.0, bob.id: 7.0}
        assert uow.contacts.get(ada.id).version == 2  # scoring did not bump it
    assert [h.action for h in store.history(ada.id)] == ["added", "updated"]


def test_scores_roll_back_with_their_unit_of_work(store):
    with store.unit_of_work() as uow:
        ada = uow.contacts.add(Contact.create(first_name="Ada"))

    def score_then_fail():
        with store.unit_of_work() as uow:
            uow.scores.put_many([StoredScore(ada.id, "engagement", 1.0, T0)])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        score_then_fail()
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(ada.id, "engagement") is None
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
        uow.scores.put_many([{"record_id": ada.id}])
    assert [(p.field, p.reason) for p in info.value.problems] == [
        ("scores", "row 0 is not a StoredScore")
    ]


def test_activities_stream_grouped_by_contact(store):
    with store.unit_of_work() as uow:
        people = uow.contacts.add_many([Contact.create(first_name=f"P{i}") for i in range(5)])
        contacts = list(uow.contacts.iter())
        assert people.stored == 5
        activities = [
            Activity.create(
                kind="email",
                contact_id=c.id,
                occurred_at=T0 - dt.timedelta(days=(i * 7 + j) % 11),
            )
            for i, c in enumerate(contacts)
            for j in range(i + 1)  # contact i has i + 1 activities
        ]
        uow.activities.add_many(reversed(activities))
        uow.activities.add(
            Activity.create(
                kind="call",
                company_id=None,
                deal_id=None,
                lead_id=None,
                contact_id=contacts[0].id,
                occurred_at=T0 + dt.timedelta(days=1),
            )
        )
    with store.unit_of_work(readonly=True) as uow:
        groups = list(uow.activities.grouped("contact_id", batch_size=2))
        assert [key for key, _ in groups] == sorted(c.id for c in contacts)
        sizes = {key: len(group) for key, group in groups}
        assert sizes[contacts[0].id] == 2
        assert sizes[contacts[4].id] == 5
        for key, group in groups:
            assert all(a.contact_id == key for a in group)
            times = [a.occurred_at for a in group]
            assert times == sorted(times)
        with pytest.raises(ValidationError, match="not a link"):
            list(uow.activities.grouped("subject"))
