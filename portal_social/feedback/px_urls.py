"""The patient-experience workspace, mounted apart from patient-facing feedback."""

from django.urls import path

from portal_social.feedback import intake_api, letter_views, px_views, report_views

app_name = "portal_social_px"

urlpatterns = [
    path("", px_views.workspace, name="workspace"),
    path("new/", px_views.new_case, name="new"),
    path("assign/", px_views.bulk_assign, name="bulk_assign"),
    path("reports/", report_views.reports_page, name="reports"),
    path("reports/export.<str:fmt>", report_views.export, name="reports_export"),
    path("reports/tips/", report_views.tips, name="tips"),
    path("api/intake/", intake_api.receive, name="intake_api"),
    path("c/<uuid:case_id>/", px_views.case, name="case"),
    path("c/<uuid:case_id>/letter/", letter_views.letter, name="letter"),
    path("c/<uuid:case_id>/file/<uuid:attachment_id>/", px_views.attachment, name="attachment"),
    path("c/<uuid:case_id>/letter.pdf", letter_views.letter_pdf, name="letter_pdf"),
    path("c/<uuid:case_id>/<str:what>/", px_views.case_action, name="case_action"),
]
