<?php
// The modfilter PHP binding: require this file, then use Modfilter\Engine.
// (composer.json maps the same files for Composer users.)
require_once __DIR__ . '/src/Exceptions.php';
require_once __DIR__ . '/src/Library.php';
require_once __DIR__ . '/src/Hit.php';
require_once __DIR__ . '/src/Verdict.php';
require_once __DIR__ . '/src/Engine.php';
