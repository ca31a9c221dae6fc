import datetime as dt

import pytest

import crmkit
from crmkit import Activity, Company, Contact, FixedClock, ValidationError
from crmkit.conditions import F
from crmkit.scoring import (
    FitModel,
    FitRule,
    GradeMatrix,
    Score,
    default_engagement_model,
    score_engagement,
    score_fit,
    score_records,
)

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
MODEL = default_engagement_model()


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    clock = FixedClock(T0)
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/crm.db"
    with crmkit.open_store(url, clock=clock) as store:
        yield store


def fill(store, people=7):
    clock = FixedClock(T0 - dt.timedelta(days=1))
    with store.unit_of_work(actor="sam") as uow:
        acme = uow.companies.add(Company.create(name="Acme", employees=300, clock=clock))
        uow.contacts.add_many(
            [
                Contact.create(
                    first_name=f"P{i}",
                    title="Director" if i % 2 else "Intern",
                    company_id=acme.id if i % 3 == 0 else None,
                    clock=clock,
                )
                for i in range(people)
            ]
        )
        contacts = list(uow.contacts.iter())
        pairs = [
            ("email", "opened"),
            ("email", "clicked"),
            ("call", "connected"),
            ("form", "submitted"),
        ]
        activities = [
            Activity.create(
                kind=pairs[(i + j) % 4][0],
                outcome=pairs[(i + j) % 4][1],
                duration=60 * j,
                occurred_at=T0 - dt.timedelta(days=3 * j + i),
                contact_id=c.id,
                clock=clock,
            )
            for i, c in enumerate(contacts)
            if i % 3 != 1  # every third contact has no activity
            for j in range(i + 2)
        ]
        uow.activities.add_many(activities)
    return contacts


def test_engagement_scores_every_contact_in_batches_and_writes_them_back(store):
    contacts = fill(store)
    seen = []
    result = score_engagement(
        store, MODEL, clock=FixedClock(T0), batch_size=2, progress=lambda d, t: seen.append((d, t))
    )
    assert (result.scored, result.without_activity, result.as_of) == (7, 2, T0)
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]
    with store.unit_of_work(readonly=True) as uow:
        stored = uow.scores.for_records([c.id for c in contacts], "engagement")
        for i, contact in enumerate(contacts):
            activities = uow.activities.related(contact.id)
            expected = MODEL.score(activities, T0)
            score = stored[contact.id]
            assert score.value == pytest.approx(expected.value)
            assert score.scorer_version == MODEL.version
            assert score.computed_at == T0
            assert len(score.breakdown) == len(expected.contributions)
            if i % 3 == 1:
                assert (score.value, score.breakdown) == (0.0, [])
        assert {c.version for c in uow.contacts.iter()} == {1}  # no version bump
    assert all(len(store.history(c.id)) == 1 for c in contacts)  # only "added"


def test_scoring_does_not_collide_with_a_users_edit(store):
    contacts = fill(store, people=3)
    with store.unit_of_work(readonly=True) as uow:
        before = uow.contacts.get(contacts[0].id)
    score_engagement(store, MODEL, as_of=T0)
    with store.unit_of_work(actor="sam") as uow:
        assert uow.contacts.update(before.changed(title="CTO")).version == 2
    score_engagement(store, MODEL, as_of=T0 + dt.timedelta(days=30), explain=False)
    with store.unit_of_work(readonly=True) as uow:
        later = uow.scores.get(contacts[0].id, "engagement")
        assert later.breakdown is None
        assert later.computed_at == T0 + dt.timedelta(days=30)
    assert [h.action for h in store.history(contacts[0].id)] == ["added", "updated"]


def test_archived_contacts_are_skipped_with_their_activities(store):
    contacts = fill(store, people=4)
    with store.unit_of_work() as uow:
        uow.contacts.archive(uow.contacts.get(contacts[0].id))
    result = score_engagement(store, MODEL, as_of=T0, batch_size=1)
    assert result.scored == 3
    with store.unit_of_work(readonly=True) as uow:
        assert uow.scores.get(contacts[0].id, "engagement") is None
        assert uow.scores.get(contacts[2].id, "engagement").value > 0


def test_fit_scores_contacts_with_their_companies(store):
    contacts = fill(store, people=6)
    model = FitModel(
        [
            FitRule("big company", F("company.employees") >= 200, 60),
            FitRule("director", F("title") == "Director", 40),
        ]
    )
    result = score_fit(store, model, as_of=T0, batch_size=4)
    assert result.scored == 6
    with store.unit_of_work(readonly=True) as uow:
        values = [uow.scores.get(c.id, "fit").value for c in contacts]
    assert values == [60.0, 40.0, 0.0, 100.0, 0.0, 40.0]


def test_any_scorer_through_score_records(store):
    contacts = fill(store, people=3)
    grades = GradeMatrix()
    result = score_records(
        store,
        "contact",
        lambda c: Score(80.0 if c.title == "Director" else 10.0),
        scorer="fit_guess",
        version="2",
        grade=lambda s: grades.fit_letter(s.value),
        as_of=T0,
    )
    assert result.scored == 3
    with store.unit_of_work(readonly=True) as uow:
        found = uow.scores.for_records([c.id for c in contacts], "fit_guess")
    assert [found[c.id].grade for c in contacts] == ["C", "A", "C"]
    assert {s.scorer_version for s in found.values()} == {"2"}


def test_bad_arguments_are_refused(store):
    with pytest.raises(ValidationError, match="batch_size"):
        score_engagement(store, MODEL, as_of=T0, batch_size=0)
    with pytest.raises(ValidationError, match="kind"):
        score_engagement(store, MODEL, as_of=T0, kind="order")


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert caught.value.fields == fields
    return caught.value


def test_score_records_refuses_each_wrong_argument_by_name():
    """``score_records(now, {}, [...])`` was a TypeError (a dict as kind is unhashable)."""

    def run(store, **changes):
        arguments = {"kind": "contact", "score": lambda r: Score(1.0), "scorer": "s", **changes}
        return lambda: score_records(store, **arguments)

    refused(run(T0), "store")
    with crmkit.open_store("memory://") as store:
        refused(run(store, kind={}), "kind")
        refused(run(store, kind="order"), "kind")
        refused(run(store, score=[None]), "score")
        refused(run(store, scorer=None), "scorer")
        refused(run(store, version=""), "version")
        refused(run(store, grade="A"), "grade")
        refused(run(store, batch_size=0), "batch_size")
        refused(run(store, batch_size=2.5), "batch_size")
        refused(run(store, progress=3), "progress")
        refused(run(store, actor=None), "actor")
        refused(run(store, clock=[]), "clock")
        refused(run(store, as_of=dt.datetime(2026, 1, 1)), "as_of")
        assert score_records(store, "contact", lambda r: Score(1.0), scorer="s").scored == 0
