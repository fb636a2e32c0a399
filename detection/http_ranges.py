"""HTTP Range requests (RFC 9110 §14) for the private video view, so players can seek.

Django's FileResponse always sends the whole file; Chromium's <video> needs `206 Partial
Content` answers to seek in a file it has not fully downloaded. One range per request (what
browsers send); several ranges are answered with the whole file, which the RFC allows.
"""

from __future__ import annotations

import mimetypes
import os
import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte positions, inclusive; None for "send it all"; raises Unsatisfiable."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:  # malformed or several ranges: ignore the header, as the RFC allows
        return None
    start, end = match.groups()
    if not start and not end:
        return None
    if not start:  # "bytes=-N": the last N bytes
        length = int(end)
        if length == 0 or size == 0:
            raise Unsatisfiable()
        return max(size - length, 0), size - 1
    first = int(start)
    last = min(int(end), size - 1) if end else size - 1
    if end and int(end) < first:
        return None  # invalid range: ignored
    if first >= size:
        raise Unsatisfiable()
    return first, last


def _read(fh, first: int, last: int):
    try:
        fh.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        fh.close()


def ranged_file_response(request, fh, *, name: str, size: int | None = None):
    """A 200 with the whole file, a 206 with the asked range, or a 416; always Accept-Ranges."""
    if size is None:
        size = os.fstat(fh.fileno()).st_size
    try:
        span = parse_range(request.headers.get("Range"), size)
    except Unsatisfiable:
        fh.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    if span is None:
        response = FileResponse(fh)
    else:
        first, last = span
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = StreamingHttpResponse(
            _read(fh, first, last), status=206, content_type=content_type
        )
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
