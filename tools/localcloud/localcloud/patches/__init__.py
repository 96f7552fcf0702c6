"""Where moto answers differently from AWS, or not at all: patches of moto's models and responses.

Two kinds, one module per AWS service each, every module with an ``apply()`` that patches moto in this
process (the local cloud runs moto in-process, so a patch changes what its server answers):

- ``fixes/``: where moto answers otherwise than AWS, or lacks an operation the lab calls
  (``cloudformation``, ``codedeploy``, ``codepipeline``, ``ecs``, ``elbv2``, ``iam``);
- ``features/``: what the local cloud adds on top of moto's models (``pipeline_runs``: the read side of
  the release loop that ``localcloud/release.py`` runs).

``apply_all()`` runs every module's ``apply()`` once, the fixes first. Each patch is listed, with the AWS
behaviour it restores, in the package's README.md.
"""
import importlib
import pkgutil

KINDS = ("fixes", "features")
_APPLIED = []


def apply_all():
    """Apply every patch once; the names applied, as ``<kind>.<module>``."""
    if _APPLIED:
        return list(_APPLIED)
    for kind in KINDS:
        package = importlib.import_module("%s.%s" % (__name__, kind))
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            module = importlib.import_module("%s.%s" % (package.__name__, info.name))
            apply = getattr(module, "apply", None)
            if apply is not None:
                apply()
                _APPLIED.append("%s.%s" % (kind, info.name))
    return list(_APPLIED)
