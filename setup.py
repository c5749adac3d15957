"""The one C extension; everything else is declared in pyproject.toml.

streams._segwalk is jieba's dictionary walk in C (the segmentation's hot loop). It is optional: a
machine without a C compiler installs without it and streams.segment walks in Python, with the
same tokens, more slowly.
"""
from setuptools import Extension, setup

setup(ext_modules=[Extension("streams._segwalk", ["streams/_segwalk.c"], optional=True)])
