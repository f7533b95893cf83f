"""Community pages, one module per concern; every view is a thin adaptor around ``actions``.

* ``pages``: the community list, a community, joining and leaving, starting a
  thread, reading and replying, flagging.
* ``reactions``: reactions and their "liked by" lists, permalinks and quotes.
* ``tools``: following, solving, pinning, locking and slow mode.
* ``edits``: editing a post (with its history for moderators) and deleting it.
* ``search``: search across the communities a visitor may see.
* ``people``: trust, penalties, mentors' welcomes and join requests.

Each module adds what it shows on a thread page through ``annotate_thread``:
it receives the page's post rows (dicts) and the template context, and adds
to them with a fixed number of queries whatever the number of posts.
"""

from portal_social.community.views.pages import (
    community,
    flag,
    handle,
    index,
    join,
    leave,
    new_thread,
    thread,
    thread_post,
)

__all__ = ["community", "flag", "handle", "index", "join", "leave", "new_thread", "thread", "thread_post"]
