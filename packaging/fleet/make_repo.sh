#!/usr/bin/env bash
# A signed apt repository of pos-app releases, made with reprepro (docs/FLEET.md).
#   packaging/fleet/make_repo.sh REPO_DIR KEY_ID DEB...
# GNUPGHOME must hold the signing key KEY_ID (no passphrase prompt: use gpg-agent or a
# key kept for this job). Serve REPO_DIR over HTTPS; tills need only REPO_DIR/pos-app.gpg.
set -euo pipefail
repo="$1"; key="$2"; shift 2
mkdir -p "$repo/conf"
sed "s/\${POS_APP_REPO_KEY}/$key/" "$(dirname "$0")/reprepro-distributions" > "$repo/conf/distributions"
for deb in "$@"; do
  reprepro --basedir "$repo" includedeb bookworm "$deb"
done
gpg --export "$key" > "$repo/pos-app.gpg"
echo "repository: $repo (signed by $key)"
