"""amazon.aws's AnsibleAWSModule.warn passes warnings to exit_json, which ansible-core 2.19 deprecates (a
[DEPRECATION WARNING] on every run that warns): our AWS modules warn through _aws.warn only. The Phase 6, 7
and 8 tests assert no DEPRECATION in their playbooks' output; this finds a direct call before any run."""
import os
import re

from helpers import ROOT


def test_modules_warn_through_aws_warn():
    """Every module, AWS or not (git_deployment_repo passes a warn callback), and every module_utils file but
    _aws.py itself: no module.warn, module._module.warn or self.module.warn, called or passed on."""
    offenders = []
    for folder in ("modules", "module_utils"):
        base = os.path.join(ROOT, "plugins", folder)
        for name in sorted(os.listdir(base)):
            if not name.endswith(".py") or (folder, name) == ("module_utils", "_aws.py"):
                continue
            with open(os.path.join(base, name)) as handle:
                text = handle.read()
            if re.search(r"\bmodule\.warn\b", text):
                offenders.append("%s/%s" % (folder, name))
    assert offenders == []
