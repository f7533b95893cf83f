import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from portal_social.adapter import PortalAdapter, get_adapter
from portal_social.core import roles
from tests.factories import sign_in


class StrictAdapter(PortalAdapter):
    def requires_mfa(self, user):
        return True


def test_host_adapter_is_loaded_from_settings(settings):
    settings.PORTAL_SOCIAL_ADAPTER = "tests.core.test_adapter.StrictAdapter"
    assert isinstance(get_adapter(), StrictAdapter)


def test_example_site_uses_its_own_adapter():
    from hospital.adapter import RiversideAdapter

    assert isinstance(get_adapter(), RiversideAdapter)


def test_unimportable_adapter_raises_a_clear_error(settings):
    settings.PORTAL_SOCIAL_ADAPTER = "no.such.Adapter"
    with pytest.raises(ImproperlyConfigured, match="PORTAL_SOCIAL_ADAPTER"):
        get_adapter()


@pytest.mark.django_db
def test_host_adapter_can_require_mfa_for_patients_too(client, make_user, settings):
    settings.PORTAL_SOCIAL_ADAPTER = "tests.core.test_adapter.StrictAdapter"
    sign_in(client, make_user(roles.PATIENT))
    assert client.get("/messages/")["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
def test_new_signup_gets_the_configured_role(make_user, settings):
    settings.PORTAL_SOCIAL_DEFAULT_SIGNUP_ROLE = None
    user = make_user()
    get_adapter().populate_new_user(None, user)
    assert roles.user_roles(user) == frozenset()


@pytest.mark.django_db
def test_notifications_reach_hosts_through_send_notification_not_a_free_text_hook(
    make_user, django_capture_on_commit_callbacks
):
    from portal_social.core import notify

    user = make_user(roles.PATIENT)
    assert not hasattr(get_adapter(), "notify")  # hosts override send_notification / notification_channels
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(user, "review.responded")
    [message] = mail.outbox
    assert message.subject == "A response to your review"
    assert message.to == [user.email]
    assert "http://127.0.0.1:8000/notifications/" in message.body  # the preferences link, absolute


@pytest.mark.django_db
def test_display_name_shows_first_name_and_initial_only(make_user):
    user = make_user(first_name="Maria", last_name="Lopez")
    assert get_adapter().display_name(user) == "Maria L."
    user.first_name = ""
    assert get_adapter().display_name(user) == "Portal member"
