"""``gluon.model_zoo.vision``: AlexNet, VGG, ResNet v1/v2, DenseNet, SqueezeNet, MobileNet
v1/v2 and Inception v3, by constructor or by name through :func:`get_model`."""
from .alexnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .mobilenet import *  # noqa: F401,F403
from .inception import *  # noqa: F401,F403
from ....base import MXNetError

_MODELS = {
    "alexnet": alexnet, "inceptionv3": inception_v3,
    "squeezenet1.0": squeezenet1_0, "squeezenet1.1": squeezenet1_1,
    "mobilenet1.0": mobilenet1_0, "mobilenet0.75": mobilenet0_75, "mobilenet0.5": mobilenet0_5,
    "mobilenet0.25": mobilenet0_25, "mobilenetv2_1.0": mobilenet_v2_1_0, "mobilenetv2_0.75": mobilenet_v2_0_75,
    "mobilenetv2_0.5": mobilenet_v2_0_5, "mobilenetv2_0.25": mobilenet_v2_0_25,
}
_MODELS.update({"resnet%d_v%d" % (d, v): globals()["resnet%d_v%d" % (d, v)]
                for v in (1, 2) for d in (18, 34, 50, 101, 152)})
_MODELS.update({"vgg%d%s" % (d, bn): globals()["vgg%d%s" % (d, bn)] for d in (11, 13, 16, 19) for bn in ("", "_bn")})
_MODELS.update({"densenet%d" % d: globals()["densenet%d" % d] for d in (121, 161, 169, 201)})


def get_model(name, **kwargs):
    """The model-zoo network called ``name`` (``'resnet18_v1'``, ``'mobilenet0.25'``...).

    Keyword arguments go to the constructor: ``classes``, ``pretrained``, ``ctx``,
    ``root``, and model-specific ones (``thumbnail`` for ResNet, ``batch_norm`` for VGG).
    """
    try:
        make = _MODELS[name.lower()]
    except KeyError:
        raise MXNetError("model %r is not in the model zoo; available: %s"
                         % (name, ", ".join(sorted(_MODELS)))) from None
    return make(**kwargs)
