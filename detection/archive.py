"""A model version in one file: its weights, spec and card, for a version whose weights left
the repository (the repository keeps the active version's and the paper baseline's).

`manage.py export_model NAME:VERSION` writes `NAME_vVERSION.tar.gz`:

    MANIFEST.json   format, name, version, and each file's SHA-256 and size
    spec.json       the full spec (serving config, metrics, notes), weights named by file name
    card.md         the model card
    weights/...     the weights file and its LiteRT serving file, where it has one

`manage.py import_model FILE` checks every file against the manifest and the spec's pinned
SHA-256, then restores the weights of a registered version where its record says they live
(the record itself never changes), or registers a version new to this site with its weights
under DETECTION_MODEL_STORE.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from detection.model_cache import served_file
from detection.pipeline.classify import file_sha256, serving_path
from detection.pipeline.spec import ModelSpec

from .models import ModelVersion, ModelVersionAction
from .services import model_version_create

FORMAT = "deepfake-model-archive/1"
MAX_MEMBER_BYTES = 2 * 1024**3  # far above any face model; refuses a decompression bomb


class ArchiveRefused(ValidationError):
    """The archive is not one of ours, or its files are not the ones its spec pins."""


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _version_files(version: ModelVersion) -> dict[str, Path]:
    """The files a version needs: its weights and, where it has one, its serving file."""
    spec = version.to_spec()
    weights = Path(spec.weights_file)
    if not weights.is_file():
        raise ArchiveRefused(
            f"{version}'s weights are not on this server ({version.spec['weights_file']})."
        )
    files = {"weights_file": weights}
    lite = serving_path(spec, weights)
    if lite is not None:
        files["serving_file"] = lite
    return files


def model_archive_write(*, model_version: ModelVersion, out: str | Path) -> Path:
    """Write the version's archive to `out` (a file, or a folder to put NAME_vVERSION.tar.gz
    in); its files are checked against the SHA-256 its record pins first."""
    out = Path(out)
    if out.is_dir():
        out = out / f"{model_version.name}_v{model_version.version}.tar.gz"
    files = _version_files(model_version)
    pins = {
        "weights_file": model_version.spec.get("weights_sha256", ""),
        "serving_file": model_version.spec.get("serving_sha256", ""),
    }
    manifest = {"format": FORMAT, "name": model_version.name, "version": model_version.version}
    entries = {}
    for key, path in files.items():
        sha = file_sha256(path)
        if pins[key] and pins[key] != sha:
            raise ArchiveRefused(
                f"{path.name} is not the file {model_version} was registered with."
            )
        entries[f"weights/{path.name}"] = {"sha256": sha, "bytes": path.stat().st_size}
    spec = {
        **model_version.to_spec().to_dict(),
        "weights_file": files["weights_file"].name,
        "serving_file": files["serving_file"].name if "serving_file" in files else "",
        "weights_sha256": file_sha256(files["weights_file"]),
        "serving_sha256": (file_sha256(files["serving_file"]) if "serving_file" in files else ""),
    }
    texts = {
        "spec.json": json.dumps(spec, indent=2, sort_keys=True).encode(),
        "card.md": model_version.card.encode(),
    }
    for name, data in texts.items():
        entries[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest["files"] = entries
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        _add_bytes(tar, "MANIFEST.json", json.dumps(manifest, indent=2).encode())
        for name, data in texts.items():
            _add_bytes(tar, name, data)
        for path in files.values():
            tar.add(path, arcname=f"weights/{path.name}", recursive=False)
    partial.replace(out)
    return out


@dataclass(frozen=True)
class Imported:
    model_version: ModelVersion
    restored: list[str]  # files written
    registered: bool  # a version new to this site


def _read_member(tar: tarfile.TarFile, name: str, expected: dict) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise ArchiveRefused(f"the archive lacks {name}") from None
    if not member.isfile() or member.size > MAX_MEMBER_BYTES or member.size != expected["bytes"]:
        raise ArchiveRefused(f"{name} in the archive is not the file its manifest lists")
    data = tar.extractfile(member).read()
    if hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise ArchiveRefused(f"{name} does not match its SHA-256 in the manifest")
    return data


def _safe_name(name: str) -> str:
    base = Path(name).name
    if not base or base != name.removeprefix("weights/") or base.startswith("."):
        raise ArchiveRefused(f"refusing the file name {name!r}")
    return base


def _write_new(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


@transaction.atomic
def model_archive_read(*, path: str | Path, state: str = "") -> Imported:
    """Import an archive: restore a registered version's weights, or register a new version
    (as a candidate, or `state`). Raises ArchiveRefused; nothing is written unless every file
    checks."""
    try:
        tar = tarfile.open(path, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise ArchiveRefused(f"{path} is not a model archive ({exc})") from exc
    with tar:
        try:
            manifest = json.loads(tar.extractfile(tar.getmember("MANIFEST.json")).read())
        except (KeyError, AttributeError, ValueError) as exc:
            raise ArchiveRefused(f"{path} has no readable MANIFEST.json") from exc
        if manifest.get("format") != FORMAT:
            raise ArchiveRefused(f"{path} is not a {FORMAT} archive")
        entries = manifest.get("files") or {}
        try:
            spec = ModelSpec.from_dict(
                json.loads(_read_member(tar, "spec.json", entries["spec.json"]))
            )
            card = _read_member(tar, "card.md", entries["card.md"]).decode()
        except (KeyError, ValueError, TypeError) as exc:
            raise ArchiveRefused(f"the archive's spec is not valid ({exc})") from exc
        weights = {}
        for name, expected in entries.items():
            if name.startswith("weights/"):
                weights[_safe_name(name)] = (_read_member(tar, name, expected), expected)
    pins = {spec.weights_file: spec.weights_sha256, spec.serving_file: spec.serving_sha256}
    for name, (_, expected) in weights.items():
        if pins.get(name) and pins[name] != expected["sha256"]:
            raise ArchiveRefused(f"{name} is not the file the archive's spec pins")
    if spec.weights_file not in weights:
        raise ArchiveRefused("the archive holds no weights file")

    existing = ModelVersion.objects.filter(name=spec.name, version=spec.version).first()
    if existing is not None:
        return _restore(existing, spec, weights)
    folder = Path(settings.DETECTION_MODEL_STORE) / f"{spec.name}_v{spec.version}"
    restored = []
    for name, (data, _) in weights.items():
        target = folder / name
        if not target.is_file() or file_sha256(target) != _sha(data):
            _write_new(target, data)
            restored.append(str(target))
    version = model_version_create(
        spec=replace(spec, weights_file=str(folder / spec.weights_file)),
        card=card,
        event=ModelVersionAction.IMPORTED,
        **({"state": state} if state else {}),
    )
    return Imported(model_version=version, restored=restored, registered=True)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _restore(version: ModelVersion, spec: ModelSpec, weights: dict) -> Imported:
    """Put a registered version's files back where its record says they live."""
    pinned = {
        Path(version.spec["weights_file"]).name: version.spec.get("weights_sha256", ""),
    }
    lite = version.spec.get("serving", {}).get("file") or version.spec.get("serving_file")
    if lite:
        pinned[Path(lite).name] = version.spec.get("serving_sha256", "")
    for name, sha in pinned.items():
        if name not in weights:
            raise ArchiveRefused(f"the archive lacks {name}, which {version} serves")
        if sha and _sha(weights[name][0]) != sha:
            raise ArchiveRefused(
                f"{name} in the archive is not the file {version} was registered with"
            )
    weights_path = version.resolved_weights_path
    restored = []
    for name in pinned:
        target = weights_path.parent / name
        if target.is_file() and file_sha256(target) == _sha(weights[name][0]):
            continue
        _write_new(target, weights[name][0])
        restored.append(str(target))
    served, _ = served_file(version.to_spec())
    if not served.is_file():
        raise ArchiveRefused(f"{version}'s served file is still missing after the import")
    return Imported(model_version=version, restored=restored, registered=False)
