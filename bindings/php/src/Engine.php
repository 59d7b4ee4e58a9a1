<?php

declare(strict_types=1);

namespace Modfilter;

use FFI;
use FFI\CData;

/**
 * Compiled rule packs, and the scanner that runs them.
 *
 *     $engine = new Modfilter\Engine();                     // the default packs built into the library
 *     $engine = Modfilter\Engine::fromRules('/etc/modfilter/rules');
 *     $engine = Modfilter\Engine::fromDatabase('/etc/modfilter/rules.mfdb'); // `modfilter compile` output
 *     $engine = Modfilter\Engine::shared($rulesDir);        // built once per PHP worker process
 *     $engine = Modfilter\Engine::shared('/etc/modfilter/rules.mfdb'); // loaded once per worker
 *     $v = $engine->scan($text, ['role' => 'staff', 'censor' => true]);
 *     $v->action;                                           // "ALLOW" | "FLAG" | "HOLD" | "REJECT"
 *     foreach ($engine->scanMany($posts) as $v) { ... }     // one mf_scan_batch call per 256 posts
 *
 * Post fields (scan()'s second argument, or the keys of an array post in scanMany()):
 *   role     'member' (default) or 'staff' (promise rules apply to staff)
 *   censor   true: also produce $verdict->censored
 *   id, author, channel   strings or ints (id is copied to $verdict->id)
 *   ts       seconds since 1970 (default now); age_days: the author's account age; edit: bool
 * (author, channel, ts, age_days and edit only matter to an engine with a state; they are passed on.)
 *
 * Engine options (constructor, fromRules, fromText, fromDatabase, shared): flag_threshold, hold_threshold,
 * reject_threshold (numbers >= 0), max_post_bytes, max_hits (integers > 0).
 */
final class Engine
{
    public const BATCH = 256;
    private const ACTIONS = [Verdict::ALLOW, Verdict::FLAG, Verdict::HOLD, Verdict::REJECT];
    private const ROLES = ['member' => 0, 'staff' => 1, 0 => 0, 1 => 1];
    private const POST_KEYS = ['text' => 1, 'role' => 1, 'censor' => 1, 'id' => 1, 'author' => 1,
        'channel' => 1, 'ts' => 1, 'age_days' => 1, 'edit' => 1];
    private const OPTION_KEYS = ['flag_threshold', 'hold_threshold', 'reject_threshold', 'max_post_bytes', 'max_hits'];
    private const ENV_PREFIX = 'MODFILTER_PHP_ENGINE_';

    private FFI $ffi;
    private ?CData $engine = null;
    private ?CData $scanner = null;
    private ?CData $verdict = null;
    /** Whether this object frees the C objects (false for an engine shared by the worker). */
    private bool $owned = false;
    private ?CData $posts = null;
    private ?CData $postsPtr = null;
    /** @var array<int,true> batch slots whose id, author, channel, ts, age or edit are set */
    private array $slotMeta = [];
    private ?CData $verdicts = null;
    /** @var list<CData> */
    private array $batchVerdicts = [];
    private ?CData $post = null;
    private ?CData $failed = null;

    /** @var array<string, array{0: string, 1: Engine}> shared engines already looked up in this request:
     *  [rules signature, engine] by library, rules and options */
    private static array $shared = [];
    /** @var array{reused: bool, seconds: float}|null how the last shared() call got its engine */
    private static ?array $lastShared = null;

    /** Compiles the default packs built into the library (loading them takes milliseconds). */
    public function __construct(array $options = [])
    {
        $this->build(null, null, $options);
    }

    /** Compiles the rule packs in $path: a .toml file or a directory searched recursively. */
    public static function fromRules(string $path, array $options = []): self
    {
        $e = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $e->build($path, null, $options);
        return $e;
    }

    /**
     * Loads a compiled database: the file `modfilter compile --rules DIR -o FILE.mfdb` writes (or
     * mf_engine_serialize's output). Loading takes tens of milliseconds where compiling large packs
     * takes many seconds. $options' thresholds and limits apply to the loaded engine.
     *
     * @throws IoException the file cannot be read
     * @throws BadDatabaseException the file is damaged (truncated, say) or not a modfilter database
     * @throws DatabaseMismatchException the database was compiled by another modfilter version or
     *         platform: compile the packs again with this version's `modfilter compile`
     */
    public static function fromDatabase(string $path, array $options = []): self
    {
        $e = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $e->build($path, null, $options, self::readDatabase($path));
        return $e;
    }

    /** The bytes of a compiled database file (an IoException, as the library words one, when unreadable). */
    private static function readDatabase(string $path): string
    {
        if (str_contains($path, "\0")) {
            throw new InvalidArgumentException('a database path cannot contain a NUL byte', -1);
        }
        $why = null;
        if (!file_exists($path)) {
            $why = 'no such file or directory';
        } elseif (is_dir($path)) {
            $why = 'is a directory, not a compiled database (modfilter compile --rules DIR -o FILE.mfdb writes one)';
        } else {
            set_error_handler(function (int $no, string $msg) use (&$why): bool {
                $why = preg_replace('/^file_get_contents\(.*?\): (Failed to open stream: )?/i', '', $msg);
                return true;
            });
            try {
                $data = file_get_contents($path);
            } finally {
                restore_error_handler();
            }
            if ($data !== false) {
                return $data;
            }
            $why = strtolower($why ?? 'cannot be read');
        }
        throw ModfilterException::fromStatus(Library::constant('MF_E_IO'), "$path: $why");
    }

    /** Whether shared() and the plugins load $path as a compiled database (a file named *.mfdb). */
    public static function isDatabasePath(string $path): bool
    {
        return str_ends_with(strtolower($path), '.mfdb');
    }

    /** Compiles one rule pack given as TOML text (diagnostics name it "<memory>.toml"). */
    public static function fromText(string $toml, array $options = []): self
    {
        $e = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $e->build(null, $toml, $options);
        return $e;
    }

    /**
     * The engine for these rules (null: the default packs) built once per PHP process and kept
     * for the life of the process: later requests served by the same worker (PHP-FPM, mod_php,
     * php -S) reuse it instead of loading or compiling the packs again. PHP frees every PHP value at
     * the end of a request, so the engine's address is kept in the process environment (set
     * through libc, which PHP does not reset between requests) and the library is pinned in memory
     * (RTLD_NODELETE). A rules directory whose files change (name, size or time) gets a new engine,
     * and the one it replaces is freed (at once, or when the last Engine object of this request
     * that still uses it goes away). close() on a shared engine closes only that object: the engine
     * stays with the process, and the next shared() call hands back a working object for it.
     * A $rulesPath ending in .mfdb is a compiled database (see fromDatabase()): it is loaded rather
     * than compiled, and a new engine is loaded when the file's size or time changes.
     * Not for threaded (ZTS) PHP: there each request builds a new engine.
     */
    public static function shared(?string $rulesPath = null, array $options = []): self
    {
        $t0 = hrtime(true);
        $ffi = Library::ffi();
        self::checkOptions($options);
        ksort($options);
        $real = $rulesPath === null ? '' : (realpath($rulesPath) ?: $rulesPath);
        // One slot per library, rules and options; $sig tells which version of the rules it holds.
        $key = md5(Library::path() . "\0" . $real . "\0" . json_encode($options));
        $sig = md5(self::signature($real));
        $cached = self::$shared[$key] ?? null;
        if ($cached !== null && $cached[0] === $sig && $cached[1]->engine !== null) {
            self::$lastShared = ['reused' => true, 'seconds' => (hrtime(true) - $t0) / 1e9];
            return $cached[1];
        }
        $name = self::ENV_PREFIX . $key;
        $kept = null; // this process's engine for the slot: [engine, scanner, verdict] addresses and its $sig
        if (!PHP_ZTS) {
            $v = $ffi->getenv($name);
            if ($v !== null && preg_match('/^(\d+):(\d+):(\d+):(\d+):([0-9a-f]{32})$/', FFI::string($v), $m)
                && (int)$m[4] === getmypid()) { // (the environment is inherited by child processes)
                $kept = [(int)$m[1], (int)$m[2], (int)$m[3], $m[5]];
            }
        }
        if ($kept !== null && $kept[3] === $sig) {
            // Built by an earlier request of this worker, or this object's predecessor was closed.
            $e = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
            $e->ffi = $ffi;
            $e->engine = $ffi->cast('mf_engine *', $kept[0]);
            $e->scanner = $ffi->cast('mf_scanner *', $kept[1]);
            $e->verdict = $ffi->cast('mf_verdict *', $kept[2]);
            $e->owned = false;
            self::$shared[$key] = [$sig, $e];
            self::$lastShared = ['reused' => true, 'seconds' => (hrtime(true) - $t0) / 1e9];
            return $e;
        }
        // (If this throws, a rules mistake say, the engine of the old rules stays in the slot.)
        $e = $rulesPath === null ? new self($options) : (self::isDatabasePath($rulesPath)
            ? self::fromDatabase($rulesPath, $options) : self::fromRules($rulesPath, $options));
        if (!PHP_ZTS) {
            if (!str_starts_with(Library::path(), 'FFI scope')) {
                $ffi->dlopen(Library::path(), 0x2 | 0x1000); // RTLD_NOW | RTLD_NODELETE: never unmapped
            }
            $e->owned = false; // lives as long as the process
            $ffi->setenv($name, sprintf('%d:%d:%d:%d:%s', self::address($ffi, $e->engine),
                self::address($ffi, $e->scanner), self::address($ffi, $e->verdict), getmypid(), $sig), 1);
            if ($kept !== null) {
                self::release($ffi, $kept, $cached[1] ?? null);
            }
        }
        self::$shared[$key] = [$sig, $e];
        self::$lastShared = ['reused' => false, 'seconds' => (hrtime(true) - $t0) / 1e9];
        return $e;
    }

    private static function address(FFI $ffi, CData $p): int
    {
        return $ffi->cast('uintptr_t', $p)->cdata;
    }

    /**
     * Frees a shared engine that the rules' new engine replaced (its slot in the environment now
     * names the new one). Nothing of an earlier request can use it: PHP freed every object then, and
     * verdicts are read into PHP values. In this request only the slot's previous object can (the
     * cache hands out one object per slot): if it is still open, it becomes the owner and frees the
     * engine when the caller drops it; else the engine, its scanner and its verdict are freed now.
     *
     * @param array{0:int,1:int,2:int,3:string} $kept
     */
    private static function release(FFI $ffi, array $kept, ?self $previous): void
    {
        if ($previous !== null && $previous->engine !== null && self::address($ffi, $previous->engine) === $kept[0]) {
            $previous->owned = true;
            return;
        }
        $ffi->mf_verdict_destroy($ffi->cast('mf_verdict *', $kept[2]));
        $ffi->mf_scanner_destroy($ffi->cast('mf_scanner *', $kept[1]));
        $ffi->mf_engine_destroy($ffi->cast('mf_engine *', $kept[0]));
    }

    /** @return array{reused: bool, seconds: float}|null whether the last shared() call reused the
     *  worker's engine, and how long getting it took */
    public static function lastShared(): ?array
    {
        return self::$lastShared;
    }

    private static function signature(string $path): string
    {
        if ($path === '' || !file_exists($path)) {
            return '';
        }
        if (is_file($path)) {
            return $path . ':' . filesize($path) . ':' . filemtime($path);
        }
        $sig = '';
        $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($path,
            \FilesystemIterator::SKIP_DOTS));
        foreach ($it as $f) {
            $sig .= $f->getPathname() . ':' . $f->getSize() . ':' . $f->getMTime() . "\n";
        }
        return md5($sig);
    }

    private static function checkOptions(array $options): void
    {
        foreach ($options as $k => $v) {
            if (!in_array($k, self::OPTION_KEYS, true)) {
                throw new InvalidArgumentException("unknown engine option '$k' (known: "
                    . implode(', ', self::OPTION_KEYS) . ')', -1);
            }
            $int = $k === 'max_post_bytes' || $k === 'max_hits';
            if ($int ? (!is_int($v) || $v <= 0) : (!is_int($v) && !is_float($v) || $v < 0)) {
                throw new InvalidArgumentException("engine option '$k' must be " . ($int ? 'an integer > 0' : 'a number >= 0')
                    . ', not ' . var_export($v, true), -1);
            }
        }
    }

    /** Builds the engine: from $database (serialized bytes, read from the file $path) when given, else
     *  compiles $toml, $path or the default packs. */
    private function build(?string $path, ?string $toml, array $options, ?string $database = null): void
    {
        self::checkOptions($options);
        $this->ffi = $ffi = Library::ffi();
        $this->owned = true;
        $opts = $ffi->new('mf_engine_options');
        $this->check($ffi->mf_engine_options_init(FFI::addr($opts), Library::constant('MF_ENGINE_OPTIONS_VERSION')));
        $keep = null;
        if ($toml !== null) {
            $keep = self::cString($ffi, $toml);
            $opts->rules_text = $keep[1];
            $opts->rules_text_len = strlen($toml);
        } elseif ($path !== null && $database === null) {
            if (str_contains($path, "\0")) {
                throw new InvalidArgumentException('a rules path cannot contain a NUL byte', -1);
            }
            $keep = self::cString($ffi, $path);
            $opts->rules_path = $keep[1];
        }
        foreach ($options as $k => $v) {
            $opts->$k = $v;
        }
        $engine = $ffi->new('mf_engine *');
        if ($database !== null) {
            // FFI passes a PHP string to a const char * parameter without copying it.
            $st = $ffi->mf_engine_deserialize(FFI::addr($engine), $database, strlen($database), FFI::addr($opts));
            if ($st !== 0) {
                throw $this->error($st, $path . ': '); // the library's message does not name the file
            }
        } else {
            $this->check($ffi->mf_engine_create(FFI::addr($engine), FFI::addr($opts)));
        }
        $this->engine = $engine;
        $scanner = $ffi->new('mf_scanner *');
        $verdict = $ffi->new('mf_verdict *');
        $st = $ffi->mf_scanner_create(FFI::addr($scanner), $engine);
        if ($st === 0) {
            $st = $ffi->mf_verdict_create(FFI::addr($verdict));
        }
        $this->scanner = $scanner;
        $this->verdict = $verdict;
        if ($st !== 0) {
            $e = $this->error($st);
            $this->close();
            throw $e;
        }
    }

    /** A NUL-terminated C copy of $s: [buffer, char pointer]. Keep the buffer while the pointer is used. */
    private static function cString(FFI $ffi, string $s): array
    {
        $n = strlen($s);
        $buf = $ffi->new('char[' . ($n + 1) . ']');
        FFI::memcpy($buf, $s, $n);
        return [$buf, $ffi->cast('char *', FFI::addr($buf))];
    }

    /**
     * Frees the engine now. On an engine from shared() this closes only this object: the engine stays
     * with the process (other requests of this worker use it), and shared() hands back a new, working
     * object for it.
     */
    public function close(): void
    {
        if ($this->owned) {
            foreach ($this->batchVerdicts as $v) {
                $this->ffi->mf_verdict_destroy($v);
            }
            if ($this->verdict !== null) {
                $this->ffi->mf_verdict_destroy($this->verdict);
            }
            if ($this->scanner !== null) {
                $this->ffi->mf_scanner_destroy($this->scanner);
            }
            if ($this->engine !== null) {
                $this->ffi->mf_engine_destroy($this->engine);
            }
        } else {
            foreach ($this->batchVerdicts as $v) {
                $this->ffi->mf_verdict_destroy($v);
            }
        }
        $this->batchVerdicts = [];
        $this->verdicts = null;
        $this->engine = $this->scanner = $this->verdict = null;
    }

    public function __destruct()
    {
        if (isset($this->ffi)) {
            $this->close();
        }
    }

    /** Number of rules compiled into the engine. */
    public function ruleCount(): int
    {
        return $this->ffi->mf_engine_rule_count($this->live());
    }

    private function live(): CData
    {
        if ($this->engine === null) {
            throw new InvalidArgumentException('the engine is closed', -1);
        }
        return $this->engine;
    }

    // ------------------------------------------------------------------ scanning

    /**
     * Scans one post. $text is the post's bytes (UTF-8; invalid bytes are scanned too and counted in
     * $verdict->invalidUtf8); an empty string is a valid post. See the class comment for $post.
     *
     * @throws PostTooLargeException the post is larger than max_post_bytes
     * @throws InvalidArgumentException $text is not a string, or a field is wrong
     */
    public function scan(mixed $text, array $post = []): Verdict
    {
        $this->live();
        $text = self::text($text, null);
        $ffi = $this->ffi;
        $role = self::role($post['role'] ?? 'member');
        $censor = !empty($post['censor']);
        if ($censor || count($post) > (isset($post['role']) ? 1 : 0)) {
            $this->fill($post + ['text' => $text], $role);
            $st = $ffi->mf_scan($this->scanner, $this->verdict, $this->postPtr);
            $this->post->text = 0;
            $this->postBuf = null;
        } else {
            $st = $ffi->mf_scan_text($this->scanner, $this->verdict, $text, strlen($text), $role);
        }
        if ($st !== 0) {
            throw $this->error($st);
        }
        return $this->read($this->verdict, $text, $post['id'] ?? null, $censor);
    }

    /**
     * Scans many posts with one mf_scan_batch call per BATCH posts, returning one Verdict per post
     * in input order (keys kept). A post is a string, or an array with 'text' and any post field;
     * $defaults gives fields to posts that do not set them.
     * 'on_error' => 'throw' (default) throws a post's error (getIndex() is its key's position);
     * 'return' puts the exception in that post's place and goes on.
     *
     * @param iterable<string|array<string,mixed>> $posts
     * @return array<Verdict|ModfilterException>
     */
    public function scanMany(iterable $posts, array $defaults = [], string $onError = 'throw'): array
    {
        if ($onError !== 'throw' && $onError !== 'return') {
            throw new InvalidArgumentException("onError must be 'throw' or 'return', not '$onError'", -1);
        }
        $this->live();
        $out = [];
        $chunk = [];
        $index = 0;
        foreach ($posts as $key => $p) {
            $chunk[$key] = is_array($p) ? $p + $defaults : ['text' => $p] + $defaults;
            if (count($chunk) === self::BATCH) {
                $this->scanChunk($chunk, $index, $onError, $out);
                $index += count($chunk);
                $chunk = [];
            }
        }
        if ($chunk) {
            $this->scanChunk($chunk, $index, $onError, $out);
        }
        return $out;
    }

    private function scanChunk(array $chunk, int $base, string $onError, array &$out): void
    {
        $ffi = $this->ffi;
        $n = count($chunk);
        if ($this->posts === null) {
            $this->posts = $ffi->new('mf_post_addr[' . self::BATCH . ']');
            $this->postsPtr = $ffi->cast('mf_post *', FFI::addr($this->posts));
            $this->verdicts = $ffi->new('mf_verdict *[' . self::BATCH . ']');
            $this->failed = $ffi->new('size_t');
            for ($i = 0; $i < self::BATCH; $i++) {
                $this->posts[$i]->version = Library::constant('MF_POST_VERSION');
                $this->posts[$i]->author_age_days = -1;
                $v = $ffi->new('mf_verdict *');
                $this->check($ffi->mf_verdict_create(FFI::addr($v)));
                $this->batchVerdicts[] = $v;
                $this->verdicts[$i] = $v;
            }
        }
        // Texts (and ids, authors, channels) in one C buffer, each post pointing into it.
        $keys = array_keys($chunk);
        $texts = [];
        $roles = [];
        $censor = [];
        $meta = [];
        foreach ($keys as $i => $k) {
            $p = $chunk[$k];
            if (!array_key_exists('text', $p)) {
                throw (new InvalidArgumentException('post ' . ($base + $i) . ' has no \'text\'', -1))
                    ->withIndex($base + $i);
            }
            try {
                $texts[$i] = self::text($p['text'], $base + $i);
                $roles[$i] = self::role($p['role'] ?? 'member');
                foreach ($p as $f => $_) {
                    if (!isset(self::POST_KEYS[$f])) {
                        throw new InvalidArgumentException("unknown post field '$f'", -1);
                    }
                }
                $meta[$i] = count($p) > 1 + isset($p['role']) + isset($p['censor'])
                    ? self::meta($p) : null;
            } catch (InvalidArgumentException $e) {
                throw (new InvalidArgumentException('post ' . ($base + $i) . ': ' . $e->getMessage(), -1))
                    ->withIndex($base + $i);
            }
            $censor[$i] = !empty($p['censor']);
        }
        $all = implode('', $texts);
        $extra = '';
        foreach ($meta as $m) {
            if ($m !== null) {
                $extra .= $m[0] . $m[1] . $m[2];
            }
        }
        $total = strlen($all) + strlen($extra);
        $buf = $ffi->new('char[' . max(1, $total) . ']');
        if ($total) {
            FFI::memcpy($buf, $all . $extra, $total);
        }
        $base0 = $ffi->cast('uintptr_t', FFI::addr($buf))->cdata;
        $posts = $this->posts;
        $off = 0;
        $moff = strlen($all);
        for ($i = 0; $i < $n; $i++) {
            $post = $posts[$i];
            $len = strlen($texts[$i]);
            $post->text = $len ? $base0 + $off : 0;
            $post->len = $len;
            $post->author_role = $roles[$i];
            $post->flags = $censor[$i] ? 1 : 0;
            $m = $meta[$i];
            if ($m === null) {
                if (isset($this->slotMeta[$i])) { // a slot that carried fields in an earlier batch
                    $post->id = $post->author_id = $post->channel = 0;
                    $post->id_len = $post->author_id_len = $post->channel_len = 0;
                    $post->ts_ms = 0;
                    $post->author_age_days = -1;
                    $post->edit = 0;
                    unset($this->slotMeta[$i]);
                }
            } else {
                $this->slotMeta[$i] = true;
                foreach (['id', 'author_id', 'channel'] as $j => $f) {
                    $l = strlen($m[$j]);
                    $post->$f = $l ? $base0 + $moff : 0;
                    $post->{$f . '_len'} = $l;
                    $moff += $l;
                }
                $post->ts_ms = $m[3];
                $post->author_age_days = $m[4];
                $post->edit = $m[5];
            }
            $off += $len;
        }
        $start = 0;
        while ($start < $n) {
            $this->failed->cdata = $n;
            $arg = $start === 0 ? $this->postsPtr
                : $ffi->cast('mf_post *', $ffi->cast('uintptr_t', $this->postsPtr)->cdata + $start * FFI::sizeof($posts[0]));
            $st = $ffi->mf_scan_batch($this->scanner, $this->verdicts, $arg, $n - $start, FFI::addr($this->failed));
            $done = $st === 0 ? $n - $start : $this->failed->cdata;
            for ($i = 0; $i < $done; $i++) {
                $k = $keys[$start + $i];
                $out[$k] = $this->read($this->batchVerdicts[$i], $texts[$start + $i], $chunk[$k]['id'] ?? null,
                    $censor[$start + $i]);
            }
            if ($st === 0) {
                break;
            }
            $bad = $start + $done;
            $e = $this->error($st, 'post ' . ($base + $bad) . ': ')->withIndex($base + $bad);
            // Only a post the library refuses (too large) is that post's own error, to skip past.
            if ($onError === 'throw' || $st !== Library::constant('MF_E_TOO_LARGE') || $done >= $n - $start) {
                throw $e;
            }
            $out[$keys[$bad]] = $e;
            $start = $bad + 1;
        }
    }

    /** Fills $this->post for mf_scan (a post with fields beyond role). */
    private function fill(array $p, int $role): void
    {
        $ffi = $this->ffi;
        foreach ($p as $f => $_) {
            if (!isset(self::POST_KEYS[$f])) {
                throw new InvalidArgumentException("unknown post field '$f'", -1);
            }
        }
        $m = self::meta($p);
        if ($this->post === null) {
            $this->post = $ffi->new('mf_post_addr');
            $this->postPtr = $ffi->cast('mf_post *', FFI::addr($this->post));
        }
        $post = $this->post;
        $all = $p['text'] . $m[0] . $m[1] . $m[2];
        $total = strlen($all);
        // Kept in a property until the scan is done (the post points into it).
        $this->postBuf = $ffi->new('char[' . max(1, $total) . ']');
        if ($total) {
            FFI::memcpy($this->postBuf, $all, $total);
        }
        $base = $ffi->cast('uintptr_t', FFI::addr($this->postBuf))->cdata;
        $len = strlen($p['text']);
        $post->version = 2;
        $post->text = $len ? $base : 0;
        $post->len = $len;
        $post->author_role = $role;
        $post->flags = !empty($p['censor']) ? 1 : 0;
        $off = $len;
        foreach (['id', 'author_id', 'channel'] as $j => $f) {
            $l = strlen($m[$j]);
            $post->$f = $l ? $base + $off : 0;
            $post->{$f . '_len'} = $l;
            $off += $l;
        }
        $post->ts_ms = $m[3];
        $post->author_age_days = $m[4];
        $post->edit = $m[5];
    }

    private ?CData $postBuf = null;
    private ?CData $postPtr = null;

    /** @return array{0:string,1:string,2:string,3:int,4:int,5:int} id, author, channel, ts_ms, age, edit */
    private static function meta(array $p): array
    {
        $name = function (string $f) use ($p): string {
            $v = $p[$f] ?? null;
            if ($v === null) {
                return '';
            }
            if (!is_string($v) && !is_int($v)) {
                throw new InvalidArgumentException("'$f' must be a string or an int, not " . get_debug_type($v), -1);
            }
            return (string)$v;
        };
        $ts = $p['ts'] ?? null;
        if ($ts !== null && (!(is_int($ts) || is_float($ts)) || $ts < 0)) {
            throw new InvalidArgumentException("'ts' must be seconds since 1970 (a number from 0), not "
                . var_export($ts, true), -1);
        }
        $age = $p['age_days'] ?? null;
        if ($age !== null && (!is_int($age) || $age < 0)) {
            throw new InvalidArgumentException("'age_days' must be an integer from 0, not " . var_export($age, true), -1);
        }
        $edit = $p['edit'] ?? false;
        if (!is_bool($edit)) {
            throw new InvalidArgumentException("'edit' must be true or false, not " . var_export($edit, true), -1);
        }
        return [$name('id'), $name('author'), $name('channel'), $ts === null ? 0 : (int)round($ts * 1000),
            $age ?? -1, $edit ? 1 : 0];
    }

    private static function text(mixed $text, ?int $index): string
    {
        if (is_string($text)) {
            return $text;
        }
        if ($text instanceof \Stringable) {
            return (string)$text;
        }
        throw new InvalidArgumentException(($text === null ? 'the text is null' : 'the text is '
            . get_debug_type($text)) . ': a post\'s text must be a string (an empty string is a valid post)', -1);
    }

    private static function role(mixed $role): int
    {
        if ((is_string($role) || is_int($role)) && isset(self::ROLES[is_string($role) ? strtolower($role) : $role])) {
            return self::ROLES[is_string($role) ? strtolower($role) : $role];
        }
        throw new InvalidArgumentException("'role' must be 'member' or 'staff', not " . var_export($role, true), -1);
    }

    /** Reads a verdict the library filled: everything in one JSON rendering when there is anything. */
    private function read(CData $v, string $text, mixed $id, bool $censor): Verdict
    {
        $ffi = $this->ffi;
        $action = $ffi->mf_verdict_action($v);
        $censored = null;
        if ($censor) {
            $len = $ffi->new('size_t');
            $ptr = $ffi->mf_verdict_censored($v, FFI::addr($len));
            $censored = $ptr === null ? null : FFI::string($ptr, $len->cdata);
        }
        if ($ffi->mf_verdict_hit_count($v) === 0 && $ffi->mf_verdict_category_count($v) === 0
            && $ffi->mf_verdict_flags($v) === 0) {
            return new Verdict(self::ACTIONS[$action], censored: $censored, id: $id);
        }
        $d = json_decode($ffi->mf_verdict_json($v, null), true, 16, JSON_THROW_ON_ERROR);
        $hits = [];
        if ($d['hits']) {
            // Character offsets, as mbstring counts them (mb_substr, mb_strlen with 'UTF-8').
            $ascii = !preg_match('/[\x80-\xff]/', $text);
            $chars = [];
            if (!$ascii) {
                $offs = [];
                foreach ($d['hits'] as $h) {
                    $offs[$h['start']] = $offs[$h['end']] = 0;
                }
                ksort($offs);
                $chars = self::charOffsets($text, array_keys($offs));
            }
            foreach ($d['hits'] as $h) {
                $s = $h['start'];
                $e = $h['end'];
                $hits[] = new Hit($h['rule'], $h['category'], $h['severity'], (float)$h['score'], $s, $e,
                    $ascii ? $s : $chars[$s], $ascii ? $e : $chars[$e], $h['evasion'] ?? [], substr($text, $s, $e - $s),
                    $h['quoted'] ?? false);
            }
        }
        return new Verdict(self::ACTIONS[$action], array_map('floatval', $d['categories']), $d['routes'], $hits,
            $d['evasion'], $d['invalid_utf8'], $d['hits_truncated'], $censored, $id);
    }

    /** @var array<int,int>|false|null mbLeadLengths(), once looked up (false: not yet) */
    private static array|false|null $mbLead = false;

    /** A run of valid UTF-8 sequences (matched in windows of RUN_WINDOW bytes). */
    private const RUN_WINDOW = 16384;
    private const VALID_RUN = '/^(?:[\x00-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]'
        . '|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]|\xF0[\x90-\xBF][\x80-\xBF]{2}'
        . '|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})++/';

    /**
     * The character offset of each byte offset in $offsets (ascending), counted as PHP's mbstring
     * counts characters in UTF-8 text, so that mb_substr($text, $startChar, $endChar - $startChar,
     * 'UTF-8') is the hit's text. Valid UTF-8: a character starts at every byte that is not a
     * continuation byte (10xxxxxx). Invalid UTF-8 is walked sequence by sequence, each invalid
     * sequence one character, as this PHP's mbstring splits it (self::mbLeadLengths()).
     * An offset inside a character (no character offset fits) gets the number of characters that
     * start before it.
     *
     * @param list<int> $offsets
     * @return array<int,int>
     */
    private static function charOffsets(string $text, array $offsets): array
    {
        $chars = [];
        if (preg_match('//u', $text) === 1) { // valid UTF-8 (the common case)
            $prev = $idx = 0;
            foreach ($offsets as $o) {
                $idx += ($o - $prev) - preg_match_all('/[\x80-\xbf]/', substr($text, $prev, $o - $prev));
                $chars[$o] = $idx;
                $prev = $o;
            }
            return $chars;
        }
        $lead = self::mbLeadLengths();
        $n = strlen($text);
        $pos = $idx = 0; // $pos: where character number $idx starts
        $runEnd = 0;      // [$pos, $runEnd) is known to be valid UTF-8
        foreach ($offsets as $o) {
            while ($pos < $o) {
                if ($pos >= $runEnd) {
                    $runEnd = $pos + (preg_match(self::VALID_RUN, substr($text, $pos, self::RUN_WINDOW), $m) === 1 ? strlen($m[0]) : 0);
                    if ($runEnd === $pos) { // an invalid sequence: one character
                        $idx++;
                        $pos = min($n, $pos + ($lead === null ? self::badSequenceLength($text, $pos, $n)
                            : $lead[ord($text[$pos])]));
                        continue;
                    }
                }
                $to = min($o, $runEnd);
                $idx += ($to - $pos) - preg_match_all('/[\x80-\xbf]/', substr($text, $pos, $to - $pos));
                $pos = $to;
            }
            $chars[$o] = $idx;
        }
        return $chars;
    }

    /**
     * How this PHP's mbstring splits invalid UTF-8. Up to PHP 8.2, mb_substr() and mb_strlen() step
     * by the lead byte's length whatever follows (a table: C2-DF 2 bytes, E0-EF 3, F0-F4 4, any
     * other byte 1): returns that table. From PHP 8.3 they decode, and each maximal invalid
     * subpart (the valid start of a sequence that breaks off, or one invalid byte) is one character,
     * as in the Unicode standard: returns null (also without mbstring).
     *
     * @return array<int,int>|null
     */
    private static function mbLeadLengths(): ?array
    {
        $lead = &self::$mbLead;
        if ($lead === false) {
            $lead = null;
            if (function_exists('mb_substr') && mb_substr("\xC3 a", 1, 1, 'UTF-8') === 'a') {
                $lead = [];
                for ($b = 0; $b < 256; $b++) {
                    $lead[$b] = $b >= 0xC2 && $b <= 0xDF ? 2 : ($b >= 0xE0 && $b <= 0xEF ? 3
                        : ($b >= 0xF0 && $b <= 0xF4 ? 4 : 1));
                }
            }
        }
        return $lead;
    }

    /** The length of the maximal subpart of a UTF-8 sequence at $p: its lead byte and the
     *  continuation bytes that may follow it (1 for a byte that cannot start a sequence). */
    private static function badSequenceLength(string $t, int $p, int $n): int
    {
        $b = ord($t[$p]);
        [$need, $lo, $hi] = match (true) {
            $b >= 0xC2 && $b <= 0xDF => [1, 0x80, 0xBF],
            $b === 0xE0 => [2, 0xA0, 0xBF],
            $b === 0xED => [2, 0x80, 0x9F],
            $b >= 0xE1 && $b <= 0xEF => [2, 0x80, 0xBF],
            $b === 0xF0 => [3, 0x90, 0xBF],
            $b === 0xF4 => [3, 0x80, 0x8F],
            $b >= 0xF1 && $b <= 0xF3 => [3, 0x80, 0xBF],
            default => [0, 0, 0],
        };
        $len = 1;
        while ($need-- > 0 && $p + $len < $n) {
            $c = ord($t[$p + $len]);
            if ($c < $lo || $c > $hi) {
                break;
            }
            $len++;
            [$lo, $hi] = [0x80, 0xBF];
        }
        return $len;
    }

    private function check(int $status): void
    {
        if ($status !== 0) {
            throw $this->error($status);
        }
    }

    private function error(int $status, string $prefix = ''): ModfilterException
    {
        $msg = $this->ffi->mf_last_error();
        if ($msg === '') {
            $msg = $this->ffi->mf_status_str($status);
        }
        return ModfilterException::fromStatus($status, $prefix . $msg);
    }
}
