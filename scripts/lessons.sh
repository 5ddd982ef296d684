#!/usr/bin/env bash
# `make lessons`: execute every lesson notebook in place (one that fails never stops the others, and is not written
# back), clean them as `nbdev-clean` does, build the site from what ran, and exit non-zero if any notebook failed. FULL=1 also runs the full-scale
# `#| slow` cells. Extra arguments go to scripts/execute_nbs.py (e.g. a list of notebooks).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
full=(); [ "${FULL:-0}" != 0 ] && full=(--full)
status=0
"$PY" scripts/execute_nbs.py "${full[@]}" --times _lessons_times.json "$@" || status=$?
"$(dirname "$PY")/nbdev-clean" || status=1     # the notebooks as they are committed: outputs, no run metadata
bash scripts/build_docs.sh || status=1
[ $status = 0 ] || echo "make lessons: some notebooks failed (see the summary above); the site was built from the others" >&2
exit $status
