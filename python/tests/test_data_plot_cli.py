"""incision.data (shipped files from any folder), incision.plot, and ``python -m incision``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import incision as inc


def test_data_path_finds_the_shipped_files_from_any_folder(tmp_path, monkeypatch, data_dir):
    monkeypatch.chdir(tmp_path)  # the README quick start, run outside the checkout
    p = inc.data.path("ans/vgg16_arms.csv")
    assert p.is_absolute() and p.read_bytes() == (data_dir / "ans" / "vgg16_arms.csv").read_bytes()
    contexts, front = inc.load_arm_table(p)
    assert contexts.shape == (23, 7)
    g = inc.LayerGraph.from_msr_json(inc.data.path("msr-fiddle/layer_resnet50_inference.json"))
    assert len(g) == 177
    shipped = set(inc.data.files())
    in_repo = {q.relative_to(data_dir).as_posix() for q in (data_dir / "ans").iterdir()}
    in_repo |= {q.relative_to(data_dir).as_posix() for q in (data_dir / "msr-fiddle").iterdir()}
    assert in_repo <= shipped


def test_the_wheel_carries_the_data():
    """Installed, incision.data reads the package's own copy, not the checkout's."""
    root = inc.data.root()
    assert root.name == "_data" and root.parent == __import__("pathlib").Path(inc.__file__).resolve().parent


def test_data_path_errors_name_the_available_files():
    with pytest.raises(FileNotFoundError, match="vgg16_arms.csv") as e:
        inc.data.path("ans/vgg19_arms.csv")
    assert "ans/vgg19_arms.csv" in str(e.value) and "layer_resnet50_inference.json" in str(e.value)
    with pytest.raises(ValueError):
        inc.data.path("../pyproject.toml")


@pytest.fixture
def agg():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plot_helpers_draw_what_they_are_given(agg):
    rng = np.random.default_rng(0)
    table = rng.random((200, 4))
    policies = {"always 0": np.zeros(200, dtype=int), "oracle": table.argmin(axis=1)}
    ax = inc.plot.regret(table, policies)
    lines = {ln.get_label(): ln.get_ydata() for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["always 0"], np.cumsum(table[:, 0] - table.min(axis=1)))
    assert np.all(lines["oracle"] == 0.0)
    ax = inc.plot.latency(table, policies, window=10)
    assert {ln.get_label() for ln in ax.get_lines()} == {"always 0", "oracle"}
    ax = inc.plot.cut_timeline(policies, cut_labels=["a", "b", "c", "d"])
    assert len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="frames"):
        inc.plot.regret(table, {"short": np.zeros(3, dtype=int)})
    with pytest.raises(ValueError, match="cut outside"):
        inc.plot.regret(table, {"bad": np.full(200, 4)})


def test_plot_bandwidth_map_marks_every_breakpoint(agg, data_dir):
    g = inc.LayerGraph.from_msr_json(data_dir / "msr-fiddle" / "layer_inceptionv3_inference.json")
    m = inc.BandwidthMap(g, 1e4, 1e10)
    assert len(m) >= 2
    ax = inc.plot.bandwidth_map(m)
    vertical = [ln for ln in ax.get_lines() if len(set(ln.get_xdata())) == 1]
    assert sorted(float(ln.get_xdata()[0]) for ln in vertical) == sorted(m.breakpoints)
    optimal = next(ln for ln in ax.get_lines() if ln.get_label() == "optimal")
    np.testing.assert_allclose(optimal.get_ydata(), 1e3 * m.latency(optimal.get_xdata()))


def run_cli(*args, cwd):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "incision", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_python_m_incision_demo_runs_from_any_folder(tmp_path):
    out = run_cli("demo", "--frames", "1800", "--plot", "demo.png", "--json", "demo.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "muLinUCB (ANS)" in out.stdout and (tmp_path / "demo.png").stat().st_size > 10_000
    rows = {r["policy"]: r for r in json.loads((tmp_path / "demo.json").read_text())["rows"]}
    assert rows["oracle"]["regret_s"] == 0.0


def test_python_m_incision_usage(tmp_path):
    assert run_cli("nonsense", cwd=tmp_path).returncode == 2
    listing = run_cli("data", cwd=tmp_path)
    assert listing.returncode == 0 and "ans/vgg16_arms.csv" in listing.stdout
    assert run_cli("version", cwd=tmp_path).stdout.strip() == inc.__version__


def test_python_m_incision_demo_torch(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    out = run_cli("demo", "--torch", "resnet18", "--frames", "1800", "--plot", "", "--json", "t.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "t.json").read_text())
    assert result["split_max_abs_error"] < 1e-4
    rows = {r["policy"]: r for r in result["rows"]}
    assert rows["oracle"]["regret_s"] == 0.0 and rows["muLinUCB (discounted)"]["regret_s"] >= 0.0
