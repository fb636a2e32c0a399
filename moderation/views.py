from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import moderator_required
from detection.selectors import job_face_size, job_get_for_user

from . import charts, selectors, services
from .filters import ReviewItemFilter
from .forms import AppealForm, DecisionForm
from .models import ReviewItem


@moderator_required
@require_GET
def queue(request):
    filters = ReviewItemFilter(
        request.GET,
        queryset=selectors.review_items_offered_to(request.user).order_by(*selectors.PRIORITY),
    )
    page = Paginator(filters.qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "moderation/queue.html",
        {"filter": filters, "page": page, "query": query.urlencode(), "now": timezone.now()},
    )


def _item_page(request, item: ReviewItem, form: DecisionForm | None = None, status: int = 200):
    job = item.job
    now = timezone.now()
    return render(
        request,
        "moderation/item_detail.html",
        {
            "item": item,
            "job": job,
            "video": job.video,
            "version": job.model_version,
            "timeline": selectors.evidence_timeline(job),
            "groups": selectors.evidence_groups(job),
            "face_size": job_face_size(job),
            "persons": list(job.persons.all()),
            "history": selectors.review_history(item),
            "form": form or DecisionForm(),
            "claim_held": item.claimed_by_id == request.user.pk
            and item.claim_expires_at
            and item.claim_expires_at > now,
            "claim_other": item.claimed_by_id
            and item.claimed_by_id != request.user.pk
            and item.claim_expires_at > now,
            "barred": item.decider_bar(request.user),
            "now": now,
        },
        status=status,
    )


@moderator_required
@require_GET
def item_detail(request, pk: int):
    return _item_page(request, selectors.review_item_get(pk))


@moderator_required
@require_POST
def item_claim(request, pk: int):
    item = selectors.review_item_get(pk)
    try:
        services.review_item_claim(item_id=item.pk, moderator=request.user)
    except services.ReviewConflict as exc:
        messages.error(request, str(exc))
    return redirect("moderation:item_detail", pk=item.pk)


@moderator_required
@require_POST
def item_release(request, pk: int):
    item = selectors.review_item_get(pk)
    services.review_item_release(item_id=item.pk, moderator=request.user)
    return redirect("moderation:item_detail", pk=item.pk)


@moderator_required
@require_POST
def item_decide(request, pk: int):
    item = selectors.review_item_get(pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _item_page(request, item, form=form, status=400)
    try:
        item = services.review_item_decide(
            item_id=item.pk, moderator=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _item_page(request, item, form=form, status=400)
    except services.ReviewConflict as exc:
        messages.error(request, str(exc))
        return redirect("moderation:item_detail", pk=item.pk)
    messages.success(request, f"Decision recorded: {item.get_state_display().lower()}.")
    return redirect("moderation:queue")


@moderator_required
@require_POST
def item_heatmaps(request, pk: int):
    item = selectors.review_item_get(pk)
    services.heatmaps_request(job=item.job)
    messages.info(request, "Heatmaps are being computed by the worker; reload in a moment.")
    return redirect("moderation:item_detail", pk=item.pk)


@moderator_required
@require_GET
def heatmap_image(request, pk: int):
    heatmap = selectors.heatmap_get(pk)
    try:
        return FileResponse(heatmap.image.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404("Heatmap file missing") from None


@moderator_required
@require_GET
def dashboard(request):
    data = selectors.dashboard()
    return render(
        request,
        "moderation/dashboard.html",
        {
            **data,
            "per_day_svg": charts.decisions_per_day_svg(data["per_day"]),
            "agreement_svg": charts.agreement_svg(data["agreement"]),
        },
    )


@login_required
@require_POST
def job_appeal(request, job_id):
    """The uploader contests the decision on their own video (others: 404)."""
    job = job_get_for_user(request.user, job_id)
    if job.video.uploaded_by_id != request.user.pk:
        raise Http404("No such analysis")
    form = AppealForm(request.POST)
    url = reverse("detection:job_detail", args=[job.id])
    if not form.is_valid():
        messages.error(request, "Your appeal needs a message (at most 2000 characters).")
        return redirect(url)
    try:
        services.review_item_appeal(
            job_id=job.id, uploader=request.user, message=form.cleaned_data["message"]
        )
    except (ValidationError, services.ReviewConflict) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    except ReviewItem.DoesNotExist:
        raise Http404("This video has no review to appeal") from None
    else:
        messages.success(request, "Your appeal was sent; a different moderator will review it.")
    return redirect(url)
