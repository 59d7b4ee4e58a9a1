#!/usr/bin/env bash
# The WordPress plugin end to end, against a real WordPress (Debian's package) on a real MariaDB, both
# started here on loopback and stopped after, whatever happens:
#   1. a private MariaDB (mariadb-install-db + mariadbd, its own datadir, socket and port);
#   2. WordPress's own config file /etc/wordpress/config-<run>.php, chosen through WORDPRESS_CONFIG,
#      with a private wp-content (the plugin linked in) under the temp dir;
#   3. wp.php install: wp_install(), users, settings, the plugin activated;
#   4. wp.php comments: comments through wp_new_comment(), an edit, a failing filter, a compiled
#      database (.mfdb, compiled here by the CLI) as the rules setting and a damaged one, checked;
#      wp.php binding: a "PHP binding" path that is not the binding's autoload.php is never loaded;
#   5. php -S (ffi.enable=1) serving WordPress; real POSTs to wp-comments-post.php, then checked;
#   6. headless Chromium loads the settings page (logged in by a test-only must-use plugin written
#      into the temp wp-content) and the screenshot is kept as ARTIFACT_DIR/settings.png.
#
#   e2e.sh ARTIFACT_DIR        (MODFILTER_LIBRARY and MODFILTER_FFI_DECLARATIONS as for the binding)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
artifacts="${1:?usage: e2e.sh ARTIFACT_DIR}"
mkdir -p "$artifacts"
start=$SECONDS

for tool in php mariadb-install-db mariadbd mariadb chromium; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
[[ -f /usr/share/wordpress/wp-load.php ]] || { echo "e2e: Debian's wordpress package is missing" >&2; exit 1; }

# The steps run in a child process in a session of its own; this parent only waits, then ends that
# whole process group (the steps, mariadbd, php -S, chromium: all started by this run) and removes
# the config file and the temp dir, however the steps ended (passed, failed, interrupted).
if [[ -z "${MF_E2E_TMP:-}" ]]; then
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/mf-wp-e2e.XXXXXX")"
  config="/etc/wordpress/config-mfe2e-$(basename "$tmp" | tr -dc 'a-zA-Z0-9').php"
  child=""
  cleanup() {
    local rc=$?
    set +e
    if [[ -n "$child" ]]; then # TERM to the group (mariadbd shuts down cleanly), KILL after 10 s
      kill -TERM -- "-$child" 2>/dev/null
      for _ in $(seq 100); do kill -0 -- "-$child" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$child" 2>/dev/null
    fi
    rm -f "$config"
    if [[ $rc != 0 ]]; then
      echo "e2e: failed (exit $rc); logs:" >&2
      tail -n 20 "$tmp"/*.log >&2 2>/dev/null
    fi
    rm -rf "$tmp"
    echo "e2e: $((SECONDS - start)) s" >&2
    exit $rc
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  MF_E2E_TMP="$tmp" MF_E2E_CONFIG="$config" setsid bash "${BASH_SOURCE[0]}" "$@" &
  child=$!
  rc=0
  wait "$child" || rc=$?
  exit $rc
fi
tmp="$MF_E2E_TMP"
config="$MF_E2E_CONFIG"
run="$(basename "$config" .php)"
run="${run#config-}"

free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo substr(strrchr(stream_socket_get_name($s, false), ":"), 1);'; }
db_port=$(free_port)
web_port=$(free_port)
url="http://127.0.0.1:$web_port"

# ---- 1. MariaDB, private -----------------------------------------------------------------------
# (No sanitizer runtime is ever preloaded into mariadbd or chromium: LD_PRELOAD is cleared for them.)
user=$(id -un)
env -u LD_PRELOAD mariadb-install-db --no-defaults --datadir="$tmp/db" --user="$user" --auth-root-authentication-method=normal \
  --skip-test-db >"$tmp/mariadb-install.log" 2>&1
env -u LD_PRELOAD mariadbd --no-defaults --datadir="$tmp/db" --socket="$tmp/db.sock" --port="$db_port" \
  --bind-address=127.0.0.1 --pid-file="$tmp/db.pid" --user="$user" --skip-log-bin --innodb-buffer-pool-size=16M \
  --skip-name-resolve --log-error="$tmp/mariadbd.log" &
db_pid=$!
for _ in $(seq 100); do
  env -u LD_PRELOAD mariadb --no-defaults --socket="$tmp/db.sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
  kill -0 "$db_pid" 2>/dev/null || { echo "e2e: mariadbd exited" >&2; exit 1; }
  sleep 0.2
done
env -u LD_PRELOAD mariadb --no-defaults --socket="$tmp/db.sock" -uroot -e 'CREATE DATABASE wordpress CHARACTER SET utf8mb4'

# ---- 2. WordPress config and content -----------------------------------------------------------
mkdir -p "$tmp/wp-content/plugins" "$tmp/wp-content/mu-plugins" "$tmp/wp-content/uploads" "$tmp/wp-content/themes" "$tmp/bad-rules"
ln -s "$root/plugins/wordpress/modfilter" "$tmp/wp-content/plugins/modfilter"
cp "$root/bindings/php/tests/fixtures/bad/pack.toml" "$tmp/bad-rules/pack.toml"
# A compiled database of the binding's small test pack (what a site with its own packs sets), and a
# damaged copy; compiled by this build's CLI (MODFILTER_CLI, else beside the library under test).
cli=${MODFILTER_CLI:-$(dirname "$(dirname "${MODFILTER_LIBRARY:-$root/build/capi/libmodfilter.so}")")/bindings/cli/modfilter}
MF_DB='' MF_BAD_DB=''
if [ -x "$cli" ]; then
  "$cli" compile --rules "$root/bindings/php/tests/fixtures/good" -o "$tmp/rules.mfdb" >/dev/null
  head -c 4000 "$tmp/rules.mfdb" >"$tmp/damaged.mfdb"
  MF_DB="$tmp/rules.mfdb" MF_BAD_DB="$tmp/damaged.mfdb"
else
  echo "note: no modfilter CLI at $cli (set MODFILTER_CLI): the compiled-database step is skipped"
fi
secret=$(php -r 'echo bin2hex(random_bytes(16));')
cat >"$config" <<PHP
<?php
// Written by modfilter's plugins/wordpress/tests/e2e.sh for one test run; removed when it ends.
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:$tmp/db.sock');
define('WP_CONTENT_DIR', '$tmp/wp-content');
define('WP_HOME', '$url');
define('WP_SITEURL', '$url');
define('MODFILTER_PHP_AUTOLOAD', '$root/bindings/php/autoload.php');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);
define('AUTH_KEY', '$secret-a'); define('SECURE_AUTH_KEY', '$secret-b'); define('LOGGED_IN_KEY', '$secret-c');
define('NONCE_KEY', '$secret-d'); define('AUTH_SALT', '$secret-e'); define('SECURE_AUTH_SALT', '$secret-f');
define('LOGGED_IN_SALT', '$secret-g'); define('NONCE_SALT', '$secret-h');
PHP
# Test-only login for the screenshot: lives in this run's temp wp-content, never in the plugin.
cat >"$tmp/wp-content/mu-plugins/e2e-login.php" <<PHP
<?php
add_action('plugins_loaded', function () {
    if ((\$_GET['mf_e2e_login'] ?? '') !== '$secret') {
        return;
    }
    \$exp = time() + 600;
    \$token = WP_Session_Tokens::get_instance(1)->create(\$exp);
    \$_COOKIE[AUTH_COOKIE] = wp_generate_auth_cookie(1, \$exp, 'auth', \$token);
    \$_COOKIE[LOGGED_IN_COOKIE] = wp_generate_auth_cookie(1, \$exp, 'logged_in', \$token);
});
PHP
export WORDPRESS_CONFIG="$run" WP_URL="$url" MF_BAD_RULES="$tmp/bad-rules" MF_DB MF_BAD_DB
php=(php -d ffi.enable=1 -d display_errors=stderr -d error_reporting=E_ALL)

# ---- 3, 4. install, comments through WordPress's API ------------------------------------------
"${php[@]}" "$here/wp.php" install
"${php[@]}" "$here/wp.php" comments
"${php[@]}" "$here/wp.php" binding

# ---- 5. the built-in web server, real POSTs ----------------------------------------------------
cat >"$tmp/router.php" <<'PHP'
<?php
// Debian's wp-config.php picks /etc/wordpress/config-$WORDPRESS_CONFIG.php; php -S does not put the
// environment into $_SERVER, so the router does.
$_SERVER['WORDPRESS_CONFIG'] = getenv('WORDPRESS_CONFIG');
return false;
PHP
"${php[@]}" -S "127.0.0.1:$web_port" -t /usr/share/wordpress "$tmp/router.php" >"$tmp/web.log" 2>&1 &
web_pid=$!
for _ in $(seq 50); do
  php -r 'exit(@file_get_contents($argv[1]) === false ? 1 : 0);' "$url/wp-login.php" && break
  kill -0 "$web_pid" 2>/dev/null || { echo "e2e: php -S exited" >&2; exit 1; }
  sleep 0.2
done
post() { # author, text (raw bytes), loopback source address: POST like a browser's comment form; prints the HTTP status
  # (a source address per comment: WordPress's flood check refuses a second comment from one address)
  php -r '
    [$_, $url, $author, $text, $ip] = $argv;
    $body = http_build_query(["comment" => $text, "author" => $author, "email" => strtolower(str_replace(" ", ".", $author)) . "@example.test",
      "url" => "", "comment_post_ID" => 1, "comment_parent" => 0, "submit" => "Post Comment"]);
    $ctx = stream_context_create(["socket" => ["bindto" => "$ip:0"], "http" => ["method" => "POST", "follow_location" => 0,
      "ignore_errors" => true, "header" => "Content-Type: application/x-www-form-urlencoded\r\n", "content" => $body]]);
    $r = file_get_contents("$url/wp-comments-post.php", false, $ctx);
    preg_match("{^HTTP/\S+ (\d+)}", $http_response_header[0] ?? "", $m);
    echo $m[1] ?? "none";' "$url" "$1" "$2" "$3"
}
failed=0
expect_redirect() {
  local status="$1" what="$2"
  if [[ "$status" == 302 || "$status" == 303 ]]; then echo "ok: POST $what answered $status (redirect back to the post)"
  else echo "FAIL: POST $what answered $status"; failed=1; fi
}
expect_redirect "$(post 'Http Clean' 'Thanks, that fixed my router.' 127.0.0.11)" "a clean comment"
expect_redirect "$(post 'Http Threat' 'I will kill you if you ban me again' 127.0.0.12)" "a threat"
expect_redirect "$(post 'Http Broken' $'caf\xc3 \xff you are an idiot' 127.0.0.13)" "invalid UTF-8"
"${php[@]}" "$here/wp.php" check-http || failed=1

# ---- 6. admin pages: the comment list's column, the settings page in headless Chromium ----------
has() { # url, strings...: the page contains every string
  php -r '$h = file_get_contents($argv[1]); foreach (array_slice($argv, 2) as $s) if (!str_contains((string)$h, $s)) { fwrite(STDERR, "missing: $s\n"); exit(1); }' "$@"
}
comments="$url/wp-admin/edit-comments.php?comment_status=all&mf_e2e_login=$secret"
has "$comments" 'column-modfilter' 'modfilter-action modfilter-hold' 'promise.' \
  && echo "ok: the admin comment list shows the modfilter column with HOLD and its categories" || { echo "FAIL: the comment list"; failed=1; }
settings="$url/wp-admin/options-general.php?page=modfilter&mf_e2e_login=$secret"
has "$settings" 'id="modfilter-status"' 'the default packs' 'modfilter-failure_action' \
  && echo "ok: the settings page renders, logged in, with the engine's status" || { echo "FAIL: the settings page"; failed=1; }
shoot() { # url, png
  rm -f "$2"
  env -u LD_PRELOAD timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$tmp/chromium" --window-size=1280,1000 --screenshot="$2" "$1" >>"$tmp/chromium.log" 2>&1 || true
  if [[ -s "$2" ]] && [[ "$(head -c 8 "$2" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]]; then
    echo "ok: screenshot $2"
  else
    echo "FAIL: no screenshot from chromium for $1"; failed=1
  fi
}
shoot "$settings" "$artifacts/settings.png"
shoot "$comments" "$artifacts/comments.png"
exit $failed
