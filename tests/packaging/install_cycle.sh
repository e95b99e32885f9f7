#!/bin/bash
# Inside the sandbox: install, set up, run, enroll-like data, an unattended upgrade,
# remove, purge. The till's OS account is "cashier" (the kiosk account).
#   install_cycle.sh DEB_V1 DEB_V2 VENV_PYTHON
# Writes /results/<step>.{out,rc,time}; the pytest module asserts on them.
set -u
deb1="$1"; deb2="$2"; venv_python="$3"
export QT_QPA_PLATFORM=offscreen POS_APP_SCANNER_CAMERA=none

step() {  # step NAME COMMAND...: run, keep stdout+stderr, exit code and wall time
  local name="$1"; shift
  local start end
  start=$(date +%s.%N)
  "$@" > "/results/$name.out" 2>&1
  echo $? > "/results/$name.rc"
  end=$(date +%s.%N)
  echo "$start $end" | awk '{printf "%.3f\n", $2 - $1}' > "/results/$name.time"
}
as_cashier() { runuser -u cashier -- env HOME=/home/cashier "$@"; }
state() {  # what store IT would look at
  for path in /opt/pos-app/pos-app /usr/bin/pos-app /usr/share/pos-app/defaults.toml \
      /etc/pos-app/config.d /var/lib/pos-app /var/log/pos-app /usr/share/applications/pos-app.desktop \
      /usr/share/icons/hicolor/scalable/apps/pos-app.svg \
      /usr/lib/systemd/user/pos-app-kiosk.service /var/lib/pos-app/terminal.db \
      /var/lib/pos-app/terminal_key.pem; do
    if [ -e "$path" ]; then stat -c '%n %U:%G %a' "$path"; else echo "$path absent"; fi
  done
}

useradd --create-home cashier
step install1 dpkg -i "$deb1"
step setup /usr/bin/pos-app setup --owner cashier
state > /results/after_install.txt
step version as_cashier /usr/bin/pos-app --version
step version_again as_cashier /usr/bin/pos-app --version
step doctor1 as_cashier /usr/bin/pos-app doctor --offline --json
# python-escpos and fpdf2 must survive the bundle: a test page as PDF and as ESC/POS bytes.
step receipt_pdf as_cashier /usr/bin/pos-app receipt test --out /tmp/receipt-test.pdf
cp /tmp/receipt-test.pdf /results/receipt-test.pdf 2>/dev/null
# The cashier window must come up with its assets and stay up (timeout kills it: rc 124).
step run as_cashier timeout 8 /usr/bin/pos-app run
step backend as_cashier /usr/bin/pos-app backend init --data-dir /tmp/backend
# What a USB webcam records (MJPEG in AVI), written with this checkout's OpenCV: the
# installed bundle must read it (and use OpenCV's LAPACK from Debian's OpenBLAS).
step make_video env PYTHONDONTWRITEBYTECODE=1 "$venv_python" - <<'PY'
import cv2
from pos_app.core.gtin import make_gtin
from pos_app.scanning.synthetic import compose
frame = compose([make_gtin("490123456789")], module_px=3)  # a JAN code, 4901234567894
writer = cv2.VideoWriter("/tmp/clip.avi", cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (640, 480))
for _ in range(5):
    writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
writer.release()
PY
chmod 644 /tmp/clip.avi
step scan_video as_cashier /usr/bin/pos-app scan-video /tmp/clip.avi
mkdir -p -m 0700 /tmp/xdg-runtime
step unit env XDG_RUNTIME_DIR=/tmp/xdg-runtime \
  systemd-analyze verify --user /usr/lib/systemd/user/pos-app-kiosk.service

# A terminal in use: its database, an enrollment record and key file, a local setting.
# Written with the source tree's Python (as root: the venv may not be readable by others),
# then handed to the cashier as pos-app would have left them.
step seed env PYTHONDONTWRITEBYTECODE=1 "$venv_python" - <<'PY'
import json
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pos_app.paytoken import keys
from pos_app.terminal.store.db import open_store
data = Path("/var/lib/pos-app")
store = open_store(data)
info = {"keyid": "k1", "store_id": "S001", "terminal_id": "T01", "enrolled_at": 1,
        "backend_url": "https://backend.example", "key_storage": "file", "public_key": "x"}
with store.transaction() as conn:
    conn.execute("INSERT INTO kv (key, value) VALUES ('terminal.credential', ?)",
                 (json.dumps(info),))
store.close()
keys.write_private_key(data / "terminal_key.pem", Ed25519PrivateKey.generate())
PY
# Written as root, as an enrollment by root used to be: doctor names the fix, which repairs.
step doctor_root_files as_cashier /usr/bin/pos-app doctor --offline --json
step repair /usr/bin/pos-app setup --owner cashier
# Store IT's settings, as INSTALL.md says: a drop-in, never the package's files.
printf '[ui]\nlanguage = "en"\n[scanner]\nfps = 12\n' > /etc/pos-app/config.d/50-site.toml
sha256sum /var/lib/pos-app/terminal.db /var/lib/pos-app/terminal_key.pem \
  /etc/pos-app/config.d/50-site.toml > /results/data_before.txt
step doctor2 as_cashier /usr/bin/pos-app doctor --offline --json
step config_before as_cashier /usr/bin/pos-app config show --json

# The unattended upgrade (issue 16.2): no prompt may stop it. DEB_V2's defaults differ.
step install2 env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb2"
dpkg-query -W -f='${Version} ${Status}\n' pos-app > /results/version_after_upgrade.txt
sha256sum /var/lib/pos-app/terminal.db /var/lib/pos-app/terminal_key.pem \
  /etc/pos-app/config.d/50-site.toml > /results/data_after.txt
state > /results/after_upgrade.txt
step doctor3 as_cashier /usr/bin/pos-app doctor --offline --json
step config_after as_cashier /usr/bin/pos-app config show --json

# An unsent sale: removal warns before a purge can delete it.
step unsent env PYTHONDONTWRITEBYTECODE=1 "$venv_python" - <<'PY'
import sqlite3
conn = sqlite3.connect("/var/lib/pos-app/terminal.db")  # foreign keys off: no sale row
conn.execute(
    "INSERT INTO outbox (sale_id, kind, idempotency_key, payload, created_at, next_attempt_at)"
    " VALUES ('S1', 'finalize', 'k1', '{}', strftime('%s', 'now') - 7200, 0)"
)
conn.commit()
conn.close()
PY
step remove dpkg -r pos-app
state > /results/after_remove.txt
step purge dpkg --purge pos-app
state > /results/after_purge.txt
userdel --remove cashier
exit 0
