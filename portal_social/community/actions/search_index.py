"""Community threads in the blind search index (``core.search``), kept current by the post hooks.

A thread is indexed as its title and the text readers see of its published
posts: the rendered HTML, with a moderator's hidden parts already removed,
as plain text. Never a post's source, and never a held, refused or deleted
post. Each post is a part of the thread's entry, so it can be added,
replaced or removed alone:

* a post is published (:data:`ON_PUBLISHED`): its text is added; when it is
  the opening post, the thread becomes visible and the whole thread (title
  and every published post) is indexed;
* a post is taken down (:data:`ON_UNPUBLISHED`: flags, a moderator, an edit
  that is now held, deletion): its text is removed; when it is the opening
  post, the thread is hidden and all of it leaves the index;
* a published post's text changes (an edit, a moderator hiding parts of a
  flagged post): :func:`post_text_changed` replaces its part.
"""

from __future__ import annotations

import html

from django.utils.html import strip_tags

from portal_social.community.actions._common import ON_PUBLISHED, ON_UNPUBLISHED
from portal_social.community.models import Post, Thread
from portal_social.core import search

SCOPE = "community.thread"
TITLE_PART = "title"
#: A word of the title counts this many times a word of a post.
TITLE_WEIGHT = 3


def readers_text(body_html: str) -> str:
    """What a reader reads of a post: its published HTML as plain text."""
    return html.unescape(strip_tags(body_html or ""))


def post_part(post: Post) -> search.Part:
    return search.Part(post.pk.hex, readers_text(post.body_html))


def _documents(threads: list[Thread]) -> dict:
    """``{thread pk: [title, each published post]}`` for a batch of threads: one query for their posts."""
    documents = {t.pk: [search.Part(TITLE_PART, t.title, TITLE_WEIGHT)] for t in threads}
    posts = Post.objects.filter(thread__in=[t.pk for t in threads], status=Post.Status.PUBLISHED).only(
        "pk", "thread_id", "body_html"
    )
    for post in posts:
        documents[post.thread_id].append(post_part(post))
    return documents


def _findable_threads():
    return Thread.objects.filter(visible=True)


def reindex_thread(thread_id) -> int:
    """Index a whole thread again (or remove it when it is not visible); returns rows written."""
    thread = _findable_threads().filter(pk=thread_id).first()
    if thread is None:
        search.remove(SCOPE, thread_id)
        return 0
    return search.index_objects(SCOPE, _documents([thread]))


def _on_published(post: Post) -> None:
    if post.is_opening:
        reindex_thread(post.thread_id)
    elif _findable_threads().filter(pk=post.thread_id).exists():
        search.index_part(SCOPE, post.thread_id, post_part(post))


def _on_unpublished(post: Post) -> None:
    if post.is_opening:
        search.remove(SCOPE, post.thread_id)
    else:
        search.remove(SCOPE, post.thread_id, part=post.pk.hex)


def post_text_changed(post: Post) -> None:
    """A post's readers' text changed (an edit, hidden parts): replace its part if it is published."""
    if post.status != Post.Status.PUBLISHED:
        return
    if post.is_opening:
        search.index_part(SCOPE, post.thread_id, post_part(post))
    else:
        _on_published(post)


ON_PUBLISHED.append(_on_published)
ON_UNPUBLISHED.append(_on_unpublished)
search.register(SCOPE, model=Thread, queryset=_findable_threads, documents=_documents)
