"""The intake API for social-media management tools (placeholder until it is built)."""

from django.http import Http404
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def receive(request):
    raise Http404()
