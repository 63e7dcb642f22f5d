"""test_readme.py - the command README.md and docs/python.md show to build
and try the module runs as written (less its package install and
build, done), and prints what it says."""
import os
import re
import subprocess
import uuid

import pytest

from conftest import BUILD, TEST_DIR

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


@pytest.mark.parametrize("doc", ["README.md", "docs/python.md"])
def test_try_it_command(doc):
    text = open(os.path.join(ROOT, doc)).read()
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if "PYTHONPATH=build/python" in b]
    assert len(blocks) == 1, "one try-it command in %s" % doc
    cmd = blocks[0].split("make configure all && ", 1)[1]  # the build is done
    cmd = cmd.replace("build/python", os.path.join(os.path.abspath(BUILD), "python"))
    cmd = cmd.replace("/dev/shm/pydemo", os.path.join(TEST_DIR, "pydemo-" + uuid.uuid4().hex[:8]))
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "b'hello'\n"
