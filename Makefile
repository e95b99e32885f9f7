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
	$(VENV)/mypy pos_app tests bench

# Two workers (pytest-xdist; the CI machine has 2 cores). --dist loadscope keeps each test
# module on one worker, so a module's shared fixtures (a backend, an Xvfb session, the
# sandboxed install) are set up once and its tests run in file order. (xdist 3.8's
# loadgroup does nothing under pytest 9: its group suffix is written to a node attribute
# pytest 9 no longer reads.) PYTEST_WORKERS=0 runs everything in this process. The 20
# slowest tests are listed so CI logs show where the time goes.
# The tests that run this checkout as root inside an overlay of the machine (tests/accounts:
# real OS accounts; tests/packaging: the .deb installed, upgraded, rolled out by Ansible)
# run afterwards, one at a time, as they did before the parallel run: beside it, a
# non-root account in their sandbox was twice refused what it may do (/var/lib/pos-app,
# /usr/bin/env: Permission denied), failures none of them shows alone or together.
PYTEST_WORKERS ?= 2
SANDBOXED := tests/accounts tests/packaging
pytest:
	QT_QPA_PLATFORM=offscreen $(VENV)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope --durations=20 $(addprefix --ignore=,$(SANDBOXED))
	QT_QPA_PLATFORM=offscreen $(VENV)/python -m pytest -q --durations=10 $(SANDBOXED)

screenshots: setup
	scripts/screenshots.sh

package: setup
	packaging/build_deb.sh

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
