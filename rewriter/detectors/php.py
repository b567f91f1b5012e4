"""PHP workloads: ``PHP_MEMORY_LIMIT`` and the upload limits.

``PHP_MEMORY_LIMIT`` is what one request may use; php-fpm and Apache run several workers, so a
limit derived from it is only a floor (a suggestion). Uploads are written to ``upload_tmp_dir``
(``/tmp`` by default) before the script sees them, up to ``post_max_size`` per request: a tmpfs
smaller than that makes large uploads fail. Read from ``PHP_UPLOAD_MAX_FILESIZE``,
``UPLOAD_MAX_FILESIZE``, ``PHP_POST_MAX_SIZE``, ``POST_MAX_SIZE`` and ``UPLOAD_LIMIT``
(phpMyAdmin's image) and ``PHP_UPLOAD_LIMIT`` (Nextcloud's). PHP sizes use ``K``, ``M`` and
``G`` (binary); ``-1`` means no limit. The Nextcloud image documents its defaults:
``PHP_MEMORY_LIMIT`` and ``PHP_UPLOAD_LIMIT`` are both 512M when unset (nextcloud/docker README).
"""

from __future__ import annotations

import re

from rewriter.detectors.facts import Inputs, WorkloadFacts, repository_name
from rewriter.sizes import ByteSize

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
UPLOADS = ("PHP_UPLOAD_MAX_FILESIZE", "UPLOAD_MAX_FILESIZE", "PHP_POST_MAX_SIZE", "POST_MAX_SIZE", "UPLOAD_LIMIT",
           "PHP_UPLOAD_LIMIT")
# Images whose documentation gives other defaults than PHP's (memory_limit 128M, uploads 2M/8M).
IMAGE_DEFAULTS = {"nextcloud": (("PHP_MEMORY_LIMIT", "512M"), ("PHP_UPLOAD_LIMIT", "512M"))}


def php_size(text: str) -> ByteSize | None:
    m = re.fullmatch(r"(\d+)\s*([kmg])?b?", text.strip().lower())
    return ByteSize(int(m.group(1)) * _UNITS[m.group(2) or ""]) if m else None


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    name = repository_name(inputs.image) if inputs.image else ""
    defaults = dict(IMAGE_DEFAULTS.get(name, ()))

    def variable(key: str) -> tuple[str, str] | None:
        found = inputs.variable(key)
        if found is None and key in defaults:
            return defaults[key], f"the {name} image (its documented default for {key})"
        return found

    heap: tuple[ByteSize, str] | None = None
    found = variable("PHP_MEMORY_LIMIT")
    if found is not None:
        size = php_size(found[0])
        if size is not None and size.bytes > 0:
            heap = (size, f"memory_limit {found[0]} in {found[1]}")
    upload: tuple[ByteSize, str] | None = None
    for key in UPLOADS:
        value = variable(key)
        size = php_size(value[0]) if value is not None else None
        if value is not None and size is not None and (upload is None or size > upload[0]):
            upload = (size, f"{value[0]} in {value[1]}")
    return WorkloadFacts(
        kind="php", evidence=evidence, heap=heap[0] if heap else None, heap_source=heap[1] if heap else "",
        heap_is_floor=True,
        ratio_source="one request may use memory_limit and the server runs several workers",
        upload=upload[0] if upload else None, upload_source=upload[1] if upload else "")
