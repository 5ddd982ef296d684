"Tokenizer in worker processes, the token cache on disk, Vocab files on disk, and large inputs (lesson 20)."
import json, os, pickle, re, subprocess, sys, textwrap, time, warnings
import pytest
from course_lib.datasets import movie_reviews
from course_lib.text import *
import course_lib.text as text_mod

@pytest.fixture(scope='module')
def snippets(): return movie_reviews()[0][:1500]

def test_parallel_equals_single_process(snippets):
    assert len(text_mod._chunks(snippets, 10_000)) > 4
    par = Tokenizer(n_workers=2, chunksize=10_000)(snippets, progress=False)
    assert par == Tokenizer(n_workers=1)(snippets, progress=False)
    assert par[7] == Tokenizer().tokenize_one(snippets[7])

def test_chunks_run_in_worker_processes(snippets):
    "A lambda rule (fine: the workers are forked) stamps each text with the id of the process that tokenized it."
    stamp = lambda t: f'{t} pid{os.getpid()}'
    res = Tokenizer(pre_rules=[stamp], post_rules=[], n_workers=2, chunksize=10_000)(snippets, progress=False)
    pids = {toks[-1] for toks in res}
    assert len(pids) == 2 and f'pid{os.getpid()}' not in pids
    small = Tokenizer(pre_rules=[stamp], post_rules=[], n_workers=2)(snippets[:3], progress=False)   # one chunk: no pool
    assert {toks[-1] for toks in small} == {f'pid{os.getpid()}'}

def test_worker_error_names_the_text(snippets):
    def picky(t):
        if 'Tuck Everlasting' in t: raise KeyError('no Tuck')
        return t
    bad = next(i for i, t in enumerate(snippets) if 'Tuck Everlasting' in t)
    with pytest.raises(ValueError, match=f"rule 'picky' failed on text {bad}: KeyError"):
        Tokenizer(pre_rules=[picky], n_workers=2, chunksize=10_000)(snippets, progress=False)

def test_cache_hit_and_invalidation(snippets, tmp_path):
    tok = Tokenizer(cache_dir=tmp_path)
    a = tok(snippets, progress=False)
    files = list(tmp_path.glob('*.json')); assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    fresh = Tokenizer(cache_dir=tmp_path)                                   # a new Tokenizer, same rules
    fresh._run = lambda *a, **k: pytest.fail('tokenized again instead of reading the cache')
    b = fresh(snippets, progress=False)
    assert a == b and files[0].stat().st_mtime_ns == mtime
    c = tok(snippets[:-1] + [snippets[-1] + ' Extra'], progress=False)
    assert c[:-1] == a[:-1] and c[-1] == a[-1][:-1] + ['xxmaj', 'extra', 'xxeos']
    d = Tokenizer(post_rules=[deal_caps, add_eos_bos], cache_dir=tmp_path)(snippets, progress=False)   # no replace_all_caps
    assert d != a and len(list(tmp_path.glob('*.json'))) == 3
    assert len(tok.cache_key(['ab', 'c'])) == 64 and tok.cache_key(['ab', 'c']) != tok.cache_key(['a', 'bc'])

def test_cache_key_sees_module_level_regex(tmp_path, monkeypatch):
    (tmp_path/'my_rules.py').write_text(textwrap.dedent('''
        import re
        _re_dash = re.compile(r'-')
        def dash_to_space(t): return _re_dash.sub(' ', t)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_rules
    tok = Tokenizer(pre_rules=[my_rules.dash_to_space], cache_dir=tmp_path/'cache')
    key = tok.cache_key(['a-b'])
    assert tok(['a-b']) == [['xxbos', 'a', 'b', 'xxeos']]
    monkeypatch.setattr(my_rules, '_re_dash', re.compile(r'_'))     # same function source, different regex
    assert tok.cache_key(['a-b']) != key
    assert tok(['a-b']) == [['xxbos', 'a', '-', 'b', 'xxeos']]

@pytest.mark.parametrize('content', [b'{"format": "course_lib.tokens", "tokens": [["xx', b'[1, 2]', b'\xff\xfe',
                                     json.dumps({'format': 'course_lib.tokens', 'version': 1, 'tokens': [['a']]}).encode()])
def test_unusable_cache_file_is_replaced(snippets, tmp_path, content):
    tok = Tokenizer(cache_dir=tmp_path)
    good = tok(snippets[:20], progress=False)
    path = tmp_path/f'{tok.cache_key(snippets[:20])}.json'
    path.write_bytes(content)
    with pytest.warns(UserWarning, match='ignoring the unusable token cache'): again = tok(snippets[:20], progress=False)
    assert again == good and json.loads(path.read_bytes())['tokens'] == good      # repaired
    with warnings.catch_warnings(): warnings.simplefilter('error'); tok(snippets[:20])

def test_default_writes_nothing_and_true_uses_data_path(tmp_path, monkeypatch):
    monkeypatch.setenv('COURSE_LIB_DATA', str(tmp_path))
    Tokenizer()(['Some text.'])
    assert not (tmp_path/'tokens').exists()
    Tokenizer(cache_dir=True)(['Some text.'])
    assert len(list((tmp_path/'tokens').glob('*.json'))) == 1

def test_bad_texts():
    tok = Tokenizer()
    with pytest.raises(TypeError, match=r"text 2 is bytes, not str: decode it first"): tok(['a', 'b', b'\xff\xfe'])
    with pytest.raises(ValueError, match=r"text 1 is not valid Unicode \('\\udcff' at position 3"):
        tok(['a', b'abc\xff'.decode('utf-8', 'surrogateescape')])
    with pytest.raises(TypeError, match='single string'): tok('a text')
    assert tok(t for t in ['Ab c', '']) == [['xxbos', 'xxmaj', 'ab', 'c', 'xxeos'], ['xxbos', 'xxeos']]   # any iterable
    with pytest.raises(ValueError, match='n_workers and chunksize must be >= 1'): Tokenizer(n_workers=0)

def test_literal_special_tokens_cannot_become_special():
    v = Vocab.create([Tokenizer().tokenize_one('xxpad XXBOS xxunk Xxmaj xxeos xxrep xxwrep xxup xxfld ' * 3)], min_freq=1)
    assert v.itos[:8] == text_spec_tok and len(set(v.itos)) == len(v.itos)
    toks = Tokenizer().tokenize_one('a review that says xxpad and xxeos')
    assert toks.count(PAD) == 0 and toks.count(EOS) == 1 and toks[-1] == EOS

def test_million_character_document_time_and_memory():
    "In a fresh process: a 1,000,000-character Wikipedia document is tokenized in bounded memory (its speed: benchmarks/tokenizer_speed.py)."
    code = textwrap.dedent('''
        import resource, time
        from course_lib.datasets import wiki_articles
        from course_lib.text import Tokenizer
        tok = Tokenizer(n_workers=1); tok.tokenize_one('warm up spaCy')
        big = ' '.join(wiki_articles()[0])[:1_000_000]
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter(); toks = tok.tokenize_one(big); t = time.perf_counter() - t0
        print(len(big), len(toks), t, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024)
    ''')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    n_chars, n_toks, secs, mb = map(float, out.stdout.split()[-4:])
    assert n_chars == 1_000_000 and n_toks > 150_000
    assert mb < 500, f"peak memory grew by {mb:.0f} MB"

def test_long_punctuation_run_is_linear():
    "spaCy is quadratic on a long whitespace-free piece of punctuation; pieces are cut at 100 characters."
    import random
    random.seed(0)
    junk = ''.join(random.choice('()[].,;:') for _ in range(30_000))
    from course_lib import text
    seen = []
    real = text._learn_pieces
    def spy(words): seen.extend(words); return real(words)
    text._learn_pieces = spy
    try: toks = spacy_tokenize([junk])[0]
    finally: text._learn_pieces = real
    assert ''.join(toks) == junk and seen and max(map(len, seen)) <= 100      # spaCy only ever sees short pieces

def test_vocab_file_roundtrip_and_bad_files(tmp_path):
    v = Vocab.create([Tokenizer().tokenize_one('The cat sat on the mat. The cat ran.')], min_freq=1)
    v.save(tmp_path/'v.json')
    w = Vocab.load(tmp_path/'v.json')
    assert w.itos == v.itos and w.stoi == v.stoi and w.numericalize(['cat', 'dog']) == [v.stoi['cat'], 0]
    def bad(name, content, msg):
        p = tmp_path/name
        p.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        with pytest.raises(ValueError, match=msg) as e: Vocab.load(p)
        assert name in str(e.value)
    bad('truncated.json', (tmp_path/'v.json').read_bytes()[:-10], 'is not a Vocab file: it is not valid JSON')
    bad('list.json', v.itos, "expected a JSON object with 'format': 'course_lib.Vocab'")
    bad('pickle.json', pickle.dumps(v.itos), 'not valid JSON')             # never unpickled
    bad('nospecials.json', {'format': 'course_lib.Vocab', 'itos': ['the', 'cat']}, 'must start with the special tokens')
    bad('swapped.json', {'format': 'course_lib.Vocab', 'itos': [PAD, UNK] + text_spec_tok[2:]}, 'must start with the special tokens')
    bad('dups.json', {'format': 'course_lib.Vocab', 'itos': text_spec_tok + ['cat', 'dog', 'cat']}, r"duplicate tokens: \['cat'\]")
    bad('ints.json', {'format': 'course_lib.Vocab', 'itos': text_spec_tok + [3]}, 'every token must be a str, got int')
    with pytest.raises(FileNotFoundError): Vocab.load(tmp_path/'missing.json')
