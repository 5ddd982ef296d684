"""course_lib.lm on disk and with bad input: save_lm/load_lm round trips, mismatched or missing files, pickled code
refused, and the cache of cached_lm / get_pretrained_lm. Runs in seconds on a CPU, no network."""
import json, pickle
from types import SimpleNamespace
import pytest, torch
from course_lib.core import set_seed
from course_lib.learner import CheckpointError
from course_lib.text import Vocab, text_spec_tok, lm_databunch
from course_lib.awd_lstm import get_language_model
import course_lib.lm as lm_module
from course_lib.lm import *

pytestmark = pytest.mark.usefixtures('one_thread')

CONFIG = dict(awd_lstm_small_config, emb_sz=8, n_hid=10)

def make(n_words=12, seed=0):
    set_seed(seed)
    vocab = Vocab(text_spec_tok + [f'w{i}' for i in range(n_words)])
    return get_language_model(len(vocab), **CONFIG), vocab

def test_round_trip_same_outputs_and_tied(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG, note='hi')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['vocab.json', 'weights.pth']   # no temp files left
    m2, v2 = load_lm(tmp_path)
    assert v2.itos == vocab.itos and m2[1].decoder.weight is m2[0].emb.weight
    x = torch.randint(0, len(vocab), (2, 7))
    model.eval(); m2.eval()
    torch.testing.assert_close(m2(x)[0], model(x)[0])
    sd, v3, extra = load_lm_state(tmp_path)
    assert extra['note'] == 'hi' and extra['config'] == CONFIG and v3.itos == vocab.itos

def test_drop_mult_on_load(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG)
    m2, _ = load_lm(tmp_path, drop_mult=0.5)
    assert m2[0].input_dp.p == pytest.approx(CONFIG['input_p'] * 0.5)

def test_vocab_from_another_run_is_refused(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG)
    Vocab(text_spec_tok + [f'v{i}' for i in range(15)]).save(tmp_path/'vocab.json')
    with pytest.raises(CheckpointError, match=r'vocab.json has 23 tokens but the weights. 0.emb.weight has 20 rows'): load_lm(tmp_path)

def test_save_refuses_mismatched_vocab(tmp_path):
    model, _ = make()
    with pytest.raises(ValueError, match='embedding has 20 rows but the vocab has 9'): save_lm(tmp_path, model, Vocab(text_spec_tok + ['a']), CONFIG)

def test_missing_files_are_named(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG)
    (tmp_path/'vocab.json').unlink()
    with pytest.raises(FileNotFoundError, match='vocab.json is missing'): load_lm(tmp_path)
    with pytest.raises(FileNotFoundError, match='weights.pth is missing'): load_lm(tmp_path/'nowhere')

def test_wrong_config_is_refused(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, dict(CONFIG, n_hid=11))       # config that does not describe the weights
    with pytest.raises(CheckpointError, match='shape mismatches'): load_lm(tmp_path)

class Evil:
    def __reduce__(self): return (print, ('pwned',))

def test_pickled_code_is_refused(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG)
    torch.save({'model': model.state_dict(), 'config': CONFIG, 'x': Evil()}, tmp_path/'weights.pth')
    with pytest.raises(CheckpointError, match='pickled code'): load_lm(tmp_path)
    (tmp_path/'weights.pth').write_bytes(b'garbage')
    with pytest.raises(CheckpointError, match='not a readable checkpoint'): load_lm(tmp_path)

def test_bad_vocab_json(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG)
    (tmp_path/'vocab.json').write_text(json.dumps({'itos': ['a']}))
    with pytest.raises(ValueError, match='not a Vocab file'): load_lm(tmp_path)

def test_get_pretrained_lm_trains_only_when_the_spec_changes(tmp_path, monkeypatch):
    vocab = Vocab(text_spec_tok + [f'w{i}' for i in range(12)])
    docs = [torch.arange(8, 18).repeat(20) for _ in range(4)]
    calls = []
    def toy_data(*args):                                          # no corpus download or tokenization: a toy corpus
        calls.append(args); return lm_databunch(docs[:3], docs[3:], bs=4, bptt=10), vocab
    monkeypatch.setattr(lm_module, 'corpus_lm_data', toy_data)
    get = lambda **kw: get_pretrained_lm(tmp_path, config=CONFIG, epochs=1, progress=False, **kw)
    monkeypatch.setattr(lm_module, 'fast_precision', lambda: 'fp32')            # a machine without fast bf16
    m1, v1, saved = get()
    assert len(calls) == 1 and calls[0][0] == ('wiki', 'sotu', 'brown', 'moby') and v1.itos == vocab.itos
    assert saved['spec']['epochs'] == 1 and saved['spec']['corpora'] == ['wiki', 'sotu', 'brown', 'moby'] and len(saved['log']) == 1
    assert 'precision' not in saved['spec']                                      # fp32: the spec of the models cached before bf16
    assert m1[0].input_dp.p == pytest.approx(CONFIG['input_p'] * 0.1)          # the training drop_mult
    m2, _, _ = get(corpora=['wiki', 'sotu', 'brown', 'moby'], precision='fp32')   # the same spec (a list for a tuple): loaded
    assert len(calls) == 1 and torch.equal(m2[0].emb.weight, m1[0].emb.weight)
    _, _, saved = get(drop_mult=0.2)                                             # another spec: trained again, cache replaced
    assert len(calls) == 2 and load_lm_state(tmp_path)[2]['spec']['drop_mult'] == 0.2 == saved['spec']['drop_mult']
    monkeypatch.setattr(lm_module, 'fast_precision', lambda: 'bf16')            # a machine with fast bf16: another model
    _, _, saved = get(drop_mult=0.2)
    assert len(calls) == 3 and saved['spec']['precision'] == 'bf16'

def test_cached_lm_retrains_a_model_saved_without_spec(tmp_path):
    model, vocab = make()
    save_lm(tmp_path, model, vocab, CONFIG)                                      # e.g. from an older version of the lesson
    learn = SimpleNamespace(model=make(seed=1)[0], config=CONFIG, avg_stats=SimpleNamespace(log=[]))   # what `train` returns, untrained
    sd, _, saved = cached_lm(tmp_path, dict(epochs=1), lambda: (learn, vocab))
    assert saved['spec'] == dict(epochs=1) and torch.equal(sd['0.emb.weight'], learn.model[0].emb.weight.detach())
    assert not torch.equal(sd['0.emb.weight'], model[0].emb.weight.detach())

def test_unknown_corpus_is_named():
    with pytest.raises(ValueError, match="unknown corpus 'imdb': use names from"): corpus_lm_data(['wiki', 'imdb'])
