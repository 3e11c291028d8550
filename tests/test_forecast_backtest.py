"""Rolling-origin backtests, and the demo-data -> forecast -> backtest commands end to end."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from functools import cache
from pathlib import Path

import pytest

from api.cli_forecasting import add_commands
from forecasting.backtest import BacktestResult, plot_last_fold, run_backtest
from forecasting.gate import LABELS
from forecasting.world import WorldSpec, simulate_world
from pricing.errors import InvalidInput


@cache
def small_backtest() -> BacktestResult:
    history = simulate_world(WorldSpec(seed=8, days=364, slots_per_day=8)).history()
    return run_backtest(history, folds=2, horizon=28)


def test_backtest_reports_scores_for_every_method_overall_and_per_slot() -> None:
    result = small_backtest()
    assert result.origins[1] - result.origins[0] == dt.timedelta(28)
    # Each fold's forecaster is the gated one every command uses: its choice is named.
    assert len(result.model_names) == 2
    assert set(result.model_names) <= set(LABELS.values())
    for method in ("model", "seasonal_naive", "ets"):
        scores = result.overall[method]
        assert scores.rows > 2 * 20 * 8  # two folds of ~24 open days x 8 slots
        assert 0 < scores.wape < 1
        assert scores.mase > 0
        assert 0 <= scores.coverage <= 1
        assert len(result.per_slot[method]) == 8
    data = json.loads(json.dumps(result.as_dict()))
    assert set(data["overall"]) == {"model", "seasonal_naive", "ets"}


def test_the_model_beats_seasonal_naive_and_ets() -> None:
    overall = small_backtest().overall
    model = overall["model"]
    for baseline in ("seasonal_naive", "ets"):
        assert model.wape < 0.8 * overall[baseline].wape, baseline
        assert model.mase < overall[baseline].mase, baseline
    assert model.mase < 1  # better than last week's sales
    assert 0.7 <= model.coverage <= 0.95
    assert 0.7 <= model.coverage_open <= 0.9  # on slots that did not sell out


def test_the_last_fold_plot_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "fold.png"
    plot_last_fold(small_backtest(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_too_little_history_for_the_folds_is_refused() -> None:
    history = simulate_world(WorldSpec(seed=8, days=70, slots_per_day=4)).history()
    with pytest.raises(InvalidInput, match="less than 8 weeks"):
        run_backtest(history, folds=4, horizon=28)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="yieldgate")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


def test_demo_data_then_forecast_then_backtest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo-data", "--out", str(demo), "--seed", "2") == 0
    assert {p.name for p in demo.iterdir()} == {
        "venue.toml", "history.csv", "calendar.csv", "bookings.csv", "truth.json"
    }  # fmt: skip
    truth = json.loads((demo / "truth.json").read_text())
    start = truth["history_end"]

    out = tmp_path / "forecast.json"
    code = run_cli(
        "forecast", "--venue", str(demo / "venue.toml"), "--history", str(demo / "history.csv"),
        "--calendar", str(demo / "calendar.csv"), "--start", start, "--days", "14",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "fitting 2.0 years x" in printed and " done in " in printed
    assert "price sensitivity: 0.1" in printed and "(estimated)" in printed
    forecast = json.loads(out.read_text())
    assert forecast["model"] in LABELS.values() and forecast["venue"] == "demo-museum"
    assert any(
        note.startswith(f"model: {forecast['model']} (backtest WAPE") for note in forecast["notes"]
    )
    assert 10 <= len(forecast["days"]) <= 13  # the calendar's days, Mondays closed

    plot = tmp_path / "fold.png"
    code = run_cli(
        "backtest", "--venue", str(demo / "venue.toml"), "--history", str(demo / "history.csv"),
        "--folds", "1", "--horizon", "14", "--plot", str(plot),
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "fold 1/1" in printed
    assert printed.count("\nmodel ") == 1 and "seasonal_naive" in printed and "ets" in printed
    assert plot.exists()


def test_bad_input_exits_non_zero_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = tmp_path / "demo"
    run_cli("demo-data", "--out", str(demo))
    history = demo / "history.csv"
    lines = history.read_text().splitlines()
    fields = lines[5].split(",")
    fields[4] = "-3"
    lines[5] = ",".join(fields)
    history.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    code = run_cli(
        "forecast", "--venue", str(demo / "venue.toml"), "--history", str(history),
        "--start", "2027-01-05", "--days", "7", "--out", str(tmp_path / "f.json"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("yieldgate: ") and "line 6, column sold: -3 is negative" in err

    code = run_cli("backtest", "--venue", str(tmp_path / "nowhere.toml"), "--history", str(history))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nowhere.toml" in err

    code = run_cli(
        "forecast", "--venue", str(demo / "venue.toml"), "--history", str(history),
        "--start", "5 Jan", "--days", "7", "--out", str(tmp_path / "f.json"),
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "'5 Jan' is not a date" in err


def test_the_commands_refuse_history_rows_after_today(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    demo = tmp_path / "demo"
    run_cli("demo-data", "--out", str(demo))
    history = demo / "history.csv"
    lines = history.read_text().splitlines()
    future = dt.date.today() + dt.timedelta(days=400)  # after today wherever the venue is
    row = ",".join([future.isoformat(), *lines[1].split(",")[1:]])
    history.write_text("\n".join([*lines, row]) + "\n")
    files = ["--venue", str(demo / "venue.toml"), "--history", str(history)]
    ahead = ["--start", str(future + dt.timedelta(1)), "--days", "7"]
    capsys.readouterr()
    for argv in (
        ["forecast", *files, *ahead, "--out", str(tmp_path / "f.json")],
        ["backtest", *files],
        ["plan", *files, *ahead, "--out", str(tmp_path / "p.json")],
    ):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1, (argv[0], err)
        assert f"{history} line {len(lines) + 1}, column date: {future} is after today" in err


def test_the_service_does_not_load_forecasting() -> None:
    # Registering the commands must not pull numpy into `yieldgate serve`.
    from test_layering import modules_loaded_by

    loaded = modules_loaded_by("import api.cli_forecasting")
    assert not {"numpy", "scipy", "statsmodels", "forecasting"} & loaded
