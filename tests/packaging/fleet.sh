#!/bin/bash
# Inside the sandbox: the fleet recipe of docs/INSTALL.md, as store IT runs it. A signed
# local apt repository made with packaging/fleet/make_repo.sh (reprepro), then the
# Ansible playbook packaging/fleet/till.yml run with ansible-playbook -c local: install,
# set up, configure, add accounts, check; then a new release in the repository and the
# same playbook again (an unattended upgrade). No backend here, so the play ends at the
# doctor check failing on enrollment, which the test expects.
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
echo test-root-key > /tmp/root.pem
cat > /tmp/tills.ini <<'INI'
[tills]
localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3
INI
cat > /tmp/vars.yml <<'YML'
pos_repo_url: file:///srv/repo
pos_repo_key: /srv/repo/pos-app.gpg
pos_till_account: kiosk
pos_backend_url: https://pos-backend.example
pos_root_key: /tmp/root.pem
pos_doctor_args: --offline
pos_accounts:
  - {id: C042, name: Hanako Sato, role: cashier, pin: "4711"}
  - {id: M001, name: Taro Suzuki, role: manager, pin: "8642"}
YML
play() { ansible-playbook -c local -i /tmp/tills.ini "$root/packaging/fleet/till.yml" -e @/tmp/vars.yml; }
step play1 play
dpkg-query -W -f='${Version} ${Status}\n' pos-app > /results/version1.txt
runuser -u kiosk -- env HOME=/home/kiosk /usr/bin/pos-app cashier list > /results/accounts.txt 2>&1
cp /etc/pos-app/config.d/10-site.toml /results/site.toml
stat -c '%U %a' /var/lib/pos-app > /results/data_owner.txt
# A new release in the repository; the same playbook upgrades the till unattended.
step repo2 "$root/packaging/fleet/make_repo.sh" /srv/repo "$key" "$deb2"
step play2 play
dpkg-query -W -f='${Version} ${Status}\n' pos-app > /results/version2.txt
# apt refuses a repository signed by another key.
export GNUPGHOME=/tmp/gnupg2
mkdir -m 700 -p "$GNUPGHOME"
gpg --batch --passphrase '' --quick-generate-key "intruder <x@example.invalid>" ed25519 sign never \
  >/dev/null 2>&1
gpg --export > /srv/repo/pos-app.gpg  # the till keeps the real key it was given
cp /srv/repo/pos-app.gpg /usr/share/keyrings/pos-app.gpg
step forged apt-get update
exit 0
