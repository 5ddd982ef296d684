"""The documentation site, in a real browser.

Builds the site once (scripts/build_docs.sh), serves _docs/ on 127.0.0.1, loads every page made from a notebook
in headless Chromium, and checks what a reader sees: the notebook's title and summary, the navigation, the
pictures, no hidden cell, and internal links that land (the file exists, the anchor exists in its page)."""
import functools, json, os, re, shutil, subprocess, threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
NBS, DOCS = ROOT/'nbs', ROOT/'_docs'
NOTEBOOKS = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))
LESSONS = [p for p in NOTEBOOKS if p.stem[0].isdigit()]           # the site's order: index first, then these
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
                  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

# ------------------------------------------------------------------ what the checks read from a notebook and a page

def cells(nb:Path) -> list[dict]: return json.loads(nb.read_text())['cells']
def src(cell:dict) -> str: return ''.join(cell['source'])

def title_and_summary(nb:Path) -> tuple[str, str]:
    "The `# Title` and `> summary` lines that open the notebook's first cell."
    m = re.match(r'#\s+(.+)\n>\s*(.+)', src(cells(nb)[0]))
    assert m, f"{nb.name}: the first cell must be `# Title` then `> one-line summary`"
    return m[1].strip(), m[2].strip()

def directives(cell:dict) -> dict[str, str]:
    "The `#| key: value` lines at the top of a code cell (`#| hide` gives `{'hide': ''}`)."
    out = {}
    for line in src(cell).splitlines():
        if not (m := re.match(r'#\|\s*([\w-]+)\s*:?\s*(.*)', line)): break
        out[m[1]] = m[2].strip()
    return out

def hidden_code(nb:Path) -> list[str]:
    "The code of the `#| hide` cells, without their directive lines."
    return [code for c in cells(nb) if c['cell_type'] == 'code' and 'hide' in directives(c)
            if (code := '\n'.join(l for l in src(c).splitlines() if not l.startswith('#|')).strip())]

def n_pictures(nb:Path) -> int:
    "How many PNG outputs the page shows: none from cells nbdev drops (hide, export) or `output: false` hides."
    def shown(c): d = directives(c); return not (d.keys() & {'hide', 'export', 'exporti', 'default_exp'}
                                                 or d.get('output') == 'false' or d.get('include') == 'false')
    return sum('image/png' in o.get('data', {}) for c in cells(nb) if c['cell_type'] == 'code' and shown(c)
               for o in c.get('outputs', []))

class Dom(HTMLParser):
    "The parts of a rendered page that the checks need."
    TEXT = {'h1': 'h1', 'pre': 'pre'}
    def __init__(self, html:str):
        super().__init__()
        self.ids, self.links, self.files, self.sidebar_links = set(), [], [], []
        self.texts = {'h1': [], 'pre': [], 'description': []}
        self.has_navbar = self.has_sidebar = False
        self._open = []  # [tag, what to record, depth] for the elements whose text or links are being collected
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if a.get('name') and tag == 'a': self.ids.add(a['name'])
        classes = (a.get('class') or '').split()
        if tag == 'nav' and 'navbar' in classes: self.has_navbar = True
        if tag == 'a' and a.get('href') is not None:
            self.links.append(a['href'])
            if any(o[1] == 'sidebar' for o in self._open): self.sidebar_links.append(a['href'])
        if tag in ('img', 'script') and a.get('src'): self.files.append(a['src'])
        if tag == 'link' and a.get('href'): self.files.append(a['href'])
        for o in self._open:
            if o[0] == tag: o[2] += 1
        what = ('sidebar' if a.get('id') == 'quarto-sidebar' else self.TEXT.get(tag)
                or ('description' if tag == 'div' and 'description' in classes else None))
        if what:
            if what == 'sidebar': self.has_sidebar = True
            else: self.texts[what].append('')
            self._open.append([tag, what, 1])

    def handle_endtag(self, tag):
        for o in self._open:
            if o[0] == tag: o[2] -= 1
        self._open = [o for o in self._open if o[2] > 0]

    def handle_data(self, data):
        for o in self._open:
            if o[1] != 'sidebar': self.texts[o[1]][-1] += data

def squash(s:str) -> str:
    "Text as a reader sees it: the Markdown marks, the typography (’ for ', – for --) and the spacing left out."
    return ' '.join(re.sub(r'[\W_]+', ' ', s).split())

# ------------------------------------------------------------------ fixtures: the site, a server, a browser

@pytest.fixture(scope='module')
def site() -> Path:
    "Build the site once for this module."
    r = subprocess.run(['bash', str(ROOT/'scripts/build_docs.sh')], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"scripts/build_docs.sh failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert (DOCS/'index.html').exists(), "the build wrote no _docs/index.html"
    return DOCS

def page_of(nb:Path) -> Path:
    "The page built from a notebook: named after it by smalldocs, after its module (nbdev's `output-file`) by Quarto."
    from nbdev.doclinks import nbpath2html
    cands = [DOCS/f'{nb.stem}.html', DOCS/nbpath2html(Path(nb.name)).name]
    page = next((p for p in cands if p.exists()), None)
    assert page, f"{nb.name} has no page in _docs/ (looked for {', '.join(p.name for p in cands)})"
    return page

class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

@pytest.fixture(scope='module')
def base_url(site):
    "Serve _docs/ on 127.0.0.1, on a free port."
    server = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}/'
    server.shutdown(); server.server_close()

@pytest.fixture(scope='module')
def chromium() -> str:
    "The Chromium binary; the browser checks are skipped without one, except in CI where they fail."
    exe = next((shutil.which(n) for n in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(n)), None)
    if exe: return exe
    msg = "Chromium is not installed (make browser installs it: apt-get install chromium)"
    if os.environ.get('CI') == 'true': pytest.fail(msg)
    pytest.skip(msg)

def run_chromium(exe:str, profile:Path, *args:str) -> str:
    r = subprocess.run([exe, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"chromium {' '.join(args)} failed: {r.stderr[-2000:]}"
    return r.stdout

@pytest.fixture(scope='module')
def doms(site, base_url, chromium, tmp_path_factory) -> dict[str, Dom]:
    "Every page of the site, as the browser rendered it, by its path under _docs/."
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob('*.html'))
    tmp = tmp_path_factory.mktemp('chromium')
    def render(i_page):
        i, page = i_page
        return page, Dom(run_chromium(chromium, tmp/f'profile{i}', '--dump-dom', base_url + page))
    with ThreadPoolExecutor(max_workers=4) as ex: return dict(ex.map(render, enumerate(pages)))

# ------------------------------------------------------------------ the checks

def test_every_notebook_has_a_page(site):
    assert NOTEBOOKS, "nbs/ has no notebooks"
    for nb in NOTEBOOKS: page_of(nb)
    assert page_of(NBS/'index.ipynb') == DOCS/'index.html', "index.ipynb must be the home page"

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_page_shows_notebook(nb, doms):
    "The title (the H1) and summary (the `>` line), the navbar and sidebar, every picture, and no hidden cell."
    dom = doms[page_of(nb).name]
    title, summary = title_and_summary(nb)
    assert squash(title) in [squash(t) for t in dom.texts['h1']], f"{nb.name}: title {title!r} not in the page's H1s {dom.texts['h1']}"
    assert squash(summary) in [squash(t) for t in dom.texts['description']], f"{nb.name}: summary {summary!r} not shown"
    assert dom.has_navbar, f"{nb.name}: no navbar"
    assert dom.has_sidebar, f"{nb.name}: no sidebar"
    n_img = sum(f.startswith('data:image/png') or f.endswith('.png') for f in dom.files)
    assert n_img >= n_pictures(nb), f"{nb.name}: {n_pictures(nb)} PNG outputs but {n_img} pictures on the page"
    shown = '\n'.join(dom.texts['pre'])
    for code in hidden_code(nb): assert code not in shown, f"{nb.name}: a #| hide cell shows:\n{code}"

def test_sidebar_lists_every_notebook(doms):
    "The sidebar of the home page links to the page of every notebook."
    linked = {unquote(urlsplit(h).path) for h in doms['index.html'].sidebar_links}
    missing = [nb.name for nb in NOTEBOOKS if page_of(nb).name not in linked]
    assert not missing, f"the sidebar does not list {missing}"

def test_internal_links_resolve(doms, base_url):
    "Every link, picture, stylesheet and script on the site's own host exists; every anchor exists in its page."
    broken = []
    for page, dom in doms.items():
        here = base_url + page
        for ref, is_link in [(h, True) for h in dom.links] + [(f, False) for f in dom.files]:
            url = urlsplit(urljoin(here, ref))
            if url.scheme not in ('http', 'https') or url.netloc != urlsplit(base_url).netloc: continue
            path = unquote(url.path).lstrip('/')
            target = path + 'index.html' if path == '' or path.endswith('/') else path
            if not (DOCS/target).is_file(): broken.append(f"{page}: {ref} (no file {target})"); continue
            if is_link and url.fragment and target in doms and unquote(url.fragment) not in doms[target].ids:
                broken.append(f"{page}: {ref} (no #{url.fragment} in {target})")
    assert not broken, "broken internal links:\n" + '\n'.join(broken)

def test_home_screenshot(site, base_url, chromium, tmp_path):
    "A picture of the home page, kept at _docs/screenshots/home.png for a person to look at."
    shot = site/'screenshots/home.png'
    shot.parent.mkdir(exist_ok=True); shot.unlink(missing_ok=True)
    run_chromium(chromium, tmp_path/'profile', f'--screenshot={shot}', '--window-size=1280,1600', '--hide-scrollbars', base_url)
    assert shot.stat().st_size > 20_000, "the screenshot of the home page is nearly empty"

# ------------------------------------------------------------------ what a reader sees in a real browser (Playwright)

def show_doc_calls(nb:Path) -> int:
    "How many `show_doc(...)` calls the page shows: one API entry each (cells nbdev drops don't count)."
    def shown(c): d = directives(c); return not (d.keys() & {'hide', 'export', 'exporti', 'exports', 'default_exp'})
    return sum(len(re.findall(r'^show_doc\(', src(c), re.M)) for c in cells(nb) if c['cell_type'] == 'code' and shown(c))

@pytest.fixture(scope='module')
def browser(chromium):
    "Debian's Chromium driven by Playwright (the wheel's driver, no browser download)."
    sync_api = pytest.importorskip('playwright.sync_api')
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=[f for f in CHROMIUM_FLAGS if f != '--headless'])
        yield b
        b.close()

# the elements of the lesson's column that stick out of it without a scroll box of their own
_OVERFLOW_JS = """() => {
  const main = document.querySelector('main') || document.body, right = main.getBoundingClientRect().right + 2;
  const out = [];
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= right) continue;
    let boxed = false;
    for (let a = el.parentElement; a && a !== main.parentElement; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && a.getBoundingClientRect().right <= right) { boxed = true; break; }
    }
    if (!boxed) out.push(el.tagName + '.' + el.className + ': ' + (el.textContent || '').trim().slice(0, 60));
  }
  return out.slice(0, 5);
}"""

def luminance(rgb:str) -> float:
    r, g, b = [int(v)/255 for v in re.findall(r'\d+', rgb)[:3]]
    lin = lambda c: c/12.92 if c <= 0.03928 else ((c + 0.055)/1.055)**2.4
    return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)

def contrast(fg:str, bg:str) -> float:
    a, b = sorted([luminance(fg), luminance(bg)], reverse=True)
    return (a + 0.05)/(b + 0.05)

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_page_in_browser(nb, site, base_url, browser):
    "Every API entry renders; previous/next links and the footer; nothing wider than the column without its own scroll box; no stderr, no absolute path, no Python-list log."
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    try:
        page.goto(base_url + page_of(nb).name)
        entries = page.locator('.cell-output-markdown > h3, .cell-output-markdown > h4').count()
        assert entries == show_doc_calls(nb), f"{nb.name}: {show_doc_calls(nb)} show_doc calls but {entries} API entries on the page"
        nav = page.locator('nav.page-navigation a')
        assert nav.count() >= (1 if nb.stem in ('index', LESSONS[-1].stem) else 2), f"{nb.name}: no previous/next links"
        assert page.locator('footer').count() and page.locator('footer').first.inner_text().strip(), f"{nb.name}: no footer"
        assert not (wide := page.evaluate(_OVERFLOW_JS)), f"{nb.name}: wider than the column, without a scroll box: {wide}"
        assert page.locator('.cell-output-stderr').count() == 0, f"{nb.name}: a stderr block"
        outputs = '\n'.join(page.locator('.cell-output').all_inner_texts())
        assert not (paths := re.findall(r'(?:/root/|/home/\w+/|/tmp/tmp\w+|/work/\w+|site-packages/)\S*', outputs)), f"{nb.name}: absolute paths {paths[:3]}"
        assert not re.search(r"\[\s*'epoch',\s*'train_loss'|\[\s*'\d+',\s*'\d+\.\d+'", outputs), f"{nb.name}: a training log printed as a Python list"
    finally: page.close()

@pytest.mark.parametrize('query', ['learner', 'mixup', 'perplexity'])
def test_search_hits_are_readable(site, base_url, browser, query):
    "The search box finds hits with the page, the section and a snippet, in colours readable on their background (WCAG AA, 4.5:1)."
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    try:
        page.goto(base_url + 'index.html')
        box = page.locator('.smalldocs-search input').first
        box.click(); box.type(query, delay=20)
        page.wait_for_selector('.smalldocs-search-results .search-result', timeout=10_000)
        hits = page.locator('.smalldocs-search-results .search-result')
        assert hits.count() >= 3, f"{query!r}: {hits.count()} hits"
        for part in ('.search-result-title', '.search-result-section', '.search-result-text'):
            el = hits.first.locator(part)
            assert el.count() and el.inner_text().strip(), f"{query!r}: the first hit has no {part}"
            fg = el.evaluate("e => getComputedStyle(e).color")
            bg = el.evaluate("""e => { for (let a = e; a; a = a.parentElement) { const c = getComputedStyle(a).backgroundColor;
                                      if (c && !c.endsWith(', 0)') && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; }""")
            assert contrast(fg, bg) >= 4.5, f"{part}: {fg} on {bg}, contrast {contrast(fg, bg):.1f}"
    finally: page.close()
