"""A station map drawn at build time as inline SVG: no tiles, no script, no other host."""

from __future__ import annotations

import functools
import json
import math
import posixpath
from dataclasses import dataclass
from importlib import resources
from typing import Any, NoReturn

from ..errors import preview
from ..exceptions import CivicgenException, FileTooLarge, UnsafePath

WIDTH, HEIGHT, MARGIN, LABEL_ROOM = 640, 400, 30, 150


def project(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Longitude/latitude to SVG x/y, equirectangular at the points' mean latitude, centred."""
    scale_x = math.cos(math.radians(sum(lat for _, lat in points) / len(points)))
    xs = [lon * scale_x for lon, _ in points]
    ys = [-lat for _, lat in points]
    x_span, y_span = (max(xs) - min(xs)) or 1e-9, (max(ys) - min(ys)) or 1e-9
    room_x = WIDTH - 2 * MARGIN - LABEL_ROOM  # labels go to the right of each point
    scale = min(room_x / x_span, (HEIGHT - 2 * MARGIN) / y_span)
    x_offset = MARGIN + (room_x - scale * x_span) / 2
    y_offset = (HEIGHT - scale * y_span) / 2
    return [
        (x_offset + (x - min(xs)) * scale, y_offset + (y - min(ys)) * scale)
        for x, y in zip(xs, ys, strict=True)
    ]


def station_map(rows: list[dict[str, str]]) -> dict[str, Any] | None:
    """Points to draw for a sensor package's stations (as published), or None without
    coordinates."""
    located = []
    for row in rows:
        try:
            located.append((row, float(row["longitude"]), float(row["latitude"])))
        except (KeyError, ValueError):
            continue
    if not located:
        return None
    xy = project([(lon, lat) for _, lon, lat in located])
    points = [
        {
            "id": preview(row.get("id", "")),  # a label on a map, shortened; the table has it all
            "name": preview(row.get("name", "")),
            "x": round(x, 1),
            "y": round(y, 1),
            "lat": lat,
            "lon": lon,
        }
        for (row, lon, lat), (x, y) in zip(located, xy, strict=True)
    ]
    return {"width": WIDTH, "height": HEIGHT, "points": points}


# --- the air-quality home's map: stations over a base layer shipped as data -----------------

AIR_WIDTH, PAD = 480, 0.08
BASE_LAYER_BYTES = 2_000_000  # a simplified district file is a few hundred KB
BASE_LAYER_FEATURES, BASE_LAYER_POINTS = 500, 50_000
LINES = {"Polygon": 1, "MultiPolygon": 2, "LineString": 0, "MultiLineString": 1}


class BaseLayerError(CivicgenException):
    """civicgen.sensor.baseLayer names a file that is not a usable GeoJSON base layer."""

    code = "base-layer"


@dataclass(frozen=True)
class Feature:
    name: str
    lines: list[list[tuple[float, float]]]  # (longitude, latitude) vertices
    closed: bool


def refuse_layer(path: str, why: str) -> NoReturn:
    raise BaseLayerError(
        f"{path}: the base layer named in civicgen.sensor.baseLayer {why}; give a GeoJSON "
        "FeatureCollection of Polygon, MultiPolygon, LineString or MultiLineString features "
        f"in longitude/latitude (at most {BASE_LAYER_BYTES:,} bytes, {BASE_LAYER_FEATURES} "
        f"features and {BASE_LAYER_POINTS:,} points), or remove the option to draw the "
        "computed one"
    )


def layer_path_problem(name: str) -> str | None:
    """Why a base layer's path cannot name a file of the package (None: it can)."""
    if not name:
        return None
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or ":" in name or ".." in parts or any(ord(c) < 32 for c in name):
        return (
            f"is {preview(name)!r}: give a path inside the package folder, like "
            '"boundaries/districts.geojson"'
        )
    if not name.lower().endswith((".geojson", ".json")):
        return f"is {preview(name)!r}: name a GeoJSON file (.geojson or .json)"
    return None


def layer_path(folder: str, name: str) -> str:
    """The base layer's path in the repository, from the package folder."""
    return posixpath.normpath(posixpath.join(folder or ".", name))


def read_base_layer(source: Any, folder: str, name: str) -> list[Feature]:
    """The features of a base layer file inside the repository, validated and bounded."""
    path = layer_path(folder, name)
    try:
        data = source.read(path, BASE_LAYER_BYTES)
    except FileTooLarge:
        refuse_layer(path, f"is larger than {BASE_LAYER_BYTES:,} bytes")
    except (OSError, KeyError, UnsafePath) as exc:
        refuse_layer(path, f"cannot be read ({exc})")
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        refuse_layer(path, "is not JSON text in UTF-8")
    return layer_features(path, document)


def layer_features(path: str, document: Any) -> list[Feature]:
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        refuse_layer(path, "is not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or len(features) > BASE_LAYER_FEATURES:
        refuse_layer(path, f"must list between 0 and {BASE_LAYER_FEATURES} features")
    found = [feature_of(path, f) for f in features]
    if sum(len(line) for f in found for line in f.lines) > BASE_LAYER_POINTS:
        refuse_layer(path, f"has more than {BASE_LAYER_POINTS:,} points; simplify it")
    return found


def feature_of(path: str, feature: Any) -> Feature:
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") not in LINES:
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        refuse_layer(path, f"has a feature whose geometry is {str(kind)[:40]!r}")
    kind = str(geometry["type"])
    properties = feature.get("properties")
    name = properties.get("name") if isinstance(properties, dict) else None
    depth = LINES[kind]
    lines = flatten(path, geometry.get("coordinates"), depth)
    return Feature(preview(str(name or "")), lines, kind.endswith("Polygon"))


def flatten(path: str, coordinates: Any, depth: int) -> list[list[tuple[float, float]]]:
    """The vertex lists of a geometry's coordinates (depth: list levels above the lines)."""
    groups = [coordinates]
    for _ in range(depth):
        groups = [g for group in groups if isinstance(group, list) for g in group]
    return [
        [vertex(path, p) for p in line]
        if isinstance(line, list)
        else refuse_layer(path, "has coordinates that are not lists")
        for line in groups
    ]


def vertex(path: str, point: Any) -> tuple[float, float]:
    if (
        isinstance(point, list)
        and len(point) >= 2
        and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in point[:2])
        and -180 <= point[0] <= 180
        and -90 <= point[1] <= 90
    ):
        return float(point[0]), float(point[1])
    return refuse_layer(
        path, f"has a point that is not a longitude and latitude: {str(point)[:40]}"
    )


def located(rows: list[dict[str, str]]) -> list[tuple[dict[str, str], float, float]]:
    """Stations with readable coordinates, as (row, longitude, latitude)."""
    found = []
    for row in rows:
        try:
            lon, lat = float(row["longitude"]), float(row["latitude"])
        except (KeyError, ValueError, TypeError):
            continue
        if math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90:
            found.append((row, lon, lat))
    return found


@dataclass(frozen=True)
class Frame:
    """Equirectangular projection of a longitude/latitude box into the SVG viewBox."""

    west: float
    south: float
    east: float
    north: float
    shrink: float  # cos(mean latitude)
    scale: float
    width: int
    height: int

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - self.west) * self.shrink * self.scale, 1),
            round((self.north - lat) * self.scale, 1),
        )


def frame_of(points: list[tuple[float, float]]) -> Frame:
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span = max((max(lons) - min(lons)) * shrink, max(lats) - min(lats), 0.005)
    west = (min(lons) + max(lons)) / 2 - span * (0.5 + PAD) / shrink
    east = (min(lons) + max(lons)) / 2 + span * (0.5 + PAD) / shrink
    north = max(lats) + span * PAD + (span - (max(lats) - min(lats))) / 2
    south = min(lats) - span * PAD - (span - (max(lats) - min(lats))) / 2
    scale = AIR_WIDTH / ((east - west) * shrink)
    height = round((north - south) * scale)
    return Frame(west, south, east, north, shrink, scale, AIR_WIDTH, height)


def svg_path(frame: Frame, line: list[tuple[float, float]], closed: bool) -> str:
    points = [frame.xy(lon, lat) for lon, lat in line]
    text = "".join(f"{'L' if i else 'M'}{x} {y}" for i, (x, y) in enumerate(points))
    return text + ("Z" if closed else "")


def hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull of the points (Andrew's monotone chain), counter-clockwise."""
    ordered = sorted(set(points))
    if len(ordered) < 3:
        return ordered

    def turn(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def chain(sequence: list[tuple[float, float]]) -> list[tuple[float, float]]:
        kept: list[tuple[float, float]] = []
        for p in sequence:
            while len(kept) >= 2 and turn(kept[-2], kept[-1], p) <= 0:
                kept.pop()
            kept.append(p)
        return kept[:-1]

    return chain(ordered) + chain(ordered[::-1])


def graticule(frame: Frame) -> list[dict[str, Any]]:
    """Meridians and parallels at a round step of degrees, each with its value."""
    from .series import nice_step

    step = nice_step(frame.north - frame.south, 4)
    lines = []
    for axis, low, high in (("lon", frame.west, frame.east), ("lat", frame.south, frame.north)):
        value = math.ceil(low / step) * step
        while value <= high:
            lines.append(graticule_line(frame, axis, round(value, 6)))
            value += step
    return lines


def graticule_line(frame: Frame, axis: str, value: float) -> dict[str, Any]:
    if axis == "lon":
        x, _ = frame.xy(value, frame.north)
        return {"axis": axis, "value": value, "d": f"M{x} 0V{frame.height}", "x": x, "y": 12}
    _, y = frame.xy(frame.west, value)
    return {"axis": axis, "value": value, "d": f"M0 {y}H{frame.width}", "x": 4, "y": y - 3}


def scale_bar(frame: Frame) -> dict[str, Any]:
    """A bar of a round number of kilometres, about a quarter of the map's width."""
    from .series import nice_step

    km_per_unit = 111.32 / frame.scale  # 1° of latitude is about 111.32 km
    km = nice_step(frame.width / 4 * km_per_unit, 1)
    length = round(km / km_per_unit, 1)
    return {"km": km, "length": length, "x": 12, "y": frame.height - 14}


def air_map(rows: list[dict[str, str]], base: list[Feature] | None) -> dict[str, Any] | None:
    """The stations (as published), numbered, over the base layer or a computed one."""
    stations = located(rows)
    if not stations:
        return None
    coordinates = [(lon, lat) for _, lon, lat in stations]
    extent = coordinates + [p for f in base or [] for line in f.lines for p in line]
    frame = frame_of(extent)
    points = [
        {"number": row.get("number") or str(i), "name": row.get("name", ""), "lat": lat, "lon": lon}
        | dict(zip(("x", "y"), frame.xy(lon, lat), strict=True))
        for i, (row, lon, lat) in enumerate(stations, start=1)
    ]
    shape = hull(coordinates)
    return {
        "width": frame.width,
        "height": frame.height,
        "points": points,
        "features": [
            {"name": f.name, "d": "".join(svg_path(frame, line, f.closed) for line in f.lines)}
            for f in base or []
        ],
        "computed": base is None,
        "graticule": graticule(frame) if base is None else [],
        "hull": svg_path(frame, shape, True) if base is None and len(shape) >= 3 else "",
        "scale": scale_bar(frame),
    }


# --- the tool catalog's deployments: points on a world map shipped with civicgen -------------

WORLD = "data/world-110m.geojson"  # Natural Earth 1:110m countries, public domain
WORLD_WIDTH, WORLD_HEIGHT, WORLD_NORTH = 720, 300, 90  # 2 units a degree, 90 N to 60 S
WORLD_FILE = "assets/civicgen/world.svg"  # the base map every deployment map shows


def world_xy(lon: float, lat: float) -> tuple[float, float]:
    """Longitude/latitude to the world map's units (equirectangular, 2 units a degree)."""
    return round((lon + 180) * 2, 1), round((WORLD_NORTH - lat) * 2, 1)


@functools.cache
def world_svg() -> bytes:
    """The base map: every country of the shipped layer as one SVG path, drawn once and
    shown under each tool's deployments."""
    document = json.loads(resources.files("civicgen").joinpath(WORLD).read_text("utf-8"))
    features = layer_features(WORLD, document)
    paths = "".join(
        '<path d="'
        + "".join(
            "".join(f"{'L' if i else 'M'}{x} {y}" for i, (x, y) in
                    enumerate(world_xy(lon, lat) for lon, lat in line)) + "Z"
            for line in feature.lines
        )
        + '"/>'
        for feature in features
    )  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WORLD_WIDTH} {WORLD_HEIGHT}">'
        f'<rect width="{WORLD_WIDTH}" height="{WORLD_HEIGHT}" fill="#e8f1f4"/>'
        '<g fill="#d9d9d9" stroke="#8c8c8c" stroke-width="0.4" fill-rule="evenodd">'
        f"{paths}</g></svg>\n"
    ).encode()


def span(low: float, high: float, size: float, limit: float) -> tuple[float, float]:
    """A window of `size` around [low, high], kept inside [0, limit]."""
    size = min(size, limit)
    start = (low + high) / 2 - size / 2
    return round(min(max(start, 0.0), limit - size), 1), round(size, 1)


def deployment_map(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The view of the world map that holds a tool's deployments (each a dict with number,
    latitude and longitude), points at the same place drawn once with every number."""
    places: dict[tuple[float, float], list[str]] = {}
    for point in points:
        try:
            lon, lat = float(point["longitude"]), float(point["latitude"])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -60 <= lat <= 90:
            places.setdefault(world_xy(lon, lat), []).append(str(point["number"]))
    if not places:
        return None
    xs, ys = [x for x, _ in places], [y for _, y in places]
    pad = 24.0
    width = max(max(xs) - min(xs) + 2 * pad, 2 * (max(ys) - min(ys) + 2 * pad), 160.0)
    x, width = span(min(xs), max(xs), width, WORLD_WIDTH)
    y, height = span(min(ys), max(ys), width / 2, WORLD_HEIGHT)
    radius = round(width / 55, 2)
    return {
        "x": x, "y": y, "width": width, "height": height,
        "world_width": WORLD_WIDTH, "world_height": WORLD_HEIGHT,
        "radius": radius, "font": round(radius * 1.1, 2), "stroke": round(radius / 5, 2),
        "points": [
            {"x": px, "y": py, "label": ",".join(numbers), "wide": len(numbers) > 1}
            for (px, py), numbers in sorted(places.items())
        ],
    }  # fmt: skip
