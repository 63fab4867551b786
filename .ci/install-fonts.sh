#!/usr/bin/env bash
# Fonts the layout typesetter and the typography tests use (Latin, Greek, Cyrillic, symbols and
# emoji, script and handwritten faces), from Debian packages. Run by `make install-dev`.
# Tolerant: without root or apt-get it says what to install and exits 0 (the typesetter then
# falls back to the fonts it finds, and to Pillow's bundled font for ASCII).
set -u

PACKAGES=(
  fonts-dejavu-core      # sans, serif, mono (+ bold): Latin, Greek, Cyrillic, many symbols
  fonts-dejavu-extra     # extra-light and condensed faces
  fonts-symbola          # symbols and emoji (monochrome outlines)
  fonts-dancingscript    # script
  fonts-comic-neue       # handwritten (regular, bold, light)
  # the typography check's labelled set (tests/validate/painter.py) also paints with these:
  fonts-liberation2      # Liberation Sans/Serif: Arial and Times metrics
  fonts-open-sans        # Open Sans: the humanist sans of many posters
  fonts-bebas-neue       # Bebas Neue: condensed display capitals
  fonts-lobster          # Lobster: bold script with ligatures
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-fonts: not root or no apt-get; for full typesetting install: ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1 || true
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "install-fonts: could not install ${missing[*]} (continuing)" >&2
fi
exit 0
