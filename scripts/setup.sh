#!/usr/bin/env bash
# Creates everything kofu needs on a fresh Debian machine: the system packages
# (Japanese fonts, a font with simplified Chinese and Hangul for the kiosk page,
# poppler, zbar, Chromium, Node for the verifier's QR decoder) and the Python
# environment in .venv, installed exactly as uv.lock pins it.  Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
DEBIAN_PACKAGES=(fonts-ipaexfont fonts-wqy-zenhei poppler-utils zbar-tools chromium nodejs)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]} from Debian" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "setup: installing uv $UV_VERSION" >&2
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2
fi

export UV_PYTHON_DOWNLOADS=never
python3 -m uv sync --frozen --quiet >&2

# The browser-side files, exactly as package-lock.json pins them: the public verifier's QR
# decoder (jsQR) and Swagger UI for every service's /docs (swagger-ui-dist); node_modules/
# is never committed.  Skipped when the pinned versions are already there.
# Without npm the verifier still checks a pasted code and /docs links the OpenAPI document;
# each says so on its page.
if [ -f package-lock.json ] && { ! grep -q '"version": "1.4.0"' node_modules/jsqr/package.json 2>/dev/null \
  || ! grep -q '"version": "5.35.0"' node_modules/swagger-ui-dist/package.json 2>/dev/null; }; then
  if command -v npm >/dev/null 2>&1; then
    echo "setup: installing the verifier's QR decoder and Swagger UI (npm ci)" >&2
    npm ci --no-audit --no-fund --ignore-scripts --omit=dev >&2
  else
    echo "setup: no npm here: the verifier page will read pasted codes only" >&2
  fi
fi
