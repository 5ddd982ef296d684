"""What `make lab` does to a notebook each time JupyterLab saves it (a Jupyter `pre_save_hook`).

JupyterLab writes the kernel's `language_info` and its own `kernelspec` name into a notebook as soon as it opens it,
and ipywidgets write their state: opening a lesson and saving it would change a file that nothing changed. The hook
cleans the notebook the way `nbdev-clean` does (the project's settings in pyproject.toml), and drops the outputs that
only mean something in a live kernel (progress bars, widget views), as `scripts/execute_nbs.py` does."""
import sys
from pathlib import Path
from nbdev.clean import clean_nb
from nbdev.config import get_config

sys.path.insert(0, str(Path(__file__).parent))
from execute_nbs import _live_only

def pre_save(model:dict, path:str, **kwargs):
    "Clean `model` (a notebook being saved to `path`) in place."
    if model.get('type') != 'notebook' or model['content'].get('nbformat') != 4: return
    nb, cfg = model['content'], get_config(path=Path(path).parent if path else None)
    clean_nb(nb, cfg.clear_all, cfg.get('allowed_metadata_keys') or [], cfg.get('allowed_cell_metadata_keys') or [], cfg.clean_ids,
             cfg.get('allowed_out_metadata_keys') or [], repair=True)
    for c in nb['cells']:
        if c.get('cell_type') == 'code': c['outputs'] = [o for o in c.get('outputs', []) if not _live_only(o)]
    nb.get('metadata', {}).pop('widgets', None)
