"""The blind search index (see :mod:`portal_social.core.search`): keyed hashes of words, never the words."""

from __future__ import annotations

from django.db import models


class SearchTerm(models.Model):
    """One normalised word of one part of an indexed object, as a keyed hash.

    ``scope`` names what is indexed ("community.thread"); ``object_id`` is the
    object found (its primary key in the database's form); ``part`` is the
    piece of it the word came from ("title", or a post's id), so that a piece
    can be replaced or removed alone. ``term`` is HMAC-SHA256 of the scope and
    the word under a key derived from the encryption key ``key_id`` names,
    cut to 16 bytes; ``weight`` is how often the word occurs in the part.
    """

    scope = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    part = models.CharField(max_length=64)
    term = models.BinaryField(max_length=16)
    #: Which encryption key the term was hashed under (a fingerprint, never the key).
    key_id = models.CharField(max_length=16)
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["scope", "term"], name="ps_search_term_idx"),
            models.Index(fields=["scope", "object_id", "part"], name="ps_search_object_idx"),
        ]

    def __str__(self) -> str:
        return f"Search term of {self.scope} {self.object_id}"
