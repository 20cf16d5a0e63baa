#!/bin/sh
# Installs the npm packages pinned in package-lock.json into node_modules/
# (Swagger UI and ReDoc assets for /docs and /redoc, the OpenAPI linter, the
# browser driver of the /docs test) when they are missing or older than the
# lock file. Never downloads a browser; runs no install scripts (.npmrc).
# Needs node and npm: as root, installs Debian's nodejs and npm when absent.
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
stamp=node_modules/.package-lock.json
if [ -f "$stamp" ] && [ ! "package-lock.json" -nt "$stamp" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q nodejs npm >/dev/null || {
      echo "deps: apt-get install failed for: nodejs npm" >&2; exit 1; }
  else
    echo "deps: npm is missing; run as root:" >&2
    echo "  apt-get update && apt-get install -y nodejs npm" >&2
    exit 1
  fi
fi
echo "deps: npm ci (package-lock.json)"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 SCARF_ANALYTICS=false npm ci --no-audit --no-fund \
  --ignore-scripts --loglevel=error </dev/null >/dev/null || {
  echo "deps: npm ci failed" >&2; exit 1; }
touch "$stamp"
