#!/usr/bin/env bash
# The report's browser test renders report.html in Debian's chromium; installs it when it is missing (npm pretest).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -n "${TRIPLETFLOW_CHROMIUM:-}" ]; then exit 0; fi
echo "tripletflow: installing Debian's chromium for the report's browser test (apt-get install chromium)" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
