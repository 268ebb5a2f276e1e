#!/usr/bin/env bash
# Start or stop code-server 4.96.4 (from test/e2e/install.sh) with LM Lens and a throwaway profile.
#   test/e2e/server.sh start [PORT] [WORKSPACE]   prints the URL; WORKSPACE defaults to a fresh copy of test/e2e/sample
#   test/e2e/server.sh stop  [PORT]
# Env: E2E_MODELS_DIR = an extra model folder (lmLens.models.folders), e.g. training/work-smoke/models;
#      E2E_VSIX = a packaged .vsix to install instead of the working tree (npm run package builds lm-lens.vsix).
# Everything the server writes (profile, extensions dir, XDG dirs, TMPDIR, logs) is in $E2E_RUN_ROOT/PORT
# (default /tmp/lm-lens-e2e/PORT; see env.sh).
# The extension is the repository (package.json copied, dist/, media/, node_modules/ symlinked) in the
# extensions dir as <publisher>.<name>-<version>: build it first (npm run build).
set -euo pipefail
source "$(dirname "$0")/env.sh"
ACTION=${1:?usage: server.sh start|stop [PORT] [WORKSPACE]}
PORT=${2:-8765}
RUN=$(run_dir "$PORT")

# The run folder names the checkout that started its server ($RUN/owner): another checkout's server on this port is
# never stopped from here (two CI runs on one machine used to stop each other's code-server, 2026-12-02).
foreign() { [ -f "$RUN/owner" ] && [ "$(cat "$RUN/owner")" != "$ROOT" ]; }

stop() {
  foreign && return 0
  if [ -f "$RUN/server.pid" ]; then
    # setsid made the server a process-group leader: stop the group (server, extension host, file watcher)
    local pgid; pgid=$(cat "$RUN/server.pid")
    kill -TERM -- -"$pgid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- -"$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- -"$pgid" 2>/dev/null || true
    rm -f "$RUN/server.pid"
  fi
}

case "$ACTION" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: server.sh start|stop [PORT] [WORKSPACE]" >&2; exit 2 ;;
esac

[ -f "$CS_DIR/out/node/entry.js" ] || { echo "code-server missing: run test/e2e/install.sh" >&2; exit 1; }
[ -n "${E2E_VSIX:-}" ] || [ -f "$ROOT/dist/extension.js" ] || { echo "dist/extension.js missing: run npm run build" >&2; exit 1; }
if foreign && [ -f "$RUN/server.pid" ] && kill -0 -- -"$(cat "$RUN/server.pid")" 2>/dev/null; then
  echo "port $PORT is in use by the e2e run of $(cat "$RUN/owner"): set E2E_PORT to a free port" >&2; exit 1
fi
stop
rm -rf "$RUN"; mkdir -p "$RUN"/{data/User,exts,xdg-config,xdg-data,tmp}
echo "$ROOT" > "$RUN/owner"
WS=${3:-}
if [ -z "$WS" ]; then WS=$RUN/ws; cp -r "$ROOT/test/e2e/sample" "$WS"; fi
WS=$(cd "$WS" && pwd)
cat > "$RUN/data/User/settings.json" <<'JSON'
{
  "telemetry.telemetryLevel": "off",
  "workbench.startupEditor": "none",
  "workbench.enableExperiments": false,
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "editor.hover.delay": 150,
  "editor.minimap.enabled": false,
  "window.restoreWindows": "none",
  "workbench.colorTheme": "Default Dark Modern",
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "lmLens.models.folders": []
}
JSON
# E2E_MODELS_DIR: an extra model folder (e.g. training/work-smoke/models) for lmLens.models.folders
if [ -n "${E2E_MODELS_DIR:-}" ]; then
  node -e 'const fs = require("fs"), f = process.argv[1], s = JSON.parse(fs.readFileSync(f, "utf8"));
    s["lmLens.models.folders"] = [require("path").resolve(process.argv[2])];
    fs.writeFileSync(f, JSON.stringify(s, null, 2));' "$RUN/data/User/settings.json" "$E2E_MODELS_DIR"
fi
# The extension folder <publisher>.<name>-<version>: package.json and dist/ copied, media/ and node_modules/
# symlinked. Not a symlink to the whole repository: code-server writes "__metadata" (the folder's size) into
# the package.json of every extension it finds and walks the folder (.e2e, node_modules) to size it. dist/ is
# copied because VS Code tells extensions apart by the real path of their code: a symlinked dist/extension.js
# gets no extension identity (its log lands under "nullExtensionDescription"). Rebuild => restart the server.
# keep code-server out of ~/.config, ~/.local and /tmp (vscode-ipc-*.sock, vscode-git-*.sock)
export XDG_CONFIG_HOME=$RUN/xdg-config XDG_DATA_HOME=$RUN/xdg-data TMPDIR=$RUN/tmp
if [ -n "${E2E_VSIX:-}" ]; then
  # the packaged extension, installed like a user would (checks that .vscodeignore ships what it needs)
  node "$CS_DIR/out/node/entry.js" --user-data-dir "$RUN/data" --extensions-dir "$RUN/exts" \
    --install-extension "$(cd "$(dirname "$E2E_VSIX")" && pwd)/$(basename "$E2E_VSIX")" > "$RUN/install-ext.log" 2>&1 \
    || { cat "$RUN/install-ext.log" >&2; exit 1; }
else
  EXT_ID=$(node -p "const p = require('$ROOT/package.json'); p.publisher + '.' + p.name + '-' + p.version")
  EXT=$RUN/exts/$EXT_ID
  mkdir -p "$EXT"
  cp "$ROOT/package.json" "$EXT/package.json"
  cp -r "$ROOT/dist" "$EXT/dist"
  for f in media node_modules README.md LICENSE; do
    if [ -e "$ROOT/$f" ]; then ln -s "$ROOT/$f" "$EXT/$f"; fi
  done
fi
T0=$(date +%s%N)
# code-server's wrapper gives its child 10 s (hard-coded) to say hello and exits with "timed out" otherwise:
# on a machine busy with training that happens, so try up to 3 times
for attempt in 1 2 3; do
  setsid node "$CS_DIR/out/node/entry.js" --config "$RUN/config.yaml" \
    --user-data-dir "$RUN/data" --extensions-dir "$RUN/exts" \
    --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
    --disable-workspace-trust --disable-getting-started-override --ignore-last-opened \
    "$WS" > "$RUN/server.log" 2>&1 < /dev/null &
  echo $! > "$RUN/server.pid"
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break 2
    kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null || break
    sleep 0.1
  done
  stop
  if ! grep -q "timed out" "$RUN/server.log" || [ "$attempt" = 3 ]; then
    echo "code-server did not start:" >&2; tail -20 "$RUN/server.log" >&2; exit 1
  fi
  echo "code-server start timed out (busy machine); retrying" >&2
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "code-server did not answer on port $PORT" >&2; stop; exit 1; }
echo "$WS" > "$RUN/workspace"
echo "code-server ready in $(( ($(date +%s%N) - T0) / 1000000 )) ms: http://127.0.0.1:$PORT/?folder=$WS"
