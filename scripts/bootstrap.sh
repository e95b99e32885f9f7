#!/usr/bin/env bash
# Set up everything pos-app needs on a Debian 12 machine, idempotently:
#   1. the system libraries Qt (offscreen and xcb), pyzbar and the screenshots need;
#   2. .venv with pos-app and its extras installed.
# Fast the second time: apt is skipped when every package is present, pip when
# pyproject.toml, setup.py and requirements/lock.txt have not changed since the last install.
#
# Usage: scripts/bootstrap.sh [EXTRAS]
#   The lock carries the extras server, dev and packaging together; EXTRAS (default
#   server,dev,packaging) may name any of them, and the whole locked set is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

EXTRAS="${1:-server,dev,packaging}"
for extra in ${EXTRAS//,/ }; do
  case "$extra" in
    server | dev | packaging) ;;
    *) echo "bootstrap: unknown extra '$extra' (requirements/lock.txt has server, dev, packaging)" >&2
       exit 2 ;;
  esac
done
APT_PACKAGES=(
  python3 python3-venv python3-pip
  libzbar0                                   # pyzbar's decoder library
  libusb-1.0-0                               # pyusb: USB receipt printers
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0   # Qt offscreen
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libxcb-xfixes0 libx11-xcb1                 # Qt xcb: a real window
  fonts-noto-cjk                             # Japanese text in the cashier UI
  xvfb xauth                                 # screenshots and window tests without a screen
  xdotool                                    # real X key events: the wedge scanner tried by hand
  x11-xserver-utils                          # xrandr: customer-display monitors plugged in tests
  poppler-utils                              # pdftotext: checks the PDF shift report
  libpulse0                                  # Qt Multimedia: the approval / decline sounds
  binutils systemd                           # PyInstaller (objdump), systemd-analyze for the kiosk unit
  libopenblas0-pthread gcc                   # the .deb: OpenCV's BLAS from Debian, FFmpeg stubs (packaging/)
  reprepro ansible-core gnupg                # the fleet recipe: signed apt repository, Ansible
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  [[ "$pkg" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: these system packages are missing: ${missing[*]}" >&2
    echo "bootstrap: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "bootstrap: then run this command again." >&2
    exit 1
  fi
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: pos-app needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
  echo "bootstrap: set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi

# Every package comes from requirements/lock.txt at its locked version and is checked
# against the lock's sha256 hashes (scripts/lock.sh regenerates it); pos-app itself is
# installed editable, without dependencies and without build isolation (its build
# backend is in the lock too), so nothing unhashed is downloaded.
lock=requirements/lock.txt
stamp=".venv/.pos-app-stamp"
want="$(cat pyproject.toml setup.py "$lock" | sha256sum | cut -d' ' -f1) $(.venv/bin/python -V 2>&1)"
if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$want" ]]; then
  echo "bootstrap: installing $lock and pos-app into .venv"
  .venv/bin/python -m pip install -q --require-hashes -r "$lock"
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  if ! .venv/bin/python -m pip check >/dev/null; then
    .venv/bin/python -m pip check >&2 || true
    echo "bootstrap: $lock does not satisfy pyproject.toml; run scripts/lock.sh" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
