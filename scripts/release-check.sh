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

# publint --strict, then arethetypeswrong, on one tarball. ESM only by design (see the README's "Installing"):
# node10 cannot read "exports", and TypeScript's node16 mode does not model require() of ESM.
lint_tarball() {
  "$bin/publint" --strict "$1" && "$bin/attw" --profile esm-only --format table-flipped "$1"
}
# All tarballs at once (each check is mostly Node start-up and unpacking), then their output in order.
echo "::: [release-check ${SECONDS}s] publint and attw on $(cd "$packs" && echo *.tgz)"
pids=()
for tarball in "$packs"/*.tgz; do
  lint_tarball "$tarball" >"$tarball.log" 2>&1 &
  pids+=($!)
done
index=0
for tarball in "$packs"/*.tgz; do
  if wait "${pids[$index]}"; then
    echo "$(basename "$tarball"): publint and attw passed"
  else
    cat "$tarball.log"
    echo "release-check step failed: publint or attw on $(basename "$tarball")"
    status=1
  fi
  index=$((index + 1))
done

step node scripts/api-report.mjs
step node scripts/docs.mjs --check
step bash scripts/consumer-smoke.sh "$packs"

[ "$status" -eq 0 ] && echo "release-check: all passed" || echo "release-check FAILED (see the steps above)"
exit "$status"
