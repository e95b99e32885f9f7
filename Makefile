# The README's two commands are `make demo` and `make test`; both set up what they need.
.PHONY: setup demo test lint typecheck pytest screenshots package bench clean

VENV := .venv/bin

setup:
	@scripts/bootstrap.sh server,dev,packaging

demo: setup
	$(VENV)/pos-app demo

test: setup lint typecheck pytest

lint:
	$(VENV)/ruff check pos_app tests bench
	$(VENV)/ruff format --check pos_app tests bench

typecheck:
	$(VENV)/mypy pos_app

# Two workers (pytest-xdist; the CI machine has 2 cores). --dist loadscope keeps each test
# module on one worker, so a module's shared fixtures (a backend, an Xvfb session, the
# sandboxed install) are set up once and its tests run in file order. (xdist 3.8's
# loadgroup does nothing under pytest 9: its group suffix is written to a node attribute
# pytest 9 no longer reads.) PYTEST_WORKERS=0 runs everything in this process. The 20
# slowest tests are listed so CI logs show where the time goes.
# tests/accounts (real OS accounts in an overlay of this machine) runs alone afterwards:
# beside the parallel run it once saw /var/lib/pos-app unreadable to the kiosk account
# in its sandbox (7 failures; they pass alone and beside tests/packaging), and it takes
# a few seconds.
PYTEST_WORKERS ?= 2
pytest:
	QT_QPA_PLATFORM=offscreen $(VENV)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope --durations=20 --ignore=tests/accounts
	QT_QPA_PLATFORM=offscreen $(VENV)/python -m pytest -q tests/accounts

screenshots: setup
	scripts/screenshots.sh

package: setup
	packaging/build_deb.sh

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
