"""course_lib.ulmfit beyond the notebook: padding invariance over seeds and bptt values, predict's order, empty and
over-long texts, bad input, match_embeds on saved models, and gradual unfreezing freezing the right groups. Seconds, no network."""
import math, random
import pytest, torch, torch.nn.functional as F
from course_lib.core import set_seed
from course_lib.learner import CheckpointError, Callback
from course_lib.text import Vocab, Tokenizer, text_spec_tok, pad_collate, clas_databunch
from course_lib.awd_lstm import get_language_model
from course_lib.lm import awd_lstm_small_config, save_lm, load_lm_state
from course_lib.ulmfit import *
from course_lib.transfer import freeze_to, disc_lrs

pytestmark = pytest.mark.usefixtures('one_thread')

SMALL = dict(awd_lstm_clas_config, emb_sz=8, n_hid=10)
VOCAB = Vocab(text_spec_tok + 'the film is good bad not boring fun a story'.split())

@pytest.mark.parametrize('seed,bptt', [(0, 1), (1, 3), (2, 5), (3, 70)])
@pytest.mark.parametrize('pad_first', [True, False])
def test_padding_never_changes_a_prediction(seed, bptt, pad_first):
    set_seed(seed)
    clas = get_text_classifier(40, 3, SMALL, bptt=bptt).eval()
    texts = [torch.randint(2, 40, (n,)) for n in torch.randint(1, 17, (6,)).tolist()]
    with torch.no_grad():
        alone = torch.cat([clas(t[None]) for t in texts])
        xb, _ = pad_collate([(t, 0) for t in texts], pad_first=pad_first)
        torch.testing.assert_close(clas(xb), alone, atol=1e-5, rtol=1e-5)

def test_predict_keeps_the_callers_order():
    set_seed(0)
    clas = get_text_classifier(len(VOCAB), 2, SMALL, bptt=2)
    docs = ['the film is good', 'not fun', 'a story', 'bad bad film', 'boring', 'the story is not good , not fun at all']
    base_labels, base = predict(clas, docs, VOCAB, bs=2)
    for s in range(3):
        order = list(range(len(docs))); random.Random(s).shuffle(order)
        labels, probs = predict(clas, [docs[i] for i in order], VOCAB, bs=4)
        torch.testing.assert_close(probs, base[order]); assert torch.equal(labels, base_labels[order])

def test_empty_and_over_long_texts():
    set_seed(0)
    clas = get_text_classifier(len(VOCAB), 2, SMALL, bptt=3).eval()
    with torch.no_grad():
        torch.testing.assert_close(predict(clas, [''], VOCAB)[1], F.softmax(clas(torch.tensor([[2, 3]])), -1))   # xxbos xxeos
        text = 'not fun . ' * 30 + 'the film is good'
        ids = VOCAB.numericalize(Tokenizer(n_workers=1).tokenize_one(text))
        torch.testing.assert_close(predict(clas, [text], VOCAB, max_len=4)[1], F.softmax(clas(torch.tensor([ids[-4:]])), -1))
    with pytest.raises(ValueError, match='max_len must be >= 1'): predict(clas, ['a'], VOCAB, max_len=0)
    with pytest.raises(TypeError, match='single string'): predict(clas, 'the film', VOCAB)

def test_match_embeds_from_a_saved_lm(tmp_path):
    set_seed(0)
    old = Vocab(text_spec_tok + ['a', 'b', 'c'])
    lm = get_language_model(len(old), **dict(awd_lstm_small_config, emb_sz=6, n_hid=7))
    save_lm(tmp_path, lm, old, dict(awd_lstm_small_config, emb_sz=6, n_hid=7))
    sd, v, _ = load_lm_state(tmp_path)
    new = text_spec_tok + ['c', 'new', 'a', 'other']
    w = match_embeds(sd, v.itos, new)
    emb = sd['0.emb.weight']
    torch.testing.assert_close(w['0.emb.weight'][8:], torch.stack([emb[10], emb.mean(0), emb[8], emb.mean(0)]))
    torch.testing.assert_close(w['0.emb.weight'][:8], emb[:8])          # special tokens keep their rows
    clas = get_text_classifier(len(new), 2, dict(awd_lstm_clas_config, emb_sz=6, n_hid=7))
    load_encoder(clas, w)
    torch.testing.assert_close(clas[0].module.emb.weight, w['0.emb.weight'])
    with pytest.raises(CheckpointError, match='shape mismatches'): load_encoder(clas, sd)   # forgot match_embeds

def test_freeze_to_and_class_splitter():
    clas = get_text_classifier(30, 2, SMALL)
    from course_lib.learner import Learner
    learn = Learner(clas, None, splitter=class_splitter)
    groups = class_splitter(clas)
    for n, want in [(-1, [False, False, False, True]), (-2, [False, False, True, True]), (0, [True]*4), (1, [False, True, True, True])]:
        freeze_to(learn, n)
        assert [all(p.requires_grad for p in g) and any(p.requires_grad for p in g) or not any(p.requires_grad for p in g) for g in groups] == [True]*4
        assert [any(p.requires_grad for p in g) for g in groups] == want

def test_bad_head_and_stage_arguments():
    with pytest.raises(ValueError, match='one dropout per linear layer'): PoolingLinearClassifier([24, 10, 2], [0.1])
    clas = get_text_classifier(30, 2, SMALL)
    from course_lib.learner import Learner
    learn = Learner(clas, None, splitter=class_splitter)
    with pytest.raises(ValueError, match='one lr, one number of epochs'): gradual_unfreeze(learn, lrs=(1e-2, 1e-3), epochs=(1,), freeze=(-1, 0))

def test_stlr_and_disc_lrs():
    f = sched_stlr(1.0, cut_frac=0.25, ratio=4).sched_funcs[0]
    assert f(0.) == pytest.approx(0.25) and f(0.25) == pytest.approx(1.) and f(1.) == pytest.approx(0.25)
    assert f(0.125) == pytest.approx(0.625) and f(0.625) == pytest.approx(0.625)
    assert disc_lrs(1.0, 4) == pytest.approx([1/2.6**3, 1/2.6**2, 1/2.6, 1.])
    assert disc_lrs(1.0, 4, (1, 2.6, 1)) == pytest.approx([1/2.6, 1/2.6, 1., 1.])
    assert disc_lrs(2.0, 3, [2, 4]) == pytest.approx([0.25, 0.5, 2.])
    with pytest.raises(ValueError, match='3 groups need one factor or 2 factors'): disc_lrs(1.0, 3, (2, 2, 2))
    m = sched_stlr_mom((0.9, 0.6), cut_frac=0.25).sched_funcs[0]
    assert m(0.) == pytest.approx(0.9) and m(0.25) == pytest.approx(0.6) and m(1.) == pytest.approx(0.9) and m(0.625) == pytest.approx(0.75)

def test_train_classifier_recipes():
    with pytest.raises(ValueError, match="recipe must be 'ulmfit' or 'scratch', got 'fast'"): train_classifier(None, 10, 2, recipe='fast')
    assert stage_epochs(8453) == (1, 1, 3) and stage_epochs(100) == (15, 15, 45) and stage_epochs(100, min_steps=1) == (1, 1, 3)

@pytest.mark.parametrize('recipe', ['ulmfit', 'scratch'])
def test_train_classifier_is_silent_and_ends_unfrozen(recipe, capsys):
    "The runs of an experiment print nothing (progress=False), train every group by the end, and change the weights."
    from course_lib.text import clas_databunch
    set_seed(0)
    docs = [torch.randint(8, len(VOCAB), (int(n),)).tolist() for n in torch.randint(3, 12, (24,))]
    labels = [int(VOCAB.stoi['good'] in d) for d in docs]
    data = clas_databunch(docs[:16], labels[:16], docs[16:], labels[16:], bs=8)
    lm = get_language_model(len(VOCAB), **dict(awd_lstm_small_config, emb_sz=8, n_hid=10, n_layers=2))
    wgts = {k: v.clone() for k, v in lm.state_dict().items()}
    learn = train_classifier(data, len(VOCAB), 2, wgts, dict(emb_sz=8, n_hid=10, n_layers=2), recipe, epochs=(1, 1, 1), validate=True)
    assert capsys.readouterr().out == ''
    assert all(p.requires_grad for p in learn.model.parameters())
    assert not torch.equal(learn.model[0].module.emb.weight, wgts['0.emb.weight'])      # the embedding trained too

class BatchSizes(Callback):
    def begin_fit(self): self.sizes = []
    def after_pred(self):
        if self.in_train: self.sizes.append(len(self.yb))

@pytest.mark.parametrize('n, last', [(65, 1), (64, 64), (129, 1)])
def test_last_training_batch_of_any_size(n, last):
    "A training set one document over a multiple of the batch size used to crash the head's BatchNorm; it trains now."
    set_seed(0)
    docs = [torch.randint(8, 40, (int(torch.randint(5, 30, (1,))),)).tolist() for _ in range(n)]
    labels = [i % 2 for i in range(n)]
    data = clas_databunch(docs, labels, docs[:10], labels[:10], bs=64)
    sizes = BatchSizes()
    learn = train_classifier(data, 40, 2, config=dict(emb_sz=8, n_hid=8, n_layers=1), recipe='scratch', epochs=(1, 0, 0))
    learn.fit(1, cbs=sizes)                                       # one more epoch, watching the batch sizes
    assert sizes.sizes[-1] == last and sum(sizes.sizes) == n
    assert all(math.isfinite(p.abs().sum().item()) for p in learn.model.parameters())
