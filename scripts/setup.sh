#!/usr/bin/env bash
# Sets up a fresh machine (Node >= 20.19 and npm) for building, testing and benchmarking kvs-streams:
# pnpm, the workspace dependencies from the lockfile, and the tools the tests run as independent peers
# (ffmpeg/ffprobe, mkvtoolnix, GStreamer, the AWS CLI v2, botocore, boto3; Chromium for the browser tests).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2
APT_PACKAGES=(ffmpeg mkvtoolnix gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav awscli python3-botocore python3-boto3
  chromium fonts-liberation)

# --minimal: only pnpm and the dependencies (enough for the demo); the system tools are for the tests.
minimal=false
[ "${1:-}" = "--minimal" ] && minimal=true

missing=()
$minimal || for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi
pnpm install --frozen-lockfile
