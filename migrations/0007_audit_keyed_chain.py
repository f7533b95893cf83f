from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0006_encrypt_rendered_html"),
    ]

    operations = []
