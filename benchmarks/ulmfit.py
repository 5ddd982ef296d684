"""ULMFiT end to end, course_lib against fastai 2.8: pretrain an AWD-LSTM LM on lesson 22's four corpora (the Wikipedia
articles, the State of the Union addresses, the Brown corpus and Moby-Dick), fine-tune it on all the movie-review texts, train the polarity classifier on all 8,453 training labels
with gradual unfreezing, and report the held-out accuracy (the fixed 2,113 snippets) and the wall time of each library.

Both use the same data and splits, the same small AWD-LSTM (emb 300, hidden 300, 2 layers), the same epochs and peak
learning rates, and random initialisation (fastai: `pretrained=False`). Ours is exactly the recipe of nbs/22 and nbs/23
(slanted triangular schedules, discriminative lrs, momentum 0.8/0.7); both build their vocabularies by the same rules (at most 15,000
tokens for the pretraining corpora, 30,000 for the reviews, each seen at least twice; fastai's defaults, 60,000 and three
times, give it a much wider decoder on the four corpora: 51 instead of 28 minutes per pretraining epoch, timing
vocabularies, not code). fastai uses its own defaults for what the API does not expose the same way (one-cycle
schedules, its tokenizer). Precision: ours
trains the LMs in `--precision` ('auto': bf16 autocast where `fast_precision()` says the machine runs bf16 natively, as
lesson 22's recipe does); fastai in fp32, because its `to_bf16()` autocasts on CUDA only and changes nothing on a CPU
(`--precision fp32` compares like with like). It takes long on a 2-core CPU (about an hour per library there, most of it
the two pretraining epochs over the four corpora).
`--smoke` runs the same code on a sliver of each corpus with one epoch per stage (a minute or two), to check the script.
Usage: python benchmarks/ulmfit.py [--lib both|ours|fastai] [--precision auto|fp32|bf16] [--threads 2] [--smoke] [--out FILE]"""
import argparse, random, tempfile, time
from pathlib import Path
import torch
from course_lib.core import set_seed
from course_lib.datasets import movie_reviews
from course_lib.lm import lm_corpora, fast_precision

LM_EPOCHS, FT_EPOCHS, CLAS_EPOCHS = 2, (1, 9), (1, 1, 3)
LM_LR, FT_LRS, CLAS_LRS = 1e-2, (1e-2, 3e-3), (2e-2, 1e-2, 5e-3)
LM_DROP, MOMS, CLAS_FACTOR = 0.1, (0.8, 0.7), (1, 2.6, 1)
LM_VOCAB, MOVIE_VOCAB, MIN_FREQ = 15_000, 30_000, 2   # both libraries' vocabulary rules (the decoder's cost grows with the size)
SIZES = dict(emb_sz=300, n_hid=300, n_layers=2)
N_DOCS, N_MOVIES = None, None                  # all the documents; `--smoke` sets a few
PRECISION = 'fp32'                             # ours: set from `--precision`

def corpora():
    "Training and validation texts of lesson 22's four corpora, together."
    texts = [lm_corpora[c]() for c in lm_corpora]
    return [t for trn, _ in texts for t in trn[:N_DOCS]], [t for _, val in texts for t in val[:N_DOCS]]

def movies():
    "The movie-review split; `--smoke` keeps a random `N_MOVIES` of each side (the files are ordered by label)."
    trn, trn_y, val, val_y = movie_reviews()
    if N_MOVIES is None: return trn, trn_y, val, val_y
    pick = lambda xs, ys: map(list, zip(*random.Random(0).sample(list(zip(xs, ys)), N_MOVIES)))
    return (*pick(trn, trn_y), *pick(val, val_y))

def ours():
    from course_lib.text import Tokenizer, Vocab, lm_databunch, clas_databunch
    from course_lib.lm import corpus_lm_data, pretrain_lm
    from course_lib.ulmfit import fine_tune_lm, train_classifier, predict
    import course_lib.text
    cold = Path(tempfile.mkdtemp()); course_lib.text.data_path = lambda: cold    # an empty token cache: fastai tokenizes from scratch too
    lm_data, pre_vocab = corpus_lm_data(tuple(lm_corpora), LM_VOCAB, MIN_FREQ, n_train=N_DOCS, n_valid=N_DOCS)
    pre = pretrain_lm(lm_data, pre_vocab, LM_EPOCHS, LM_LR, moms=MOMS, drop_mult=LM_DROP, progress=False, precision=PRECISION)
    trn, trn_y, val, val_y = movies()
    tok = Tokenizer(cache_dir=True)
    trn_toks, val_toks = tok(trn, progress=False), tok(val, progress=False)
    vocab = Vocab.create(trn_toks + val_toks, max_vocab=MOVIE_VOCAB, min_freq=MIN_FREQ)
    trn_ids, val_ids = [vocab.numericalize(t) for t in trn_toks], [vocab.numericalize(t) for t in val_toks]
    random.Random(0).shuffle(docs := trn_ids + val_ids)
    lm_data = lm_databunch(docs[len(docs)//10:], docs[:len(docs)//10], bs=64, bptt=70)
    ft = fine_tune_lm(pre.model.state_dict(), pre_vocab, lm_data, vocab, pre.config, FT_LRS, FT_EPOCHS, MOMS, progress=False, precision=PRECISION)
    data = clas_databunch(trn_ids, trn_y, val_ids, val_y, bs=64)
    learn = train_classifier(data, len(vocab), 2, ft.model.state_dict(), pre.config, epochs=CLAS_EPOCHS, lrs=CLAS_LRS,
                             factor=CLAS_FACTOR, moms=MOMS)
    return (predict(learn, val, vocab, tok)[0] == torch.tensor(val_y)).float().mean().item()

def fastai():
    import numpy as np, pandas as pd
    from course_lib.transfer import disc_lrs
    from fastai.text.all import (TextDataLoaders, TextBlock, DataBlock, ColReader, ColSplitter, RandomSplitter, language_model_learner,
                                 text_classifier_learner, AWD_LSTM, awd_lstm_lm_config, awd_lstm_clas_config, accuracy, Perplexity)
    def lm_dls(df, max_vocab, splitter, path):   # TextDataLoaders.from_df, with our vocabulary rules instead of fastai's (60,000, min_freq 3)
        block = TextBlock.from_df('text', is_lm=True, seq_len=70, min_freq=MIN_FREQ, max_vocab=max_vocab)
        return DataBlock(blocks=block, get_x=ColReader('text'), splitter=splitter).dataloaders(df, path=path, bs=64, seq_len=70)
    tmp = Path(tempfile.mkdtemp())
    wtrn, wval = corpora()
    wdf = pd.DataFrame({'text': wtrn + wval, 'is_valid': [False]*len(wtrn) + [True]*len(wval)})
    dls = lm_dls(wdf, LM_VOCAB, ColSplitter('is_valid'), tmp)
    learn = language_model_learner(dls, AWD_LSTM, config={**awd_lstm_lm_config, **SIZES}, pretrained=False, drop_mult=LM_DROP,
                                   metrics=[accuracy, Perplexity()])
    learn.fit_one_cycle(LM_EPOCHS, LM_LR, moms=(*MOMS, MOMS[0]))
    learn.save('wiki', with_opt=False)
    import pickle; pickle.dump(learn.dls.vocab, open(tmp/'models'/'wiki_vocab.pkl', 'wb'))   # fastai's format; our own file
    trn, trn_y, val, val_y = movies()
    mdf = pd.DataFrame({'text': trn + val, 'label': trn_y + val_y, 'is_valid': [False]*len(trn) + [True]*len(val)})
    dls_lm = lm_dls(mdf, MOVIE_VOCAB, RandomSplitter(0.1, seed=0), tmp)
    ft = language_model_learner(dls_lm, AWD_LSTM, config={**awd_lstm_lm_config, **SIZES}, pretrained=False, drop_mult=0.5,
                                pretrained_fnames=['wiki', 'wiki_vocab'], metrics=[accuracy, Perplexity()])
    ft.freeze(); ft.fit_one_cycle(FT_EPOCHS[0], FT_LRS[0], moms=(*MOMS, MOMS[0]))
    ft.unfreeze(); ft.fit_one_cycle(FT_EPOCHS[1], slice(FT_LRS[1]/2.6**2, FT_LRS[1]), moms=(*MOMS, MOMS[0]))
    ft.save_encoder('ft_enc')
    dls_clas = TextDataLoaders.from_df(mdf, path=tmp, text_col='text', label_col='label', valid_col='is_valid',
                                       text_vocab=dls_lm.vocab, bs=64)
    clas = text_classifier_learner(dls_clas, AWD_LSTM, config={**awd_lstm_clas_config, **SIZES}, pretrained=False,
                                   drop_mult=0.5, metrics=accuracy).load_encoder('ft_enc')
    for n, ep, lr in zip((-1, -2, 0), CLAS_EPOCHS, CLAS_LRS):
        clas.freeze_to(n) if n else clas.unfreeze()
        clas.fit_one_cycle(ep, np.array(disc_lrs(lr, 4, CLAS_FACTOR)), moms=(*MOMS, MOMS[0]))   # 4 groups: emb, 2 LSTMs, head
    return clas.validate()[1]

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--lib', default='both', choices=['both', 'ours', 'fastai'])
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--precision', default='auto', choices=['auto', 'fp32', 'bf16'], help="ours; 'auto': fast_precision()")
    p.add_argument('--smoke', action='store_true', help='a few documents, one epoch per stage: checks the script, measures nothing')
    p.add_argument('--out', default=None, help='default: benchmarks/results/ulmfit.txt (not written by --smoke)')
    a = p.parse_args()
    if a.smoke: N_DOCS, N_MOVIES, LM_EPOCHS, FT_EPOCHS, CLAS_EPOCHS = 3, 2000, 1, (1, 1), (1, 1, 1)
    torch.set_num_threads(a.threads)
    PRECISION = fast_precision() if a.precision == 'auto' else a.precision
    out = Path(a.out or 'benchmarks/results/ulmfit.txt') if a.out or not a.smoke else None
    lines, mins = [f"ULMFiT on movie-review polarity (held-out 2,113), all 8,453 labels; LM pretrained on {', '.join(lm_corpora)}; "
                   f"AWD-LSTM {SIZES}; torch threads {a.threads}; LMs trained in {PRECISION} (course_lib), fp32 (fastai)"], {}
    def report(line):                                   # printed, and the file rewritten after each library: a late crash loses nothing
        lines.append(line); print(line, flush=True)
        if out: out.parent.mkdir(parents=True, exist_ok=True); out.write_text('\n'.join(lines) + '\n')
    for name, f in [('course_lib', ours), ('fastai', fastai)]:
        if a.lib not in ('both', name.replace('course_lib', 'ours')): continue
        set_seed(0); t0 = time.perf_counter()
        acc = f()
        mins[name] = (time.perf_counter() - t0) / 60
        report(f"{name:10}: accuracy {acc:.2%}, wall time {mins[name]:.1f} min")
    if len(mins) == 2: report(f"wall time course_lib/fastai: {mins['course_lib'] / mins['fastai']:.2f}x (one run each; the machine's noise applies)")
