from django.db import migrations

from portal_social.core.roles import sync_role_groups


class Migration(migrations.Migration):
    """Portal administrators manage business calendars and closures."""

    dependencies = [("portal_social", "0011_notifications")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
