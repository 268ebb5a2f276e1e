#!/usr/bin/env bash
# Install what the end-to-end test needs: Debian chromium + ripgrep + libkrb5-dev, and code-server 4.96.4
# (VS Code 1.96.4 on the machine's Node 20) from the npm registry into .e2e/cs496 (git-ignored).
# Idempotent: a finished install leaves a stamp and the next run is a no-op.
# Adapted from the shared e2e harness: code-server's postinstall fetches a git dependency and GitHub binaries,
# so its work is done here by hand with registry tarballs and Debian's rg.
set -euo pipefail
source "$(dirname "$0")/env.sh"
D=$CS_INSTALL
STAMP=$D/.installed-$CS_VERSION
Q="--no-audit --no-fund --loglevel=error"

# 1) Debian: headless browser, ripgrep (replaces @vscode/ripgrep's GitHub download), GSSAPI headers (kerberos addon)
if ! command -v chromium >/dev/null || ! command -v rg >/dev/null || [ ! -e /usr/include/gssapi/gssapi.h ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # never add Debian's nodejs/npm here: installing them removes the machine's Node
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium ripgrep libkrb5-dev >/dev/null
fi

# code-server's wrapper gives its child process 10 s to start (hard-coded): too short on a machine where training
# jobs hold the cores and builds run at nice 15. Give it 2 minutes (idempotent; also fixes older installs).
patch_timeouts() {
  local wrapper=$D/node_modules/code-server/out/node/wrapper.js
  [ -f "$wrapper" ] && sed -i 's/^const timeoutInterval = 10000;/const timeoutInterval = 120000;/' "$wrapper"
  return 0
}

if [ -f "$STAMP" ]; then
  patch_timeouts
  exit 0
fi

echo "installing code-server $CS_VERSION into $D (a few minutes, once)"
# node-gyp must build against the headers of the Node that runs code-server, not a nodedir from ~/.npmrc
NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -d "$NODE_PREFIX/include/node" ] && export npm_config_nodedir=$NODE_PREFIX
# the project's .npmrc is not read here (different folder); keep scripts explicit
mkdir -p "$D"; cd "$D"
[ -f package.json ] || echo '{ "name": "lm-lens-e2e-code-server", "private": true }' > package.json
npm install "code-server@$CS_VERSION" --ignore-scripts $Q       # postinstall.sh would fail offline: done below
npm rebuild argon2 $Q                                            # prebuilt download fails -> node-gyp build
cd node_modules/code-server/lib/vscode
# the only git dependency; the registry tarball has the identical sha512 integrity
sed -i 's#git+ssh://git@github.com/microsoft/vscode-proxy-agent.git\#0803e0a7d1249bcb64ae9d256d0ee732b7246ea5#https://registry.npmjs.org/@vscode/proxy-agent/-/proxy-agent-0.27.0.tgz#' npm-shrinkwrap.json
npm install --omit=dev --ignore-scripts $Q
mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild @parcel/watcher @vscode/deviceid @vscode/spdlog kerberos native-watchdog node-pty $Q
ln -sfn node_modules node_modules.asar                          # the rest of code-server's postinstall.sh
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --ignore-scripts $Q && node postinstall.mjs >/dev/null)
patch_timeouts
touch "$STAMP"
echo "code-server $CS_VERSION installed"
