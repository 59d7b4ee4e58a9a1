#include "worker.hpp"

#include "reload.hpp"
#include "stream.hpp"

#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mfcli {

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false}, g_reload{false};

extern "C" void on_stop(int) { g_stop = true; }
extern "C" void on_reload(int) { g_reload = true; }

void log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    // (a timestamp, UTC to the millisecond, as a log collector reads it: the worker runs for days)
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    std::fprintf(stderr, "%s.%03dZ modfilter worker: %s\n", when, static_cast<int>(ms), buf);
}

// Sleeps up to `seconds`, waking early when asked to stop.
void nap(double seconds) {
    auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (!g_stop && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// ------------------------------------------------------------------------------------------------
// Redis

struct ReplyFree {
    void operator()(redisReply *r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

bool is_error(const Reply &r) { return r && r->type == REDIS_REPLY_ERROR; }
std::string_view str(const redisReply *r) {
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
               ? std::string_view(r->str, r->len)
               : std::string_view();
}

// redis://[:password@]host[:port][/db] or unix:///path/to/socket
struct RedisUrl {
    std::string host = "127.0.0.1", path, password;
    int port = 6379, db = 0;
};

bool parse_url(const std::string &url, RedisUrl &u, std::string &error) {
    std::string_view s = url;
    if (s.rfind("unix://", 0) == 0) {
        u.path = s.substr(7);
        return !u.path.empty() || (error = "unix:// needs a socket path", false);
    }
    if (s.rfind("redis://", 0) != 0) {
        error = "--redis must be redis://[:password@]host[:port][/db] or unix:///path";
        return false;
    }
    s.remove_prefix(8);
    if (auto at = s.rfind('@'); at != std::string_view::npos) {
        std::string_view cred = s.substr(0, at);
        if (auto colon = cred.find(':'); colon != std::string_view::npos) cred.remove_prefix(colon + 1);
        u.password = cred;
        s.remove_prefix(at + 1);
    }
    if (auto slash = s.find('/'); slash != std::string_view::npos) {
        std::string db(s.substr(slash + 1));
        if (!db.empty() && (db.size() > 9 || db.find_first_not_of("0123456789") != std::string::npos)) {
            error = "--redis: the database after '/' must be a number, not '" + db + "'";
            return false;
        }
        if (!db.empty()) u.db = std::atoi(db.c_str());
        s = s.substr(0, slash);
    }
    if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
        u.port = std::atoi(std::string(s.substr(colon + 1)).c_str());
        s = s.substr(0, colon);
    }
    if (!s.empty()) u.host = s;
    if (u.port <= 0 || u.port > 65535) {
        error = "--redis: bad port";
        return false;
    }
    return true;
}

class Redis {
public:
    explicit Redis(RedisUrl url) : url_(std::move(url)) {}
    ~Redis() { close(); }

    bool connected() const { return c_ != nullptr; }
    const std::string &error() const { return error_; }

    bool connect() {
        close();
        timeval tv{2, 0};
        c_ = url_.path.empty() ? redisConnectWithTimeout(url_.host.c_str(), url_.port, tv)
                               : redisConnectUnixWithTimeout(url_.path.c_str(), tv);
        if (!c_ || c_->err) {
            error_ = c_ ? c_->errstr : "cannot allocate a connection";
            close();
            return false;
        }
        timeval rw{10, 0};  // longer than any BLOCK the worker asks for
        redisSetTimeout(c_, rw);
        // (a refused AUTH or SELECT closes the connection: left open, it went on in database 0)
        if (!url_.password.empty() && !ok(cmd({"AUTH", url_.password}))) return fail(error_), false;
        if (url_.db && !ok(cmd({"SELECT", std::to_string(url_.db)}))) return fail(error_), false;
        return true;
    }

    // Closes the connection; error() then says why (hiredis's error, or one found in a reply).
    void fail(std::string why) {
        close();
        error_ = std::move(why);
    }

    void close() {
        if (c_) redisFree(c_);
        c_ = nullptr;
        pending_.clear();  // (their replies will never come: what they did is read again from Redis)
    }

    // One command; nullptr (and the connection closed) when the connection failed. The replies of
    // commands sent ahead (send()) are read first, in order, and handed to their handlers.
    Reply cmd(const std::vector<std::string_view> &args) {
        if (!c_ || !drain()) return nullptr;
        set_args(args);
        auto *r = static_cast<redisReply *>(redisCommandArgv(c_, int(argv_.size()), argv_.data(), lens_.data()));
        if (!r) fail(c_->errstr);
        return Reply(r);
    }

    // Sends a command without waiting for its reply (hiredis formats it into its output buffer and
    // writes it out now), so that Redis works on it while this process goes on; the reply goes to
    // `on_reply` when drain() or the next cmd() reads it. false when the connection failed.
    bool send(const std::vector<std::string_view> &args, std::function<void(Reply)> on_reply) {
        if (!c_) return false;
        set_args(args);
        int done = 0;
        if (redisAppendCommandArgv(c_, int(argv_.size()), argv_.data(), lens_.data()) != REDIS_OK) {
            fail(c_->errstr);
            return false;
        }
        while (!done)  // write it out now (a reply is read only later)
            if (redisBufferWrite(c_, &done) != REDIS_OK) {
                fail(c_->errstr);
                return false;
            }
        pending_.push_back(std::move(on_reply));
        return true;
    }

    // Reads the replies of the commands sent ahead, oldest first, until `keep` are left unread;
    // false when the connection failed.
    bool drain(size_t keep = 0) {
        while (c_ && pending_.size() > keep) {
            void *r = nullptr;
            if (redisGetReply(c_, &r) != REDIS_OK || !r) {
                fail(c_->errstr);
                return false;
            }
            auto handler = std::move(pending_.front());
            pending_.pop_front();
            handler(Reply(static_cast<redisReply *>(r)));
        }
        return c_ != nullptr;
    }
    // Reads the reply of the oldest command sent ahead; false when the connection failed.
    bool drain_one() { return pending_.empty() ? c_ != nullptr : drain(pending_.size() - 1); }

    // EVALSHA of a loaded script; EVAL of its body when Redis lost it (a restart, SCRIPT FLUSH).
    // args: numkeys, keys, arguments.
    Reply eval(std::string_view sha, const char *body, std::vector<std::string_view> args) {
        args.insert(args.begin(), {"EVALSHA", sha});
        auto r = cmd(args);
        if (r && r->type == REDIS_REPLY_ERROR && str(r.get()).rfind("NOSCRIPT", 0) == 0) {
            args[0] = "EVAL";
            args[1] = body;
            r = cmd(args);
        }
        return r;
    }

    // A reply that is neither a failed connection nor an error reply.
    bool ok(const Reply &r) {
        if (!r) return false;
        if (r->type == REDIS_REPLY_ERROR) {
            error_ = str(r.get());
            return false;
        }
        return true;
    }

private:
    RedisUrl url_;
    redisContext *c_ = nullptr;
    std::string error_;
    std::vector<const char *> argv_;
    std::vector<size_t> lens_;
    std::deque<std::function<void(Reply)>> pending_;  // handlers of the replies still to read, in order

    void set_args(const std::vector<std::string_view> &args) {
        argv_.clear();
        lens_.clear();
        for (auto a : args) {
            argv_.push_back(a.data());
            lens_.push_back(a.size());
        }
    }
};

// Acknowledges entries and writes one output entry for each that this call acknowledged, in one
// atomic step: an entry that another consumer claimed and acknowledged meanwhile gets XACK 0 and
// no second output entry. The output entry is added first and taken back (XDEL) when the XACK says
// 0: Redis does not undo a script that fails halfway, and an XADD that failed after its XACK (the
// output key of another type, out of memory) lost the entry, acknowledged with no verdict. Now a
// failed XADD stops the script before its XACK: that entry and the ones after it stay pending. An
// id written "!<id>" is written without an XACK: an entry that XAUTOCLAIM found deleted from the
// stream, which it has already taken out of the pending list (only the claimer hears of it).
// KEYS: input stream, output stream. ARGV: group, maxlen (0: no trim), number of fields k, the k
// field names after "in", then per entry its id and its k values. Returns the number of entries written.
constexpr const char *kAckWriteScript = R"lua(
local group, maxlen, k = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local n = 0
local i = 4 + k
while i <= #ARGV do
  local id = ARGV[i]
  local noack = string.sub(id, 1, 1) == '!'
  if noack then id = string.sub(id, 2) end
  local args = {KEYS[2]}
  if maxlen > 0 then
    table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, maxlen)
  end
  table.insert(args, '*'); table.insert(args, 'in'); table.insert(args, id)
  for j = 1, k do
    table.insert(args, ARGV[3 + j]); table.insert(args, ARGV[i + j])
  end
  local vid = redis.pcall('XADD', unpack(args))
  if type(vid) == 'table' and vid.err then return redis.error_reply(vid.err) end
  if noack then
    n = n + 1
  else
    local acked = redis.pcall('XACK', KEYS[1], group, id)
    if acked == 1 then
      n = n + 1
    else
      redis.call('XDEL', KEYS[2], vid)
      if type(acked) == 'table' and acked.err then return redis.error_reply(acked.err) end
    end
  end
  i = i + 1 + k
end
return n
)lua";

// Per-author flood counters shared by all workers: one sorted set per author (member: the post id,
// or the entry id for a post without one; score: the post's time in ms), trimmed to the window,
// capped, and expiring one window after its last post. A post delivered again has the same member:
// it is not counted twice. KEYS: one per post. ARGV: window ms, cap, then per post member and ts.
// Returns the posts of each author in (ts - window, ts], this one included.
constexpr const char *kFloodScript = R"lua(
local window, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local k, m, ts = KEYS[i], ARGV[1 + 2 * i], tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', k, ts, m)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. (ts - window))
  out[i] = redis.call('ZCOUNT', k, '(' .. (ts - window), ts)
  if redis.call('ZCARD', k) > cap then redis.call('ZREMRANGEBYRANK', k, 0, -cap - 1) end
  redis.call('PEXPIRE', k, window + 1000)
end
return out
)lua";

constexpr long long kFloodCap = 1024;  // posts kept per author: more than any reject threshold needs

// Duplicates shared by all workers, as the local state keeps them (core/state.cpp, docs/state.md).
// A text is one hash, <prefix>:x:<exact>: its SimHash as two 32-bit halves, first and last time,
// copies, lookup keys, the last 8 post ids, and one field per author ("a:<id>"), channel ("c:") and
// post id ("i:") it was posted with (1,024 of each at most), with their counts. A lookup key,
// <prefix>:a:<anchor>, is a string naming the newest 4 texts that have it, with their SimHashes. A
// post is a copy of its own text when that text was seen within the window, else of the live text
// within the near bits (of its SimHash or its last copy's) that shares a lookup key with it and has
// the most copies, then the nearest; a post with no such text starts one. An edit is matched but not counted, and a post id seen before is not
// counted again. Every key expires a window after the last copy. Redis calls cost microseconds
// each inside a script, so a post takes few: about 6 for a copy, 8 for a new text. The keys are
// derived from the prefix in the script: one Redis, not a cluster. ARGV: prefix, window ms, near
// bits, then per post exact (hex), near high and low halves, lookup keys (hex, comma-separated),
// post id, author id, channel, ts ms, edit (0/1); ids hold no "\31" (the separator of the list of
// ids). Returns per post {earlier copies, authors, channels, first ts, near (0/1), distance,
// earlier ids...}, or {-1} for an edit of a text not seen.
constexpr const char *kDupScript = R"lua(
local P, window, nbits = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, cap = window + 1000, 1024
local function pop32(x)
  local c = 0
  x = bit.tobit(x)
  while x ~= 0 do x = bit.band(x, x - 1); c = c + 1 end
  return c
end
local function u32(x)  -- a 32-bit result as the unsigned number the lists and fields hold
  x = bit.tobit(x)
  if x < 0 then x = x + 4294967296 end
  return x
end
local function maj(a, b, c)  -- bitwise majority of three 32-bit halves
  return u32(bit.bor(bit.band(a, b), bit.band(a, c), bit.band(b, c)))
end
local F = {'last', 'copies', 'first', 'ids', 'na', 'nc', 'ni', 'aref', 'anchors', 'nh', 'nl', 'lh', 'll'}
-- Names text x (SimHash halves xh, xl) first in the list of each lookup key of akeys (lists: their
-- lists as read), keeping the newest 4 texts per key, as locally.
local function list_first(akeys, lists, x, xh, xl)
  for j, ak in ipairs(akeys) do
    local l = {x .. '/' .. xh .. '/' .. xl}
    for e in string.gmatch((lists[j] or ''), '[^,]+') do
      if #l < 4 and string.sub(e, 1, #x + 1) ~= x .. '/' then l[#l + 1] = e end
    end
    redis.call('SET', ak, table.concat(l, ','), 'PX', ttl)
  end
end
local out = {}
local i = 4
while i + 8 <= #ARGV do
  local exact, nh, nl, anchors = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local id, author, channel = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local ts, edit = tonumber(ARGV[i + 7]), ARGV[i + 8] == '1'
  i = i + 9
  local near, dist = 0, 0
  local c, k = exact, P .. ':x:' .. exact
  local h = redis.call('HMGET', k, unpack(F))
  if h[1] and ts - tonumber(h[1]) > window then  -- forgotten: start again
    redis.call('DEL', k)
    h = {false}
  end
  local akeys = {}
  for a in string.gmatch(anchors, '[^,]+') do akeys[#akeys + 1] = P .. ':a:' .. a end
  local lists = {}
  if not h[1] and #akeys > 0 then
    -- the texts that share a lookup key: the live one with the most copies within nbits is the match
    lists = redis.call('MGET', unpack(akeys))
    -- As the local state does (docs/state.md): of the live texts within nbits of this post (of their
    -- SimHash or their last copy's), the one with the most copies, then the nearest. A list names a
    -- text with its SimHash when it was listed, which a text's later copies move: a loose first cut.
    local best, most, seen = nil, -1, {}
    for _, l in ipairs(lists) do
      for m, mh, ml in string.gmatch(l or '', '(%x+)/(%d+)/(%d+)') do
        if m ~= exact and not seen[m] then
          seen[m] = true
          if pop32(bit.bxor(tonumber(mh), nh)) + pop32(bit.bxor(tonumber(ml), nl)) <= nbits + 16 then
            local hx = redis.call('HMGET', P .. ':x:' .. m, unpack(F))
            if hx[1] and ts - tonumber(hx[1]) <= window then
              local ch, cl = tonumber(hx[10] or mh), tonumber(hx[11] or ml)
              local d = pop32(bit.bxor(ch, nh)) + pop32(bit.bxor(cl, nl))
              if hx[12] then
                local d2 = pop32(bit.bxor(tonumber(hx[12]), nh)) + pop32(bit.bxor(tonumber(hx[13]), nl))
                if d2 < d then d = d2 end
              end
              local copies = tonumber(hx[2])
              if d <= nbits and (copies > most or (copies == most and d < dist)) then
                best, most, dist = {m, hx}, copies, d
              end
            end
          end
        end
      end
    end
    if best then c, k, h, near = best[1], P .. ':x:' .. best[1], best[2], 1 end
  end
  if not h[1] and edit then
    out[#out + 1] = {-1}
  elseif not h[1] then  -- a new text, with this post its first copy
    local f = {'nh', nh, 'nl', nl, 'first', ts, 'last', ts, 'aref', ts, 'copies', 1, 'anchors', anchors,
               'na', 0, 'nc', 1, 'ni', 0, 'ids', id, 'c:' .. channel, 1, 'lh', nh, 'll', nl}
    if author ~= '' then f[16] = 1; f[#f + 1] = 'a:' .. author; f[#f + 1] = 1 end
    if id ~= '' then f[20] = 1; f[#f + 1] = 'i:' .. id; f[#f + 1] = 1 end
    redis.call('HSET', k, unpack(f))
    redis.call('PEXPIRE', k, ttl)
    list_first(akeys, lists, exact, nh, nl)
    out[#out + 1] = {0, author ~= '' and 1 or 0, 1, ts, 0, 0}
  else
    local copies, na, nc, ni = tonumber(h[2]), tonumber(h[5]), tonumber(h[6]), tonumber(h[7])
    local mine
    if edit or id == '' or ni >= cap then
      mine = id ~= '' and redis.call('HEXISTS', k, 'i:' .. id) == 1
    else
      mine = redis.call('HSETNX', k, 'i:' .. id, 1) == 0
      if not mine then ni = ni + 1 end
    end
    local r = {copies - (mine and 1 or 0), na, nc, tonumber(h[3]), near, dist}
    for e in string.gmatch(h[4], '[^\31]+') do
      if e ~= id then r[#r + 1] = e end
    end
    if not edit and not mine then
      if author ~= '' and na < cap and redis.call('HSETNX', k, 'a:' .. author, 1) == 1 then na = na + 1 end
      if nc < cap and redis.call('HSETNX', k, 'c:' .. channel, 1) == 1 then nc = nc + 1 end
      r[2], r[3] = na, nc
      local f = {'copies', copies + 1, 'last', math.max(tonumber(h[1]), ts), 'na', na, 'nc', nc, 'ni', ni}
      if id ~= '' then
        local l = {id}
        for e in string.gmatch(h[4], '[^\31]+') do
          if #l < 8 then l[#l + 1] = e end
        end
        f[#f + 1] = 'ids'; f[#f + 1] = table.concat(l, '\31')
      end
      if near == 1 and h[10] then
        -- the text's SimHash moves to the majority of itself, its last copy's and this one's (which
        -- tends to the text a raid's copies were each made from), and this copy's lookup keys find it
        local lh, ll = tonumber(h[12] or h[10]), tonumber(h[13] or h[11])
        local ch, cl = maj(tonumber(h[10]), lh, nh), maj(tonumber(h[11]), ll, nl)
        f[#f + 1] = 'nh'; f[#f + 1] = ch; f[#f + 1] = 'nl'; f[#f + 1] = cl
        f[#f + 1] = 'lh'; f[#f + 1] = nh; f[#f + 1] = 'll'; f[#f + 1] = nl
        list_first(akeys, lists, c, ch, cl)
      end
      if ts - tonumber(h[8]) > window / 4 then  -- the lookup keys live as long as their text
        for a in string.gmatch(h[9], '[^,]+') do redis.call('PEXPIRE', P .. ':a:' .. a, ttl) end
        f[#f + 1] = 'aref'; f[#f + 1] = ts
      end
      redis.call('HSET', k, unpack(f))
      redis.call('PEXPIRE', k, ttl)
    end
    out[#out + 1] = r
  end
end
return out
)lua";

// Who posted, where, when and what, for the shared counters: id, author.id, channel, ts (seconds),
// edit and text from a post. false when the post does not parse (scan reports that).
struct Who {
    std::string author, id, channel, text;
    double ts = -1;
    long long age_days = -1;  // author.age_days, -1 when not given
    bool edit = false, has_text = false;
};

bool who_of(simdjson::ondemand::parser &parser, std::string &buf, const std::string &post, Who &w) {
    namespace od = simdjson::ondemand;
    buf.assign(post);
    buf.append(simdjson::SIMDJSON_PADDING, ' ');
    od::document doc;
    od::object obj;
    if (parser.iterate(buf.data(), post.size(), buf.size()).get(doc) || doc.get_object().get(obj)) return false;
    auto scalar = [](od::value v, std::string &out) {
        od::json_type t;
        if (v.type().get(t)) return false;
        std::string_view s;
        if (t == od::json_type::string) {
            if (v.get_string().get(s)) return false;
        } else if (t == od::json_type::number) {
            s = v.raw_json_token();
            while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
        } else {
            return false;
        }
        out.assign(s);
        return true;
    };
    for (auto field : obj) {
        std::string_view key;
        od::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return false;
        if (key == "id") {
            if (!scalar(v, w.id)) w.id.clear();
        } else if (key == "ts") {
            double ts;
            if (!v.get_double().get(ts)) w.ts = ts;
        } else if (key == "edit") {
            bool edit = false;
            if (!v.get_bool().get(edit)) w.edit = edit;
        } else if (key == "channel") {
            if (!scalar(v, w.channel)) w.channel.clear();
        } else if (key == "text") {
            std::string_view t;
            // (text with invalid UTF-8 is not unescaped by simdjson: such a post is not counted)
            if (!v.get_string().get(t)) {
                w.text.assign(t);
                w.has_text = true;
            }
        } else if (key == "author") {
            od::object a;
            if (v.get_object().get(a)) continue;
            for (auto af : a) {
                std::string_view ak;
                od::value av;
                if (af.unescaped_key().get(ak) || af.value().get(av)) return false;
                if (ak == "id" && !scalar(av, w.author)) w.author.clear();
                double age;
                if (ak == "age_days" && !av.get_double().get(age) && age >= 0 && age < 1e9)
                    w.age_days = static_cast<long long>(age);
            }
        }
    }
    return true;
}

// The action name of 0..3, and the action of a JSON verdict.
const char *const kActions[] = {"ALLOW", "FLAG", "HOLD", "REJECT"};

int action_of(const nlohmann::ordered_json &j) {
    int was = 0;
    for (int a = 0; a < 4; ++a)
        if (j.value("action", "") == kActions[a]) was = a;
    return was;
}

// The action a count calls for with these thresholds (0 turns one off): 0 ALLOW .. 3 REJECT.
int action_by_count(long long n, unsigned flag, unsigned hold, unsigned reject) {
    auto at = [&](unsigned t) { return t && n >= t; };
    return at(reject) ? 3 : at(hold) ? 2 : at(flag) ? 1 : 0;
}

// Raises a JSON verdict to `action` for a shared state's category, as the local state does: the
// category with its count, the support route, and the evidence under "state" (its action added).
bool raise_verdict(std::string &v, const char *category, long long count, int action, nlohmann::ordered_json evidence,
                   bool shared = true) {
    auto j = nlohmann::ordered_json::parse(v, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    j["action"] = kActions[std::max(action_of(j), action)];
    j["categories"][category] = count;
    auto &routes = j["routes"];
    if (std::find(routes.begin(), routes.end(), "support") == routes.end()) routes.push_back("support");
    if (shared) evidence["shared"] = true;
    nlohmann::ordered_json ev = {{"action", kActions[action]}};
    ev.update(evidence);
    j["state"][category] = ev;
    v = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return true;
}

// ------------------------------------------------------------------------------------------------
// The worker

struct Entry {
    std::string id;
    std::string post;
    bool has_post = false, deleted = false;
    bool unpending = false;  // no longer in the pending list (XAUTOCLAIM's deleted ids): written without XACK
    std::string bang_id;     // "!" + id for such an entry
};

class Worker {
public:
    Worker(const WorkerOptions &o, RedisUrl url) : o_(o), redis_(std::move(url)), reloader_(o.rules, o.db, o.max_post_bytes) {}

    int run();

private:
    const WorkerOptions &o_;
    Redis redis_;
    Reloader reloader_;
    Loaded cur_;
    std::string consumer_, dead_stream_, control_key_, sha_, flood_sha_, flood_prefix_, dup_sha_, dup_prefix_;
    std::vector<std::pair<size_t, std::string>> state_failed_;  // entries whose shared state Redis refused, and why
    simdjson::ondemand::parser who_parser_;
    std::string who_buf_;
    std::string control_seen_;
    bool control_known_ = false;
    const char *fail_entry_ = std::getenv("MODFILTER_WORKER_FAIL_ENTRY");  // tests only

    std::vector<Entry> entries_, next_;  // the batch in hand; the next one, asked for ahead (prefetch())
    bool next_ready_ = false;  // the reply to prefetch()'s request has been read
    std::string input_, output_;
    std::vector<std::string_view> lines_;

    // Counters for the summary line.
    uint64_t posts_ = 0, written_ = 0, dead_ = 0, retried_ = 0, reloads_ = 0, batches_ = 0, flooded_ = 0, duplicated_ = 0,
             new_accounts_ = 0;
    uint64_t posts_at_last_log_ = 0;
    long long pending_ = -1, lag_ = -1;  // as the last summary read them

    // --metrics-port: the counters as Prometheus text, rebuilt by the worker's loop and served by a
    // thread of its own.
    std::mutex metrics_mu_;
    std::string metrics_;
    Clock::time_point last_metrics_{};
    void publish_metrics();
    void serve_metrics(int fd);
    Clock::time_point last_log_ = Clock::now(), last_claim_{}, last_control_{}, last_forget_{};
    std::string claim_cursor_ = "0-0";
    bool read_history_ = true;  // after (re)connecting: this consumer's own pending entries first

    bool setup_connection();
    void forget_consumers();
    bool read_entries(const redisReply *list, std::vector<Entry> &into);
    void read_group_reply(const redisReply *r, std::vector<Entry> &into);
    bool group_failed(const Reply &r);
    bool claim_due() const;
    bool prefetch();
    bool fetch();
    bool process();
    // Acknowledges entries and writes their output entries (kAckWriteScript); once Redis has
    // answered, adds the entries written to `written` and the entries of the call to *judged.
    // wait = false: sent ahead (Redis::send), its reply read later.
    bool ack_write(const std::string &stream, const std::vector<std::string_view> &fields,
                   const std::vector<std::string_view> &values, uint64_t &written, bool wait = true,
                   uint64_t *judged = nullptr);
    unsigned deliveries(const std::string &id);
    // scanned: pairs (entry, verdict); who[j] and parsed[j]: the post of pair j, read by who_of
    bool count_floods(std::vector<std::string> &verdicts, const std::vector<size_t> &scanned,
                      const std::vector<Who> &who, const std::vector<bool> &parsed);
    bool count_duplicates(std::vector<std::string> &verdicts, const std::vector<size_t> &scanned,
                          const std::vector<Who> &who, const std::vector<bool> &parsed);
    void mark_new_accounts(std::vector<std::string> &verdicts, const std::vector<size_t> &scanned,
                           const std::vector<Who> &who, const std::vector<bool> &parsed);
    void check_control();
    void swap_engine();
    void summary(bool force);
};

bool Worker::setup_connection() {
    if (!redis_.connect()) return false;
    // (a failure after connecting closes the connection, so that the next attempt starts over: left
    // open, the worker went on reading a group it had not made, with no script, for ever)
    struct CloseUnlessDone {
        Redis &r;
        bool done = false;
        ~CloseUnlessDone() {
            if (!done) r.close();
        }
    } guard{redis_};
    auto r = redis_.cmd({"XGROUP", "CREATE", o_.stream, o_.group, o_.group_start, "MKSTREAM"});
    if (!r) return false;
    if (is_error(r) && str(r.get()).rfind("BUSYGROUP", 0) != 0) {
        redis_.ok(r);
        return false;
    }
    if (!is_error(r)) {
        // A new group, or one made again after it was lost (a Redis restarted without persistence, an
        // XGROUP DESTROY, a --group typed wrong): said plainly, since from "0" it judges the whole
        // stream again, whose verdicts the output stream may already hold.
        auto len = redis_.cmd({"XLEN", o_.stream});
        const long long n = len && len->type == REDIS_REPLY_INTEGER ? len->integer : -1;
        log("created group %s on %s at %s, with %lld entries in the stream%s", o_.group.c_str(), o_.stream.c_str(),
            o_.group_start.c_str(), n,
            o_.group_start == "0" && n > 0 ? ": each is judged (--group-start $ starts at new entries)" : "");
    }
    r = redis_.cmd({"SCRIPT", "LOAD", kAckWriteScript});
    if (!redis_.ok(r)) return false;
    sha_ = str(r.get());
    if (o_.shared_flood) {
        r = redis_.cmd({"SCRIPT", "LOAD", kFloodScript});
        if (!redis_.ok(r)) return false;
        flood_sha_ = str(r.get());
    }
    if (o_.shared_duplicates) {
        r = redis_.cmd({"SCRIPT", "LOAD", kDupScript});
        if (!redis_.ok(r)) return false;
        dup_sha_ = str(r.get());
    }
    read_history_ = true;
    guard.done = true;
    return true;
}

// Reads [[id, [field, value, ...]], ...] into `into`.
bool Worker::read_entries(const redisReply *list, std::vector<Entry> &into) {
    if (!list || list->type != REDIS_REPLY_ARRAY) return false;
    for (size_t i = 0; i < list->elements; ++i) {
        const redisReply *e = list->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) continue;
        Entry &en = into.emplace_back();
        en.id = str(e->element[0]);
        const redisReply *f = e->element[1];
        if (f->type != REDIS_REPLY_ARRAY) {
            en.deleted = true;  // deleted from the stream while pending
            continue;
        }
        for (size_t j = 0; j + 1 < f->elements; j += 2)
            if (str(f->element[j]) == o_.field) {
                en.post = str(f->element[j + 1]);
                en.has_post = true;
                break;
            }
    }
    return true;
}

// Reads an XREADGROUP reply ([[stream, [[id, [field, value, ...]], ...]]], or nil) into `into`.
void Worker::read_group_reply(const redisReply *r, std::vector<Entry> &into) {
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements && r->element[0]->elements >= 2)
        read_entries(r->element[0]->element[1], into);
}

// Whether a reply says the command failed (the connection, or an error reply); a group that is gone
// (a Redis restarted without persistence, the stream deleted) closes the connection, so that
// setup_connection() makes it again.
bool Worker::group_failed(const Reply &r) {
    if (redis_.ok(r)) return false;
    if (r && str(r.get()).rfind("NOGROUP", 0) == 0) redis_.close();
    return true;
}

// Fills entries_: this consumer's own pending entries after a (re)connect, entries other consumers
// left pending longer than --claim-after, or new ones. false when the connection failed.
bool Worker::fetch() {
    entries_.clear();
    const std::string count = std::to_string(o_.batch);
    if (read_history_) {
        auto r = redis_.cmd({"XREADGROUP", "GROUP", o_.group, consumer_, "COUNT", count, "STREAMS", o_.stream, "0"});
        if (!redis_.ok(r)) return false;
        read_group_reply(r.get(), entries_);
        if (entries_.empty()) read_history_ = false;
        else return true;
    }
    const auto now = Clock::now();
    if (claim_due()) {
        const std::string idle = std::to_string(static_cast<long long>(o_.claim_after * 1000));
        auto r = redis_.cmd({"XAUTOCLAIM", o_.stream, o_.group, consumer_, idle, claim_cursor_, "COUNT", count});
        if (group_failed(r)) return false;
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
            claim_cursor_ = str(r->element[0]);
            read_entries(r->element[1], entries_);
            // (Redis 7: the ids of entries deleted from the stream while pending, which XAUTOCLAIM
            // has taken out of the pending list: they get their error verdict, written without XACK)
            if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_ARRAY)
                for (size_t k = 0; k < r->element[2]->elements; ++k) {
                    Entry &en = entries_.emplace_back();
                    en.id = str(r->element[2]->element[k]);
                    en.deleted = en.unpending = true;
                }
        }
        if (claim_cursor_ == "0-0" || claim_cursor_.empty()) {  // went round: wait before the next pass
            claim_cursor_ = "0-0";
            last_claim_ = now;
            forget_consumers();
        }
        if (!entries_.empty()) {
            if (o_.verbose) log("claimed %zu entries pending longer than %.3g s", entries_.size(), o_.claim_after);
            return true;
        }
    }
    auto r = redis_.cmd({"XREADGROUP", "GROUP", o_.group, consumer_, "COUNT", count, "BLOCK", "200", "STREAMS",
                         o_.stream, ">"});
    if (group_failed(r)) return false;
    read_group_reply(r.get(), entries_);
    return true;
}

// Removes from the group the consumers idle longer than --forget-consumers-after with nothing pending:
// the names of workers killed before they could leave (their pending entries claimed by the others),
// which XINFO CONSUMERS would list for ever (with a host:pid name, each restart adds one). At most
// once a minute. One script, so that nothing runs between the look and the delete: a consumer that
// reads meanwhile has entries pending and stays; one idle so long and alive reads again under its
// name, which XREADGROUP makes anew.
void Worker::forget_consumers() {
    const auto now = Clock::now();
    if (o_.forget_after <= 0 || now - last_forget_ < std::chrono::duration<double>(std::min(60.0, o_.forget_after))) return;
    last_forget_ = now;
    static constexpr const char *kForgetIdle = R"lua(
local gone = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1]
    elseif c[i] == 'pending' then pending = c[i + 1]
    elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if name ~= ARGV[3] and pending == 0 and idle ~= nil and idle >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    gone = gone + 1
  end
end
return gone
)lua";
    const std::string idle_ms = std::to_string(static_cast<long long>(o_.forget_after * 1000));
    auto r = redis_.cmd({"EVAL", kForgetIdle, "1", o_.stream, o_.group, idle_ms, consumer_});
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
        log("removed %lld consumers idle over %.6g s with nothing pending from group %s", r->integer, o_.forget_after,
            o_.group.c_str());
    else if (is_error(r))
        log("redis: removing idle consumers: %s", std::string(str(r.get())).c_str());
}

// Whether it is time to look for entries that other consumers left pending (XAUTOCLAIM).
bool Worker::claim_due() const {
    const double claim_every = std::clamp(o_.claim_after / 2, 0.05, 5.0);
    return Clock::now() - last_claim_ >= std::chrono::duration<double>(claim_every);
}

// Asks Redis for the next batch of new entries without waiting for the answer, so that Redis reads
// it, and writes the verdicts of the batch before, while this process judges the batch in hand: the
// worker then waits on Redis only when Redis is the slower of the two. Not when this consumer's own
// pending entries or other consumers' stale ones are due (fetch() reads those), nor when stopping.
// The answer lands in next_ when the replies are read (Redis::drain, or any later command).
bool Worker::prefetch() {
    if (read_history_ || g_stop || claim_due()) return false;
    next_.clear();
    next_ready_ = false;
    return redis_.send({"XREADGROUP", "GROUP", o_.group, consumer_, "COUNT", std::to_string(o_.batch), "STREAMS",
                        o_.stream, ">"},
                       [this](Reply r) {
                           next_ready_ = true;
                           if (is_error(r)) log("redis: %s", std::string(str(r.get())).c_str());
                           else read_group_reply(r.get(), next_);
                       });
}

unsigned Worker::deliveries(const std::string &id) {
    auto r = redis_.cmd({"XPENDING", o_.stream, o_.group, id, id, "1"});
    if (!r || r->type != REDIS_REPLY_ARRAY || !r->elements) return 0;
    const redisReply *e = r->element[0];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 4) return 0;
    return static_cast<unsigned>(e->element[3]->integer);
}

bool Worker::ack_write(const std::string &stream, const std::vector<std::string_view> &fields,
                       const std::vector<std::string_view> &values, uint64_t &written, bool wait,
                       uint64_t *judged) {
    if (values.empty()) return true;
    const std::string maxlen = std::to_string(o_.out_maxlen), k = std::to_string(fields.size());
    std::vector<std::string_view> args{"2", o_.stream, stream, o_.group, maxlen, k};
    args.reserve(10 + fields.size() + values.size());
    args.insert(args.end(), fields.begin(), fields.end());
    args.insert(args.end(), values.begin(), values.end());
    if (!wait) {
        // Sent ahead: its reply is read after the next batch is judged. An error there leaves the
        // batch pending, as a failed call here does: a lost script (NOSCRIPT) closes the connection,
        // so that the worker loads it again and reads its own pending entries first.
        args.insert(args.begin(), {"EVALSHA", sha_});
        const uint64_t n = values.size() / 2;
        return redis_.send(args, [this, &written, judged, n](Reply r) {
            if (r && r->type == REDIS_REPLY_INTEGER) {
                written += static_cast<uint64_t>(r->integer);
                if (judged) *judged += n;
                return;
            }
            const std::string e(str(r.get()));
            log("redis: %s (the batch stays pending and is read again)", e.c_str());
            if (e.rfind("NOSCRIPT", 0) == 0) redis_.fail(e + " (the script is loaded again)");
        });
    }
    auto r = redis_.eval(sha_, kAckWriteScript, std::move(args));
    if (!redis_.ok(r)) return false;
    written += static_cast<uint64_t>(r->integer);
    if (judged) *judged += values.size() / 2;
    return true;
}

// Judges entries_ and writes the verdicts; false when the connection failed (nothing of this batch
// that was not acknowledged is lost: it stays pending and is read again).
bool Worker::process() {
    // The posts, one line each, for the same stream reader as `modfilter scan`. A raw newline can
    // only be whitespace between JSON tokens (inside a string it is invalid), and so is a tab: the
    // line means the same, or is invalid alike.
    struct Judged {
        size_t line = SIZE_MAX;  // into lines_
        std::string error;       // a permanent error without a scan (no post field, deleted)
        std::string failure;     // a passing failure: retried
        std::string late;        // one found after the scan (the shared state refused): retried
    };
    std::vector<Judged> judged(entries_.size());
    state_failed_.clear();
    input_.clear();
    size_t n_lines = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
        Entry &e = entries_[i];
        if (fail_entry_ && e.id == fail_entry_) {
            judged[i].failure = "injected failure (MODFILTER_WORKER_FAIL_ENTRY)";
            continue;
        }
        if (e.deleted) {
            judged[i].error = "the entry was deleted from the stream before it was judged";
            continue;
        }
        if (!e.has_post) {
            judged[i].error = "the entry has no \"" + o_.field + "\" field";
            continue;
        }
        std::replace(e.post.begin(), e.post.end(), '\n', '\t');
        input_ += e.post;
        input_ += '\n';
        judged[i].line = n_lines++;
    }
    output_.clear();
    if (n_lines) {
        ScanOptions so;
        so.censor = o_.censor;
        so.batch = std::max<size_t>(o_.batch, 1);
        so.read_block = std::max<size_t>(input_.size() + 1, 4096);
        if (o_.max_post_bytes) so.max_line_bytes = 4 * o_.max_post_bytes;
        MemorySource in(input_);
        StringSink out(output_);
        scan_stream(*cur_.engine, in, out, so);
    }
    lines_.clear();
    for (size_t pos = 0; pos < output_.size();) {
        size_t nl = output_.find('\n', pos);
        if (nl == std::string::npos) nl = output_.size();
        lines_.emplace_back(output_.data() + pos, nl - pos);
        pos = nl + 1;
    }
    const bool aligned = lines_.size() == n_lines;

    // Verdicts: {"stream_id":"<id>","db":"<hash>",<the scan command's fields without "line">}
    std::vector<std::string> verdicts;
    verdicts.reserve(entries_.size());
    std::vector<std::string_view> values;  // id, verdict per entry
    std::vector<size_t> failed, scanned;  // scanned: (entry, verdict) pairs of posts that got a verdict
    for (size_t i = 0; i < entries_.size(); ++i) {
        Judged &j = judged[i];
        if (j.failure.empty() && j.line != SIZE_MAX && !aligned) j.failure = "the scan returned no line for the post";
        if (!j.failure.empty()) {
            failed.push_back(i);
            continue;
        }
        std::string &v = verdicts.emplace_back();
        v = "{\"stream_id\":\"" + entries_[i].id + "\",\"db\":\"" + cur_.hash + "\",";
        if (j.line == SIZE_MAX) {
            v += "\"error\":\"";
            for (char c : j.error) {
                if (c == '"' || c == '\\') v += '\\';
                v += c;
            }
            v += "\"}";
        } else {
            std::string_view line = lines_[j.line];
            line.remove_prefix(1);  // '{'
            if (line.rfind("\"line\":", 0) == 0) {  // an error line: its line number is the batch's
                size_t comma = line.find(',');
                line.remove_prefix(comma == std::string_view::npos ? line.size() : comma + 1);
            } else {
                scanned.push_back(i);
                scanned.push_back(verdicts.size() - 1);
            }
            v += line;
        }
    }
    if ((o_.shared_duplicates || o_.shared_flood || o_.new_account_links) && !scanned.empty()) {
        // Who posted what, read once for every state (an entry that does not parse: none).
        std::vector<Who> who(scanned.size() / 2);
        std::vector<bool> parsed(who.size());
        for (size_t j = 0; j < who.size(); ++j) parsed[j] = who_of(who_parser_, who_buf_, entries_[scanned[2 * j]].post, who[j]);
        if (o_.shared_duplicates && !count_duplicates(verdicts, scanned, who, parsed)) return false;
        if (o_.shared_flood && !count_floods(verdicts, scanned, who, parsed)) return false;
        if (o_.new_account_links) mark_new_accounts(verdicts, scanned, who, parsed);
    }
    // Posts whose shared state Redis refused (count_floods, count_duplicates): passing failures too.
    for (const auto &[i, why] : state_failed_) judged[i].late = why;
    state_failed_.clear();
    for (size_t i = 0, k = 0; i < entries_.size(); ++i) {
        if (!judged[i].failure.empty()) continue;
        if (!judged[i].late.empty()) {
            ++k;  // (its verdict is not written)
            judged[i].failure = std::move(judged[i].late);
            failed.push_back(i);
            continue;
        }
        Entry &e = entries_[i];
        if (e.unpending) e.bang_id = "!" + e.id;  // (kAckWriteScript: written without XACK)
        values.push_back(e.unpending ? std::string_view(e.bang_id) : std::string_view(e.id));
        values.push_back(verdicts[k++]);
    }
    // (posts_ counts them once Redis has answered: a batch whose script failed is read again)
    if (!ack_write(o_.out_stream, {"verdict"}, values, written_, /*wait=*/!failed.empty(), &posts_)) return false;

    // Passing failures: left pending (claimed again after --claim-after), or dead-lettered with the
    // error after --max-deliveries.
    std::vector<std::string> dead_values;
    std::vector<std::string_view> dv;
    for (size_t i : failed) {
        unsigned n = deliveries(entries_[i].id);
        if (!redis_.connected()) return false;
        if (n >= o_.max_deliveries) {
            dead_values.push_back(entries_[i].id);
            dead_values.push_back(judged[i].failure);
            dead_values.push_back(std::to_string(n));
            dead_values.push_back(entries_[i].post);
            log("entry %s failed %u times (%s): to %s", entries_[i].id.c_str(), n, judged[i].failure.c_str(),
                dead_stream_.c_str());
        } else {
            ++retried_;
            if (o_.verbose)
                log("entry %s failed (delivery %u of %u): %s", entries_[i].id.c_str(), n, o_.max_deliveries,
                    judged[i].failure.c_str());
        }
    }
    for (auto &s : dead_values) dv.push_back(s);
    if (!ack_write(dead_stream_, {"error", "deliveries", "post"}, dv, dead_)) return false;
    ++batches_;
    if (o_.verbose) log("batch of %zu: %zu verdicts, %zu failed", entries_.size(), values.size() / 2, failed.size());
    return true;
}

// Counts the scanned posts in their authors' shared flood windows and raises a verdict to the
// action the counts call for (spam.flood, with its evidence under "state", as the local state does).
bool Worker::count_floods(std::vector<std::string> &verdicts, const std::vector<size_t> &scanned,
                          const std::vector<Who> &who, const std::vector<bool> &parsed) {
    std::vector<std::string> keys, args;
    std::vector<size_t> verdict_of, entry_of;
    const long long window_ms = static_cast<long long>(o_.flood_window * 1000);
    for (size_t j = 0; j < scanned.size(); j += 2) {
        const Entry &e = entries_[scanned[j]];
        const Who &w = who[j / 2];
        if (!parsed[j / 2] || w.author.empty() || w.edit) continue;
        keys.push_back(flood_prefix_ + ":" + w.author);
        entry_of.push_back(scanned[j]);
        // No post id: the entry's; no time: when Redis took the entry (its id's milliseconds).
        args.push_back(w.id.empty() ? e.id : w.id);
        long long ts = w.ts >= 0 ? static_cast<long long>(w.ts * 1000) : std::atoll(e.id.c_str());
        args.push_back(std::to_string(ts));
        verdict_of.push_back(scanned[j + 1]);
    }
    if (keys.empty()) return true;
    const std::string nkeys = std::to_string(keys.size()), window = std::to_string(window_ms),
                      cap = std::to_string(kFloodCap);
    std::vector<std::string_view> cmd{nkeys};
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.push_back(window);
    cmd.push_back(cap);
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto apply = [&](size_t i, long long n) {
        const int action = action_by_count(n, o_.flood_flag, o_.flood_hold, o_.flood_reject);
        if (action && raise_verdict(verdicts[verdict_of[i]], "spam.flood", n, action,
                                    {{"posts", n}, {"window_s", o_.flood_window}}))
            ++flooded_;
    };
    auto r = redis_.eval(flood_sha_, kFloodScript, std::move(cmd));
    if (r && r->type == REDIS_REPLY_ERROR) {
        // Redis refused the batch (a key of another type, say): one post at a time, so that the post
        // it refuses fails alone, retried and dead-lettered as any passing failure, and the others
        // are judged (the batch was read again for ever). Counting a post again is harmless: its
        // member is its id.
        log("redis: %s (the flood counters of this batch, one post at a time)", std::string(str(r.get())).c_str());
        for (size_t i = 0; i < keys.size(); ++i) {
            std::vector<std::string_view> one{"1", keys[i], window, cap, args[2 * i], args[2 * i + 1]};
            auto r1 = redis_.eval(flood_sha_, kFloodScript, std::move(one));
            if (r1 && r1->type == REDIS_REPLY_ERROR) {
                state_failed_.emplace_back(entry_of[i], "redis (flood counters): " + std::string(str(r1.get())));
                continue;
            }
            if (!redis_.ok(r1)) return false;
            if (r1->type == REDIS_REPLY_ARRAY && r1->elements == 1) apply(i, r1->element[0]->integer);
        }
        return true;
    }
    if (!redis_.ok(r)) return false;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != keys.size()) return true;
    for (size_t i = 0; i < keys.size(); ++i) apply(i, r->element[i]->integer);
    return true;
}

// Raises the verdicts of posts with links from young accounts to the action their links call for
// (spam.new-account-links, with its evidence under "state", as the local state does). Nothing shared:
// it needs only the post.
void Worker::mark_new_accounts(std::vector<std::string> &verdicts, const std::vector<size_t> &scanned,
                               const std::vector<Who> &who, const std::vector<bool> &parsed) {
    for (size_t j = 0; j < scanned.size(); j += 2) {
        const Who &w = who[j / 2];
        if (!parsed[j / 2] || !w.has_text || w.author.empty() || w.age_days < 0 ||
            w.age_days >= static_cast<long long>(o_.new_account_days))
            continue;
        mf_fingerprints f{};
        f.version = MF_FINGERPRINTS_VERSION;
        if (mf_fingerprints_get(&f, w.text.data(), w.text.size()) != MF_OK || !f.links) continue;
        const int action = action_by_count(f.links, o_.new_account_flag, o_.new_account_hold, 0);  // never REJECT
        if (!action) continue;
        nlohmann::ordered_json ev = {{"links", f.links}, {"age_days", w.age_days}};
        if (raise_verdict(verdicts[scanned[j + 1]], "spam.new-account-links", f.links, action, std::move(ev), false))
            ++new_accounts_;
    }
}

// Records the scanned posts in the shared duplicate state and raises a verdict to the action its
// copies call for (spam.duplicate, with its evidence under "state", as the local state does).
bool Worker::count_duplicates(std::vector<std::string> &verdicts, const std::vector<size_t> &scanned,
                              const std::vector<Who> &who, const std::vector<bool> &parsed) {
    const long long window_ms = static_cast<long long>(o_.dup_window * 1000);
    std::vector<std::string> args{dup_prefix_, std::to_string(window_ms), std::to_string(o_.dup_near_bits)};
    std::vector<size_t> verdict_of, entry_of;
    char hex[17];
    auto to_hex = [&](uint64_t x) {
        std::snprintf(hex, sizeof hex, "%016" PRIx64, x);
        return std::string(hex);
    };
    for (size_t j = 0; j < scanned.size(); j += 2) {
        const Entry &e = entries_[scanned[j]];
        const Who &w = who[j / 2];
        if (!parsed[j / 2] || !w.has_text) continue;
        mf_fingerprints f{};
        f.version = MF_FINGERPRINTS_VERSION;
        if (mf_fingerprints_get(&f, w.text.data(), w.text.size()) != MF_OK) continue;
        if (!f.exact || f.words < o_.dup_min_words) continue;  // short posts are never duplicates
        std::string anchors;
        for (uint32_t k = 0; k < f.n_anchors; ++k) anchors += (k ? "," : "") + to_hex(f.anchors[k]);
        args.push_back(to_hex(f.exact));
        args.push_back(std::to_string(f.near >> 32));
        args.push_back(std::to_string(f.near & 0xFFFFFFFFu));
        args.push_back(anchors);
        std::string id = w.id.empty() ? e.id : w.id;
        std::replace(id.begin(), id.end(), '\x1f', '?');  // the separator of the script's list of ids
        args.push_back(id);
        args.push_back(w.author);
        args.push_back(w.channel);
        args.push_back(std::to_string(w.ts >= 0 ? static_cast<long long>(w.ts * 1000) : std::atoll(e.id.c_str())));
        args.push_back(w.edit ? "1" : "0");
        verdict_of.push_back(scanned[j + 1]);
        entry_of.push_back(scanned[j]);
    }
    if (verdict_of.empty()) return true;
    std::vector<std::string_view> cmd{"0"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = redis_.eval(dup_sha_, kDupScript, std::move(cmd));
    std::vector<Reply> singles;  // (one reply per post, when the batch was refused)
    if (r && r->type == REDIS_REPLY_ERROR) {
        // as count_floods: one post at a time, the post Redis refuses failing alone (a post recorded
        // twice is not counted twice: its id is recorded with the text)
        log("redis: %s (the shared duplicates of this batch, one post at a time)", std::string(str(r.get())).c_str());
        for (size_t i = 0; i < verdict_of.size(); ++i) {
            std::vector<std::string_view> one{"0", args[0], args[1], args[2]};
            for (size_t k = 0; k < 9; ++k) one.push_back(args[3 + 9 * i + k]);
            auto r1 = redis_.eval(dup_sha_, kDupScript, std::move(one));
            if (r1 && r1->type == REDIS_REPLY_ERROR) {
                state_failed_.emplace_back(entry_of[i], "redis (shared duplicates): " + std::string(str(r1.get())));
                singles.emplace_back();
                continue;
            }
            if (!redis_.ok(r1)) return false;
            singles.push_back(std::move(r1));
        }
    } else {
        if (!redis_.ok(r)) return false;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != verdict_of.size()) return true;
    }
    for (size_t i = 0; i < verdict_of.size(); ++i) {
        const redisReply *x = nullptr;
        if (singles.empty()) x = r->element[i];
        else if (singles[i] && singles[i]->type == REDIS_REPLY_ARRAY && singles[i]->elements == 1) x = singles[i]->element[0];
        if (!x) continue;
        if (x->type != REDIS_REPLY_ARRAY || x->elements < 6 || x->element[0]->integer < 0) continue;
        const long long copies = x->element[0]->integer + 1;  // this post included
        const int action = action_by_count(copies, o_.dup_flag, o_.dup_hold, o_.dup_reject);
        if (copies < 2 || !action) continue;
        nlohmann::ordered_json ev = {{"copies", copies},
                                     {"authors", x->element[1]->integer},
                                     {"channels", x->element[2]->integer},
                                     {"since", x->element[3]->integer / 1000},
                                     {"window_s", o_.dup_window},
                                     {"match", x->element[4]->integer ? "near" : "exact"}};
        if (x->element[4]->integer) ev["distance"] = x->element[5]->integer;
        auto earlier = nlohmann::ordered_json::array();
        for (size_t k = 6; k < x->elements; ++k) earlier.push_back(str(x->element[k]));
        ev["earlier"] = earlier;
        if (!raise_verdict(verdicts[verdict_of[i]], "spam.duplicate", copies, action, std::move(ev))) continue;
        ++duplicated_;
    }
    return true;
}

void Worker::check_control() {
    auto now = Clock::now();
    if (now - last_control_ < std::chrono::seconds(1)) return;
    last_control_ = now;
    auto r = redis_.cmd({"GET", control_key_});
    if (!r || r->type == REDIS_REPLY_ERROR) return;
    std::string v(str(r.get()));
    if (control_known_ && v != control_seen_) {
        log("%s changed: reloading the rules", control_key_.c_str());
        g_reload = true;
    }
    control_seen_ = v;
    control_known_ = true;
}

void Worker::swap_engine() {
    if (g_reload.exchange(false)) {
        log("reloading %s", !o_.db.empty() ? o_.db.c_str() : !o_.rules.empty() ? o_.rules.c_str() : "the built-in packs");
        reloader_.start();
    }
    Loaded next;
    std::string error;
    if (reloader_.take(next, error)) {
        // Between batches: no scan is running with the old engine, which goes now. (A later load
        // that failed, asked for while this one ran, is told too: the packs on disk are broken now.)
        log("reloaded: database %s (was %s)", next.hash.c_str(), cur_.hash.c_str());
        if (!error.empty()) log("a later reload was refused, these rules stay: %s", error.c_str());
        cur_ = std::move(next);
        ++reloads_;
    } else if (!error.empty()) {
        log("reload refused, the old rules stay (database %s): %s", cur_.hash.c_str(), error.c_str());
    }
}

void Worker::summary(bool force) {
    if (o_.log_every <= 0 && !force) return;
    auto now = Clock::now();
    double secs = std::chrono::duration<double>(now - last_log_).count();
    if (!force && secs < o_.log_every) return;
    long long pending = -1, lag = -1;
    auto r = redis_.cmd({"XINFO", "GROUPS", o_.stream});
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; ++i) {
            const redisReply *g = r->element[i];
            if (g->type != REDIS_REPLY_ARRAY) continue;
            bool mine = false;
            long long p = -1, l = -1;
            for (size_t j = 0; j + 1 < g->elements; j += 2) {
                std::string_view k = str(g->element[j]);
                const redisReply *v = g->element[j + 1];
                if (k == "name") mine = str(v) == o_.group;
                else if (k == "pending" && v->type == REDIS_REPLY_INTEGER) p = v->integer;
                else if (k == "lag" && v->type == REDIS_REPLY_INTEGER) l = v->integer;
            }
            if (mine) pending = p, lag = l;
        }
    pending_ = pending;
    lag_ = lag;
    uint64_t n = posts_ - posts_at_last_log_;
    log("%" PRIu64 " posts in %.1f s (%.0f posts/s), %" PRIu64 " written, %" PRIu64 " dead-lettered, %" PRIu64
        " retried, %" PRIu64 " raised by shared flood counters, %" PRIu64 " by shared duplicates, %" PRIu64
        " by new-account links, pending %lld, lag %lld, reloads %" PRIu64 ", database %s",
        n, secs, secs > 0 ? double(n) / secs : 0.0, written_, dead_, retried_, flooded_, duplicated_, new_accounts_, pending, lag,
        reloads_, cur_.hash.c_str());
    posts_at_last_log_ = posts_;
    last_log_ = now;
}

void Worker::publish_metrics() {
    const auto now = Clock::now();
    if (now - last_metrics_ < std::chrono::milliseconds(100)) return;
    last_metrics_ = now;
    std::string m;
    auto metric = [&](const char *name, const char *type, const char *help, const std::string &labels, long long v) {
        m += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        m += std::string(name) + labels + " " + std::to_string(v) + "\n";
    };
    metric("modfilter_worker_posts_total", "counter", "Posts judged: verdicts written to the output stream.", "",
           static_cast<long long>(posts_));
    metric("modfilter_worker_dead_lettered_total", "counter", "Entries written to the dead-letter stream.", "",
           static_cast<long long>(dead_));
    metric("modfilter_worker_retried_total", "counter", "Entries whose handling failed and that were left for a retry.",
           "", static_cast<long long>(retried_));
    metric("modfilter_worker_batches_total", "counter", "Batches handled.", "", static_cast<long long>(batches_));
    metric("modfilter_worker_reloads_total", "counter", "Rule reloads that took effect.", "", static_cast<long long>(reloads_));
    m += "# HELP modfilter_worker_raised_total Verdicts raised by the state (shared or, for new-account links, per post), by category.\n"
         "# TYPE modfilter_worker_raised_total counter\n";
    m += "modfilter_worker_raised_total{category=\"spam.flood\"} " + std::to_string(flooded_) + "\n";
    m += "modfilter_worker_raised_total{category=\"spam.duplicate\"} " + std::to_string(duplicated_) + "\n";
    m += "modfilter_worker_raised_total{category=\"spam.new-account-links\"} " + std::to_string(new_accounts_) + "\n";
    metric("modfilter_worker_group_pending", "gauge", "Entries of the group read and not acknowledged (at the last summary; -1: unknown).",
           "", pending_);
    metric("modfilter_worker_group_lag", "gauge", "Entries of the stream not yet read by the group (at the last summary; -1: unknown).",
           "", lag_);
    metric("modfilter_worker_database_info", "gauge", "The database the worker judges with.",
           "{hash=\"" + cur_.hash + "\"}", 1);
    std::lock_guard<std::mutex> lk(metrics_mu_);
    metrics_.swap(m);
}

// One connection at a time: whatever the request, the reply is the last published counters.
void Worker::serve_metrics(int fd) {
    while (!g_stop) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) continue;
        const int c = accept(fd, nullptr, nullptr);
        if (c < 0) continue;
        timeval tv{1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char req[2048];
        (void)!recv(c, req, sizeof req, 0);  // the request line is not needed: there is one page
        std::string body;
        {
            std::lock_guard<std::mutex> lk(metrics_mu_);
            body = metrics_;
        }
        const std::string head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
        const std::string all = head + body;
        for (size_t off = 0; off < all.size();) {
            const ssize_t n = send(c, all.data() + off, all.size() - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
        close(c);
    }
    close(fd);
}

int Worker::run() {
    std::string error;
    // (compiling rule packs takes seconds: said before, so that a worker that seems idle is not)
    log("loading %s", !o_.db.empty() ? ("the compiled database " + o_.db).c_str()
                      : !o_.rules.empty() ? ("the rule packs in " + o_.rules).c_str() : "the built-in packs");
    const auto loading = Clock::now();
    if (!load_engine(o_.rules, o_.db, o_.max_post_bytes, cur_, error)) {
        log("%s", error.c_str());
        return 1;
    }
    log("loaded database %s in %.2f s", cur_.hash.c_str(), std::chrono::duration<double>(Clock::now() - loading).count());
    consumer_ = o_.consumer;
    if (consumer_.empty()) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        consumer_ = std::string(host) + ":" + std::to_string(getpid());
    }
    dead_stream_ = o_.dead_stream.empty() ? o_.out_stream + ":dead" : o_.dead_stream;
    control_key_ = o_.control_key.empty() ? o_.stream + ":reload" : o_.control_key;
    flood_prefix_ = o_.flood_prefix.empty() ? o_.stream + ":flood" : o_.flood_prefix;
    // The fingerprint algorithm's version is in the default prefix: after an upgrade that changes it,
    // the texts recorded by the old one (whose hashes the new one never gives) are left to expire.
    dup_prefix_ = o_.dup_prefix.empty() ? o_.stream + ":dup:f" + std::to_string(mf_fingerprint_version()) : o_.dup_prefix;
    log("consumer %s of group %s on %s, verdicts to %s, database %s", consumer_.c_str(), o_.group.c_str(),
        o_.stream.c_str(), o_.out_stream.c_str(), cur_.hash.c_str());
    std::thread metrics_thread;
    if (o_.metrics_port) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(o_.metrics_port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd, 16) != 0) {
            log("--metrics-port %u: %s", o_.metrics_port, std::strerror(errno));
            if (fd >= 0) close(fd);
            return 1;
        }
        publish_metrics();
        metrics_thread = std::thread([this, fd] { serve_metrics(fd); });
        log("metrics on http://127.0.0.1:%u/metrics", o_.metrics_port);
    }

    double backoff = 0.1;
    while (!g_stop) {
        if (!redis_.connected()) {
            if (!setup_connection()) {
                log("redis: %s; again in %.1f s", redis_.error().c_str(), backoff);
                nap(backoff);
                backoff = std::min(backoff * 2, 5.0);
                continue;
            }
            if (backoff > 0.1) log("connected again");
            backoff = 0.1;
        }
        swap_engine();
        if (entries_.empty()) {
            if (redis_.drain() && !next_.empty()) {  // (asked for ahead of a batch whose handling failed)
                entries_.swap(next_);
            } else if (!fetch()) {
                if (!redis_.connected()) log("redis: %s", redis_.error().c_str());
                else log("redis: %s", redis_.error().c_str()), nap(0.5);
                continue;
            }
        }
        if (!entries_.empty()) {
            // The next batch is asked for before this one is judged, and this one's verdicts are
            // written while the next is judged (prefetch(), ack_write): replies read before the
            // next batch are the verdicts of the batch before and the next batch itself.
            const bool ahead = prefetch();
            if (!process()) {
                log("redis: %s (the batch stays pending and is read again)", redis_.error().c_str());
                entries_.clear();
                continue;
            }
            entries_.clear();
            // The replies up to the next batch's (the verdicts sent just now stay unread).
            while (ahead && !next_ready_ && redis_.connected())
                if (!redis_.drain_one()) log("redis: %s", redis_.error().c_str());
            entries_.swap(next_);
            next_.clear();
        }
        check_control();
        summary(false);
        if (o_.metrics_port) publish_metrics();
    }
    // A batch asked for ahead is in hand too (also when the batch before it failed): judged and
    // written before stopping.
    redis_.drain();
    if (entries_.empty()) entries_.swap(next_);
    if (redis_.connected() && !entries_.empty() && !process())
        log("redis: %s (the batch stays pending and is read again)", redis_.error().c_str());
    redis_.drain();
    if (redis_.connected()) {
        summary(true);
        // Leave the group tidy: a consumer with nothing pending is forgotten (one with entries still
        // pending, a failure waiting for its retry, stays so that they are claimed, never dropped).
        // One script, so that nothing runs between the look and the delete: another process with the
        // same consumer name (two containers on one host network, each worker pid 1) could read a
        // batch in between, which the delete would throw out of the pending list (its XACK then 0,
        // no verdict).
        static constexpr const char *kForget = R"lua(
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
)lua";
        redis_.cmd({"EVAL", kForget, "1", o_.stream, o_.group, consumer_});
    }
    log("stopped: %" PRIu64 " verdicts written, %" PRIu64 " dead-lettered", written_, dead_);
    if (metrics_thread.joinable()) metrics_thread.join();  // (it sees g_stop within 200 ms)
    return 0;
}

}  // namespace

int run_worker(const WorkerOptions &o) {
    RedisUrl url;
    std::string error;
    if (!parse_url(o.redis, url, error)) {
        std::fprintf(stderr, "modfilter worker: %s\n", error.c_str());
        return 2;
    }
    // (the verdicts would be read as posts, and --out-maxlen would trim posts not yet read)
    if (o.out_stream == o.stream) {
        std::fprintf(stderr, "modfilter worker: --out-stream must differ from --stream (both are '%s')\n", o.stream.c_str());
        return 2;
    }
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_reload;
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    Worker w(o, std::move(url));
    return w.run();
}

}  // namespace mfcli
