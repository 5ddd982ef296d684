#!/usr/bin/env bash
# Fails when the library differs from what the notebooks export, or a notebook is not clean.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r course_lib "$tmp/lib"; cp -r nbs "$tmp/nbs"
.venv/bin/nbdev-export
.venv/bin/nbdev-clean
status=0
diff -r -x __pycache__ "$tmp/lib" course_lib || { echo "course_lib/ is out of sync with the notebooks: run nbdev-export and commit"; status=1; }
diff -r -q -x .ipynb_checkpoints "$tmp/nbs" nbs || { echo "notebooks are not clean: run nbdev-clean and commit"; status=1; }
[ $status = 0 ] && echo "library in sync with notebooks; notebooks clean"
exit $status
