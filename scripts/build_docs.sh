#!/usr/bin/env bash
# Build the documentation site into _docs/ from the notebooks in nbs/ (with their saved outputs) and nbs/_quarto.yml.
# Where Quarto is installed, nbdev-docs builds it. Everywhere else nbdev processes the notebooks just as nbdev-docs
# does (hidden cells dropped, show_doc rendered, the H1 and the `>` line made the page's title and description)
# into _proc/, and smalldocs renders them with the same _quarto.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .venv ] && PATH="$PWD/.venv/bin:$PATH"

if command -v quarto >/dev/null; then
    nbdev-docs
    exit
fi
# smalldocs names each page after its notebook (00_core.html), so drop the output-file nbdev sets (core.html)
python -c "
import json
from pathlib import Path
from nbdev.serve import proc_nbs
for nb in Path(proc_nbs()).glob('*.ipynb'):
    d = json.loads(nb.read_text())
    fm = d['cells'][0]['source'] if d['cells'] and d['cells'][0]['cell_type'] == 'raw' else []
    keep = [l for l in fm if not l.startswith('output-file:')]
    if keep != fm: d['cells'][0]['source'] = keep; nb.write_text(json.dumps(d, indent=1, ensure_ascii=False))
"
smalldocs render --quiet _proc
rm -rf _docs
mv _proc/_docs _docs
echo "site built in _docs/: open _docs/index.html, or run  python -m http.server -d _docs 8000"
