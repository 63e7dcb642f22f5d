<?php
// tool_ketama_get.php - tests/test_cluster.sh's PHP client: PHP's Memcached
// class (php-memcached, over libmemcached) on a list of servers with
// OPT_LIBKETAMA_COMPATIBLE, the setting that makes php-memcached place keys
// as twemproxy's "distribution: ketama, hash: md5" and libmemcached's
// KETAMA_WEIGHTED do.  Run by php-cli plainly or under LD_PRELOAD of
// libshmcached-memcached.so.
//
//   php tests/tool_ketama_get.php ADDR[,ADDR...] < "get KEY" lines
//
// ADDR is host:port.  Answers each line as tests/tool_mcclient.c does:
// "KEY value VALUE", "KEY notfound" or "KEY error MESSAGE".
// Exit status: 0; 2 bad usage or a line that is not "get KEY".

if ($argc !== 2 || $argv[1] === '') {
    fwrite(STDERR, "usage: php tool_ketama_get.php ADDR[,ADDR...] < \"get KEY\" lines\n");
    exit(2);
}
$m = new Memcached();
$m->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
foreach (explode(',', $argv[1]) as $addr) {
    $colon = strrpos($addr, ':');
    if ($colon === false) {
        fwrite(STDERR, "tool_ketama_get.php: $addr: not host:port\n");
        exit(2);
    }
    $m->addServer(substr($addr, 0, $colon), (int)substr($addr, $colon + 1));
}
while (($line = fgets(STDIN)) !== false) {
    $f = preg_split('/\s+/', trim($line));
    if (count($f) !== 2 || $f[0] !== 'get') {
        fwrite(STDERR, "tool_ketama_get.php: not a command: $line");
        exit(2);
    }
    $v = $m->get($f[1]);
    if ($m->getResultCode() === Memcached::RES_SUCCESS)
        echo "$f[1] value $v\n";
    elseif ($m->getResultCode() === Memcached::RES_NOTFOUND)
        echo "$f[1] notfound\n";
    else
        echo "$f[1] error " . $m->getResultMessage() . "\n";
}
