#!/usr/bin/env bash
# Installs the Debian font packages the tests paint with (the typography labelled set; other
# tests may add theirs to FONT_PACKAGES). Runs from `make install-dev` when we are root or in CI
# and apt-get exists; anywhere else it says what it would install and succeeds, and the tests
# that need a missing font are skipped with a message naming this script.
set -uo pipefail

FONT_PACKAGES=(
  fonts-dejavu-core      # DejaVu Sans: wide coverage, the default sans
  fonts-liberation2      # Liberation Sans/Serif: Arial and Times metrics
  fonts-open-sans        # Open Sans: humanist sans of many posters
  fonts-bebas-neue       # Bebas Neue: condensed display capitals
  fonts-comic-neue       # Comic Neue: informal, handwritten look
  fonts-dancingscript    # Dancing Script: connected script
  fonts-lobster          # Lobster: bold script with ligatures
)

missing=()
for package in "${FONT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || { [ "$(id -u)" -ne 0 ] && [ -z "${CI:-}" ]; }; then
  echo "install-fonts: not installing ${missing[*]} (needs root and apt-get);" \
       "tests that paint with them will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo -n" || { echo "install-fonts: not root" >&2; exit 0; }
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -q >/dev/null 2>&1 || true
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || echo "install-fonts: apt-get could not install ${missing[*]}" >&2
fi
exit 0
