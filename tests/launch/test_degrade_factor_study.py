"""scripts/degrade_factor_study.py: a malformed --type_sizes is refused in one line, before any work."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("value, message", [
    ("12-x", "--type_sizes: '12-x' is not LOW-HIGH"),
    ("13-11", "--type_sizes: '13-11' needs 4 <= LOW <= HIGH"),
    ("2", "--type_sizes: '2' needs 4 <= LOW <= HIGH"),
])
def test_bad_type_sizes_are_refused_with_a_clear_message(value, message):
  result = subprocess.run(
      [sys.executable, "scripts/degrade_factor_study.py", f"--type_sizes=11-13,{value}"],
      cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode != 0
  assert message in result.stderr + result.stdout
  assert "Traceback" not in result.stderr
