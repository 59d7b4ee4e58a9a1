<?php
/**
 * The plugin: comment hooks, meta, the admin column and the settings page.
 */

if (!defined('ABSPATH')) {
    exit;
}

final class Modfilter_Plugin
{
    public const OPTION = 'modfilter_settings';
    /** Comment meta keys. */
    public const META_ACTION = '_modfilter_action';     // ALLOW, FLAG, HOLD, REJECT or ERROR
    public const META_VERDICT = '_modfilter_verdict';   // the verdict as JSON (hits, categories, routes, ...)
    public const META_ERROR = '_modfilter_error';       // why the filter could not run

    private static ?Modfilter_Plugin $instance = null;
    /** The verdict of the comment being saved, between pre_comment_approved and wp_insert_comment. */
    private ?array $pending = null;
    /** Verdicts of comment edits, between wp_update_comment_data and edit_comment. */
    private array $edits = [];

    public static function instance(): self
    {
        return self::$instance ??= new self();
    }

    public static function defaults(): array
    {
        return [
            'rules_dir' => '',                            // '' = the default packs built into the library; a
                                                          // directory or .toml file of packs, or a compiled
                                                          // database (*.mfdb, from `modfilter compile`)
            'binding' => '',                              // '' = look in the usual places
            'flag_action' => 'approve',                   // approve (as WordPress would) | hold
            'reject_action' => 'spam',                    // spam | trash
            'failure_action' => 'hold',                   // hold | spam | trash
            'staff_roles' => 'administrator,editor',
        ];
    }

    public function settings(): array
    {
        $s = get_option(self::OPTION, []);
        return array_merge(self::defaults(), is_array($s) ? $s : []);
    }

    public function register(): void
    {
        // Priority 99: after WordPress's own checks and other plugins, so the stricter wins below.
        add_filter('pre_comment_approved', [$this, 'on_new_comment'], 99, 2);
        // wp_insert_comment fires for every way in (the form, wp_new_comment(), the REST API), once the
        // comment has its id; comment_post would miss comments created through REST.
        add_action('wp_insert_comment', [$this, 'on_comment_inserted'], 10, 2);
        add_filter('wp_update_comment_data', [$this, 'on_update_comment'], 99, 3);
        add_action('edit_comment', [$this, 'on_edit_comment'], 10, 2);
        if (is_admin()) {
            add_filter('manage_edit-comments_columns', [$this, 'columns']);
            add_action('manage_comments_custom_column', [$this, 'column'], 10, 2);
            add_action('admin_menu', [$this, 'menu']);
            add_action('admin_init', [$this, 'register_settings']);
        }
    }

    // ------------------------------------------------------------------ scanning

    /** The binding's entry file: the only file the plugin ever loads (beside it: src/Engine.php). */
    public const BINDING_FILE = 'autoload.php';

    /**
     * Why $path is not the modfilter PHP binding's autoload.php, or null when it is: a readable
     * regular file named autoload.php with the binding's src/Engine.php beside it. Nothing else is
     * ever loaded (any other file's text would go out in the response, before the headers).
     */
    public static function binding_problem(string $path): ?string
    {
        if (!file_exists($path)) {
            return sprintf(__('The PHP binding path %s does not exist.', 'modfilter'), $path);
        }
        if (!is_file($path) || basename($path) !== self::BINDING_FILE
            || !is_file(dirname($path) . '/src/Engine.php')) {
            return sprintf(__('The PHP binding path %1$s is not the modfilter PHP binding: give the path of its %2$s (beside its src/Engine.php), e.g. /usr/local/share/modfilter/php/autoload.php.', 'modfilter'),
                $path, self::BINDING_FILE);
        }
        if (!is_readable($path)) {
            return sprintf(__('The PHP binding %s cannot be read by the web server.', 'modfilter'), $path);
        }
        return null;
    }

    /**
     * Loads the PHP binding: the binding setting, else MODFILTER_PHP_AUTOLOAD (constant, then
     * environment), else the install places. A path that is set (setting or MODFILTER_PHP_AUTOLOAD) is
     * the only one tried, and must be the binding's autoload.php: anything else is an error, never
     * loaded and never silently replaced by another place.
     */
    public function load_binding(): void
    {
        if (class_exists('Modfilter\\Engine')) {
            return;
        }
        $s = $this->settings();
        $set = [
            __('the "PHP binding" setting (Settings > modfilter)', 'modfilter') => (string)$s['binding'],
            __('the MODFILTER_PHP_AUTOLOAD constant', 'modfilter') => defined('MODFILTER_PHP_AUTOLOAD') ? (string)MODFILTER_PHP_AUTOLOAD : '',
            __('the MODFILTER_PHP_AUTOLOAD environment variable', 'modfilter') => (string)getenv('MODFILTER_PHP_AUTOLOAD'),
        ];
        foreach ($set as $where => $file) {
            if ($file === '') {
                continue;
            }
            $problem = self::binding_problem($file);
            if ($problem !== null) {
                throw new RuntimeException($problem . ' ' . sprintf(__('(set by %s)', 'modfilter'), $where));
            }
            $this->require_binding($file);
            return;
        }
        $cands = [
            dirname(__DIR__) . '/vendor/modfilter/autoload.php',
            '/usr/local/share/modfilter/php/autoload.php',
            '/usr/share/modfilter/php/autoload.php',
        ];
        foreach ($cands as $file) {
            if (self::binding_problem($file) === null) {
                $this->require_binding($file);
                return;
            }
        }
        throw new RuntimeException('the modfilter PHP binding was not found (tried ' . implode(', ', $cands)
            . '): install modfilter (cmake --install) or set its autoload.php in Settings > modfilter');
    }

    private function require_binding(string $file): void
    {
        require_once $file;
        if (!class_exists('Modfilter\\Engine')) {
            throw new RuntimeException(sprintf(__('%s did not define Modfilter\\Engine: it is not the modfilter PHP binding.', 'modfilter'), $file));
        }
    }

    /**
     * Scans a comment's text. Returns [verdict array or null, error message or null]; never throws.
     */
    public function scan(string $text, int $user_id, array $fields = []): array
    {
        try {
            $this->load_binding();
            $s = $this->settings();
            $engine = $this->engine($s['rules_dir']);
            $post = ['role' => $this->is_staff($user_id) ? 'staff' : 'member'] + $fields;
            $v = $engine->scan($text, $post);
            $out = $v->toArray();
            $out['role'] = $post['role'];
            return [$out, null];
        } catch (Throwable $e) {
            return [null, get_class($e) . ': ' . $e->getMessage()];
        }
    }

    /**
     * The worker's engine for the rules setting: the default packs (''), a compiled database (a file
     * named *.mfdb, loaded in milliseconds) or rule packs (a directory or .toml file, compiled on the
     * worker's first comment). Throws what the binding throws (a rules mistake, a damaged database,
     * one from another modfilter version), which the callers show or keep as the reason.
     */
    private function engine(string $rules): Modfilter\Engine
    {
        if ($rules !== '' && self::is_database($rules) && !method_exists(Modfilter\Engine::class, 'fromDatabase')) {
            throw new RuntimeException(sprintf('%s is a compiled database, which this modfilter PHP binding cannot load: install a newer binding, or set a rules directory instead.', $rules));
        }
        return Modfilter\Engine::shared($rules !== '' ? $rules : null);
    }

    /** Whether the rules setting names a compiled database (as Modfilter\Engine::shared() decides). */
    private static function is_database(string $rules): bool
    {
        return str_ends_with(strtolower($rules), '.mfdb');
    }

    public function is_staff(int $user_id): bool
    {
        if ($user_id <= 0) {
            return false;
        }
        $user = get_userdata($user_id);
        if (!$user) {
            return false;
        }
        $staff = array_filter(array_map('trim', explode(',', $this->settings()['staff_roles'])));
        $staff = apply_filters('modfilter_staff_roles', $staff, $user);
        return (bool)array_intersect($staff, (array)$user->roles);
    }

    /** What a verdict (or a failure) asks WordPress to do: null (leave WordPress's decision), 0, 'spam', 'trash'. */
    private function decide(?array $verdict): int|string|null
    {
        $s = $this->settings();
        if ($verdict === null) {
            return ['hold' => 0, 'spam' => 'spam', 'trash' => 'trash'][$s['failure_action']] ?? 0;
        }
        switch ($verdict['action']) {
            case 'REJECT':
                return $s['reject_action'] === 'trash' ? 'trash' : 'spam';
            case 'HOLD':
                return 0;
            case 'FLAG':
                return $s['flag_action'] === 'hold' ? 0 : null;
            default:
                return null;
        }
    }

    /** The stricter of WordPress's decision and ours (trash > spam > held > approved). */
    private static function stricter(int|string $wp, int|string|null $ours): int|string
    {
        if ($ours === null) {
            return $wp;
        }
        $rank = fn ($a) => match ((string)$a) { 'trash' => 3, 'spam' => 2, '1' => 0, default => 1 };
        return $rank($ours) >= $rank($wp) ? $ours : $wp;
    }

    /** pre_comment_approved: a new comment (wp_new_comment, wp-comments-post.php, REST). */
    public function on_new_comment($approved, $commentdata)
    {
        if (is_wp_error($approved)) {
            return $approved; // WordPress refused it already (flood, duplicate)
        }
        // wp_new_comment() hands this filter slashed data (\' for ').
        $text = wp_unslash((string)($commentdata['comment_content'] ?? ''));
        $user_id = (int)($commentdata['user_id'] ?? ($commentdata['user_ID'] ?? 0));
        [$verdict, $error] = $this->scan($text, $user_id, [
            'author' => $user_id > 0 ? "user:$user_id" : 'email:' . strtolower(wp_unslash((string)($commentdata['comment_author_email'] ?? ''))),
            'channel' => (string)($commentdata['comment_post_ID'] ?? ''),
        ]);
        $this->pending = ['verdict' => $verdict, 'error' => $error];
        return self::stricter($approved, $this->decide($verdict));
    }

    /** wp_insert_comment: the comment has an id now; keep the verdict with it. */
    public function on_comment_inserted($comment_id, $comment = null): void
    {
        if ($this->pending === null) {
            return;
        }
        $this->save_meta((int)$comment_id, $this->pending['verdict'], $this->pending['error']);
        $this->pending = null;
    }

    /** wp_update_comment_data: an edited comment is scanned again. */
    public function on_update_comment($data, $comment, $commentarr)
    {
        if (is_wp_error($data) || !isset($data['comment_content'])) {
            return $data;
        }
        $old = is_array($comment) ? ($comment['comment_content'] ?? null) : null;
        if ($old !== null && $old === $data['comment_content'] && get_comment_meta((int)$data['comment_ID'], self::META_ACTION, true) !== '') {
            return $data; // only the status or another field changed: a moderator's decision stands
        }
        $user_id = (int)($data['user_id'] ?? 0);
        [$verdict, $error] = $this->scan((string)$data['comment_content'], $user_id, [
            'id' => (string)$data['comment_ID'], 'edit' => true]);
        $this->edits[(int)$data['comment_ID']] = ['verdict' => $verdict, 'error' => $error];
        $current = $data['comment_approved'] ?? '1';
        $data['comment_approved'] = (string)self::stricter($current === 'approve' ? 1 : $current, $this->decide($verdict));
        return $data;
    }

    public function on_edit_comment($comment_id, $data = []): void
    {
        $id = (int)$comment_id;
        if (isset($this->edits[$id])) {
            $this->save_meta($id, $this->edits[$id]['verdict'], $this->edits[$id]['error']);
            unset($this->edits[$id]);
        }
    }

    private function save_meta(int $comment_id, ?array $verdict, ?string $error): void
    {
        if ($verdict === null) {
            update_comment_meta($comment_id, self::META_ACTION, 'ERROR');
            update_comment_meta($comment_id, self::META_ERROR, wp_slash($error ?? 'unknown error'));
            delete_comment_meta($comment_id, self::META_VERDICT);
            return;
        }
        // Hit texts can hold invalid UTF-8 (the comment's own bytes): keep them JSON-safe.
        $json = wp_json_encode($verdict, JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_UNICODE);
        update_comment_meta($comment_id, self::META_ACTION, $verdict['action']);
        update_comment_meta($comment_id, self::META_VERDICT, wp_slash($json));
        delete_comment_meta($comment_id, self::META_ERROR);
    }

    // ------------------------------------------------------------------ admin comment list

    public function columns(array $columns): array
    {
        $columns['modfilter'] = __('modfilter', 'modfilter');
        return $columns;
    }

    public function column(string $column, $comment_id): void
    {
        if ($column !== 'modfilter') {
            return;
        }
        $action = get_comment_meta((int)$comment_id, self::META_ACTION, true);
        if ($action === '') {
            echo '&mdash;';
            return;
        }
        if ($action === 'ERROR') {
            echo '<strong>' . esc_html__('filter failed', 'modfilter') . '</strong><br>'
                . esc_html(get_comment_meta((int)$comment_id, self::META_ERROR, true));
            return;
        }
        $v = json_decode((string)get_comment_meta((int)$comment_id, self::META_VERDICT, true), true) ?: [];
        echo '<strong class="modfilter-action modfilter-' . esc_attr(strtolower($action)) . '">' . esc_html($action) . '</strong>';
        if (!empty($v['routes'])) {
            echo ' &rarr; ' . esc_html(implode(', ', $v['routes']));
        }
        if (!empty($v['categories'])) {
            $cats = [];
            foreach ($v['categories'] as $name => $score) {
                $cats[] = $name . ' ' . $score;
            }
            echo '<br>' . esc_html(implode('; ', $cats));
        }
        foreach (array_slice($v['hits'] ?? [], 0, 5) as $h) {
            echo '<br><code>' . esc_html($h['rule']) . '</code> &ldquo;' . esc_html($h['text'] ?? '') . '&rdquo;';
        }
        if (!empty($v['invalid_utf8'])) {
            echo '<br>' . esc_html(sprintf(__('%d invalid UTF-8 sequences', 'modfilter'), $v['invalid_utf8']));
        }
    }

    // ------------------------------------------------------------------ settings page

    public function menu(): void
    {
        add_options_page('modfilter', 'modfilter', 'manage_options', 'modfilter', [$this, 'page']);
    }

    public function register_settings(): void
    {
        register_setting('modfilter', self::OPTION, ['type' => 'array', 'sanitize_callback' => [$this, 'sanitize'],
            'default' => self::defaults()]);
    }

    public function sanitize($in): array
    {
        $in = is_array($in) ? $in : [];
        $d = self::defaults();
        $pick = fn ($k, array $allowed) => in_array($in[$k] ?? '', $allowed, true) ? $in[$k] : $d[$k];
        $out = [
            'rules_dir' => trim(sanitize_text_field($in['rules_dir'] ?? '')),
            'binding' => trim(sanitize_text_field($in['binding'] ?? '')),
            'flag_action' => $pick('flag_action', ['approve', 'hold']),
            'reject_action' => $pick('reject_action', ['spam', 'trash']),
            'failure_action' => $pick('failure_action', ['hold', 'spam', 'trash']),
            'staff_roles' => implode(',', array_filter(array_map('sanitize_key', explode(',', (string)($in['staff_roles'] ?? ''))))),
        ];
        if ($out['staff_roles'] === '') {
            $out['staff_roles'] = $d['staff_roles'];
        }
        if ($out['binding'] !== '' && ($problem = self::binding_problem($out['binding'])) !== null) {
            add_settings_error(self::OPTION, 'binding', $problem . ' ' . __('Nothing is loaded from it: comments are handled as "filter cannot run" until it is fixed or emptied.', 'modfilter'));
        }
        if ($out['rules_dir'] !== '' && self::is_database($out['rules_dir'])) {
            if (!is_file($out['rules_dir'])) {
                add_settings_error(self::OPTION, 'rules_dir', sprintf(__('The compiled database %s does not exist: comments will be handled as "filter cannot run" until it does.', 'modfilter'), $out['rules_dir']));
            }
        } elseif ($out['rules_dir'] !== '' && !file_exists($out['rules_dir'])) {
            add_settings_error(self::OPTION, 'rules_dir', sprintf(__('The rules directory %s does not exist: comments will be handled as "filter cannot run" until it does.', 'modfilter'), $out['rules_dir']));
        }
        return $out;
    }

    /** The engine's state for the settings page: [ok, message]. */
    private function status(): array
    {
        $binding = (string)$this->settings()['binding'];
        if ($binding !== '' && ($problem = self::binding_problem($binding)) !== null) {
            return [false, $problem . ' ' . __('Nothing is loaded from it: comments are held (or spam / trash, as set below) until it is fixed or emptied.', 'modfilter')];
        }
        try {
            $this->load_binding();
            $s = $this->settings();
            $t0 = microtime(true);
            $engine = $this->engine($s['rules_dir']);
            $ms = (microtime(true) - $t0) * 1000;
            return [true, sprintf(__('libmodfilter %1$s (%2$s), %3$d rules from %4$s; engine ready in %5$.1f ms.', 'modfilter'),
                Modfilter\Library::version(), Modfilter\Library::path(), $engine->ruleCount(),
                $s['rules_dir'] !== '' ? $s['rules_dir'] : __('the default packs', 'modfilter'), $ms)];
        } catch (Throwable $e) {
            return [false, $e->getMessage()];
        }
    }

    public function page(): void
    {
        if (!current_user_can('manage_options')) {
            return;
        }
        $s = $this->settings();
        [$ok, $msg] = $this->status();
        $o = self::OPTION;
        $select = function (string $key, array $choices) use ($s, $o) {
            echo '<select name="' . esc_attr("{$o}[$key]") . '" id="modfilter-' . esc_attr($key) . '">';
            foreach ($choices as $value => $label) {
                echo '<option value="' . esc_attr($value) . '"' . selected($s[$key], $value, false) . '>' . esc_html($label) . '</option>';
            }
            echo '</select>';
        };
        ?>
        <div class="wrap">
            <h1><?php esc_html_e('modfilter', 'modfilter'); ?></h1>
            <div class="notice <?php echo $ok ? 'notice-success' : 'notice-error'; ?> inline"><p id="modfilter-status"><?php echo esc_html($msg); ?></p></div>
            <form method="post" action="options.php">
                <?php settings_fields('modfilter'); ?>
                <table class="form-table" role="presentation">
                    <tr><th scope="row"><label for="modfilter-rules_dir"><?php esc_html_e('Rules', 'modfilter'); ?></label></th>
                        <td><input type="text" class="regular-text code" id="modfilter-rules_dir" name="<?php echo esc_attr("{$o}[rules_dir]"); ?>" value="<?php echo esc_attr($s['rules_dir']); ?>">
                        <p class="description"><?php esc_html_e('A compiled database (a .mfdb file), or a directory of .toml rule packs (or one file). Empty: the default packs built into the library.', 'modfilter'); ?></p>
                        <p class="description"><?php esc_html_e('Your own packs: compile them once with "modfilter compile --rules DIR -o rules.mfdb" and set the path of rules.mfdb here. Compiling packs takes about 20 seconds, and a directory is compiled in a web request (each PHP worker\'s first comment), close to PHP\'s 30-second limit; a compiled database loads in well under a second. Compile again after changing the packs or upgrading modfilter.', 'modfilter'); ?></p></td></tr>
                    <tr><th scope="row"><?php esc_html_e('ALLOW', 'modfilter'); ?></th>
                        <td><?php esc_html_e('Approved as WordPress would (its own moderation settings still apply).', 'modfilter'); ?></td></tr>
                    <tr><th scope="row"><label for="modfilter-flag_action"><?php esc_html_e('FLAG', 'modfilter'); ?></label></th>
                        <td><?php $select('flag_action', ['approve' => __('Approve as WordPress would, and record the verdict', 'modfilter'), 'hold' => __('Hold for moderation', 'modfilter')]); ?></td></tr>
                    <tr><th scope="row"><?php esc_html_e('HOLD', 'modfilter'); ?></th>
                        <td><?php esc_html_e('Held in the moderation queue (Comments > Pending).', 'modfilter'); ?></td></tr>
                    <tr><th scope="row"><label for="modfilter-reject_action"><?php esc_html_e('REJECT', 'modfilter'); ?></label></th>
                        <td><?php $select('reject_action', ['spam' => __('Mark as spam', 'modfilter'), 'trash' => __('Move to the trash', 'modfilter')]); ?></td></tr>
                    <tr><th scope="row"><label for="modfilter-failure_action"><?php esc_html_e('When the filter cannot run', 'modfilter'); ?></label></th>
                        <td><?php $select('failure_action', ['hold' => __('Hold for moderation (recommended)', 'modfilter'), 'spam' => __('Mark as spam', 'modfilter'), 'trash' => __('Move to the trash', 'modfilter')]); ?>
                        <p class="description"><?php esc_html_e('A comment is never approved unchecked: the reason is kept with it and shown in the comment list.', 'modfilter'); ?></p></td></tr>
                    <tr><th scope="row"><label for="modfilter-staff_roles"><?php esc_html_e('Staff roles', 'modfilter'); ?></label></th>
                        <td><input type="text" class="regular-text" id="modfilter-staff_roles" name="<?php echo esc_attr("{$o}[staff_roles]"); ?>" value="<?php echo esc_attr($s['staff_roles']); ?>">
                        <p class="description"><?php esc_html_e('WordPress roles whose comments speak for the site: promise rules (refunds, dates, legal) apply to them.', 'modfilter'); ?></p></td></tr>
                    <tr><th scope="row"><label for="modfilter-binding"><?php esc_html_e('PHP binding', 'modfilter'); ?></label></th>
                        <td><input type="text" class="regular-text code" id="modfilter-binding" name="<?php echo esc_attr("{$o}[binding]"); ?>" value="<?php echo esc_attr($s['binding']); ?>">
                        <p class="description"><?php esc_html_e('Path of the binding\'s autoload.php (nothing else is loaded). Empty: /usr/local/share/modfilter/php/autoload.php and the other usual places.', 'modfilter'); ?></p></td></tr>
                </table>
                <?php submit_button(); ?>
            </form>
        </div>
        <?php
    }
}
