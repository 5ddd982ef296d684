"""The course in JupyterLab, in a real browser (Debian's Chromium driven by Playwright).

A JupyterLab server runs on a copy of the lessons (in a temporary folder, with `make lab`'s save hook) on a free port,
with `IN_TEST=1` so every kernel runs its lesson in quick mode, and without the full-scale cells (`#| slow`), which
`make lessons` also leaves out by default. The tests:
- open a lesson, run nothing, save: the file is byte for byte what it was;
- run a lesson with an explorer and save: `nbdev-clean` then leaves only the outputs changed (no metadata, no widget state);
- for every lesson with an explorer: run it, change one control, and see the explorer's output change (a screenshot of
  each is kept in screenshots/lab/, and the seconds each explorer took to answer in screenshots/lab/response_seconds.json).
The server, and only it, is stopped at the end."""
import json, os, re, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS, VENV_BIN = ROOT/'nbs', Path(sys.executable).parent
SHOTS = ROOT/'screenshots'/'lab'
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync']

def explorer_cell(nb:Path) -> int|None:
    "The index of the lesson's explorer: the code cell whose first line is `#| output: false` and that makes widgets."
    for i, c in enumerate(json.loads(nb.read_text())['cells']):
        s = ''.join(c['source'])
        if c['cell_type'] == 'code' and s.startswith('#| output: false') and ('interact(' in s or 'widgets.' in s): return i
LESSONS = [p for p in sorted(NBS.glob('[0-9]*.ipynb')) if explorer_cell(p) is not None]
RESPONSE = {}                                    # lesson: seconds from changing the control to the new output

def drop_slow_cells(p:Path):
    "Remove the `#| slow` cells from a (clean) notebook, writing it back as nbdev-clean does."
    nb = json.loads(p.read_text())
    nb['cells'] = [c for c in nb['cells'] if not ''.join(c['source']).startswith('#| slow')]
    p.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n')

@pytest.fixture(scope='module')
def chromium() -> str:
    exe = shutil.which('chromium') or shutil.which('chromium-browser')
    if exe: return exe
    if os.environ.get('CI') == 'true': pytest.fail("Chromium is not installed (make browser installs it)")
    pytest.skip("Chromium is not installed")

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    "A JupyterLab server on a copy of the project's notebooks; yields (base URL, the copy's nbs folder)."
    proj = tmp_path_factory.mktemp('lab')
    shutil.copy(ROOT/'pyproject.toml', proj/'pyproject.toml')
    shutil.copytree(NBS, proj/'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', '__pycache__'))
    for p in (proj/'nbs').glob('[0-9]*.ipynb'): drop_slow_cells(p)
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()
    settings = proj/'.jupyter'/'lab'/'user-settings'/'@jupyterlab'/'notebook-extension'
    settings.mkdir(parents=True)                       # render every cell (no windowing), so the test can find any of them
    (settings/'tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))
    env = dict(os.environ, IN_TEST='1', OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT/'scripts'), JUPYTER_CONFIG_DIR=str(proj/'.jupyter'),
               JUPYTERLAB_SETTINGS_DIR=str(proj/'.jupyter'/'lab'/'user-settings'))
    server = subprocess.Popen([str(VENV_BIN/'jupyter'), 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1', '--allow-root',
                               '--IdentityProvider.token=', '--ServerApp.password=',
                               '--FileContentsManager.pre_save_hook=lab_hooks.pre_save'],        # as `make lab` runs it
                              cwd=proj/'nbs', env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try: urllib.request.urlopen(base + '/api/status', timeout=2); break
            except Exception: time.sleep(0.5)
        else: pytest.fail("JupyterLab did not start")
        yield base, proj/'nbs'
    finally:
        os.killpg(server.pid, signal.SIGTERM)                  # the server and the kernels it started, nothing else
        try: server.wait(20)
        except subprocess.TimeoutExpired: os.killpg(server.pid, signal.SIGKILL)

@pytest.fixture(scope='module')
def browser(chromium):
    sync_api = pytest.importorskip('playwright.sync_api')
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=FLAGS)
        yield b
        b.close()

def open_notebook(browser, base:str, name:str):
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    page.goto(f'{base}/lab/tree/{name}?reset')
    page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=60_000)
    page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'", timeout=60_000)
    return page

def save(page):
    page.locator('.jp-Notebook').first.click()
    page.keyboard.press('Control+s')
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    page.wait_for_timeout(1000)

def run_all(page, timeout_s:int=600):
    "Run every cell from the Run menu and wait until none is queued or running; fail on any error output."
    for _ in range(3):                                     # a click while the kernel is still starting can be lost: retry
        page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
        page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
        try:
            page.wait_for_function(r"() => [...document.querySelectorAll('.jp-InputPrompt')].some(p => /\[[\d*]+\]/.test(p.textContent))",
                                   timeout=20_000)
            break
        except Exception: page.keyboard.press('Escape')
    else: pytest.fail("Run → Run All Cells did not start the kernel")
    page.wait_for_function("""() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'
                              && ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))""",
                           timeout=timeout_s*1000)
    errors = page.locator('[data-mime-type="application/vnd.jupyter.error"]')
    assert errors.count() == 0, errors.first.inner_text()[:2000]

def test_open_and_save_changes_nothing(lab, browser):
    "Opening a lesson in JupyterLab and saving it without running anything leaves the file byte for byte the same."
    base, nbs = lab
    for name in ('00_core.ipynb', '13_train_imagenette.ipynb'):
        before = (nbs/name).read_bytes()
        page = open_notebook(browser, base, name)
        try: save(page)
        finally: page.close()
        assert (nbs/name).read_bytes() == before, f"{name} changed on open + save"

@pytest.mark.parametrize('nb', LESSONS[:1], ids=lambda p: p.stem)
def test_run_and_save_then_clean(lab, browser, nb):
    "After running a lesson with an explorer and saving, nbdev-clean leaves only outputs changed: no metadata, no widget state."
    base, nbs = lab
    before = json.loads((nbs/nb.name).read_text())
    page = open_notebook(browser, base, nb.name)
    try: run_all(page); save(page)
    finally: page.close()
    subprocess.run([str(VENV_BIN/'nbdev-clean'), '--fname', str(nbs/nb.name)], cwd=nbs.parent, check=True, capture_output=True)
    after = json.loads((nbs/nb.name).read_text())
    assert after['metadata'] == before['metadata'] and 'widgets' not in after['metadata']
    assert [(c['id'], c['cell_type'], c['source'], c['metadata']) for c in after['cells']] == \
           [(c['id'], c['cell_type'], c['source'], c['metadata']) for c in before['cells']]
    outs = [o for c in after['cells'] for o in c.get('outputs', [])]
    assert outs and not any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in outs)

def _state(page, cell) -> str:
    "What the explorer shows now: the HTML of its output (images included)."
    return cell.locator('.jp-OutputArea').first.inner_html()

def _change_one_control(page, cell):
    "Change the first control of the explorer as a student would: drag a slider, pick another option, type, click."
    if (s := cell.locator('.widget-slider .noUi-handle, .widget-slider .ui-slider-handle')).count():
        s.first.click(); [page.keyboard.press('ArrowRight') for _ in range(3)]
    elif (d := cell.locator('.widget-dropdown select')).count():
        opts = d.first.locator('option').all_inner_texts()
        d.first.select_option(label=opts[1] if len(opts) > 1 else opts[0])
    elif (b := cell.locator('.widget-toggle-buttons button')).count() > 1: b.nth(1).click()
    elif (t := cell.locator('.widget-text input, .widget-textarea textarea')).count():
        t.first.fill('A wonderful, moving film. Not boring at all!'); t.first.press('Enter'); t.first.blur()
    elif (c := cell.locator('.widget-checkbox input')).count(): c.first.click()
    else: pytest.fail("the explorer has no control the test knows how to change")

@pytest.mark.parametrize('nb', LESSONS, ids=lambda p: p.stem)
def test_explorer_responds(lab, browser, nb):
    "The lesson runs in JupyterLab (quick mode), its explorer shows output, and changing a control changes it."
    base, nbs = lab
    page = open_notebook(browser, base, nb.name)
    try:
        run_all(page)
        copy = nbs/nb.name                                     # the copy that runs: no slow cells
        cell = page.locator('.jp-Notebook .jp-CodeCell').nth(sum(1 for c in json.loads(copy.read_text())['cells'][:explorer_cell(copy)] if c['cell_type'] == 'code'))
        cell.scroll_into_view_if_needed()
        page.wait_for_function("c => c.querySelector('.jp-OutputArea img, .jp-OutputArea pre, .jp-OutputArea svg')", arg=cell.element_handle(), timeout=30_000)
        first = _state(page, cell)
        t0 = time.perf_counter()
        _change_one_control(page, cell)
        page.wait_for_function("([c, s]) => c.querySelector('.jp-OutputArea').innerHTML !== s && "      # a new output, not a cleared one
                               "c.querySelector('.jp-OutputArea img, .jp-OutputArea pre, .jp-OutputArea svg')",
                               arg=[cell.element_handle(), first], timeout=30_000)
        RESPONSE[nb.stem] = time.perf_counter() - t0          # reported, not asserted: these machines are shared
        page.wait_for_timeout(1500)                            # the last key press's answer, for the screenshot
        SHOTS.mkdir(parents=True, exist_ok=True)
        cell.screenshot(path=str(SHOTS/f'{nb.stem}.png'))
        (SHOTS/'response_seconds.json').write_text(json.dumps({k: round(v, 2) for k, v in RESPONSE.items()}, indent=1))
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS/f'{nb.stem}_failed.png'))    # what the student would have seen
        raise
    finally: page.close()
