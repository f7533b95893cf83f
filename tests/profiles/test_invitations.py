"""Review invitations: visits pulled once, invitations throttled and excluded, links signed,
single-use and the invited patient's only, opt-outs, delivery retries, and the figures."""

from __future__ import annotations

import datetime
import io
import logging
import re
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portal_social import signals
from portal_social.adapter import CompletedVisit, PortalAdapter
from portal_social.conf import app_settings
from portal_social.core import access, notify
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.profiles import actions, invitation_metrics, tasks
from portal_social.profiles.actions import invitations
from portal_social.profiles.invitation_models import InvitationOptOut, ReviewInvitation, Visit, VisitPull
from portal_social.profiles.models import ClinicianPage, Review
from portal_social.profiles.visit_import import import_visits
from tests.clinicians import valid_npi
from tests.factories import sign_in
from tests.privacy.plaintext import contains, pg_dump_bytes, sqlite_bytes

pytestmark = pytest.mark.django_db

QUESTIONS = [key for key, _label in app_settings.REVIEW_QUESTIONS]
ENCOUNTER = "ENC-7731-5509-QX"
SITE = "Springfield Heart Center"


@pytest.fixture
def invitee(make_patient):
    """A patient with no care-team link: only a visit makes them eligible."""
    return make_patient(linked=False, first_name="Zebulon", last_name="Quartermaine", username="zq-patient")


def visit_on(patient, clinician, days_ago=3, *, encounter=None, service_line="Cardiology", site=SITE):
    encounter = encounter or f"ENC-{patient.pk}-{clinician.pk}-{days_ago}-{Visit.objects.count()}"
    return Visit.objects.create(
        encounter_id=encounter,
        encounter_digest=invitations.encounter_digests(encounter)[0],
        patient=patient,
        clinician_npi=clinician.npi,
        site=site,
        visit_date=timezone.localdate() - datetime.timedelta(days=days_ago),
        service_line=service_line,
    )


def later(days=1):
    return timezone.now() + datetime.timedelta(days=days)


def pull_and_send(now=None):
    now = now or later(0)
    invitations.pull_visits(now=now)
    return invitations.send_due(now=now)


def stars(value):
    return {f"rating_{key}": str(value) for key in QUESTIONS}


def link_of(message) -> str:
    found = re.search(r"https?://[^/\s]+(/clinician-reviews/invitation/[^/\s]+/)", message.body)
    assert found, message.body
    return found.group(1)


def sent_link(invitee, django_capture_on_commit_callbacks, clinician=None) -> str:
    """A visit with the clinician ("Ana Lopez" by default), pulled and invited: the link the email carries."""
    visit_on(invitee, clinician or ClinicianPage.objects.get(title="Ana Lopez"))
    with django_capture_on_commit_callbacks(execute=True):
        pull_and_send()
    [message] = [m for m in mail.outbox if invitee.email in m.to]
    return link_of(message)


# --------------------------------------------------------------------------- pulling visits


def test_a_pull_records_each_encounter_once_and_schedules_it_after_the_delay(invitee, clinician):
    visit_on(invitee, clinician, days_ago=0, encounter=ENCOUNTER)
    now = timezone.now()
    report = invitations.pull_visits(now=now)
    assert (report.new, report.scheduled, report.duplicates) == (1, 1, 0)
    invitation = ReviewInvitation.objects.get()
    assert invitation.status == ReviewInvitation.Status.SCHEDULED
    assert invitation.clinician == clinician and invitation.site == SITE
    expected = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=1), datetime.time(9))
    )
    assert invitation.send_after == expected
    assert invitation.expires_at == expected + datetime.timedelta(days=30)
    # The same encounter again, from the table (the overlap) and from an adapter: nothing new.
    again = invitations.pull_visits(now=now + datetime.timedelta(minutes=5))
    assert (again.new, again.duplicates) == (0, 1)

    class Twice(PortalAdapter):
        def completed_visits(self, since):
            for _ in range(2):
                yield CompletedVisit(invitee, timezone.localdate(), ENCOUNTER, clinician=clinician)

    assert invitations.pull_visits(now=now, adapter=Twice()).duplicates == 2
    assert ReviewInvitation.objects.count() == 1
    # Nothing is sent before the delay has passed.
    assert invitations.send_due(now=now) == {}


def test_a_visit_makes_the_patient_eligible_to_review_even_a_clinician_without_an_account(
    invitee, clinician, make_clinician
):
    no_account = make_clinician("Ines", "Moreau")
    assert not access.can(invitee, "review", clinician)
    assert not access.can(invitee, "review", no_account)
    visit_on(invitee, clinician)
    visit_on(invitee, no_account)
    invitations.pull_visits(now=timezone.now())
    assert access.can(invitee, "review", clinician)
    assert access.can(invitee, "review", no_account)


def test_unknown_clinicians_are_reported_not_dropped(invitee, caplog):
    unknown = valid_npi(990001)
    Visit.objects.create(
        encounter_id="E-1",
        encounter_digest=invitations.encounter_digests("E-1")[0],
        patient=invitee,
        clinician_npi=unknown,
        visit_date=timezone.localdate(),
    )
    with caplog.at_level(logging.WARNING, logger="portal_social.profiles"):
        report = invitations.pull_visits(now=timezone.now())
    assert report.unknown_clinicians == {unknown: 1}
    assert f"  no clinician has NPI {unknown}: 1 visit(s)" in report.lines()
    assert unknown in caplog.text
    row = ReviewInvitation.objects.get()
    assert (row.status, row.not_sent_reason, row.clinician_npi) == ("not_sent", "unknown_clinician", unknown)
    summary = invitation_metrics.build(timezone.now() - datetime.timedelta(days=1), later())
    assert summary.unknown_clinicians == 1


@pytest.mark.parametrize(
    "service_line", ["Behavioral Health", "behavioural-health", "HIV care", "Substance Use", "  PSYCHIATRY "]
)
def test_visits_in_excluded_service_lines_are_never_invited(invitee, clinician, service_line):
    visit_on(invitee, clinician, service_line=service_line)
    report = invitations.pull_visits(now=timezone.now())
    assert report.excluded == 1
    row = ReviewInvitation.objects.get()
    assert (row.status, row.not_sent_reason) == ("not_sent", "excluded")
    assert invitations.send_due(now=later(40)) == {}
    assert not Notification.objects.exists()


def test_the_excluded_list_is_a_setting(invitee, clinician, settings):
    settings.PORTAL_SOCIAL_REVIEW_INVITATION_EXCLUDED_SERVICE_LINES = "Dermatology, Sleep & Breathing"
    visit_on(invitee, clinician, service_line="Sleep and Breathing")
    visit_on(invitee, clinician, days_ago=4, service_line="Behavioral Health")
    report = invitations.pull_visits(now=timezone.now())
    assert (report.excluded, report.scheduled) == (1, 1)


def test_visits_too_old_to_ask_about_and_malformed_ones_are_counted(invitee, clinician):
    visit_on(invitee, clinician, days_ago=60)

    class Broken(PortalAdapter):
        def completed_visits(self, since):
            yield CompletedVisit(invitee, timezone.localdate(), "", clinician=clinician)
            yield CompletedVisit(invitee, timezone.localdate(), "x" * 101, clinician=clinician)
            yield CompletedVisit(invitee, timezone.localdate() + datetime.timedelta(days=2), "F1", clinician=clinician)
            yield CompletedVisit(None, timezone.localdate(), "F2", clinician=clinician)
            yield CompletedVisit(invitee, "2026-01-01", "F3", clinician=clinician)

    assert invitations.pull_visits(now=timezone.now()).too_old == 1
    assert invitations.pull_visits(now=timezone.now(), adapter=Broken()).invalid == 5
    assert ReviewInvitation.objects.get().not_sent_reason == "too_old"


def test_each_pull_starts_where_the_last_one_ended(invitee, clinician):
    now = timezone.now()
    invitations.pull_visits(now=now)
    assert VisitPull.objects.get(name="visits").pulled_through == now
    seen = []

    class Recorder(PortalAdapter):
        def completed_visits(self, since):
            seen.append(since)
            return iter(())

    invitations.pull_visits(now=later(0), adapter=Recorder())
    assert seen == [now - invitations.PULL_OVERLAP]


# --------------------------------------------------------------------------- sending


def test_a_due_invitation_is_one_email_without_phi(invitee, clinician, django_capture_on_commit_callbacks):
    visit_on(invitee, clinician, encounter=ENCOUNTER)
    with django_capture_on_commit_callbacks(execute=True):
        counts = pull_and_send()
    assert counts == {"sent": 1}
    [message] = mail.outbox
    assert message.to == [invitee.email]
    assert message.subject == "Tell us about your recent visit"
    link = link_of(message)
    assert ReviewInvitation.objects.get().status == "sent"
    # Sending again, or the task running twice, sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.send_due(now=later(0)) == {}
        assert invitations.send_one(ReviewInvitation.objects.get().pk, now=later(0)) == "sent"
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1
    assert link.count("/") == 4  # /clinician-reviews/invitation/<token>/


def test_no_invitation_template_carries_phi(invitee, make_clinician, make_taxonomy):
    """Every invitation message, rendered for a patient whose records are full of identifiers."""
    from portal_social.profiles.models import Specialty

    page = make_clinician("Cornelius", "Vanderwaal", specialties=["Reproductive Endocrinology"], locations=[SITE])
    visit_on(invitee, page, days_ago=9, encounter=ENCOUNTER, service_line="Fertility")
    invitations.pull_visits(now=timezone.now())
    invitation = ReviewInvitation.objects.get()
    visit_day = invitation.visit_date
    phi = [
        "Zebulon",
        "Quartermaine",
        "zq-patient",
        "Cornelius",
        "Vanderwaal",
        page.npi,
        Specialty.objects.get().name,
        "Fertility",
        SITE,
        ENCOUNTER,
        visit_day.isoformat(),
        visit_day.strftime("%m/%d/%Y"),
        visit_day.strftime("%d %b"),
        visit_day.strftime("%B %-d"),
        str(invitation.public_id),
        str(invitation.pk),
    ]
    template = notify.get_template("review.invitation")
    rendered = [notify.render(template, {"invitation": invitation.public_id}, invitee)]
    notification = notify.notify(invitee, "review.invitation", params={"invitation": invitation.public_id})
    rendered.append(notify.render_notification(notification))
    rendered.append(notify.render_digest([notification], invitee))
    for message in rendered:
        for part in (message.subject, message.text, message.html, message.url):
            for value in phi:
                assert value.lower() not in part.lower(), (value, part[:200])
    assert set(notification.params) == {"invitation"}


def test_at_most_one_invitation_per_clinician_in_twelve_months(invitee, clinician):
    visit_on(invitee, clinician, days_ago=5)
    pull_and_send(later(-3))
    visit_on(invitee, clinician, days_ago=1)
    assert pull_and_send(later(1)) == {"not_sent:recent": 1}


def test_a_patient_who_reviewed_recently_is_not_asked(invitee, clinician):
    visit_on(invitee, clinician, days_ago=5)
    invitations.pull_visits(now=timezone.now())
    actions.submit_review(author=invitee, clinician=clinician, ratings=dict.fromkeys(QUESTIONS, 4))
    assert invitations.send_due(now=later(0)) == {"not_sent:recent": 1}


def test_the_monthly_cap_holds_across_clinicians(invitee, make_clinician, settings):
    settings.PORTAL_SOCIAL_REVIEW_INVITATION_MONTHLY_CAP = 2
    pages = [make_clinician("Doc", f"Number{n}") for n in range(3)]
    for page in pages:
        visit_on(invitee, page, days_ago=5)
    assert pull_and_send() == {"sent": 2, "not_sent:capped": 1}


def test_opting_out_of_everyone_or_one_clinician(invitee, clinician, make_clinician):
    other = make_clinician("Ines", "Moreau")
    assert actions.opt_out(invitee, clinician=clinician)
    assert not actions.opt_out(invitee, clinician=clinician)  # already so: one row
    visit_on(invitee, clinician)
    visit_on(invitee, other)
    assert pull_and_send() == {"sent": 1, "not_sent:opted_out": 1}
    assert actions.opt_out(invitee)
    visit_on(invitee, make_clinician("Third", "Doctor"))
    assert pull_and_send() == {"not_sent:opted_out": 1}
    assert InvitationOptOut.objects.filter(patient=invitee).count() == 2
    assert AuditEvent.objects.filter(action="review_invitation.opt_out", patient_id=invitee.pk).count() == 2
    assert actions.opt_in(invitee, clinician_id=None)
    assert not opted(invitee, other) and opted(invitee, clinician)


def opted(patient, page):
    return invitations.opted_out(patient.pk, page.pk)


def test_a_failed_send_is_retried_and_never_sent_twice(
    invitee, clinician, settings, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def flaky(self, user, message, *, channel):
        calls.append(channel)
        if len(calls) == 1:
            raise ConnectionError("mail server down")
        mail.send_mail(message.subject, message.text, None, [user.email])

    monkeypatch.setattr(PortalAdapter, "send_notification", flaky)
    visit_on(invitee, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        assert pull_and_send() == {"sent": 1}
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert ReviewInvitation.objects.get().status == "sent"
    assert len(mail.outbox) == 0
    with django_capture_on_commit_callbacks(execute=True):
        invitations.send_due(now=later(0))  # nothing due: no second notification
        notify.sweep()
    assert Notification.objects.count() == 1
    Notification.objects.update(next_attempt_at=timezone.now())
    assert notify.deliver(notification.public_id) == "sent"
    assert notify.deliver(notification.public_id) == "sent"
    assert len(mail.outbox) == 1


def test_the_adapter_can_send_by_sms_too(invitee, clinician, monkeypatch, django_capture_on_commit_callbacks):
    texts = []
    monkeypatch.setattr(PortalAdapter, "notification_channels", lambda self, user, template: ["email", "sms"])
    original = PortalAdapter.send_notification

    def send(self, user, message, *, channel):
        if channel == "sms":
            texts.append(message.text)
        else:
            original(self, user, message, channel=channel)

    monkeypatch.setattr(PortalAdapter, "send_notification", send)
    visit_on(invitee, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        pull_and_send()
    assert len(texts) == 1 and len(mail.outbox) == 1
    assert "Ana" not in texts[0] and "Lopez" not in texts[0]


# --------------------------------------------------------------------------- the link


def test_the_link_asks_for_sign_in_first_and_shows_nothing(
    client, invitee, clinician, django_capture_on_commit_callbacks
):
    link = sent_link(invitee, django_capture_on_commit_callbacks)
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert ReviewInvitation.objects.get().opened_at is None


def test_the_invited_patient_reviews_once_through_the_link(
    client, invitee, clinician, django_capture_on_commit_callbacks
):
    link = sent_link(invitee, django_capture_on_commit_callbacks)
    sign_in(client, invitee)
    response = client.get(link)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Review Ana Lopez" in html and "No more review requests" in html
    opened = ReviewInvitation.objects.get()
    assert opened.status == "opened" and opened.opened_at is not None
    client.get(link)
    assert ReviewInvitation.objects.get().opened_at == opened.opened_at  # counted once

    response = client.post(link, {**stars(5), "comment": "Clear and kind."})
    assert response.status_code == 302
    review = Review.objects.get()
    done = ReviewInvitation.objects.get()
    assert (done.status, done.review_id) == ("completed", review.pk)
    assert AuditEvent.objects.get(action="review.submit").details["invited"] is True

    for method in (client.get, lambda url: client.post(url, stars(1))):
        again = method(link)
        assert again.status_code == 410
        assert "This link has been used" in again.content.decode()
    assert Review.objects.count() == 1


def test_someone_else_gets_the_same_answer_as_a_made_up_link(
    client, invitee, clinician, make_patient, django_capture_on_commit_callbacks
):
    link = sent_link(invitee, django_capture_on_commit_callbacks)
    token = link.rstrip("/").rsplit("/", 1)[1]
    sign_in(client, make_patient())
    answers = []
    for url in (
        link,
        link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
        reverse("portal_social_profiles:invitation", args=[str(ReviewInvitation.objects.get().public_id)]),
        reverse("portal_social_profiles:invitation", args=["x" * 300]),
        reverse(
            "portal_social_profiles:invitation",
            args=[signing.dumps(str(ReviewInvitation.objects.get().public_id), salt="another purpose")],
        ),
    ):
        response = client.get(url)
        answers.append((response.status_code, response.content.decode().count("This link does not work")))
    assert answers == [(404, 2)] * 5
    assert ReviewInvitation.objects.get().opened_at is None


def test_an_expired_link_says_so_and_records_nothing(client, invitee, clinician, django_capture_on_commit_callbacks):
    link = sent_link(invitee, django_capture_on_commit_callbacks)
    ReviewInvitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    sign_in(client, invitee)
    response = client.get(link)
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert client.post(link, stars(4)).status_code == 410
    assert not Review.objects.exists() and ReviewInvitation.objects.get().opened_at is None
    assert invitations.expire() == 1
    assert ReviewInvitation.objects.get().status == "expired"


def test_opting_out_from_the_link(client, invitee, clinician, django_capture_on_commit_callbacks):
    link = sent_link(invitee, django_capture_on_commit_callbacks)
    sign_in(client, invitee)
    response = client.post(link, {"opt_out": "clinician"}, follow=True)
    assert "We will not ask you to review this clinician again." in response.content.decode()
    assert "Ask me about Ana Lopez again" in response.content.decode()
    assert InvitationOptOut.objects.filter(patient=invitee, clinician=clinician).exists()
    requests_url = reverse("portal_social_profiles:invitation_requests")
    client.post(requests_url, {"change": "all_off"})
    assert InvitationOptOut.objects.filter(patient=invitee, clinician__isnull=True).exists()
    client.post(requests_url, {"change": str(clinician.pk)})
    client.post(requests_url, {"change": "all_on"})
    client.post(requests_url, {"change": "not-a-number"})
    client.post(requests_url, {"change": "99999999999999999999"})
    assert not InvitationOptOut.objects.filter(patient=invitee).exists()


def test_a_low_rating_from_an_invitation_goes_to_service_recovery(
    client, invitee, clinician, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    signals.content_needs_attention.connect(receiver, dispatch_uid="test-invited-low-rating")
    try:
        link = sent_link(invitee, django_capture_on_commit_callbacks)
        sign_in(client, invitee)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(link, stars(2)).status_code == 302
    finally:
        signals.content_needs_attention.disconnect(dispatch_uid="test-invited-low-rating")
    assert [r.get("cause") for r in received] == ["low_rating"]


# --------------------------------------------------------------------------- figures


def test_figures_count_invitations_and_compare_invited_with_uninvited_reviews(
    invitee, clinician, make_patient, django_capture_on_commit_callbacks
):
    others = [make_patient(linked=False) for _ in range(3)]
    for patient in [invitee, *others]:
        visit_on(patient, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        pull_and_send()
    rows = {row.patient_id: row for row in ReviewInvitation.objects.all()}
    invitations.open_invitation(rows[others[0].pk])
    for patient, value in ((invitee, 5), (others[1], 3)):
        actions.submit_review(
            author=patient, clinician=clinician, ratings=dict.fromkeys(QUESTIONS, value), invitation=rows[patient.pk]
        )
    uninvited = make_patient()  # on the care team, no invitation
    actions.submit_review(author=uninvited, clinician=clinician, ratings=dict.fromkeys(QUESTIONS, 2))

    summary = invitation_metrics.build(*invitation_metrics.last_months(1))
    total = summary.total
    assert (total.sent, total.opened, total.completed) == (4, 3, 2)
    assert total.response_rate == 50
    assert (total.reviews, total.invited_reviews, total.invited_share) == (3, 2, 67)
    assert total.invited_average == Decimal("4.00") and total.uninvited_average == Decimal("2.00")
    [row] = summary.by_site
    assert (row.clinician, row.site, row.figures.sent) == ("Ana Lopez", SITE, 4)
    # One clinician's own view holds only their figures.
    assert invitation_metrics.build(*invitation_metrics.last_months(1), clinician=clinician).total.sent == 4


def test_the_figures_appear_on_the_reports_page_and_the_clinicians_own_page(
    client, invitee, clinician, clinician_user, px, django_capture_on_commit_callbacks
):
    visit_on(invitee, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        pull_and_send()
    sign_in(client, px)
    html = client.get(reverse("portal_social_px:reports")).content.decode()
    assert "Review invitations" in html and "Ana Lopez" in html and SITE in html
    client.logout()
    sign_in(client, clinician_user)
    html = client.get(clinician.url + clinician.reverse_subpage("edit_profile")).content.decode()
    assert "Review invitations" in html and "Invitations sent" in html
    assert "Quartermaine" not in html


def test_figures_take_a_fixed_number_of_queries(
    invitee, clinician, make_patient, make_clinician, django_assert_max_num_queries
):
    start, end = invitation_metrics.last_months(1)
    with django_assert_max_num_queries(4):
        invitation_metrics.build(start, end)
    for n in range(6):
        page = make_clinician("Doc", f"Q{n}")
        visit_on(make_patient(linked=False), page)
    pull_and_send()
    start, end = invitation_metrics.last_months(1)
    with django_assert_max_num_queries(4):
        summary = invitation_metrics.build(start, end)
    assert summary.total.sent == 6


# --------------------------------------------------------------------------- import, command, task


def csv_of(*rows, header="encounter_id,patient,clinician_npi,visit_date,site,service_line"):
    return io.StringIO("\n".join([header, *rows]) + "\n")


def test_the_csv_import_is_idempotent_and_reports_bad_rows_by_line(invitee, clinician):
    today = timezone.localdate().isoformat()
    stream = csv_of(
        f"E1,{invitee.username},{clinician.npi},{today},{SITE},Cardiology",
        f"E1,{invitee.username},{clinician.npi},{today},{SITE},Cardiology",
        f"E2,nobody-here,{clinician.npi},{today},,",
        f"E3,{invitee.username},123,{today},,",
        f"E4,{invitee.username},{clinician.npi},2999-01-01,,",
        f",{invitee.username},{clinician.npi},yesterday,,",
    )
    report = import_visits(stream)
    assert (report.imported, report.duplicates) == (1, 1)
    assert [str(e) for e in report.errors] == [
        "line 4: patient: no portal account has this username",
        "line 5: clinician_npi: not a valid 10-digit NPI",
        "line 6: visit_date: a completed visit cannot be in the future",
        "line 7: encounter_id: Give the encounter's id.",
        "line 7: visit_date: not a date (YYYY-MM-DD)",
    ]
    again = import_visits(csv_of(f"E1,{invitee.username},{clinician.npi},{today},,"))
    assert (again.imported, again.duplicates) == (0, 1)
    assert import_visits(io.StringIO("who,what\n1,2\n")).stopped.startswith("line 1: unknown columns")
    dry = import_visits(csv_of(f"E9,{invitee.username},{clinician.npi},{today},,"), dry_run=True)
    assert dry.imported == 1 and Visit.objects.count() == 1


def test_the_command_imports_pulls_and_sends(tmp_path, invitee, clinician, django_capture_on_commit_callbacks):
    path = tmp_path / "visits.csv"
    yesterday = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    path.write_text(
        f"encounter_id,patient,clinician_npi,visit_date\nE1,{invitee.username},{clinician.npi},{yesterday}\n"
    )
    out = io.StringIO()
    call_command("portal_social_review_invitations", "import", str(path), stdout=out)
    assert "imported 1" in out.getvalue()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("portal_social_review_invitations", "run", stdout=out)
    assert "visits new 1" in out.getvalue() and "sent 1" in out.getvalue()
    assert len(mail.outbox) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("encounter_id,patient,clinician_npi,visit_date\nE2,ghost,1,x\n")
    with pytest.raises(Exception, match="some rows were not imported"):
        call_command("portal_social_review_invitations", "import", str(bad), stdout=io.StringIO())


def test_one_chain_of_the_periodic_task_runs_at_a_time():
    now = timezone.now()
    assert tasks._claim(now)
    assert not tasks._claim(now + datetime.timedelta(minutes=1))  # another chain: it stops
    assert tasks._claim(now + tasks.INTERVAL)
    # The immediate backend (tests) cannot defer: cron's "run" is the way.
    assert tasks.schedule() is False
    assert tasks.run_invitations.call()["skipped"]


# --------------------------------------------------------------------------- at rest


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_encounter_ids_and_service_lines_are_not_stored_in_the_clear(invitee, clinician):
    visit_on(invitee, clinician, encounter=ENCOUNTER, service_line="Behavioral Health")
    import_visits(csv_of(f"ENC-CSV-4417,{invitee.username},{clinician.npi},{timezone.localdate()},,HIV care"))
    invitations.pull_visits(now=timezone.now())
    data = sqlite_bytes(connection) if connection.vendor == "sqlite" else pg_dump_bytes(connection)
    assert contains(data, SITE)  # a clear column: the search sees the table
    for value in (ENCOUNTER, "ENC-CSV-4417", "Behavioral Health", "HIV care"):
        assert not contains(data, value), value


def test_a_patient_who_cannot_be_reached_or_turned_notifications_off_is_not_counted_as_invited(make_patient, clinician):
    from portal_social.core.notify.models import NotificationPreference

    no_email = make_patient(linked=False, email="")
    quiet = make_patient(linked=False)
    NotificationPreference.objects.create(user=quiet, frequency="off")
    for patient in (no_email, quiet):
        visit_on(patient, clinician)
    assert pull_and_send() == {"not_sent:no_contact": 1, "not_sent:notifications_off": 1}
    assert not ReviewInvitation.objects.filter(sent_at__isnull=False).exists()


def test_the_requests_page_lists_the_visits_still_open_to_review(
    client, invitee, clinician, make_patient, django_capture_on_commit_callbacks
):
    link = sent_link(invitee, django_capture_on_commit_callbacks)
    sign_in(client, invitee)
    html = client.get(reverse("portal_social_profiles:invitation_requests")).content.decode()
    assert "Review your visit with Ana Lopez" in html and f'href="{link}"' in html
    requests_url = reverse("portal_social_profiles:invitation_requests")
    client.post(link, {"opt_out": "clinician"})
    assert "Review your visit with" not in client.get(requests_url).content.decode()  # not asked again
    client.post(requests_url, {"change": str(clinician.pk)})
    client.post(requests_url, {"change": "all_off"})
    assert "Review your visit with" not in client.get(requests_url).content.decode()
    client.post(requests_url, {"change": "all_on"})
    assert "Review your visit with Ana Lopez" in client.get(requests_url).content.decode()
    client.post(link, stars(4))
    html = client.get(requests_url).content.decode()
    assert "Review your visit with" not in html
    client.logout()
    sign_in(client, make_patient())
    assert (
        "Review your visit with"
        not in client.get(reverse("portal_social_profiles:invitation_requests")).content.decode()
    )


def test_the_report_exports_carry_the_figures(client, invitee, clinician, px, django_capture_on_commit_callbacks):
    visit_on(invitee, clinician)
    with django_capture_on_commit_callbacks(execute=True):
        pull_and_send()
    sign_in(client, px)
    for fmt in ("csv", "xlsx"):
        response = client.get(reverse("portal_social_px:reports_export", args=[fmt]))
        assert response.status_code == 200
    csv_text = client.get(reverse("portal_social_px:reports_export", args=["csv"])).content.decode()
    assert "review invitations,sent,1" in csv_text
    assert f"Ana Lopez at {SITE}: sent,1" in csv_text
    assert "Quartermaine" not in csv_text
