"""``ImageRecordDataset``: (image, label) samples from a RecordIO file of packed images."""
from .... import recordio
from ....image import imdecode
from ..record import RecordFileDataset

__all__ = ["ImageRecordDataset"]


class ImageRecordDataset(RecordFileDataset):
    """Images packed in a RecordIO file (``mx.recordio.pack_img`` or MXNet's ``im2rec``).

    A sample is ``(image, label)``: the decoded image as a uint8 NDArray ``(H, W, 3)`` in
    RGB order for ``flag=1`` or ``(H, W, 1)`` greyscale for ``flag=0`` (as MXNet's
    ``mx.image.imdecode``; decoded with Pillow, an optional dependency), and the record
    header's label (a float, or a float32 NumPy array for multi-value labels).
    ``transform(image, label)``, when given, is applied to every sample.
    """

    def __init__(self, filename, flag=1, transform=None):
        super().__init__(filename)
        self._flag = flag
        self._transform = transform

    def __getitem__(self, idx):
        header, img = recordio.unpack(super().__getitem__(idx))
        img = imdecode(img, self._flag)
        if self._transform is not None:
            return self._transform(img, header.label)
        return img, header.label
