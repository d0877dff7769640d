"""Removing price books: one or all, from the CLI and over HTTP; each removal is a new catalog version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from api_support import ACME, ThreadServer, served_world
from test_invoice_scenarios import make_template
from test_qa_cli_errors import Invoke, invoke  # noqa: F401 (fixture)
from workmeter.app import Workmeter
from workmeter.core.errors import NotFound
from workmeter.interfaces.cli.main import app as cli

LAB = '[[model]]\nprovider = "my-lab"\nmodel = "lab-1"\nprices = { input_mtok = "1" }\n'
ACME_BOOK = '[[adjustment]]\nprovider = "openai"\ndiscount_percent = "10"\n'


def run(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output + result.stderr
    return orjson.loads(result.stdout) if "--json" in args else result.stderr


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog without books, then one with two books (``lab`` and ``acme``), written in that order."""
    folder = tmp_path_factory.mktemp("books")
    (folder / "lab.toml").write_text(LAB)
    (folder / "acme.toml").write_text(ACME_BOOK)
    with Workmeter.open(folder / "w.duckdb") as wm:
        wm.catalog.sync()
        wm.catalog.sync([folder / "lab.toml", folder / "acme.toml"])
    return folder / "w.duckdb"


@pytest.fixture
def db(synced: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(synced.read_bytes())
    return copy


def test_remove_one_book_keeps_the_others(db: Path) -> None:
    assert [b["name"] for b in run(db, "prices", "books", "list", "--json")] == ["lab", "acme"]
    before = run(db, "prices", "versions", "--json")[-1]["version"]
    result = run(db, "prices", "books", "remove", "lab", "--json")
    assert result["created"] and result["changed"] and result["previous"] == before
    assert [b["name"] for b in run(db, "prices", "books", "list", "--json")] == ["acme"]
    with Workmeter.open(db) as wm, pytest.raises(NotFound):
        wm.catalog.show("lab-1", "my-lab")  # its only price was in the removed book
    assert "rerate" in run(db, "prices", "books", "remove", "acme")  # rated usage keeps its catalog until then


def test_remove_all_books_makes_the_list_prices_current_again(db: Path) -> None:
    first = run(db, "prices", "versions", "--json")[0]["version"]  # synced without books
    result = run(db, "prices", "books", "remove", "--all", "--json")
    assert (result["version"], result["created"], result["changed"]) == (first, False, True)
    assert run(db, "prices", "books", "list", "--json") == []
    assert run(db, "prices", "sync", "--json")["version"] == first  # later syncs keep "no books"
    with Workmeter.open(db) as wm:
        assert wm.catalog.latest_version() == first and wm.rater.rerate().catalog_version == first


def test_remove_mistakes_exit_2_or_4(invoke: Invoke, db: Path) -> None:  # noqa: F811
    unknown = invoke("--db", str(db), "prices", "books", "remove", "nope")
    assert unknown.exit_code == 4 and "no price book 'nope'" in unknown.stderr and "lab, acme" in unknown.stderr
    both = invoke("--db", str(db), "prices", "books", "remove", "lab", "--all")
    assert both.exit_code == 2 and "not both" in both.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadServer, dict[str, str]]]:
    with served_world(tmp_path_factory.mktemp("api-books"), make_template(tmp_path_factory), (ACME,)) as (server, keys, _):
        yield server, keys


def test_books_over_http(world: tuple[ThreadServer, dict[str, str]]) -> None:
    server, keys = world
    with server.client(keys["read"]) as c:
        listed = c.get("/api/v1/prices/books")
        refused = c.delete("/api/v1/prices/books/test-book")
    with server.client(keys[ACME]) as c:
        bound = c.get("/api/v1/prices/books")
    with server.client(keys["admin"]) as c:
        unknown = c.delete("/api/v1/prices/books/nope")
        removed = c.delete("/api/v1/prices/books/test-book")
        after = c.get("/api/v1/prices/books")
        none_left = c.delete("/api/v1/prices/books")
    assert listed.status_code == 200 and [b["name"] for b in listed.json()] == ["test-book"]
    assert refused.status_code == 403 and bound.status_code == 403 and unknown.status_code == 404
    assert removed.status_code == 200, removed.text
    assert removed.json()["created"] and removed.json()["rating_run"] >= 1
    assert after.json() == [] and none_left.json()["changed"] is False
