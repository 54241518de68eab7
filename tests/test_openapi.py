"""The OpenAPI document tells the truth: Schemathesis drives every route of the running service with
generated requests and checks that none is a server error and every status, content type, header
and body is one the document declares (SSE events included)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(service, tmp_path):
    run = subprocess.run([SCHEMATHESIS, "run", f"{service}/openapi.json", "--checks", CHECKS, "--max-examples", "20",
                          "--workers", "1", "--request-timeout", "120", "--seed", "1"],
                         capture_output=True, text=True, timeout=900, cwd=tmp_path)
    summary = run.stdout[run.stdout.find("SUMMARY"):]
    assert run.returncode == 0, run.stdout[-6000:]
    assert "Tested: 13" in summary and " passed" in summary and "failure" not in summary
