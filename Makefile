# The two commands of the README.  Both create .venv on first use.
.PHONY: lab test venv

venv:
	@scripts/bootstrap

# Opens JupyterLab on the quickstart notebook (as root too, e.g. in a container).  Extra options: make lab LAB_ARGS="--port 8899 --no-browser"
lab: venv
	.venv/bin/jupyter lab notebooks/00_quickstart.ipynb $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# Unit, widget and training tests, papermill runs of every notebook (tests/),
# and nbval re-running the notebooks with their stored defaults (notebooks/).
test: venv
	FTLAB_SMOKE=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env tests notebooks
