from django.db import migrations

from portal_social.core.roles import sync_role_groups


class Migration(migrations.Migration):
    """Community moderators and portal administrators manage the watched-word lists."""

    dependencies = [("portal_social", "0014_watched_words")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
