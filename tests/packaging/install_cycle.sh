#!/bin/bash
# Inside the sandbox: install, run, enroll-like data, upgrade, remove, purge.
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
  for path in /opt/pos-app/pos-app /usr/bin/pos-app /etc/pos-app/config.toml \
      /var/lib/pos-app /var/log/pos-app /usr/share/applications/pos-app.desktop \
      /usr/share/icons/hicolor/scalable/apps/pos-app.svg \
      /usr/lib/systemd/user/pos-app-kiosk.service /var/lib/pos-app/terminal.db \
      /var/lib/pos-app/terminal_key.pem; do
    if [ -e "$path" ]; then stat -c '%n %U:%G %a' "$path"; else echo "$path absent"; fi
  done
}

useradd --create-home cashier
step install1 dpkg -i "$deb1"
usermod -a -G pos-app cashier
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
chown cashier:pos-app /var/lib/pos-app/terminal.db /var/lib/pos-app/terminal_key.pem
echo '# local change by store IT' >> /etc/pos-app/config.toml
sha256sum /var/lib/pos-app/terminal.db /var/lib/pos-app/terminal_key.pem \
  /etc/pos-app/config.toml > /results/data_before.txt
step doctor2 as_cashier /usr/bin/pos-app doctor --offline --json

step install2 dpkg -i "$deb2"
dpkg-query -W -f='${Version}\n' pos-app > /results/version_after_upgrade.txt
sha256sum /var/lib/pos-app/terminal.db /var/lib/pos-app/terminal_key.pem \
  /etc/pos-app/config.toml > /results/data_after.txt
state > /results/after_upgrade.txt
step doctor3 as_cashier /usr/bin/pos-app doctor --offline --json

step remove dpkg -r pos-app
state > /results/after_remove.txt
step purge dpkg --purge pos-app
state > /results/after_purge.txt
userdel --remove cashier
exit 0
