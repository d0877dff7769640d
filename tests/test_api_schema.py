"""schemathesis over the server's own OpenAPI document: every check, fixed seed, bounded examples."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api_support import ThreadServer, usage_event
from workmeter.app import Workmeter

EXAMPLES = 20
SEED = 20261001


def test_openapi_document_holds_under_schemathesis(wm: Workmeter, tmp_path: Path) -> None:
    wm.ledger.ingest([usage_event(f"s{i}", subject=f"cus_{i % 3}") for i in range(12)])
    with ThreadServer(wm) as server:
        key = wm.keys.create("admin", name="schemathesis")[1]
        st = Path(sys.executable).with_name("st")
        result = subprocess.run(
            [str(st), "run", f"{server.url}/openapi.json", "--checks", "all", "--seed", str(SEED),
             "--max-examples", str(EXAMPLES), "--generation-database", "none", "--no-color",
             "--header", f"Authorization: Bearer {key}", "--workers", "2",
             "--report", "junit", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=400,
        )
    tail = "\n".join(result.stdout.splitlines()[-60:])
    assert result.returncode == 0, tail
    assert "No issues found" in result.stdout, tail
