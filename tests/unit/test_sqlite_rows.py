"""Multi-row group commits: the statement sizes follow what SQLite allows."""

from alerts_processor.adapters.sqlite_rows import _VALUE_COLUMNS, _chunks

WIDTH = len(_VALUE_COLUMNS)  # parameters a record takes


def rows(n: int) -> list[dict[str, object]]:
    return [{"n": i} for i in range(n)]


def test_rows_go_in_few_statements_in_order() -> None:
    chunks = list(_chunks(rows(341), max_params=32766, width=WIDTH))
    assert [size for size, _ in chunks] == [256, 64, 16, 4, 1]
    assert [row for _, chunk in chunks for row in chunk] == rows(341)


def test_an_old_sqlite_with_999_parameters_gets_smaller_statements() -> None:
    assert {size for size, _ in _chunks(rows(300), max_params=999, width=WIDTH)} <= {16, 4, 1}
