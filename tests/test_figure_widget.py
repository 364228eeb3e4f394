"""ftlab's FigureWidget opens its comm with the figure in it: no view can render an empty plot."""

import plotly.graph_objects as go
import pytest

from ftlab.widgets.figure_widget import FigureWidget


@pytest.fixture
def opening_states(monkeypatch):
    """The state each widget comm is opened with."""
    import comm

    from ipywidgets.widgets import widget

    states, create = [], comm.create_comm

    def spy(**kwargs):
        states.append(kwargs["data"]["state"])
        return create(**kwargs)

    monkeypatch.setattr(widget.comm, "create_comm", spy)
    return states


def test_the_opening_state_holds_traces_and_layout(opening_states):
    figure = FigureWidget(go.Heatmap(z=[[1, 2], [3, 4]]), layout=go.Layout(title="confusion matrix"))
    state = opening_states[-1]
    assert [trace["type"] for trace in state["_widget_data"]] == ["heatmap"]
    assert state["_widget_layout"]["title"] == {"text": "confusion matrix"}
    # plotly's own class opens with neither (they follow as an update a view may render before)
    go.FigureWidget(go.Heatmap(z=[[1]]), layout=go.Layout(title="x"))
    assert opening_states[-1]["_widget_data"] == [] and opening_states[-1]["_widget_layout"] == {}
    # and it is still a live FigureWidget: later edits work as before
    figure.add_scatter(y=[1, 2])
    figure.update_layout(title="after")
    assert len(figure.data) == 2 and figure.layout.title.text == "after" and figure.comm is not None


def test_every_panel_builds_figures_through_it():
    from pathlib import Path

    widgets = Path(__file__).resolve().parent.parent / "widgets"
    users = [p.name for p in widgets.glob("*.py") if "go.FigureWidget(" in p.read_text()]
    assert users == [], f"build FigureWidgets with ftlab.widgets.figure_widget.FigureWidget: {users}"
