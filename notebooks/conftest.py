"""Smoke budgets for the notebooks nbval runs: each notebook's cells, summed, against its ``ftlab.smoke_budget_s``.

A notebook that takes more than twice its budget fails the session: a smoke run
that slow means real settings leaked into it, and CI would soon outgrow its
time.  The table of times is printed either way.
"""

import json
from collections import defaultdict
from pathlib import Path

_seconds: dict[str, float] = defaultdict(float)
SLACK = 2.0


def _budget(stem: str) -> float | None:
    path = Path(__file__).parent / f"{stem}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))["metadata"].get("ftlab", {}).get("smoke_budget_s")


def pytest_runtest_logreport(report):
    if ".ipynb" in report.nodeid:
        _seconds[Path(report.nodeid.split("::")[0].split("@")[0]).stem] += report.duration


def _over_budget() -> list[str]:
    return [stem for stem, seconds in sorted(_seconds.items())
            if (budget := _budget(stem)) is not None and seconds > SLACK * budget]


def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _seconds:
        return
    terminalreporter.section("notebook smoke budgets")
    for stem, seconds in sorted(_seconds.items()):
        budget = _budget(stem)
        flag = "" if budget is None or seconds <= budget else "  over budget"
        terminalreporter.write_line(f"{stem:28s} {seconds:7.1f} s of {budget} s{flag}")
    if _over_budget():
        terminalreporter.write_line(f"more than {SLACK:g}x the smoke budget: {', '.join(_over_budget())}", red=True)
