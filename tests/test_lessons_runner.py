"""`make lessons` (scripts/lessons.sh → scripts/execute_nbs.py, then scripts/build_docs.sh) on a small copy of the project.

One notebook fails on purpose: every other notebook still runs and is saved, the failed one is left as it was on disk
(what ran goes to _failed/), the summary names the failure with its first line, the exit status is non-zero, and the
site is built from what ran. Default mode leaves `#| slow` cells with their saved outputs; FULL=1 runs them, with
COURSE_LIB_FULL=1 in the kernel's environment."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent

def notebook(path:Path, title:str, *cells):
    "Write a notebook: a `# title` / `> summary` cell, then code cells given as source strings or (source, saved output)."
    nb = nbformat.v4.new_notebook(metadata={'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}})
    nb.cells = [nbformat.v4.new_markdown_cell(f'# {title}\n> A notebook of the runner test')]
    for c in cells:
        src, out = c if isinstance(c, tuple) else (c, None)
        cell = nbformat.v4.new_code_cell(src)
        if out is not None: cell.outputs = [nbformat.v4.new_output('stream', name='stdout', text=out)]
        nb.cells.append(cell)
    nbformat.write(nb, path)

@pytest.fixture
def project(tmp_path):
    "A copy of the project's scripts and site config, with three small lessons (the second fails) and an index."
    for f in ('pyproject.toml', 'README.md'): shutil.copy(ROOT/f, tmp_path/f)
    shutil.copytree(ROOT/'scripts', tmp_path/'scripts')
    (tmp_path/'course_lib').mkdir(); (tmp_path/'course_lib'/'__init__.py').write_text('')
    nbs = tmp_path/'nbs'; nbs.mkdir()
    for f in ('_quarto.yml', 'styles.css'): shutil.copy(ROOT/'nbs'/f, nbs/f)
    notebook(nbs/'00_first.ipynb', 'First', "print('first ran')",
             ("#| slow\nimport os\nprint('slow ran, COURSE_LIB_FULL =', os.environ.get('COURSE_LIB_FULL'))", 'saved by a full run\n'))
    notebook(nbs/'01_broken.ipynb', 'Broken', "x = 1", "assert x == 2, 'this lesson fails on purpose'", "print('never reached')")
    notebook(nbs/'02_after.ipynb', 'After', "print('after the failure')")
    notebook(nbs/'index.ipynb', 'Index', "print('index')")
    return tmp_path

def lessons(project:Path, full:bool=False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PY=sys.executable, FULL='1' if full else '0', PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    env.pop('COURSE_LIB_FULL', None); env.pop('IN_TEST', None)
    return subprocess.run(['bash', 'scripts/lessons.sh'], cwd=project, env=env, capture_output=True, text=True, timeout=600)

def outputs(path:Path) -> list[str]:
    "The text of each code cell's stream outputs."
    return [''.join(o.get('text', '') for o in c.get('outputs', [])) for c in nbformat.read(path, as_version=4).cells if c.cell_type == 'code']

def test_one_failure_stops_nothing(project):
    broken_before = (project/'nbs'/'01_broken.ipynb').read_bytes()
    r = lessons(project)
    assert r.returncode != 0, r.stdout
    out = r.stdout
    assert '[2/4] 01_broken ...' in out and '[3/4] 02_after ...' in out                     # names at the start ...
    assert '02_after: ok in' in out                                                            # ... and times at the end
    summary = out[out.index('notebook  '):]
    assert 'FAILED: AssertionError: this lesson fails on purpose' in summary
    assert summary.count(' ok\n') == 3 and '3 ok, 1 failed (default mode)' in summary
    assert (project/'nbs'/'01_broken.ipynb').read_bytes() == broken_before                    # never written back
    failed = outputs(project/'_failed'/'01_broken.ipynb')
    assert failed[2] == '' and nbformat.read(project/'_failed'/'01_broken.ipynb', 4).cells[2].outputs[0]['ename'] == 'AssertionError'
    assert outputs(project/'nbs'/'02_after.ipynb') == ['after the failure\n']                  # the others ran and were saved
    assert outputs(project/'nbs'/'00_first.ipynb') == ['first ran\n', 'saved by a full run\n']  # slow cell: kept, not run
    for page in ('00_first.html', '02_after.html', 'index.html'): assert (project/'_docs'/page).exists(), page
    times = json.loads((project/'_lessons_times.json').read_text())
    assert [n['ok'] for n in times['notebooks']] == [True, False, True, True] and times['mode'] == 'default'

def test_full_runs_the_slow_cells(project):
    (project/'nbs'/'01_broken.ipynb').unlink()
    r = lessons(project, full=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert outputs(project/'nbs'/'00_first.ipynb') == ['first ran\n', 'slow ran, COURSE_LIB_FULL = 1\n']
    assert '3 ok, 0 failed (full mode)' in r.stdout

def test_a_hanging_cell_fails_fast_and_is_retried(project):
    "A cell that hangs times out; the notebook runs again in a fresh kernel, and fails only if it hangs again."
    nbs = project/'nbs'
    for f in nbs.glob('*.ipynb'): f.unlink()
    notebook(nbs/'00_hangs_once.ipynb', 'Hangs once',
             "import pathlib, time\nmark = pathlib.Path('hung_once')\nif not mark.exists(): mark.touch(); time.sleep(600)\nprint('ran')")
    notebook(nbs/'01_hangs_always.ipynb', 'Hangs always', "import time; time.sleep(600)")
    env = dict(os.environ); env.pop('COURSE_LIB_FULL', None); env.pop('IN_TEST', None)
    r = subprocess.run([sys.executable, 'scripts/execute_nbs.py', '--cell-timeout', '5',
                        str(nbs/'00_hangs_once.ipynb'), str(nbs/'01_hangs_always.ipynb')],
                       cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert '00_hangs_once: CellTimeoutError' in r.stdout and 'running it again in a fresh kernel (2/2)' in r.stdout
    assert outputs(nbs/'00_hangs_once.ipynb') == ['ran\n']                                   # the second try ran and was saved
    assert r.stdout.count('01_hangs_always: CellTimeoutError') == 1                            # one retry, not more
    assert 'FAILED: CellTimeoutError' in r.stdout[r.stdout.index('notebook  '):]
    assert (project/'_failed'/'01_hangs_always.ipynb').exists()
