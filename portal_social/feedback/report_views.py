"""Feedback reports (placeholder until they are built)."""

from django.http import Http404


def reports(request):
    raise Http404()


def export(request, fmt):
    raise Http404()


def tips(request):
    raise Http404()
