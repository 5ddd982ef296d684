"Bad input on disk for the data block API: corrupt files, empty folders, mismatched labels, empty splits."
import numpy as np, pytest, torch
from pathlib import Path
from PIL import Image
from torchvision.io import write_png
from course_lib.data import *

# torchvision 0.29 deprecates its image decoders in favour of TorchCodec; the decoders still work
pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities of TorchVision:DeprecationWarning")

def png(path:Path, arr:np.ndarray, mode:str|None=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode).save(path)
    return path

@pytest.fixture
def folder(tmp_path):
    "An Imagenette-like layout: train/<class>/*.png and valid/<class>/*.png, 28×28 gray."
    rng = np.random.default_rng(0)
    for split, n in (('train', 4), ('valid', 2)):
        for c in ('bag', 'shoe'):
            for i in range(n):
                im = torch.from_numpy(rng.integers(0, 256, (1, 28, 28), dtype=np.uint8))
                (tmp_path/split/c).mkdir(parents=True, exist_ok=True)
                write_png(im, str(tmp_path/split/c/f'{i}.png'))
    return tmp_path

def pipeline(path, **kwargs):
    il = ImageList.from_files(path, mode='L', tfms=to_float_tensor, **kwargs)
    return label_by_func(SplitData.split_by_func(il, grandparent_splitter), parent_labeler, proc_y=CategoryProcessor())

def test_good_folder(folder):
    db = pipeline(folder).to_databunch(bs=3)
    xb, yb = next(iter(db.valid_dl))
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == torch.float32 and 0 <= xb.min() and xb.max() <= 1
    assert (db.c_in, db.c_out) == (1, 2) and yb.tolist() == [0, 0, 1, 1]
    assert sum(len(y) for _, y in db.train_dl) == 8

@pytest.mark.parametrize('content', [b'this is not an image', b'\x89PNG\r\n\x1a\n truncated', b''])
def test_corrupt_file_named_at_decode_time(folder, content):
    bad = folder/'train'/'bag'/'zz_bad.png'
    bad.write_bytes(content)
    il = ImageList.from_files(folder)                      # listing only looks at names: no error yet
    assert bad in il.items
    with pytest.raises(ValueError, match='zz_bad.png'): il[il.items.index(bad)]
    assert [fn for fn, _ in il.verify()] == [bad]           # verify finds it (and only it) in one pass
    ll = pipeline(folder)
    with pytest.raises(ValueError, match='zz_bad.png'):
        for _ in ll.to_databunch(bs=100).train_dl: pass   # one batch holds every training file

def test_corrupt_file_named_from_worker_process(folder):
    (folder/'train'/'bag'/'zz_bad.png').write_text('nope')
    dl = pipeline(folder).to_databunch(bs=100, num_workers=1).train_dl
    with pytest.raises(ValueError, match='zz_bad.png'): next(iter(dl))

def test_non_image_files_are_not_listed(folder):
    (folder/'train'/'bag'/'notes.txt').write_text('hello')
    (folder/'train'/'bag'/'.hidden.png').write_text('hidden')
    il = ImageList.from_files(folder)
    assert len(il) == 12 and not il.verify()

def test_uppercase_and_jpeg_extensions(tmp_path):
    png(tmp_path/'a'/'x.PNG', np.zeros((4, 4), np.uint8), 'L')
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path/'a'/'y.jpeg')
    il = ImageList.from_files(tmp_path)
    assert [p.name for p in il.items] == ['x.PNG', 'y.jpeg'] and [t.shape for t in il[:]] == [(3, 4, 4)]*2

def test_modes_gray_rgb_rgba(tmp_path):
    rng = np.random.default_rng(1)
    for m, shape in (('L', (6, 5)), ('RGB', (6, 5, 3)), ('RGBA', (6, 5, 4))):
        png(tmp_path/f'{m}.png', rng.integers(0, 256, shape, dtype=np.uint8), m)
    rgb, gray = ImageList.from_files(tmp_path), ImageList.from_files(tmp_path, mode='L')
    assert [t.shape for t in rgb[:]] == [(3, 6, 5)]*3 and [t.shape for t in gray[:]] == [(1, 6, 5)]*3
    rgba = np.array(Image.open(tmp_path/'RGBA.png'))
    assert torch.equal(rgb[2], torch.from_numpy(rgba[..., :3]).permute(2, 0, 1))   # alpha dropped, colours kept
    with pytest.raises(ValueError, match="'RGBA'"): ImageList.from_files(tmp_path, mode='RGBA')

def test_empty_and_missing_folders(tmp_path):
    (tmp_path/'empty'/'sub').mkdir(parents=True)
    (tmp_path/'empty'/'sub'/'readme.txt').write_text('no images here')
    with pytest.raises(FileNotFoundError, match='no image files'): ImageList.from_files(tmp_path/'empty')
    with pytest.raises(FileNotFoundError, match='missing'): ImageList.from_files(tmp_path/'missing')

def test_layout_that_does_not_match_the_splitter(folder):
    il = ImageList.from_files(folder/'train')
    with pytest.raises(ValueError, match='0 in valid'): SplitData.split_by_func(il, grandparent_splitter)
    with pytest.raises(ValueError, match='0 items in train'):
        SplitData.split_by_func(il, lambda fn: grandparent_splitter(fn, valid_name='train', train_name='nope'))

def test_labels_that_do_not_match_the_items(folder):
    il = ImageList.from_files(folder)
    with pytest.raises(ValueError, match='12 vs 11'): LabeledData(il, ItemList(['bag']*11))

def test_empty_dataset():
    with pytest.raises(ValueError, match='empty dataset'): LabeledData(ItemList([]), ItemList([]))
    with pytest.raises(ValueError, match='empty dataset'): Dataset(torch.zeros(0, 3), torch.zeros(0))

def test_class_only_in_valid(folder):
    png(folder/'valid'/'hat'/'0.png', np.zeros((28, 28), np.uint8), 'L')
    with pytest.raises(ValueError, match="'hat'"): pipeline(folder)

def test_sizes_that_differ_need_a_resize(tmp_path):
    for split in ('train', 'valid'):
        png(tmp_path/split/'c'/'a.png', np.zeros((20, 30), np.uint8), 'L')
        png(tmp_path/split/'c'/'b.png', np.zeros((28, 28), np.uint8), 'L')
    with pytest.raises(RuntimeError, match='ResizeFixed'): next(iter(pipeline(tmp_path).to_databunch(bs=2).train_dl))
    il = ImageList.from_files(tmp_path, mode='L', tfms=[to_float_tensor, ResizeFixed(24)])
    ll = label_by_func(SplitData.split_by_func(il, grandparent_splitter), parent_labeler, proc_y=CategoryProcessor())
    xb, yb = next(iter(ll.to_databunch(bs=2).train_dl))
    assert xb.shape == (2, 1, 24, 24)

def test_random_splitter_is_stable_when_files_are_added(tmp_path):
    names = [tmp_path/f'{i}.png' for i in range(200)]
    before = {n: random_splitter(n, 0.3, seed=7) for n in names}
    after = {n: random_splitter(n, 0.3, seed=7) for n in names + [tmp_path/f'new{i}.png' for i in range(50)]}
    assert all(after[n] == v for n, v in before.items())
