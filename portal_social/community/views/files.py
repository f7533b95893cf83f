"""Community pages: files shared in clinician spaces (``actions.space_files``).

* ``annotate_thread``: each post's files on a space's thread page (one query; none elsewhere).
* ``download``: one file, to who may read its post, as a download nothing previews. 404 alike for a
  file, post, thread or space the reader may not see, and for a signed-out visitor.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import Http404, HttpResponseNotAllowed
from django.template.defaultfilters import filesizeformat

from portal_social.community.actions import space_files
from portal_social.community.models import PostFile
from portal_social.community.views._common import _signed_in, _visible_thread, url_maker


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """``row["files"]``: the files of each post on a space's thread page, in one query."""
    if not thread.community.is_space or not rows:
        return
    by_post: dict = defaultdict(list)
    shared = PostFile.objects.filter(post_id__in=[row["post"].pk for row in rows]).only(
        "id", "post_id", "filename", "size", "created_at"
    )
    for file in shared.order_by("created_at", "pk"):
        by_post[file.post_id].append(file)
    url = url_maker("space_file", thread.community.slug, thread.pk)
    for row in rows:
        row["files"] = [
            {"url": url(file.pk), "name": file.filename, "size": str(filesizeformat(file.size))}
            for file in by_post.get(row["post"].pk, ())
        ]


def download(request, slug: str, thread_id, file_id):
    """A file of a post the reader may see in a thread they may see (the thread page's own rule)."""
    from portal_social.community.views.pages import _shown_posts

    user = request.user
    if not _signed_in(user):
        raise Http404()
    thread = _visible_thread(user, slug, thread_id)
    shared = (
        PostFile.objects.filter(pk=file_id, post__in=_shown_posts(user, thread).values("pk"))
        .select_related("post")
        .first()
    )
    if shared is None:
        raise Http404()
    shared.post.thread = thread  # read above, with its community: not joined again
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return space_files.download(actor=user, shared=shared, request=request)
