"""API keys: shown once, stored hashed with a per-key salt, scoped, bound, revocable."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from workmeter.app import Workmeter
from workmeter.core.errors import InvalidInput, NotFound
from workmeter.interfaces.cli.main import app as cli


def test_key_is_prefixed_and_only_its_salted_hash_is_stored(wm: Workmeter) -> None:
    key, secret = wm.keys.create("read", name="dashboard")
    other, other_secret = wm.keys.create("read")
    assert secret.startswith(f"wm_{key.id}_") and len(secret) > 40
    rows = wm.db.read().execute("SELECT * FROM api_keys").fetchall()
    stored = " ".join(str(v) for row in rows for v in row)
    assert secret.split("_", 2)[2] not in stored and other_secret.split("_", 2)[2] not in stored
    salts = wm.db.read().execute("SELECT DISTINCT salt FROM api_keys").fetchall()
    assert len(salts) == 2
    assert wm.keys.verify(secret) == key and wm.keys.verify(other_secret) == other


def test_wrong_secret_unknown_id_and_foreign_tokens_do_not_verify(wm: Workmeter) -> None:
    _key, secret = wm.keys.create("ingest")
    assert wm.keys.verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert wm.keys.verify(f"wm_000000000000_{secret.split('_', 2)[2]}") is None
    assert wm.keys.verify("sk-not-a-workmeter-key") is None
    assert wm.keys.verify("wm_") is None


def test_revoked_key_never_verifies_again(wm: Workmeter) -> None:
    key, secret = wm.keys.create("admin")
    assert wm.keys.verify(secret) is not None
    revoked = wm.keys.revoke(key.prefix)
    assert revoked.revoked_at is not None
    assert wm.keys.verify(secret) is None
    assert wm.keys.revoke(key.id).revoked_at == revoked.revoked_at  # idempotent


def test_scopes_and_bindings_are_validated(wm: Workmeter) -> None:
    with pytest.raises(InvalidInput):
        wm.keys.create("superuser")
    with pytest.raises(InvalidInput):
        wm.keys.create("admin", customer="cus_a")
    with pytest.raises(NotFound):
        wm.keys.revoke("wm_nope")
    key, _ = wm.keys.create("read", customer="cus_a")
    assert key.customer == "cus_a" and key.allows("read") and not key.allows("ingest")
    admin, _ = wm.keys.create("admin")
    assert all(admin.allows(s) for s in ("ingest", "read", "admin"))


def test_last_used_is_recorded(wm: Workmeter) -> None:
    key, _ = wm.keys.create("read")
    assert wm.keys.get(key.id).last_used_at is None
    wm.keys.touch(key.id)
    assert wm.keys.flush_last_used() == 1
    assert wm.keys.get(key.id).last_used_at is not None


def test_cli_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "k.duckdb")
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", db, "keys", "create", "--scope", "read", "--customer", "cus_a",
                              "--name", "portal", "--json"])
    assert out.exit_code == 0, out.output
    created = orjson.loads(out.stdout)
    assert set(created) == {"id", "key"} and created["key"].startswith(f"wm_{created['id']}_")
    listed = orjson.loads(runner.invoke(cli, ["--db", db, "--json", "keys", "list"]).stdout)
    assert [(k["id"], k["scope"], k["customer"], k["name"]) for k in listed] == \
        [(created["id"], "read", "cus_a", "portal")]
    assert created["key"] not in runner.invoke(cli, ["--db", db, "--json", "keys", "list"]).stdout
    revoked = runner.invoke(cli, ["--db", db, "keys", "revoke", created["id"], "--json"])
    assert revoked.exit_code == 0 and orjson.loads(revoked.stdout)["revoked_at"]
    bad = runner.invoke(cli, ["--db", db, "keys", "create", "--scope", "root"])
    assert bad.exit_code != 0
