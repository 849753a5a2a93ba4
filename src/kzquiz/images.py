"""Pictures in questions: finding, reading and checking the files a bank's `image:` names.

Every picture is read once, when the bank is loaded, and travels to the renderers as bytes
in the LoadedBank (`images`, keyed by the path written in the bank); no renderer reads a
file. A picture is accepted only when:

- its path is relative, has no NUL, and leads (after symlinks) to a file inside the bank's
  folder, like `bank.source.text`;
- it is a regular file of at most MAX_IMAGE_BYTES, and all the bank's pictures together
  (each distinct file counted once) stay within MAX_IMAGES_BYTES;
- PNG, JPEG, WebP and GIF decode with Pillow as the format their name says (a text file
  named `.png`, or a JPEG named `.gif`, is refused), within Pillow's pixel limit;
- an SVG parses with defusedxml (no DOCTYPE, no entities, so an entity bomb is refused
  before anything is expanded) and holds no `<script>`, no `<foreignObject>`, no `on*`
  event attribute and no reference out of the file: `href`, `xlink:href`, `src` and CSS
  `url(...)` may point only at `#fragment` or at an embedded `data:image/png|jpeg|gif|webp`.

A refusal is a Finding at the question's `image` (or `explanation_image`) key, naming the
file; the loader turns it into file:line with the question id.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzquiz.read import UnreadableFile, read_regular_file
from kzquiz.validate import Finding

if TYPE_CHECKING:
    from kzquiz.bank import LoadedBank
    from kzquiz.model import Image, Question

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # one picture
MAX_IMAGES_BYTES = 50 * 1024 * 1024  # every distinct picture of a bank together

# suffix -> (Pillow's format name, or None for SVG; media type; the suffix output files use)
KINDS: dict[str, tuple[str | None, str, str]] = {
    ".png": ("PNG", "image/png", "png"),
    ".jpg": ("JPEG", "image/jpeg", "jpg"),
    ".jpeg": ("JPEG", "image/jpeg", "jpg"),
    ".webp": ("WEBP", "image/webp", "webp"),
    ".gif": ("GIF", "image/gif", "gif"),
    ".svg": (None, "image/svg+xml", "svg"),
}
IMAGE_FIELDS = ("image", "explanation_image")

_SVG_NS = "http://www.w3.org/2000/svg"
_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler"}
_LINK_ATTRIBUTES = {"href", "src"}
_SAFE_DATA = re.compile(r"^data:image/(?:png|jpeg|gif|webp)[;,]", re.I)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I | re.S)


@dataclass(frozen=True)
class ImageFile:
    """One picture as read and checked: its bytes, kind and content hash."""

    path: str  # as written in the bank, relative to the bank's folder
    data: bytes
    suffix: str  # png, jpg, webp, gif or svg
    media_type: str
    sha256: str

    @property
    def name(self) -> str:
        """The file name outputs give it: from its content, so an edit gives a new name."""
        return f"kzquiz-{self.sha256[:16]}.{self.suffix}"

    @cached_property
    def data_uri(self) -> str:
        """The picture as a `data:` URI, for pages that must load nothing."""
        return f"data:{self.media_type};base64,{self.base64}"

    @cached_property
    def base64(self) -> str:
        """The bytes in base64 (Moodle XML's `<file>`)."""
        return base64.b64encode(self.data).decode("ascii")


@dataclass(frozen=True)
class Figure:
    """A picture as a page shows it: source, alt text, caption and credit."""

    src: str
    alt: str
    caption: str | None
    credit: str | None


def image_of(loaded: LoadedBank, image: Image | None) -> ImageFile | None:
    """The checked file of an `image:` (None where the question has none)."""
    return None if image is None else loaded.images[image.file]


def figure(loaded: LoadedBank, image: Image | None) -> Figure | None:
    """An `image:` as a page embeds it (a `data:` URI), or None."""
    found = image_of(loaded, image)
    if image is None or found is None:
        return None
    return Figure(found.data_uri, image.alt, image.caption, image.credit)


def has_images(q: Question) -> bool:
    """Whether the question shows a picture anywhere."""
    return q.image is not None or q.explanation_image is not None


def media(loaded: LoadedBank, questions: Iterable[Question]) -> dict[str, bytes]:
    """Output file name -> bytes of every picture the questions show, each once."""
    out: dict[str, bytes] = {}
    for q in questions:
        for image in (q.image, q.explanation_image):
            found = image_of(loaded, image)
            if found is not None:
                out[found.name] = found.data
    return dict(sorted(out.items()))


def check_images(
    bank_path: Path, questions: Iterable[tuple[int, Question]]
) -> tuple[dict[str, ImageFile], list[Finding]]:
    """Read and check every picture the questions name; the files, and what is wrong."""
    images: dict[str, ImageFile] = {}
    findings: list[Finding] = []
    refused: dict[str, str] = {}  # one verdict per path, however many questions share it
    total = 0
    base: Path | None = None
    for i, q in questions:
        for key in IMAGE_FIELDS:
            image = getattr(q, key)
            if image is None:
                continue
            rel = image.file
            at = ("questions", i, key)
            if rel in images:
                continue
            if rel in refused:
                findings.append(Finding(at, refused[rel]))
                continue
            if base is None:
                base = bank_path.parent.resolve()
            try:
                found = _read(base, rel)
            except _Refused as exc:
                refused[rel] = f"image {rel!r}: {exc}"
                findings.append(Finding(at, refused[rel]))
                continue
            total += len(found.data)
            if total > MAX_IMAGES_BYTES:
                refused[rel] = (
                    f"image {rel!r}: the bank's pictures come to more than "
                    f"{MAX_IMAGES_BYTES // (1024 * 1024)} MiB together; make them smaller"
                )
                findings.append(Finding(at, refused[rel]))
                continue
            images[rel] = found
    return images, findings


class _Refused(Exception):
    """Why one picture cannot be used."""


def _read(base: Path, rel: str) -> ImageFile:
    if "\x00" in rel:
        raise _Refused("the path contains a NUL character")
    if os.path.isabs(rel) or rel.startswith(("/", "\\")):
        raise _Refused("the path must be relative to the bank's folder")
    suffix = os.path.splitext(rel)[1].lower()
    kind = KINDS.get(suffix)
    if kind is None:
        raise _Refused(
            f"{suffix or 'no extension'} is not a picture kzquiz takes; use "
            + ", ".join(sorted({k for k in KINDS if k != ".jpeg"}))
        )
    try:
        target = (base / rel).resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise _Refused(f"cannot read it: {exc}") from None
    if not target.is_relative_to(base):
        raise _Refused("the path leads outside the bank's folder; keep pictures beside the bank")
    try:
        data = read_regular_file(target, limit=MAX_IMAGE_BYTES, what="image")
    except UnreadableFile as exc:
        if exc.too_large:
            raise _Refused(
                f"it is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB; make it smaller"
            ) from None
        raise _Refused(exc.reason) from None
    fmt, media_type, out_suffix = kind
    if fmt is None:
        _check_svg(data)
    else:
        _check_raster(data, fmt)
    return ImageFile(rel, data, out_suffix, media_type, hashlib.sha256(data).hexdigest())


def _check_raster(data: bytes, fmt: str) -> None:
    from PIL import Image, UnidentifiedImageError

    # Pillow warns past MAX_IMAGE_PIXELS and refuses past twice that: refuse both.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                im.verify()
        except UnidentifiedImageError:
            raise _Refused(f"it is not a {fmt} file{_actual(data)}") from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _Refused("it has too many pixels (a decompression bomb?)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _Refused(f"it is a damaged {fmt} file ({exc})") from None


def _actual(data: bytes) -> str:
    """What the file really is, as far as Pillow can tell (for the message)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return f" (it is a {im.format} file: give it the right extension)"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        pass
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return " (it is text)"


def _check_svg(data: bytes) -> None:
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as safe

    try:
        root = safe.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise _Refused("an SVG with a DOCTYPE is refused (it could define entities)") from None
    except defusedxml.EntitiesForbidden:
        raise _Refused("an SVG with entity declarations is refused (an entity bomb?)") from None
    except defusedxml.DefusedXmlException as exc:
        raise _Refused(f"the SVG is refused: {exc}") from None
    except ET.ParseError as exc:
        raise _Refused(f"it is not well-formed SVG ({exc})") from None
    if root.tag != f"{{{_SVG_NS}}}svg":
        raise _Refused(
            f"it is not an SVG picture: its root element is <{_local(root.tag)}>, "
            f'not <svg xmlns="{_SVG_NS}">'
        )
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # a comment or processing instruction
        tag = _local(el.tag)
        if tag.lower() in _FORBIDDEN_ELEMENTS:
            raise _Refused(f"the SVG contains a <{tag}> element; pictures may not carry code")
        if tag.lower() == "style" and el.text:
            _check_css(el.text, "<style>")
        for name, value in el.attrib.items():
            attr = _local(name)
            if attr.lower().startswith("on"):
                raise _Refused(f"the SVG has an event attribute {attr}= on <{tag}>; remove it")
            if attr.lower() in _LINK_ATTRIBUTES:
                _check_reference(value, f"{attr}= on <{tag}>")
            if "url(" in value.lower() or "@import" in value.lower():
                _check_css(value, f"{attr}= on <{tag}>")
            if "javascript:" in value.lower().replace(" ", ""):
                raise _Refused(f"the SVG has a javascript: link in {attr}= on <{tag}>")


def _check_css(css: str, where: str) -> None:
    if "@import" in css.lower():
        raise _Refused(f"the SVG's CSS in {where} imports another file; pictures must load nothing")
    for m in _URL.finditer(css):
        _check_reference(m.group(2), f"url() in {where}")


def _check_reference(value: str, where: str) -> None:
    target = value.strip()
    if target.startswith("#") or _SAFE_DATA.match(target):
        return
    shown = target if len(target) <= 60 else target[:57] + "..."
    raise _Refused(
        f"the SVG refers to {shown!r} in {where}; pictures must load nothing "
        "(only #fragment or an embedded data:image/png|jpeg|gif|webp)"
    )


def _local(tag: Any) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1] if text.startswith("{") else text
