// State tests (duplicates, floods, young accounts' links; save/load; post version 1 callers), through
// the public header only, as a forum plugin would use them. Small fixtures written for the project.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <modfilter/modfilter.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *kPack = R"(
[[rule]]
id = "obscene.f"
category = "abuse.obscene"
severity = "medium"
word = "fuck"
boundary = "prefix"
[state.channel."fast"]
flood_flag = 2
)";

const std::string kPromo = "Great news friends, our shop has cheap watches and bags this week only, visit us";

// A version-2 post; the strings must outlive it.
mf_post post_of(const std::string &text, const std::string &id, const std::string &author, int64_t ts_ms) {
    mf_post p = MF_POST_INIT;
    p.text = text.data();
    p.len = text.size();
    p.id = id.data();
    p.id_len = id.size();
    p.author_id = author.empty() ? nullptr : author.data();
    p.author_id_len = author.size();
    p.ts_ms = ts_ms;
    return p;
}

struct Fixture {
    mf_engine *engine = nullptr;
    mf_scanner *scanner = nullptr;
    mf_verdict *verdict = nullptr;
    mf_state *state = nullptr;
    std::string json;
    explicit Fixture(bool with_state = true, uint64_t budget = 0) {
        mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
        o.rules_text = kPack;
        o.rules_text_len = std::strlen(kPack);
        REQUIRE(mf_engine_create(&engine, &o) == MF_OK);
        REQUIRE(mf_scanner_create(&scanner, engine) == MF_OK);
        REQUIRE(mf_verdict_create(&verdict) == MF_OK);
        if (with_state) {
            mf_state_options so = MF_STATE_OPTIONS_INIT;
            so.memory_budget = budget;
            REQUIRE(mf_state_create(&state, &so) == MF_OK);
            REQUIRE(mf_scanner_set_state(scanner, state) == MF_OK);
        }
    }
    ~Fixture() {
        mf_verdict_destroy(verdict);
        mf_scanner_destroy(scanner);
        mf_state_destroy(state);
        mf_engine_destroy(engine);
    }
    // Scans a post; returns the action and keeps the verdict's JSON in `json`.
    int32_t post(const std::string &text, const std::string &id, const std::string &author, int64_t ts_s,
                 const std::string &channel = "general", bool edit = false, int32_t age = MF_AGE_UNKNOWN) {
        mf_post p = post_of(text, id, author, ts_s * 1000);
        p.channel = channel.data();
        p.channel_len = channel.size();
        p.author_age_days = age;
        p.edit = edit ? MF_POST_EDIT : MF_POST_NEW;
        REQUIRE(mf_scan(scanner, verdict, &p) == MF_OK);
        json = mf_verdict_json(verdict, nullptr);
        return mf_verdict_action(verdict);
    }
    bool has(const char *category) const { return json.find(std::string("\"") + category + "\":{") != std::string::npos; }
};

// The version-1 layout of mf_post, as a caller built against 0.1.0 declares it.
struct PostV1 {
    uint32_t version;
    const char *text;
    size_t len;
    int32_t author_role;
    uint32_t flags;
};

}  // namespace

TEST_CASE("a version-1 caller's posts and arrays are read as before") {
    Fixture f(false);
    const char *texts[] = {"fuck off", "hello there", "what the fuck"};
    PostV1 old[3];
    for (int i = 0; i < 3; ++i) old[i] = {1, texts[i], std::strlen(texts[i]), MF_ROLE_MEMBER, 0};
    mf_verdict *vs[3];
    for (auto &v : vs) REQUIRE(mf_verdict_create(&v) == MF_OK);
    size_t failed = 99;
    REQUIRE(mf_scan_batch(f.scanner, vs, reinterpret_cast<const mf_post *>(old), 3, &failed) == MF_OK);
    CHECK(failed == 3);
    CHECK(mf_verdict_action(vs[0]) == MF_ACTION_FLAG);
    CHECK(mf_verdict_action(vs[1]) == MF_ACTION_ALLOW);
    CHECK(mf_verdict_action(vs[2]) == MF_ACTION_FLAG);
    CHECK(mf_verdict_hit_count(vs[2]) == 1);
    REQUIRE(mf_scan(f.scanner, vs[0], reinterpret_cast<const mf_post *>(&old[1])) == MF_OK);
    CHECK(mf_verdict_action(vs[0]) == MF_ACTION_ALLOW);
    // mf_post_init(.., 1) writes only the version-1 fields.
    struct {
        PostV1 p;
        uint32_t canary;
    } guarded{};
    guarded.canary = 0xC0FFEEu;
    REQUIRE(mf_post_init(reinterpret_cast<mf_post *>(&guarded.p), 1) == MF_OK);
    CHECK(guarded.p.version == 1);
    CHECK(guarded.canary == 0xC0FFEEu);
    // One array, one version: a version-2 post after a version-1 one is refused, not misread.
    old[1].version = 2;
    CHECK(mf_scan_batch(f.scanner, vs, reinterpret_cast<const mf_post *>(old), 3, &failed) == MF_E_VERSION);
    CHECK(failed == 1);
    for (auto &v : vs) mf_verdict_destroy(v);
}

TEST_CASE("version-2 posts in a batch, wrong fields are refused") {
    Fixture f;
    mf_post posts[2] = {MF_POST_INIT, MF_POST_INIT};
    posts[0].text = "fuck";
    posts[0].len = 4;
    posts[1].text = "hi";
    posts[1].len = 2;
    mf_verdict *vs[2];
    for (auto &v : vs) REQUIRE(mf_verdict_create(&v) == MF_OK);
    REQUIRE(mf_scan_batch(f.scanner, vs, posts, 2, nullptr) == MF_OK);
    CHECK(mf_verdict_action(vs[0]) == MF_ACTION_FLAG);
    posts[1].author_age_days = -5;
    size_t failed = 0;
    CHECK(mf_scan_batch(f.scanner, vs, posts, 2, &failed) == MF_E_INVALID_ARG);
    CHECK(failed == 1);
    posts[1].author_age_days = 0;
    posts[1].edit = 7;
    CHECK(mf_scan(f.scanner, vs[1], &posts[1]) == MF_E_INVALID_ARG);
    posts[1].edit = MF_POST_NEW;
    posts[1].author_id_len = 3;  // NULL with a length
    CHECK(mf_scan(f.scanner, vs[1], &posts[1]) == MF_E_INVALID_ARG);
    for (auto &v : vs) mf_verdict_destroy(v);
}

TEST_CASE("without a state the verdict is exactly as before, with one it carries a state object") {
    Fixture plain(false), stateful;
    for (int i = 0; i < 4; ++i) {
        plain.post(kPromo + " fuck", "p" + std::to_string(i), "u" + std::to_string(i), 1000 + i);
        stateful.post(kPromo + " fuck", "p" + std::to_string(i), "u" + std::to_string(i), 1000 + i);
    }
    CHECK(plain.json.find("\"state\"") == std::string::npos);
    CHECK(plain.json.find("spam.duplicate") == std::string::npos);
    CHECK(stateful.has("spam.duplicate"));
    CHECK(mf_verdict_category_count(stateful.verdict) == 2);
    const char *name = nullptr;
    int32_t action = -1;
    REQUIRE(mf_verdict_category(stateful.verdict, 1, &name, nullptr, &action, nullptr) == MF_OK);
    CHECK(std::string(name) == "spam.duplicate");
    CHECK(action == MF_ACTION_FLAG);
}

TEST_CASE("duplicates: the score grows with the copies, a raid of twenty is rejected") {
    Fixture f;
    std::vector<int32_t> actions;
    for (int i = 1; i <= 20; ++i) {
        // Each copy changed as spammers do: case, punctuation, a zero-width space, a link's query.
        std::string t = i % 2 ? kPromo : "GREAT NEWS FRIENDS!!! our shop has cheap wat\u200Bches and bags this week only - visit us";
        t += " http://shop.example/x?ref=" + std::to_string(i);
        actions.push_back(f.post(t, "p" + std::to_string(i), "raider" + std::to_string(i), 5000 + i * 10,
                                 "thread-" + std::to_string(i % 3)));
    }
    CHECK(actions[0] == MF_ACTION_ALLOW);
    CHECK(actions[1] == MF_ACTION_ALLOW);  // a second copy is at most FLAG (here: not yet)
    CHECK(actions[2] == MF_ACTION_FLAG);
    CHECK(actions[4] == MF_ACTION_HOLD);
    CHECK(actions[18] == MF_ACTION_HOLD);
    CHECK(actions[19] == MF_ACTION_REJECT);
    CHECK(f.json.find("\"copies\":20") != std::string::npos);
    CHECK(f.json.find("\"authors\":20") != std::string::npos);
    CHECK(f.json.find("\"channels\":3") != std::string::npos);
    CHECK(f.json.find("\"since\":5010") != std::string::npos);
    CHECK(f.json.find("\"earlier\":[\"p19\",\"p18\",\"p17\",\"p16\",\"p15\"]") != std::string::npos);
}

TEST_CASE("duplicates: a changed word and reordered lines are nearly the same, another text is not") {
    Fixture f;
    const std::string a = "Win a brand new phone today\nJust reply with your address and card number\nOffer ends soon";
    f.post(a, "p1", "u1", 100);
    f.post("Win a brand new laptop today\nJust reply with your address and card number\nOffer ends soon", "p2", "u2", 110);
    CHECK(f.post("Offer ends soon\nWin a brand new phone today\nJust reply with your address and card number", "p3", "u3", 120) ==
          MF_ACTION_FLAG);
    CHECK(f.json.find("\"match\":\"near\"") != std::string::npos);
    CHECK(f.post("Our meetup is on Thursday at the library, bring your own laptop and snacks", "p4", "u4", 130) ==
          MF_ACTION_ALLOW);
    CHECK_FALSE(f.has("spam.duplicate"));
}

TEST_CASE("duplicates: a raid whose copies each change a word of their own is one text") {
    // Each copy is the text with one word replaced, a different word each time: two copies differ
    // in two words, and a copy was compared with the first copy's SimHash alone, so that most of a
    // raid of 30 started texts of their own (a state trial counted 12 copies of 40, median).
    Fixture f;
    const std::vector<std::string> words = {"Congratulations", "you", "have", "been", "selected", "to", "receive",
                                            "a", "free", "holiday", "for", "two", "call", "our", "office", "before",
                                            "midnight", "to", "claim", "your", "voucher", "and", "prize", "code"};
    int32_t last = MF_ACTION_ALLOW;
    for (size_t k = 0; k < 30; ++k) {
        std::vector<std::string> w = words;
        w[k % w.size()] = "offer";
        std::string t;
        for (const auto &x : w) t += (t.empty() ? "" : " ") + x;
        last = f.post(t, "c" + std::to_string(k), "a" + std::to_string(k), 1000 + static_cast<int64_t>(k));
    }
    CHECK(last == MF_ACTION_REJECT);
    const size_t at = f.json.find("\"copies\":");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoi(f.json.substr(at + 9)) >= 25);
}

TEST_CASE("duplicates: a raid pasted as a quote, a redelivery after eight copies, a copy out of order") {
    Fixture f;
    // nothing but a quote: the quote is the post's own text (and its link a young account's link)
    for (int i = 0; i < 3; ++i)
        f.post("> " + kPromo + " https://shop.example/deal?r=" + std::to_string(i), "q" + std::to_string(i),
               "new" + std::to_string(i), 100 + i, "general", false, 0);
    CHECK(f.has("spam.duplicate"));
    CHECK(f.has("spam.new-account-links"));
    // a raid of ten, then its first post delivered again: not an eleventh copy
    Fixture g;
    const std::string text = "Buy cheap followers and likes for your channel today at our store, best prices";
    for (int i = 0; i < 10; ++i) g.post(text, "r" + std::to_string(i), "u" + std::to_string(i), 500 + i);
    CHECK(g.json.find("\"copies\":10") != std::string::npos);
    g.post(text, "r0", "u0", 520);
    CHECK(g.json.find("\"copies\":10") != std::string::npos);
    CHECK(g.json.find("seen before") != std::string::npos);
    // a copy stamped before the latest post seen counts as simultaneous with it, not as a text whose
    // window closed long ago
    Fixture h;
    h.post("An unrelated post about the weekend meetup at the library", "x", "someone", 20000);
    h.post(text, "o0", "v0", 10000);
    int32_t a = MF_ACTION_ALLOW;
    for (int i = 1; i < 5; ++i) a = h.post(text, "o" + std::to_string(i), "v" + std::to_string(i), 20000 + i);
    CHECK(a == MF_ACTION_HOLD);
    CHECK(h.json.find("\"copies\":5") != std::string::npos);
}

TEST_CASE("duplicates: authors and channels past the exact sets are estimated, not every copy counted") {
    // 200 copies by 50 authors in 20 channels: the sets hold 32 authors and 16 channels; past them
    // every copy counted as a new author (255 authors for 50).
    Fixture f;
    for (int i = 0; i < 200; ++i)
        f.post(kPromo, "d" + std::to_string(i), "a" + std::to_string(i % 50), 100 + i / 10, "ch" + std::to_string(i % 20));
    auto field = [&](const char *name) {
        const size_t at = f.json.find(std::string("\"") + name + "\":");
        REQUIRE(at != std::string::npos);
        return std::stoi(f.json.substr(at + std::strlen(name) + 3));
    };
    CHECK(field("authors") >= 40);
    CHECK(field("authors") <= 62);
    CHECK(field("channels") >= 16);
    CHECK(field("channels") <= 25);
    // a post with no channel is no channel of its own
    Fixture g;
    for (int i = 0; i < 3; ++i) g.post(kPromo, "n" + std::to_string(i), "b" + std::to_string(i), 100 + i, "");
    CHECK(g.json.find("\"channels\":0") != std::string::npos);
}

TEST_CASE("no false floods: short common posts, quotes, edits, redeliveries") {
    Fixture f;
    for (int i = 0; i < 30; ++i) {
        const char *shorts[] = {"thanks!", "+1", "same here", "bump"};
        CHECK(f.post(shorts[i % 4], "s" + std::to_string(i), "m" + std::to_string(i), 100 + i) == MF_ACTION_ALLOW);
    }
    // Quoting a long post and adding a short answer: the quote is not the poster's text.
    const std::string quoted = "> " + kPromo + "\n+1 agreed";
    const std::string bb = "[quote=\"bob\"]" + kPromo + "[/quote] +1 agreed";
    for (int i = 0; i < 10; ++i)
        CHECK(f.post(i % 2 ? quoted : bb, "q" + std::to_string(i), "r" + std::to_string(i), 200 + i) == MF_ACTION_ALLOW);
    CHECK_FALSE(f.has("spam.duplicate"));
    // Editing one's own post ten times within a minute: neither a flood nor a duplicate.
    f.post(kPromo, "e1", "editor", 300);
    for (int i = 0; i < 10; ++i) {
        CHECK(f.post(kPromo + (i % 2 ? " (edited)" : ""), "e1", "editor", 301 + i, "general", true) == MF_ACTION_ALLOW);
        CHECK(f.json.find("an edit: not counted") != std::string::npos);
    }
    // The same post delivered again (a retried request) is not a new copy.
    for (int i = 0; i < 5; ++i) CHECK(f.post(kPromo + " again", "r1", "retry", 400 + i) == MF_ACTION_ALLOW);
    CHECK(f.json.find("seen before") != std::string::npos);
}

TEST_CASE("floods: one author faster than the limit, per-channel thresholds, no author, no per-author rules") {
    Fixture f;
    std::vector<int32_t> a;
    for (int i = 0; i < 10; ++i) a.push_back(f.post("message number " + std::to_string(i), "f" + std::to_string(i), "speedy", 1000 + i));
    CHECK(a[4] == MF_ACTION_ALLOW);
    CHECK(a[5] == MF_ACTION_FLAG);
    CHECK(a[9] == MF_ACTION_HOLD);
    CHECK(f.json.find("\"posts\":10") != std::string::npos);
    // One post a minute for ten minutes: no flood.
    for (int i = 0; i < 10; ++i) CHECK(f.post("slow " + std::to_string(i), "g" + std::to_string(i), "calm", 5000 + 61 * i) == MF_ACTION_ALLOW);
    // The "fast" channel floods at 2 (kPack).
    f.post("one", "h1", "chatty", 9000, "fast");
    CHECK(f.post("two", "h2", "chatty", 9001, "fast") == MF_ACTION_FLAG);
    // No author id: scanned, per-author rules not applied, and the verdict says so.
    CHECK(f.post("anonymous words", "n1", "", 9100) == MF_ACTION_ALLOW);
    CHECK(f.json.find("no author id") != std::string::npos);
}

TEST_CASE("new accounts' links") {
    Fixture f;
    CHECK(f.post("look at http://a.example/x", "l1", "newbie", 100, "general", false, 0) == MF_ACTION_FLAG);
    CHECK(f.has("spam.new-account-links"));
    CHECK(f.post("http://a.example/1 http://b.example/2 www.c.example", "l2", "newbie2", 101, "general", false, 1) == MF_ACTION_HOLD);
    CHECK(f.post("look at http://a.example/y", "l3", "veteran", 102, "general", false, 400) == MF_ACTION_ALLOW);
    CHECK(f.post("look at http://a.example/z", "l4", "unknown-age", 103) == MF_ACTION_ALLOW);
}

TEST_CASE("clock going backwards and timestamps in the future do not crash or go negative") {
    Fixture f;
    f.post(kPromo, "c1", "a1", 1'000'000);
    CHECK(f.post(kPromo, "c2", "a2", 999'000) == MF_ACTION_ALLOW);  // earlier than the last post: elapsed 0
    CHECK(f.post(kPromo, "c3", "a3", 999'500) == MF_ACTION_FLAG);
    CHECK(f.json.find("\"copies\":3") != std::string::npos);
    // Far in the future: taken as a day after the latest post, so the text is forgotten (2 h window),
    // and posts back at the normal time go on from there without a negative window.
    CHECK(f.post(kPromo, "c4", "a4", 4'000'000'000LL) == MF_ACTION_ALLOW);
    f.post(kPromo, "c5", "a5", 1'000'010);
    CHECK(f.post(kPromo, "c6", "a6", 1'000'020) == MF_ACTION_FLAG);
    CHECK(f.json.find("\"since\":1086400") != std::string::npos);
    CHECK(f.post(kPromo, "c7", "a7", 0) >= MF_ACTION_ALLOW);  // 0: now by the system clock
}

TEST_CASE("fingerprints ignore case, punctuation, evasion tricks and query strings") {
    auto fp = [](const std::string &t, uint64_t *near = nullptr) {
        uint64_t exact = 0, n = 0;
        uint32_t words = 0;
        REQUIRE(mf_fingerprint(&exact, &n, &words, t.data(), t.size()) == MF_OK);
        if (near) *near = n;
        return exact;
    };
    const uint64_t base = fp("Free entry to win a cruise, see http://x.example/win?id=1");
    CHECK(fp("FREE ENTRY... to WIN a cruise!!! see http://x.example/win?id=2") == base);
    uint64_t near_base = 0, near_tricks = 0;
    fp("Free entry to win a cruise, see http://x.example/win?id=1", &near_base);
    CHECK(fp("Fr\u200Bee entry to w1n a cru1se see https://X.example/win#top", &near_tricks) == base);
    fp("Free entry to win a holiday, see http://x.example/win?id=1", &near_tricks);  // a changed word
    CHECK(__builtin_popcountll(near_base ^ near_tricks) <= 10);
    fp("Call me when you get home, the dog needs a walk tonight", &near_tricks);
    CHECK(__builtin_popcountll(near_base ^ near_tricks) > 10);
    CHECK(fp("Free entry to w1n a cruise see http://x.example/win?utm=3") == base);
    CHECK(fp("Free entry to win a cruise, see http://x.example/win") == base);
    CHECK(fp("F r e e entry to win a cruise see http://x.example/win") == base);
    CHECK(fp("Fr\u0435\u0435 entry to win a cruise see http://x.example/win") == base);  // Cyrillic e
    CHECK(fp("") == 0);
    CHECK(mf_fingerprint_version() == 3);
    CHECK(mf_fingerprint(nullptr, nullptr, nullptr, nullptr, 3) == MF_E_INVALID_ARG);
}

TEST_CASE("mf_fingerprints_get gives mf_fingerprint's values, the links and the lookup keys") {
    const std::string a = "Congratulations! You have been chosen for a free entry to win a cruise for two this weekend. "
                          "Reply WIN to claim your prize before midnight, see http://x.example/win?id=1 for the rules";
    const std::string b = "Congratulations! You have been chosen for a free entry to win a holiday for two this weekend. "
                          "Reply WIN to claim your prize before midnight, see http://x.example/win?id=2 for the rules";
    mf_fingerprints fa{}, fb{};
    fa.version = fb.version = MF_FINGERPRINTS_VERSION;
    REQUIRE(mf_fingerprints_get(&fa, a.data(), a.size()) == MF_OK);
    REQUIRE(mf_fingerprints_get(&fb, b.data(), b.size()) == MF_OK);
    uint64_t exact = 0, near = 0;
    uint32_t words = 0;
    REQUIRE(mf_fingerprint(&exact, &near, &words, a.data(), a.size()) == MF_OK);
    CHECK((fa.exact == exact && fa.near == near && fa.words == words));
    CHECK(fa.links == 1);
    CHECK(fa.n_anchors == MF_FINGERPRINT_ANCHORS);
    // one changed word: another text, but some lookup key in common, and a small distance
    CHECK(fa.exact != fb.exact);
    bool shared = false;
    for (uint32_t i = 0; i < fa.n_anchors; ++i)
        for (uint32_t j = 0; j < fb.n_anchors; ++j) shared |= fa.anchors[i] == fb.anchors[j];
    CHECK(shared);
    CHECK(__builtin_popcountll(fa.near ^ fb.near) <= 10);
    // no words: nothing to look up
    mf_fingerprints fe{};
    fe.version = MF_FINGERPRINTS_VERSION;
    REQUIRE(mf_fingerprints_get(&fe, "!!!", 3) == MF_OK);
    CHECK((fe.exact == 0 && fe.n_anchors == 0 && fe.words == 0));
    // bad calls
    mf_fingerprints bad{};
    bad.version = 99;
    CHECK(mf_fingerprints_get(&bad, a.data(), a.size()) == MF_E_VERSION);
    CHECK(mf_fingerprints_get(nullptr, a.data(), a.size()) == MF_E_INVALID_ARG);
    CHECK(mf_fingerprints_get(&fa, nullptr, 3) == MF_E_INVALID_ARG);
}

TEST_CASE("save and load: counts go on, truncated, corrupt and foreign files are refused") {
    const std::string path = "test_state_save.bin";
    {
        Fixture f;
        f.post(kPromo, "p1", "u1", 100);
        f.post(kPromo, "p2", "u2", 110);
        REQUIRE(mf_state_save(f.state, path.c_str()) == MF_OK);
    }
    Fixture g;
    REQUIRE(mf_state_load(g.state, path.c_str()) == MF_OK);
    CHECK(g.post(kPromo, "p3", "u3", 120) == MF_ACTION_FLAG);
    CHECK(g.json.find("\"earlier\":[\"p2\",\"p1\"]") != std::string::npos);

    std::string data;
    {
        std::ifstream in(path, std::ios::binary);
        data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto write = [&](const std::string &d) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(d.data(), static_cast<std::streamsize>(d.size()));
    };
    uint64_t entries_before = 0;
    REQUIRE(mf_state_stats(g.state, nullptr, nullptr, &entries_before) == MF_OK);
    write(data.substr(0, data.size() - 100));
    CHECK(mf_state_load(g.state, path.c_str()) == MF_E_STATE_CORRUPT);
    std::string flipped = data;
    flipped[flipped.size() / 2] ^= 0x40;
    write(flipped);
    CHECK(mf_state_load(g.state, path.c_str()) == MF_E_STATE_CORRUPT);
    std::string other = data;
    other[12] = 9;  // the fingerprint version field
    write(other);
    CHECK(mf_state_load(g.state, path.c_str()) == MF_E_STATE_VERSION);
    write("not a state file at all");
    CHECK(mf_state_load(g.state, path.c_str()) == MF_E_STATE_CORRUPT);
    std::remove(path.c_str());
    CHECK(mf_state_load(g.state, path.c_str()) == MF_E_IO);
    CHECK(mf_state_load(g.state, ".") == MF_E_IO);  // a directory (was MF_E_INTERNAL from the stream)
    // Two threads saving to one path at once: every save succeeds (one temporary file each; with
    // one fixed name, a third of them failed to rename), and the file loads.
    {
        int failed = 0;
        std::vector<std::thread> savers;
        std::mutex mu;
        for (int t = 0; t < 2; ++t)
            savers.emplace_back([&] {
                for (int i = 0; i < 20; ++i)
                    if (mf_state_save(g.state, path.c_str()) != MF_OK) {
                        std::lock_guard<std::mutex> lock(mu);
                        ++failed;
                    }
            });
        for (auto &t : savers) t.join();
        CHECK(failed == 0);
        Fixture h;
        CHECK(mf_state_load(h.state, path.c_str()) == MF_OK);
        std::remove(path.c_str());
    }
    uint64_t entries_after = 0;
    REQUIRE(mf_state_stats(g.state, nullptr, nullptr, &entries_after) == MF_OK);
    CHECK(entries_after == entries_before);  // a refused file changes nothing
    CHECK(std::string(mf_status_str(MF_E_STATE_VERSION)).find("version") != std::string::npos);
}

TEST_CASE("the memory budget holds, the least recently seen go first") {
    Fixture f(true, 64 << 10);
    for (int i = 0; i < 3000; ++i)
        f.post("distinct post number " + std::to_string(i) + " about topic " + std::to_string(i * 7919) + " with several words",
               "d" + std::to_string(i), "w" + std::to_string(i), 100 + i);
    uint64_t used = 0, budget = 0, entries = 0;
    REQUIRE(mf_state_stats(f.state, &used, &budget, &entries) == MF_OK);
    CHECK(budget == (64 << 10));
    CHECK(used <= budget);
    CHECK(entries > 50);
    CHECK(entries < 3000);
}

TEST_CASE("the memory used counts the anchors' lookup table, and a full store stays within its budget") {
    // Budgets whose texts' share lies just under, and just over, a power of two of anchor buckets:
    // rounded up, the lookup table (allocated whole at the first text) took up to twice what the
    // budget set aside for it, and memory_used did not count it.
    for (uint64_t budget : {uint64_t(600) << 10, uint64_t(1000) << 10, uint64_t(1500) << 10}) {
        INFO(budget);
        Fixture f(true, budget);
        uint64_t used = 0, b = 0, entries = 0;
        f.post("the first text of this store with a few more words in it", "p0", "a0", 100);
        REQUIRE(mf_state_stats(f.state, &used, &b, &entries) == MF_OK);
        CHECK(used >= budget / 50);  // the lookup table, allocated whole, is counted at once
        for (int i = 1; i < 12000; ++i)
            f.post("distinct post number " + std::to_string(i) + " about topic " + std::to_string(i * 7919) +
                       " with several words",
                   "d" + std::to_string(i), "w" + std::to_string(i % 500), 100 + i);
        REQUIRE(mf_state_stats(f.state, &used, &b, &entries) == MF_OK);
        CHECK(used <= budget);
        CHECK(used >= budget / 2);  // (it did fill)
    }
}

TEST_CASE("two threads sharing one state lose no counts") {
    Fixture main_fixture;
    constexpr int kPerThread = 300;
    auto worker = [&](int t) {
        mf_scanner *s = nullptr;
        mf_verdict *v = nullptr;
        REQUIRE(mf_scanner_create(&s, main_fixture.engine) == MF_OK);
        REQUIRE(mf_verdict_create(&v) == MF_OK);
        REQUIRE(mf_scanner_set_state(s, main_fixture.state) == MF_OK);
        for (int i = 0; i < kPerThread; ++i) {
            std::string id = "t" + std::to_string(t) + "-" + std::to_string(i), author = "a" + id;
            mf_post p = post_of(kPromo, id, author, 1000000);
            REQUIRE(mf_scan(s, v, &p) == MF_OK);
        }
        mf_verdict_destroy(v);
        mf_scanner_destroy(s);
    };
    std::thread a(worker, 0), b(worker, 1);
    a.join();
    b.join();
    main_fixture.post(kPromo, "last", "last-author", 1000);
    CHECK(main_fixture.json.find("\"copies\":" + std::to_string(2 * kPerThread + 1)) != std::string::npos);
}

TEST_CASE("state entry points check their arguments") {
    mf_state *s = nullptr;
    CHECK(mf_state_create(nullptr, nullptr) == MF_E_INVALID_ARG);
    mf_state_options o = MF_STATE_OPTIONS_INIT;
    o.version = 77;
    CHECK(mf_state_create(&s, &o) == MF_E_VERSION);
    o.version = MF_STATE_OPTIONS_VERSION;
    o.memory_budget = 1000;
    CHECK(mf_state_create(&s, &o) == MF_E_INVALID_ARG);
    o.memory_budget = uint64_t(1) << 62;  // more than any machine's memory: refused now, not at every scan
    CHECK(mf_state_create(&s, &o) == MF_E_INVALID_ARG);
    CHECK(std::string(mf_last_error()).find("machine's memory") != std::string::npos);
    CHECK(mf_state_options_init(nullptr, MF_STATE_OPTIONS_VERSION) == MF_E_INVALID_ARG);
    CHECK(mf_state_options_init(&o, 5) == MF_E_VERSION);
    CHECK(mf_state_save(nullptr, "x") == MF_E_INVALID_ARG);
    CHECK(mf_state_load(nullptr, "x") == MF_E_INVALID_ARG);
    CHECK(mf_state_clear(nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_state_stats(nullptr, nullptr, nullptr, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_scanner_set_state(nullptr, nullptr) == MF_E_INVALID_ARG);
    REQUIRE(mf_state_create(&s, nullptr) == MF_OK);
    CHECK(mf_state_save(s, nullptr) == MF_E_INVALID_ARG);
    CHECK(mf_state_save(s, "/nonexistent-dir/x/state.bin") == MF_E_IO);
    CHECK(mf_state_clear(s) == MF_OK);
    mf_state_destroy(s);
    mf_state_destroy(nullptr);
}

TEST_CASE("a batch with a state attached gives the verdicts of the same posts one by one") {
    // Copies of one promotion from many authors, a flood from one, within one batch and across the
    // scanner's lanes: each post's state verdict must see exactly the posts before it.
    Fixture batch, one;
    std::vector<std::string> texts, ids, authors;
    for (int i = 0; i < 45; ++i) {
        texts.push_back(i % 3 == 0 ? kPromo : i % 3 == 1 ? "fuck, the same thing again " + std::to_string(i % 4) : "hi all");
        ids.push_back("p" + std::to_string(i));
        authors.push_back(i % 5 == 0 ? "flooder" : "u" + std::to_string(i));
    }
    std::vector<mf_post> posts;
    std::vector<mf_verdict *> vs(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        posts.push_back(post_of(texts[i], ids[i], authors[i], 1700000000000 + int64_t(i) * 1000));
        REQUIRE(mf_verdict_create(&vs[i]) == MF_OK);
    }
    size_t failed = 0;
    REQUIRE(mf_scan_batch(batch.scanner, vs.data(), posts.data(), posts.size(), &failed) == MF_OK);
    CHECK(failed == posts.size());
    size_t with_state = 0;
    for (size_t i = 0; i < posts.size(); ++i) {
        REQUIRE(mf_scan(one.scanner, one.verdict, &posts[i]) == MF_OK);
        const std::string a = mf_verdict_json(vs[i], nullptr), b = mf_verdict_json(one.verdict, nullptr);
        INFO("post " << i);
        CHECK(a == b);
        with_state += a.find("spam.duplicate") != std::string::npos || a.find("spam.flood") != std::string::npos;
    }
    CHECK(with_state > 5);
    for (auto *v : vs) mf_verdict_destroy(v);
}
