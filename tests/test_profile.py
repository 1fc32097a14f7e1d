"""The column profile of a table (civicgen/site/profile.py) and its table on the dataset page.

Expected numbers are counted by hand from the rows written here. The profile on the built
example portal, in both languages, is checked in test_portal_browser.py (whose built site
it shares).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from civicgen.scan.plan import Dialect, FieldPlan
from civicgen.site import profile
from civicgen.site.env import make_env
from civicgen.site.formats import date_time
from civicgen.site.i18n import load_catalogue
from civicgen.site.profile import ColumnProfile, data_rows, profile_rows


def plan(name: str, type_: str = "string", **options: object) -> FieldPlan:
    return FieldPlan(name, type_, str(options.pop("format", "default")), (), **options)


def one(rows: list[list[str]], field: FieldPlan) -> ColumnProfile:
    """The profile of the table's only column."""
    return profile_rows(rows, (field,))[0]


def column(*cells: str) -> list[list[str]]:
    return [[cell] for cell in cells]


# --- counts ------------------------------------------------------------------------------------


def test_filled_empty_and_distinct_with_the_schemas_missing_values() -> None:
    fields = (plan("a", missing_values=("", "NA")), plan("b", missing_values=("", "NA")))
    rows = [["x", "1"], ["NA", ""], ["x"], ["", "2"], ["y", "NA", "extra"]]
    a, b = profile_rows(rows, fields)
    assert (a.filled, a.empty, a.distinct, a.rows) == (3, 2, 2, 5)  # "NA" and "" are empty
    assert (b.filled, b.empty, b.distinct) == (2, 3, 2)  # a short row's missing cell too
    assert a.filled_share == pytest.approx(0.6) and b.empty_share == pytest.approx(0.6)
    assert a.top == (("x", 2), ("y", 1))


def test_an_all_empty_column() -> None:
    for field in (plan("s"), plan("n", "integer"), plan("d", "date"), plan("b", "boolean")):
        found = one(column("", "", ""), field)
        assert (found.filled, found.empty, found.distinct) == (0, 3, 0), field.type
        assert (found.low, found.high, found.mean, found.median, found.total) == (None,) * 5
        assert (found.top, found.shortest, found.longest) == ((), None, None)
        assert not found.all_different


def test_a_table_with_no_rows() -> None:
    found = one([], plan("s"))
    assert (found.rows, found.filled, found.distinct, found.filled_share) == (0, 0, 0, None)


# --- by type -----------------------------------------------------------------------------------


def test_integers_range_mean_median_and_sum() -> None:
    found = one(column("3", "1", "", "4", "1", "5"), plan("n", "integer"))
    assert (found.kind, found.filled, found.empty, found.distinct) == ("number", 5, 1, 4)
    assert (found.low, found.high, found.total) == (1, 5, 14)
    assert found.mean == Decimal("2.8") and found.median == 3  # 1 1 [3] 4 5
    assert (found.digits, found.mean_digits, found.median_digits) == (0, 1, 0)


def test_numbers_keep_their_decimals_and_skip_what_is_no_finite_number() -> None:
    found = one(column("1.5", "2.25", "", "-0.5", "NaN", "2.25"), plan("x", "number"))
    assert (found.filled, found.empty, found.distinct) == (5, 1, 4)  # NaN is filled
    assert (found.low, found.high) == (Decimal("-0.5"), Decimal("2.25"))
    assert found.total == Decimal("5.50")  # -0.5 + 1.5 + 2.25 + 2.25
    assert found.mean == Decimal("1.375")  # 5.5 / 4: NaN is in no sum
    assert found.median == Decimal("1.875")  # -0.5 1.5 | 2.25 2.25: (1.5 + 2.25) / 2
    assert (found.digits, found.median_digits) == (2, 3)


def test_numbers_in_the_fields_own_format() -> None:
    field = plan("amount", "number", decimal_char=",", group_char=".", bare_number=False)
    found = one(column("1.234,5 €", "€ 10", "-2,25"), field)
    assert (found.low, found.high, found.total) == (
        Decimal("-2.25"),
        Decimal("1234.5"),
        Decimal("1242.25"),
    )


def test_dates_earliest_and_latest() -> None:
    found = one(column("2020-01-02", "", "2019-12-31", "2020-01-01"), plan("d", "date"))
    assert (found.kind, found.low, found.high) == (
        "temporal",
        dt.date(2019, 12, 31),
        dt.date(2020, 1, 2),
    )
    european = one(column("02/01/2020", "31/12/2019"), plan("d", "date", format="%d/%m/%Y"))
    assert (european.low, european.high) == (dt.date(2019, 12, 31), dt.date(2020, 1, 2))


def test_datetimes_with_offsets_are_ordered_in_utc() -> None:
    cells = column("2020-01-01T08:00:00Z", "2020-01-01T09:00:00+02:00", "2020-01-01T10:00:00Z")
    found = one(cells, plan("t", "datetime"))
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert found.low == dt.datetime(2020, 1, 1, 9, tzinfo=plus_two)  # 07:00 UTC: the earliest
    assert found.high == dt.datetime(2020, 1, 1, 10, tzinfo=dt.timezone.utc)


def test_years_months_and_times_are_shown_as_written() -> None:
    assert (one(column("2015", "2014"), plan("y", "year")).low) == "2014"
    months = one(column("2014-11", "2015-02", "2014-03"), plan("m", "yearmonth"))
    assert (months.low, months.high) == ("2014-03", "2015-02")
    times = one(column("23:59:00", "07:30:00"), plan("h", "time"))
    assert (times.low, times.high) == ("07:30:00", "23:59:00")


def test_booleans_count_true_and_false_as_the_schema_spells_them() -> None:
    field = plan("b", "boolean", true_values=("sí", "1"), false_values=("no", "0"))
    found = one(column("sí", "1", "no", "", "sí"), field)
    assert (found.kind, found.trues, found.falses, found.filled, found.empty) == (
        "boolean",
        3,
        1,
        4,
        1,
    )
    assert found.distinct == 2  # true and false, however written


def test_texts_top_values_ties_broken_by_value() -> None:
    found = one(column("b", "a", "c", "a", "b", "d", "g", "f", "e"), plan("s"))
    assert found.top == (("a", 2), ("b", 2), ("c", 1), ("d", 1), ("e", 1))  # f and g left out
    assert (found.distinct, found.all_different) == (7, False)


def test_texts_unicode_lengths_and_long_values_shortened() -> None:
    long = "ñ" * 100
    found = one(column("ñandú", "日本", "👍", long, "ñandú"), plan("s"))
    assert (found.shortest, found.longest) == (1, 100)  # characters, not bytes
    assert found.top[0] == ("ñandú", 2)
    shown = dict(found.top)
    assert "ñ" * 59 + "…" in shown and long not in shown


def test_every_value_different() -> None:
    assert one(column("a", "b", "c"), plan("id")).all_different
    assert not one(column("a"), plan("id")).all_different  # one value: its top value says it


# --- large tables --------------------------------------------------------------------------------


def test_past_the_distinct_limit_counts_stay_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile, "DISTINCT_LIMIT", 10)
    monkeypatch.setattr(profile, "CHUNK", 4)
    rows = [[str(n), "x" if n % 2 else "", str(n % 3), f"id{n}"] for n in range(1, 26)]
    fields = (plan("n", "integer"), plan("s"), plan("k", "integer"), plan("id"))
    n, s, k, ids = profile_rows(rows, fields)
    assert (n.filled, n.distinct, n.median) == (25, None, None)  # more than 10
    assert (n.low, n.high, n.total) == (1, 25, 325) and n.mean == 13
    assert (ids.filled, ids.distinct, ids.top, ids.shortest, ids.longest) == (25, None, (), 3, 4)
    assert (s.filled, s.empty, s.distinct, s.top) == (13, 12, 1, (("x", 13),))
    assert (k.distinct, k.median, k.total) == (3, 1, 25)  # few values: still exact


def test_chunks_do_not_change_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[str(n % 7), f"v{n % 5}", f"2020-01-{n % 28 + 1:02d}"] for n in range(100)]
    fields = (plan("n", "integer"), plan("s"), plan("d", "date"))
    whole = profile_rows(rows, fields)
    monkeypatch.setattr(profile, "CHUNK", 3)
    assert profile_rows(rows, fields) == whole
    assert profile_rows(list(reversed(rows)), fields) == whole  # ties by value, not by order


# --- reading the published bytes -----------------------------------------------------------------


def test_rows_through_the_dialect_and_encoding() -> None:
    data = "título;valor\nunidades;euros\nañil;1\n".encode("latin-1")
    rows = list(data_rows(data, Dialect(delimiter=";", header_rows=(1, 2), encoding="latin-1")))
    assert rows == [["añil", "1"]]
    assert list(data_rows(b"\xff\xfe", Dialect())) == []  # undecodable: the scan said why


def test_a_malformed_row_ends_the_rows() -> None:
    for data in (b'a\nx\n"y\n', b'a\nx\n"y"z\nw\n'):  # an open quote; text after a quote
        (found,) = profile_rows(data_rows(data, Dialect()), (plan("a"),))
        assert (found.filled, found.top) == (1, (("x", 1),))


# --- the page's table ----------------------------------------------------------------------------


def rendered(profiles: list[ColumnProfile], language: str) -> str:
    env = make_env(None, load_catalogue(language))
    template = env.from_string('{% import "_profile.html" as p %}{{ p.profile_table(c, t) }}')
    return template.render(c=profiles, t="Obras <b>2025</b>")


def test_profile_table_in_spanish_and_english_with_data_escaped() -> None:
    rows = [
        ["<script>alert(1)</script>", "1234.5", "2025-03-01"],
        ["<script>alert(1)</script>", "", ""],
    ]
    fields = (plan("name"), plan("amount", "number"), plan("day", "date"))
    profiles = profile_rows(rows, fields)
    spanish, english = rendered(profiles, "es"), rendered(profiles, "en")
    for html in (spanish, english):
        assert "<script>" not in html and "<b>2025</b>" not in html
        assert "<q>&lt;script&gt;alert(1)&lt;/script&gt;</q> (2)" in html
        assert 'role="region"' in html and 'tabindex="0"' in html and '<th scope="row">' in html
    assert 'aria-label="Perfil de las columnas de Obras &lt;b&gt;2025&lt;/b&gt;"' in spanish
    assert "<td>1 (50,0\xa0%)</td><td>1 (50,0\xa0%)</td>" in spanish
    assert "Mínimo: 1.234,5" in spanish and "Desde: 1 mar 2025" in spanish
    assert "<td>1 (50.0%)</td><td>1 (50.0%)</td>" in english
    assert "Minimum: 1,234.5" in english and "Earliest: Mar 1, 2025" in english


def test_profile_table_says_more_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile, "DISTINCT_LIMIT", 2)
    found = profile_rows(column("a", "b", "c"), (plan("s"),))
    assert "<td>más de 2</td>" in rendered(found, "es")
    assert "<td>more than 2</td>" in rendered(found, "en")


def test_datetime_filter_in_spanish_english_and_without_locale() -> None:
    moment = dt.datetime(2025, 10, 1, 7, 30, tzinfo=dt.timezone.utc)
    assert date_time(moment, "medium", "es") == "1 oct 2025 07:30 UTC"
    assert date_time(moment, "medium", "en") == "Oct 1, 2025 07:30 UTC"
    assert date_time(moment, "medium", None) == "2025-10-01 07:30 UTC"
    later = dt.datetime(
        2025, 10, 1, 7, 30, 15, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))
    )
    assert date_time(later, "medium", None) == "2025-10-01 07:30:15 -03:30"
    assert date_time(dt.datetime(2025, 10, 1, 7, 30), "medium", None) == "2025-10-01 07:30"
    assert date_time(dt.date(2025, 10, 1), "medium", None) == "2025-10-01"
