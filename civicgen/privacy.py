"""Personal data: found in text cells before it is published, and home sensors protected.

Found: e-mail addresses, phone numbers (international with +, Spanish 9-digit numbers)
and Spanish national id numbers (DNI: 8 digits and the mod-23 check letter; NIE: X, Y or Z,
7 digits and the check letter). A wrong check letter is not an id, which keeps budget
codes and amounts out. Matches are shown masked (1234****Z), never in full.

Home sensors: a sensor package marks stations hosted at people's homes, either all of them
(``"civicgen": {"sensor": {"privacy": "home"}}``) or one by one (a ``privacy`` column of the
stations table holding ``home``). Everything published shows such a station with its
coordinates snapped to a grid (``homeGrid``, 0.01° by default, about 1 km) and its id
replaced by a keyed pseudonym (see ``HomeStations``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import CivicError, PersonalDataError, ProfileError
from .stats.tables import DerivedTable
from .textcheck import Finding

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
MAY_HOLD = re.compile(r"[\d@]")  # every kind below needs a digit or an @
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
DNI = re.compile(r"(?<![\w.])(\d{2}\.?\d{3}\.?\d{3})[ -]?([A-Za-z])(?!\w)")
NIE = re.compile(r"(?<![\w.])([XYZxyz])[ -]?(\d{7})[ -]?([A-Za-z])(?!\w)")
INTERNATIONAL = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,20}\d(?![\w])")
SPANISH_PHONE = re.compile(
    r"(?<![\w+.,/-])(?<!\d[ -])"
    r"(?:[6789]\d\d(?:([ -]?)\d{3}\1\d{3}|([ -]?)\d\d\2\d\d\2\d\d)|[89]\d([ -]?)\d{3}\3\d\d\3\d\d)"
    r"(?![\w.,/]|[ -]\d)"
)
CONSENT = "public-by-consent"
KEY_VARIABLE = "CIVICGEN_PSEUDONYM_KEY"
WITHHELD = "withheld: the table has stations at homes"


# --- personal data in text -----------------------------------------------------------------


def mask(text: str, keep_start: int, keep_end: int = 1) -> str:
    """Every character but the first and last few as *, so a message never quotes it in full."""
    end = len(text) - keep_end
    return "".join(
        c if i < keep_start or i >= end or not c.isalnum() else "*" for i, c in enumerate(text)
    )


def masked_email(address: str) -> str:
    user, _, domain = address.partition("@")
    host, _, top = domain.rpartition(".")
    return f"{user[:1]}***@{host[:1]}***.{top}"


def valid_dni(digits: str, letter: str) -> bool:
    return DNI_LETTERS[int(digits) % 23] == letter.upper()


def ids_in(text: str) -> list[str]:
    """DNI and NIE numbers with a correct check letter, masked."""
    found = [
        mask(m.group(1).replace(".", "") + m.group(2).upper(), 4)
        for m in DNI.finditer(text)
        if valid_dni(m.group(1).replace(".", ""), m.group(2))
    ]
    for m in NIE.finditer(text):
        prefix = "XYZ".index(m.group(1).upper())
        if valid_dni(f"{prefix}{m.group(2)}", m.group(3)):
            found.append(mask(m.group(1).upper() + m.group(2) + m.group(3).upper(), 3))
    return found


def phones_in(text: str) -> list[str]:
    """Phone numbers, masked but for the last two digits."""
    found = []
    for m in INTERNATIONAL.finditer(text):
        if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
            found.append(mask(m.group(), 1, 2))
    found += [mask(m.group(), 0, 2) for m in SPANISH_PHONE.finditer(text)]
    return found


def personal_findings(text: str) -> list[Finding]:
    """One finding per kind of personal data in the text, its example masked."""
    if not MAY_HOLD.search(text):
        return []
    kinds = [
        ("an e-mail address", [masked_email(m.group()) for m in EMAIL.finditer(text)]),
        ("a national id number (DNI/NIE)", ids_in(text)),
        ("a phone number", phones_in(text)),
    ]
    return [
        Finding(PersonalDataError, f"{what} ({found[0]}) {FIX}") for what, found in kinds if found
    ]


FIX = (
    "is personal data, which must not be published; remove it, or, if this field may hold "
    "personal data published with the person's consent, a maintainer declares the field in "
    f'datapackage.json with "civicgen": {{"personal": "{CONSENT}"}}'
)


def declares_personal(field: dict[str, Any]) -> bool:
    """The field may hold personal data published by consent (e.g. a proposal's author)."""
    extra = field.get("civicgen")
    return isinstance(extra, dict) and extra.get("personal") == CONSENT


# --- home sensors -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeStations:
    """The stations hosted at homes, and how they are shown: a grid and a keyed pseudonym.

    The pseudonym is HMAC-SHA256 of the station id, keyed with the package's
    ``pseudonymSalt`` (and, when set, the CIVICGEN_PSEUDONYM_KEY environment variable), so
    every rebuild gives the same bytes. The salt is in the repository and therefore public:
    it stops a table of precomputed pseudonyms, not someone who can guess the ids and has the
    salt. Give home stations ids that cannot be guessed, or set CIVICGEN_PSEUDONYM_KEY as a
    secret of the deploy job (then only holders of the key rebuild the same bytes).
    """

    ids: frozenset[str]
    grid: Decimal
    key: bytes
    every: bool = False  # the whole package is declared home: every station, listed or not

    def is_home(self, station: str) -> bool:
        return self.every or station in self.ids

    def pseudonym(self, station: str) -> str:
        if not self.is_home(station):
            return station
        digest = hmac.new(self.key, station.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"home-{digest[:12]}"

    def coarse(self, value: str) -> str:
        """A coordinate snapped to the grid (0.01: 40.4234 → 40.42); unreadable: emptied."""
        try:
            cells = (Decimal(value.strip()) / self.grid).to_integral_value()
        except (InvalidOperation, ValueError):
            return ""
        return str((cells * self.grid).quantize(self.grid))


def sensor_settings(descriptor: dict[str, Any]) -> dict[str, Any]:
    extra = descriptor.get("civicgen")
    sensor = extra.get("sensor") if isinstance(extra, dict) else None
    return sensor if isinstance(sensor, dict) else {}


def home_key(settings: dict[str, Any]) -> bytes:
    salt = str(settings.get("pseudonymSalt") or "")
    return (os.environ.get(KEY_VARIABLE, "") + "\x1f" + salt).encode("utf-8")


def home_grid(settings: dict[str, Any]) -> Decimal:
    try:
        grid = Decimal(str(settings.get("homeGrid", "0.01")))
    except InvalidOperation:
        grid = Decimal("0.01")
    return grid if grid > 0 else Decimal("0.01")


def home_stations(
    descriptor: dict[str, Any], stations: list[dict[str, str]]
) -> HomeStations | None:
    """The package's home stations from its settings and its stations table, or None."""
    settings = sensor_settings(descriptor)
    everything = settings.get("privacy") == "home"
    ids = frozenset(
        row.get("id", "")
        for row in stations
        if everything or (row.get("privacy") or "").strip().lower() == "home"
    )
    if not ids and not everything:
        return None
    return HomeStations(ids, home_grid(settings), home_key(settings), everything)


def settings_errors(package: Any) -> list[CivicError]:
    """A package declaring home stations must give a pseudonymSalt and a usable homeGrid."""
    settings = sensor_settings(package.descriptor)
    declared = settings.get("privacy") == "home" or any(
        f.get("name") == "privacy" for r in package.resources for f in r.fields
    )
    if not declared or package.profile != "sensor":
        return []
    errors: list[CivicError] = []
    if not str(settings.get("pseudonymSalt") or "").strip():
        note = (
            "home stations are published under pseudonyms, which need a key: add "
            '"pseudonymSalt": "<a long random text>" to civicgen.sensor (for example the '
            "output of: python -c 'import secrets; print(secrets.token_hex(16))')"
        )
        errors.append(ProfileError(note=note, path=package.descriptor_path))
    grid = settings.get("homeGrid", 0.01)
    if isinstance(grid, bool) or not isinstance(grid, (int, float)) or not 0 < grid <= 1:
        note = (
            "civicgen.sensor.homeGrid must be a number of degrees above 0 and at most 1, like 0.01"
        )
        errors.append(ProfileError(note=note, path=package.descriptor_path))
    return errors


def protect_derived(
    tables: list[DerivedTable], homes: HomeStations | None, package: Any
) -> list[DerivedTable]:
    """Derived tables with home stations under their pseudonyms, and column profiles of the
    identifying columns (ids, names, coordinates) without their values."""
    if homes is None:
        return tables
    station = str(sensor_settings(package.descriptor).get("station", "station"))
    hidden = {"id", "name", "latitude", "longitude", station}
    protected = []
    for table in tables:
        names = [c.name for c in table.columns]
        rows = [list(row) for row in table.rows]
        if table.name.startswith("columns-") and "top_values" in names:
            rows = [withheld(row, names) if row[0] in hidden else row for row in rows]
        if "station" in names:
            index = names.index("station")
            rows = [
                [homes.pseudonym(v) if i == index else v for i, v in enumerate(r)] for r in rows
            ]
            rows.sort(key=lambda r: str(r[index]))
        protected.append(
            DerivedTable(table.name, table.title, table.description, table.columns, rows)
        )
    return protected


def withheld(row: list[Any], names: list[str]) -> list[Any]:
    """A column-profile row without the values that could name or place a home station."""
    shown = {"min": None, "max": None, "mean": None, "top_values": WITHHELD}
    return [shown.get(name, value) for name, value in zip(names, row, strict=True)]
