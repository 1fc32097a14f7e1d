"""A station map drawn at build time as inline SVG: no tiles, no script, no other host."""

from __future__ import annotations

import math
from typing import Any

from ..errors import preview

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
