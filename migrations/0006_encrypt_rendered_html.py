from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0005_encrypt_review_comments"),
    ]

    operations = []
