#!/usr/bin/env bash
# Regenerate requirements/lock.txt: every package pos-app and its extras (server, dev,
# packaging) install, at one exact version each, with the sha256 of every file the
# package index serves for that version. bootstrap.sh, CI (make test) and the bundle
# build (make package) install only from it, with pip --require-hashes.
#
#   scripts/lock.sh                          keep the locked versions, add what is new
#   scripts/lock.sh --upgrade                move everything to the newest allowed version
#   scripts/lock.sh --upgrade-package NAME   move one package (repeatable)
#
# The lock is universal (markers for Linux, Windows, macOS) for Python 3.11 and newer.
# Resolution uses uv, pinned here, in a throw-away virtualenv under build/; uv reads the
# package index only, never this machine's pip configuration (local wheel folders).
# After it: scripts/bootstrap.sh, then the tests in tests/test_lock.py.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.10
tool=build/lock-tool
if [[ ! -x "$tool/bin/uv" ]] || [[ "$("$tool/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]]; then
  python3 -m venv --clear "$tool"
  "$tool/bin/python" -m pip install -q "uv==$UV_VERSION"
fi
"$tool/bin/uv" pip compile pyproject.toml requirements/build.in \
  --extra server --extra dev --extra packaging \
  --universal --python-version 3.11 --generate-hashes \
  --custom-compile-command "scripts/lock.sh" \
  --output-file requirements/lock.txt "$@"
