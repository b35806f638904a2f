"""gluon.utils: splitting over contexts, global-norm clipping, checksums and downloads."""
import hashlib
import os

import numpy as np
import pytest

import psnet as mx
from psnet.gluon import utils

from .data._http import serve_directory


def test_split_data_even_and_uneven():
    a = mx.nd.array(np.arange(20).reshape(10, 2))
    parts = utils.split_data(a, 3, even_split=False)  # MXNet 1.9.1: sizes 4, 3, 3
    assert [p.shape[0] for p in parts] == [4, 3, 3]
    assert parts[1].asnumpy()[:, 0].tolist() == [8, 10, 12]
    cols = utils.split_data(a, 2, batch_axis=1)
    assert [c.shape for c in cols] == [(10, 1), (10, 1)] and cols[1].asnumpy()[:2, 0].tolist() == [1, 3]
    with pytest.raises(ValueError, match="cannot be evenly split into 3 slices"):
        utils.split_data(a, 3)


def test_split_and_load_places_slices_on_cpu_devices():
    ctxs = [mx.cpu(0), mx.cpu(1)]
    parts = utils.split_and_load(np.arange(12).reshape(6, 2), ctxs)
    assert [p.context for p in parts] == ctxs
    assert parts[1].asnumpy().tolist() == [[6, 7], [8, 9], [10, 11]]
    single = utils.split_and_load(mx.nd.ones((2, 2)), [mx.cpu(3)])
    assert len(single) == 1 and single[0].context == mx.cpu(3)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0 in the non-finite case
def test_clip_global_norm_scales_in_place():
    x = [mx.nd.array([3.0, 4.0]), mx.nd.array([[12.0]])]
    norm = utils.clip_global_norm(x, 1.0)
    assert norm == pytest.approx(13.0)
    np.testing.assert_allclose(x[0].asnumpy(), np.array([3, 4]) / (13 + 1e-8), rtol=1e-6)
    np.testing.assert_allclose(x[1].asnumpy(), [[12 / 13]], rtol=1e-6)
    y = [mx.nd.array([0.3, 0.4])]
    n = utils.clip_global_norm(y, 1.0, check_isfinite=False)  # below max_norm: unchanged, NDArray result
    assert isinstance(n, mx.nd.NDArray) and n.shape == (1,)
    assert float(n.asscalar()) == pytest.approx(0.5) and y[0].asnumpy().tolist() == pytest.approx([0.3, 0.4])
    with pytest.warns(UserWarning, match="nan or inf"):
        utils.clip_global_norm([mx.nd.array([np.inf, 1.0])], 1.0)


def test_shape_is_known():
    assert utils.shape_is_known((2, 3))
    assert not utils.shape_is_known((2, 0)) and not utils.shape_is_known(()) and not utils.shape_is_known(None)


def test_check_sha1_and_replace_file(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"psnet")
    assert utils.check_sha1(str(f), hashlib.sha1(b"psnet").hexdigest())
    assert not utils.check_sha1(str(f), "0" * 40)
    g = tmp_path / "b.bin"
    g.write_bytes(b"old")
    utils.replace_file(str(f), str(g))
    assert g.read_bytes() == b"psnet" and not f.exists()


def test_download_checks_hash_and_overwrite(tmp_path):
    served = tmp_path / "srv"
    served.mkdir()
    (served / "file.txt").write_bytes(b"hello")
    good = hashlib.sha1(b"hello").hexdigest()
    with serve_directory(served) as url:
        out = utils.download(url + "file.txt", path=str(tmp_path / "dl") + os.sep, sha1_hash=good)
        assert out == str(tmp_path / "dl" / "file.txt") and open(out, "rb").read() == b"hello"
        with open(out, "wb") as f:
            f.write(b"local")
        assert utils.download(url + "file.txt", path=out) == out and open(out, "rb").read() == b"local"
        utils.download(url + "file.txt", path=out, overwrite=True)
        assert open(out, "rb").read() == b"hello"
        with pytest.raises(utils.DownloadError, match="expected " + "1" * 40):
            utils.download(url + "file.txt", path=str(tmp_path / "x.txt"), sha1_hash="1" * 40, retries=0)
        assert not (tmp_path / "x.txt").exists()
        assert [p for p in os.listdir(tmp_path) if p.endswith(".part")] == []


def test_download_offline_error_names_url(tmp_path):
    with pytest.raises(utils.DownloadError, match=r"cannot download http://127.0.0.1:9/f.bin"):
        utils.download("http://127.0.0.1:9/f.bin", path=str(tmp_path / "f.bin"), retries=0)
