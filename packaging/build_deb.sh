#!/usr/bin/env bash
# Wrap the PyInstaller bundle into a Debian package.
#
#   packaging/build_deb.sh [OUT_DIR]      -> OUT_DIR/pos-app_<version>_<arch>.deb (default dist/)
#
# Environment:
#   POS_APP_DEB_VERSION  package version (default: pos_app.__version__)
#   REUSE_BUNDLE=1       use the existing build/pyinstaller/dist/pos-app instead of rebuilding
#   DEB_COMPRESSION      dpkg-deb compressor (default zstd: xz takes over 10 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir="${1:-dist}"
version="${POS_APP_DEB_VERSION:-$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' pos_app/__init__.py)}"
arch="$(dpkg --print-architecture)"
bundle=build/pyinstaller/dist/pos-app

if [[ "${REUSE_BUNDLE:-0}" != 1 || ! -x "$bundle/pos-app" ]]; then
  packaging/build_bundle.sh
fi

stage="build/deb/pos-app_${version}_${arch}"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$out_dir"
cp -a "$bundle" "$stage/opt/pos-app"
install -D -m 0755 packaging/debian/launcher.sh "$stage/usr/bin/pos-app"
install -D -m 0644 packaging/debian/pos-app.desktop "$stage/usr/share/applications/pos-app.desktop"
install -D -m 0644 assets/icons/pos-app.svg \
  "$stage/usr/share/icons/hicolor/scalable/apps/pos-app.svg"
install -D -m 0644 packaging/debian/config.toml "$stage/etc/pos-app/config.toml"
install -D -m 0644 packaging/debian/pos-app-kiosk.service \
  "$stage/usr/lib/systemd/user/pos-app-kiosk.service"
install -D -m 0644 packaging/debian/copyright "$stage/usr/share/doc/pos-app/copyright"
if [[ -f docs/INSTALL.md ]]; then
  install -m 0644 docs/INSTALL.md "$stage/usr/share/doc/pos-app/INSTALL.md"
fi
install -m 0755 packaging/debian/postinst packaging/debian/postrm "$stage/DEBIAN/"
echo "/etc/pos-app/config.toml" > "$stage/DEBIAN/conffiles"

# Depends: the libraries the bundle links against but does not carry (PyInstaller leaves
# out libc, OpenGL/EGL, DRM, libxcb and the Wayland client), plus libzbar0, which pyzbar
# opens at run time with ctypes, libusb-1.0-0, which pyusb opens the same way for USB receipt
# printers, and fonts-noto-cjk: the Japanese UI and every receipt (PDF, PNG, raster) need it.
# tests/packaging checks this list against the binaries.
# Recommends: PulseAudio's client library for the approval/decline sounds (without it the
# UI stays silent and logs why), the Wayland pieces only the Wayland platform plugin needs
# (Qt falls back to X11 without them).
installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: pos-app
Version: ${version}
Architecture: ${arch}
Maintainer: pos-app team <pos-app@example.invalid>
Installed-Size: ${installed_kb}
Depends: libc6 (>= 2.36), libegl1, libgl1, libdrm2, libwayland-client0, libxcb1, libzbar0, libusb-1.0-0, fonts-noto-cjk
Recommends: libpulse0, libwayland-cursor0, libwayland-egl1
Section: misc
Priority: optional
Homepage: https://example.invalid/pos-app
Description: point-of-sale checkout for QR wallet payments
 The cashier application of the pos-app terminal: scans products and PT1
 payment QR codes, verifies them offline, and finalizes sales with the backend.
 Includes 'pos-app doctor' for store IT and an optional kiosk-mode user unit.
CONTROL

(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
  | xargs -0 md5sum > DEBIAN/md5sums)

deb="$out_dir/pos-app_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-zstd}" --build "$stage" "$deb" >/dev/null
echo "package: $deb ($(du -h "$deb" | cut -f1), installed ${installed_kb} KB)"
