#include "stream.hpp"

#include <simdjson.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace mfcli {

// ------------------------------------------------------------------------------------------------
// Sources and sinks

ptrdiff_t FdSource::read(char *buf, size_t cap) {
    for (;;) {
        if (stop_fd_ >= 0) {
            pollfd p[2] = {{stop_fd_, POLLIN, 0}, {fd_, POLLIN, 0}};
            if (::poll(p, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            if (p[0].revents) {
                stopped_ = true;
                return 0;
            }
        }
        ssize_t r = ::read(fd_, buf, cap);
        if (r >= 0 || errno != EINTR) return r;
    }
}

bool FdSink::write(const char *data, size_t n) {
    while (n) {
        ssize_t r = ::write(fd_, data, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

ptrdiff_t MemorySource::read(char *buf, size_t cap) {
    size_t n = std::min(cap, data_.size());
    if (chunk_) n = std::min(n, chunk_);
    if (n) std::memcpy(buf, data_.data(), n);
    data_.remove_prefix(n);
    return static_cast<ptrdiff_t>(n);
}

bool open_engine(Engine &e, const std::string &rules, const std::string &db, uint64_t max_post_bytes,
                 std::string &error) {
    mf_engine_options opts = MF_ENGINE_OPTIONS_INIT;
    if (max_post_bytes) opts.max_post_bytes = max_post_bytes;
    mf_status st;
    if (!db.empty()) {
        std::ifstream in(db, std::ios::binary);
        std::string data;
        if (in.is_open()) data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (!in.is_open() || in.bad()) {
            error = "cannot read " + db;
            return false;
        }
        st = mf_engine_deserialize(&e.engine, data.data(), data.size(), &opts);
    } else {
        if (!rules.empty()) opts.rules_path = rules.c_str();
        st = mf_engine_create(&e.engine, &opts);
    }
    if (st == MF_OK) st = mf_scanner_create(&e.scanner, e.engine);
    if (st == MF_OK) st = mf_verdict_create(&e.verdict);
    if (st != MF_OK) {
        error = std::string(mf_status_str(st)) + ": " + mf_last_error();
        return false;
    }
    return true;
}

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// ------------------------------------------------------------------------------------------------
// Bytes a JSON parser cannot take
//
// simdjson (like every strict JSON parser) rejects invalid UTF-8 and lone surrogate escapes, but a
// post holding them must still be scanned. A line the parser rejects is rewritten and parsed again:
//   - each invalid UTF-8 byte b becomes the private-use code point U+10FF00+b (4 bytes of valid
//     UTF-8), and is turned back into the byte b in the post's text (unescape_private);
//   - each lone surrogate escape (\uD800-\uDFFF not part of a high-low pair, as JavaScript's
//     JSON.stringify writes for a broken emoji) becomes the code point standing for byte 0xFF, so
//     the engine sees one invalid byte there: it counts it in invalid_utf8 and reads it as U+FFFD.
//     Verdict offsets refer to the text as the CLI passes it to the engine, where each lone
//     surrogate escape is that one byte.
// Elsewhere (id, channel, messages) the stand-ins are written out as U+FFFD.
// Only lines the parser rejected are rewritten: a valid line holding U+10FF80..U+10FFFF itself is
// passed through unchanged. In a rewritten line those code points are ambiguous and read as bytes.

constexpr unsigned char kLoneSurrogateByte = 0xFF;

// Decodes one UTF-8 sequence; returns its length if valid, 0 if not.
size_t valid_utf8_len(const unsigned char *p, size_t n) {
    unsigned char b = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else return 0;
    if (n < need + 1) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i <= need; ++i)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return need + 1;
}

void put_private(std::string &out, unsigned char b) {
    uint32_t cp = 0x10FF00u + b;
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
}

// The byte a private-use stand-in at p (n bytes available) stands for, or -1.
int private_byte(const unsigned char *p, size_t n) {
    if (n < 4 || p[0] != 0xF4 || p[1] != 0x8F || (p[2] != 0xBE && p[2] != 0xBF) || (p[3] & 0xC0) != 0x80)
        return -1;
    return ((p[2] & 0x01) << 6 | (p[3] & 0x3F)) + 0x80;
}

int hex_digit(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Reads "uXXXX" at p (n bytes available); returns the code unit or -1.
long u_escape(const unsigned char *p, size_t n) {
    if (n < 5 || p[0] != 'u') return -1;
    long v = 0;
    for (int i = 1; i <= 4; ++i) {
        int d = hex_digit(p[i]);
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

// Rewrites `line` as described above into `out`; returns false (out unspecified) when there was
// nothing to rewrite.
bool rewrite_line(std::string_view line, std::string &out) {
    const auto *p = reinterpret_cast<const unsigned char *>(line.data());
    const size_t n = line.size();
    bool changed = false;
    out.clear();
    out.reserve(n + n / 8 + 16);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '\\' && i + 1 < n) {
            long u = u_escape(p + i + 1, n - i - 1);
            if (u >= 0xD800 && u <= 0xDFFF) {
                long lo = u <= 0xDBFF && i + 7 < n && p[i + 6] == '\\' ? u_escape(p + i + 7, n - i - 7) : -1;
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    out.append(line, i, 12);
                    i += 12;
                } else {
                    put_private(out, kLoneSurrogateByte);
                    changed = true;
                    i += 6;
                }
                continue;
            }
            if (p[i + 1] < 0x80) {  // any other escape, kept whole so "\\" never starts one
                out.append(line, i, 2);
                i += 2;
                continue;
            }
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        size_t len = valid_utf8_len(p + i, n - i);
        if (len) {
            out.append(line, i, len);
            i += len;
        } else {
            put_private(out, c);
            changed = true;
            ++i;
        }
    }
    return changed;
}

// Text from a rewritten line: stand-ins back to the bytes they stand for.
void unescape_private(std::string_view s, std::string &out) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    out.clear();
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (p[i] == 0xF4) {
            int b = private_byte(p + i, s.size() - i);
            if (b >= 0) {
                out += static_cast<char>(b);
                i += 4;
                continue;
            }
        }
        out += s[i++];
    }
}

// Raw JSON from a rewritten line: stand-ins as U+FFFD, so the output stays valid UTF-8.
void append_replacing_private(std::string &out, std::string_view s) {
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    for (size_t i = 0; i < s.size();) {
        if (p[i] == 0xF4 && private_byte(p + i, s.size() - i) >= 0) {
            out += "\xEF\xBF\xBD";
            i += 4;
            continue;
        }
        out += s[i++];
    }
}

// A JSON string for any bytes: invalid UTF-8 bytes become U+FFFD.
void append_json_string(std::string &out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    out += '"';
    for (size_t i = 0; i < s.size();) {
        unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
            }
            ++i;
            continue;
        }
        size_t len = valid_utf8_len(p + i, s.size() - i);
        if (len) {
            out.append(s, i, len);
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    out += '"';
}

void append_number(std::string &out, uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

inline bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_right(const char *begin, const char *end) {
    while (end > begin && json_space(end[-1])) --end;
    return {begin, static_cast<size_t>(end - begin)};
}

bool is_json_number(std::string_view s) {
    size_t i = 0, n = s.size();
    auto digits = [&] {
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
        return i > start;
    };
    if (i < n && s[i] == '-') ++i;
    if (i < n && s[i] == '0') ++i;
    else if (!digits()) return false;
    if (i < n && s[i] == '.') {
        ++i;
        if (!digits()) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (!digits()) return false;
    }
    return i == n;
}

// ------------------------------------------------------------------------------------------------
// One JSON line

// A role value as found: absent, null, a string, or anything else.
struct RoleValue {
    enum Kind { kAbsent, kNull, kString, kOther } kind = kAbsent;
    std::string_view str;  // kString: decoded, in the parser's string buffer
};

// What a parsed post holds. Views point into the line or the parser's string buffer: valid until
// the next parse.
struct PostFields {
    bool has_id = false, has_channel = false, has_text = false, text_is_string = false;
    std::string_view id_raw, channel_raw;  // the values' JSON text, as in the line
    std::string_view text;                 // decoded
    bool text_in_line = false;             // text points into the line (it had no escapes)
    enum { kNoAuthor, kAuthorObject, kAuthorOther } author = kNoAuthor;
    RoleValue author_role, top_role;  // author.role, the top-level "role"
    // Who, where, when (mf_post version 2). A string value decoded, a number as written.
    std::string_view id_str, channel_str, author_id;
    bool has_author_id = false;
    double age_days = -1, ts = 0;
    bool edit = false;
    const char *field_error = nullptr;  // the first field of a wrong type: its message
    // The first of "ts", "edit" and "author.age_days" of a wrong type: an error only with a state
    // (--state), the one reader of these fields; without one they are left unread, as the README says.
    const char *state_field_error = nullptr;
};

enum class ParseResult { kOk, kInvalidJson, kNotObject };

class JsonLineParser {
public:
    // Parses buf[0, len) (capacity bytes readable from buf, at least len + SIMDJSON_PADDING).
    ParseResult parse(const char *buf, size_t len, size_t capacity, PostFields &f, std::string &error) {
        return parse_line(buf, len, capacity, f, error, true);
    }

    // Frees the parser's memory after a very long line (invalidates views from the last parse).
    void shrink() {
        if (parser_.capacity() > (size_t(8) << 20)) parser_ = od::parser{};
    }

private:
    od::parser parser_;
    std::string_view bad_number_;  // the token when a number failed to parse

    // parse(); `whole_line` false: buf is the object before trailing content, parsed alone.
    ParseResult parse_line(const char *buf, size_t len, size_t capacity, PostFields &f, std::string &error,
                           bool whole_line) {
        f = PostFields{};
        bad_number_ = {};
        od::document doc;
        error_code err = parser_.iterate(buf, len, capacity).get(doc);
        if (!err) {
            ParseResult r = parse_doc(doc, f, err);
            if (!err) {
                if (r == ParseResult::kNotObject) return r;
                // Anything after the object is an error (the iterator reports a location only
                // when a token is left).
                const char *loc = nullptr;
                if (doc.current_location().get(loc) == simdjson::SUCCESS) {
                    error = "invalid JSON: content after the object";
                    return ParseResult::kInvalidJson;
                }
                return ParseResult::kOk;
            }
        }
        // A whole object with something after it ("{...} trailing") reads to simdjson as an object
        // cut short: said as it is when the object alone parses, and the object's own mistake,
        // which comes first in the line, when it does not.
        if (const size_t end = whole_line ? object_end(buf, len) : 0) {
            std::string prefix(buf, end);
            prefix.append(simdjson::SIMDJSON_PADDING, '\0');
            PostFields g;
            std::string inner;
            const ParseResult r = parse_line(prefix.data(), end, prefix.size(), g, inner, false);
            bad_number_ = {};  // (it pointed into prefix)
            error = r == ParseResult::kOk ? "invalid JSON: content after the object" : inner;
            return ParseResult::kInvalidJson;
        }
        error = "invalid JSON: ";
        if (err == simdjson::NUMBER_ERROR && !bad_number_.empty()) {
            std::string_view tok = bad_number_.substr(0, 64);
            if (is_json_number(bad_number_)) error += "number overflow parsing '";
            else error += "malformed number '";
            error += tok;
            if (tok.size() < bad_number_.size()) error += "...";
            error += "'";
        } else {
            error += simdjson::error_message(err);
        }
        return ParseResult::kInvalidJson;
    }

    // Where the top-level object that opens b[0, n) ends (the byte after its '}'), when something
    // other than white space follows it; else 0. Strings and escapes are skipped, nothing else is
    // checked: parse() then parses the object alone.
    static size_t object_end(const char *b, size_t n) {
        size_t i = 0;
        while (i < n && json_space(b[i])) ++i;
        if (i == n || b[i] != '{') return 0;
        size_t depth = 0;
        bool in_string = false;
        for (; i < n; ++i) {
            const char c = b[i];
            if (in_string) {
                if (c == '\\') ++i;
                else if (c == '"') in_string = false;
            } else if (c == '"') {
                in_string = true;
            } else if (c == '{' || c == '[') {
                ++depth;
            } else if ((c == '}' || c == ']') && depth && --depth == 0) {
                size_t j = i + 1;
                while (j < n && json_space(b[j])) ++j;
                return j < n ? i + 1 : 0;
            }
        }
        return 0;
    }

    ParseResult parse_doc(od::document &doc, PostFields &f, error_code &err) {
        od::json_type t;
        if ((err = doc.type().get(t))) return ParseResult::kInvalidJson;
        if (t != od::json_type::object) {
            // Not an object: validate it all, so that a line that is not JSON says so.
            err = walk_root(doc, t);
            return ParseResult::kNotObject;
        }
        od::object obj;
        if ((err = doc.get_object().get(obj))) return ParseResult::kInvalidJson;
        // A field the post is read from, named twice, is an error, not the last one winning: a
        // validator upstream that reads the first "text" would pass what modfilter never saw.
        static constexpr std::string_view kFields[] = {"text", "id", "channel", "ts", "edit", "author", "role"};
        static constexpr const char *kTwice[] = {"the key \"text\" appears twice", "the key \"id\" appears twice",
                                                 "the key \"channel\" appears twice", "the key \"ts\" appears twice",
                                                 "the key \"edit\" appears twice", "the key \"author\" appears twice",
                                                 "the key \"role\" appears twice"};
        unsigned seen = 0;
        for (auto field : obj) {
            std::string_view key;
            od::value v;
            if ((err = field.unescaped_key().get(key)) || (err = field.value().get(v))) return ParseResult::kInvalidJson;
            for (unsigned k = 0; k < std::size(kFields); ++k)
                if (key == kFields[k]) {
                    if (seen & (1u << k)) field_error(f, kTwice[k]);
                    seen |= 1u << k;
                }
            if (key == "text") {
                od::json_type vt;
                if ((err = v.type().get(vt))) return ParseResult::kInvalidJson;
                f.has_text = true;
                f.text_is_string = vt == od::json_type::string;
                f.text_in_line = false;
                if (!f.text_is_string) {
                    if ((err = walk(v))) return ParseResult::kInvalidJson;
                    continue;
                }
                const char *tok = v.raw_json_token().data();
                std::string_view s;
                if ((err = v.get_string().get(s))) return ParseResult::kInvalidJson;
                const char *end = nullptr;
                if ((err = doc.current_location().get(end))) return ParseResult::kInvalidJson;
                std::string_view raw = trim_right(tok, end);
                // Every escape is longer than what it decodes to: same length, no escapes, and the
                // text is the bytes between the quotes.
                if (raw.size() == s.size() + 2) {
                    f.text = raw.substr(1, s.size());
                    f.text_in_line = true;
                } else {
                    f.text = s;
                }
            } else if (key == "id") {
                if ((err = name_value(doc, v, f.id_raw, f.id_str)))
                    return ParseResult::kInvalidJson;
                f.has_id = true;
            } else if (key == "channel") {
                if ((err = name_value(doc, v, f.channel_raw, f.channel_str)))
                    return ParseResult::kInvalidJson;
                f.has_channel = true;
            } else if (key == "ts") {
                od::json_type vt;
                if ((err = v.type().get(vt))) return ParseResult::kInvalidJson;
                if (vt == od::json_type::number) {
                    if ((err = v.get_double().get(f.ts))) return ParseResult::kInvalidJson;
                    // (from 1e11 on, year 5138: milliseconds, as JavaScript's Date.now() gives them)
                    if (!(f.ts >= 0 && f.ts < 1e13)) state_field_error(f, "\"ts\" must be seconds since 1970 (a number from 0)");
                    else if (f.ts >= 1e11) state_field_error(f, "\"ts\" must be seconds since 1970, not milliseconds (divide by 1000)");
                } else {
                    state_field_error(f, "\"ts\" must be a number (seconds since 1970)");
                    if ((err = walk(v))) return ParseResult::kInvalidJson;
                }
            } else if (key == "edit") {
                od::json_type vt;
                if ((err = v.type().get(vt))) return ParseResult::kInvalidJson;
                if (vt == od::json_type::boolean) {
                    if ((err = v.get_bool().get(f.edit))) return ParseResult::kInvalidJson;
                } else if (vt != od::json_type::null) {
                    state_field_error(f, "\"edit\" must be true or false");
                    if ((err = walk(v))) return ParseResult::kInvalidJson;
                }
            } else if (key == "author") {
                od::json_type vt;
                if ((err = v.type().get(vt))) return ParseResult::kInvalidJson;
                f.author_role = {};
                if (vt == od::json_type::object) {
                    f.author = PostFields::kAuthorObject;
                    od::object a;
                    if ((err = v.get_object().get(a))) return ParseResult::kInvalidJson;
                    unsigned aseen = 0;
                    for (auto af : a) {
                        std::string_view akey;
                        od::value av;
                        if ((err = af.unescaped_key().get(akey)) || (err = af.value().get(av)))
                            return ParseResult::kInvalidJson;
                        const unsigned bit = akey == "role" ? 1 : akey == "id" ? 2 : akey == "age_days" ? 4 : 0;
                        if (aseen & bit) field_error(f, "a key of \"author\" appears twice");
                        aseen |= bit;
                        if (akey == "role") err = role_value(av, f.author_role);
                        else if (akey == "id") {
                            std::string_view raw;
                            err = name_value(doc, av, raw, f.author_id);
                            f.has_author_id = !err;
                        } else if (akey == "age_days") {
                            od::json_type at;
                            if ((err = av.type().get(at))) return ParseResult::kInvalidJson;
                            if (at == od::json_type::number) {
                                err = av.get_double().get(f.age_days);
                                if (!err && !(f.age_days >= 0 && f.age_days < 1e6))
                                    state_field_error(f, "\"author.age_days\" must be a number of days from 0 to 999999");
                            } else if (at == od::json_type::null) {
                                err = walk(av);
                            } else {
                                state_field_error(f, "\"author.age_days\" must be a number of days");
                                err = walk(av);
                            }
                        } else err = walk(av);
                        if (err) return ParseResult::kInvalidJson;
                    }
                } else {
                    f.author = vt == od::json_type::null ? PostFields::kNoAuthor : PostFields::kAuthorOther;
                    if ((err = walk(v))) return ParseResult::kInvalidJson;
                }
            } else if (key == "role") {
                if ((err = role_value(v, f.top_role))) return ParseResult::kInvalidJson;
            } else {
                if ((err = walk(v))) return ParseResult::kInvalidJson;
            }
        }
        return ParseResult::kOk;
    }

    // Validates a value and gives its JSON text as written.
    error_code raw_value(od::document &doc, od::value &v, std::string_view &raw) {
        const char *start = v.raw_json_token().data();
        if (error_code err = walk(v)) return err;
        const char *end = nullptr;
        if (error_code err = doc.current_location().get(end)) return err;
        raw = trim_right(start, end);
        return simdjson::SUCCESS;
    }

    static void field_error(PostFields &f, const char *msg) {
        if (!f.field_error) f.field_error = msg;
    }
    static void state_field_error(PostFields &f, const char *msg) {
        if (!f.state_field_error) f.state_field_error = msg;
    }

    // An id or a name: its JSON text as written, and its value as a string (a string decoded, any
    // other value as written, null as none).
    error_code name_value(od::document &doc, od::value &v, std::string_view &raw, std::string_view &str) {
        od::json_type t;
        if (error_code err = v.type().get(t)) return err;
        if (t == od::json_type::string) {
            const char *start = v.raw_json_token().data();
            if (error_code err = v.get_string().get(str)) return err;
            const char *end = nullptr;
            if (error_code err = doc.current_location().get(end)) return err;
            raw = trim_right(start, end);
            return simdjson::SUCCESS;
        }
        if (error_code err = raw_value(doc, v, raw)) return err;
        if (t != od::json_type::null) str = raw;  // a number, or any other JSON, as written
        return simdjson::SUCCESS;
    }

    error_code role_value(od::value &v, RoleValue &r) {
        od::json_type t;
        if (error_code err = v.type().get(t)) return err;
        if (t == od::json_type::string) {
            r.kind = RoleValue::kString;
            return v.get_string().get(r.str);
        }
        r.kind = t == od::json_type::null ? RoleValue::kNull : RoleValue::kOther;
        return walk(v);
    }

    // Validates a value fully (like a DOM parser would): every string decoded, every number read.
    error_code walk(od::value v) {
        od::json_type t;
        if (error_code err = v.type().get(t)) return err;
        switch (t) {
        case od::json_type::object: {
            od::object o;
            if (error_code err = v.get_object().get(o)) return err;
            for (auto field : o) {
                std::string_view key;
                od::value fv;
                if (error_code err = field.unescaped_key().get(key)) return err;
                if (error_code err = field.value().get(fv)) return err;
                if (error_code err = walk(fv)) return err;
            }
            return simdjson::SUCCESS;
        }
        case od::json_type::array: {
            od::array a;
            if (error_code err = v.get_array().get(a)) return err;
            for (auto el : a) {
                od::value ev;
                if (error_code err = el.get(ev)) return err;
                if (error_code err = walk(ev)) return err;
            }
            return simdjson::SUCCESS;
        }
        case od::json_type::string: {
            std::string_view s;
            return v.get_string().get(s);
        }
        case od::json_type::number: {
            std::string_view tok = v.raw_json_token();
            double d;
            error_code err = v.get_double().get(d);
            if (err == simdjson::NUMBER_ERROR) bad_number_ = trim_right(tok.data(), tok.data() + tok.size());
            return err;
        }
        case od::json_type::boolean: {
            bool b;
            return v.get_bool().get(b);
        }
        case od::json_type::null: {
            bool is_null = false;
            if (error_code err = v.is_null().get(is_null)) return err;
            return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
        }
        }
        return simdjson::TAPE_ERROR;
    }

    error_code walk_root(od::document &doc, od::json_type t) {
        switch (t) {
        case od::json_type::array: {
            od::array a;
            if (error_code err = doc.get_array().get(a)) return err;
            for (auto el : a) {
                od::value ev;
                if (error_code err = el.get(ev)) return err;
                if (error_code err = walk(ev)) return err;
            }
            const char *loc = nullptr;
            if (doc.current_location().get(loc) == simdjson::SUCCESS) return simdjson::TRAILING_CONTENT;
            return simdjson::SUCCESS;
        }
        case od::json_type::string: {
            std::string_view s;
            return doc.get_string().get(s);
        }
        case od::json_type::number: {
            std::string_view tok;
            if (error_code err = doc.raw_json_token().get(tok)) return err;
            double d;
            error_code err = doc.get_double().get(d);
            if (err == simdjson::NUMBER_ERROR) bad_number_ = trim_right(tok.data(), tok.data() + tok.size());
            return err;
        }
        case od::json_type::boolean: {
            bool b;
            return doc.get_bool().get(b);
        }
        case od::json_type::null: {
            bool is_null = false;
            if (error_code err = doc.is_null().get(is_null)) return err;
            return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
        }
        default: return simdjson::TAPE_ERROR;
        }
    }
};

// ------------------------------------------------------------------------------------------------
// The stream

class StreamScanner {
public:
    StreamScanner(Engine &e, Sink &out, const ScanOptions &o)
        : e_(e), sink_(out), o_(o), text_format_(o.format == "text"),
          default_role_(o.role == "staff" ? MF_ROLE_STAFF : MF_ROLE_MEMBER),
          flags_(o.censor ? MF_SCAN_CENSOR : 0u), batch_(std::max<size_t>(o.batch, 1)),
          max_line_(std::max<size_t>(o.max_line_bytes, 1)), threads_(std::clamp<size_t>(o.threads, 1, 256)),
          slots_(batch_), posts_(batch_), post_slot_(batch_), json_(batch_) {}
    ~StreamScanner() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        go_.notify_all();
        for (std::thread &t : pool_) t.join();
    }

    bool run(Source &in);
    void set_lines(size_t n) { line_no_ = n; }  // lines read before this stream
    size_t lines() const { return line_no_; }

private:
    static constexpr size_t kPad = simdjson::SIMDJSON_PADDING;
    static constexpr size_t kOutFlush = size_t(1) << 20;

    // One input line waiting for its batch.
    struct Slot {
        size_t line = 0;
        bool failed = false;  // `error` holds the message
        std::string error;
        bool has_id = false, has_channel = false;
        std::string id, channel;  // JSON text
        const char *text = nullptr;  // into the input buffer, or text_store
        size_t len = 0;
        bool text_stored = false;
        std::string text_store;
        int32_t role = MF_ROLE_MEMBER;
        // mf_post version 2
        std::string id_str, author_id, channel_str;
        bool has_author_id = false;
        int64_t ts_ms = 0;
        int32_t age_days = MF_AGE_UNKNOWN;
        bool edit = false;
    };

    Engine &e_;
    Sink &sink_;
    const ScanOptions &o_;
    const bool text_format_;
    const int32_t default_role_;
    const uint32_t flags_;
    const size_t batch_, max_line_;
    const size_t threads_;

    // The threads besides the caller's (threads_ - 1 of them, started on the first batch worth
    // sharing): each waits for the next batch (gen_), scans its share [m t / n, m (t + 1) / n) of
    // posts_ with its own scanner (Engine::helpers), and counts itself done (left_).
    std::vector<std::thread> pool_;
    std::mutex mu_;
    std::condition_variable go_, done_;
    uint64_t gen_ = 0;
    size_t left_ = 0, share_m_ = 0, parts_ = 1;
    bool stop_ = false;

    std::vector<Slot> slots_;
    size_t pending_ = 0;
    std::vector<mf_post> posts_;
    std::vector<size_t> post_slot_;
    std::vector<std::pair<const char *, size_t>> json_;  // each scanned post's verdict JSON (scan_range)
    std::string out_;
    bool write_failed_ = false;
    size_t line_no_ = 0;

    JsonLineParser parser_;
    PostFields fields_;
    std::string rewritten_, role_buf_;

    Slot &next_slot() {
        Slot &s = slots_[pending_++];
        s.line = ++line_no_;
        s.failed = s.has_id = s.has_channel = s.text_stored = s.has_author_id = s.edit = false;
        s.id_str.clear();
        s.channel_str.clear();
        s.author_id.clear();
        s.ts_ms = 0;
        s.age_days = MF_AGE_UNKNOWN;
        s.text = nullptr;
        s.len = 0;
        return s;
    }

    void fail(Slot &s, std::string_view msg) {
        s.failed = true;
        s.error.assign(msg);
    }

    void line(const char *p, size_t len, size_t capacity);
    void json_line(Slot &s, const char *p, size_t len, size_t capacity);
    void too_long(size_t len);
    bool flush_batch();
    void scan_range(mf_scanner *scanner, size_t lo, size_t hi);
    void scan_shared(size_t m);
    void helper(size_t t);
    bool flush_output(bool all);
    void write_error(const Slot &s, std::string_view msg);
};

void StreamScanner::too_long(size_t len) {
    Slot &s = next_slot();
    std::string msg = mf_status_str(MF_E_TOO_LARGE);
    msg += ": line of ";
    append_number(msg, len);
    msg += " bytes is over the reader's limit (";
    append_number(msg, max_line_);
    msg += " bytes)";
    fail(s, msg);
}

void StreamScanner::line(const char *p, size_t len, size_t capacity) {
    if (len > max_line_) {
        too_long(len);
    } else {
        if (len && p[len - 1] == '\r') --len;
        Slot &s = next_slot();
        if (text_format_) {
            s.has_id = true;
            s.id.clear();
            append_number(s.id, s.line);
            s.id_str = s.id;
            s.text = p;
            s.len = len;
            s.role = default_role_;
        } else {
            json_line(s, p, len, capacity);
            if (len > (size_t(8) << 20)) {  // free what a very long line took
                parser_.shrink();
                if (rewritten_.capacity() > (size_t(8) << 20)) rewritten_ = std::string();
            }
        }
    }
    if (pending_ == batch_) flush_batch();
}

void StreamScanner::json_line(Slot &s, const char *p, size_t len, size_t capacity) {
    PostFields &f = fields_;
    std::string error;
    bool rewritten = false;
    ParseResult r = parser_.parse(p, len, capacity, f, error);
    if (r != ParseResult::kOk && rewrite_line({p, len}, rewritten_)) {
        size_t n = rewritten_.size();
        rewritten_.append(kPad, ' ');
        rewritten = true;
        r = parser_.parse(rewritten_.data(), n, rewritten_.size(), f, error);
    }
    auto raw = [&](std::string &dst, std::string_view src) {
        dst.clear();
        if (rewritten) append_replacing_private(dst, src);
        else dst.assign(src);
    };
    if (r == ParseResult::kInvalidJson) return fail(s, error);
    if (r == ParseResult::kNotObject) return fail(s, "a post must be a JSON object with a \"text\" field");
    if ((s.has_id = f.has_id)) raw(s.id, f.id_raw);
    if ((s.has_channel = f.has_channel)) raw(s.channel, f.channel_raw);
    if (!f.has_text) return fail(s, "missing \"text\"");
    if (!f.text_is_string) return fail(s, "\"text\" must be a string");
    if (f.author == PostFields::kAuthorOther) return fail(s, "\"author\" must be an object: {\"id\": ..., \"role\": ..., \"age_days\": ...}");
    if (f.field_error) return fail(s, f.field_error);
    if (f.state_field_error) {
        if (e_.state) return fail(s, f.state_field_error);
        f.ts = 0;  // (unread without a state: the post goes on as if they were absent)
        f.age_days = -1;
        f.edit = false;
    }
    auto text_of = [&](std::string &dst, std::string_view src) {
        if (rewritten) unescape_private(src, dst);
        else dst.assign(src);
    };
    text_of(s.id_str, f.id_str);
    text_of(s.channel_str, f.channel_str);
    if ((s.has_author_id = f.has_author_id && !f.author_id.empty())) text_of(s.author_id, f.author_id);
    s.ts_ms = static_cast<int64_t>(f.ts * 1000.0);
    s.age_days = f.age_days < 0 ? MF_AGE_UNKNOWN : static_cast<int32_t>(f.age_days);
    s.edit = f.edit;

    const RoleValue *rv = nullptr;
    if (f.author == PostFields::kAuthorObject && f.author_role.kind != RoleValue::kAbsent) rv = &f.author_role;
    if (!rv && f.top_role.kind != RoleValue::kAbsent) rv = &f.top_role;
    if (!rv || rv->kind == RoleValue::kNull) {
        s.role = default_role_;  // --role: the role of posts that do not say
    } else if (rv->kind != RoleValue::kString) {
        return fail(s, rv == &f.top_role ? "\"role\" must be a string" : "\"author.role\" must be a string");
    } else {
        std::string_view name = rv->str;
        if (rewritten) {
            unescape_private(name, role_buf_);
            name = role_buf_;
        }
        // The two roles the engine knows, in any case ("Staff"), as the bindings take them: a
        // platform's own roles (admin, moderator, customer) are for its plugin to map, and one
        // mapped here by guess would hold or pass a post by a rule nobody wrote down.
        auto is = [&](std::string_view want) {
            if (name.size() != want.size()) return false;
            for (size_t k = 0; k < want.size(); ++k)
                if ((name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]) != want[k]) return false;
            return true;
        };
        const bool staff = is("staff");
        if (staff || is("member")) {
            s.role = staff ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
        } else {
            std::string msg = rv == &f.top_role ? "\"role\": unknown author role " : "\"author.role\": unknown author role ";
            append_json_string(msg, name);
            msg += " (use \"staff\" or \"member\")";
            return fail(s, msg);
        }
    }

    if (f.text_in_line && !rewritten) {
        s.text = f.text.data();  // stays in the input buffer until the batch is scanned
        s.len = f.text.size();
    } else {
        if (rewritten) unescape_private(f.text, s.text_store);
        else s.text_store.assign(f.text);
        s.text_stored = true;
        s.len = s.text_store.size();
    }
}

void StreamScanner::write_error(const Slot &s, std::string_view msg) {
    out_ += "{\"line\":";
    append_number(out_, s.line);
    if (s.has_id) {
        out_ += ",\"id\":";
        out_ += s.id;
    }
    out_ += ",\"error\":";
    append_json_string(out_, msg);
    out_ += "}\n";
}

bool StreamScanner::flush_batch() {
    if (!pending_) return !write_failed_;
    if (o_.before_batch) o_.before_batch();
    size_t m = 0;
    for (size_t i = 0; i < pending_; ++i) {
        Slot &s = slots_[i];
        if (s.failed) continue;
        mf_post &p = posts_[m];
        p = MF_POST_INIT;
        p.text = s.text_stored ? s.text_store.data() : s.text;
        p.len = s.len;
        p.author_role = s.role;
        p.flags = flags_;
        if (s.has_id) p.id = s.id_str.data(), p.id_len = s.id_str.size();
        if (s.has_author_id) p.author_id = s.author_id.data(), p.author_id_len = s.author_id.size();
        if (s.has_channel) p.channel = s.channel_str.data(), p.channel_len = s.channel_str.size();
        p.ts_ms = s.ts_ms;
        p.author_age_days = s.age_days;
        p.edit = s.edit ? MF_POST_EDIT : MF_POST_NEW;
        post_slot_[m++] = i;
    }
    if (threads_ > 1 && m >= 2 * threads_) scan_shared(m);
    else scan_range(e_.scanner, 0, m);
    size_t k = 0;  // verdict index
    for (size_t i = 0; i < pending_; ++i) {
        Slot &s = slots_[i];
        bool scanned = k < m && post_slot_[k] == i;
        const std::pair<const char *, size_t> json = scanned ? json_[k++] : std::pair<const char *, size_t>{};
        if (s.failed) {
            write_error(s, s.error);
            continue;
        }
        const char *vj = json.first;
        const size_t len = json.second;
        // {"id":...,"channel":...,<verdict fields>}
        out_ += '{';
        if (s.has_id) {
            out_ += "\"id\":";
            out_ += s.id;
            out_ += ',';
        }
        if (s.has_channel) {
            out_ += "\"channel\":";
            out_ += s.channel;
            out_ += ',';
        }
        out_.append(vj + 1, len - 1);
        out_ += '\n';
    }
    pending_ = 0;
    if (o_.after_batch) o_.after_batch();
    return flush_output(false);
}

// Posts [lo, hi) of posts_ into their verdicts. mf_scan_batch stops at the first post that fails:
// record its error, go on after it.
// Then each verdict's JSON, on the same thread (json_[k]; nullptr for a post that failed).
void StreamScanner::scan_range(mf_scanner *scanner, size_t lo, size_t hi) {
    for (size_t done = lo; done < hi;) {
        size_t failed = 0;
        mf_status st = mf_scan_batch(scanner, e_.batch.data() + done, posts_.data() + done, hi - done, &failed);
        if (st == MF_OK) break;
        Slot &s = slots_[post_slot_[done + failed]];
        std::string msg = mf_status_str(st);
        msg += ": ";
        msg += mf_last_error();
        fail(s, msg);
        done += failed + 1;
    }
    for (size_t k = lo; k < hi; ++k) {
        Slot &s = slots_[post_slot_[k]];
        json_[k] = {nullptr, 0};
        if (s.failed) continue;
        size_t len = 0;
        const char *vj = mf_verdict_json(e_.batch[k], &len);
        if (!vj || len < 2) fail(s, mf_last_error());
        else json_[k] = {vj, len};
    }
}

// The batch's m posts shared among threads_ threads; returns when all are scanned.
void StreamScanner::scan_shared(size_t m) {
    while (e_.helpers.size() < threads_ - 1) {
        mf_scanner *sc = nullptr;
        if (mf_scanner_create(&sc, e_.engine) != MF_OK) break;  // (fewer threads, then)
        if (e_.state) mf_scanner_set_state(sc, e_.state);
        e_.helpers.push_back(sc);
    }
    const size_t n = std::min(threads_, e_.helpers.size() + 1);
    // (fewer scanners than threads already started, after a reload that could not make them all:
    // one thread, rather than a thread without a scanner)
    if (n < 2 || e_.helpers.size() < pool_.size()) return scan_range(e_.scanner, 0, m);
    while (pool_.size() < n - 1) {
        const size_t t = pool_.size() + 1;
        pool_.emplace_back([this, t] { helper(t); });
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        share_m_ = m;
        parts_ = pool_.size() + 1;
        left_ = pool_.size();
        ++gen_;
    }
    go_.notify_all();
    scan_range(e_.scanner, 0, m / (pool_.size() + 1));
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return left_ == 0; });
}

void StreamScanner::helper(size_t t) {
    uint64_t seen = 0;
    for (;;) {
        size_t m, parts;
        {
            std::unique_lock<std::mutex> lock(mu_);
            go_.wait(lock, [&] { return stop_ || gen_ != seen; });
            if (stop_) return;
            seen = gen_;
            m = share_m_;
            parts = parts_;
        }
        scan_range(e_.helpers[t - 1], m * t / parts, m * (t + 1) / parts);
        {
            std::lock_guard<std::mutex> lock(mu_);
            --left_;
        }
        done_.notify_one();
    }
}

bool StreamScanner::flush_output(bool all) {
    if (write_failed_) return false;
    if (out_.empty() || (!all && out_.size() < kOutFlush)) return true;
    if (!sink_.write(out_.data(), out_.size())) write_failed_ = true;
    if (out_.capacity() > 4 * kOutFlush) out_ = std::string();  // after a huge censored post
    else out_.clear();
    return !write_failed_;
}

bool StreamScanner::run(Source &in) {
    // A byte order mark at the start of an input (as some Windows editors write one) is no part of
    // the first post: it would make a JSON line invalid and move a text post's offsets by three. It
    // is dropped from the buffer before any line is split or measured (ScanOptions::skip_bom).
    bool at_start = o_.skip_bom;
    while (e_.batch.size() < batch_) {
        mf_verdict *v = nullptr;
        if (mf_verdict_create(&v) != MF_OK) return false;
        e_.batch.push_back(v);
    }
    const size_t block = std::max<size_t>(o_.read_block, 1);
    // buf[0, end) holds input, buf[pos, end) not yet split; kPad readable bytes follow `end` always,
    // as simdjson asks. Lines are parsed where they lie.
    size_t cap = 2 * block + kPad;
    std::unique_ptr<char[]> buf(new char[cap]);
    std::memset(buf.get(), ' ', cap);
    size_t pos = 0, end = 0;
    bool eof = false;
    bool skipping = false;  // inside a line over max_line_, which is read through, not kept
    size_t skipped = 0;

    for (;;) {
        // decided once three bytes, a line break or the end are in
        if (at_start && (end - pos >= 3 || eof || std::memchr(buf.get() + pos, '\n', end - pos))) {
            if (end - pos >= 3 && std::memcmp(buf.get() + pos, "\xEF\xBB\xBF", 3) == 0) pos += 3;
            at_start = false;
        }
        while (pos < end && !at_start) {
            char *p = buf.get() + pos;
            auto *nl = static_cast<char *>(std::memchr(p, '\n', end - pos));
            if (skipping) {
                if (!nl) {
                    skipped += end - pos;
                    pos = end;
                    break;
                }
                skipped += static_cast<size_t>(nl - p);
                skipping = false;
                too_long(skipped);
                if (pending_ == batch_) flush_batch();
            } else {
                if (!nl) break;
                line(p, static_cast<size_t>(nl - p), cap - pos);
            }
            pos = static_cast<size_t>(nl - buf.get()) + 1;
        }
        if (eof) {
            if (in.stopped()) break;  // (a line read in part is not answered, however long)
            if (skipping) too_long(skipped);
            else if (pos < end) line(buf.get() + pos, end - pos, cap - pos);
            break;
        }
        // Answer what has been read before reading (and perhaps waiting for) more.
        if (!flush_batch() || !flush_output(true)) return false;
        size_t keep = end - pos;  // a partial line
        if (!skipping && keep > max_line_) {
            skipping = true;
            skipped = keep;
            keep = 0;
        } else if (skipping) {
            keep = 0;
        }
        if (keep) std::memmove(buf.get(), buf.get() + pos, keep);
        pos = 0;
        end = keep;
        if (cap - kPad - end < block) {  // a long line: grow
            size_t ncap = std::max(2 * (cap - kPad), end + block) + kPad;
            std::unique_ptr<char[]> nbuf(new char[ncap]);
            std::memcpy(nbuf.get(), buf.get(), end);
            std::memset(nbuf.get() + end, ' ', ncap - end);
            buf = std::move(nbuf);
            cap = ncap;
        } else if (cap > 8 * block + kPad && end < block) {  // back to normal after one
            size_t ncap = 2 * block + kPad;
            std::unique_ptr<char[]> nbuf(new char[ncap]);
            std::memcpy(nbuf.get(), buf.get(), end);
            std::memset(nbuf.get() + end, ' ', ncap - end);
            buf = std::move(nbuf);
            cap = ncap;
        }
        ptrdiff_t r = in.read(buf.get() + end, cap - kPad - end);
        if (r < 0) {
            flush_output(true);
            return false;
        }
        if (r == 0) eof = true;
        end += static_cast<size_t>(r);
        // simdjson reads past the end of a document (never beyond the padding); keep it harmless.
        std::memset(buf.get() + end, ' ', std::min(kPad, cap - end));
    }
    bool ok = flush_batch();
    return flush_output(true) && ok;
}

}  // namespace

bool scan_stream(Engine &e, Source &in, Sink &out, const ScanOptions &o, size_t *lines) {
    StreamScanner s(e, out, o);
    if (lines) s.set_lines(*lines);
    const bool ok = s.run(in);
    if (lines) *lines = s.lines();
    return ok;
}

}  // namespace mfcli
