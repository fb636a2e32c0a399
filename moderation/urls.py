from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("queues/<str:queue_key>/next/", views.claim_next, name="claim_next"),
    path("bulk/", views.bulk_decide, name="bulk_decide"),
    path("export/queue.csv", views.export_queue, name="export_queue"),
    path("export/decisions.csv", views.export_decisions, name="export_decisions"),
    path("second-reviews/", views.second_review_list, name="second_reviews"),
    path("second-reviews/<int:pk>/", views.second_review_detail, name="second_review"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/claim/", views.item_claim, name="item_claim"),
    path("items/<int:pk>/release/", views.item_release, name="item_release"),
    path("items/<int:pk>/decide/", views.item_decide, name="item_decide"),
    path("items/<int:pk>/assign/", views.item_assign, name="item_assign"),
    path("items/<int:pk>/heatmaps/", views.item_heatmaps, name="item_heatmaps"),
    path("heatmaps/<int:pk>.jpg", views.heatmap_image, name="heatmap_image"),
    path("faces/<int:face_id>/full.jpg", views.face_full, name="face_full"),
    path("jobs/<uuid:job_id>/appeal/", views.job_appeal, name="job_appeal"),
    path("jobs/<uuid:job_id>/known-answer/", views.job_known_answer, name="job_known_answer"),
]
