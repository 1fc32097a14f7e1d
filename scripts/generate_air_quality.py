"""Write the example city's SYNTHETIC air-quality package: datasets/air-quality/data/*.csv.

No real Smart Citizen Kit export ships with this repository, so this seeded script makes
a realistic one: six stations in Madrid, one reading an hour for four weeks, with
daily cycles (traffic peaks for noise and particles, warm afternoons), a few gaps and
an episode of high particles. The portal labels the data as synthetic.

    python scripts/generate_air_quality.py
"""

from __future__ import annotations

import csv
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "datasets" / "air-quality" / "data"
START = datetime(2025, 10, 1, tzinfo=timezone.utc)
DAYS = 28
STATIONS = [  # id, name, district, latitude, longitude, traffic (0-1)
    ("sck-plaza-espana", "Plaza de España", "Moncloa-Aravaca", 40.4234, -3.7122, 0.9),
    ("sck-retiro", "Parque del Retiro", "Retiro", 40.4153, -3.6845, 0.3),
    ("sck-arganzuela", "Matadero", "Arganzuela", 40.3921, -3.6979, 0.6),
    ("sck-vallecas", "Puente de Vallecas", "Puente de Vallecas", 40.3884, -3.6586, 0.7),
    ("sck-chamartin", "Plaza de Castilla", "Chamartín", 40.4659, -3.6888, 0.8),
    ("sck-barajas", "Barajas pueblo", "Barajas", 40.4736, -3.5796, 0.5),
]


def reading(rng: random.Random, when: datetime, traffic: float, episode: float) -> list[str]:
    hour = when.hour + 2  # local time (CEST) drives the daily cycle
    rush = math.exp(-((hour - 8.5) ** 2) / 3) + math.exp(-((hour - 19) ** 2) / 4)
    warm = math.sin((hour - 9) / 24 * 2 * math.pi)
    temperature = 17 + 6 * warm - 0.12 * (when - START).days + rng.gauss(0, 0.8)
    humidity = min(98, max(15, 62 - 18 * warm + rng.gauss(0, 4)))
    noise = 42 + 22 * traffic * (0.4 + rush) + rng.gauss(0, 2.5)
    pm25 = max(1.0, (5 + 10 * traffic * rush + episode) * rng.lognormvariate(0, 0.25))
    pm1 = pm25 * rng.uniform(0.6, 0.75)
    pm10 = pm25 * rng.uniform(1.5, 2.1)
    values = [temperature, humidity, noise, pm1, pm25, pm10]
    return [f"{v:.1f}" if rng.random() > 0.01 else "" for v in values]


def episode_level(day: int) -> float:
    """A four-day particle episode (Saharan dust, as Madrid gets) in the third week."""
    return 22.0 if 16 <= day <= 19 else 0.0


def main() -> None:
    rng = random.Random(2025)
    TARGET.mkdir(parents=True, exist_ok=True)
    with (TARGET / "stations.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "name", "district", "latitude", "longitude"])
        writer.writerows(s[:5] for s in STATIONS)
    with (TARGET / "readings.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            ["station", "timestamp", "temperature", "humidity", "noise", "pm1", "pm25", "pm10"]
        )
        for station, *_, traffic in STATIONS:
            for step in range(DAYS * 24):
                when = START + timedelta(hours=step)
                if rng.random() < 0.004:
                    continue  # the kit was offline: a gap
                stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                writer.writerow(
                    [station, stamp, *reading(rng, when, traffic, episode_level(step // 24))]
                )


if __name__ == "__main__":
    main()
