// The verdict: hits, category scores and the action, and its JSON rendering.
#include "verdict.hpp"

#include <charconv>
#include <cstdio>

#include "engine.hpp"
#include "state_policy.hpp"

namespace mf {

void Verdict::reset(const Engine *e) {
    engine = e;
    action = kAllow;
    flags = 0;
    evasion = 0;
    invalid_utf8 = 0;
    hits.clear();
    categories.clear();
    has_censored = false;
    censored.clear();
    json.clear();
    state_attached = false;
    state_notes = 0;
    state_route = nullptr;
    state.clear();
}

// ---- names and JSON ---------------------------------------------------------------------------

const char *action_name(int32_t a) {
    switch (a) {
    case kAllow: return "ALLOW";
    case kFlag: return "FLAG";
    case kHold: return "HOLD";
    case kReject: return "REJECT";
    default: return "";
    }
}

const char *evasion_name(uint32_t bit) {
    switch (bit) {
    case kEvCompat: return "compat";
    case kEvConfusable: return "confusable";
    case kEvInvisible: return "invisible";
    case kEvCombining: return "combining";
    case kEvLeet: return "leet";
    case kEvSeparators: return "separators";
    case kEvRepeats: return "repeats";
    case kEvMixedScript: return "mixed_script";
    default: return "";
    }
}

namespace {

// Appends s as a JSON string; invalid UTF-8 becomes U+FFFD so the output is always valid JSON.
void json_string(std::string &out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    for (size_t i = 0; i < s.size();) {
        // printable ASCII as it stands, a run at a time
        size_t k = i;
        while (k < s.size() && p[k] >= 0x20 && p[k] < 0x7f && p[k] != '"' && p[k] != '\\') ++k;
        if (k > i) {
            out.append(s.data() + i, k - i);
            i = k;
            if (i == s.size()) break;
        }
        unsigned char c = p[i];
        if (c >= 0x80) {
            uint32_t cp;
            bool valid;
            size_t n = decode_utf8(p + i, s.size() - i, &cp, &valid);
            if (valid) out.append(s.data() + i, n);
            else out += "\xEF\xBF\xBD";
            i += n;
            continue;
        }
        ++i;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

// As printf's "%.15g" (std::to_chars is specified so), without printf's cost.
void json_number(std::string &out, double d) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, 15);
    out.append(buf, r.ptr);
}

void json_integer(std::string &out, long long v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void json_evasion(std::string &out, uint32_t bits) {
    out += '[';
    bool first = true;
    for (uint32_t b = 1; b <= 0x80; b <<= 1) {
        if (!(bits & b)) continue;
        if (!first) out += ',';
        first = false;
        json_string(out, evasion_name(b));
    }
    out += ']';
}

}  // namespace

// "state": {"spam.duplicate": {evidence}, ..., "notes": [...]}, present only when a state was attached.
void Verdict::render_state(std::string &o) const {
    o += ",\"state\":{";
    bool first = true;
    for (const StateFinding &f : state) {
        if (!first) o += ',';
        first = false;
        json_string(o, f.category);
        o += ":{\"action\":";
        json_string(o, action_name(f.action));
        const std::string_view cat = f.category;
        if (cat == kCatDuplicate) {
            o += ",\"copies\":" + std::to_string(f.count) + ",\"authors\":" + std::to_string(f.authors) +
                 ",\"channels\":" + std::to_string(f.channels) + ",\"since\":" + std::to_string(f.since_ms / 1000) +
                 ",\"window_s\":" + std::to_string(f.window_ms / 1000) + ",\"match\":";
            o += f.near ? "\"near\",\"distance\":" + std::to_string(f.distance) : std::string("\"exact\"");
            o += ",\"earlier\":[";
            for (size_t i = 0; i < f.earlier.size(); ++i) {
                if (i) o += ',';
                json_string(o, f.earlier[i]);
            }
            o += ']';
        } else if (cat == kCatFlood) {
            o += ",\"posts\":" + std::to_string(f.count) + ",\"since\":" + std::to_string(f.since_ms / 1000) +
                 ",\"window_s\":" + std::to_string(f.window_ms / 1000);
        } else {
            o += ",\"links\":" + std::to_string(f.count) + ",\"age_days\":" + std::to_string(f.age_days);
        }
        o += '}';
    }
    if (!first) o += ',';
    o += "\"notes\":[";
    static const char *const kNotes[] = {"no author id: spam.flood and spam.new-account-links not applied",
                                         "an edit: not counted as a new post",
                                         "this post id was seen before: not counted again",
                                         "too few words to count as a duplicate"};
    bool nf = true;
    for (uint32_t b = 0; b < 4; ++b) {
        if (!(state_notes & (1u << b))) continue;
        if (!nf) o += ',';
        nf = false;
        json_string(o, kNotes[b]);
    }
    o += "]}";
}

const std::string &Verdict::render_json() {
    std::string &o = json;
    o.clear();
    o += "{\"action\":";
    json_string(o, action_name(action));
    o += ",\"categories\":{";
    for (size_t i = 0; i < categories.size(); ++i) {
        if (i) o += ',';
        json_string(o, engine->categories()[categories[i].category].name);
        o += ':';
        json_number(o, categories[i].score);
    }
    for (size_t i = 0; i < state.size(); ++i) {
        if (i || !categories.empty()) o += ',';
        json_string(o, state[i].category);
        o += ':';
        json_number(o, state[i].score);
    }
    o += "},\"routes\":[";
    {
        // Routes of categories that reached at least FLAG, each once.
        bool first = true;
        if (state_route && !state_route->empty() && !state.empty()) {
            bool dup = false;
            for (const auto &c : categories)
                dup |= c.action >= kFlag && engine->categories()[c.category].route == *state_route;
            if (!dup) {
                json_string(o, *state_route);
                first = false;
            }
        }
        for (size_t i = 0; i < categories.size(); ++i) {
            const std::string &route = engine->categories()[categories[i].category].route;
            if (route.empty() || categories[i].action < kFlag) continue;
            bool dup = false;
            for (size_t j = 0; j < i; ++j)
                dup |= categories[j].action >= kFlag && engine->categories()[categories[j].category].route == route;
            if (dup) continue;
            if (!first) o += ',';
            first = false;
            json_string(o, route);
        }
    }
    o += "],\"hits\":[";
    for (size_t i = 0; i < hits.size(); ++i) {
        const HitRecord &h = hits[i];
        const Rule &r = engine->rules()[h.rule];
        if (i) o += ',';
        o += "{\"rule\":";
        json_string(o, r.id);
        o += ",\"category\":";
        json_string(o, r.category);
        o += ",\"severity\":";
        json_string(o, severity_name(r.severity));
        o += ",\"score\":";
        json_number(o, r.score);
        o += ",\"start\":";
        json_integer(o, static_cast<long long>(h.start));
        o += ",\"end\":";
        json_integer(o, static_cast<long long>(h.end));
        if (h.evasion) {
            o += ",\"evasion\":";
            json_evasion(o, h.evasion);
        }
        if (h.quoted) o += ",\"quoted\":true";
        o += '}';
    }
    o += "],\"evasion\":";
    json_evasion(o, evasion);
    o += ",\"invalid_utf8\":";
    json_integer(o, static_cast<long long>(invalid_utf8));
    o += ",\"hits_truncated\":";
    o += (flags & 0x2u) ? "true" : "false";
    if (has_censored) {
        o += ",\"censored\":";
        json_string(o, censored);
    }
    if (state_attached) render_state(o);
    o += '}';
    return o;
}


}  // namespace mf
