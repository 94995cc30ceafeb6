#!/usr/bin/env bash
# The report's browser check opens pages in Debian's Chromium (playwright-core drives it; browsers
# are never downloaded). Install it when missing and we may; otherwise the test says how.
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser check..." >&2
  (apt-get update -qq && apt-get install -y -qq chromium) >&2 || echo "could not install chromium" >&2
else
  echo "note: chromium is missing; the browser check needs: sudo apt-get install -y chromium" >&2
fi
exit 0
