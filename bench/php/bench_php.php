<?php
/*
 * PHP binding vs C API, side by side on the same ~1 KB real posts, in one run.
 *
 *   python3 bench/corpora.py --only prose              # build/bench-corpora/prose.txt (reads ../shared)
 *   MODFILTER_LIBRARY=build/capi/libmodfilter.so php bench/php/bench_php.php [--posts N] [--rounds R]
 *
 * What it does:
 *   1. takes the first N posts of 900 to 1200 bytes from build/bench-corpora/prose.txt (one post a
 *      line; real forum text) and writes them to a temporary file;
 *   2. compiles bench/python/c_baseline.c with the system C compiler against the same libmodfilter
 *      and runs it on that file: mf_scan_text per post and mf_scan_batch, each reading back every
 *      category and hit (best of R rounds);
 *   3. times, in this process, Engine::scan() per post and Engine::scanMany() (every field read back
 *      into PHP objects), best of R rounds, and checks that both sides found the same actions and
 *      hits before comparing times;
 *   4. times what a web request pays before its first scan: a fresh engine (new Engine(), the
 *      default packs) against Engine::shared() in a later request of the same worker.
 *
 * Bars (issue 13), on top of the C API's own time per post: scanMany <= 5 us, scan <= 10 us.
 */
declare(strict_types=1);

$root = dirname(__DIR__, 2);
require "$root/bindings/php/autoload.php";

use Modfilter\Engine;

$opts = getopt('', ['posts:', 'rounds:', 'corpus:']);
$n = (int)($opts['posts'] ?? 2000);
$rounds = (int)($opts['rounds'] ?? 5);
$corpus = $opts['corpus'] ?? "$root/build/bench-corpora/prose.txt";
if (!is_file($corpus)) {
    fwrite(STDERR, "bench_php: $corpus not found: run python3 bench/corpora.py --only prose first\n");
    exit(2);
}
$posts = [];
foreach (new SplFileObject($corpus) as $line) {
    $line = rtrim((string)$line, "\n");
    $len = strlen($line);
    if ($len >= 900 && $len <= 1200) {
        $posts[] = $line;
        if (count($posts) === $n) {
            break;
        }
    }
}
$n = count($posts);
$bytes = array_sum(array_map('strlen', $posts));
$tmp = sys_get_temp_dir() . '/mf-bench-php-' . getmypid();
@mkdir($tmp);
file_put_contents("$tmp/posts.txt", implode("\n", $posts) . "\n");

// ---- the C side ---------------------------------------------------------------------------
$lib = Modfilter\Library::path();
$libFile = is_file($lib) ? realpath($lib) : null;
if ($libFile === null) {
    fwrite(STDERR, "bench_php: set MODFILTER_LIBRARY to the library file (c_baseline links the same one)\n");
    exit(2);
}
$cc = getenv('CC') ?: 'cc';
$exe = "$tmp/c_baseline";
$cmd = sprintf('%s -O2 -std=c11 -pthread -I %s %s -o %s %s -Wl,-rpath,%s 2>&1', $cc,
    escapeshellarg("$root/capi/include"), escapeshellarg("$root/bench/python/c_baseline.c"), escapeshellarg($exe),
    escapeshellarg($libFile), escapeshellarg(dirname($libFile)));
exec($cmd, $out, $rc);
if ($rc !== 0) {
    fwrite(STDERR, "bench_php: compiling c_baseline failed:\n" . implode("\n", $out) . "\n");
    exit(1);
}
$batch = Engine::BATCH;
$c = json_decode((string)shell_exec(sprintf('%s %s - %d %d', escapeshellarg($exe), escapeshellarg("$tmp/posts.txt"),
    $rounds, $batch)), true);
array_map('unlink', glob("$tmp/*"));
rmdir($tmp);
if (!is_array($c)) {
    fwrite(STDERR, "bench_php: c_baseline gave no result\n");
    exit(1);
}

// ---- the PHP side -------------------------------------------------------------------------
$engine = new Engine();
$sum = fn (iterable $vs) => array_sum(array_map(fn ($v) => $v->severity() + 16 * count($v->hits),
    is_array($vs) ? $vs : iterator_to_array($vs)));
$bestSingle = $bestBatch = INF;
$sumSingle = $sumBatch = 0;
for ($r = 0; $r < $rounds; $r++) {
    $t0 = hrtime(true);
    $vs = [];
    foreach ($posts as $p) {
        $vs[] = $engine->scan($p);
    }
    $bestSingle = min($bestSingle, (hrtime(true) - $t0) / 1e3 / $n);
    $sumSingle = $sum($vs);
    $t0 = hrtime(true);
    $vs = $engine->scanMany($posts);
    $bestBatch = min($bestBatch, (hrtime(true) - $t0) / 1e3 / $n);
    $sumBatch = $sum($vs);
}
if ($sumSingle !== $c['checksum_single'] || $sumBatch !== $c['checksum_batch']) {
    fwrite(STDERR, "bench_php: PHP and C disagree (checksums PHP $sumSingle/$sumBatch, C {$c['checksum_single']}/{$c['checksum_batch']})\n");
    exit(1);
}

// ---- a request's start: fresh engine vs the worker's shared one -----------------------------
$fresh = INF;
for ($r = 0; $r < 3; $r++) {
    $t0 = hrtime(true);
    $e = new Engine();
    $fresh = min($fresh, (hrtime(true) - $t0) / 1e6);
    unset($e);
}
Engine::shared(); // the worker's first request builds it
// What the end of a request does to PHP values: the binding's statics are gone. With ffi.enable=1 the
// next request declares the C functions again (FFI::cdef); with php.ini's ffi.preload it only looks
// up the preloaded scope, which this CLI run cannot show: it is the first figure minus the cdef.
$reset = function (bool $ffi) {
    (new ReflectionProperty(Engine::class, 'shared'))->setValue(null, []);
    if ($ffi) {
        (new ReflectionProperty(Modfilter\Library::class, 'ffi'))->setValue(null, null);
    }
};
$reused = $reusedNoCdef = INF;
for ($r = 0; $r < 20; $r++) {
    $reset(true);
    $t0 = hrtime(true);
    Engine::shared()->scan($posts[0]);
    $reused = min($reused, (hrtime(true) - $t0) / 1e6);
    $reset(false);
    $t0 = hrtime(true);
    Engine::shared()->scan($posts[0]);
    $reusedNoCdef = min($reusedNoCdef, (hrtime(true) - $t0) / 1e6);
}

$overSingle = $bestSingle - $c['single_us'];
$overBatch = $bestBatch - $c['batch_us'];
printf("modfilter %s, PHP %s, %d posts of 900-1200 B (%.0f B mean) from %s, best of %d rounds, batches of %d\n",
    Modfilter\Library::version(), PHP_VERSION, $n, $bytes / $n, basename($corpus), $rounds, $batch);
printf("%-34s %10s %10s %14s %8s\n", '', 'C us/post', 'PHP us/post', 'PHP on top', 'bar');
printf("%-34s %10.2f %10.2f %11.2f us %5s us  %s\n", 'single scan (scan / mf_scan_text)', $c['single_us'], $bestSingle,
    $overSingle, '10', $overSingle <= 10 ? 'met' : 'NOT met');
printf("%-34s %10.2f %10.2f %11.2f us %5s us  %s\n", 'batch (scanMany / mf_scan_batch)', $c['batch_us'], $bestBatch,
    $overBatch, '5', $overBatch <= 5 ? 'met' : 'NOT met');
printf("a request's first scan: with a fresh engine (new Engine(), default packs) %.1f ms to build it;\n"
    . "  with Engine::shared() in a later request of the worker %.3f ms in all (FFI::cdef included, ffi.enable=1),\n"
    . "  %.3f ms without the cdef (ffi.preload)\n", $fresh, $reused, $reusedNoCdef);
echo json_encode(['c' => $c, 'php_single_us' => round($bestSingle, 3), 'php_batch_us' => round($bestBatch, 3),
    'over_single_us' => round($overSingle, 3), 'over_batch_us' => round($overBatch, 3),
    'fresh_engine_ms' => round($fresh, 2), 'shared_first_scan_ms' => round($reused, 4),
    'shared_first_scan_preloaded_ms' => round($reusedNoCdef, 4)]), "\n";
