#!/usr/bin/env bash
# Build the PyInstaller one-folder bundle into build/pyinstaller/dist/pos-app.
# Usage: packaging/build_bundle.sh   (needs .venv with the packaging extra: make package)
set -euo pipefail
cd "$(dirname "$0")/.."
# The bundle carries exactly the packages of requirements/lock.txt (hash-checked): .venv is
# brought to the lock first (seconds when it already is). PYTHON=... builds with another
# interpreter as it is (packaging/windows, packaging/macos).
if [[ -z "${PYTHON:-}" ]]; then
  scripts/bootstrap.sh
fi
PY="${PYTHON:-.venv/bin/python}"
out=build/pyinstaller
# --noconfirm: replace the previous output; no UPX (slower start, AV false positives).
"$PY" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$out/dist" --workpath "$out/work" packaging/pos-app.spec
echo "bundle: $out/dist/pos-app ($(du -sh "$out/dist/pos-app" | cut -f1))"
