import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import moderator_required
from detection.selectors import job_face_size, job_get_for_user

from . import charts, selectors, services
from .filters import ISO_DATE, ReviewItemFilter
from .forms import AppealForm, AssignForm, BulkDecisionForm, DecisionForm, SecondReviewForm
from .models import QUEUES, REASONS_BY_DECISION, ReviewItem


def _queue_filter(request) -> ReviewItemFilter:
    return ReviewItemFilter(
        request.GET,
        request=request,
        queryset=selectors.review_items_offered_to(request.user).order_by(*selectors.PRIORITY),
    )


@moderator_required
@require_GET
def queue(request):
    filters = _queue_filter(request)
    page = Paginator(filters.qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "moderation/queue.html",
        {
            "filter": filters,
            "page": page,
            "query": query.urlencode(),
            "now": timezone.now(),
            "queues": selectors.queue_counts(),
            "bulk_form": BulkDecisionForm(),
            "reasons_by_decision": _reasons_json(),
            "second_reviews": selectors.second_reviews_waiting(request.user).count(),
        },
    )


def _reasons_json() -> dict:
    return {decision: list(reasons) for decision, reasons in REASONS_BY_DECISION.items()}


def _decision_form(item: ReviewItem, data=None, **initial) -> DecisionForm:
    return DecisionForm(
        data,
        persons=list(item.job.persons.order_by("index")),
        initial={"next_queue": selectors.queue_for_state(item.state), **initial},
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
            "segments": selectors.flagged_segments(item),
            "face_size": job_face_size(job),
            "persons": list(job.persons.all()),
            "history": selectors.review_history(item),
            "form": form or _decision_form(item),
            "assign_form": AssignForm(
                initial={"assigned_to": item.assigned_to_id, "assigned_team": item.assigned_team_id}
            ),
            "reasons_by_decision": _reasons_json(),
            "claim_held": item.claimed_by_id == request.user.pk
            and item.claim_expires_at
            and item.claim_expires_at > now,
            "claim_other": item.claimed_by_id
            and item.claimed_by_id != request.user.pk
            and item.claim_expires_at > now,
            "barred": services.review_item_bar(item, request.user) if item.is_open else "",
            "previous_item": request.session.get("workbench_previous_item"),
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


SKIPPED = "workbench_skipped"  # session: the items this moderator skipped, most recent last


def _open_next(request, queue_key: str, done: str = ""):
    """Claim the next item of the queue and open it; back to the queue when it is empty.
    `done` (what was just recorded) and the outcome are told in one message."""
    item = services.review_item_claim_next(
        moderator=request.user, queue=queue_key, skip=request.session.get(SKIPPED, [])
    )
    if item is None:
        messages.info(
            request, f"{done}Nothing left for you in “{selectors.QUEUE_LABELS[queue_key]}”.".strip()
        )
        return redirect("moderation:queue")
    if done:
        messages.success(request, f"{done}Next: {item.job.video.original_name}.")
    return redirect("moderation:item_detail", pk=item.pk)


@moderator_required
@require_POST
def claim_next(request, queue_key: str):
    if queue_key not in QUEUES:
        raise Http404("No such queue")
    return _open_next(request, queue_key)


@moderator_required
@require_POST
def item_release(request, pk: int):
    item = selectors.review_item_get(pk)
    services.review_item_release(item_id=item.pk, moderator=request.user)
    if request.POST.get("then") == "next":  # skip: give it back and take the next one
        skipped = [pk for pk in request.session.get(SKIPPED, []) if pk != item.pk]
        request.session[SKIPPED] = [*skipped[-49:], item.pk]
        return _open_next(request, selectors.queue_for_state(item.state))
    return redirect("moderation:item_detail", pk=item.pk)


@moderator_required
@require_POST
def item_decide(request, pk: int):
    item = selectors.review_item_get(pk)
    form = _decision_form(item, request.POST)
    if not form.is_valid():
        return _item_page(request, item, form=form, status=400)
    try:
        item = services.review_item_decide(
            item_id=item.pk, moderator=request.user, **form.decision_data()
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _item_page(request, item, form=form, status=400)
    except services.ReviewConflict as exc:
        messages.error(request, str(exc))
        return redirect("moderation:item_detail", pk=item.pk)
    request.session["workbench_previous_item"] = item.pk
    # The next item opens: the workbench keeps going through the same queue.
    return _open_next(
        request,
        form.cleaned_data.get("next_queue") or "waiting",
        done=f"Decision recorded: {item.get_state_display().lower()} "
        f"({item.job.video.original_name}, {item.short_id}). ",
    )


@moderator_required
@require_POST
def bulk_decide(request):
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v) for k, v in form.errors.items()
        )
        messages.error(request, f"Bulk decision refused: {errors}")
        return redirect(reverse("moderation:queue") + _back_query(request))
    outcome = services.review_items_decide_bulk(
        item_ids=form.cleaned_data["items"],
        moderator=request.user,
        decision=form.cleaned_data["decision"],
        reason=form.cleaned_data["reason"],
        note=form.cleaned_data["note"],
    )
    messages.success(
        request,
        f"Bulk decision recorded on {len(outcome.decided)} item(s), "
        "each with its own history entry.",
    )
    for item_id, why in outcome.skipped.items():
        messages.error(request, f"Item {item_id} skipped: {why}")
    return redirect(reverse("moderation:queue") + _back_query(request))


def _back_query(request) -> str:
    query = request.POST.get("back", "")
    return f"?{query}" if query and "\n" not in query else ""


@moderator_required
@require_POST
def item_assign(request, pk: int):
    item = selectors.review_item_get(pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            services.review_item_assign(
                item_id=item.pk,
                by=request.user,
                to_user=form.cleaned_data["assigned_to"],
                to_team=form.cleaned_data["assigned_team"],
            )
            messages.success(request, "Assignment saved.")
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        except (ValidationError, services.ReviewConflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.error(request, "Choose a moderator or a team.")
    return redirect("moderation:item_detail", pk=item.pk)


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
def face_full(request, face_id: int):
    """A face at the video's full resolution, cut from the original frame (the stored crop
    when the frame cannot be read back)."""
    from detection.frame_regions import face_region_jpeg
    from detection.selectors import face_get_for_user

    face = face_get_for_user(request.user, face_id)
    try:
        jpeg = face_region_jpeg(
            face.frame.job.video.file.path,
            frame_index=face.frame.frame_index,
            box=(face.box_x, face.box_y, face.box_w, face.box_h),
        )
    except (NotImplementedError, ValueError):  # storage without local paths
        jpeg = None
    if jpeg is None:
        try:
            return FileResponse(face.crop.open("rb"), content_type="image/jpeg")
        except FileNotFoundError:
            raise Http404("Face image missing") from None
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


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


# --- Blind second reviews ---------------------------------------------------------------------


@moderator_required
@require_GET
def second_review_list(request):
    return render(
        request,
        "moderation/second_reviews.html",
        {"reviews": selectors.second_reviews_waiting(request.user)[:100]},
    )


@moderator_required
def second_review_detail(request, pk: int):
    review = selectors.second_review_get(pk, request.user)
    form = SecondReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.second_review_decide(
                review_id=review.pk, moderator=request.user, **form.cleaned_data
            )
        except (ValidationError, services.ReviewConflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, "Second review recorded.")
            following = selectors.second_reviews_waiting(request.user).first()
            if following:
                return redirect("moderation:second_review", pk=following.pk)
        return redirect("moderation:second_reviews")
    job = review.item.job
    return render(
        request,
        "moderation/second_review.html",
        {
            "review": review,
            "job": job,
            "video": job.video,
            "version": job.model_version,
            "timeline": selectors.evidence_timeline(job),
            "groups": selectors.evidence_groups(job),
            "form": form,
            "reasons_by_decision": _reasons_json(),
            "blind": True,
        },
        status=400 if form.errors else 200,
    )


# --- CSV exports ------------------------------------------------------------------------------


def _csv_response(name: str) -> tuple[HttpResponse, "csv.writer"]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response, csv.writer(response)


def _cell(value) -> str:
    """No spreadsheet formulas from file names or notes (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


@moderator_required
@require_GET
def export_queue(request):
    """The queue as filtered and sorted on the page, every row (not one page)."""
    response, writer = _csv_response("review-queue")
    writer.writerow(
        [
            "item",
            "file_id",
            "video",
            "state",
            "p_fake",
            "uploader",
            "uploaded",
            "due",
            "assigned_to",
            "assigned_team",
            "claimed_by",
        ]
    )
    for item in _queue_filter(request).qs.iterator():
        writer.writerow(
            [
                item.pk,
                item.short_id,
                _cell(item.job.video.original_name),
                item.state,
                "" if item.model_score is None else f"{item.model_score:.4f}",
                _cell(item.job.video.uploaded_by.username),
                _iso(item.job.created_at),
                _iso(item.due_at),
                item.assigned_to.username if item.assigned_to else "",
                _cell(item.assigned_team.name) if item.assigned_team else "",
                item.claimed_by.username if item.claimed_by else "",
            ]
        )
    return response


@moderator_required
@require_GET
def export_decisions(request):
    """Human decisions, one row each (a bulk decision is one row per item)."""
    import datetime as dt

    dates = {}
    for key in ("from", "to"):
        raw = request.GET.get(key, "")
        try:
            dates[key] = dt.datetime.strptime(raw, ISO_DATE[0]).date() if raw else None
        except ValueError:
            return HttpResponse(
                f"“{raw}” is not an ISO date (YYYY-MM-DD).", status=400, content_type="text/plain"
            )
    response, writer = _csv_response("review-decisions")
    writer.writerow(
        [
            "when",
            "item",
            "file_id",
            "video",
            "moderator",
            "from_state",
            "to_state",
            "reason",
            "person",
            "start_s",
            "end_s",
            "note",
            "model_p",
        ]
    )
    for event in selectors.decisions_for_export(dates["from"], dates["to"]).iterator():
        writer.writerow(
            [
                _iso(event.created_at),
                event.item_id,
                event.item.short_id,
                _cell(event.item.job.video.original_name),
                event.actor.username,
                event.from_state,
                event.to_state,
                event.reason,
                "" if event.person_index is None else event.person_index + 1,
                "" if event.start_s is None else event.start_s,
                "" if event.end_s is None else event.end_s,
                _cell(event.note),
                "" if event.model_score is None else f"{event.model_score:.4f}",
            ]
        )
    return response


@moderator_required
@require_POST
def job_known_answer(request, job_id):
    """A senior moderator seeds a copy of their own reference video's analysis into the queue,
    with its known answer."""
    job = job_get_for_user(request.user, job_id)
    url = reverse("detection:job_detail", args=[job.id])
    try:
        item = services.known_answer_seed(
            job=job, answer=request.POST.get("answer", ""), by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Seeded into the queue as item {item.pk} (known answer: "
            f"{item.known_answer}); moderators cannot tell it apart.",
        )
    return redirect(url)


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
