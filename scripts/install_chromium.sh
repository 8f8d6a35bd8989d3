#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests. Needs root or sudo; Playwright drives this
# binary through its executable path, so no browser is ever downloaded by a test tool.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
