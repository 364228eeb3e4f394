"""ftlab's Jupyter layer: thin ipywidgets/plotly views over the core's objects."""

from ftlab.widgets.dashboard import TrainingDashboard
from ftlab.widgets.data_explorer import DataExplorer
from ftlab.widgets.plots import curves_figure, run_figure

__all__ = ["DataExplorer", "TrainingDashboard", "curves_figure", "run_figure"]
