from django.apps import AppConfig


class HospitalConfig(AppConfig):
    name = "hospital"
    verbose_name = "Riverside Health portal"
    default_auto_field = "django.db.models.BigAutoField"
