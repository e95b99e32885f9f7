#!/usr/bin/env bash
# The Debian packages a bundle needs: owners of every library its ELF files link against
# that the bundle does not carry, as a comma-separated Depends list (libc6 excluded:
# build_deb.sh states its version; packages in RECOMMENDS excluded: optional parts).
#   packaging/deb_depends.sh BUNDLE_DIR "pkg1, pkg2"
set -euo pipefail
bundle="$1"; recommends="${2:-}"
needed="$(find "$bundle" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
  | xargs -0 readelf -d 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u)"
carried="$(find "$bundle" \( -type f -o -type l \) -printf '%f\n' | sort -u)"
missing="$(comm -23 <(echo "$needed") <(echo "$carried"))"
[[ -z "$missing" ]] && exit 0
patterns=()
while read -r lib; do patterns+=("*/$lib"); done <<< "$missing"
# One dpkg -S for all of them (each call scans every package's file list: seconds).
# It fails when a pattern has no owner; those are found in its output below.
found="$( (dpkg -S "${patterns[@]}" 2>/dev/null || true) | grep -v '^diversion')"
owners="$(cut -d: -f1 <<< "$found" | tr ',' '\n' | sed 's/^ *//' | sort -u)"
# Every library must have an owner: a library nobody provides would fail on the till.
for lib in $missing; do
  if ! grep -q "/${lib//./\\.}\$" <<< "$found"; then
    case "$lib" in  # optional components whose packages the build host may lack
      libpulse.so.0|libwayland-cursor.so.0|libwayland-egl.so.1) ;;
      *) echo "deb_depends: no Debian package provides $lib" >&2; exit 1 ;;
    esac
  fi
done
skip="libc6 libc-bin $(echo "$recommends" | tr ',' ' ')"
for pkg in $owners; do
  [[ " $skip " == *" $pkg "* ]] || echo "$pkg"
done | paste -sd, | sed 's/,/, /g'
