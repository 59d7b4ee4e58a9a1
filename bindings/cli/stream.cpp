#include "stream.hpp"

#include <nlohmann/json.hpp>

#include <istream>
#include <optional>
#include <ostream>

namespace mfcli {

using json = nlohmann::json;

namespace {

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

// JSON parsers reject invalid UTF-8, but a post with invalid bytes must still be scanned with its
// exact bytes. Each invalid byte b is carried through the parser as the private-use code point
// U+10FF00+b and turned back into b afterwards (unescape_invalid).
bool escape_invalid(const std::string &line, std::string &out) {
    const auto *p = reinterpret_cast<const unsigned char *>(line.data());
    bool any = false;
    for (size_t i = 0; i < line.size();) {
        size_t n = valid_utf8_len(p + i, line.size() - i);
        if (n) {
            i += n;
            continue;
        }
        if (!any) out.assign(line, 0, i);
        any = true;
        break;
    }
    if (!any) return false;
    out.clear();
    for (size_t i = 0; i < line.size();) {
        size_t n = valid_utf8_len(p + i, line.size() - i);
        if (n) {
            out.append(line, i, n);
            i += n;
            continue;
        }
        uint32_t cp = 0x10FF00 + p[i];
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
        ++i;
    }
    return true;
}

void unescape_invalid(std::string &s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b == 0xF4 && i + 3 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x8F &&
            static_cast<unsigned char>(s[i + 2]) >= 0xBC) {
            uint32_t cp = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
            if (cp >= 0x10FF80) {
                out += static_cast<char>(cp - 0x10FF00);
                i += 4;
                continue;
            }
        }
        out += s[i++];
    }
    s.swap(out);
}

std::optional<int32_t> role_from(const json &post, std::string &err) {
    const json *r = nullptr;
    if (auto a = post.find("author"); a != post.end()) {
        if (a->is_object()) {
            if (auto rr = a->find("role"); rr != a->end()) r = &*rr;
        } else if (a->is_string()) {
            r = &*a;
        }
    }
    if (!r)
        if (auto rr = post.find("role"); rr != post.end()) r = &*rr;
    if (!r || r->is_null()) return MF_ROLE_MEMBER;
    if (!r->is_string()) {
        err = "author role must be a string";
        return std::nullopt;
    }
    const std::string &s = r->get_ref<const std::string &>();
    for (const char *staff : {"staff", "employee", "moderator", "admin", "community_manager", "agent"})
        if (s == staff) return MF_ROLE_STAFF;
    for (const char *member : {"member", "customer", "user", "guest", "anonymous"})
        if (s == member) return MF_ROLE_MEMBER;
    err = "unknown author role \"" + s + "\" (use \"staff\" or \"member\")";
    return std::nullopt;
}

std::string dump(const json &j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void write_error(std::ostream &out, size_t line, const json *id, const std::string &msg) {
    json e;
    e["line"] = line;
    if (id) e["id"] = *id;
    e["error"] = msg;
    out << dump(e) << '\n';
}

}  // namespace

bool scan_stream(Engine &e, std::istream &in, std::ostream &out, const ScanOptions &o) {
    std::string line, escaped;
    size_t n = 0;
    const int32_t default_role = o.role == "staff" ? MF_ROLE_STAFF : MF_ROLE_MEMBER;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        mf_post post = MF_POST_INIT;
        post.flags = o.censor ? MF_SCAN_CENSOR : 0;
        json doc, id;
        std::string text;
        bool has_id = false;
        if (o.format == "text") {
            post.text = line.data();
            post.len = line.size();
            post.author_role = default_role;
            id = n;
            has_id = true;
        } else {
            bool esc = escape_invalid(line, escaped);
            try {
                doc = json::parse(esc ? escaped : line);
            } catch (const json::exception &ex) {
                // parse_error, and out_of_range for numbers like 7e7777777 that no double holds
                std::string what = ex.what();
                auto colon = what.find("] ");
                write_error(out, n, nullptr, "invalid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
                continue;
            }
            if (!doc.is_object()) {
                write_error(out, n, nullptr, "a post must be a JSON object with a \"text\" field");
                continue;
            }
            if (auto it = doc.find("id"); it != doc.end()) {
                id = *it;
                has_id = true;
                if (esc && id.is_string()) unescape_invalid(id.get_ref<std::string &>());
            }
            auto t = doc.find("text");
            if (t == doc.end() || !t->is_string()) {
                write_error(out, n, has_id ? &id : nullptr,
                            t == doc.end() ? "missing \"text\"" : "\"text\" must be a string");
                continue;
            }
            text = t->get<std::string>();
            if (esc) unescape_invalid(text);
            std::string err;
            auto role = role_from(doc, err);
            if (!role) {
                write_error(out, n, has_id ? &id : nullptr, err);
                continue;
            }
            post.text = text.data();
            post.len = text.size();
            post.author_role = *role;
        }
        mf_status st = mf_scan(e.scanner, e.verdict, &post);
        if (st != MF_OK) {
            write_error(out, n, has_id ? &id : nullptr, std::string(mf_status_str(st)) + ": " + mf_last_error());
            continue;
        }
        size_t len = 0;
        const char *vj = mf_verdict_json(e.verdict, &len);
        if (!vj) {
            write_error(out, n, has_id ? &id : nullptr, mf_last_error());
            continue;
        }
        // {"id":...,"channel":...,<verdict fields>}
        out << '{';
        if (has_id) out << "\"id\":" << dump(id) << ',';
        if (o.format != "text")
            if (auto c = doc.find("channel"); c != doc.end()) out << "\"channel\":" << dump(*c) << ',';
        out.write(vj + 1, static_cast<std::streamsize>(len - 1));
        out << '\n';
    }
    out.flush();
    return !in.bad() && out.good();
}

}  // namespace mfcli
