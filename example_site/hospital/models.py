from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from portal_social.core.crypto import EncryptedTextField


class HomePage(Page):
    """The portal's front page, edited in the Wagtail admin."""

    intro = models.CharField(max_length=250, blank=True)
    body = RichTextField(blank=True, features=["h2", "h3", "bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    max_count = 1


class StandardPage(Page):
    """A plain content page (visiting hours, privacy notice, community guidelines)."""

    body = RichTextField(blank=True, features=["h2", "h3", "bold", "italic", "link", "ol", "ul"])

    content_panels = Page.content_panels + [FieldPanel("body")]


class MobileNumber(models.Model):
    """The mobile number Riverside's records hold for a portal account (in a real portal, the EHR's).

    Encrypted at rest like every other identifier; portal_social reads it only
    through ``RiversideAdapter.sms_number`` when a text is sent.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="riverside_mobile")
    number = EncryptedTextField()

    def __str__(self) -> str:
        return "mobile number"
