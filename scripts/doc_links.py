"""Prepare the processed notebooks in _proc/ for smalldocs (a step of scripts/build_docs.sh).

- Each page is named after its notebook (00_core.html): nbdev's `output-file` (the module's name) is dropped.
- A backticked public name in the prose (`Learner.fit`, `cnn_learner`) links to its API entry, the `show_doc` output
  that documents it, on whichever page that is. Names inside code blocks and existing links are left alone."""
import json, re, sys
from pathlib import Path

def cells(nb:dict) -> list[dict]: return nb['cells']
def src(c:dict) -> str: return ''.join(c['source'])

def documented(nbs:dict[str, dict]) -> dict[str, str]:
    "Each name that a `show_doc` output documents → `page.html#anchor`."
    out = {}
    for name, nb in nbs.items():
        for c in cells(nb):
            for o in c.get('outputs', []):
                md = ''.join(o.get('data', {}).get('text/markdown', ''))
                if m := re.match(r'---\s*\n+#{2,4} ([\w.]+)\s*\n', md): out.setdefault(m[1], f'{name}.html#{m[1].lower()}')
    return out

_code = re.compile(r'(```.*?```|\[[^\]]*\]\([^)]*\))', re.S)       # fenced code and existing links: left as they are
_tick = re.compile(r'`([A-Za-z_][\w.]*)`')

def linkify(text:str, targets:dict[str, str]) -> str:
    "`name` → [`name`](page#anchor) for the documented names, outside code blocks and links."
    parts = _code.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _tick.sub(lambda m: f'[`{m[1]}`]({targets[m[1]]})' if m[1] in targets else m[0], parts[i])
    return ''.join(parts)

def main(proc:Path):
    paths = sorted(proc.glob('*.ipynb'))
    nbs = {p.stem: json.loads(p.read_text()) for p in paths}
    targets = documented(nbs)
    for p in paths:
        nb = nbs[p.stem]
        for c in cells(nb):
            if c['cell_type'] == 'raw' and c is cells(nb)[0]:          # the front matter: drop nbdev's output-file
                c['source'] = [l for l in c['source'] if not l.startswith('output-file:')]
            elif c['cell_type'] == 'markdown':
                c['source'] = [linkify(src(c), targets)]
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False))
    print(f"linked backticked names to {len(targets)} API entries", file=sys.stderr)

if __name__ == '__main__': main(Path(sys.argv[1]))
