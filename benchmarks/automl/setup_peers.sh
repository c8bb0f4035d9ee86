#!/usr/bin/env bash
# Make one virtual environment per AutoML peer, with pinned versions, under benchmarks/.venvs/<peer>.
#
#   bash benchmarks/automl/setup_peers.sh                 # every peer
#   bash benchmarks/automl/setup_peers.sh flaml h2o       # some peers
#
# Why one venv per peer: their pins conflict with each other and with autolearn (auto-sklearn wants
# numpy<2, pandas<2 and Python 3.9; TPOT and auto-sklearn want setuptools<81), and a benchmark must not
# let one system's install change another's libraries. Each venv also gets pandas + pyarrow + psutil,
# all a runner script needs to read the harness's Parquet files.
#
# The outcome is left next to the venv, where the harness reads it: benchmarks/.venvs/<peer>.installed
# (pip freeze of the venv) on success, benchmarks/.venvs/<peer>.failed (the reason, last lines of the
# log) on failure, and the full log in benchmarks/.venvs/<peer>.log. A peer that failed is reported as
# "not_installed" with that reason in the results, never silently dropped.
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENVS="$ROOT/benchmarks/.venvs"
PYENV_ROOT="${PYENV_ROOT:-/root/.pyenv}"
PY311="${PY311:-$PYENV_ROOT/versions/3.11.7/bin/python}"
PY39="${PY39:-$(ls -d "$PYENV_ROOT"/versions/3.9.*/bin/python 2>/dev/null | tail -n 1)}"
mkdir -p "$VENVS"

# Pinned versions (change here, nowhere else; PEERS.md records what was installed).
FLAML_PKGS="flaml[automl]==2.7.0"
AUTOGLUON_PKGS="autogluon.tabular[all]==1.6.3 torch==2.13.0"
H2O_PKGS="h2o==3.46.0.12"
TPOT_PKGS="tpot==1.1.0 setuptools<81"
MLJAR_PKGS="mljar-supervised==1.3.2"
AUTOSKLEARN_PKGS="auto-sklearn==0.15.0 numpy<2 pandas<2 setuptools<81 pyarrow<17 Cython<3"
COMMON_PKGS="pandas pyarrow psutil"

install() {  # install PEER PYTHON PACKAGES...
    local peer="$1" python="$2"; shift 2
    local venv="$VENVS/$peer" log="$VENVS/$peer.log"
    rm -f "$VENVS/$peer.installed" "$VENVS/$peer.failed"
    # The lock (pip freeze of the last good install) pins every transitive dependency too, so two
    # machines benchmark the same peer; UNLOCKED=1 resolves afresh (then refresh the lock from
    # benchmarks/.venvs/<peer>.installed).
    local lock=""
    if [ -z "${UNLOCKED:-}" ] && [ -f "$HERE/locks/$peer.txt" ]; then lock="-c $HERE/locks/$peer.txt"; fi
    echo "== $peer: $python -m venv $venv; pip install $lock $*" | tee "$log"
    if [ -z "$python" ] || [ ! -x "$python" ]; then
        echo "no interpreter for $peer (wanted: ${python:-a pyenv Python 3.9})" > "$VENVS/$peer.failed"
        echo "   FAILED: $(cat "$VENVS/$peer.failed")"; return 1
    fi
    if "$python" -m venv "$venv" >> "$log" 2>&1 \
        && "$venv/bin/python" -m pip install --upgrade pip "setuptools<81" wheel >> "$log" 2>&1 \
        && "$venv/bin/python" -m pip install $lock "$@" >> "$log" 2>&1; then
        "$venv/bin/python" -m pip freeze > "$VENVS/$peer.installed"
        echo "   ok: $(grep -iE "^(flaml|autogluon.tabular|h2o|tpot|mljar-supervised|auto-sklearn|torch)==" "$VENVS/$peer.installed" | tr '\n' ' ')"
    else
        { echo "pip install failed; last lines of $log:"; tail -n 15 "$log"; } > "$VENVS/$peer.failed"
        echo "   FAILED (see $log)"; return 1
    fi
}

peer_autosklearn() {
    # auto-sklearn 0.15 builds pyrfr with SWIG and only installs on Python 3.9.
    if ! command -v swig > /dev/null; then
        if [ "$(id -u)" = 0 ]; then (apt-get update -q && apt-get install -y -q swig) >> "$VENVS/autosklearn.log" 2>&1; fi
    fi
    if ! command -v swig > /dev/null; then
        echo "swig not found (apt-get install swig)" > "$VENVS/autosklearn.failed"; return 1
    fi
    install autosklearn "$PY39" $AUTOSKLEARN_PKGS $COMMON_PKGS
}

PEERS=("$@")
[ ${#PEERS[@]} -eq 0 ] && PEERS=(flaml h2o tpot mljar autogluon autosklearn)
status=0
for peer in "${PEERS[@]}"; do
    case "$peer" in
        flaml) install flaml "$PY311" $FLAML_PKGS $COMMON_PKGS || status=1 ;;
        autogluon) install autogluon "$PY311" $AUTOGLUON_PKGS $COMMON_PKGS || status=1 ;;
        h2o) install h2o "$PY311" $H2O_PKGS $COMMON_PKGS || status=1 ;;
        tpot) install tpot "$PY311" $TPOT_PKGS $COMMON_PKGS || status=1 ;;
        mljar) install mljar "$PY311" $MLJAR_PKGS $COMMON_PKGS || status=1 ;;
        autosklearn) peer_autosklearn || status=1 ;;
        *) echo "unknown peer: $peer (flaml autogluon h2o tpot mljar autosklearn)"; status=1 ;;
    esac
done
exit $status
