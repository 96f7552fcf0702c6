"""`make bench` (python -m bench.run): Phase 5 and the whole lab against the lab's AWS CLI steps, on a local cloud."""
