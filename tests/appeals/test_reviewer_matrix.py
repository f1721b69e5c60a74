"""Who may decide a complaint: the configured review body, never the act's author (Art. 97(2))."""

from __future__ import annotations

import pytest

from appeals import complaints, hearings
from core.errors import PermissionDenied
from core.scope import Scope
from tests.appeals.complaint_factory import (
    ACT_DAY,
    FILE_DAY,
    NOTICE_DAY,
    OTHER_REGION,
    REGION,
    at,
    citizen,
    configure_review,
    file_against,
    ground,
    member_of,
    reviewer,
    unit_id,
    user,
)
from tests.factories.accounts import official

# Both databases: grants over the unit tree are read with SQL per dialect.
pytestmark = pytest.mark.both_databases

PASSWORD = "matrix password 1"


def _official(session, label: str, role: str, kato: str):
    return official(
        session,
        f"{label}@demo.kz",
        role,
        unit_id(session, kato),
        password=PASSWORD,
        full_name=label.replace(".", " ").title(),
    )


def _case(session, *, named_official: bool = False):
    """A suspension drafted by one registrar and adopted by another, complained of and forwarded.

    Both authors also hold the role ``reviewer`` on the region: the role never lets them review
    their own act. Returns (complaint, accounts by label).
    """
    people = {
        "drafter": user(session, "registrar@demo.kz"),
        "adopter": _official(session, "registrar.two", "registrar", REGION),
        "other_registrar": _official(session, "registrar.three", "registrar", REGION),
        "reviewer_elsewhere": reviewer(session, "reviewer.akmola@demo.kz", OTHER_REGION),
        "configured_reviewer": reviewer(session),
        "national_reviewer": reviewer(session, "reviewer.kz@demo.kz", "000000000"),
        "named_official": _official(session, "named.official", "deputy", REGION),
    }
    for author in ("drafter", "adopter"):
        from core import accounts

        accounts.grant_role(
            session,
            user_id=people[author].id,
            role="reviewer",
            unit_id=unit_id(session, REGION),
            actor_id=None,
        )
    configure_review(session, reviewer_id=people["named_official"].id if named_official else None)
    person = citizen(session)
    member = member_of(session, person)
    drafter, adopter = people["drafter"], people["adopter"]
    hearing = hearings.draft(
        session,
        act_kind="suspend",
        subject_id=member.id,
        grounds=[ground(session, "suspend")],
        grounds_text="",
        actor_id=drafter.id,
        scope=Scope.of(drafter, "registrar"),
        now=at(NOTICE_DAY, 9),
    )
    hearings.notify(
        session,
        hearing_id=hearing.id,
        actor_id=drafter.id,
        scope=Scope.of(drafter, "registrar"),
        now=at(NOTICE_DAY),
    )
    hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Негіздер расталды",
        actor_id=adopter.id,
        scope=Scope.of(adopter, "registrar"),
        now=at(ACT_DAY),
    )
    complaint = file_against(session, hearing, person)
    other = people["other_registrar"]
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=other.id,
        scope=Scope.of(other, "registrar"),
        now=at(FILE_DAY),
    )
    people["complainant"] = person
    return complaint, people


MATRIX = {
    "drafter": False,
    "adopter": False,
    "other_registrar": False,
    "reviewer_elsewhere": False,
    "configured_reviewer": True,
    "national_reviewer": True,  # the role on a unit above the review unit covers it
    "named_official": False,  # named only when configured so (below)
    "complainant": False,
}


@pytest.mark.parametrize(("label", "allowed"), sorted(MATRIX.items()))
def test_who_may_review(app, session, label, allowed):
    complaint, people = _case(session)
    actor = people[label]
    assert complaints.can_review(session, complaint, actor) is allowed
    if not allowed:
        with pytest.raises(PermissionDenied) as caught:
            complaints.decide(
                session,
                complaint_id=complaint.id,
                outcome="cancel",
                reasons="Негізсіз",
                actor_id=actor.id,
                now=at(FILE_DAY, 15),
            )
        assert caught.value.status == 403
        assert complaint.status == "forwarded"
        return
    complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome="unsatisfied",
        reasons="Акт заңды",
        actor_id=actor.id,
        now=at(FILE_DAY, 15),
    )
    assert complaint.status == "decided" and complaint.decided_by_id == actor.id


def test_the_author_is_told_why(app, session):
    complaint, people = _case(session)
    with pytest.raises(PermissionDenied) as caught:
        complaints.decide(
            session,
            complaint_id=complaint.id,
            outcome="cancel",
            reasons="x",
            actor_id=people["adopter"].id,
        )
    assert "author" not in caught.value.message  # the message names the rule, not a role
    assert "cannot review the complaint against it" in caught.value.message


def test_a_named_official_reviews_when_configured(app, session):
    complaint, people = _case(session, named_official=True)
    assert complaint.reviewer_id == people["named_official"].id
    assert complaints.can_review(session, complaint, people["named_official"])
    assert complaints.can_review(session, complaint, people["configured_reviewer"])
    assert not complaints.can_review(session, complaint, people["adopter"])
    complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome="returned",
        reasons="Анықтама қаралмаған",
        to_fix="Анықтаманы қарау",
        actor_id=people["named_official"].id,
        now=at(FILE_DAY, 15),
    )
    assert complaint.outcome == "returned"
