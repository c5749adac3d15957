"""The one C extension; everything else is declared in pyproject.toml.

streams._speedups holds the hot loops of analyze(): jieba's dictionary walk and finalseg's HMM
(used by streams.segment) and the repost sketch's trigram features (streams.dedup). It is
optional: a machine without a C compiler installs without it and those modules run their Python
twins, with the same results, more slowly (docs/benchmarks.md, "Analysis budget, session 22").
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("streams._speedups", ["streams/_speedups.c"], optional=True)])
