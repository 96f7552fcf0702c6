# The two commands of the README: `make demo` and `make test`.
# Everything else here is a step of those two, usable on its own.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
CLOUD_PORT ?= 4566
CLOUD_STATE ?= $(CURDIR)/.localcloud
# The endpoint follows CLOUD_PORT, whatever LOCALCLOUD_ENDPOINT the shell exports: `make cloud` starts the cloud on
# CLOUD_PORT, and the targets that talk to a cloud talk to that one; `cloud` (which lab and demo run first) and
# `release` say which (SHOW_ENDPOINT).
SHELL_LOCALCLOUD_ENDPOINT := $(LOCALCLOUD_ENDPOINT)
override LOCALCLOUD_ENDPOINT := http://127.0.0.1:$(CLOUD_PORT)
export LOCALCLOUD_ENDPOINT
SHOW_ENDPOINT = @echo "local cloud endpoint: $(LOCALCLOUD_ENDPOINT) (CLOUD_PORT=$(CLOUD_PORT))$(if $(filter-out \
  $(LOCALCLOUD_ENDPOINT),$(SHELL_LOCALCLOUD_ENDPOINT)),; the exported LOCALCLOUD_ENDPOINT=$(SHELL_LOCALCLOUD_ENDPOINT) \
  is not used: give CLOUD_PORT=<its port> to use that cloud,)"
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Dummy credentials for the local cloud; a real account uses inventories/aws.
LOCAL_AWS_ENV := AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN=test AWS_DEFAULT_REGION=us-east-1
PLAYBOOK := $(LOCAL_AWS_ENV) LOCALCLOUD_ENDPOINT=$(LOCALCLOUD_ENDPOINT) $(BIN)/ansible-playbook -i inventories/local

.PHONY: docs docsite docs-lint artifact ee changelog-lint release-notes python-check help setup system-deps cloud cloud-down lab images demo release phase9 show test pytest lint sanity molecule bench clean

help:
	@echo "make demo   run Phases 5 to 9 end to end on the local cloud (127.0.0.1:$(CLOUD_PORT))"
	@echo "make demo LABS=3   Phases 5 to 8 on 3 labs in parallel, one local cloud each (make cloud-down stops them)"
	@echo "make test   run every test suite (lint, sanity, pytest, molecule)"
	@echo "make bench  benchmark Phase 5 and the whole lab (site.yml, status.yml) against the lab's AWS CLI steps"
	@echo "make cloud / cloud-down   start / stop the local cloud"
	@echo "make release SERVICE=employee   a new version as latest, its pipeline followed (after Phases 5 to 8)"
	@echo "make phase9   Phase 9: admin pages limited to 127.0.0.1, a new employee released, customer at 3 tasks"
	@echo "make docsite   HTML docs of every module, role and playbook in build/docsite/html"
	@echo "make artifact  the collection tarball in build/ (ansible-galaxy collection build)"
	@echo "make release-notes   CHANGELOG.rst and changelogs/changelog.yaml for galaxy.yml's version"

## Python dependencies, pinned in requirements.txt, in .venv.
setup: python-check $(VENV)/.installed .collections/ansible_collections/cloudlab/microservices

# ansible-core 2.19 needs Python 3.11 or later on the controller. The venv's
# Python once it exists, else the one that would make it ($(PYTHON)).
MIN_PYTHON := 3.11
python-check:
	@py="$(PYTHON)"; if [ -x $(BIN)/python ]; then py=$(BIN)/python; fi; \
	ver="$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)"; \
	if [ -z "$$ver" ] || ! printf '%s\n%s\n' "$(MIN_PYTHON)" "$$ver" | sort -C -V; then \
	  echo "setup: Python $(MIN_PYTHON) or later is needed (ansible-core 2.19); $$py is $${ver:-not found}." >&2; \
	  echo "  Use another one: make setup PYTHON=python3.11" >&2; \
	  echo "  Cloud9 / Amazon Linux 2023: sudo dnf install -y python3.11, then make setup PYTHON=python3.11" >&2; \
	  echo "  Debian / Ubuntu: sudo apt-get install python3.11-venv; macOS: brew install python@3.11" >&2; \
	  if [ -x $(BIN)/python ]; then echo "  (remove $(VENV) first: it was made with $$py)" >&2; fi; \
	  exit 1; \
	fi

# The collection's tools (requirements.txt) and the local cloud, a package of its own (tools/localcloud),
# editable: a change of its code counts at once.
$(VENV)/.installed: requirements.txt tools/localcloud/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e tools/localcloud
	@touch $@

# ansible.cfg points collections_path at .collections: this link makes
# cloudlab.microservices.* resolve to the checkout itself.
.collections/ansible_collections/cloudlab/microservices:
	@mkdir -p .collections/ansible_collections/cloudlab
	@ln -sfn ../../.. $@

## Debian packages: git, a Docker engine, a registry, busybox for the sample images.
system-deps:
	@bash .ci/system-deps.sh

## The local cloud: moto + git-backed CodeCommit + ECR registry side.
cloud: setup
	$(SHOW_ENDPOINT)
	$(BIN)/python -m localcloud start --port $(CLOUD_PORT) --state-dir $(CLOUD_STATE)

# The single cloud, and the labs' clouds of make demo LABS=N when it started some.
cloud-down:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m localcloud stop --state-dir $(CLOUD_STATE); fi
	@if [ -x $(BIN)/python ] && [ -f $(LABS_DIR)/labs.json ]; then $(BIN)/python -m localcloud.labs down --dir $(LABS_DIR); fi

## What an AWS Academy account holds before Phase 5 (local cloud only).
lab: cloud
	$(PLAYBOOK) playbooks/lab_environment.yml

## The sample services' images (Docker when an engine answers, else OCI archives).
images: setup
	$(BIN)/python -m examples.build

## Several labs at once (make demo LABS=3): one local cloud per lab on free ports, each with its own state dir
## under LABS_DIR, and an inventory with one host per lab (python -m localcloud.labs); the playbooks run on all
## of them, one fork per lab. `make cloud-down` stops them.
LABS ?= 1
LABS_DIR ?= $(CURDIR)/build/labs
LABS_PLAYBOOK = $(LOCAL_AWS_ENV) $(BIN)/ansible-playbook -i $(LABS_DIR)/inventory --forks $(LABS)

ifeq ($(filter-out 0 1,$(LABS)),)
# Phases 5 to 8, then Phase 9 (make phase9: a release you watch), then the checklist with Phase 9's tasks.
demo: setup system-deps cloud lab images
	$(PLAYBOOK) playbooks/site.yml $(DEMO_ARGS)
	$(MAKE) --no-print-directory phase9 CLOUD_PORT=$(CLOUD_PORT)
	$(PLAYBOOK) playbooks/status.yml $(LOCAL_PHASE9)
else
# LABS labs in parallel: their starting point, Phases 5 to 8, until every lab's listeners answer, the checklists.
demo: setup system-deps images
	$(BIN)/python -m localcloud.labs up --count $(LABS) --dir $(LABS_DIR) --group-vars inventories/local/group_vars/all.yml
	$(LABS_PLAYBOOK) playbooks/lab_environment.yml
	$(LABS_PLAYBOOK) playbooks/site.yml $(DEMO_ARGS)
	$(BIN)/python -m localcloud.labs wait --dir $(LABS_DIR)
	$(LABS_PLAYBOOK) playbooks/status.yml
endif

## One release on the local cloud (Phases 5 to 8 done): the next version of a
## sample service built as an archive (examples/release_cli.py), then
## playbooks/release.yml pushes it as latest and follows what it starts.
SERVICE ?= employee
# The next version of a sample service, built as an archive; prints the archive's path.
# It imports the collection's lab model through the .collections link, as the tests do (pytest.ini's pythonpath).
next_version = $(LOCAL_AWS_ENV) PYTHONPATH=$(CURDIR)/.collections$(if $(PYTHONPATH),:$(PYTHONPATH)) \
  $(BIN)/python -m examples.release_cli --service $(1) --endpoint $(LOCALCLOUD_ENDPOINT)
release: setup
	$(SHOW_ENDPOINT)
	@archive="$$($(call next_version,$(SERVICE)))" && \
	$(PLAYBOOK) playbooks/release.yml -e release_service=$(SERVICE) -e release_archive="$$archive" $(RELEASE_ARGS)

## Phase 9 on the local cloud (Phases 5 to 8 done): the admin pages let in
## 127.0.0.1 only (the local listeners still answer), the next employee
## version released and followed (its timeline printed), customer at 3 tasks.
LOCAL_PHASE9 := -e '{"phase9_admin_cidrs": ["127.0.0.1/32"]}'
phase9: setup
	$(SHOW_ENDPOINT)
	@archive="$$($(call next_version,employee))" && \
	$(PLAYBOOK) playbooks/phase9.yml $(LOCAL_PHASE9) -e phase9_release_archive="$$archive" $(PHASE9_ARGS)

test: setup system-deps
	bash tests/run-all.sh

pytest: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(BIN)/ansible-lint --profile production

sanity: setup
	bash tests/sanity.sh

molecule: setup
	bash tests/molecule.sh

bench: setup system-deps
	$(BIN)/python -m bench.run

## Role READMEs from meta/argument_specs.yml.
docs: setup
	$(BIN)/python tests/gen_role_docs.py

## The docsite as Ansible's collections make theirs (antsibull-docs, Sphinx).
docsite: setup
	bash docs/docs.sh site

docs-lint: setup
	bash docs/docs.sh lint

## The collection tarball, as Galaxy gets it (galaxy.yml's build_ignore applies).
artifact: setup
	$(BIN)/ansible-galaxy collection build --force --output-path build

## The build context of the execution environment (no container engine needed): the collection's
## tarball under the one name docs/execution-environment.yml installs, then ansible-builder create.
EE_CONTEXT ?= build/ee
EE_COLLECTION := build/ee-collection
ee: setup
	rm -rf $(EE_COLLECTION)
	$(BIN)/ansible-galaxy collection build --output-path $(EE_COLLECTION)
	mv $(EE_COLLECTION)/cloudlab-microservices-*.tar.gz $(EE_COLLECTION)/cloudlab-microservices.tar.gz
	$(BIN)/ansible-builder create -f docs/execution-environment.yml -c $(EE_CONTEXT) --output-filename Containerfile

## Changelog: fragments linted; release notes for galaxy.yml's version.
changelog-lint: setup
	$(BIN)/antsibull-changelog lint

# The version is galaxy.yml's unless VERSION=x.y.z is given.
release-notes: setup changelog-lint
	$(BIN)/antsibull-changelog release $(if $(VERSION),--version $(VERSION),)

clean: cloud-down
	rm -rf .collections .cache build
