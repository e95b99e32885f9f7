#!/usr/bin/env bash
# Start the demo under Xvfb, drive it through every screen state and save PNGs
# into docs/screenshots/ (`make screenshots`). Uses a fresh, throw-away demo
# data folder so the run is repeatable and never touches the user's demo.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
export POS_APP_UI_LANGUAGE=en POS_APP_UI_SOUND=false QT_QPA_PLATFORM=xcb
# A fresh QSettings location, so a developer's remembered language/geometry do not leak in.
export XDG_CONFIG_HOME="$data/config"
command -v xvfb-run >/dev/null || { echo "screenshots: install xvfb (apt-get install xvfb)" >&2; exit 2; }
timeout 300 xvfb-run -a -s "-screen 0 1920x1080x24" \
  .venv/bin/pos-app demo --data-dir "$data/demo" --screenshots "$out"
ls -1 "$out"/*.png
