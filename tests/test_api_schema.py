"""schemathesis over the server's own OpenAPI document: every check, fixed seed, bounded examples.

The document states what the server accepts (patterns for months, times and
group keys, enums, nullable fields), so a request it calls valid is served
and one it calls invalid is refused. Three write operations validate what a
JSON Schema cannot say (cross-field rules: a grant expiring before it starts;
a TOML plan's contents; a usage object's internal consistency); for those
alone a 400 with the reason is an accepted answer to schema-valid input.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api_support import ProcessServer, usage_event
from workmeter.app import Workmeter

EXAMPLES = 5
SEED = 20261001

CONFIG = """
[[operations]]
include-path-regex = "^/api/v1/(prices/quote|plans|customers/\\\\{customer\\\\}/credits)$"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
"""


def test_openapi_document_holds_under_schemathesis(tmp_path: Path) -> None:
    db = tmp_path / "schema.duckdb"
    with Workmeter.open(db) as wm:
        wm.ledger.ingest([usage_event(f"s{i}", subject=f"cus_{i % 3}") for i in range(12)])
        key = wm.keys.create("admin", name="schemathesis")[1]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    server = ProcessServer(db).start()
    try:
        st = Path(sys.executable).with_name("st")
        result = subprocess.run(
            [str(st), "--config-file", str(config), "run", f"{server.url}/openapi.json", "--checks", "all",
             "--seed", str(SEED), "--max-examples", str(EXAMPLES), "--generation-database", "none",
             "--no-color", "--header", f"Authorization: Bearer {key}", "--workers", "1", "--phases", "coverage,fuzzing"],
            capture_output=True, text=True, timeout=400, cwd=tmp_path,
        )
    finally:
        server.stop()
    lines = result.stdout.splitlines()
    tail = "\n".join(lines[-80:])
    assert result.returncode == 0, tail
    summary = [ln for ln in lines if ln.startswith("=") and " in " in ln][-1]
    assert "fail" not in summary and "error" not in summary, tail
