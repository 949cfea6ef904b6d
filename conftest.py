"""Test settings for the whole workspace: no network, quiet threads."""

import os

# The Hugging Face Hub is unreachable in CI; a Hub call would retry for ~25 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Tiny models spend more time syncing threads than computing. The torchrun
# tests also start two processes on a 2-core machine, so one thread each
# keeps them from oversubscribing the cores. Subprocesses inherit this.
os.environ.setdefault("OMP_NUM_THREADS", "1")
