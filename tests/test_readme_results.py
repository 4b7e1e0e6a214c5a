"""The README's table of test likelihoods is the one scripts/readme_results.py writes from results/*.json."""

import subprocess
import sys

from dgm.paths import REPO_ROOT


def test_readme_results_table_is_up_to_date():
    run = subprocess.run([sys.executable, "scripts/readme_results.py", "--check"], cwd=REPO_ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr + run.stdout
