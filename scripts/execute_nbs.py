"""Execute lesson notebooks top to bottom and save their outputs in place.
Usage: python scripts/execute_nbs.py [NOTEBOOK ...]   (default: every nbs/[0-9]*.ipynb and nbs/index.ipynb)"""
import sys, time, tempfile
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def drop_stale_progress(nb):
    "Remove fastprogress bars from saved outputs: their live updates aren't saved, so they stay frozen at 0%."
    for c in nb.cells:
        if c.cell_type == 'code':
            c.outputs = [o for o in c.get('outputs', []) if not (o.get('output_type') == 'display_data'
                         and '<progress' in ''.join(o.get('data', {}).get('text/html', '')))]
    return nb

def execute(path:Path, timeout:int=7200):
    nb = nbformat.read(path, as_version=4)
    t0 = time.time()
    try: NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    except Exception:                                    # keep what ran, with the failing cell's traceback, outside nbs/
        failed = Path(tempfile.gettempdir())/f'{path.stem}.failed.ipynb'
        nbformat.write(nb, failed); print(f"{path.name} failed; what ran is in {failed}", flush=True); raise
    nbformat.write(drop_stale_progress(nb), path)
    print(f"{path.name}: executed in {time.time()-t0:.0f}s", flush=True)

if __name__ == '__main__':
    nbs = Path(__file__).resolve().parent.parent/'nbs'
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted(nbs.glob('[0-9]*.ipynb')) + [nbs/'index.ipynb']
    for p in paths: execute(p)
