"""Care relationships in bulk from the EHR's attribution list: the importer, the command and the admin screen.

Every change goes through ``messaging.actions.care`` (one transaction and one audit event per link), and no
report, on the command line or on the screen, repeats a username or a pool slug from the file.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal_social.core import roles
from portal_social.core.models import AuditEvent
from portal_social.messaging import actions
from portal_social.messaging.actions.care import add_care_relationship, end_care_relationship
from portal_social.messaging.care_import import import_care_relationships
from portal_social.messaging.care_import_views import MAX_UPLOAD_BYTES
from portal_social.messaging.models import CarePool, PoolPatient
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

URL = "/cms/portal-social/messaging/care-relationships/import/"
EVENT = "message.pool_patient"
ENROL = "/accounts/2fa/totp/activate/"
REAUTH = "/accounts/2fa/reauthenticate/"


@pytest.fixture
def people(world, make_user):
    """Two patients with no care relationship yet, with usernames worth leaking, and an inactive account."""
    new = make_user(roles.PATIENT, username="maria.santos.1962")
    another = make_user(roles.PATIENT, username="kwame.mensah.1987")
    gone = make_user(roles.PATIENT, username="ruth.abernathy.1940", is_active=False)
    world.patient.username = "maria.lopez.1975"
    world.patient.save(update_fields=["username"])
    return new, another, gone


def run(text: str, **kwargs):
    return import_care_relationships(io.StringIO(text, newline=""), **kwargs)


def events():
    return list(AuditEvent.objects.filter(action=EVENT).order_by("sequence"))


def assert_nothing_leaks(lines, *values):
    text = "\n".join(lines)
    for value in values:
        assert value not in text, value


# --------------------------------------------------------------------------- importing


def test_good_rows_link_patients_and_each_link_is_audited(world, people):
    new, another, _gone = people
    report = run(
        "pool,patient,since,status\n"
        f"cardiology,{new.username},2025-03-01,active\n"
        f"primary,{another.username},,ACTIVE\n"
        f" primary , {new.username} ,,\n"
    )
    assert report.lines() == ["imported 3", "added 3", "ended 0", "duplicates skipped 0", "errors 0"]
    assert PoolPatient.objects.get(pool=world.pool, patient=new).since == datetime.date(2025, 3, 1)
    assert PoolPatient.objects.get(pool=world.other_pool, patient=another).since == timezone.localdate()
    assert PoolPatient.objects.filter(pool=world.other_pool, patient=new).exists()
    recorded = events()
    assert [(event.patient_id, event.details) for event in recorded] == [
        (new.pk, {"pool": str(world.pool.pk), "how": "import", "change": "added"}),
        (another.pk, {"pool": str(world.other_pool.pk), "how": "import", "change": "added"}),
        (new.pk, {"pool": str(world.other_pool.pk), "how": "import", "change": "added"}),
    ]
    link = PoolPatient.objects.get(pool=world.pool, patient=new)
    assert recorded[0].actor_id is None and recorded[0].target_type == "poolpatient"
    assert recorded[0].target_id == str(link.pk)
    assert link.created_by_id is None
    # The patient may now write to the pool (the adapter's default asks for the link).
    assert world.pool in actions.pools_for(new, new)


def test_an_ended_row_deletes_the_link_and_the_patient_can_no_longer_start_a_conversation(world, people):
    assert world.pool in actions.pools_for(world.patient, world.patient)
    link = PoolPatient.objects.get(pool=world.pool, patient=world.patient)
    report = run(f"pool,patient,status\ncardiology,{world.patient.username},Ended\n")
    assert report.lines()[:3] == ["imported 1", "added 0", "ended 1"]
    assert not PoolPatient.objects.filter(pool=world.pool, patient=world.patient).exists()
    (event,) = events()
    assert event.patient_id == world.patient.pk and event.target_id == str(link.pk)
    assert event.details == {"pool": str(world.pool.pk), "how": "import", "change": "ended"}
    assert world.pool not in actions.pools_for(world.patient, world.patient)
    with pytest.raises(actions.MessagingDenied):
        actions.start_conversation(
            sender=world.patient,
            patient=world.patient,
            pool=world.pool,
            topic="medical_question",
            subject="A question",
            body="Can I still write?",
        )


def test_duplicates_in_the_file_and_in_the_database_change_nothing(world, people):
    new, _another, _gone = people
    since_before = PoolPatient.objects.get(pool=world.pool, patient=world.patient).since
    report = run(
        "pool,patient,since,status\n"
        f"cardiology,{world.patient.username},2020-01-01,active\n"  # linked already: left as it is
        f"cardiology,{new.username},,active\n"
        f"cardiology,{new.username},,active\n"  # the same pool and patient again in the file
        f"cardiology,{new.username},,ended\n"  # and again, with another status: still the same key
        f"primary,{world.patient.username},,ended\n"  # no such link: nothing to end
    )
    assert report.lines() == ["imported 1", "added 1", "ended 0", "duplicates skipped 4", "errors 0"]
    assert PoolPatient.objects.get(pool=world.pool, patient=world.patient).since == since_before
    assert PoolPatient.objects.filter(pool=world.pool, patient=new).exists()
    assert len(events()) == 1


def test_bad_rows_are_reported_by_line_and_column_and_never_by_value(world, people):
    new, another, gone = people
    CarePool.objects.create(name="Closed clinic", slug="closed-clinic", active=False)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    report = run(
        "pool,patient,since,status\n"
        f"oncology-west,{new.username},,\n"  # 2: unknown pool
        f"closed-clinic,{new.username},,\n"  # 3: inactive pool
        "cardiology,nobody.by.this.name,,\n"  # 4: unknown patient
        f"cardiology,{gone.username},,\n"  # 5: inactive account
        f"cardiology,{new.username},05/01/2025,\n"  # 6: not YYYY-MM-DD
        f"cardiology,{new.username},20250105,\n"  # 7: ISO, but not the form asked for
        f"cardiology,{new.username},{tomorrow},\n"  # 8: in the future
        f"cardiology,{new.username},,paused\n"  # 9: unknown status
        f"cardiology,{another.username},2025-02-30,\n"  # 10: no such day
        f"primary,{another.username},,active\n"  # 11: good, after all of that
        ",,,\n"  # a blank line is skipped
        f"cardiology,{new.username}\n"  # 13: too few values
    )
    assert report.lines() == [
        "imported 1",
        "added 1",
        "ended 0",
        "duplicates skipped 0",
        "errors 10",
        "line 2: pool: no care-team pool has this slug",
        "line 3: pool: This care-team pool is not active.",
        "line 4: patient: no portal account has this username",
        "line 5: patient: This portal account is not active.",
        "line 6: since: not a date (YYYY-MM-DD)",
        "line 7: since: not a date (YYYY-MM-DD)",
        "line 8: since: a care relationship cannot start in the future",
        "line 9: status: must be active or ended",
        "line 10: since: not a date (YYYY-MM-DD)",
        "line 13: 2 values for 4 columns",
    ]
    assert_nothing_leaks(
        report.lines(),
        new.username,
        another.username,
        gone.username,
        "nobody.by.this.name",
        "oncology-west",
        "closed-clinic",
        "cardiology",
        "paused",
        "05/01/2025",
    )
    assert list(PoolPatient.objects.filter(patient__in=[new, gone]).values_list("pk", flat=True)) == []
    assert PoolPatient.objects.filter(pool=world.other_pool, patient=another).exists()
    assert len(events()) == 1


def test_several_problems_in_one_row_are_all_reported(world, people):
    report = run("pool,patient,since,status\nnowhere,no.one.here,yesterday,maybe\n")
    assert report.lines()[5:] == [
        "line 2: pool: no care-team pool has this slug",
        "line 2: patient: no portal account has this username",
        "line 2: since: not a date (YYYY-MM-DD)",
        "line 2: status: must be active or ended",
    ]


def test_a_dry_run_checks_every_row_and_writes_nothing(world, people):
    new, _another, _gone = people
    before = set(PoolPatient.objects.values_list("pk", flat=True))
    report = run(
        "pool,patient,status\n"
        f"cardiology,{new.username},active\n"
        f"cardiology,{world.patient.username},ended\n"
        f"cardiology,{world.patient.username},active\n"  # same key again: a duplicate
        "cardiology,no.one.here,active\n",
        dry_run=True,
    )
    assert report.lines() == [
        "would import 2",
        "would add 1",
        "would end 1",
        "duplicates skipped 1",
        "errors 1",
        "line 5: patient: no portal account has this username",
    ]
    assert set(PoolPatient.objects.values_list("pk", flat=True)) == before
    assert events() == []


@pytest.mark.parametrize(
    ("text", "stopped"),
    [
        ("", "stopped: line 1: the file is empty: the first line must name the columns"),
        ("pool,since\ncardiology,2025-01-01\n", "stopped: line 1: missing required columns: patient"),
        (
            "pool,patient,mrn\ncardiology,someone,123\n",
            "stopped: line 1: unknown columns: mrn (known: pool, patient, since, status)",
        ),
        ("pool,patient,pool\ncardiology,someone,x\n", "stopped: line 1: a column is named twice"),
    ],
)
def test_a_header_problem_stops_the_import_before_any_row(world, text, stopped):
    report = run(text)
    assert report.stopped and report.lines()[-1] == stopped
    assert report.imported == 0 and events() == []


def test_the_action_refuses_someone_without_the_permission(world, people):
    new, _another, _gone = people
    with pytest.raises(actions.MessagingDenied):
        add_care_relationship(actor=world.clinician, pool=world.pool, patient=new)
    with pytest.raises(actions.MessagingDenied):
        end_care_relationship(actor=world.clinician, pool=world.pool, patient=world.patient)
    assert not PoolPatient.objects.filter(patient=new).exists()
    assert PoolPatient.objects.filter(pool=world.pool, patient=world.patient).exists()


# --------------------------------------------------------------------------- the command


def test_the_command_imports_a_utf8_file_with_a_byte_order_mark(world, people, tmp_path):
    new, _another, _gone = people
    path = tmp_path / "attribution.csv"
    path.write_bytes(
        (f"pool,patient,since,status\r\ncardiology,{new.username},2025-01-05,active\r\n").encode("utf-8-sig")
    )
    out = io.StringIO()
    call_command("portal_social_messaging", "import-care-relationships", str(path), "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[:3] == ["would import 1", "would add 1", "would end 0"]
    assert not PoolPatient.objects.filter(patient=new).exists()
    out = io.StringIO()
    call_command("portal_social_messaging", "import-care-relationships", str(path), stdout=out)
    assert out.getvalue().splitlines() == ["imported 1", "added 1", "ended 0", "duplicates skipped 0", "errors 0"]
    assert PoolPatient.objects.get(patient=new).since == datetime.date(2025, 1, 5)
    (event,) = events()
    assert event.actor_id is None and event.details["how"] == "import"


def test_the_command_reports_bad_rows_and_exits_zero_when_it_read_the_whole_file(world, people, tmp_path):
    path = tmp_path / "attribution.csv"
    path.write_text("pool,patient\ncardiology,no.one.here\n", encoding="utf-8")
    out = io.StringIO()
    call_command("portal_social_messaging", "import-care-relationships", str(path), stdout=out)
    assert out.getvalue().splitlines()[-1] == "line 2: patient: no portal account has this username"
    assert "no.one.here" not in out.getvalue()


def test_the_command_fails_when_the_file_cannot_be_read(world, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("portal_social_messaging", "import-care-relationships", str(tmp_path / "missing.csv"))
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("username,team\nsomeone,cardiology\n", encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("portal_social_messaging", "import-care-relationships", str(bad_header), stdout=out)
    assert out.getvalue().splitlines()[-1].startswith("stopped: line 1: unknown columns")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("pool,patient\ncardiology,jos\xe9\n".encode("latin-1"))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("portal_social_messaging", "import-care-relationships", str(latin1), stdout=out)
    assert "the file is not UTF-8 text" in out.getvalue().splitlines()[-1]
    assert events() == []


def test_the_sweep_still_takes_its_limit(world, capsys):
    call_command("portal_social_messaging", "sweep", "--limit", "5")
    assert "late conversations escalated: 0" in capsys.readouterr().out


# --------------------------------------------------------------------------- the admin screen


@pytest.fixture
def administrator(make_user):
    return make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)


def _signed_in(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def _upload(text: str | bytes, name: str = "attribution.csv") -> SimpleUploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_url_and_the_menu_item(world, administrator):
    assert reverse("portal_social_care_relationships_import") == URL
    client = _signed_in(administrator)
    assert URL in client.get("/cms/").content.decode()
    moderator = _signed_in(world.moderator)  # in the admin, but may not manage care relationships
    page = moderator.get("/cms/")
    assert page.status_code == 200 and URL not in page.content.decode()


def test_an_administrator_imports_and_reads_the_report_on_the_same_page(world, people, administrator):
    new, _another, _gone = people
    client = _signed_in(administrator)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Check only (dry run)" in page.content.decode()
    response = client.post(
        URL,
        {
            "file": _upload(
                "pool,patient,status\n"
                f"cardiology,{new.username},active\n"
                f"cardiology,{world.patient.username},ended\n"
                "oncology-west,no.one.here,active\n"  # one row refused, with problems in two columns
            )
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Import finished" in html
    assert "1 care relationship added" in html and "1 care relationship ended" in html and "1 row refused" in html
    assert "no care-team pool has this slug" in html and "no portal account has this username" in html
    for value in (new.username, world.patient.username, "no.one.here", "oncology-west"):
        assert value not in html
    assert PoolPatient.objects.filter(pool=world.pool, patient=new, created_by=administrator).exists()
    assert not PoolPatient.objects.filter(pool=world.pool, patient=world.patient).exists()
    added, ended = events()
    assert added.actor_id == administrator.pk and ended.actor_id == administrator.pk
    assert (added.details["change"], ended.details["change"]) == ("added", "ended")
    assert added.details["how"] == "import"


def test_check_only_on_the_screen_writes_nothing(world, people, administrator):
    new, _another, _gone = people
    client = _signed_in(administrator)
    response = client.post(URL, {"file": _upload(f"pool,patient\ncardiology,{new.username}\n"), "dry_run": "on"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Check only: nothing was changed" in html and "1 care relationship would be added" in html
    assert not PoolPatient.objects.filter(patient=new).exists()
    assert events() == []


def test_a_file_over_5_mb_is_refused_with_a_clear_error_and_nothing_is_written(world, people, administrator):
    new, _another, _gone = people
    client = _signed_in(administrator)
    row = f"cardiology,{new.username}\n"
    data = ("pool,patient\n" + row * (MAX_UPLOAD_BYTES // len(row) + 1)).encode()
    assert len(data) > MAX_UPLOAD_BYTES
    response = client.post(URL, {"file": _upload(data)})
    assert response.status_code == 200
    assert "The file is larger than 5 MB" in response.content.decode()
    assert not PoolPatient.objects.filter(patient=new).exists()
    assert events() == []


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_error(world, people, administrator):
    client = _signed_in(administrator)
    response = client.post(URL, {"file": _upload("pool,patient\ncardiology,jos\xe9\n".encode("latin-1"))})
    assert response.status_code == 200
    assert "The file is not UTF-8 text" in response.content.decode()
    assert events() == []


@pytest.mark.parametrize("who", ["moderator", "superuser", roles.PATIENT_EXPERIENCE, roles.RISK_MANAGER])
def test_staff_without_both_permissions_get_not_found(world, people, make_user, who):
    """Admin access is not enough; neither is ``is_superuser`` (no role holds the permissions)."""
    new, _another, _gone = people
    user = getattr(world, who) if hasattr(world, who) else make_user(who, mfa=True)
    client = _signed_in(user)
    assert client.get(URL).status_code == 404
    response = client.post(URL, {"file": _upload(f"pool,patient\ncardiology,{new.username}\n")})
    assert response.status_code == 404
    assert not PoolPatient.objects.filter(patient=new).exists()


def test_holding_only_one_of_the_two_permissions_is_not_enough(world, make_user):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Care links: add only")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(content_type__app_label="portal_social", codename="add_poolpatient"),
    )
    user = make_user(roles.CARE_TEAM, mfa=True)
    user.groups.add(group)
    assert _signed_in(user).get(URL).status_code == 404
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="portal_social", codename="delete_poolpatient")
    )
    assert _signed_in(user).get(URL).status_code == 200


@pytest.mark.parametrize("who", ["patient", "clinician", "nurse"])
def test_people_without_admin_access_are_kept_out_of_the_admin_and_nothing_is_written(world, people, who):
    """The package's staff-area page answers before the screen does (``core.staff_area``)."""
    new, _another, _gone = people
    client = _signed_in(getattr(world, who))
    assert client.get(URL).status_code == 403
    response = client.post(URL, {"file": _upload(f"pool,patient\ncardiology,{new.username}\n")})
    assert response.status_code == 403
    assert not PoolPatient.objects.filter(patient=new).exists()


def test_signed_out_visitors_are_sent_to_sign_in(world):
    response = Client().get(URL)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_staff_whose_session_did_not_pass_the_second_factor_are_sent_to_it(world, administrator, make_user):
    client = Client()
    client.force_login(administrator)  # password only
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(REAUTH)
    assert client.post(URL, {"file": _upload("pool,patient\n")}).status_code == 403
    unenrolled = Client()
    unenrolled.force_login(make_user(roles.PORTAL_ADMINISTRATOR))
    assert unenrolled.get(URL)["Location"] == ENROL
