#!/bin/bash
# Inside the sandbox: the fleet recipe of docs/INSTALL.md, as store IT runs it. A signed
# local apt repository made with packaging/fleet/make_repo.sh (reprepro); the payment
# operator's side, a reference backend from this checkout (`pos-app backend serve`, on
# loopback: the till accepts plain HTTP only to this machine) with a terminal and its
# one-time enrollment code made with the backend's admin commands; then the Ansible
# playbook packaging/fleet/till.yml run with ansible-playbook -c local: install, set up,
# configure, enroll, add accounts, check with `doctor --json` (online). Then a new release
# in the repository and the same playbook again (an unattended upgrade; the till stays
# enrolled), and once more with the backend stopped: the play fails naming the check.
#   fleet.sh CHECKOUT DEB_V1 DEB_V2
set -u
root="$1"; deb1="$2"; deb2="$3"
step() {
  local name="$1"; shift
  "$@" > "/results/$name.out" 2>&1
  echo $? > "/results/$name.rc"
}
export GNUPGHOME=/tmp/gnupg HOME=/root
mkdir -m 700 -p "$GNUPGHOME"
step key gpg --batch --passphrase '' --quick-generate-key "pos-app releases <it@example.invalid>" \
  ed25519 sign never
key="$(gpg --list-keys --with-colons | awk -F: '/^fpr/ {print $10; exit}')"
# Only this repository: no Debian mirror is reached (the Depends are already installed).
mkdir -p /tmp/apt-aside && mv /etc/apt/sources.list.d/* /tmp/apt-aside/ 2>/dev/null
: > /etc/apt/sources.list
step repo1 "$root/packaging/fleet/make_repo.sh" /srv/repo "$key" "$deb1"
# The backend, as its operator runs it (admin CLI: pos-app backend ...).
export PYTHONDONTWRITEBYTECODE=1  # the checkout is mounted read-only
operator() { "$root/.venv/bin/pos-app" backend "$@" --data-dir /srv/backend; }
step backend_init operator init
step terminal operator create-terminal --store S001 --terminal T07
code="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["enrollment_code"])' \
  < /results/terminal.out)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$root/.venv/bin/pos-app" backend serve --data-dir /srv/backend --host 127.0.0.1 --port "$port" \
  > /results/backend.log 2>&1 &  # not through a function: $! is the server itself
backend_pid=$!
trap 'kill "$backend_pid" 2>/dev/null' EXIT
backend_up() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$port/healthz" 2>/dev/null
}
for _ in $(seq 240); do backend_up && break; sleep 0.5; done
backend_up; echo $? > /results/backend_up.rc
cat > /tmp/tills.ini <<'INI'
[tills]
localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3
INI
cat > /tmp/vars.yml <<YML
pos_repo_url: file:///srv/repo
pos_repo_key: /srv/repo/pos-app.gpg
pos_till_account: kiosk
pos_backend_url: http://127.0.0.1:$port
pos_root_key: /srv/backend/root_public.pem
pos_store: S001
pos_terminal: T07
pos_enroll_code: "$code"
pos_doctor_environment: {QT_QPA_PLATFORM: offscreen, POS_APP_SCANNER_CAMERA: none}
pos_accounts:
  - {id: C042, name: Hanako Sato, role: cashier, pin: "4711"}
  - {id: M001, name: Taro Suzuki, role: manager, pin: "8642"}
YML
echo "$code" > /results/enroll_code.txt
play() { ansible-playbook -c local -i /tmp/tills.ini "$root/packaging/fleet/till.yml" -e @/tmp/vars.yml; }
as_kiosk() {  # no screen and no camera here, as in the play's check
  runuser -u kiosk -- env HOME=/home/kiosk QT_QPA_PLATFORM=offscreen POS_APP_SCANNER_CAMERA=none "$@"
}
step play1 play
dpkg-query -W -f='${Version} ${Status}\n' pos-app > /results/version1.txt
as_kiosk /usr/bin/pos-app cashier list > /results/accounts.txt 2>&1
cp /etc/pos-app/config.d/10-site.toml /results/site.toml
stat -c '%U %a' /var/lib/pos-app > /results/data_owner.txt
stat -c '%U %a' /var/lib/pos-app/terminal_key.pem > /results/key_owner.txt
step doctor1 as_kiosk /usr/bin/pos-app doctor --json
# A new release in the repository; the same playbook upgrades the till unattended.
step repo2 "$root/packaging/fleet/make_repo.sh" /srv/repo "$key" "$deb2"
step play2 play
dpkg-query -W -f='${Version} ${Status}\n' pos-app > /results/version2.txt
step doctor2 as_kiosk /usr/bin/pos-app doctor --json
# The backend goes away: the same check fails the play, naming the failing check.
kill "$backend_pid"; wait "$backend_pid" 2>/dev/null
step play3 play
# apt refuses a repository signed by another key.
export GNUPGHOME=/tmp/gnupg2
mkdir -m 700 -p "$GNUPGHOME"
gpg --batch --passphrase '' --quick-generate-key "intruder <x@example.invalid>" ed25519 sign never \
  >/dev/null 2>&1
gpg --export > /srv/repo/pos-app.gpg  # the till keeps the real key it was given
cp /srv/repo/pos-app.gpg /usr/share/keyrings/pos-app.gpg
step forged apt-get update
exit 0
