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
# nbdev processes the notebooks into _proc/; scripts/doc_links.py names each page after its notebook (00_core.html, not
# nbdev's core.html) and links backticked public names to their API entries
python -c "from nbdev.serve import proc_nbs; proc_nbs()"
python scripts/doc_links.py _proc
smalldocs render --quiet _proc
rm -rf _docs
mv _proc/_docs _docs

# Serve KaTeX (the maths renderer) from the site itself, so formulas render offline too. It comes from the npm
# registry, cached under $COURSE_LIB_DATA; without npm the pages keep the CDN links.
katex_ver=0.16.11
cache="${COURSE_LIB_DATA:-$HOME/.cache/course_lib}/katex-$katex_ver"
if [ ! -f "$cache/katex.min.js" ] && command -v npm >/dev/null; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && npm pack --silent "katex@$katex_ver" >/dev/null 2>&1 && tar xzf "katex-$katex_ver.tgz"); then
        mkdir -p "$cache" && cp -r "$tmp/package/dist/." "$cache/"
    fi
    rm -rf "$tmp"
fi
if [ -f "$cache/katex.min.js" ]; then
    mkdir -p _docs/site_libs/katex
    cp -r "$cache"/katex.min.js "$cache"/katex.min.css "$cache"/fonts _docs/site_libs/katex/
    mkdir -p _docs/site_libs/katex/contrib && cp "$cache"/contrib/auto-render.min.js _docs/site_libs/katex/contrib/
    sed -i "s#https://cdn.jsdelivr.net/npm/katex@$katex_ver/dist#site_libs/katex#g" _docs/*.html
fi
echo "site built in _docs/: open _docs/index.html, or run  python -m http.server -d _docs 8000"
