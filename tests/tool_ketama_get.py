"""tool_ketama_get.py - tests/test_cluster.sh's Python client: pylibmc
(python3-pylibmc, over libmemcached) on a list of servers with the
"ketama_weighted" behaviour, the setting that makes pylibmc place keys as
twemproxy's "distribution: ketama, hash: md5" and libmemcached's
KETAMA_WEIGHTED do.  Run by /usr/bin/python3 plainly or under LD_PRELOAD
of libshmcached-memcached.so.

    /usr/bin/python3 tests/tool_ketama_get.py ADDR[,ADDR...] < "get KEY" lines

ADDR is host:port.  Answers each line as tests/tool_mcclient.c does:
"KEY value VALUE", "KEY notfound" or "KEY error MESSAGE".
Exit status: 0; 2 bad usage or a line that is not "get KEY".
"""
import sys

import pylibmc


def main():
    if len(sys.argv) != 2 or not sys.argv[1]:
        print('usage: tool_ketama_get.py ADDR[,ADDR...] < "get KEY" lines', file=sys.stderr)
        return 2
    mc = pylibmc.Client(sys.argv[1].split(","), behaviors={"ketama_weighted": True})
    for line in sys.stdin:
        f = line.split()
        if len(f) != 2 or f[0] != "get":
            print("tool_ketama_get.py: not a command: %s" % line.rstrip(), file=sys.stderr)
            return 2
        try:
            v = mc.get(f[1])
        except pylibmc.Error as e:
            print("%s error %s" % (f[1], e))
            continue
        if v is None:
            print("%s notfound" % f[1])
        else:
            print("%s value %s" % (f[1], v.decode() if isinstance(v, bytes) else v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
