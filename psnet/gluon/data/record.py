"""``RecordFileDataset``: the records of a RecordIO ``.rec`` file (``mx.recordio``) as a Dataset."""
import os

from ... import recordio
from ...base import MXIndexError
from .dataset import Dataset

__all__ = ["RecordFileDataset"]


class RecordFileDataset(Dataset):
    """The records of a RecordIO file, each sample the raw bytes of one record.

    ``filename`` is the ``.rec`` file; its index is the ``.idx`` file of the same name
    (``foo.rec`` -> ``foo.idx``), whose keys give the sample order.  Works with DataLoader
    workers: a forked worker reopens the file on its first read.
    """

    def __init__(self, filename):
        self.idx_file = os.path.splitext(filename)[0] + ".idx"
        self.filename = filename
        self._record = recordio.MXIndexedRecordIO(self.idx_file, self.filename, "r")

    def __getitem__(self, idx):
        keys = self._record.keys
        if not -len(keys) <= idx < len(keys):
            raise MXIndexError("RecordFileDataset: index %d out of range for %d records in %s"
                               % (idx, len(keys), self.filename))
        return self._record.read_idx(keys[idx])

    def __len__(self):
        return len(self._record.keys)
