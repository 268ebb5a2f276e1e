# Paths shared by the e2e scripts (sourced). The run folder (profile, extensions dir, logs) lives outside the
# repository: the extension folder is the repository itself, and an extensions dir inside it would be a
# symlink loop that code-server walks forever.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CS_VERSION=4.96.4
CS_INSTALL=$ROOT/.e2e/cs496
CS_DIR=${CS_DIR:-$CS_INSTALL/node_modules/code-server}
E2E_RUN_ROOT=${E2E_RUN_ROOT:-${TMPDIR:-/tmp}/lm-lens-e2e}
run_dir() { echo "$E2E_RUN_ROOT/$1"; }
