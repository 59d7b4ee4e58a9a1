<?php

declare(strict_types=1);

namespace Modfilter;

use FFI;

/**
 * Finds libmodfilter and the declarations generated from modfilter.h, and hands out the FFI
 * instance every Engine uses (one per request; the library itself stays loaded for the process).
 *
 * Where the library is looked for, in order (as the Python binding does):
 *   1. the MODFILTER_LIBRARY environment variable (only that path, so a typo is an error);
 *   2. the installed SONAME libmodfilter.so.0 through the dynamic loader (ld.so.cache,
 *      LD_LIBRARY_PATH), then /usr/local/lib and /usr/lib;
 *   3. the build tree of the checkout this file lives in (build/capi/libmodfilter.so).
 *
 * The declarations (modfilter.ffi.php) are installed beside these sources; from a checkout they are
 * found in build/bindings/php, or wherever MODFILTER_FFI_DECLARATIONS points. When php.ini preloads
 * modfilter.ffi.h (ffi.preload), the FFI scope "modfilter" is used instead, and no FFI::cdef() runs.
 */
final class Library
{
    public const ENV_LIBRARY = 'MODFILTER_LIBRARY';
    public const ENV_DECLARATIONS = 'MODFILTER_FFI_DECLARATIONS';
    /** The FFI scope php.ini's ffi.preload=.../modfilter.ffi.h registers. */
    public const SCOPE = 'modfilter';
    /** The oldest library (MF_VERSION_NUMBER) this binding was written against, and its ABI major. */
    public const ABI_VERSION_MIN = 100;
    public const ABI_MAJOR = 0;

    private static ?FFI $ffi = null;
    private static ?string $path = null;
    /** @var array<string,int>|null */
    private static ?array $constants = null;

    /** The FFI instance (loads the library on first use in this request). */
    public static function ffi(): FFI
    {
        if (self::$ffi === null) {
            self::load();
        }
        return self::$ffi;
    }

    /** The path (or SONAME) the library was loaded from, or "FFI scope modfilter" when preloaded. */
    public static function path(): string
    {
        self::ffi();
        return self::$path;
    }

    /** The library's version, "major.minor.patch". */
    public static function version(): string
    {
        return self::ffi()->mf_version();
    }

    /** An integer constant of modfilter.h (MF_E_RULES, MF_ACTION_HOLD, ...). */
    public static function constant(string $name): int
    {
        $c = self::constants();
        if (!isset($c[$name])) {
            throw new \LogicException("modfilter.h has no integer constant $name");
        }
        return $c[$name];
    }

    /** @return array<string,int> every integer constant of modfilter.h */
    public static function constants(): array
    {
        if (self::$constants === null) {
            self::$constants = self::declarations()['constants'];
        }
        return self::$constants;
    }

    private static function load(): void
    {
        self::checkFfi();
        try {
            self::$ffi = FFI::scope(self::SCOPE);
            self::$path = 'FFI scope ' . self::SCOPE;
            return;
        } catch (\Throwable $e) {
            // not preloaded
        }
        if (!self::cdefAllowed()) {
            throw self::disabled();
        }
        [self::$ffi, self::$path] = self::open(self::declarations()['cdef']);
    }

    /** @return array{0: FFI, 1: string} */
    private static function open(string $cdef): array
    {
        $tried = [];
        foreach (self::candidates() as $cand) {
            try {
                $ffi = FFI::cdef($cdef, $cand);
            } catch (\Throwable $e) {
                $why = str_starts_with($e->getMessage(), 'Failed loading')
                    ? (is_file($cand) ? 'not a loadable shared library for this machine' : 'not found')
                    : 'not a modfilter library: ' . $e->getMessage();
                $tried[] = "$cand ($why)";
                continue;
            }
            $number = $ffi->mf_version_number();
            if ($number < self::ABI_VERSION_MIN || intdiv($number, 10000) !== self::ABI_MAJOR) {
                $tried[] = sprintf('%s (version %s; this binding needs %d.x >= 0.1.0)',
                    $cand, FFI::string($ffi->mf_version()), self::ABI_MAJOR);
                continue;
            }
            return [$ffi, $cand];
        }
        throw new LibraryException('libmodfilter not found. Build it (cmake -S . -B build && cmake --build build), '
            . 'install it (cmake --install build), or set ' . self::ENV_LIBRARY . ' to the library\'s path. Tried: '
            . implode('; ', $tried));
    }

    /** @return list<string> */
    public static function candidates(): array
    {
        $env = getenv(self::ENV_LIBRARY);
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        $soname = 'libmodfilter.so.' . self::ABI_MAJOR;
        $out = [$soname, "/usr/local/lib/$soname", "/usr/lib/$soname"];
        foreach (self::buildTrees() as $dir) {
            $out[] = "$dir/capi/libmodfilter.so";
        }
        return $out;
    }

    /** @return list<string> build directories of the checkout this file is in */
    private static function buildTrees(): array
    {
        $root = dirname(__DIR__, 3);
        if (!is_file("$root/capi/include/modfilter/modfilter.h")) {
            return [];
        }
        return array_values(array_filter(["$root/build", "$root/build-asan"], 'is_dir'));
    }

    /** @return array{cdef: string, constants: array<string,int>} */
    private static function declarations(): array
    {
        static $decl = null;
        if ($decl !== null) {
            return $decl;
        }
        $decl = self::readDeclarations();
        return $decl;
    }

    /** @return array{cdef: string, constants: array<string,int>} */
    private static function readDeclarations(): array
    {
        $env = getenv(self::ENV_DECLARATIONS);
        $cands = is_string($env) && $env !== '' ? [$env] : array_merge(
            [dirname(__DIR__) . '/modfilter.ffi.php'],
            array_map(fn ($d) => "$d/bindings/php/modfilter.ffi.php", self::buildTrees())
        );
        foreach ($cands as $file) {
            if (is_file($file)) {
                return require $file;
            }
        }
        throw new LibraryException('modfilter.ffi.php (the declarations generated from modfilter.h at build time) '
            . 'not found. Build the binding (cmake --build build) or set ' . self::ENV_DECLARATIONS
            . '. Tried: ' . implode('; ', $cands));
    }

    private static function checkFfi(): void
    {
        if (!extension_loaded('ffi')) {
            throw new FfiUnavailableException('the PHP FFI extension is not loaded in this PHP (' . PHP_SAPI
                . '): enable it with extension=ffi in php.ini (Debian builds it into php8.2-cli, php8.2-fpm '
                . 'and libapache2-mod-php8.2; check `php -m | grep FFI`)');
        }
    }

    private static function cdefAllowed(): bool
    {
        $v = strtolower((string)ini_get('ffi.enable'));
        if (in_array($v, ['1', 'on', 'true', 'yes'], true)) {
            return true;
        }
        return $v === 'preload' && in_array(PHP_SAPI, ['cli', 'phpdbg'], true);
    }

    private static function disabled(): FfiUnavailableException
    {
        $ini = php_ini_loaded_file() ?: 'php.ini';
        $header = self::preloadHeader();
        return new FfiUnavailableException(sprintf(
            'PHP FFI is disabled here (ffi.enable=%s, SAPI %s): PHP allows FFI::cdef() only in the command line '
            . 'with the default ffi.enable=preload. Either preload modfilter at server start (recommended for a web '
            . 'server): set ffi.preload=%s in %s (with ffi.enable=preload, the default); or allow FFI everywhere '
            . 'with ffi.enable=1 in %s. Then restart the web server or PHP-FPM.',
            (string)ini_get('ffi.enable'), PHP_SAPI, $header, $ini, $ini));
    }

    /** The generated header for php.ini's ffi.preload (installed beside these sources). */
    public static function preloadHeader(): string
    {
        $env = getenv(self::ENV_DECLARATIONS);
        if (is_string($env) && $env !== '') {
            return preg_replace('/\.php$/', '.h', $env);
        }
        foreach (array_merge([dirname(__DIR__)], array_map(fn ($d) => "$d/bindings/php", self::buildTrees())) as $dir) {
            if (is_file("$dir/modfilter.ffi.h")) {
                return "$dir/modfilter.ffi.h";
            }
        }
        return dirname(__DIR__) . '/modfilter.ffi.h';
    }
}
