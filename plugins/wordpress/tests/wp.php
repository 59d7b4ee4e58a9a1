<?php
/*
 * wp.php -- the PHP side of e2e.sh: runs inside the test's WordPress (php-cli, its own config file
 * picked by WORDPRESS_CONFIG) and does one step per call:
 *
 *   php wp.php install URL          install WordPress, users, settings; activate the plugin
 *   php wp.php comments             post comments through wp_new_comment() and check them
 *   php wp.php check-http           check the comments that e2e.sh posted to wp-comments-post.php
 *   php wp.php binding              the "PHP binding" setting: only the binding's autoload.php is loaded
 *
 * Every check that fails prints "FAIL: ..." and makes the exit code 1.
 */
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');
$_SERVER['HTTP_HOST'] = parse_url((string)getenv('WP_URL'), PHP_URL_HOST) . ':' . parse_url((string)getenv('WP_URL'), PHP_URL_PORT);
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', ($argv[1] ?? '') === 'install');
require '/usr/share/wordpress/wp-load.php';

$failures = 0;
function check(bool $ok, string $what): void
{
    global $failures;
    echo ($ok ? 'ok: ' : 'FAIL: ') . $what . "\n";
    if (!$ok) {
        $failures++;
    }
}

/** The newest comment with this author name, as WordPress stored it (any status). */
function comment_by(string $author): ?WP_Comment
{
    global $wpdb;
    $id = $wpdb->get_var($wpdb->prepare("SELECT comment_ID FROM $wpdb->comments WHERE comment_author = %s ORDER BY comment_ID DESC LIMIT 1", $author));
    return $id ? get_comment((int)$id) : null;
}

function verdict_of(WP_Comment $c): array
{
    return json_decode((string)get_comment_meta((int)$c->comment_ID, '_modfilter_verdict', true), true) ?: [];
}

switch ($argv[1] ?? '') {
case 'install':
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    require_once ABSPATH . 'wp-admin/includes/plugin.php';
    $r = wp_install('modfilter test', 'admin', 'admin@example.test', true, '', wp_generate_password(20), 'en_US');
    check(isset($r['user_id']) && $r['user_id'] > 0, 'wp_install() created the administrator');
    foreach ([
        'comment_previously_approved' => 0, // else every first comment is held anyway
        'comment_moderation' => 0,
        'moderation_notify' => 0,           // no mail from the test
        'comments_notify' => 0,
        'show_avatars' => 0,                // avatars would wait for Gravatar
        'comment_max_links' => 10,
        'moderation_keys' => '',
        'disallowed_keys' => '',
        'siteurl' => getenv('WP_URL'),
        'home' => getenv('WP_URL'),
    ] as $k => $v) {
        update_option($k, $v);
    }
    update_option('modfilter_settings', ['rules_dir' => '', 'binding' => '', 'flag_action' => 'approve',
        'reject_action' => 'spam', 'failure_action' => 'hold', 'staff_roles' => 'administrator,editor']);
    $editor = wp_insert_user(['user_login' => 'staffer', 'user_pass' => wp_generate_password(20),
        'user_email' => 'staffer@example.test', 'role' => 'editor', 'display_name' => 'Staffer']);
    $member = wp_insert_user(['user_login' => 'member', 'user_pass' => wp_generate_password(20),
        'user_email' => 'member@example.test', 'role' => 'subscriber', 'display_name' => 'Member']);
    check(is_int($editor) && is_int($member), 'an editor and a subscriber exist');
    $act = activate_plugin('modfilter/modfilter.php');
    check($act === null, 'the plugin activated' . (is_wp_error($act) ? ': ' . $act->get_error_message() : ''));
    $post = get_post(1);
    check($post !== null && $post->comment_status === 'open', 'the first post takes comments');
    break;

case 'comments':
    $editor = get_user_by('login', 'staffer');
    $member = get_user_by('login', 'member');
    $n = 0;
    $new = function (string $author, string $text, ?WP_User $user = null) use (&$n) {
        $n++;
        $data = ['comment_post_ID' => 1, 'comment_content' => $text, 'comment_type' => 'comment',
            'comment_author' => $author, 'comment_author_email' => strtolower($author) . "@example.test",
            'comment_author_url' => '', 'comment_author_IP' => "192.0.2.$n", 'comment_agent' => 'e2e',
            'comment_date' => gmdate('Y-m-d H:i:s', time() - 3600 * $n), 'comment_date_gmt' => gmdate('Y-m-d H:i:s', time() - 3600 * $n),
            'user_id' => $user ? $user->ID : 0];
        if ($user) {
            wp_set_current_user($user->ID);
        } else {
            wp_set_current_user(0);
        }
        $id = wp_new_comment(wp_slash($data), true);
        if (is_wp_error($id)) {
            check(false, "wp_new_comment($author): " . $id->get_error_message());
            return null;
        }
        return get_comment($id);
    };
    $promise = "We'll refund everyone by Friday";
    $clean = $new('Clean', 'Thanks, the firmware update fixed my router.');
    check($clean && $clean->comment_approved === '1', 'a clean comment is approved'
        . ($clean && ($e = get_comment_meta((int)$clean->comment_ID, '_modfilter_error', true)) ? " (the filter failed: $e)" : ''));
    check($clean && get_comment_meta((int)$clean->comment_ID, '_modfilter_action', true) === 'ALLOW', 'its verdict ALLOW is recorded');
    $threat = $new('Threat', 'I will kill you and your family if you post that again');
    check($threat && in_array($threat->comment_approved, ['spam', 'trash'], true), 'a threat is spam or trash (' . ($threat->comment_approved ?? '?') . ')');
    check($threat && get_comment_meta((int)$threat->comment_ID, '_modfilter_action', true) === 'REJECT', 'its verdict REJECT is recorded');
    check($threat && !empty(verdict_of($threat)['hits']), 'its hits are kept as comment meta');
    $staff = $new('Staffer', $promise, $editor);
    check($staff && $staff->comment_approved === '0', 'a staff refund promise is held');
    check($staff && get_comment_meta((int)$staff->comment_ID, '_modfilter_action', true) === 'HOLD', 'its verdict HOLD is recorded');
    check($staff && verdict_of($staff)['role'] === 'staff', 'the editor scanned as staff');
    check($staff && verdict_of($staff)['routes'] !== [], 'its routes are kept (' . json_encode($staff ? verdict_of($staff)['routes'] : null) . ')');
    $sub = $new('Member', $promise, $member);
    check($sub && $sub->comment_approved === '1', 'the same words from a subscriber are approved');
    check($sub && verdict_of($sub)['role'] === 'member', 'the subscriber scanned as a member');
    $insult = $new('Insulter', 'You are an idiot');
    check($insult && $insult->comment_approved === '1', 'an insult (FLAG) is approved');
    check($insult && get_comment_meta((int)$insult->comment_ID, '_modfilter_action', true) === 'FLAG', 'and its verdict FLAG recorded');
    $bad = $new('Broken', "caf\xC3 \xFF ok then, you are an idiot");
    check($bad !== null, 'invalid UTF-8 through wp_new_comment does not break it');
    // WordPress's own comment filters (kses) drop bytes that are not UTF-8 before any plugin sees the
    // comment: what is scanned, and published, is that text, and the hits index it.
    $hit = $bad ? (verdict_of($bad)['hits'][0] ?? null) : null;
    check($bad && verdict_of($bad)['action'] === 'FLAG', 'and it was scanned (FLAG for the insult in it)');
    check($hit && substr($bad->comment_content, $hit['start'], $hit['end'] - $hit['start']) === $hit['text'],
        'its hits index the comment as WordPress stored it');
    // The REST API (what the block editor and apps use) goes through the same filter.
    wp_set_current_user($member->ID);
    $_SERVER['REMOTE_ADDR'] = '192.0.2.200';
    $req = new WP_REST_Request('POST', '/wp/v2/comments');
    $req->set_body_params(['post' => 1, 'content' => 'Through the REST API: you are an idiot']);
    $res = rest_do_request($req);
    $rid = $res->get_data()['id'] ?? 0;
    check($res->get_status() === 201 && $rid > 0, 'a comment through the REST API is created (' . $res->get_status() . ')');
    check($rid && get_comment_meta((int)$rid, '_modfilter_action', true) === 'FLAG', 'and its verdict FLAG recorded');
    // An edit: the clean comment becomes a threat.
    wp_set_current_user(1);
    $r = wp_update_comment(['comment_ID' => $clean->comment_ID, 'comment_content' => 'Now I will kill you'], true);
    check(!is_wp_error($r), 'wp_update_comment() edits the clean comment');
    $edited = get_comment($clean->comment_ID);
    check(in_array($edited->comment_approved, ['spam', 'trash'], true), 'the edit to a threat is spam or trash (' . $edited->comment_approved . ')');
    check(get_comment_meta((int)$clean->comment_ID, '_modfilter_action', true) === 'REJECT', 'the edit\'s verdict is recorded');
    // The filter cannot run: a rules directory with a mistake holds, never approves.
    $s = get_option('modfilter_settings');
    update_option('modfilter_settings', ['rules_dir' => getenv('MF_BAD_RULES')] + $s);
    $failed = $new('Unfiltered', 'A perfectly ordinary comment about routers.');
    check($failed && $failed->comment_approved === '0', 'when the filter cannot run, the comment is held');
    $err = $failed ? (string)get_comment_meta((int)$failed->comment_ID, '_modfilter_error', true) : '';
    check(str_contains($err, 'RulesException') && str_contains($err, 'pack.toml:14'), "and the reason is kept ($err)");
    // A compiled database (`modfilter compile` output) as the rules setting: the test pack's rules judge.
    if (getenv('MF_DB')) {
        update_option('modfilter_settings', ['rules_dir' => getenv('MF_DB')] + $s);
        $fromDb = $new('Compiled', 'You are an idiot');
        $v = $fromDb ? verdict_of($fromDb) : [];
        check($fromDb && get_comment_meta((int)$fromDb->comment_ID, '_modfilter_action', true) === 'FLAG'
            && ($v['hits'][0]['rule'] ?? '') === 'test.idiot', 'a comment is judged by the compiled database\'s rules ('
            . json_encode($v['hits'][0]['rule'] ?? get_comment_meta((int)($fromDb->comment_ID ?? 0), '_modfilter_error', true)) . ')');
        $dbThreat = $new('CompiledThreat', 'I will kill you');
        check($dbThreat && in_array($dbThreat->comment_approved, ['spam', 'trash'], true)
            && (verdict_of($dbThreat)['hits'][0]['rule'] ?? '') === 'test.kill', 'and a threat is rejected by it');
        update_option('modfilter_settings', ['rules_dir' => getenv('MF_BAD_DB')] + $s);
        $dbFailed = $new('DamagedDb', 'Another ordinary comment about routers.');
        check($dbFailed && $dbFailed->comment_approved === '0', 'with a damaged compiled database, the comment is held');
        $err = $dbFailed ? (string)get_comment_meta((int)$dbFailed->comment_ID, '_modfilter_error', true) : '';
        check(str_contains($err, 'BadDatabaseException') && str_contains($err, 'damaged.mfdb'), "and the reason is kept ($err)");
    } else {
        echo "skipped: the compiled database step (no modfilter CLI)\n";
    }
    update_option('modfilter_settings', $s);
    // The admin comment list's column (its page is checked over HTTP by e2e.sh).
    $plugin = Modfilter_Plugin::instance();
    check(isset($plugin->columns([])['modfilter']), 'the admin comment list gets a modfilter column');
    ob_start();
    $plugin->column('modfilter', $staff->comment_ID);
    $html = ob_get_clean();
    check(str_contains($html, 'HOLD') && str_contains($html, 'promise.'), 'the column shows the verdict and categories');
    break;

case 'check-http':
    $threat = comment_by('Http Threat');
    check($threat !== null && in_array($threat->comment_approved, ['spam', 'trash'], true),
        'a threat POSTed to wp-comments-post.php is spam or trash (' . ($threat->comment_approved ?? 'missing') . ')');
    check($threat && get_comment_meta((int)$threat->comment_ID, '_modfilter_action', true) === 'REJECT', 'with its verdict recorded');
    $clean = comment_by('Http Clean');
    check($clean !== null && $clean->comment_approved === '1', 'a clean POSTed comment is approved');
    $bad = comment_by('Http Broken');
    check($bad !== null, 'a POSTed comment with invalid UTF-8 was saved');
    check($bad && verdict_of($bad)['action'] === 'FLAG', 'and it was scanned (FLAG for the insult in it)');
    $times = array_filter(array_map(fn ($c) => $c ? get_comment_meta((int)$c->comment_ID, '_modfilter_action', true) : '', [$threat, $clean, $bad]));
    check(count($times) === 3, 'every POSTed comment has a verdict');
    break;

case 'binding':
    // A process of its own: the binding is not loaded yet when it starts.
    require_once ABSPATH . 'wp-admin/includes/template.php';
    require_once ABSPATH . 'wp-admin/includes/misc.php';
    require_once ABSPATH . 'wp-admin/includes/plugin.php';
    $plugin = Modfilter_Plugin::instance();
    $s = get_option('modfilter_settings');
    $n = 0;
    $comment = function (string $author) use (&$n) {
        $n++;
        wp_set_current_user(0);
        $id = wp_new_comment(wp_slash(['comment_post_ID' => 1, 'comment_content' => "A comment about routers, number $n.",
            'comment_type' => 'comment', 'comment_author' => $author, 'comment_author_email' => "binding$n@example.test",
            'comment_author_url' => '', 'comment_author_IP' => "198.51.100.$n", 'comment_agent' => 'e2e',
            'comment_date' => gmdate('Y-m-d H:i:s', time() - 60 * $n), 'comment_date_gmt' => gmdate('Y-m-d H:i:s', time() - 60 * $n),
            'user_id' => 0]), true);
        return is_wp_error($id) ? null : get_comment($id);
    };
    $real = dirname(__DIR__, 3) . '/bindings/php/autoload.php';
    foreach (['/etc/hostname' => 'is not the modfilter PHP binding', __DIR__ . '/no-such/autoload.php' => 'does not exist',
                 dirname($real) . '/src/Engine.php' => 'is not the modfilter PHP binding',
                 dirname($real) => 'is not the modfilter PHP binding'] as $bad => $why) {
        update_option('modfilter_settings', ['binding' => $bad] + $s);
        ob_start();
        $c = $comment("Binding $n");
        $printed = ob_get_clean();
        check($printed === '', "with the binding path $bad nothing is printed (" . json_encode(substr($printed, 0, 60)) . ')');
        check(!class_exists('Modfilter\\Engine', false), "nothing is loaded from $bad");
        check($c && $c->comment_approved === '0', "a comment is held while the binding path is $bad");
        $err = $c ? (string)get_comment_meta((int)$c->comment_ID, '_modfilter_error', true) : '';
        check(str_contains($err, $bad) && str_contains($err, $why), "and its note says why ($err)");
        // the settings page: saving the setting, and the status box
        global $wp_settings_errors;
        $wp_settings_errors = [];
        $plugin->sanitize(['binding' => $bad] + $s);
        $msgs = implode(' ', array_column(get_settings_errors(Modfilter_Plugin::OPTION), 'message'));
        check(str_contains($msgs, $bad) && str_contains($msgs, $why), "saving $bad shows an error ($msgs)");
        wp_set_current_user(1);
        ob_start();
        $plugin->page();
        $html = ob_get_clean();
        check((bool)preg_match('{notice-error inline"><p id="modfilter-status">[^<]*' . preg_quote(esc_html($bad)) . '[^<]*'
            . preg_quote($why) . '}', $html), "the settings page's status box names $bad and why");
    }
    // The real binding's autoload.php is accepted and loaded.
    $wp_settings_errors = [];
    $plugin->sanitize(['binding' => $real] + $s);
    check(get_settings_errors(Modfilter_Plugin::OPTION) === [], 'saving the binding\'s own autoload.php shows no error');
    update_option('modfilter_settings', ['binding' => $real] + $s);
    $c = $comment('Binding ok');
    check($c && $c->comment_approved === '1' && get_comment_meta((int)$c->comment_ID, '_modfilter_action', true) === 'ALLOW',
        'with the binding\'s autoload.php set, comments are scanned (' . ($c ? get_comment_meta((int)$c->comment_ID, '_modfilter_error', true) : '') . ')');
    update_option('modfilter_settings', $s);
    break;

default:
    fwrite(STDERR, "usage: php wp.php install|comments|check-http|binding\n");
    exit(2);
}
exit($failures ? 1 : 0);
