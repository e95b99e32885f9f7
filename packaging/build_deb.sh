#!/usr/bin/env bash
# Wrap the PyInstaller bundle into a Debian package.
#
#   packaging/build_deb.sh [OUT_DIR]      -> OUT_DIR/pos-app_<version>_<arch>.deb (default dist/)
#
# Environment:
#   POS_APP_DEB_VERSION  package version (default: pos_app.__version__)
#   REUSE_BUNDLE=1       use the existing build/pyinstaller/dist/pos-app instead of rebuilding
#   DEB_COMPRESSION      dpkg-deb compressor (default zstd: xz takes over 10 minutes on 2 cores)
#   DEB_LEVEL            its level (default 9)
#   POS_APP_DEB_DEFAULTS the package defaults file (default packaging/debian/defaults.toml)
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
internal="$stage/opt/pos-app/_internal"
# OpenCV's OpenBLAS soname (hash-named by auditwheel) -> Debian's OpenBLAS (pos-app.spec).
for soname in $(readelf -d "$internal"/cv2/cv2*.so | sed -n 's/.*Shared library: \[\(libopenblas[^]]*\)\]/\1/p'); do
  ln -sf /usr/lib/x86_64-linux-gnu/libopenblas.so.0 "$internal/$soname"
done
# OpenCV's FFmpeg and AVIF libraries (about 46 MB) -> stubs (packaging/ffmpeg_stubs.py).
python3 packaging/ffmpeg_stubs.py "$internal"
# Qt's ICU data (about 31 MB) -> ICU's empty "stubdata" (packaging/icudata_stub.c says
# what the cashier UI gives up: nothing it uses).
for icudata in "$internal"/PySide6/Qt/lib/libicudata.so.*; do
  soname="$(readelf -d "$icudata" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
  symbol="$(nm -D --defined-only "$icudata" | awk '$3 ~ /^icudt[0-9]+_dat$/ {print $3}')"
  [[ -n "$soname" && -n "$symbol" ]] || { echo "build_deb: unexpected $icudata" >&2; exit 1; }
  gcc -shared -fPIC -O2 -Wl,-soname,"$soname" -DICU_DATA_SYMBOL="$symbol" \
    -o "$icudata" packaging/icudata_stub.c
done
# Debug information (about 33 MB): libpython and the C extensions built from source (the
# standard library's, fontTools', Pillow's) carry DWARF sections nothing on a till reads.
# Only .debug_* sections go (strip --strip-debug): symbol tables and the dynamic sections
# every loader needs stay as they are, and files without DWARF are not rewritten.
find "$stage/opt/pos-app" -type f -name '*.so*' -print0 | while IFS= read -r -d '' lib; do
  if readelf -S "$lib" 2>/dev/null | grep -q ' \.debug_info'; then
    strip --strip-debug "$lib"
  fi
done
install -D -m 0755 packaging/debian/launcher.sh "$stage/usr/bin/pos-app"
install -D -m 0644 packaging/debian/pos-app.desktop "$stage/usr/share/applications/pos-app.desktop"
install -D -m 0644 assets/icons/pos-app.svg \
  "$stage/usr/share/icons/hicolor/scalable/apps/pos-app.svg"
# Package defaults outside /etc (replaced by each upgrade, never a conffile); site
# settings live in /etc/pos-app/config.d, which the package ships empty.
install -D -m 0644 "${POS_APP_DEB_DEFAULTS:-packaging/debian/defaults.toml}" \
  "$stage/usr/share/pos-app/defaults.toml"
install -d -m 0755 "$stage/etc/pos-app/config.d"
install -D -m 0644 packaging/debian/pos-app-kiosk.service \
  "$stage/usr/lib/systemd/user/pos-app-kiosk.service"
install -D -m 0644 packaging/debian/copyright "$stage/usr/share/doc/pos-app/copyright"
if [[ -f docs/INSTALL.md ]]; then
  install -m 0644 docs/INSTALL.md "$stage/usr/share/doc/pos-app/INSTALL.md"
fi
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm \
  "$stage/DEBIAN/"

# Depends: every Debian package owning a library the bundle links against but does not
# carry (the spec leaves out what Debian maintains: OpenSSL, SQLite, systemd, glib, X11,
# OpenBLAS ...), found with dpkg -S on this Debian 12 build host; plus libzbar0, which
# pyzbar opens at run time with ctypes, libusb-1.0-0, which pyusb opens the same way for
# USB receipt printers, and the Japanese font (receipts embed it too) (without it the Japanese UI
# is empty boxes). tests/packaging checks the list against the binaries.
# Recommends: PulseAudio's client library for the approval/decline sounds (without it the
# UI stays silent and logs why) and the Wayland pieces only the Wayland platform plugin
# needs (Qt falls back to X11 without them).
RECOMMENDS="libpulse0, libwayland-cursor0, libwayland-egl1"
depends="$(packaging/deb_depends.sh "$stage/opt/pos-app" "$RECOMMENDS")"
installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: pos-app
Version: ${version}
Architecture: ${arch}
Maintainer: pos-app team <pos-app@example.invalid>
Installed-Size: ${installed_kb}
Depends: libc6 (>= 2.36), ${depends}, libopenblas0 | libopenblas0-pthread, libzbar0,
 libusb-1.0-0, fonts-noto-cjk
Recommends: ${RECOMMENDS}
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
# zstd -9: about 11 % smaller than its default 3, in about a minute more on 2 busy cores.
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-zstd}" -z"${DEB_LEVEL:-9}" \
  --build "$stage" "$deb" >/dev/null
echo "package: $deb ($(du -h "$deb" | cut -f1), installed ${installed_kb} KB)"
