from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors, services
from .charts import Point, face_band_caption, score_timeline_svg
from .forms import UploadForm
from .http_ranges import ranged_file_response
from .upload_guard import bounded_upload, too_large_message, web_refusal
from .upload_storage import StorageFull


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@bounded_upload  # anonymous and announced-oversize bodies are refused before being read
@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    refused = getattr(request, "upload_refused", None)  # the upload handler stopped reading
    if refused == "disk_full":
        return web_refusal(request, StorageFull.message, 507)
    if refused == "too_large":
        form = UploadForm({}, {})
        form.full_clean()
        form.errors.clear()  # not "required": the file was there, and too large
        form.add_error("file", too_large_message())
    elif request.method == "POST" and form.is_valid():
        try:
            outcome = services.video_submit(
                user=request.user,
                uploaded_file=form.cleaned_data["file"],
                profile=form.cleaned_data.get("profile") or "",
            )
        except StorageFull:
            return web_refusal(request, StorageFull.message, 507)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            job = outcome.job
            url = reverse("detection:job_detail", args=[job.id])
            if outcome.duplicate:
                messages.info(request, "You uploaded this file before: this is its analysis.")
            if _wants_json(request):  # the page's upload script, which shows a progress bar
                return JsonResponse(
                    {"job_id": str(job.id), "job_url": url, "duplicate": outcome.duplicate},
                    status=200 if outcome.duplicate else 201,
                )
            return redirect(url)
    if request.method == "POST" and _wants_json(request):
        return JsonResponse(
            {"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400
        )
    return render(
        request, "detection/upload.html", {"form": form}, status=400 if form.errors else 200
    )


JOB_SORT_LABELS = [
    ("-uploaded", "Newest first"),
    ("uploaded", "Oldest first"),
    ("name", "Name, A–Z"),
    ("-name", "Name, Z–A"),
    ("-score", "p(fake), highest first"),
    ("score", "p(fake), lowest first"),
]


@login_required
@require_GET
def job_list(request):
    text, sort = request.GET.get("q", ""), request.GET.get("o", "")
    jobs = selectors.jobs_search(selectors.jobs_visible_to(request.user), text=text, sort=sort)
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "detection/job_list.html",
        {
            "page": page,
            "q": text,
            "o": sort if sort in selectors.JOB_SORTS else "-uploaded",
            "query": query.urlencode(),
            "sorts": JOB_SORT_LABELS,
        },
    )


@login_required
@require_GET
def job_detail(request, job_id):
    job = selectors.job_get_for_user(request.user, job_id)
    scores_visible = selectors.scores_visible_to(request.user)
    # An uploader may see the verdict only: no per-frame scores, crops or persons' scores.
    frames = list(selectors.job_frames_with_faces(job)) if scores_visible else []
    version = job.model_version
    timeline = None
    persons = list(job.persons.prefetch_related("faces__frame")) if scores_visible else []
    if frames and version:
        timeline = score_timeline_svg(
            [Point(f.timestamp_s, f.fake_probability) for f in frames],
            duration_s=job.video.duration_s or 0.0,
            band=version.face_band,
            caption=face_band_caption(version.face_band),
            fake_threshold=version.fake_threshold,
            segments=selectors.job_segments(persons),
        )
    faces = sorted(
        (face for f in frames for face in f.faces.all()),
        key=lambda face: face.fake_probability,
        reverse=True,
    )
    review = getattr(job, "review", None)
    return render(
        request,
        "detection/job_detail.html",
        {
            "job": job,
            "video": job.video,
            "frames": frames,
            "faces": faces,
            "persons": persons,
            "timeline": timeline,
            "version": version,
            "face_size": selectors.job_face_size(job),
            "scores_visible": scores_visible,
            "reasons": selectors.job_reasons_for(job, scores_visible),
            "statement": review.statement_of_reasons if review is not None else None,
        },
    )


@login_required
@require_GET
def job_status(request, job_id):
    job = selectors.job_get_for_user(request.user, job_id)
    return JsonResponse(
        {
            "id": str(job.id),
            "status": job.status,
            "finished": job.is_finished,
            "verdict": job.verdict or None,
            "fake_probability": job.fake_probability,
            "error": job.error or None,
        }
    )


@login_required
@require_GET
def face_crop(request, face_id: int):
    face = selectors.face_get_for_user(request.user, face_id)
    try:
        return FileResponse(face.crop.open("rb"), content_type="image/jpeg")
    except FileNotFoundError:
        raise Http404("Crop file missing") from None


@login_required
@require_GET
def video_file(request, job_id):
    job = selectors.job_get_for_user(request.user, job_id)
    try:
        # The type follows the stored (generated) name's suffix; unknown suffixes are .bin.
        # Range requests are answered with 206 so that players can seek.
        response = ranged_file_response(
            request, job.video.file.open("rb"), name=job.video.file.name
        )
    except FileNotFoundError:
        raise Http404("Video file missing") from None
    response["Content-Disposition"] = "inline"
    return response
