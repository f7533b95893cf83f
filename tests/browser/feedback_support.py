"""Helpers for the feedback journeys: people of their own, and a deadline missed under a frozen clock.

A feedback journey makes its own patient and its own patient-experience (PX) staff member, never the
demo's: the staff member has an enrolled authenticator (a code is good once in its 30 s window), and is
the lead and only case-taking member of a PX team that is the fallback queue, so a portal case no
routing rule matches is theirs. Its name sorts before the demo's fallback team ("Patient relations"):
the first fallback team by name takes such a case, which the set-up checks. All of it is made in one
``manage.py shell`` on the live server's database.

The live server is another process on a database of its own, so the test reaches that database the way
the other journeys do: through ``manage.py shell`` (:meth:`tests.browser.support.LivePortal.manage`).
:func:`miss_resolve_deadline` runs ``portal_social.feedback.tasks.breach`` there with ``now`` frozen
just past the case's resolve deadline, as the deferred task would when the deadline passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.browser.messaging_support import words
from tests.browser.support import DEMO_PASSWORD, PERSON

CASE_PATH = re.compile(r"/feedback/c/([0-9a-f-]{36})/")
REFERENCE = re.compile(r"PX-\d{4}-\d{6}")

PEOPLE = (
    PERSON
    + """
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from portal_social.feedback import routing
from portal_social.feedback.models import Case, Team, TeamMember

patient = person("patient", roles.PATIENT, "Rosa", "Quinlan")
staff = person("px", roles.PATIENT_EXPERIENCE, "Dana", "Whitfield")
secret = generate_totp_secret()
TOTP.activate(staff, secret)
team = Team.objects.create(
    name="Patient experience office " + token, slug="px-office-" + token, fallback=True, lead=staff
)
TeamMember.objects.create(team=team, user=staff, takes_cases=True)
# A portal complaint no routing rule matches goes to the first fallback team by name, this one.
unmatched = routing.route(Case(channel=Case.Channel.PORTAL, type=Case.Type.COMPLAINT), set())
assert (unmatched.team, unmatched.owner_id) == (team, staff.pk), ("routed elsewhere", unmatched)
print("@@", patient.username, staff.username, secret, team.name, sep="\\t")
"""
)

BREACH = """
import datetime
from django.utils import dateformat, timezone
from portal_social.feedback.models import Case
from portal_social.feedback.tasks import breach

case = Case.objects.get(pk=%(case)r)
now = case.resolve_due_at + datetime.timedelta(minutes=5)
missed = breach(case.pk, now=now)
case.refresh_from_db()
print("@@", ",".join(missed), dateformat.format(timezone.localtime(case.escalated_at), "j F Y, H:i"), sep="\\t")
"""


@dataclass(frozen=True)
class FeedbackPeople:
    patient: str
    staff: str
    secret: str
    team: str

    @property
    def staff_login(self) -> tuple[str, str]:
        return self.staff, self.secret


def feedback_people(live_portal) -> FeedbackPeople:
    """A patient, and a PX staff member with an authenticator who leads the fallback team and takes its cases."""
    out = live_portal.manage("shell", "-c", PEOPLE % {"token": words(8), "password": DEMO_PASSWORD}).stdout
    found = re.search(r"^@@\t(.+)$", out, re.MULTILINE)
    assert found, f"the journey's people were not created:\n{out}"
    return FeedbackPeople(*found.group(1).split("\t"))


def miss_resolve_deadline(live_portal, case_id: str) -> tuple[list[str], str]:
    """Run the deadline task for ``case_id`` at a moment just past its resolve deadline.

    Returns the clocks it recorded as missed, and when the case was escalated as the case page writes it.
    """
    out = live_portal.manage("shell", "-c", BREACH % {"case": case_id}).stdout
    found = re.search(r"^@@\t(.*)\t(.+)$", out, re.MULTILINE)
    assert found, f"the deadline task did not report:\n{out}"
    missed = [clock for clock in found.group(1).split(",") if clock]
    return missed, found.group(2)


PORTAL_COUNT = """
from portal_social.feedback import reports
from django.utils import timezone
report = reports.build(reports.period_from({}))
print("@@", dict(report.by_channel).get("Portal feedback form", 0), sep="\\t")
"""


def portal_cases_in_report(live_portal) -> int:
    """How many portal cases the reports' default period counts, read from the live server's database."""
    out = live_portal.manage("shell", "-c", PORTAL_COUNT).stdout
    found = re.search(r"^@@\t(\d+)$", out, re.MULTILINE)
    assert found, f"the report was not built:\n{out}"
    return int(found.group(1))
