"""Tokenizer speed: course_lib's `Tokenizer` against fastai's `parallel_tokenize`, both with the same number of worker
processes, both with their default rules, no cache on either side, on the Wikipedia articles and the movie snippets.

Each contender starts cold in every run: a fresh spaCy tokenizer (built before the clock starts, as both libraries do)
and, for ours, an empty memo. The order of the contenders is rotated each repeat; we report medians.
Also reported: bare spaCy (`blank('en').tokenizer.pipe`, one process, no rules) as a reference, and where the token
outputs of the two libraries differ on the same texts, and why.
Usage: python benchmarks/tokenizer_speed.py [--repeats 3] [--workers 2] [--out benchmarks/results/tokenizer_speed.txt]"""
import argparse, difflib, os, statistics, sys, time, warnings
warnings.filterwarnings("ignore", category=FutureWarning)   # torch.jit deprecation warnings while fastai imports
from collections import Counter
import spacy
import course_lib.text as T
from course_lib.datasets import wiki_articles, movie_reviews

def fresh_ours():
    T._spacy.cache_clear(); T._exceptions.cache_clear(); T._pieces.clear()   # cold: new spaCy cache, empty memo
    return T.Tokenizer(n_workers=WORKERS, cache_dir=None)

def ours(tok, texts): return tok(texts, progress=False)

def fresh_fastai():
    from fastai.text.all import SpacyTokenizer
    return SpacyTokenizer()

def fastai_tok(tok, texts):
    from fastai.text.all import parallel_tokenize
    res = [None] * len(texts)
    for i, toks in parallel_tokenize(texts, tok, n_workers=WORKERS): res[i] = list(toks)
    return res

def fresh_spacy(): return spacy.blank('en').tokenizer
def bare_spacy(tok, texts): return [[t.text for t in d] for d in tok.pipe(texts, batch_size=1000)]

WHY = """
Why the outputs differ (the categories counted above):
- xxeos: ours ends every document with xxeos; fastai's default rules add only xxbos.
- xxmaj / xxup: fastai applies its case rules to the whitespace-separated words of the string, before spaCy; ours
  applies them to spaCy's tokens. So fastai marks "PDD-NOS)" once (xxup pdd - nos) where we mark each part, skips words
  that start with a quote or a bracket (''Conan'' gives '' conan ''), and marks a capital letter glued to more text
  ("A's" gives xxmaj a 's), which we leave unmarked because the token "A" is a single letter.
- Abbreviations: fastai lowercases the text before spaCy, so spaCy's case-sensitive exceptions (U.S., Mr., Dr., St.,
  Gen., Inc.) no longer match and their period is split off; ours tokenizes the original text and lowercases after.
- Ellipses: fastai's fix_html turns "..." into " …"; ours writes xxrep 3 . (replace_rep).
- Non-breaking spaces: ours turns all whitespace except newlines into plain spaces (rm_useless_spaces); fastai keeps
  a \\xa0 token (and replace_space writes the spaces inside a token as ▁).
- "&amp;": fastai's fix_html replaces "amp;" with "&" before decoding, so a correct "&amp;" becomes "&&".
"""

def run(make, f, texts):
    tok = make(); t0 = time.perf_counter(); res = f(tok, texts)
    return time.perf_counter() - t0, res

def diff_report(a, b, out, n_show=3):
    "Count the documents whose tokens differ, the most common differences (ours → fastai), and a few examples."
    differ = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    no_eos = [i for i in differ if a[i][:-1] != b[i]]
    out(f"  documents whose tokens differ: {len(differ)} of {len(a)}; after dropping our final xxeos: {len(no_eos)}")
    pairs, examples = Counter(), []
    for i in no_eos:
        sm = difflib.SequenceMatcher(None, a[i][:-1], b[i], autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == 'equal': continue
            pairs[(' '.join(map(repr, a[i][i1:i2])), ' '.join(map(repr, b[i][j1:j2])))] += 1
            if len(examples) < n_show and i not in [e[0] for e in examples]:
                examples.append((i, ' '.join(a[i][max(0, i1-4):i2+4]), ' '.join(b[i][max(0, j1-4):j2+4])))
    out("  most common differences (ours → fastai), count:")
    for (x, y), c in pairs.most_common(12): out(f"    {c:6d}  {x or '∅'}  →  {y or '∅'}")
    out("  examples (a few tokens of context):")
    for i, x, y in examples: out(f"    doc {i}\n      ours:   {x!r}\n      fastai: {y!r}")

def main(repeats=3, out_path=None):
    lines = []
    def out(s=''): print(s, flush=True); lines.append(s)
    import fastai
    tr, va = wiki_articles(); mtr, _, mva, _ = movie_reviews()
    corpora = {'wiki (106 articles)': tr + va, 'movies (10,566 snippets)': mtr + mva}
    contenders = {f'course_lib Tokenizer ({WORKERS} workers)': (fresh_ours, ours),
                  f'fastai {fastai.__version__} parallel_tokenize ({WORKERS} workers)': (fresh_fastai, fastai_tok),
                  'bare spaCy blank(en), 1 process, no rules': (fresh_spacy, bare_spacy)}
    out(f"Tokenizer benchmark: median of {repeats} runs, no cache, cold start each run; python {sys.version.split()[0]}, "
        f"spaCy {spacy.__version__}, {os.cpu_count()} CPUs")
    out(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other jobs share the CPUs: timings are noisy)")
    for cname, texts in corpora.items():
        out(f"\n{cname}: {sum(map(len, texts)):,} characters")
        times, results, names = {k: [] for k in contenders}, {}, list(contenders)
        for r in range(repeats):
            for k in names[r % len(names):] + names[:r % len(names)]:
                t, results[k] = run(*contenders[k], texts); times[k].append(t)
        med = {k: statistics.median(v) for k, v in times.items()}
        base = names[1]
        out(f"  {'contender':52s} {'tokens':>9s} {'median s':>9s} {'runs s':>18s} {'tokens/s':>10s} {'speed vs fastai':>15s}")
        for k in names:
            n = sum(map(len, results[k]))
            out(f"  {k:52s} {n:9,d} {med[k]:9.2f} {' '.join(f'{t:.2f}' for t in times[k]):>18s} {n/med[k]:10,.0f} {med[base]/med[k]:14.2f}x")
        single = T.Tokenizer(n_workers=1)
        T._pieces.clear()
        assert results[names[0]] == single(texts), "parallel and single-process outputs differ"
        diff_report(results[names[0]], results[base], out)
    out(WHY)
    out(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if out_path:
        with open(out_path, 'w') as f: f.write('\n'.join(lines) + '\n')

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=3); p.add_argument('--workers', type=int, default=2)
    p.add_argument('--out', default=None, help='also write the report to this file')
    a = p.parse_args(); WORKERS = a.workers
    main(a.repeats, a.out)
