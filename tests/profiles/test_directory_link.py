"""Every page's "Find a clinician" link: the directory's address, remembered, and forgotten when the tree changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from portal_social.profiles import directory

pytestmark = pytest.mark.django_db


def _request(host="testserver"):
    return RequestFactory().get("/", HTTP_HOST=host)


def test_the_address_is_read_once_then_remembered(directory_page):
    assert directory.directory_url(_request()) == "/clinicians/"
    with CaptureQueriesContext(connection) as queries:
        assert directory.directory_url(_request()) == "/clinicians/"
    assert len(queries) == 0


def test_unpublishing_forgets_it_and_publishing_brings_it_back(directory_page):
    assert directory.directory_url(_request()) == "/clinicians/"
    directory_page.unpublish()
    assert directory.directory_url(_request()) == ""
    directory_page.save_revision().publish()
    assert directory.directory_url(_request()) == "/clinicians/"


def test_a_new_slug_and_a_deleted_page_are_seen_at_once(directory_page):
    assert directory.directory_url(_request()) == "/clinicians/"
    directory_page.slug = "find-a-doctor"
    directory_page.save_revision().publish()
    assert directory.directory_url(_request()) == "/find-a-doctor/"
    directory_page.delete()
    assert directory.directory_url(_request()) == ""


def test_the_address_expires(directory_page, monkeypatch):
    assert directory.directory_url(_request()) == "/clinicians/"
    directory._directory_urls["testserver"] = (0.0, "/stale/")  # as if remembered long ago
    assert directory.directory_url(_request()) == "/clinicians/"


def test_many_host_names_do_not_grow_the_memory_without_bound(directory_page, settings):
    settings.ALLOWED_HOSTS = ["*"]
    for n in range(200):
        directory.directory_url(_request(f"host{n}.example.org"))
    assert len(directory._directory_urls) <= 64


def test_the_navigation_links_to_the_directory(client, directory_page):
    response = client.get("/")
    assert 'href="/clinicians/"' in response.content.decode()
