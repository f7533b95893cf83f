"""Review invitations in a browser: a visit is imported and the patient is invited by email; the link asks them
to sign in, then opens the review form for the visit's clinician; the review is written through it; the link
then says it has been used; patient-experience (PX) staff see the clinician's response rate in the reports.

The live server is another process on a database of its own, so everything the journey needs there is made
the way the other journeys make it, with ``manage.py shell`` (:meth:`tests.browser.support.LivePortal.manage`):
a published clinician page of its own (no demo clinician's figures change), a long-standing patient with a
verified email who is *not* on that clinician's care team (only the visit lets them review), and a PX staff
member with an enrolled authenticator. The visit is imported from a CSV file and the invitations run with
``call_command`` in the same kind of shell. The live server's task backend on the embedded run is the
database backend with no worker, so that shell delivers the invitation's notification itself, as the
worker (or ``notify.sweep()``) would, and only that one: the demo's other undelivered notifications stay
untouched for the other journeys. On the services run the RQ worker may deliver it first; a delivery is
claimed once, so it is never sent twice. Mail goes to files (``live_portal.mail_dir``), not to
``django.core.mail.outbox`` of this process. The reports' totals include the demo's invitations
(``hospital.seed_invitations``), so the journey reads them before and expects its own one more.
"""

from __future__ import annotations

import csv
import datetime
import random
import re

import pytest
from playwright.sync_api import expect

from tests.browser.community_support import browser_of_their_own, press
from tests.browser.messaging_support import words
from tests.browser.support import (
    DEMO_PASSWORD,
    PERSON,
    path_of,
    plain_text,
    sign_in_with_code,
    visit,
    wait_for_mail,
)

pytestmark = pytest.mark.browser

SITE = "Riverside Clinic"
SERVICE_LINE = "Cardiology"
SUBJECT = "Tell us about your recent visit"
INVITATION_PATH = re.compile(r"/clinician-reviews/invitation/[^/\s\"'<>]+/")
COMMENT = "Kind and unhurried, and the plan for my follow-up made sense."

PEOPLE = (
    PERSON
    + """
import datetime
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from portal_social.adapter import get_adapter
from portal_social.core.models import CareTeamLink
from portal_social.feedback import reports
from portal_social.profiles import invitation_metrics
from portal_social.profiles.models import ClinicianIndexPage, ClinicianPage

patient = person("patient", roles.PATIENT, "Rosa", "Quinlan", joined_days_ago=400)
staff = person("px", roles.PATIENT_EXPERIENCE, "Dana", "Whitfield", joined_days_ago=400)
secret = generate_totp_secret()
TOTP.activate(staff, secret)

first, last = "Ottoline", "Marchetti-" + token.capitalize()
clinician = ClinicianPage(
    title=first + " " + last + ", MD", slug="ottoline-marchetti-" + token,
    first_name=first, last_name=last, credentials="MD", npi=%(npi)r,
)
ClinicianIndexPage.objects.first().add_child(instance=clinician)
clinician.save_revision().publish()
clinician.refresh_from_db()
assert clinician.live, "the clinician page is not published"
# Not on the clinician's care team: until a visit is pulled, the patient may not review them.
assert not CareTeamLink.objects.filter(patient=patient).exists()
assert not get_adapter().can_review(patient, clinician), "the patient may already review the clinician"

# The reports' invitation totals before this journey (its default period), so it counts exactly its own.
before = invitation_metrics.build(*reports.period_from({}).bounds()).total
print(
    "@@", patient.username, patient.email, staff.username, secret, clinician.title, clinician.display_name,
    clinician.url, before.sent, before.completed, timezone.localdate().isoformat(), sep="\\t",
)
"""
)

INVITE = """
from django.core.management import call_command
from portal_social.core import notify
from portal_social.core.notify.models import Notification

call_command("portal_social_review_invitations", "import", %(path)r)
call_command("portal_social_review_invitations", "run")
# What a task worker does with the delivery the invitation queued: this patient's only, so the demo's
# other undelivered notifications stay as they are for the other journeys.
pending = Notification.objects.filter(
    recipient__username=%(patient)r, key="review.invitation", status=Notification.Status.PENDING
).values_list("public_id", flat=True)
print("@@ delivered", [notify.deliver(public_id) for public_id in pending])
"""


def _valid_npi() -> str:
    """A random NPI with a correct check digit (unlikely to clash with any page's)."""
    from portal_social.profiles.npi import npi_is_valid

    base = f"1{random.randrange(10**8):08d}"
    return next(base + digit for digit in "0123456789" if npi_is_valid(base + digit))


@pytest.fixture(scope="module")
def people(live_portal) -> dict:
    """The journey's patient, PX staff member (with an authenticator) and clinician page, on the live server."""
    npi = _valid_npi()
    out = live_portal.manage("shell", "-c", PEOPLE % {"token": words(8), "password": DEMO_PASSWORD, "npi": npi}).stdout
    found = re.search(r"^@@\t(.+)$", out, re.MULTILINE)
    assert found, f"the journey's people were not created:\n{out}"
    patient, email, staff, secret, title, name, url, sent, completed, today = found.group(1).split("\t")
    return {
        "patient": patient,
        "email": email,
        "staff": staff,
        "secret": secret,
        "npi": npi,
        "title": title,
        "name": name,
        "last_name": name.split(",")[0].split()[-1],
        "path": re.sub(r"^https?://[^/]+", "", url),
        "sent_before": int(sent),
        "completed_before": int(completed),
        "today": datetime.date.fromisoformat(today),  # the server's (its time zone's), for the visit's date
    }


def _figure(section, term: str):
    """The value (``<dd>``) given for ``term`` in the invitation figures' list of totals."""
    return section.locator("dl dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def _columns(table) -> dict[str, int]:
    """A figures table's column headings, each with its position in a row."""
    return {heading.strip(): index for index, heading in enumerate(table.locator("thead th").all_inner_texts())}


def test_an_imported_visit_invites_the_patient_who_reviews_once_and_the_response_rate_counts_it(
    browser, page, live_portal, people, tmp_path
):
    visit_date = people["today"] - datetime.timedelta(days=2)
    encounter = f"ENC-{words(12).upper()}"

    # 1-2. A completed visit with the clinician is imported; the invitation cycle sends the invitation.
    visits = tmp_path / "visits.csv"
    with visits.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["encounter_id", "patient", "clinician_npi", "visit_date", "site", "service_line"])
        writer.writerow([encounter, people["patient"], people["npi"], visit_date.isoformat(), SITE, SERVICE_LINE])
    out = live_portal.manage("shell", "-c", INVITE % {"path": str(visits), "patient": people["patient"]}).stdout
    assert "invitations scheduled 1" in out and re.search(r"^sent 1$", out, re.MULTILINE), out

    message = wait_for_mail(live_portal.mail_dir, people["email"])
    assert SUBJECT in message["Subject"], message["Subject"]
    text = plain_text(message)
    html = message.get_body(preferencelist=("html",))
    words_sent = "\n".join([message["Subject"], text, html.get_content() if html is not None else ""])
    # Nothing says who was seen, where, for what or when: the link is all the patient needs.
    for detail in (
        people["name"],
        people["last_name"],
        "Ottoline",
        SITE,
        SERVICE_LINE,
        visit_date.isoformat(),
        visit_date.strftime("%B %-d"),
        visit_date.strftime("%-d %B"),
        encounter,
    ):
        assert detail.casefold() not in words_sent.casefold(), f"the invitation shows {detail!r}"
    link = INVITATION_PATH.search(text)
    assert link, f"no invitation link in the email:\n{text}"
    invitation = link.group(0)

    # 3. Signed out, the link asks the patient to sign in first and shows nothing of the visit.
    visit(page, invitation)  # axe: the sign-in page
    assert path_of(page) == "/accounts/login/", page.url
    expect(page.locator("body")).not_to_contain_text(people["last_name"])
    form = page.locator("main form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=login]").fill(people["patient"])
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    press(page, form.locator("button[type=submit]"), check=True)  # axe: the invitation's review form
    assert path_of(page) == invitation, f"the sign-in did not come back to the invitation: {page.url}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Review {people['name']}")
    expect(page.get_by_role("button", name="Do not ask me about this clinician again")).to_be_visible()
    expect(page.get_by_role("button", name="No more review requests")).to_be_visible()

    # 4. Stars for every question, from the radio groups the star labels stand for, and a comment.
    groups = page.locator("fieldset.star-rating")
    expect(groups).not_to_have_count(0)
    for group in groups.all():
        group.get_by_role("radio", name="5 stars").check()
        expect(group.get_by_role("radio", name="5 stars")).to_be_checked()
    page.get_by_label(re.compile("comment", re.IGNORECASE)).fill(COMMENT)
    press(page, "Submit review", check=True)  # axe: the thank-you page
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your review")
    expect(page.locator("main")).to_contain_text("Your review is published")

    # 5. The link works once.
    visit(page, invitation, status=410)  # axe: the "used" page
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has been used")
    expect(page.locator("main")).not_to_contain_text(people["last_name"])

    # The review is on the clinician's profile, as a verified patient's.
    visit(page, people["path"])
    expect(page.locator("main")).to_contain_text(COMMENT)

    # 6. PX staff see the invitation answered in the reports: sent, completed and the response rate.
    sent = people["sent_before"] + 1
    completed = people["completed_before"] + 1
    with browser_of_their_own(browser, live_portal) as staff:
        sign_in_with_code(staff, people["staff"], people["secret"])
        visit(staff, "/px/reports/")  # axe: the reports
        figures = staff.get_by_role("region", name="Review invitations")
        expect(_figure(figures, "Invitations sent")).to_have_text(str(sent))
        expect(_figure(figures, "Reviews written from an invitation")).to_have_text(str(completed))
        expect(_figure(figures, "Response rate")).to_have_text(f"{round(100 * completed / sent)}%")
        # The clinician's own row: one sent, opened and completed, all of it answered.
        by_clinician = figures.get_by_role("table", name="By month and clinician")
        row = by_clinician.locator("tbody tr").filter(has_text=people["title"])
        expect(row).to_have_count(1)
        columns = _columns(by_clinician)
        for column, value in (
            ("Sent", "1"),
            ("Opened", "1"),
            ("Completed", "1"),
            ("Response rate", "100%"),
            ("Reviews", "1"),
            ("From invitations", "100%"),
            ("Average, invited", "5.00"),
        ):
            expect(row.locator("td").nth(columns[column]), column).to_have_text(value)
        by_site = figures.get_by_role("table", name="Invitations by month, clinician and site")
        site_row = by_site.locator("tbody tr").filter(has_text=people["title"])
        expect(site_row).to_have_count(1)
        columns = _columns(by_site)
        for column, value in (("Site", SITE), ("Sent", "1"), ("Completed", "1"), ("Response rate", "100%")):
            expect(site_row.locator("td").nth(columns[column]), column).to_have_text(value)
