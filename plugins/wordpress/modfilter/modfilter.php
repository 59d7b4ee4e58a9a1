<?php
/**
 * Plugin Name: modfilter
 * Description: Scans every new and edited comment with modfilter (abuse, threats, spam, staff promises) and maps its verdict onto WordPress's own moderation.
 * Version: 0.1.0
 * Requires PHP: 8.1
 * License: Proprietary
 *
 * Verdicts: ALLOW approves as WordPress would; FLAG approves and records the verdict for moderators;
 * HOLD puts the comment in the moderation queue; REJECT marks it spam or moves it to the trash (a
 * setting). When the filter cannot run, the comment is held (or spam / trash: a setting), never
 * silently approved. Hits, categories and routes are kept as comment meta and shown in a column of
 * the admin comment list. See README.md.
 */

if (!defined('ABSPATH')) {
    exit;
}

require_once __DIR__ . '/includes/class-modfilter-plugin.php';

Modfilter_Plugin::instance()->register();
