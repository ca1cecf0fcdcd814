#!/usr/bin/env bash
# Installs what `npm run test:interop` needs on a Debian 12 machine, and skips whatever is already there: run by
# .ci/run and by `npm run test:interop` itself, so a fresh machine needs nothing by hand.
# - django-oauth-toolkit 1.7.0 (with Django 3.2, oauthlib 3.2.2) from Debian: python3-django-oauth-toolkit, for
#   Debian's /usr/bin/python3 (INTEROP_PYTHON overrides it). About 20 s with apt on a fresh machine.
# - @node-oauth/oauth2-server 5.3.0 from npm: a pinned devDependency, so `npm ci` has installed it; checked only.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${INTEROP_PYTHON:-/usr/bin/python3}"
say() { printf 'interop-install: %s\n' "$*"; }

dot_version() {
  "$PYTHON" -c 'import django, oauth2_provider, oauthlib; print(f"django-oauth-toolkit {oauth2_provider.__version__}, Django {django.get_version()}, oauthlib {oauthlib.__version__}")' 2>/dev/null
}

if dpkg-query -W -f='${Status}' python3-django-oauth-toolkit 2>/dev/null | grep -q 'install ok installed' && dot_version >/dev/null; then
  say "already installed: $(dot_version) ($PYTHON)"
else
  say 'installing python3-django-oauth-toolkit from Debian (apt-get)...'
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say 'not root and no sudo: install python3-django-oauth-toolkit by hand'; exit 1; }
    SUDO=(sudo)
  fi
  started=$SECONDS
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-django-oauth-toolkit >/dev/null
  version=$(dot_version) || { say "installed, but $PYTHON cannot import oauth2_provider"; exit 1; }
  say "installed in $((SECONDS - started)) s: $version"
fi

if node -e "require.resolve('@node-oauth/oauth2-server/package.json')" 2>/dev/null; then
  say "already installed: @node-oauth/oauth2-server $(node -p "require('@node-oauth/oauth2-server/package.json').version") (npm devDependency)"
else
  say '@node-oauth/oauth2-server is missing from node_modules: run `npm ci` (it is a devDependency)'
  exit 1
fi
