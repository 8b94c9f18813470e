"""The benchmark's results files name the store without its password."""

from bench.stores import shown


def test_a_password_in_the_store_url_is_not_recorded() -> None:
    assert shown("postgresql://bench:s3cret@127.0.0.1:5432/test") == "postgresql://bench:***@127.0.0.1:5432/test"


def test_urls_without_a_password_are_recorded_as_given() -> None:
    assert shown("sqlite") == "sqlite"
    assert shown("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"
