"""The main demo runs end to end on the real VGG16 table and its numbers are consistent."""

import importlib.util
import json

import pytest


@pytest.fixture(scope="module")
def demo(repo_root):
    spec = importlib.util.spec_from_file_location("incision_demo", repo_root / "examples" / "python" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_runs_and_the_oracle_is_a_lower_bound(demo, tmp_path, capsys):
    plot, out = tmp_path / "demo.png", tmp_path / "demo.json"
    assert demo.main(["--frames", "9000", "--plot", str(plot), "--json", str(out)]) == 0
    assert plot.stat().st_size > 10_000
    rows = {r["policy"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["oracle"]["regret_s"] == 0.0 and rows["oracle"]["oracle_cut_pct"] == 100.0
    for name, r in rows.items():
        assert r["regret_s"] >= 0.0, name
        assert r["mean_latency_ms"] >= rows["oracle"]["mean_latency_ms"] - 1e-9, name
    assert "muLinUCB (ANS)" in capsys.readouterr().out


def test_environment_matches_the_dads_uplink_levels(demo):
    import numpy as np

    bandwidth, load, labels = demo.environment(900, np.random.default_rng(0))
    for lo, hi, name in labels:
        level = demo.LINKS[name]
        assert np.all((bandwidth[lo:hi] >= 0.9 * level) & (bandwidth[lo:hi] <= 1.1 * level))
    assert load.min() == 1.0 and load.max() == 3.0
