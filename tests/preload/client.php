<?php
// client.php - PHP's Memcached class through every call the preload
// serves (tests/test_preload.sh runs it with and without the preload and
// compares the outputs).  Usage: php client.php PORT text|binary
// Each line: what was called, what it returned, getResultCode() and
// getResultMessage().  CAS values are compared, never printed.
$port = (int)$argv[1];
$binary = $argv[2] === 'binary';
$m = new Memcached();
$m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
$m->setOption(Memcached::OPT_COMPRESSION, false); // append/prepend refuse compression
$m->addServer('127.0.0.1', $port);

function r($m, $what, $v) {
    echo $what, ': ', var_export($v, true), ' | ', $m->getResultCode(), ' ',
         $m->getResultMessage(), "\n";
}

r($m, 'flush', $m->flush());
r($m, 'get missing', $m->get('missing'));
r($m, 'set a', $m->set('a', 'alpha'));
r($m, 'get a', $m->get('a'));
r($m, 'set int', $m->set('i', 42));
r($m, 'get int', $m->get('i'));
r($m, 'set array', $m->set('arr', ['x' => 1, 'y' => [2, 3]]));
r($m, 'get array', $m->get('arr'));
r($m, 'add a', $m->add('a', 'x'));
r($m, 'add b', $m->add('b', 'beta'));
r($m, 'replace c', $m->replace('c', 'x'));
r($m, 'replace b', $m->replace('b', 'BETA'));
r($m, 'append a', $m->append('a', '+end'));
r($m, 'prepend a', $m->prepend('a', 'start+'));
r($m, 'append missing', $m->append('zz', 'x'));
r($m, 'prepend missing', $m->prepend('zz', 'x'));
r($m, 'get a', $m->get('a'));
$ext = $m->get('a', null, Memcached::GET_EXTENDED);
r($m, 'get extended value', $ext['value']);
r($m, 'get extended has cas', $ext['cas'] > 0);
$multi = $m->getMulti(['a', 'b', 'nothere'], Memcached::GET_EXTENDED);
r($m, 'getMulti extended keys', array_keys($multi));
$cas = $multi['a']['cas'];
r($m, 'getMulti cas is get cas', $cas == $ext['cas']);
r($m, 'cas a', $m->cas($cas, 'a', 'casd'));
r($m, 'cas a stale', $m->cas($cas, 'a', 'nope'));
r($m, 'cas missing', $m->cas($cas, 'nothere', 'nope'));
r($m, 'get a', $m->get('a'));
r($m, 'delete b', $m->delete('b'));
r($m, 'delete b again', $m->delete('b'));
r($m, 'get b', $m->get('b'));
r($m, 'set n', $m->set('n', 10));
r($m, 'increment n', $m->increment('n', 5));
r($m, 'decrement n', $m->decrement('n', 20));
r($m, 'increment missing', $m->increment('nx', 1));
r($m, 'increment non-numeric', @$m->increment('a', 1));
r($m, 'get n', $m->get('n'));
if ($binary) {
    r($m, 'increment with initial', $m->increment('ni', 2, 40));
    r($m, 'increment with initial again', $m->increment('ni', 2, 40));
    r($m, 'decrement with initial', $m->decrement('nd', 2, 9));
    r($m, 'increment by key with initial', $m->incrementByKey('grp', 'nk', 3, 7));
}
r($m, 'touch a', $m->touch('a', 100));
r($m, 'touch missing', $m->touch('tx', 100));
r($m, 'setMulti', $m->setMulti(['m1' => 'one', 'm2' => 2, 'm3' => [1, 2]]));
$got = $m->getMulti(['m1', 'm2', 'm3', 'nothere']);
ksort($got);
r($m, 'getMulti', $got);
r($m, 'setByKey', $m->setByKey('grp', 'gk', 'grouped'));
r($m, 'getByKey', $m->getByKey('grp', 'gk'));
r($m, 'deleteByKey', $m->deleteByKey('grp', 'gk'));
r($m, 'getByKey deleted', $m->getByKey('grp', 'gk'));
r($m, 'deleteMulti', $m->deleteMulti(['m1', 'm2', 'nothere']));
r($m, 'get bad key', $m->get(str_repeat('k', 300)));
r($m, 'set empty key', $m->set('', 'x'));
r($m, 'flush', $m->flush());
r($m, 'get a after flush', $m->get('a'));
