"""A grievance's written response (placeholder until it is built)."""

from django.http import Http404


def letter(request, case_id):
    raise Http404()


def letter_pdf(request, case_id):
    raise Http404()
