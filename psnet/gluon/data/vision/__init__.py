"""``mx.gluon.data.vision``: vision datasets and (from the vision pipeline) transforms."""
from .datasets import MNIST, FashionMNIST, CIFAR10, CIFAR100, ImageFolderDataset
from .record import ImageRecordDataset

__all__ = ["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "ImageFolderDataset", "ImageRecordDataset"]
from . import transforms  # noqa: E402,F401  (the vision pipeline's transforms)
