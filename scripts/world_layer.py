"""Write civicgen/data/world-110m.geojson: the countries of the world the tool catalog's
deployment maps are drawn on, from Natural Earth's 1:110m Admin 0 countries (public domain).

The shapefile is read as geopandas 0.14 ships it (geopandas/datasets/naturalearth_lowres,
an unchanged copy of Natural Earth's; later geopandas versions no longer ship it):

    pip download geopandas==0.14.4 --no-deps -d /tmp/ne
    python scripts/world_layer.py /tmp/ne/geopandas-0.14.4-py3-none-any.whl

No third-party package is needed: the shapefile and its table are read with struct. Each
ring is simplified (Douglas-Peucker, 0.2 degrees: the map is at most 720 px wide for 360
degrees) and rounded to 0.1 degree; Antarctica is left out (the maps stop at 60 S).
"""

from __future__ import annotations

import json
import struct
import sys
import zipfile
from pathlib import Path

FOLDER = "geopandas/datasets/naturalearth_lowres/naturalearth_lowres"
TARGET = Path(__file__).resolve().parent.parent / "civicgen/data/world-110m.geojson"
TOLERANCE, DIGITS = 0.2, 1


def dbf_rows(data: bytes) -> list[dict[str, str]]:
    count, header_size, record_size = struct.unpack("<xxxxIHH", data[:12])
    fields, at = [], 32
    while data[at] != 0x0D:
        name = data[at : at + 11].split(b"\0")[0].decode("ascii")
        fields.append((name, data[at + 16]))
        at += 32
    rows = []
    for n in range(count):
        start = header_size + n * record_size + 1  # the first byte is the deletion flag
        row, offset = {}, start
        for name, size in fields:
            row[name] = data[offset : offset + size].decode("utf-8", "replace").strip()
            offset += size
        rows.append(row)
    return rows


def shp_shapes(data: bytes) -> list[list[list[tuple[float, float]]]]:
    shapes, at = [], 100
    while at < len(data):
        _, words = struct.unpack(">ii", data[at : at + 8])
        content = data[at + 8 : at + 8 + words * 2]
        at += 8 + words * 2
        kind = struct.unpack("<i", content[:4])[0]
        if kind != 5:  # polygon
            shapes.append([])
            continue
        parts_n, points_n = struct.unpack("<ii", content[36:44])
        parts = list(struct.unpack(f"<{parts_n}i", content[44 : 44 + 4 * parts_n]))
        base = 44 + 4 * parts_n
        points = [struct.unpack("<dd", content[base + 16 * i : base + 16 * i + 16])
                  for i in range(points_n)]  # fmt: skip
        ends = parts[1:] + [points_n]
        shapes.append([points[s:e] for s, e in zip(parts, ends, strict=True)])
    return shapes


def distance(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5


def simplify(line: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative."""
    keep = {0, len(line) - 1}
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        far, index = 0.0, -1
        for i in range(first + 1, last):
            d = distance(line[i], line[first], line[last])
            if d > far:
                far, index = d, i
        if far > TOLERANCE and index > 0:
            keep.add(index)
            stack += [(first, index), (index, last)]
    return [line[i] for i in sorted(keep)]


def ring(points: list[tuple[float, float]]) -> list[list[float]] | None:
    rounded: list[list[float]] = []
    for x, y in simplify(points):
        p = [round(x, DIGITS), round(y, DIGITS)]
        if not rounded or rounded[-1] != p:
            rounded.append(p)
    return rounded if len(rounded) >= 4 else None


def signed_area(points: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]))


def polygons(rings: list[list[list[float]]]) -> list[list[list[list[float]]]]:
    """Shapefile rings as GeoJSON polygons: an outer ring is clockwise, a hole is not and
    belongs to the outer ring before it."""
    found: list[list[list[list[float]]]] = []
    for r in rings:
        if signed_area(r) < 0 or not found:
            found.append([r])
        else:
            found[-1].append(r)
    return found


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        rows = dbf_rows(archive.read(FOLDER + ".dbf"))
        shapes = shp_shapes(archive.read(FOLDER + ".shp"))
    features = []
    for row, shape in zip(rows, shapes, strict=True):
        if row.get("iso_a3") == "ATA" or row.get("name") == "Antarctica":
            continue
        rings = [r for r in (ring(part) for part in shape) if r]
        if rings:
            geometry = {"type": "MultiPolygon", "coordinates": polygons(rings)}
            properties = {"name": row.get("name", ""), "iso_a3": row.get("iso_a3", "")}
            features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    document = {"type": "FeatureCollection", "features": features}
    TARGET.write_text(json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n")
    points = sum(len(r) for f in features for p in f["geometry"]["coordinates"] for r in p)
    print(f"{TARGET}: {len(features)} countries, {points} points, {TARGET.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
