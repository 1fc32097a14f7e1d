"""Combine the chunks' partial results into the result one pass over the file gives."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from ..stats.partials import GroupMap, Groups
from .chunks import merge_parts
from .plan import TablePlan, keys_hashed
from .reference import ROW_DETAIL, RawError, ScanResult
from .sequence import combined

if TYPE_CHECKING:
    from .parallel import Chunked

from .engine import compiled as _kernel  # None in a pure-Python install: nothing to merge


def renumbered(part: Any, shift: int) -> Any:
    """A chunk's result with its rows moved by shift (it numbered them from a guess)."""
    result, primary, uniques, format_error = part
    errors = [
        (row + shift, field, code, cell, shifted(code, detail, shift))
        for row, field, code, cell, detail in result.errors
    ]
    key_rows = [
        {key: [row + shift for row in found] for key, found in rows.items()}
        for rows in result.key_rows
    ]
    if primary is not None:
        path, layout, checkpoints, first_row, lo, hi, moved = primary
        primary = (path, layout, checkpoints, first_row + shift, lo, hi, moved + shift)
    uniques = [_kernel.shifted_rows(arena, entries, shift) for arena, entries in uniques]
    return result._replace(errors=errors, key_rows=key_rows), primary, uniques, format_error


def shifted(code: str, detail: str, shift: int) -> str:
    """An error's detail with the first row it names moved by shift (a row with no
    primary key names none)."""
    return str(int(detail) + shift) if code in ROW_DETAIL and detail else detail


def until_format_error(parts: list[Any]) -> list[Any]:
    """The chunks up to the first with a format error (which ends the scan, as in one process)."""
    for index, part in enumerate(parts):
        if part[3]:
            return parts[: index + 1]
    return parts


def union_moves(found: Any) -> list[dict[int, int]]:
    """The moves of all key parts together, per chunk."""
    moves: list[dict[int, int]] = []
    for part in found:
        moves = moves or [{} for _ in part]
        for merged, more in zip(moves, part, strict=True):
            merged.update(more)
    return moves


def error_rank(error: RawError) -> tuple[int, int, int]:
    """Where an error sits among its row's errors: cells by field, extra cells, then the key."""
    row, field, code = error[0], error[1], error[2]
    if code == "primary-key":
        return (row, 3, 0)
    if code == "extra-cell":
        return (row, 2, field)
    return (row, 1, field)


class Merge:
    """Combine the chunks' partial results into the one-process result."""

    def __init__(
        self,
        chunked: Chunked,
        head: Any,
        ranges: list[Any],
        parts: list[Any],
        primary: list[dict[int, int]] | None = None,
    ) -> None:
        """primary: the primary keys seen again, per chunk, if the workers found them."""
        self.chunked, self.plan = chunked, chunked.plan
        self.parts = until_format_error(parts)  # a format error ends the scan, as in one process
        self.ranges, self.head, self.primary = ranges[: len(self.parts)], head, primary
        self.added: list[RawError] = []

    def result(self) -> ScanResult:
        errors = list(self.head.errors) if self.head is not None else []
        labels = list(self.head.labels) if self.head is not None else []
        results = [part[0] for part in self.parts]
        moves = self.cross_chunk_keys()
        for index, result in enumerate(results):
            errors.extend(
                self.rewrite(result.errors, moves[index]) if moves[index] else result.errors
            )
        if self.added:
            errors = list(heapq.merge(errors, sorted(self.added, key=error_rank), key=error_rank))
        return ScanResult(
            errors,
            sum(result.rows for result in results),
            labels,
            self.key_sets(results),
            self.key_rows(results),
            self.chunked.groups,
            combined(  # may raise Undecided
                [result.sequences for result in results], [s.limit for s in self.plan.sequences]
            ),
            sum(result.unplaced for result in results),
        )

    def cross_chunk_keys(self) -> list[dict[Any, dict[int, int]]]:
        """Per chunk: {field number (0: primary key): {first row here: first row before}}."""
        moves: list[dict[Any, dict[int, int]]] = [{} for _ in self.parts]
        if keys_hashed(self.plan):
            primary = self.primary
            if primary is None:  # the workers did not share the file: look keys up here
                keys = [part[1] for part in self.parts]
                primary = merge_parts(self.plan, keys, range(len(keys[0][1])), self.chunked.data)
            for index, moved in enumerate(primary):
                if moved:
                    moves[index][0] = moved
                    self.added.extend(
                        (row, 0, "primary-key", "", str(first)) for row, first in moved.items()
                    )
        uniques = [_kernel.KeySet.loads(*dump) for dump in self.parts[0][2]]
        unique_fields = [
            i for i, f in enumerate(self.plan.fields) if dict(f.constraints).get("unique")
        ]
        for index in range(1, len(self.parts)):
            part = self.parts[index]
            for key_set, dump, field in zip(uniques, part[2], unique_fields, strict=True):
                moved = key_set.merge_later(_kernel.KeySet.loads(*dump))
                if moved:
                    moves[index][field + 1] = moved
                    cells = self.cells(index, sorted(moved))
                    self.added.extend(
                        (row, field + 1, "unique-error", cells[row][field], str(first))
                        for row, first in moved.items()
                    )
        return moves

    def cells(self, index: int, rows: list[int]) -> dict[int, list[str]]:
        """The cells of some rows of a chunk (for the text of a cross-chunk unique error)."""
        lo, hi, first = self.ranges[index]
        return _kernel.cells_at(self.chunked.data, self.plan, lo, hi, first, rows)

    @staticmethod
    def rewrite(errors: list[RawError], moves: dict[int, dict[int, int]]) -> list[RawError]:
        """Point a chunk's duplicate errors at the key's first row in the whole file."""
        out = []
        for error in errors:
            row, field, code, cell, detail = error
            field_key = 0 if code == "primary-key" else field if code == "unique-error" else None
            moved = moves.get(field_key) if field_key is not None else None
            if moved and detail and int(detail) in moved:
                error = (row, field, code, cell, str(moved[int(detail)]))
            out.append(error)
        return out

    def key_sets(self, results: list[ScanResult]) -> list[set[tuple[Any, ...]]]:
        merged: list[set[tuple[Any, ...]]] = [set() for _ in self.plan.key_sets]
        for result in results:
            for found, more in zip(merged, result.key_sets, strict=True):
                found.update(more)
        return merged

    def key_rows(self, results: list[ScanResult]) -> list[dict[tuple[Any, ...], list[int]]]:
        merged: list[dict[tuple[Any, ...], list[int]]] = [{} for _ in self.plan.key_sets]
        for result in results:
            for rows, more in zip(merged, result.key_rows, strict=True):
                for key, found in more.items():
                    rows.setdefault(key, []).extend(found)
        return merged


class GroupMerge:
    """The chunks' group states (compact dumps) merged in C, as partials.merge_groups."""

    def __init__(self, plan: TablePlan) -> None:
        self.accs = [_kernel.GroupAcc(group_by) for group_by in plan.aggregates]
        self.ended = False  # a chunk had a format error: the scan ends there

    def add(self, part: Any) -> None:
        """Absorb the next chunk's groups (chunks come in file order)."""
        if part is None or self.ended:
            return
        for acc, dump in zip(self.accs, part[0].aggregates, strict=True):
            acc.absorb(dump)
        self.ended = bool(part[3])

    def groups(self) -> list[GroupMap]:
        """The merged groups, kept in C until read."""
        return [Groups(acc.groups, acc.columns) for acc in self.accs]
