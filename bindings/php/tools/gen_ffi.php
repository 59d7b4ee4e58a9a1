<?php
/*
 * gen_ffi.php -- turns capi/include/modfilter/modfilter.h into what the PHP binding loads (FFI::cdef()
 * takes no preprocessor lines, so neither can come from the header directly):
 *   modfilter.ffi.php  the declarations for FFI::cdef() and the header's integer constants;
 *   modfilter.ffi.h    the same declarations as an FFI scope "modfilter" on libmodfilter.so.0, for
 *                      php.ini's ffi.preload (web servers under ffi.enable=preload).
 *
 *   php gen_ffi.php DECLARATIONS MACROS OUT_PHP OUT_H
 *
 * DECLARATIONS is the header run through the C preprocessor (cc -E -P, with empty stddef.h and
 * stdint.h, whose types FFI knows, and MF_API empty); MACROS is `cc -E -dM` of the same header.
 * Both come from the build (bindings/php/CMakeLists.txt), so the binding never keeps a hand-written
 * copy of the header.
 */
if ($argc !== 5) {
    fwrite(STDERR, "usage: php gen_ffi.php DECLARATIONS MACROS OUT_PHP OUT_H\n");
    exit(2);
}
[, $declFile, $macroFile, $out, $outH] = $argv;
$decl = file_get_contents($declFile);
$macros = file_get_contents($macroFile);
if ($decl === false || $macros === false) {
    exit(1);
}
// Blank lines and leading spaces left where MF_API and comments were.
$lines = [];
foreach (preg_split('/\R/', $decl) as $line) {
    if (trim($line) === '') {
        continue;
    }
    if ($line[0] === '#') {
        fwrite(STDERR, "gen_ffi: a preprocessor line survived: $line\n");
        exit(1);
    }
    $lines[] = preg_replace('/^ (?=\S)/', '', $line);
}
$cdef = implode("\n", $lines) . "\n";
if (!str_contains($cdef, 'mf_scan_batch') || !preg_match('/typedef struct mf_post \{.*?\} mf_post;/s', $cdef, $post)) {
    fwrite(STDERR, "gen_ffi: the declarations lack mf_scan_batch or mf_post\n");
    exit(1);
}
// What the binding adds to the header's declarations:
// - FFI turns a returned `const char *` into a PHP string cut at the first NUL; the censored copy
//   of a post may hold NUL bytes, so it comes back as a pointer read with its length;
// - mf_post again with every pointer as an address (uintptr_t): the binding fills posts with plain
//   integers (PHP FFI's pointer arithmetic and pointer fields are slow and fragile), then passes
//   the array as mf_post;
// - three libc functions, reached through libmodfilter's handle (dlsym searches its dependencies),
//   with which a worker keeps its engine across requests (Engine::shared).
$n = 0;
$cdef = str_replace('const char *mf_verdict_censored(', 'const uint8_t *mf_verdict_censored(', $cdef, $n);
if ($n !== 1) {
    fwrite(STDERR, "gen_ffi: mf_verdict_censored not found\n");
    exit(1);
}
$cdef .= "/* added by the PHP binding */\n"
    . preg_replace(['/\bconst char \*(\w+);/', '/\bmf_post\b/'], ['uintptr_t $1;', 'mf_post_addr'], $post[0]) . "\n"
    . "int setenv(const char *name, const char *value, int overwrite);\n"
    . "char *getenv(const char *name);\n"
    . "void *dlopen(const char *file, int mode);\n";

// Object-like MF_* macros whose value is an integer expression of literals and other MF_* names.
$raw = [];
foreach (preg_split('/\R/', $macros) as $line) {
    if (preg_match('/^#define (MF_[A-Z0-9_]+) (.+)$/', $line, $m)) {
        $raw[$m[1]] = trim($m[2]);
    }
}
ksort($raw);
$consts = [];
$eval = function (string $name) use (&$eval, &$consts, $raw): ?int {
    if (array_key_exists($name, $consts)) {
        return $consts[$name];
    }
    $expr = $raw[$name] ?? null;
    if ($expr === null || !preg_match('/^[-+*()\sA-Z0-9_xa-fu]+$/', $expr) || str_contains($expr, '__')) {
        return null;
    }
    $bad = false;
    $expr = preg_replace_callback('/\bMF_[A-Z0-9_]+\b/', function ($m) use (&$bad, $eval) {
        $v = $eval($m[0]);
        if ($v === null) {
            $bad = true;
        }
        return (string)$v;
    }, $expr);
    $expr = preg_replace('/\b(0x[0-9a-fA-F]+|\d+)[uU]?[lL]{0,2}\b/', '$1', $expr);
    if ($bad || !preg_match('/^[-+*()\s0-9xa-fA-F]+$/', $expr) || preg_match('/\b[a-fA-F]+\b/', $expr)) {
        return null;
    }
    return $consts[$name] = (int)eval("return $expr;");
};
foreach (array_keys($raw) as $name) {
    $eval($name);
}
ksort($consts);
foreach (['MF_OK', 'MF_E_RULES', 'MF_ACTION_REJECT', 'MF_POST_VERSION', 'MF_HIT_VERSION'] as $need) {
    if (!isset($consts[$need])) {
        fwrite(STDERR, "gen_ffi: constant $need not found\n");
        exit(1);
    }
}

$php = "<?php\n// Generated from modfilter.h by bindings/php/tools/gen_ffi.php at build time: do not edit.\n"
    . "return [\n    'cdef' => " . var_export($cdef, true) . ",\n    'constants' => [\n";
foreach ($consts as $k => $v) {
    $php .= "        '$k' => $v,\n";
}
$php .= "    ],\n];\n";
// FFI reads FFI_SCOPE and FFI_LIB only as the file's first lines.
$h = "#define FFI_SCOPE \"modfilter\"\n#define FFI_LIB \"libmodfilter.so.0\"\n"
    . "/* Generated from modfilter.h by bindings/php/tools/gen_ffi.php at build time: do not edit.\n"
    . " * For php.ini: ffi.preload=/path/to/this/file (the scope the PHP binding looks for first). */\n" . $cdef;
foreach ([$out => $php, $outH => $h] as $file => $text) {
    if (file_put_contents("$file.tmp", $text) === false || !rename("$file.tmp", $file)) {
        exit(1);
    }
}
