#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the console's browser tests (playwright-core drives
# it; Playwright's own browser download is not used). Idempotent; bounded; prints the binary path.
set -euo pipefail
find_chromium() {
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if path=$(find_chromium); then
  echo "$path"
  exit 0
fi
if ! command -v apt-get > /dev/null; then
  echo "ensure-chromium: no Chromium and no apt-get; install Chromium and set CHROMIUM_PATH" >&2
  exit 1
fi
sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo -n)
export DEBIAN_FRONTEND=noninteractive
timeout 300 "${sudo_cmd[@]}" apt-get update -qq >&2
timeout 900 "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
find_chromium
