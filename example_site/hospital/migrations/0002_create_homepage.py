from django.db import migrations


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("hospital.HomePage")

    # Replace Wagtail's placeholder welcome page with the portal's home page.
    page_content_type = ContentType.objects.get(model="page", app_label="wagtailcore")
    Page.objects.filter(content_type=page_content_type, slug="home", depth=2).delete()
    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="hospital")
    home = HomePage.objects.create(
        title="Welcome to Riverside Health",
        draft_title="Welcome to Riverside Health",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
    )
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True, site_name="Riverside Health")


class Migration(migrations.Migration):
    # Before locales exist, like Wagtail's own project template, so the page
    # gets the default locale from wagtailcore's locale migration.
    run_before = [("wagtailcore", "0053_locale_model")]
    dependencies = [("hospital", "0001_initial")]

    operations = [migrations.RunPython(create_homepage, migrations.RunPython.noop)]
