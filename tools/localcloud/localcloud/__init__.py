"""The local cloud: moto's server plus what moto lacks, on 127.0.0.1.

Not part of the Ansible collection (galaxy.yml's build_ignore leaves it out):
it is the project's embedded default endpoint for `make demo` and the tests.
"""
