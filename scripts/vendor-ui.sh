#!/usr/bin/env bash
# Vendors the dashboard's browser libraries into internal/ui/assets/vendor, which the
# binaries embed: the dashboard then needs no network, no CDN and no build step. It installs
# the versions pinned in internal/ui/package-lock.json from the npm registry (npm ci) and
# copies each library's distributed files and its LICENSE. Run it after changing a version
# in internal/ui/package.json (then `npm install --package-lock-only` there), and commit
# what it copies; node_modules stays out of git.
set -euo pipefail
cd "$(dirname "$0")/../internal/ui"

npm ci --no-audit --no-fund --ignore-scripts

vendor=assets/vendor
rm -rf "$vendor/uplot"
mkdir -p "$vendor/uplot"
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css \
   node_modules/uplot/LICENSE "$vendor/uplot/"
version=$(node -p 'require("./node_modules/uplot/package.json").version')
echo "uplot $version" > "$vendor/uplot/VERSION"
echo "vendored uplot $version into internal/ui/$vendor/uplot"
