<?php

declare(strict_types=1);

use Modfilter\BadDatabaseException;
use Modfilter\BusyException;
use Modfilter\Engine;
use Modfilter\Library;
use Modfilter\ModfilterException;
use Modfilter\PostTooLargeException;
use Modfilter\RulesException;
use Modfilter\Verdict;
use PHPUnit\Framework\TestCase;

/** Finding the library, FFI switched off, status codes, engines shared across requests. */
final class LibraryTest extends TestCase
{
    /** Runs PHP code in a new PHP process; returns [exit code, output]. */
    private static function php(string $code, array $env = [], array $ini = []): array
    {
        $cmd = [PHP_BINARY];
        foreach ($ini as $k => $v) {
            $cmd[] = '-d';
            $cmd[] = "$k=$v";
        }
        $cmd[] = '-r';
        $cmd[] = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . ';' . $code;
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        return [proc_close($p), $out];
    }

    public function testConstantsComeFromTheHeader(): void
    {
        $this->assertSame(-3, Library::constant('MF_E_RULES'));
        $this->assertSame(2, Library::constant('MF_ACTION_HOLD'));
        $this->assertSame(2, Library::constant('MF_POST_VERSION'));
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', Library::version());
    }

    public function testEveryStatusHasItsException(): void
    {
        $seen = [];
        foreach (Library::constants() as $name => $code) {
            if (!str_starts_with($name, 'MF_E_')) {
                continue;
            }
            $e = ModfilterException::fromStatus($code, 'msg');
            $this->assertNotSame(ModfilterException::class, get_class($e), "$name has its own class");
            $this->assertSame($code, $e->getStatus());
            $seen[get_class($e)] = true;
        }
        $this->assertCount(13, $seen);
        $this->assertInstanceOf(RulesException::class, ModfilterException::fromStatus(-3, 'a.toml:3: x'));
        $this->assertInstanceOf(PostTooLargeException::class, ModfilterException::fromStatus(-8, 'x'));
        $this->assertInstanceOf(BusyException::class, ModfilterException::fromStatus(-9, 'x'));
        $this->assertInstanceOf(BadDatabaseException::class, ModfilterException::fromStatus(-6, 'x'));
    }

    public function testMissingLibraryNamesWhereItLooked(): void
    {
        [$rc, $out] = self::php('try { new Modfilter\Engine(); } catch (Modfilter\LibraryException $e) '
            . '{ echo get_class($e), "|", $e->getMessage(); exit(3); }', ['MODFILTER_LIBRARY' => '/nonexistent/libmodfilter.so']);
        $this->assertSame(3, $rc, $out);
        $this->assertStringContainsString('Modfilter\LibraryException|libmodfilter not found', $out);
        $this->assertStringContainsString('/nonexistent/libmodfilter.so (not found)', $out);
        $this->assertStringContainsString('MODFILTER_LIBRARY', $out);
    }

    public function testWrongLibraryIsRefused(): void
    {
        $libc = '/lib/x86_64-linux-gnu/libc.so.6';
        if (!is_file($libc)) {
            $this->markTestSkipped("no $libc on this machine");
        }
        [$rc, $out] = self::php('try { new Modfilter\Engine(); } catch (Modfilter\LibraryException $e) '
            . '{ echo $e->getMessage(); exit(3); }', ['MODFILTER_LIBRARY' => $libc]);
        $this->assertSame(3, $rc, $out);
        $this->assertStringContainsString("$libc (not a modfilter library", $out);
    }

    public function testDisabledFfiSaysWhatToSet(): void
    {
        [$rc, $out] = self::php('try { new Modfilter\Engine(); } catch (Modfilter\FfiUnavailableException $e) '
            . '{ echo $e->getMessage(); exit(3); }', [], ['ffi.enable' => '0']);
        $this->assertSame(3, $rc, $out);
        $this->assertStringContainsString('ffi.enable=1', $out);
        $this->assertStringContainsString('ffi.preload=' . Library::preloadHeader(), $out);
    }

    /** A web SAPI (PHP's built-in server) under Debian's default ffi.enable=preload. */
    public function testWebServerWithoutPreloadSaysWhatToSet(): void
    {
        $dir = sys_get_temp_dir() . '/mf-php-sapi-' . getmypid();
        @mkdir($dir);
        file_put_contents("$dir/index.php", '<?php require ' . var_export(dirname(__DIR__) . '/autoload.php', true)
            . '; try { new Modfilter\Engine(); echo "loaded"; } catch (Modfilter\FfiUnavailableException $e) '
            . '{ echo $e->getMessage(); }');
        $sock = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int)substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
        fclose($sock);
        $p = proc_open([PHP_BINARY, '-d', 'ffi.enable=preload', '-S', "127.0.0.1:$port", '-t', $dir],
            [1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, getenv());
        try {
            $body = false;
            for ($i = 0; $i < 50 && $body === false; $i++) {
                usleep(100000);
                $body = @file_get_contents("http://127.0.0.1:$port/index.php");
            }
            $this->assertIsString($body, 'the built-in server answered');
            $this->assertStringContainsString('ffi.enable=preload, SAPI cli-server', $body);
            $this->assertStringContainsString('ffi.preload=', $body);
            $this->assertStringContainsString('ffi.enable=1', $body);
        } finally {
            proc_terminate($p);
            proc_close($p);
            @unlink("$dir/index.php");
            @rmdir($dir);
        }
    }

    /** php.ini's ffi.preload with the generated header: FFI works under ffi.enable=preload, by scope. */
    public function testPreloadedScope(): void
    {
        $header = Library::preloadHeader();
        $this->assertFileExists($header);
        $text = file_get_contents($header);
        $this->assertStringContainsString('#define FFI_LIB "libmodfilter.so.0"', $text);
        $lib = (string)getenv('MODFILTER_LIBRARY');
        if ($lib === '') {
            $this->markTestSkipped('MODFILTER_LIBRARY is not set (ctest sets it)');
        }
        $tmp = tempnam(sys_get_temp_dir(), 'mf-ffi-') . '.h';
        file_put_contents($tmp, str_replace('"libmodfilter.so.0"', '"' . addcslashes($lib, '"\\') . '"', $text));
        try {
            [$rc, $out] = self::php('$e = new Modfilter\Engine(); echo Modfilter\Library::path(), "|", '
                . '$e->scan("You are an idiot")->action, "|", Modfilter\Engine::shared()->scan("x")->action;',
                [], ['ffi.enable' => 'preload', 'ffi.preload' => $tmp]);
        } finally {
            unlink($tmp);
        }
        $this->assertSame(0, $rc, $out);
        $this->assertSame('FFI scope modfilter|FLAG|ALLOW', $out);
    }

    /**
     * Runs $code in a child PHP (self::php) where $r names a fresh copy of the good fixture pack's
     * directory, removed afterwards, and $reset() empties the binding's per-request cache of shared
     * engines, as PHP forgets every value between requests.
     */
    private static function phpWithRulesCopy(string $tag, string $code): array
    {
        $rules = sys_get_temp_dir() . "/mf-php-$tag-" . getmypid();
        @mkdir($rules);
        copy(__DIR__ . '/fixtures/good/pack.toml', "$rules/pack.toml");
        try {
            return self::php('$r = ' . var_export($rules, true) . '; $reset = function () { '
                . '(new ReflectionProperty(Modfilter\Engine::class, "shared"))->setValue(null, []); }; ' . $code);
        } finally {
            @unlink("$rules/pack.toml");
            @rmdir($rules);
        }
    }

    public function testSharedEngineIsBuiltOncePerProcess(): void
    {
        // Three "requests" in one process, the rules file changed before the third.
        [$rc, $out] = self::phpWithRulesCopy('shared',
            'for ($i = 0; $i < 3; $i++) { $e = Modfilter\Engine::shared($r); $s = Modfilter\Engine::lastShared(); '
            . 'echo $s["reused"] ? "reused" : "built", ":", $e->scan("you are an idiot")->action, " "; unset($e); $reset(); '
            . 'if ($i === 1) { file_put_contents("$r/pack.toml", "\n", FILE_APPEND); clearstatcache(); } }');
        $this->assertSame(0, $rc, $out);
        // the third call sees a changed rules file and builds a new engine
        $this->assertSame('built:FLAG reused:FLAG built:FLAG ', $out);
        $a = Engine::shared();
        $this->assertSame($a, Engine::shared());
        $this->assertSame(Verdict::FLAG, $a->scan('You are an idiot')->action);
    }

    public function testClosedSharedEngineIsHandedBackWorking(): void
    {
        [$rc, $out] = self::php('$s = Modfilter\Engine::shared(); $s->close(); '
            . 'try { $s->scan("x"); echo "open "; } catch (Modfilter\InvalidArgumentException $e) { echo "closed "; } '
            . '$t = Modfilter\Engine::shared(); echo $t->scan("You are an idiot")->action, " ", '
            . 'Modfilter\Engine::lastShared()["reused"] ? "reused" : "built", " ", $t === $s ? "same" : "new", " ", '
            . 'Modfilter\Engine::shared() === $t ? "cached" : "not cached";');
        $this->assertSame(0, $rc, $out);
        // the closed object stays closed; the process's engine was not freed, nor compiled again
        $this->assertSame('closed FLAG reused new cached', $out);
    }

    public function testReplacedSharedEngineIsFreed(): void
    {
        // Rules edited 160 times, between requests (the request cache reset) and within one;
        // every edit builds a new engine (a third of a MB or more): the replaced ones must not pile up.
        [$rc, $out] = self::phpWithRulesCopy('replaced',
            '$rss = fn () => (int)explode(" ", file_get_contents("/proc/self/statm"))[1] * 4096; '
            . '$edit = function () use ($r) { file_put_contents("$r/pack.toml", "\n", FILE_APPEND); clearstatcache(); }; '
            . '$base = 0; for ($i = 0; $i < 160; $i++) { if ($i === 10) { $base = $rss(); } '
            . '$e = Modfilter\Engine::shared($r); if ($e->scan("idiot")->action !== "FLAG") { exit(5); } unset($e); '
            . 'if ($i % 2) { $reset(); } $edit(); } '
            . '$old = Modfilter\Engine::shared($r); $edit(); $new = Modfilter\Engine::shared($r); '
            . 'echo $old !== $new ? "replaced " : "same ", $old->scan("idiot")->action, " ", $new->scan("idiot")->action, " "; '
            . 'unset($old); echo Modfilter\Engine::shared($r)->scan("idiot")->action, " ", '
            . 'round(($rss() - $base) / 1048576) < 12 ? "freed" : "kept " . round(($rss() - $base) / 1048576) . " MB";');
        $this->assertSame(0, $rc, $out);
        // an object still held when its engine is replaced keeps working until it is dropped
        $this->assertSame('replaced FLAG FLAG FLAG freed', $out);
    }
}
