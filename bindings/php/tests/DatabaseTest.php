<?php

declare(strict_types=1);

use Modfilter\BadDatabaseException;
use Modfilter\DatabaseMismatchException;
use Modfilter\Engine;
use Modfilter\IoException;
use Modfilter\Verdict;
use PHPUnit\Framework\TestCase;

/** Compiled databases (`modfilter compile` output): Engine::fromDatabase() and shared() with an .mfdb. */
final class DatabaseTest extends TestCase
{
    private static ?string $dir = null;

    /** The CLI of this build: MODFILTER_CLI, else beside the library under test, else this checkout's build. */
    private static function cli(): ?string
    {
        $cands = [];
        if (($c = getenv('MODFILTER_CLI')) !== false && $c !== '') {
            $cands[] = $c;
        }
        if (($lib = getenv('MODFILTER_LIBRARY')) !== false && $lib !== '') {
            $cands[] = dirname($lib, 2) . '/bindings/cli/modfilter'; // build/capi/libmodfilter.so
        }
        $cands[] = dirname(__DIR__, 3) . '/build/bindings/cli/modfilter';
        foreach ($cands as $c) {
            if (is_file($c) && is_executable($c)) {
                return $c;
            }
        }
        return null;
    }

    private static function dir(): string
    {
        if (self::$dir === null) {
            self::$dir = sys_get_temp_dir() . '/mf-php-db-' . getmypid();
            @mkdir(self::$dir);
        }
        return self::$dir;
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$dir !== null) {
            foreach (glob(self::$dir . '/*') ?: [] as $f) {
                @unlink($f);
            }
            @rmdir(self::$dir);
            self::$dir = null;
        }
    }

    /** Compiles $rules (a pack file or directory) with the CLI into $name in the test's temp dir. */
    private function compile(string $rules, string $name): string
    {
        $cli = self::cli();
        if ($cli === null) {
            $this->markTestSkipped('the modfilter CLI was not found (set MODFILTER_CLI)');
        }
        $out = self::dir() . "/$name";
        $p = proc_open([$cli, 'compile', '--rules', $rules, '-o', $out], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $msg = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        $this->assertSame(0, proc_close($p), $msg);
        clearstatcache();
        return $out;
    }

    private static function pack(): string
    {
        return __DIR__ . '/fixtures/good';
    }

    public function testDatabaseWrittenByTheCliScansLikeThePack(): void
    {
        $db = Engine::fromDatabase($this->compile(self::pack(), 'good.mfdb'));
        $rules = Engine::fromRules(self::pack());
        $this->assertSame($rules->ruleCount(), $db->ruleCount());
        $posts = ['I will kill you', 'you are an idiot', 'Thanks, that fixed it.', "Très déçu — idiot", ''];
        foreach ($posts as $text) {
            $this->assertEquals($rules->scan($text, ['censor' => true]), $db->scan($text, ['censor' => true]), $text);
        }
        $this->assertEquals($rules->scanMany($posts), $db->scanMany($posts));
        $this->assertSame(Verdict::REJECT, $db->scan('I will kill you')->action);
        // options apply to a loaded engine as to a compiled one
        $strict = Engine::fromDatabase(self::dir() . '/good.mfdb', ['flag_threshold' => 0.5, 'hold_threshold' => 1]);
        $this->assertSame(Verdict::HOLD, $strict->scan('idiot')->action);
    }

    public function testDamagedDatabasesAreClearErrors(): void
    {
        $good = file_get_contents($this->compile(self::pack(), 'good.mfdb'));
        $cases = [
            'truncated.mfdb' => [substr($good, 0, intdiv(strlen($good), 2)), BadDatabaseException::class, -6],
            'short.mfdb' => [substr($good, 0, 20), BadDatabaseException::class, -6],
            'garbage.mfdb' => [str_repeat("not a database\n", 100), BadDatabaseException::class, -6],
            'empty.mfdb' => ['', BadDatabaseException::class, -6],
            // byte 8 is the database format's version: a database from another modfilter
            'other-version.mfdb' => [substr_replace($good, chr(99), 8, 1), DatabaseMismatchException::class, -7],
        ];
        foreach ($cases as $name => [$bytes, $class, $status]) {
            $path = self::dir() . "/$name";
            file_put_contents($path, $bytes);
            try {
                Engine::fromDatabase($path);
                $this->fail("$name loaded");
            } catch (\Modfilter\ModfilterException $e) {
                $this->assertInstanceOf($class, $e, "$name: " . $e->getMessage());
                $this->assertSame($status, $e->getStatus(), $name);
                $this->assertStringStartsWith("$path: ", $e->getMessage());
                $this->assertGreaterThan(strlen("$path: ") + 5, strlen($e->getMessage()), $name);
            }
        }
        foreach ([self::dir() . '/no-such.mfdb', self::dir()] as $path) {
            try {
                Engine::fromDatabase($path);
                $this->fail("$path loaded");
            } catch (IoException $e) {
                $this->assertSame(-4, $e->getStatus());
                $this->assertStringStartsWith("$path: ", $e->getMessage());
            }
        }
    }

    public function testSharedLoadsADatabaseOnceAndNoticesAChangedFile(): void
    {
        $db = $this->compile(self::pack(), 'shared.mfdb');
        // the same pack plus a rule: a database of another size
        $more = self::dir() . '/more.toml';
        file_put_contents($more, file_get_contents(self::pack() . '/pack.toml')
            . "\n[[rule]]\nid = \"test.moron\"\ncategory = \"abuse.harassment\"\nseverity = \"medium\"\nword = \"moron\"\n");
        $next = $this->compile($more, 'next.mfdb');
        // Four "requests" in one process (the per-request cache reset between them); the file is
        // replaced after the second.
        $code = '$db = ' . var_export($db, true) . '; $next = ' . var_export($next, true) . '; '
            . '$reset = function () { (new ReflectionProperty(Modfilter\Engine::class, "shared"))->setValue(null, []); }; '
            . 'for ($i = 0; $i < 4; $i++) { $e = Modfilter\Engine::shared($db); $s = Modfilter\Engine::lastShared(); '
            . 'echo $s["reused"] ? "reused" : "loaded", ":", $e->ruleCount(), ":", $e->scan("you moron")->action, " "; '
            . 'if ($i === 0 && Modfilter\Engine::shared($db) !== $e) { echo "not cached "; } unset($e); $reset(); '
            . 'if ($i === 1) { rename($next, $db); clearstatcache(); } } '
            . 'try { file_put_contents($db, "garbage"); clearstatcache(); $reset(); Modfilter\Engine::shared($db); echo "no error"; } '
            . 'catch (Modfilter\BadDatabaseException $x) { echo "bad:", $x->getStatus(); }';
        $p = proc_open([PHP_BINARY, '-r', 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';' . $code],
            [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        $this->assertSame(0, proc_close($p), $out);
        $this->assertSame('loaded:2:ALLOW reused:2:ALLOW loaded:3:FLAG reused:3:FLAG bad:-6', $out);
    }
}
