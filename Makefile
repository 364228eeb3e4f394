# The two commands of the README.  Both create .venv on first use.
.PHONY: lab test venv

venv:
	@scripts/bootstrap

# Opens JupyterLab on the quickstart notebook (as root too, e.g. in a container).  Extra options: make lab LAB_ARGS="--port 8899 --no-browser"
lab: venv
	.venv/bin/jupyter lab notebooks/00_quickstart.ipynb $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# Unit, widget and training tests (tests/), and every notebook run once by nbval with smoke settings (notebooks/):
# its own checks assert its effects, cells tagged nbval-check-output must match the stored real-run output.
# Two workers with one thread each use two cores better than one worker with two threads (tiny models);
# --dist loadfile keeps a notebook's cells together, in order, on one worker.  Run folders go to a temporary folder.
test:
	@FTLAB_EXTRAS=lab,test,gguf,serve scripts/bootstrap
	OMP_NUM_THREADS=1 FTLAB_SMOKE=1 FTLAB_OUTPUT_DIR=$$(mktemp -d) .venv/bin/python -m pytest -n 2 --dist loadfile \
		--nbval-lax --nbval-current-env tests notebooks
