"""conftest.py - fixtures of the Python package's tests (tests/python).

Owns: a fresh segment per test (seg), a Client on it (client), and
build/shmcached serving a segment over a UNIX socket (server), for the
tests that mix pymemcache through the server with the library.  CTest
runs this directory with PYTHONPATH=build/python and SHMC_BUILD=build
(CMakeLists.txt, test_python).
"""
import os
import socket
import subprocess
import time
import uuid

import pytest

import shmcached

BUILD = os.environ.get("SHMC_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
TEST_DIR = os.environ.get("SHMC_TEST_DIR", "/dev/shm")


def new_path(tag):
    return os.path.join(TEST_DIR, "pytest-%s-%d-%s" % (tag, os.getpid(), uuid.uuid4().hex[:8]))


@pytest.fixture
def seg():
    """The path of a new 16 MiB segment, destroyed after the test."""
    path = new_path("seg")
    shmcached.create(path, mem_bytes=16 << 20).close()
    yield path
    try:
        shmcached.destroy(path)
    except shmcached.ShmcachedError:
        pass


@pytest.fixture
def client(seg):
    c = shmcached.Client(seg)
    yield c
    c.close()


def _answers(sock_path):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(0.5)
        s.connect(sock_path)
        s.sendall(b"version\r\n")
        ok = s.recv(64).startswith(b"VERSION")
        s.close()
        return ok
    except OSError:
        return False


@pytest.fixture
def server():
    """build/shmcached over a UNIX socket: (socket path, segment path)."""
    binary = os.path.join(BUILD, "shmcached")
    if not os.access(binary, os.X_OK):
        pytest.fail("%s is not built" % binary)
    sock, segpath = new_path("sock"), new_path("srvseg")
    args = [binary, "-s", sock, "-e", segpath, "-m", "16"]
    if os.getuid() == 0:
        args += ["-u", "root"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(200):
        if _answers(sock):
            break
        if proc.poll() is not None:
            pytest.fail("build/shmcached exited: %s" % proc.stderr.read().decode())
        time.sleep(0.025)
    else:
        proc.kill()
        pytest.fail("build/shmcached did not answer on %s" % sock)
    yield sock, segpath
    proc.terminate()
    proc.wait(10)
    for p in (sock, segpath, segpath + ".meta"):  # .meta: written by a clean stop
        if os.path.exists(p):
            os.unlink(p)


def pytest_configure(config):
    """pymemcache's tests carry these marks (test_pymemcache_suite.py)."""
    for mark in ("unit", "integration", "benchmark"):
        config.addinivalue_line("markers", "%s: pymemcache's test category" % mark)
