"""ftlab's Jupyter layer: thin ipywidgets/plotly views over the core's objects."""

from ftlab.widgets.ab_panel import ABPanel, ab_figure, ab_html
from ftlab.widgets.config_builder import ConfigBuilder
from ftlab.widgets.dashboard import TrainingDashboard
from ftlab.widgets.data_explorer import DataExplorer
from ftlab.widgets.drift_panel import DriftPanel, drift_html
from ftlab.widgets.eval_panel import EvalPanel, eval_html
from ftlab.widgets.export_panel import ExportPanel, export_html, tradeoff_figure
from ftlab.widgets.model_picker import ModelPicker, fit_figure
from ftlab.widgets.playground import Playground
from ftlab.widgets.plots import curves_figure, run_figure
from ftlab.widgets.rating import RatingWidget
from ftlab.widgets.run_compare import RunComparison
from ftlab.widgets.strategy_wizard import StrategyWizard
from ftlab.widgets.timeline_view import GenerationTimeline, timeline_html

__all__ = ["ABPanel", "ConfigBuilder", "DataExplorer", "DriftPanel", "EvalPanel", "ExportPanel", "GenerationTimeline",
           "ModelPicker", "Playground", "RatingWidget", "RunComparison", "StrategyWizard", "TrainingDashboard",
           "ab_figure", "ab_html", "curves_figure", "drift_html", "eval_html", "export_html", "fit_figure",
           "run_figure", "timeline_html", "tradeoff_figure"]
