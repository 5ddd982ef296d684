"""Execute the lesson notebooks top to bottom and save their outputs in place: the main job of `make lessons`.

Usage: python scripts/execute_nbs.py [--full] [--times FILE] [NOTEBOOK ...]
       (default: every nbs/[0-9]*.ipynb, then nbs/index.ipynb)

- Every notebook runs, even when an earlier one fails. A notebook that fails is not written back: what ran, with the
  traceback, goes to _failed/NAME.ipynb. A summary (notebook, seconds, ok or the first line of the error) ends the run,
  and the exit status is 1 if any notebook failed.
- Default mode: cells marked `#| slow` (the full-scale experiments) are not executed; they keep their saved outputs.
  `--full` executes them too, with COURSE_LIB_FULL=1 in the kernel's environment (see `course_lib.core.run_mode`);
  their results are cached by spec in the data folder, so a second full run is served from the cache.
- Progress: each notebook's name when it starts and its time when it ends, one line per epoch of every training table
  (fastprogress), and a line for every cell that ran longer than a minute.
- A cell that hangs fails fast: in default mode a cell may run `--cell-timeout` seconds (default 1200; the longest
  default-mode cell takes about 3 minutes on 2 cores); in full mode, where cells scale up with the run, 2 hours, and a
  `#| slow` cell 4 hours. A notebook whose cell timed out or whose
  kernel died is run once more from the start in a fresh kernel before it counts as failed: a rare hang of a kernel
  (seen at an ipywidgets `interact` cell) then costs minutes, not hours.
"""
import os, re, sys, json, time, argparse
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent

def log(*a): print(*a, flush=True)

def is_slow(cell) -> bool:
    "Does `cell` carry nbdev's `#| slow` flag?"
    return cell.cell_type == 'code' and any(re.match(r'#\|\s*slow\b', l) for l in cell.source.splitlines()[:5])

def _live_only(o) -> bool:
    """An output that only means something in a live kernel: a fastprogress bar (its updates aren't saved, so it would stay
    frozen at 0%) or what is left of one once it is hidden (an empty `<div></div>`), or an ipywidgets view (its state isn't
    saved: without a kernel it is the text `interactive(children=...`)."""
    data, html = o.get('data', {}), ''.join(o.get('data', {}).get('text/html', '')).strip()
    return (o.get('output_type') == 'display_data' and ('<progress' in html or html == '<div></div>')) \
        or 'application/vnd.jupyter.widget-view+json' in data

def drop_live_outputs(nb):
    "Remove the outputs that only mean something in a live kernel (see `_live_only`) from the notebook to be saved."
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = [o for o in c.get('outputs', []) if not _live_only(o)]
    nb.metadata.pop('widgets', None)
    return nb

_row = re.compile(r'<tr>(.*?)</tr>', re.S)
_cell = re.compile(r'<t[dh]>(.*?)</t[dh]>', re.S)
_bar = re.compile(r'\[(\d+)/(\d+) ([^\]<&]*)')

class LessonClient(NotebookClient):
    "A NotebookClient that can leave `#| slow` cells alone and echoes training progress to the terminal."
    def __init__(self, nb, name:str, skip_slow:bool, **kw):
        super().__init__(nb, **kw)
        self.name, self.skip_slow, self.seen = name, skip_slow, set()

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if self.skip_slow and is_slow(cell): return cell                  # keep the full run's saved outputs
        t0 = time.monotonic()
        try: return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        finally:
            if (dt := time.monotonic() - t0) > 60: log(f"  {self.name}: cell {cell_index} ran {dt:.0f}s")

    def process_message(self, msg, cell, cell_index):
        html = msg.get('content', {}).get('data', {}).get('text/html', '')
        if 'class="fastprogress"' in html and '<tbody>' in html:         # a Learner's stats table: echo new rows
            for row in _row.findall(html.split('<tbody>', 1)[1]):
                vals = [v.strip() for v in _cell.findall(row)]
                if (key := (cell_index, tuple(vals))) not in self.seen:
                    self.seen.add(key); log(f"  {self.name}: " + '  '.join(vals))
        elif '<progress' in html and (m := _bar.search(html)):                # a bar over runs (not batches): echo each step
            i, n = int(m[1]), int(m[2])
            if 0 < i and n <= 50 and (key := (cell_index, 'bar', n, i)) not in self.seen:
                self.seen.add(key); log(f"  {self.name}: {i}/{n} done ({m[3].strip()})")
        return super().process_message(msg, cell, cell_index)

def error_line(e:Exception) -> str:
    "The first line of the error a cell raised: `AssertionError: ...`."
    if isinstance(e, CellExecutionError) and getattr(e, 'ename', None):
        return f"{e.ename}: {str(e.evalue).strip().splitlines()[0] if str(e.evalue).strip() else ''}".strip()
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"[:300]

SLOW_TIMEOUT, FULL_TIMEOUT = 4*3600, 2*3600                                # full mode: a `#| slow` cell, any other cell

def execute(path:Path, full:bool=False, cell_timeout:int=1200, tries:int=2) -> tuple[bool, float, str]:
    "Run one notebook; write it back only if every cell ran. A hang or a dead kernel is retried. Returns (ok, seconds, error line)."
    t0 = time.monotonic()
    for attempt in range(1, tries + 1):
        nb, name = nbformat.read(path, as_version=4), path.stem
        client = LessonClient(nb, name, skip_slow=not full, kernel_name='python3',
                              timeout_func=lambda c: (SLOW_TIMEOUT if is_slow(c) else FULL_TIMEOUT) if full else cell_timeout,
                              extra_arguments=['--IPKernelApp.log_level=ERROR'],   # not its TCP warning at every start
                              resources={'metadata': {'path': str(path.parent)}})
        try: client.execute()
        except (CellTimeoutError, DeadKernelError) as e:
            if attempt < tries:
                log(f"  {name}: {error_line(e)}; running it again in a fresh kernel ({attempt + 1}/{tries})"); continue
            err = e
        except Exception as e: err = e
        else:
            nbformat.write(drop_live_outputs(nb), path)
            return True, time.monotonic() - t0, ''
        failed = ROOT/'_failed'/path.name
        failed.parent.mkdir(exist_ok=True); nbformat.write(nb, failed)
        return False, time.monotonic() - t0, error_line(err)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', type=Path)
    ap.add_argument('--full', action='store_true', help='also run the `#| slow` full-scale cells (COURSE_LIB_FULL=1)')
    ap.add_argument('--times', type=Path, help='write the summary as JSON to this file')
    ap.add_argument('--cell-timeout', type=int, default=1200, help='seconds a cell may run in default mode')
    args = ap.parse_args(argv)
    nbs = ROOT/'nbs'
    paths = [p.resolve() for p in args.notebooks] or sorted(nbs.glob('[0-9]*.ipynb')) + [nbs/'index.ipynb']
    if args.full: os.environ['COURSE_LIB_FULL'] = '1'                    # the kernels inherit it
    else: os.environ.pop('COURSE_LIB_FULL', None)
    mode = 'full' if args.full else 'default'
    log(f"executing {len(paths)} notebooks ({mode} mode{', `#| slow` cells kept as saved' if not args.full else ''})")
    results, t_all = [], time.monotonic()
    for i, p in enumerate(paths, 1):
        log(f"[{i}/{len(paths)}] {p.stem} ...")
        ok, secs, err = execute(p, args.full, args.cell_timeout)
        results.append(dict(notebook=p.stem, seconds=round(secs, 1), ok=ok, error=err))
        log(f"[{i}/{len(paths)}] {p.stem}: {'ok' if ok else 'FAILED'} in {secs:.0f}s" + (f"  ({err}; what ran is in _failed/{p.name})" if err else ''))
    total = time.monotonic() - t_all
    w = max(len(r['notebook']) for r in results)
    log(f"\n{'notebook':{w}}  {'seconds':>7}  result")
    for r in results: log(f"{r['notebook']:{w}}  {r['seconds']:7.0f}  {'ok' if r['ok'] else 'FAILED: ' + r['error']}")
    n_bad = sum(not r['ok'] for r in results)
    log(f"{'total':{w}}  {total:7.0f}  {len(results) - n_bad} ok, {n_bad} failed ({mode} mode)")
    if args.times:
        args.times.parent.mkdir(parents=True, exist_ok=True)
        args.times.write_text(json.dumps(dict(mode=mode, cpus=os.cpu_count(), total_seconds=round(total, 1), notebooks=results), indent=1))
    return 1 if n_bad else 0

if __name__ == '__main__': sys.exit(main())
