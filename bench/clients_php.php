<?php
// clients_php.php - the PHP row of bench/clients.sh: gets through PHP's
// Memcached class (Debian php-memcached, over libmemcached) to one server,
// run by php-cli plainly or under LD_PRELOAD of libshmcached-memcached.so;
// the script is the same either way.
//
//   php bench/clients_php.php ADDR KEYS SECONDS LATENCY_GETS
//
// ADDR is host:port or a UNIX socket's path.  Stores KEYS keys of 100
// bytes, reads each back once (a wrong value: exit status 1), then:
//   throughput  gets round the keys for SECONDS, untimed one by one;
//   latency     LATENCY_GETS gets, each timed with hrtime(); the p50 less
//               the median cost of an empty hrtime() pair (timer_ns).
// Prints one line:
//   ops_per_s N p50_ns N timer_ns N gets N misses N
// Exit status: 0, 1 a store failed, a value read back wrong or a get of
// the throughput loop missed, 2 bad usage.

function usage(): never
{
    fwrite(STDERR, "usage: php clients_php.php ADDR KEYS SECONDS LATENCY_GETS\n");
    exit(2);
}

function connect(string $addr): Memcached
{
    $m = new Memcached();
    if ($addr[0] === '/') {
        $m->addServer($addr, 0);
    } else {
        $colon = strrpos($addr, ':');
        if ($colon === false)
            usage();
        $m->addServer(substr($addr, 0, $colon), (int)substr($addr, $colon + 1));
    }
    return $m;
}

// the keys stored and checked; exits 1 on a failed store or a wrong value
function load(Memcached $m, int $n, string $value): array
{
    $keys = [];
    for ($i = 0; $i < $n; $i++) {
        $k = "php-bench-$i";
        if (!$m->set($k, $value)) {
            fwrite(STDERR, "clients_php: set $k: " . $m->getResultMessage() . "\n");
            exit(1);
        }
        $keys[] = $k;
    }
    foreach ($keys as $k) {
        if ($m->get($k) !== $value) {
            fwrite(STDERR, "clients_php: get $k: not the value stored (" . $m->getResultMessage() . ")\n");
            exit(1);
        }
    }
    return $keys;
}

// [gets per second, gets, misses] of SECONDS of back-to-back gets
function throughput(Memcached $m, array $keys, float $secs): array
{
    $n = 0;
    $misses = 0;
    $nkeys = count($keys);
    $t0 = hrtime(true);
    $end = $t0 + (int)($secs * 1e9);
    do {
        for ($j = 0; $j < 1000; $j++) {
            if ($m->get($keys[$n % $nkeys]) === false)
                $misses++;
            $n++;
        }
        $t = hrtime(true);
    } while ($t < $end);
    return [$n / (($t - $t0) / 1e9), $n, $misses];
}

function median(array $v): int
{
    sort($v);
    return $v[intdiv(count($v), 2)];
}

// [p50 of a timed get less the timer's cost, the timer's cost], in ns
function latency(Memcached $m, array $keys, int $gets): array
{
    $empty = [];
    for ($i = 0; $i < 10000; $i++) {
        $a = hrtime(true);
        $empty[] = hrtime(true) - $a;
    }
    $timer = median($empty);
    $lat = [];
    $nkeys = count($keys);
    for ($i = 0; $i < $gets; $i++) {
        $k = $keys[$i % $nkeys];
        $a = hrtime(true);
        $m->get($k);
        $lat[] = hrtime(true) - $a;
    }
    return [max(0, median($lat) - $timer), $timer];
}

if ($argc !== 5 || (int)$argv[2] < 1 || (float)$argv[3] <= 0 || (int)$argv[4] < 1)
    usage();
$m = connect($argv[1]);
$keys = load($m, (int)$argv[2], str_repeat('v', 100));
[$ops, $n, $misses] = throughput($m, $keys, (float)$argv[3]);
[$p50, $timer] = latency($m, $keys, (int)$argv[4]);
printf("ops_per_s %d p50_ns %d timer_ns %d gets %d misses %d\n", $ops, $p50, $timer, $n, $misses);
exit($misses ? 1 : 0);
