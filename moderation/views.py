from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import moderator_required

from . import selectors


@moderator_required
@require_GET
def queue(request):
    page = Paginator(selectors.review_queue(), 25).get_page(request.GET.get("page"))
    return render(request, "moderation/queue.html", {"page": page})
