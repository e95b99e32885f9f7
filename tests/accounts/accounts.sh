#!/bin/bash
# Inside the sandbox (tests/packaging/sandbox.sh): a till with a kiosk account, an admin
# in group pos-app, and root, each running pos-app from this checkout.
#   accounts.sh VENV_PYTHON
# Writes /results/<step>.{out,rc} and listings; test_accounts.py asserts on them.
set -u
py="$1"
export PYTHONDONTWRITEBYTECODE=1 POS_APP_SCANNER_CAMERA=none QT_QPA_PLATFORM=offscreen
# Only in this throwaway overlay: let other accounts reach this checkout's Python.
chmod 711 /root

step() {  # step NAME COMMAND...: stdout+stderr and exit code
  local name="$1"; shift
  "$@" > "/results/$name.out" 2>&1
  echo $? > "/results/$name.rc"
}
pos() { "$py" -m pos_app "$@"; }
as() { local who="$1"; shift; runuser -u "$who" -- env HOME="/home/$who" "$@"; }
listing() { find /var/lib/pos-app /var/log/pos-app -printf '%p %u:%g %m\n' | sort; }

groupadd -f pos-app
useradd --create-home kiosk
useradd --create-home --groups pos-app alice
mkdir -p /etc/pos-app/config.d
cat > /etc/pos-app/config.d/10-site.toml <<'TOML'
[paths]
data_dir = "/var/lib/pos-app"
log_dir = "/var/log/pos-app"
TOML

# Before any account is named, root must not become the owner of the till's data.
step root_before_setup sh -c "printf '1234\n' | $py -m pos_app cashier add C042 Hanako --pin-stdin"
step setup pos setup --owner kiosk
cp /etc/pos-app/config.d/00-till-account.toml /results/owner_drop_in.toml
# root adds accounts: the command becomes kiosk before it opens anything.
step root_adds sh -c "printf '1234\n' | $py -m pos_app cashier add C042 Hanako --pin-stdin"
step root_adds_manager sh -c "printf '9876\n' | $py -m pos_app cashier add M001 Taro --role manager --pin-stdin"
step empty_pin sh -c "$py -m pos_app cashier add C043 Jiro --pin-stdin < /dev/null"
listing > /results/after_root.txt
# The admin in group pos-app: refused, told what to run, and leaves nothing behind.
step admin_doctor as alice "$py" -m pos_app doctor --offline
step admin_reads_db as alice cat /var/lib/pos-app/terminal.db
step admin_reads_pepper as alice cat /var/lib/pos-app/pin_pepper.key
step admin_reads_log as alice cat /var/log/pos-app/pos-app.log
listing > /results/after_admin.txt
# The till's own account.
step kiosk_list as kiosk "$py" -m pos_app cashier list
step kiosk_doctor as kiosk "$py" -m pos_app doctor --offline --json
# What the old layout let happen: a -shm file owned by the admin, mode 0644.
install -o alice -g alice -m 0644 /dev/null /var/lib/pos-app/terminal.db-shm
step kiosk_list_broken as kiosk "$py" -m pos_app cashier list
step kiosk_doctor_broken as kiosk "$py" -m pos_app doctor --offline --json
step repair pos setup --owner kiosk
step kiosk_list_repaired as kiosk "$py" -m pos_app cashier list
step kiosk_doctor_repaired as kiosk "$py" -m pos_app doctor --offline --json
listing > /results/after_repair.txt
# A copy of the database taken off the till (the pepper file stays behind).
cp /var/lib/pos-app/terminal.db /results/stolen.db
cp /var/lib/pos-app/pin_pepper.key /results/pepper.key
exit 0
