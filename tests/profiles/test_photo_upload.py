"""Clinician photos: a wrong type or an oversized file gets a clear message and saves nothing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.images import get_image_model
from wagtail.images.forms import get_image_form


def _png(width=20, height=20) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def _form(name, content, content_type):
    Form = get_image_form(get_image_model())
    return Form({"title": "Dr. Photo"}, {"file": SimpleUploadedFile(name, content, content_type=content_type)})


@pytest.mark.django_db
def test_png_photo_is_accepted():
    form = _form("photo.png", _png(), "image/png")
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_gif_photo_is_refused_naming_the_allowed_types():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "GIF")
    form = _form("photo.gif", buffer.getvalue(), "image/gif")
    assert not form.is_valid()
    message = " ".join(form.errors["file"])
    assert "gif" in message.lower() or "jpg" in message.lower()
    assert not get_image_model().objects.exists()


@pytest.mark.django_db
def test_text_file_disguised_as_png_is_refused():
    form = _form("photo.png", b"this is not an image at all", "image/png")
    assert not form.is_valid()
    assert form.errors["file"]


@pytest.mark.django_db
def test_oversized_photo_is_refused_with_the_limit(settings):
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 1024
    form = _form("photo.png", _png(300, 300) + b"\0" * 2048, "image/png")
    assert not form.is_valid()
    assert "too big" in " ".join(form.errors["file"]).lower()
