#!/usr/bin/env bash
# Release readiness, as CI runs it (from .ci/run) after `pnpm build`; exits non-zero when a check fails.
#   1. packs every published package (packages/* without "private": true) with pnpm pack, as
#      `changeset publish` would publish it (workspace:* ranges rewritten to versions);
#   2. publint --strict and arethetypeswrong (profile esm-only, see the README's "Installing") on each tarball;
#   3. the API reports (packages/*/api/*.api.md) match the build (scripts/api-report.mjs; pnpm api:update);
#   4. the API reference builds from the TSDoc with no broken link or undocumented export (pnpm docs);
#   5. the consumer smoke test installs the tarballs with npm outside the workspace and uses them
#      (scripts/consumer-smoke.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/node_modules/.bin"

status=0
step() {
  echo "::: [release-check ${SECONDS}s] $*"
  "$@" || { echo "release-check step failed: $*"; status=1; }
}

# Turbo replays a build CI already ran; on its own the script still works from a fresh clone.
step pnpm build

packs=$(mktemp -d)
trap 'rm -rf "$packs"' EXIT
published=()
for manifest in packages/*/package.json; do
  if [ "$(node -p "require('./$manifest').private === true")" = false ]; then
    published+=("$(dirname "$manifest")")
  fi
done
for folder in "${published[@]}"; do
  step bash -c "cd '$folder' && pnpm pack --pack-destination '$packs' >/dev/null"
done

for tarball in "$packs"/*.tgz; do
  step "$bin/publint" --strict "$tarball"
  # ESM-only by design: node10 cannot read "exports", and TypeScript's node16 mode does not model require(esm).
  step "$bin/attw" --profile esm-only --format table-flipped "$tarball"
done

step node scripts/api-report.mjs
step node scripts/docs.mjs --check
step bash scripts/consumer-smoke.sh "$packs"

[ "$status" -eq 0 ] && echo "release-check: all passed" || echo "release-check FAILED (see the steps above)"
exit "$status"
