from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detection.pipeline.spec import PERSON_POOLINGS
from detection.training.data.labelled import real_pools_under
from detection.training.recipes.train import BlendTrainConfig, TrainConfig


class Command(BaseCommand):
    help = (
        "Train the face classifier on labelled crops, evaluate it on data it never trained on "
        "(frame-level AUC on validation crops, video-level AUC on labelled videos), and write "
        "weights, spec and model card. Register the result with `register_model`."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--data",
            type=Path,
            help="data root holding faces/openforensics/{train,val} and videos/",
        )
        parser.add_argument("--train-dir", type=Path, help="override: training crops folder")
        parser.add_argument("--val-dir", type=Path, help="override: validation crops folder")
        parser.add_argument("--videos-dir", type=Path, help="override: labelled videos folder")
        parser.add_argument("--no-videos", action="store_true", help="skip video-level evaluation")
        parser.add_argument("--out", type=Path, default=Path("detection/models"))
        parser.add_argument("--name", default="paper_cnn")
        parser.add_argument("--model-version", default="1")
        parser.add_argument(
            "--architecture",
            default="paper_cnn",
            choices=["paper_cnn", "efficientnet_lite0"],
            help="paper_cnn: the paper's CNN on the labelled crops alone; "
            "efficientnet_lite0: ImageNet-initialised, with self-blended fakes",
        )
        parser.add_argument(
            "--init-weights",
            type=Path,
            help="efficientnet_lite0: ported ImageNet weights (.npz), made once by "
            "`python -m detection.training port-lite0`",
        )
        parser.add_argument(
            "--real-pools",
            type=Path,
            nargs="*",
            help="efficientnet_lite0: folders of real faces to self-blend "
            "(default: faces/utkface_real and faces/rmfd_real under --data)",
        )
        parser.add_argument("--samples-per-epoch", type=int, default=6000)
        parser.add_argument(
            "--sbi-share", type=float, default=0.6, help="share of the fakes that are self-blended"
        )
        parser.add_argument(
            "--mask-source",
            choices=("keypoints", "mesh"),
            default="keypoints",
            help="shape the self-blending masks by BlazeFace's six keypoints or "
            "by the face mesh's outline",
        )
        parser.add_argument(
            "--cache-dir", type=Path, help="cache the detected and aligned training faces here"
        )
        parser.add_argument("--input-size", type=int, help="default 64 (paper_cnn), 128 (lite0)")
        parser.add_argument("--channels", type=int, choices=[1, 3], default=1)
        parser.add_argument(
            "--face-margin", type=float, help="default 0.6 (paper_cnn, loose crops), 0.3 (lite0)"
        )
        parser.add_argument("--epochs", type=int, help="default 15 (paper_cnn), 8 (lite0)")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument(
            "--learning-rate",
            type=float,
            help="Adam's learning rate (self-blended recipe; default 3e-4, lower "
            "it to fine-tune weights from --init-weights)",
        )
        parser.add_argument(
            "--freeze-blocks",
            type=int,
            help="keep the stem and this many first blocks as they are "
            "(self-blended recipe; default 5)",
        )
        parser.add_argument("--limit", type=int, help="use at most this many training crops")
        parser.add_argument("--seed", type=int, default=1234)
        parser.add_argument(
            "--trained-weights",
            type=Path,
            help="efficientnet_lite0: weights trained elsewhere on a pack of these "
            "faces (python -m detection.training train-parallel); skip "
            "training, then calibrate, evaluate and write the card",
        )
        parser.add_argument(
            "--test-time-flip",
            action="store_true",
            help="efficientnet_lite0: the version scores each face and its mirror "
            "image and averages the logits (calibrated that way too)",
        )
        parser.add_argument(
            "--person-pooling",
            choices=list(PERSON_POOLINGS),
            default="mean_probability",
            help="how a person's faces make the person's probability",
        )
        parser.add_argument(
            "--held-out-keys",
            type=Path,
            help='efficientnet_lite0: JSON {"real": [...], "fake": [...]} '
            "naming the faces to hold out instead of the by-file split "
            "(those the --init-weights never trained on)",
        )
        parser.add_argument(
            "--training-record",
            type=Path,
            help="with --trained-weights: JSON saying how they were trained "
            "(parallel_train's trained.json), kept in the spec",
        )

    def handle(self, *args, **o):
        from detection.training.evaluation.evaluate import evaluate_into_spec
        from detection.training.recipes.train import (
            finalise_trained,
            train_and_evaluate,
            train_blend_model,
        )

        data = o["data"]
        train_dir = o["train_dir"] or (data / "faces/openforensics/train" if data else None)
        val_dir = o["val_dir"] or (data / "faces/openforensics/val" if data else None)
        videos_dir = (
            None if o["no_videos"] else (o["videos_dir"] or (data / "videos" if data else None))
        )
        if train_dir is None:
            raise CommandError("Give --data or --train-dir")
        for label, folder in (
            ("training", train_dir),
            ("validation", val_dir),
            ("videos", videos_dir),
        ):
            if folder is not None and not folder.is_dir():
                raise CommandError(f"The {label} folder does not exist: {folder}")
        try:
            if o["architecture"] == "paper_cnn":
                config = TrainConfig(
                    train_dir=train_dir,
                    val_dir=val_dir,
                    out_dir=o["out"],
                    name=o["name"],
                    version=o["model_version"],
                    architecture="paper_cnn",
                    input_size=o["input_size"] or 64,
                    channels=o["channels"],
                    face_margin=o["face_margin"] or 0.6,
                    epochs=o["epochs"] or 15,
                    batch_size=o["batch_size"],
                    limit=o["limit"],
                    seed=o["seed"],
                    progress=o["verbosity"] > 0,
                )
                report = train_and_evaluate(config, videos_dir=videos_dir)
            else:
                pools = o["real_pools"]
                if pools is None:
                    pools = real_pools_under(data) if data else []
                for folder in pools:
                    if not folder.is_dir():
                        raise CommandError(f"The real-face pool does not exist: {folder}")
                config = BlendTrainConfig(
                    labelled_dirs=[train_dir],
                    real_pools=pools,
                    val_dir=val_dir,
                    out_dir=o["out"],
                    init_weights=o["init_weights"],
                    name=o["name"],
                    version=o["model_version"],
                    architecture=o["architecture"],
                    input_size=o["input_size"] or 128,
                    face_margin=o["face_margin"] or 0.3,
                    epochs=o["epochs"] or 8,
                    samples_per_epoch=o["samples_per_epoch"],
                    sbi_share=o["sbi_share"],
                    mask_source=o["mask_source"],
                    batch_size=o["batch_size"],
                    pool_limit=o["limit"],
                    seed=o["seed"],
                    progress=o["verbosity"] > 0,
                    cache_dir=o["cache_dir"],
                    test_time_flip=o["test_time_flip"],
                    person_pooling=o["person_pooling"],
                    held_out_keys=o["held_out_keys"],
                    **{
                        key: o[key]
                        for key in ("learning_rate", "freeze_blocks")
                        if o[key] is not None
                    },
                )
                if o["trained_weights"]:
                    report = finalise_trained(config, o["trained_weights"], o["training_record"])
                else:
                    report = train_blend_model(config)
                report.spec = evaluate_into_spec(
                    report.spec_path,
                    val_dir=val_dir,
                    videos_dir=videos_dir,
                    progress=o["verbosity"] > 0,
                )
        except (ValueError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        m = report.spec.metrics
        frames = m.get("frames", {})
        videos = m.get("videos", {}).get("overall", {})
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {report.weights_path} and {report.spec_path}\n"
                f"frame-level AUC (validation crops): {frames.get('auc')}\n"
                f"video-level AUC (labelled videos): {videos.get('auc')}\n"
                f"model card: {report.spec_path.with_suffix('.md')}"
            )
        )
