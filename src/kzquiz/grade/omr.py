"""Optical mark reading of answer sheets: a scan (image) → its QR text and every bubble's fill.

Steps: find the four solid corner squares (the largest dark, square, solid blobs nearest
the image's corners), turn a landscape scan upright, map the squares' centres onto the
layout's marker centres (one perspective transform: rotation, scale, skew and a phone's
perspective at once), decode the QR code, turn the page by 180° when the QR code is found
where the bottom-left corner belongs, and measure each bubble of the layout.

A bubble's fill is the share of dark pixels in a disc of `INNER` times its radius around
the layout's centre (inside the printed ring, so the outline never counts; the printed
letters are light grey and fall above the threshold). "Dark" is below the midpoint of the
page's paper white and the markers' black, so lighting and toner do not matter. A fill of
at least `FILLED` is marked, at most `EMPTY` is empty, anything between is unclear and is
reported, never decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kzquiz.render.answersheet import (
    BUBBLE,
    FORMAT_VERSION,
    MARKER,
    MARKER_INSET,
    PAPER_MM,
    QR_PREFIX,
    QR_SIZE,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Image = NDArray[Any]
else:
    Image = Any

SCALE = 6.0  # pixels per mm of the corrected page (about 152 dpi)
INNER = 0.55  # share of the bubble's radius that is measured
FILLED = 0.50
EMPTY = 0.20
PDF_DPI = 200
MAX_PIXELS = 80_000_000  # a scan bigger than this is not an answer sheet


class PageUnreadable(Exception):
    """A page that cannot be read: why, in words a teacher understands."""


@dataclass(frozen=True)
class Sheet:
    """What a QR code says about its page."""

    bank_id: str
    version: str
    seed: int
    digest: str
    page: int
    pages: int
    paper: str


@dataclass
class Scan:
    """One corrected page: its QR code and the grey image in layout coordinates."""

    sheet: Sheet
    image: Image  # grey, SCALE px per mm, upright
    threshold: float
    turned: bool = False  # read upside down and turned
    notes: list[str] = field(default_factory=list)

    def fill(self, x: float, y: float) -> float:
        """The share of dark pixels in the measured disc of the bubble centred at (x, y) mm."""
        import numpy as np

        r = BUBBLE / 2 * INNER * SCALE
        cx, cy = x * SCALE, y * SCALE
        x0, x1 = int(cx - r - 1), int(cx + r + 2)
        y0, y1 = int(cy - r - 1), int(cy + r + 2)
        patch = self.image[max(y0, 0) : y1, max(x0, 0) : x1].astype(np.float32)
        yy, xx = np.mgrid[
            max(y0, 0) : max(y0, 0) + patch.shape[0], max(x0, 0) : max(x0, 0) + patch.shape[1]
        ]
        disc = (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r
        if not disc.any():
            return 0.0
        return float((patch[disc] < self.threshold).mean())

    def crop(self, x0: float, y0: float, x1: float, y1: float) -> bytes:
        """A PNG of the page between two corners (mm), for the review page."""
        import cv2

        h, w = self.image.shape[:2]
        part = self.image[
            max(int(y0 * SCALE), 0) : min(int(y1 * SCALE), h),
            max(int(x0 * SCALE), 0) : min(int(x1 * SCALE), w),
        ]
        ok, png = cv2.imencode(".png", part)
        return bytes(png) if ok else b""


def state(fill: float) -> str:
    """A bubble's reading: "filled", "empty" or "unclear" (see the thresholds above)."""
    if fill >= FILLED:
        return "filled"
    if fill <= EMPTY:
        return "empty"
    return "unclear"


def parse_payload(text: str) -> Sheet:
    """The fields of a QR code's text; PageUnreadable when it is not one of our sheets."""
    parts = text.split(";")
    if len(parts) != 7 or parts[0] != f"{QR_PREFIX}{FORMAT_VERSION}":
        raise PageUnreadable(f"the QR code is not a kzquiz answer sheet's: {text[:60]!r}")
    _, bank_id, version, seed, digest, pages, paper = parts
    page, _, total = pages.partition("/")
    if not (seed.isdigit() and page.isdigit() and total.isdigit()) or paper not in PAPER_MM:
        raise PageUnreadable(f"the QR code's text is damaged: {text[:60]!r}")
    return Sheet(bank_id, version, int(seed), digest, int(page), int(total), paper)


def decode_image(data: bytes) -> Image:
    """Image bytes (PNG, JPEG ...) as a grey image; PageUnreadable when they are not one."""
    import cv2
    import numpy as np

    # A damaged file is reported as a problem of its page; OpenCV's own log would repeat it.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE) if buffer.size else None
    if image is None:
        raise PageUnreadable("not a readable image (damaged or not PNG/JPEG)")
    if image.size > MAX_PIXELS:
        raise PageUnreadable(f"the image is too large ({image.shape[1]}×{image.shape[0]})")
    return image


def pdf_pages(data: bytes, dpi: int = PDF_DPI) -> list[Image]:
    """Every page of a PDF rasterised in grey; PageUnreadable when it is not a PDF."""
    import numpy as np
    import pypdfium2  # type: ignore[import-untyped]

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise PageUnreadable(f"not a readable PDF ({exc})") from exc
    try:
        out = []
        for index in range(len(document)):
            bitmap = document[index].render(scale=dpi / 72, grayscale=True)
            array = np.array(bitmap.to_numpy(), dtype=np.uint8)
            out.append(array if array.ndim == 2 else array[..., 0])
        return out
    finally:
        document.close()


def _markers(gray: Image) -> list[tuple[float, float]]:
    """The centres of the four corner squares: top-left, top-right, bottom-left, bottom-right."""
    import cv2
    import numpy as np

    h, w = gray.shape[:2]
    # Midway between the darkest ink and the paper: Otsu would split paper from a grey
    # scanner lid or table around the page instead.
    dark, light = np.percentile(gray, (0.5, 99))
    if light - dark < 40:
        raise PageUnreadable("the page is blank (no ink found)")
    _, ink = cv2.threshold(gray, (dark + light) / 2, 255, cv2.THRESH_BINARY_INV)
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    short = min(h, w)
    candidates = []
    for contour in contours:
        x, y, cw, ch = cv2.boundingRect(contour)
        if not short / 70 <= max(cw, ch) <= short / 6 or not 0.7 <= cw / ch <= 1.4:
            continue
        area = cv2.contourArea(contour)
        (_, _), (rw, rh), _ = cv2.minAreaRect(contour)
        if rw * rh == 0 or area / (rw * rh) < 0.88:
            continue  # a circle (a filled bubble) or a ragged blob
        solid = float(ink[y : y + ch, x : x + cw].mean()) / 255 / (area / (cw * ch))
        if solid < 0.9:
            continue  # hollow: a QR finder pattern
        m = cv2.moments(contour)
        candidates.append((m["m10"] / m["m00"], m["m01"] / m["m00"], area))
    if len(candidates) < 4:
        raise PageUnreadable("the four corner squares were not found (blank page, or not a sheet)")
    corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
    chosen = []
    for cx, cy in corners:
        best = min(candidates, key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)
        chosen.append(best)
    areas = [c[2] for c in chosen]
    if len({(c[0], c[1]) for c in chosen}) < 4 or max(areas) > 2.5 * min(areas):
        raise PageUnreadable("the four corner squares were not found (blank page, or not a sheet)")
    points = np.array([(c[0], c[1]) for c in chosen])
    # The squares must sit near the page's corners, not somewhere in the middle.
    if np.ptp(points[:, 0]) < w / 2 or np.ptp(points[:, 1]) < h / 2:
        raise PageUnreadable("the four corner squares were not found (blank page, or not a sheet)")
    return [(float(c[0]), float(c[1])) for c in chosen]


def _warp(gray: Image, found: list[tuple[float, float]], paper: str) -> Image:
    import cv2
    import numpy as np

    width, height = PAPER_MM[paper]
    near = MARKER_INSET + MARKER / 2
    target = np.array(
        [(near, near), (width - near, near), (near, height - near), (width - near, height - near)],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(np.array(found, dtype=np.float32), target * SCALE)
    size = (round(width * SCALE), round(height * SCALE))
    return cv2.warpPerspective(gray, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)


def _qr(page: Image, paper: str) -> tuple[str, bool] | None:
    """The QR text of a corrected page and whether the page is upside down, or None."""
    import cv2

    detector = cv2.QRCodeDetector()
    width, _ = PAPER_MM[paper]
    h, w = page.shape[:2]
    # The code's corner region on an upright page, and the same region turned by 180°.
    x0 = (width - MARKER_INSET - MARKER - 10.0 - QR_SIZE) * SCALE
    y1 = (MARKER_INSET + QR_SIZE + 10.0) * SCALE
    regions = (
        (False, page[: int(y1), int(x0) :]),
        (True, page[h - int(y1) :, : w - int(x0)]),
    )
    for turned, region in regions:
        for zoom in (1.0, 2.0):
            img = region if zoom == 1.0 else cv2.resize(region, None, fx=zoom, fy=zoom)
            try:
                text, _, _ = detector.detectAndDecode(img)
            except cv2.error:
                continue
            if text:
                return text, turned
            _, binary = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
            try:
                text, _, _ = detector.detectAndDecode(binary)
            except cv2.error:
                continue
            if text:
                return text, turned
    return None


def read_page(gray: Image) -> Scan:
    """Find, straighten and identify one page; PageUnreadable says why it cannot be."""
    import cv2
    import numpy as np

    found = _markers(gray)
    span_x = abs(found[1][0] - found[0][0]) + abs(found[3][0] - found[2][0])
    span_y = abs(found[2][1] - found[0][1]) + abs(found[3][1] - found[1][1])
    if span_x > span_y:  # scanned sideways: every sheet is portrait
        gray = cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
        found = _markers(gray)
    page = _warp(gray, found, "a4")
    decoded = _qr(page, "a4")
    if decoded is None:
        raise PageUnreadable("the QR code could not be read")
    sheet = parse_payload(decoded[0])
    turned = decoded[1]
    if sheet.paper != "a4":
        page = _warp(gray, found, sheet.paper)
    if turned:
        page = cv2.rotate(page, cv2.ROTATE_180)
    # Paper white and marker black on this page; "dark" is below their midpoint.
    white = float(np.percentile(page, 90))
    near = round((MARKER_INSET + MARKER / 2) * SCALE)
    r = round(MARKER / 4 * SCALE)
    black = float(np.median(page[near - r : near + r, near - r : near + r]))
    if white - black < 40:
        raise PageUnreadable("too little contrast between paper and ink to read the marks")
    return Scan(sheet, page, (white + black) / 2, turned)
