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

pytest:
	QT_QPA_PLATFORM=offscreen $(VENV)/python -m pytest -q

screenshots: setup
	scripts/screenshots.sh

package: setup
	packaging/build_deb.sh

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache
