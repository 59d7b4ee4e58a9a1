// modfilter: the command-line stream filter. Uses only <modfilter/modfilter.h>.
//
//   modfilter scan [--rules DIR | --db FILE] [--format json|text] [--censor] [FILE...]
//   modfilter check-rules [PATH...]
//   modfilter compile [--rules DIR] -o FILE
//
// scan writes exactly one JSON line per input line, in input order. A line that cannot be scanned
// (invalid JSON, no "text", a post over the size limit) gets {"line": N, "error": "..."} and the stream
// goes on.
#include <modfilter/modfilter.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace {

constexpr int kExitOk = 0, kExitFail = 1, kExitUsage = 2;

struct Engine {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    ~Engine() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_engine_destroy(engine);
    }
};

bool read_whole(const std::string &path, std::string &out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

bool open_engine(Engine &e, const std::string &rules, const std::string &db) {
    mf_engine_options opts = MF_ENGINE_OPTIONS_INIT;
    mf_status st;
    if (!db.empty()) {
        std::string data;
        if (!read_whole(db, data)) {
            std::cerr << "modfilter: cannot read " << db << "\n";
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
        std::cerr << "modfilter: " << mf_status_str(st) << ": " << mf_last_error() << "\n";
        return false;
    }
    return true;
}

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

struct ScanOptions {
    std::string rules, db, format = "json", role = "member";
    bool censor = false;
    std::vector<std::string> inputs;
};

// Scans one stream; returns false only on an I/O failure.
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
            } catch (const json::parse_error &ex) {
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

void print_diag(const char *file, uint32_t line, const char *message, void *) {
    if (line) std::printf("%s:%u: %s\n", file, line, message);
    else std::printf("%s: %s\n", file, message);
}

}  // namespace

int main(int argc, char **argv) {
    CLI::App app{"modfilter: scans forum posts and returns moderation verdicts (one JSON line per post).\n"
                 "Library " + std::string(mf_version())};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("modfilter ") + mf_version());

    ScanOptions so;
    auto *scan = app.add_subcommand("scan", "Scan posts (JSON lines, or plain text lines) and write one verdict line per input line");
    scan->add_option("--rules", so.rules, "Rule pack file or directory (default: the built-in packs)");
    scan->add_option("--db", so.db, "Compiled database from 'modfilter compile' (instead of --rules)");
    scan->add_option("--format", so.format, "Input format: json (default) or text (one post per line)")
        ->check(CLI::IsMember({"json", "text"}));
    scan->add_option("--role", so.role, "Author role for --format text, or JSON posts without one (default member)")
        ->check(CLI::IsMember({"member", "staff"}));
    scan->add_flag("--censor", so.censor, "Add a censored copy of each post (\"censored\")");
    scan->add_option("inputs", so.inputs, "Input files (default: standard input; '-' is standard input)");
    scan->footer("Input:  {\"id\": 1, \"text\": \"...\", \"author\": {\"role\": \"staff\"|\"member\"}, \"channel\": \"...\"}\n"
                 "Output: {\"id\": 1, \"action\": \"ALLOW|FLAG|HOLD|REJECT\", \"categories\": {...}, \"routes\": [...],\n"
                 "         \"hits\": [{\"rule\", \"category\", \"severity\", \"score\", \"start\", \"end\"}], ...}\n"
                 "Offsets are UTF-8 byte offsets [start, end) into the post's text.\n"
                 "Exit status: 0 when every line was answered (including error lines), 1 when the rules or an\n"
                 "input could not be read, 2 on a usage error.");

    std::vector<std::string> check_paths;
    auto *check = app.add_subcommand("check-rules", "Lint rule packs: parse, compile, run every example; print file:line: message");
    check->add_option("paths", check_paths, "Rule pack files or directories (default: the built-in packs)");
    check->footer("Exit status: 0 when the packs are clean, 1 when there are mistakes, 2 on a usage error.");

    std::string compile_rules, compile_out;
    auto *comp = app.add_subcommand("compile", "Compile rule packs into a database file that 'scan --db' loads quickly");
    comp->add_option("--rules", compile_rules, "Rule pack file or directory (default: the built-in packs)");
    comp->add_option("-o,--output", compile_out, "Output file")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }

    if (*scan) {
        std::ios::sync_with_stdio(false);
        Engine e;
        if (!so.rules.empty() && !so.db.empty()) {
            std::cerr << "modfilter scan: give --rules or --db, not both\n";
            return kExitUsage;
        }
        if (!open_engine(e, so.rules, so.db)) return kExitFail;
        if (so.inputs.empty()) so.inputs.push_back("-");
        for (const auto &path : so.inputs) {
            bool ok;
            if (path == "-") {
                ok = scan_stream(e, std::cin, std::cout, so);
            } else {
                std::ifstream in(path, std::ios::binary);
                if (!in) {
                    std::cerr << "modfilter: cannot open " << path << "\n";
                    return kExitFail;
                }
                ok = scan_stream(e, in, std::cout, so);
            }
            if (!ok) {
                std::cerr << "modfilter: I/O error on " << path << "\n";
                return kExitFail;
            }
        }
        return kExitOk;
    }
    if (*check) {
        if (check_paths.empty()) check_paths.push_back("");
        size_t total = 0;
        for (const auto &p : check_paths) {
            size_t n = 0;
            mf_status st = mf_rules_check(&n, p.empty() ? nullptr : p.c_str(), print_diag, nullptr);
            total += n;
            const char *name = p.empty() ? "built-in packs" : p.c_str();
            if (st == MF_OK) std::fprintf(stderr, "%s: ok\n", name);
            else if (n) std::fprintf(stderr, "%s: %zu mistake%s\n", name, n, n == 1 ? "" : "s");
            else {
                std::fprintf(stderr, "%s: %s: %s\n", name, mf_status_str(st), mf_last_error());
                ++total;
            }
        }
        std::fflush(stdout);
        return total ? kExitFail : kExitOk;
    }
    if (*comp) {
        Engine e;
        if (!open_engine(e, compile_rules, "")) return kExitFail;
        char *buf = nullptr;
        size_t len = 0;
        mf_status st = mf_engine_serialize(&buf, &len, e.engine);
        if (st != MF_OK) {
            std::cerr << "modfilter: " << mf_last_error() << "\n";
            return kExitFail;
        }
        std::ofstream out(compile_out, std::ios::binary);
        out.write(buf, static_cast<std::streamsize>(len));
        mf_free(buf);
        if (!out) {
            std::cerr << "modfilter: cannot write " << compile_out << "\n";
            return kExitFail;
        }
        std::fprintf(stderr, "wrote %s (%zu bytes, %zu rules)\n", compile_out.c_str(), len, mf_engine_rule_count(e.engine));
        return kExitOk;
    }
    return kExitUsage;
}
