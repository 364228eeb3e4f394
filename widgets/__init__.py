"""ftlab's Jupyter layer: thin ipywidgets/plotly views over the core's objects."""

from ftlab.widgets.config_builder import ConfigBuilder
from ftlab.widgets.dashboard import TrainingDashboard
from ftlab.widgets.plots import curves_figure, run_figure
from ftlab.widgets.run_compare import RunComparison

__all__ = ["ConfigBuilder", "RunComparison", "TrainingDashboard", "curves_figure", "run_figure"]
