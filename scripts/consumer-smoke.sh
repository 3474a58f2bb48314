#!/usr/bin/env bash
# Consumer smoke test: installs the packed tarballs with npm into a temporary project outside the workspace,
# as a user installs the published packages, and uses them the way the READMEs do:
#   - type-checks scripts/consumer-smoke/put-get.ts with node16, nodenext and bundler resolution, in an ESM
#     package ("type": "module") and in a CommonJS one; in the CommonJS package node16 must fail with TS1479
#     and nothing else (TypeScript models require() of ESM only under nodenext; see the README's "Installing");
#   - compiles it with nodenext both ways and runs the ESM build (import) and the CommonJS build (require() of
#     the ESM-only packages, Node >= 20.19) against an emulator started with the installed `kvs` bin.
# Fails when an export, a type, a bin or a dependency range in a tarball is broken, or a dependency is missing.
# Usage: scripts/consumer-smoke.sh <folder holding the .tgz files from pnpm pack>
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
packs=$(cd "${1:?usage: consumer-smoke.sh <folder of .tgz files>}" && pwd)
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The versions the workspace builds with, so a failure here is about the tarballs, not a newer compiler.
version_of() { node -p "require('$repo/node_modules/$1/package.json').version"; }
typescript=$(version_of typescript)
types_node=$(version_of @types/node)
aws_range=$(node -p "require('$repo/packages/transport/package.json').dependencies['@aws-sdk/client-kinesis-video']")

# A step heading with the seconds since the start.
say() { echo "::: [${SECONDS}s] $*"; }

cd "$work"
echo '{ "name": "kvs-streams-consumer-smoke", "version": "0.0.0", "private": true }' >package.json
say "npm install $(cd "$packs" && echo *.tgz) (in $work)"
# Isolated (linked) layout, as pnpm's: a package sees only what it declares, so a dependency missing from a
# tarball's package.json fails here instead of being found hoisted beside another package's.
npm install --no-audit --no-fund --loglevel=error --install-strategy=linked "$packs"/*.tgz \
  "typescript@$typescript" "@types/node@$types_node" "@aws-sdk/client-kinesis-video@$aws_range"

failures=0
fail() {
  echo "consumer smoke FAILED: $*"
  failures=$((failures + 1))
}

# tsconfig for one resolution mode; `emit` writes dist/.
tsconfig() {
  local module="$1" resolution="$2" emit="$3"
  # Our .d.ts files are checked once, in the emitting build (checking the AWS SDK's 6 times costs minutes).
  local skip_lib_check=true
  [ "$emit" = emit ] && skip_lib_check=false
  cat <<EOF
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "$module",
    "moduleResolution": "$resolution",
    "strict": true,
    "types": ["node"],
    "skipLibCheck": $skip_lib_check,
    $([ "$emit" = emit ] && echo '"outDir": "dist"' || echo '"noEmit": true')
  },
  "files": ["put-get.ts"]
}
EOF
}

# Type-checks (and with nodenext, builds) put-get.ts in an ESM or a CommonJS package; each failure is also
# written to <kind>.failures.
check_kind() {
  local kind="$1" type mode output ok codes
  kind_fail() {
    echo "consumer smoke FAILED: $*"
    echo "$*" >>"$work/$kind.failures"
  }
  mkdir "$kind"
  cp "$repo/scripts/consumer-smoke/put-get.ts" "$kind/"
  [ "$kind" = esm ] && type=module || type=commonjs
  echo "{ \"private\": true, \"type\": \"$type\" }" >"$kind/package.json"
  tsconfig node16 node16 no >"$kind/tsconfig.node16.json"
  tsconfig nodenext nodenext emit >"$kind/tsconfig.nodenext.json"
  tsconfig preserve bundler no >"$kind/tsconfig.bundler.json"
  for mode in node16 nodenext bundler; do
    echo "::: tsc ($kind package, $mode)"
    output=$(cd "$kind" && "$work/node_modules/.bin/tsc" -p "tsconfig.$mode.json" 2>&1) && ok=true || ok=false
    if [ "$kind/$mode" = cjs/node16 ]; then
      # Documented: TypeScript's node16 mode treats require() of an ES module as an error (TS1479).
      codes=$(grep -oE 'error TS[0-9]+' <<<"$output" | sort -u | tr '\n' ' ')
      if [ "$ok" = true ] || [ "$codes" != "error TS1479 " ]; then
        echo "$output"
        kind_fail "CommonJS + node16 should fail with TS1479 only (as the README says), got: ${codes:-no error}"
      else
        echo "fails with TS1479 only, as documented ($(grep -c TS1479 <<<"$output") imports)"
      fi
    elif [ "$ok" = false ]; then
      echo "$output"
      kind_fail "tsc ($kind package, $mode)"
    fi
  done
}

# The ESM and the CommonJS package side by side (each tsc is one single-threaded process).
say "tsc: node16, nodenext and bundler, in an ESM and a CommonJS package"
check_kind esm >esm.log 2>&1 &
esm_pid=$!
check_kind cjs >cjs.log 2>&1 &
cjs_pid=$!
wait "$esm_pid" "$cjs_pid" || failures=$((failures + 1))
cat esm.log cjs.log
for kind in esm cjs; do
  if [ -f "$kind.failures" ]; then failures=$((failures + $(wc -l <"$kind.failures"))); fi
done

# The CommonJS build must really require() the packages, or the require(esm) path is not tested.
if ! grep -q 'require("@kvs-streams/transport")' cjs/dist/put-get.js 2>/dev/null; then
  fail "cjs/dist/put-get.js does not require() @kvs-streams/transport"
fi

say "kvs emulator (from the installed @kvs-streams/cli)"
node_modules/.bin/kvs emulator --port 0 >emulator.log 2>&1 &
emulator_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' emulator.log | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  cat emulator.log
  fail "kvs emulator did not start"
else
  cp "$repo/fixtures/kvs-getmedia/clusters.mkv" "$work/clusters.mkv"
  for kind in esm cjs; do
    say "node $kind/dist/put-get.js $url"
    if [ -f "$kind/dist/put-get.js" ]; then
      timeout 120 node "$kind/dist/put-get.js" "$url" "$work/clusters.mkv" || fail "$kind script"
    else
      fail "$kind/dist/put-get.js was not built"
    fi
  done
  # The console: its page, script and the hls.js of the installed hls.js package.
  for path in / /console/console.js /console/hls.js; do
    say "GET $url$path (the emulator console)"
    status=$(node -e "fetch(process.argv[1]).then(async (r) => { const t = await r.text(); console.log(r.status, t.length) }, (e) => console.log('error', e.message))" "$url$path")
    case "$status" in
      "200 "*) ;;
      *) fail "console $path: $status" ;;
    esac
  done
fi

if [ "$failures" -gt 0 ]; then
  echo "consumer smoke: $failures failure(s)"
  exit 1
fi
echo "consumer smoke: all checks passed"
