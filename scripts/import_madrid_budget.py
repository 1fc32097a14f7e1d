"""Copy the City of Madrid 2014-2015 approved expenditure budget into datasets/madrid-budget/.

Source: openspending/fiscal-data-package-demos, madrid-municipal-gastos (data from the City
of Madrid open data portal, datos.madrid.es, "Ayuntamiento de Madrid"), as kept in
../shared/samples/madrid-budget-2014-2015/. The expenditure file is copied byte for byte;
programs.csv lists each functional program code once, with its most recent label.

    python scripts/import_madrid_budget.py ../shared/samples/madrid-budget-2014-2015
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "datasets" / "madrid-budget" / "data"


def main(sample: Path) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    source = sample / "data" / "gastos_v40_2012-2015.csv"
    shutil.copyfile(source, TARGET / "gastos-2014-2015.csv")
    labels: dict[str, tuple[int, str]] = {}
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            year, code = int(row["AÑO"]), row["PROGRAMA"]
            if code not in labels or year >= labels[code][0]:
                labels[code] = (year, row["DESCRIPCION PROGRAMA"])
    with (TARGET / "programas.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["PROGRAMA", "DESCRIPCION PROGRAMA"])
        writer.writerows((code, labels[code][1]) for code in sorted(labels))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
