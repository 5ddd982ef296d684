"The Imagenette path of lesson 13 on a tiny generated folder in Imagenette's layout, and cnn_learner's bad-input errors."
import dataclasses
from functools import partial
import math, pytest, torch
from torchvision.io import write_png, write_jpeg
from course_lib.learner import Recorder
from course_lib.xresnet import xresnet18
from course_lib.vision import *

pytestmark = pytest.mark.filterwarnings('ignore:The image decoding and encoding:DeprecationWarning')   # torchvision 0.29's notice

WNIDS = ['n01440764', 'n02102040', 'n03000684']          # tench, springer, chain saw: three of Imagenette's folders

def make_imagenette(root, n_train=6, n_valid=2, gray_one=True):
    "train/<wnid>/ and val/<wnid>/ with PNG and JPEG files of assorted sizes (and one gray PNG)."
    g = torch.Generator().manual_seed(0)
    for split, n in (('train', n_train), ('val', n_valid)):
        for c, wnid in enumerate(WNIDS):
            d = root/split/wnid; d.mkdir(parents=True)
            for i in range(n):
                h, w = 30 + 7*i, 44 - 3*i
                im = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
                im[c] = 255                                       # one bright channel per class: learnable
                if i % 2: write_jpeg(im, str(d/f'{wnid}_{i}.JPEG'), quality=95)
                else: write_png(im[:1] if (gray_one and i == 0 and c == 0) else im, str(d/f'{wnid}_{i}.png'))
    return root

def test_imagenette_data_layout(tmp_path):
    data = imagenette_data(make_imagenette(tmp_path), size=32, bs=4)
    assert (data.c_in, data.c_out, len(data.train_ds), len(data.valid_ds)) == (3, 3, 18, 6)
    assert data.train_ds.vocab == WNIDS
    xb, yb = next(iter(data.train_dl))
    assert xb.shape == (4, 3, 32, 32) and xb.dtype == torch.float32 and 0 <= xb.min() and xb.max() <= 1
    assert yb.dtype == torch.int64 and set(data.valid_ds.y.items.tolist()) == {0, 1, 2}

def test_imagenette_recipe_trains(tmp_path):
    "The 'imagenette' recipe, with a tiny xresnet and 32-px images, runs its epochs on the folder and lowers the loss."
    torch.manual_seed(0)
    tiny = partial(xresnet18, nfs=(8, 8, 16, 16), stem_szs=(8, 8, 8))
    recipe = dataclasses.replace(recipes['imagenette'], arch=tiny, bs=6, lr=3e-3, mixed_precision=False)
    data = imagenette_data(make_imagenette(tmp_path), size=32, bs=recipe.bs)
    learn = recipe.learner(data, device='cpu', progress=False, cbs=[Recorder()])
    learn.quiet = True
    recipe.fit(learn, 3)
    log = learn.avg_stats.log
    assert len(log) == 3 and all(math.isfinite(r['train_loss']) and math.isfinite(r['valid_loss']) for r in log)
    assert learn.model.c_in == 3 and learn.model[-1].out_features == 3
    assert log[-1]['train_loss'] < log[0]['train_loss']              # it learns (1.28 → 1.08 with this seed)

def test_bad_layouts_and_channels(tmp_path):
    root = make_imagenette(tmp_path, gray_one=False)
    (root/'val').rename(root/'valid')
    with pytest.raises(ValueError, match='0 in valid'): imagenette_data(root, size=32)
    assert len(imagenette_data(root, size=32, valid_name='valid').valid_ds) == 6
    with pytest.raises(FileNotFoundError, match='is not a folder'): imagenette_data(tmp_path/'missing')
    (tmp_path/'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no image files'): imagenette_data(tmp_path/'empty')
    data = imagenette_data(root, size=32, valid_name='valid')
    with pytest.raises(ValueError, match='c_in=1, but the data'): cnn_learner(xresnet18, data, c_in=1)
    learn = cnn_learner(xresnet18, data, norm=fashion_stats, device='cpu', progress=False)
    learn.quiet = True
    with pytest.raises(ValueError, match='1 channel statistics for a batch of shape'): learn.fit(1)
