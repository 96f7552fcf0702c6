"""Where moto answers differently from AWS, or not at all: patches of moto's models and responses.

One module per AWS service (``cloudformation.py``, ``elbv2.py``, ``ecs.py``, ``codedeploy.py`` ...),
each with an ``apply()`` that patches moto in this process. The local cloud runs moto in-process, so
a patch changes what its server answers. ``apply_all()`` runs every module's ``apply()`` once.
Each patch is listed, with the AWS behaviour it restores, in localcloud/README.md.
"""
import importlib
import pkgutil

_APPLIED = []


def apply_all():
    if _APPLIED:
        return list(_APPLIED)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module("%s.%s" % (__name__, info.name))
        apply = getattr(module, "apply", None)
        if apply is not None:
            apply()
            _APPLIED.append(info.name)
    return list(_APPLIED)
