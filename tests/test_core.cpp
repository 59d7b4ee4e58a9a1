// Core unit tests: normalizer, rule-pack parser, matcher, policy, serialization.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "prefilter.hpp"
#include "quotes.hpp"
#include "scanner.hpp"

using namespace mf;

namespace {

std::unique_ptr<Engine> compile_sources(const Sources &s, std::vector<Diagnostic> *out_diags = nullptr) {
    std::vector<Diagnostic> diags;
    try {
        auto e = Engine::compile(s, EngineOptions{}, diags);
        if (out_diags) *out_diags = diags;
        return e;
    } catch (const Error &) {
        if (out_diags) *out_diags = diags;
        return nullptr;
    }
}

std::unique_ptr<Engine> compile_text(const std::string &toml, std::vector<Diagnostic> *out_diags = nullptr) {
    Sources s;
    s.files.push_back({"test.toml", toml});
    return compile_sources(s, out_diags);
}

std::vector<Diagnostic> errors_of(const std::string &toml) {
    std::vector<Diagnostic> d;
    auto e = compile_text(toml, &d);
    CHECK(e == nullptr);
    return d;
}

struct Scan {
    std::unique_ptr<Engine> engine;
    std::unique_ptr<Scanner> scanner;
    Verdict v;
    explicit Scan(const std::string &toml) : Scan(compile_text(toml)) {}
    // A set of two files: a pack, and a community's own additions to it in a file of its own.
    Scan(const std::string &pack, const std::string &own) : Scan([&] {
        Sources s;
        s.files.push_back({"a.toml", pack});
        s.files.push_back({"b.toml", own});
        return compile_sources(s);
    }()) {}
    explicit Scan(std::unique_ptr<Engine> e) : engine(std::move(e)) {
        REQUIRE(engine);
        scanner = std::make_unique<Scanner>(*engine);
    }
    Verdict &operator()(std::string_view text, int role = 0, uint32_t flags = 0) {
        scanner->scan(text, role, flags, v);
        return v;
    }
    std::vector<std::string> rules(std::string_view text, int role = 0) {
        (*this)(text, role);
        std::vector<std::string> r;
        for (const auto &h : v.hits) r.push_back(engine->rules()[h.rule].id);
        return r;
    }
};

const char *kPack = R"(
[policy]
flag = 2
hold = 4
reject = 8

[category."promise"]
route = "legal"
hold = 1

[category."abuse.threat"]
route = "legal"

[[rule]]
id = "obscene.f"
category = "abuse.obscene"
severity = "medium"
words = ["fuck", "shit"]
boundary = "prefix"

[[rule]]
id = "obscene.ass"
category = "abuse.obscene"
severity = "low"
word = "ass"

[[rule]]
id = "obscene.cunt"
category = "abuse.obscene"
severity = "high"
word = "cunt"

[[rule]]
id = "insult.idiot"
category = "abuse.harassment"
severity = "medium"
phrase = "you are an idiot"

[[rule]]
id = "threat.kill"
category = "abuse.threat"
severity = "critical"
regex = "i\\s+(will|am\\s+going\\s+to)\\s+kill\\s+you"

[[rule]]
id = "promise.refund"
category = "promise.refund"
severity = "high"
applies_to = "staff"
regex = "(we|i)('ll| will) refund"
boundary = "word"

[[rule]]
id = "dick"
category = "abuse.obscene"
severity = "low"
word = "dick"

[allow]
words = ["dick van dyke"]
)";

}  // namespace

TEST_CASE("UTF-8 decoder follows the maximal-subpart rule", "[normalize]") {
    uint32_t cp;
    bool valid;
    auto dec = [&](std::string s) { return decode_utf8(reinterpret_cast<const unsigned char *>(s.data()), s.size(), &cp, &valid); };
    CHECK(dec("a") == 1);
    CHECK((valid && cp == 'a'));
    CHECK(dec("\xC3\xA9") == 2);
    CHECK((valid && cp == 0xE9));
    CHECK(dec("\xF0\x9F\x98\x80") == 4);
    CHECK((valid && cp == 0x1F600));
    CHECK(dec("\xC0\x80") == 1);  // overlong
    CHECK(!valid);
    CHECK(dec("\xED\xA0\x80") == 1);  // surrogate
    CHECK(!valid);
    CHECK(dec("\xE2\x82") == 2);  // truncated: both bytes are one invalid sequence
    CHECK(!valid);
    CHECK(dec("\xF4\x90\x80\x80") == 1);  // above U+10FFFF
    CHECK(!valid);
}

TEST_CASE("ASCII posts are scanned in place", "[normalize]") {
    Normalizer n;
    std::string s = "Hello World";
    n.run(s);
    CHECK(n.identity());
    CHECK(n.data() == s.data());
    CHECK(n.orig_start(6) == 6);
    CHECK(n.orig_end(11) == 11);
}

TEST_CASE("NFKC case folding maps compatibility letters back to original offsets", "[normalize]") {
    Normalizer n;
    std::string s = "x \xEF\xBD\x86\xEF\xBD\x95 y";  // "x ｆｕ y" (fullwidth)
    n.run(s);
    REQUIRE(!n.identity());
    CHECK(std::string(n.data(), n.size()) == "x fu y");
    CHECK(n.orig_start(2) == 2);
    CHECK(n.orig_end(3) == 5);
    CHECK(n.orig_start(3) == 5);
    CHECK(n.orig_end(4) == 8);
    CHECK(n.evasion(2, 4) & kEvCompat);
}

TEST_CASE("A compatibility character that stands for a phrase of more than 8 code points stays as it is", "[normalize]") {
    Normalizer n;
    const std::string fdfa = "\xEF\xB7\xBA";  // U+FDFA: 18 code points under NFKC
    n.run("a " + fdfa + " b");
    CHECK(std::string(n.data(), n.size()) == "a " + fdfa + " b");
    const std::string fdfb = "\xEF\xB7\xBB";  // U+FDFB: 8 code points, expanded as before
    n.run(fdfb);
    CHECK(n.size() > fdfb.size());
    CHECK(n.orig_start(0) == 0);
    CHECK(n.orig_end(n.size()) == 3);
}

TEST_CASE("Invisible characters are dropped, combining marks on Latin letters too", "[normalize]") {
    Normalizer n;
    n.run("f\xE2\x80\x8Bu\xC2\xAD" "ck");  // f ZWSP u SHY ck
    CHECK(std::string(n.data(), n.size()) == "fuck");
    CHECK(n.orig_start(0) == 0);
    CHECK(n.orig_end(4) == 9);
    CHECK(n.evasion(0, 4) & kEvInvisible);
    n.run("Caf\xC3\xA9 n\xCC\x81\xCC\x82\xCC\x83o");  // Café n + three combining marks + o
    CHECK(std::string(n.data(), n.size()) == "cafe no");
    CHECK(n.evasion(5, 7) & kEvCombining);
    // a character that folds to an ASCII digit (subscript one, circled one) drops its marks as the
    // digit would, so that normalizing the output again changes nothing
    n.run("x\xE2\x82\x81\xCC\x82" "d \xE2\x91\xA0\xCC\x82");  // x SUBSCRIPT ONE + circumflex d, CIRCLED ONE + circumflex
    CHECK(std::string(n.data(), n.size()) == "x1d 1");
    CHECK(normalize_literal(normalize_literal("x\xE2\x82\x81\xCC\x82" "d")) == normalize_literal("x\xE2\x82\x81\xCC\x82" "d"));
}

TEST_CASE("Look-alike letters from other scripts become Latin, and mixed scripts are reported", "[normalize]") {
    Normalizer n;
    n.run("\xD1\x81\xD0\xBE\xD1\x80");  // Cyrillic "сор" (looks like "cop")
    CHECK(std::string(n.data(), n.size()) == "cop");
    CHECK(n.evasion(0, 3) & kEvConfusable);
    CHECK(!(n.evasion(0, 3) & kEvMixedScript));
    n.run("id\xD1\x96ot");  // "id" + Cyrillic і + "ot"
    CHECK(std::string(n.data(), n.size()) == "idiot");
    CHECK(n.evasion(0, 5) & kEvMixedScript);
    n.run("\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");  // "привет": real Russian is not evasion
    CHECK(!(n.evasion(0, n.size()) & kEvConfusable));
    // the trade mark sign stays a sign: NFKC's "TM" would join the word before it ("protm")
    n.run("Widget Pro\xE2\x84\xA2 now");
    CHECK(std::string(n.data(), n.size()) == "widget pro\xE2\x84\xA2 now");
    // Cyrillic к, whose UTS #39 skeleton is not ASCII, is a k in a mixed word (so regex rules see it)
    n.run("i will \xD0\xBAill you");  // "кill"
    CHECK(std::string(n.data(), n.size()) == "i will kill you");
    CHECK(n.evasion(7, 11) & kEvMixedScript);
    // and the other small-capital look-alikes stay Cyrillic: "Тарн" is a place, not "TapH"
    n.run("\xD0\xA2\xD0\xB0\xD1\x80\xD0\xBD");
    CHECK(std::string(n.data(), n.size()).find("\xD0\xBD") != std::string::npos);
}

TEST_CASE("Invalid UTF-8 is replaced for matching, counted, and keeps its bytes' offsets", "[normalize]") {
    Normalizer n;
    std::string s = "ab\xFF" "cd\xC3";
    n.run(s);
    CHECK(n.invalid_utf8() == 2);
    CHECK(std::string(n.data(), n.size()) == "ab\xEF\xBF\xBD" "cd\xEF\xBF\xBD");
    CHECK(n.orig_start(2) == 2);
    CHECK(n.orig_end(5) == 3);
    CHECK(n.orig_start(5) == 3);
}

TEST_CASE("Rule-pack mistakes are reported as file:line with what is wrong", "[rules]") {
    auto d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"medium\"\nwrods = [\"x\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:5: unknown key 'wrods'") == 0);
    CHECK(d[0].message.find("did you mean 'words'") != std::string::npos);

    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"extreme\"\nword = \"x\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:4: severity must be") == 0);

    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"low\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:1: rule 'a' has nothing to match") == 0);

    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nregex = \"(unclosed\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:5: rule 'a': regex does not compile") == 0);  // the regex line

    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"x\"\nseverity = \"low\"\nword = \"x\"\n"
                  "[[rule]]\nid = \"a\"\ncategory = \"x\"\nseverity = \"low\"\nword = \"y\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str() == "test.toml:6: duplicate rule id 'a' (first defined at test.toml:1)");

    // A duplicate of a rule that has a mistake of its own is reported in the same run.
    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"x\"\nseverity = \"hgh\"\nword = \"x\"\n"
                  "[[rule]]\nid = \"a\"\ncategory = \"x\"\nseverity = \"low\"\nword = \"y\"\n");
    REQUIRE(d.size() == 2);
    CHECK(d[0].str().find("test.toml:4: severity must be") == 0);
    CHECK(d[1].str() == "test.toml:6: duplicate rule id 'a' (first defined at test.toml:1)");

    d = errors_of("[[rule]\nid = 1\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 1);

    d = errors_of("[[rule]]\nid = \"Bad Id\"\ncategory = \"Abuse\"\nseverity = \"low\"\nword = \"x\"\napplies_to = \"robots\"\n");
    CHECK(d.size() >= 3);  // every mistake is reported, not only the first
}

TEST_CASE("Words match as words: no Scunthorpe problem", "[match]") {
    Scan s(kPack);
    CHECK(s.rules("you ass") == std::vector<std::string>{"obscene.ass"});
    CHECK(s.rules("a classic assessment of the class").empty());
    CHECK(s.rules("Scunthorpe United").empty());
    CHECK(s.rules("cunt").size() == 1);
    CHECK(s.rules("ASS!") == std::vector<std::string>{"obscene.ass"});
}

TEST_CASE("Prefix rules match inside longer words and cover the whole word", "[match]") {
    Scan s(kPack);
    auto &v = s("what the fucking hell");
    REQUIRE(v.hits.size() == 1);
    CHECK(v.hits[0].start == 9);
    CHECK(v.hits[0].end == 16);
    CHECK(s.rules("shitty").size() == 1);
    CHECK(s.rules("bullshit").empty());  // prefix: must start at a word boundary
}

TEST_CASE("A word-list entry opening or closing with '*' loosens its rule's boundary on that side", "[match]") {
    Scan s(R"(
[pack]
name = "t"

[[rule]]
id = "strong"
category = "abuse.obscene"
severity = "medium"
words = ["*fuck*", "twat", "shit*", "*hole"]

[allow]
words = ["scunthorpe", "*cuntsu*"]

[[rule]]
id = "root"
category = "abuse.obscene"
severity = "medium"
words = ["*cunt*"]
)");
    // anywhere inside a word, and the hit covers the word's letters
    auto &v = s("oh whatthefuckisthis!");
    REQUIRE(v.hits.size() == 1);
    CHECK(v.hits[0].start == 3);
    CHECK(v.hits[0].end == 20);
    CHECK(s.rules("fuck") == std::vector<std::string>{"strong"});
    // the other entries keep the rule's boundary (word): no "twat" in "wristwatch"
    CHECK(s.rules("a wristwatch").empty());
    CHECK(s.rules("you twat") == std::vector<std::string>{"strong"});
    // "shit*": at the start of a word only; "*hole": at the end only
    CHECK(s.rules("a shitshow") == std::vector<std::string>{"strong"});
    CHECK(s.rules("a mishit").empty());
    CHECK(s.rules("an asshole") == std::vector<std::string>{"strong"});
    CHECK(s.rules("wholesome").empty());
    // a rule adds its score once, however many of its entries hit
    auto &w = s("fuck this shitshow");
    CHECK(w.hits.size() == 2);
    REQUIRE(w.categories.size() == 1);
    CHECK(w.categories[0].score == Approx(2.0));
    // an allowed stem keeps every word that holds it clean, and a plain allowed word still works
    CHECK(s.rules("Amacuntsu lamacuntsu").empty());
    CHECK(s.rules("Scunthorpe").empty());
    CHECK(s.rules("a fatcunt") == std::vector<std::string>{"root"});
    // an allowed stem drops a root found inside it, not one glued beside it
    CHECK(s.rules("icuntsufuck") == std::vector<std::string>{"strong"});
    CHECK(s.rules("#AmacuntsuToday").empty());
    // the widened span stops 48 bytes from the root each way: a post of one long word stays linear
    const std::string word = std::string(500, 'a') + "fuck" + std::string(500, 'b');
    auto &lw = s(word);
    REQUIRE(lw.hits.size() == 1);
    CHECK(lw.hits[0].start == 500 - kWidenMax);
    CHECK(lw.hits[0].end == 504 + kWidenMax);
    // two stars at one end, or a bare star, are mistakes at the entry's line
    auto d = errors_of("[[rule]]\nid = \"r\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"**fuck\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 5);
    CHECK(!errors_of("[[rule]]\nid = \"r\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"*\"]\n").empty());
    CHECK(!errors_of("[allow]\nwords = [\"*cuntsu\"]\n").empty());
}

TEST_CASE("A root found inside a word is a disguise only where the root itself shows a trick", "[match]") {
    Scan s(R"(
[[rule]]
id = "root"
category = "abuse.hate"
severity = "critical"
words = ["*zorrgul*", "*傻逼*"]
)");
    // the skeleton folds letter runs, so "zorgul" is the root's skeleton; a letter run or a digit
    // next to it in the word is no disguise of the root ("NIGERIAAAA" is no slur)
    CHECK(s.rules("ZORGULAAAA").empty());
    CHECK(s.rules("zorgulmania1").empty());
    CHECK(s.rules("zorrgulaaaa") == std::vector<std::string>{"root"});  // (the root as written)
    CHECK(s.rules("z0rrgul") == std::vector<std::string>{"root"});
    CHECK(s.rules("zorrrrgul") == std::vector<std::string>{"root"});
    auto &v = s("hey z0rrgulmania");
    REQUIRE(v.hits.size() == 1);
    CHECK(v.hits[0].start == 4);
    CHECK(v.hits[0].end == 16);
    // a root of another script keeps its own span beside Latin letters
    auto &w = s("iPhone傻逼");
    REQUIRE(w.hits.size() == 1);
    CHECK(w.hits[0].start == 6);
}

TEST_CASE("Phrases match across any run of whitespace, regexes are case-insensitive", "[match]") {
    Scan s(kPack);
    CHECK(s.rules("You   are\tan IDIOT") == std::vector<std::string>{"insult.idiot"});
    CHECK(s.rules("I am going to kill you") == std::vector<std::string>{"threat.kill"});
    CHECK(s.rules("I will skill you").empty());
}

TEST_CASE("A regex's window counts a run of white space as one byte, and still reaches through long runs", "[match]") {
    Scan s("[[rule]]\nid = \"k\"\ncategory = \"abuse.threat\"\nseverity = \"high\"\n"
           "regex = '''\\bkill\\s+(you|him)\\b|\\bhurt\\s*[\\s-]{0,2}you\\b'''\n"
           "[[rule]]\nid = \"i\"\ncategory = \"abuse.insult\"\nseverity = \"low\"\n"
           "regex = '''\\b(you|u)\\s+(big\\s+)?idiot\\b'''\n");
    // the reach of "\bkill\s+(you|him)\b" is the longest match of "\bkill\s(you|him)\b"; that of
    // "\bhurt\s*[\s-]{0,2}you\b" of "\bhurt\s?[\s-]{0,2}you\b" (a class stays as it is)
    std::set<uint32_t> reach;
    for (size_t i = 0; i < s.engine->pattern_count(); ++i) {
        const Pattern &p = s.engine->pattern(i);
        if (p.kind != Pattern::kVariable || p.allow || s.engine->rules()[p.rule].id != "k") continue;
        CHECK(p.window == kMaxWindow);  // unbounded: the longest window
        reach.insert(p.reach);
    }
    CHECK(reach == std::set<uint32_t>{10});  // (caseless UTF-8: a 'k' may be the Kelvin sign, 3 bytes)
    // quoted text is read as it is: "\s+" inside \Q...\E is four bytes, not white space
    Scan quoted("[[rule]]\nid = \"q\"\ncategory = \"abuse.threat\"\nseverity = \"high\"\n"
                "regex = '''\\bkill\\Q\\s+x\\E\\s+you\\b'''\n");
    for (size_t i = 0; i < quoted.engine->pattern_count(); ++i)
        if (quoted.engine->pattern(i).kind == Pattern::kVariable) CHECK(quoted.engine->pattern(i).reach == quoted.engine->pattern(i).window);
    CHECK(quoted.rules("kill\\s+x    you") == std::vector<std::string>{"q"});
    for (size_t spaces : {1, 2, 40, 100, 150}) {
        const std::string pad(spaces, ' '), lines = std::string(spaces / 2, '\n') + std::string(spaces - spaces / 2, '\t');
        for (const std::string &gap : {pad, lines}) {
            INFO(spaces);
            const std::string a = "first some words here, then kill" + gap + "you and more words after it";
            CHECK(s.rules(a) == std::vector<std::string>{"k"});
            REQUIRE(s.v.hits.size() == 1);
            CHECK(a.substr(s.v.hits[0].start, s.v.hits[0].end - s.v.hits[0].start) == "kill" + gap + "you");
            CHECK(s.rules("hurt" + gap + "you") == std::vector<std::string>{"k"});
            // the atom at the end of the match: the window reaches back through the runs
            // (no further than kMaxWindow bytes, as before: "you" must start within 160 bytes of "idiot")
            const std::string b = "well you" + gap + "big" + gap + "idiot, said someone";
            if (6 + 2 * spaces <= kMaxWindow) {
                CHECK(s.rules(b) == std::vector<std::string>{"i"});
                REQUIRE(s.v.hits.size() == 1);
                CHECK(s.v.hits[0].start == 5);
            } else {
                CHECK(s.rules(b).empty());
            }
        }
    }
    // a match longer than the window is not looked for, as before
    CHECK(s.rules("kill" + std::string(200, ' ') + "you").empty());
}

TEST_CASE("A phrase of short words is one literal: single spaces, word boundaries, exact span", "[match]") {
    Scan s(R"(
[[rule]]
id = "f-off"
category = "abuse.obscene"
severity = "medium"
phrase = "f off"

[[rule]]
id = "shut-face"
category = "abuse.harassment"
severity = "medium"
phrase = "shut your face"

[[rule]]
id = "long-word"
category = "abuse.harassment"
severity = "medium"
phrase = "go away loser"
)");
    auto &v = s("oh F OFF already");
    REQUIRE(v.hits.size() == 1);
    CHECK(v.hits[0].start == 3);
    CHECK(v.hits[0].end == 8);
    CHECK(s.rules("just shut your face!") == std::vector<std::string>{"shut-face"});
    CHECK(s.rules("if off").empty());          // "f" must start a word
    CHECK(s.rules("f offer").empty());         // and "off" must end one
    CHECK(s.rules("shut your faces").empty());
    // What a literal gives up: the words split by a line break. A phrase with a word of 5 bytes or
    // more is still a regex and still matches across any whitespace.
    CHECK(s.rules("f\noff").empty());
    CHECK(s.rules("go away\n  loser") == std::vector<std::string>{"long-word"});
}

TEST_CASE("Hits carry byte offsets into the original text, across multi-byte look-alikes", "[match]") {
    Scan s(kPack);
    std::string post = "\xE2\x80\x9C" "f\xE2\x80\x8Bu\xD1\x81k\xE2\x80\x9D";  // “f ZWSP u с(Cyrillic) k”
    auto &v = s(post);
    REQUIRE(v.hits.size() == 1);
    CHECK(v.hits[0].start == 3);
    CHECK(v.hits[0].end == post.size() - 3);
    CHECK(v.hits[0].evasion & kEvInvisible);
    CHECK(v.hits[0].evasion & kEvConfusable);
    CHECK(v.hits[0].evasion & kEvMixedScript);
}

TEST_CASE("Allowlisted phrases suppress hits inside them", "[match]") {
    Scan s(kPack);
    CHECK(s.rules("I loved Dick Van Dyke in that film").empty());
    CHECK(s.rules("what a dick").size() == 1);
}

TEST_CASE("An allow entry as written is not allowed again in the evasion skeleton", "[match]") {
    // Norwegian "slutt" (end) holds the prefix "slut"; as a plain allow entry its skeleton ("slut",
    // letter runs folded) would also allow the disguises of the word it must not allow.
    auto pack = [](const char *key) {
        return std::string(R"(
[pack]
name = "t"

[[rule]]
id = "strong"
category = "abuse.obscene"
severity = "medium"
words = ["slut"]
boundary = "prefix"

[allow]
)") + key + " = [\"slutt\"]\n";
    };
    Scan written(pack("as_written"));
    CHECK(written.rules("det er slutt").empty());
    CHECK(written.rules("slut").size() == 1);
    CHECK(written.rules("sluttttt").size() == 1);
    CHECK(written.rules("what a s1utt").size() == 1);
    CHECK(written.rules("sl*tt").size() == 1);
    CHECK(written.rules("\xEF\xBD\x93\xEF\xBD\x8C\xEF\xBD\x95\xEF\xBD\x94\xEF\xBD\x94").size() == 1);  // fullwidth
    CHECK(written.rules("s\xE2\x80\x8Blutt").size() == 1);                                                    // a zero-width space
    CHECK(written.rules("slu\xCC\x88tt").empty());  // an accent written apart from its letter (NFD) is no trick
    CHECK(written.rules("s\xCC\xB6l\xCC\xB6u\xCC\xB6t\xCC\xB6t\xCC\xB6").size() == 1);  // struck through: marks that compose with nothing
    Scan plain(pack("words"));
    CHECK(plain.rules("det er slutt").empty());
    CHECK(plain.rules("slut").size() == 1);
    CHECK(plain.rules("what a s1utt").empty());  // what as_written is for
}

TEST_CASE("A disguise has at least the characters of the word it spells", "[match]") {
    // "ass" has the skeleton "as" (runs folded): a two-character token with one trick reaches it
    Scan s(R"(
[pack]
name = "t"

[[rule]]
id = "ass"
category = "abuse.obscene"
severity = "low"
word = "ass"
)");
    CHECK(s.rules("My Galaxy A5 will not charge").empty());
    CHECK(s.rules("print it on A5 paper").empty());
    CHECK(s.rules("I still use an iPhone 4s").empty());
    CHECK(s.rules("Galaxy A\xCD\x8F" "5").empty());  // a combining grapheme joiner adds no character
    CHECK(s.rules("Galaxy A\xEF\xB8\x8E" "5").empty());  // nor does a variation selector
    CHECK(s.rules("printf(\"%4$s of %2$s\")").empty());   // a printf position: no disguise
    CHECK(s.rules("4$s").size() == 1);
    CHECK(s.rules("kiss my a55").size() == 1);
    CHECK(s.rules("kiss my @ss").size() == 1);
    CHECK(s.rules("kiss my a$$").size() == 1);
    CHECK(s.rules("kiss my ass").size() == 1);
}

TEST_CASE("Author role: promise rules apply to staff only", "[policy]") {
    Scan s(kPack);
    auto &staff = s("We'll refund everyone by Friday", 1);
    CHECK(staff.action == kHold);
    REQUIRE(staff.categories.size() == 1);
    CHECK(s.engine->categories()[staff.categories[0].category].route == "legal");
    auto &member = s("We'll refund everyone by Friday", 0);
    CHECK(member.action == kAllow);
    CHECK(member.hits.empty());
}

TEST_CASE("Scores add per distinct rule and thresholds pick the action", "[policy]") {
    Scan s(kPack);
    CHECK(s("ass").action == kAllow);               // low: 1 < flag 2
    CHECK(s("fuck").action == kFlag);               // medium: 2
    CHECK(s("fuck fuck fuck fuck").action == kFlag);  // one rule counts once
    CHECK(s("fuck ass cunt").action == kHold);      // 2 + 1 + 4 = 7: hold, not reject
    CHECK(s("I will kill you").action == kReject);  // critical: 8
    auto &v = s("fuck ass");
    REQUIRE(v.categories.size() == 1);
    CHECK(v.categories[0].score == Approx(3.0));
    CHECK(v.categories[0].action == kFlag);
}

TEST_CASE("Censoring replaces each code point of each hit by one star", "[verdict]") {
    Scan s(kPack);
    auto &v = s("oh f\xC3\xBC" "ck it", 0, 1);  // "oh fück it"
    CHECK(v.has_censored);
    CHECK(v.censored == "oh **** it");
    // a hit over several lines keeps its line breaks: the post's lines stay lines
    auto &w = s("f\r\nu\r\nc\r\nk", 0, 1);
    REQUIRE(!w.hits.empty());
    CHECK(w.censored == "*\r\n*\r\n*\r\n*");
}

TEST_CASE("Verdict JSON is valid and complete", "[verdict]") {
    Scan s(kPack);
    auto &v = s("You are an idiot \xFF");
    const std::string &j = v.render_json();
    CHECK(j.find("\"action\":\"FLAG\"") != std::string::npos);
    CHECK(j.find("\"rule\":\"insult.idiot\"") != std::string::npos);
    CHECK(j.find("\"start\":0,\"end\":16") != std::string::npos);
    CHECK(j.find("\"invalid_utf8\":1") != std::string::npos);
}

TEST_CASE("A word list nothing names and a category nothing falls under are warnings", "[rules]") {
    std::vector<Diagnostic> d;
    auto e = compile_text("[words]\nmoney = [\"refund\"]\nmony = [\"widget pro\"]\n\n"
                          "[category.\"spma\"]\nroute = \"pr\"\n\n[category.\"spam.flood\"]\nroute = \"pr\"\n\n"
                          "[[commitment]]\nid = \"p\"\ncategory = \"promise.money\"\nseverity = \"low\"\n"
                          "commit = [\"will\"]\nwhat = [\"@money\"]\n",
                          &d);
    REQUIRE(e != nullptr);  // warnings stop nothing
    CHECK(d.empty());
    std::vector<std::string> w;
    for (const auto &x : e->warnings()) w.push_back(x.str());
    REQUIRE(w.size() == 2);
    CHECK(w[0].find("test.toml:3: warning: words.mony is named by no rule") == 0);
    CHECK(w[0].find("did you mean 'money'?") != std::string::npos);
    CHECK(w[1].find("test.toml:5: warning: [category.\"spma\"] matches no rule's category") == 0);
}

TEST_CASE("A word list that is not UTF-8 is a mistake at the list's line", "[rules]") {
    Sources src;
    src.files.push_back({"t.toml", "[[rule]]\nid = \"x\"\ncategory = \"spam.x\"\nseverity = \"low\"\nwords_file = \"list.txt\"\n"});
    src.files.push_back({"list.txt", "foo\nb\xE9r\n"});  // Latin-1 "bér"
    std::vector<Diagnostic> d;
    CHECK(compile_sources(src, &d) == nullptr);
    REQUIRE(d.size() == 1);
    CHECK(d[0].file == "list.txt");
    CHECK(d[0].line == 2);
    CHECK(d[0].message.find("not valid UTF-8") != std::string::npos);
    src.files[1].content = "foo\nb\xC3\xA9r\n";  // the same list in UTF-8
    d.clear();
    CHECK(compile_sources(src, &d) != nullptr);
}

TEST_CASE("Hits beyond max_hits are truncated but still scored", "[limits]") {
    Sources src;
    src.files.push_back({"t.toml", kPack});
    std::vector<Diagnostic> d;
    EngineOptions o;
    o.max_hits = 3;
    auto e = Engine::compile(src, o, d);
    Scanner sc(*e);
    Verdict v;
    sc.scan("ass ass ass ass ass I will kill you", 0, 0, v);
    CHECK(v.hits.size() == 3);
    CHECK((v.flags & 2u));
    CHECK(v.action == kReject);  // the threat after the truncation point still counts
}

TEST_CASE("Posts over max_post_bytes are refused with a clear error", "[limits]") {
    Sources src;
    src.files.push_back({"t.toml", kPack});
    std::vector<Diagnostic> d;
    EngineOptions o;
    o.max_post_bytes = 10;
    auto e = Engine::compile(src, o, d);
    Scanner sc(*e);
    Verdict v;
    CHECK_NOTHROW(sc.scan("0123456789", 0, 0, v));
    try {
        sc.scan("01234567890", 0, 0, v);
        FAIL("no error");
    } catch (const Error &err) {
        CHECK(err.status == kTooLarge);
        CHECK(err.message.find("11 bytes exceeds max_post_bytes (10)") != std::string::npos);
    }
}

TEST_CASE("A pack of one regex and no phrase serializes and loads", "[serialize]") {
    // Group 0 (the phrases) is empty and the regex has a group of its own: one group more than the
    // loader's checks allowed, so such a database was refused as corrupt.
    auto e = compile_text(R"([[commitment]]
id = "promise.timeline.processed"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["your request"]
commit = ["will be"]
what = ["processed within # days"]

[[rule]]
id = "card"
category = "pii.card"
severity = "medium"
regex = '''\b\d{4}[ -]?\d{4}'''
)");
    REQUIRE(e);
    const std::string db = e->serialize();
    std::unique_ptr<Engine> e2;
    REQUIRE_NOTHROW(e2 = Engine::deserialize(db, EngineOptions{}));
    Scanner s1(*e), s2(*e2);
    Verdict v1, v2;
    s1.scan("card 4111 1111 here", 0, 0, v1);
    s2.scan("card 4111 1111 here", 0, 0, v2);
    CHECK(v1.hits.size() == 1);
    CHECK(v1.render_json() == v2.render_json());
}

TEST_CASE("Regexes that wait for the same words share a probe, each still finds what it finds alone", "[match]") {
    // Three regexes on the same insults (most of their atoms in common) and one on other words:
    // the three share a probe, which runs once per window, and every rule's hits are those it has
    // in a pack of its own.
    const std::string head = "[policy]\nflag = 1\n";
    const char *rules[] = {
        R"([[rule]]
id = "you-noun"
category = "abuse.harassment"
severity = "medium"
regex = '''\byou\s+(?:stupid\s+)?(?:idiots?|morons?|clowns?|losers?|imbeciles?)\b'''
)",
        R"([[rule]]
id = "you-are-noun"
category = "abuse.harassment"
severity = "medium"
regex = '''\byou\s+are\s+(?:an?\s+)?(?:idiots?|morons?|clowns?|losers?|imbeciles?)\b'''
)",
        R"([[rule]]
id = "vocative"
category = "abuse.harassment"
severity = "low"
regex = '''\b(?:idiots?|morons?|clowns?|losers?|imbeciles?|bozos?)\b\s*[!,]'''
)",
        R"([[rule]]
id = "leave"
category = "abuse.harassment"
severity = "low"
regex = '''\b(?:nobody|no\s+one)\s+wants\s+you\s+here\b'''
)"};
    std::string all = head;
    for (const char *r : rules) all += r;
    Scan joined(all);
    // groups: 0 (the phrases: none here) and one per regex; probes: group 0's, the three regexes
    // on insults', the fourth's
    CHECK(joined.engine->group_count() == 5);
    CHECK(joined.engine->probe_count() == 3);
    const char *posts[] = {"you idiot", "you are a moron, and you stupid clown", "loser! nobody wants you here",
                           "you are an imbecile", "bozo, you are no clown", "you, idiot", "nobody wants you here",
                           "an idiot-proof plan"};
    // The spans of one rule's hits on a post.
    auto spans = [](Scan &s, std::string_view post, const std::string &id) {
        std::vector<std::pair<size_t, size_t>> out;
        for (const auto &h : s(post).hits)
            if (s.engine->rules()[h.rule].id == id) out.emplace_back(h.start, h.end);
        return out;
    };
    for (size_t k = 0; k < 4; ++k) {
        Scan alone(head + rules[k]);
        const std::string id = alone.engine->rules()[0].id;
        for (const char *post : posts) {
            INFO(rules[k] << " on: " << post);
            CHECK(spans(alone, post, id) == spans(joined, post, id));
        }
    }
    // A regex whose match can be longer than its window (160 bytes): windows that another rule's
    // triggers join to its own must not find more of it, nor another start.
    const std::string bang = head + R"([[rule]]
id = "bang"
category = "abuse.harassment"
severity = "low"
regex = '''\bidiot\b[^!]*!'''
)";
    const std::string insult = R"([[rule]]
id = "insult"
category = "abuse.harassment"
severity = "low"
regex = '''\b(?:idiot|moron)\b'''
)";
    Scan one(bang), two(bang + insult);
    CHECK(two.engine->probe_count() == 2);  // group 0's (no phrases), and the two regexes'
    std::string morons = "idiot", far = "idiot";
    for (int i = 0; i < 40; ++i) morons += " moron";
    morons += "!";
    for (int i = 0; i < 60; ++i) far += " moron";
    far += " idiot!";
    for (const std::string &post : {morons, far}) CHECK(spans(one, post, "bang") == spans(two, post, "bang"));
    CHECK(joined.rules("you idiot") == std::vector<std::string>{"you-noun"});
    CHECK(joined.rules("loser! nobody wants you here") == (std::vector<std::string>{"vocative", "leave"}));
    // and the same after a round trip through the compiled form
    auto loaded = Engine::deserialize(joined.engine->serialize(), EngineOptions{});
    CHECK(loaded->probe_count() == 3);
    Scanner sc(*loaded);
    Verdict v;
    sc.scan("you are a moron, and you stupid clown", 0, 0, v);
    CHECK(v.render_json() == joined("you are a moron, and you stupid clown").render_json());
}

TEST_CASE("A serialized engine scans like the original, corruption is detected", "[serialize]") {
    auto e = compile_text(kPack);
    std::string db = e->serialize();
    auto e2 = Engine::deserialize(db, EngineOptions{});
    Scanner s1(*e), s2(*e2);
    Verdict v1, v2;
    for (const char *post : {"you are an idiot", "fuck ass", "I will kill you", "clean text"}) {
        s1.scan(post, 0, 0, v1);
        s2.scan(post, 0, 0, v2);
        CHECK(v1.render_json() == v2.render_json());
    }
    std::string bad = db;
    bad[bad.size() / 2] ^= 0x40;
    try {
        Engine::deserialize(bad, EngineOptions{});
        FAIL("corruption not detected");
    } catch (const Error &err) {
        CHECK(err.status == kBadDatabase);
    }
    try {
        Engine::deserialize(db.substr(0, db.size() - 1), EngineOptions{});
        FAIL("truncation not detected");
    } catch (const Error &err) {
        CHECK(err.status == kBadDatabase);
    }
    try {
        Engine::deserialize("not a database", EngineOptions{});
        FAIL("garbage accepted");
    } catch (const Error &err) {
        CHECK(err.status == kBadDatabase);
    }
}

TEST_CASE("Every example in the default packs behaves as its rule says", "[packs]") {
    std::vector<Diagnostic> d;
    auto e = Engine::compile(default_sources(), EngineOptions{}, d);
    REQUIRE(e);
    CHECK(e->rules().size() > 10);
    e->check_examples(d);
    for (const auto &x : d) UNSCOPED_INFO(x.str());
    CHECK(d.empty());
}

namespace {

// The original bytes a hit covers.
std::string span(const std::string &post, const HitRecord &h) { return post.substr(h.start, h.end - h.start); }

struct Case {
    std::string post, rule, covered;
    uint32_t evasion;
};

}  // namespace

TEST_CASE("Evasive spellings are caught, and each hit covers exactly the evasive spelling", "[evasion]") {
    Scan s(kPack);
    const Case cases[] = {
        {"what the f u c k is this", "obscene.f", "f u c k", kEvSeparators},
        {"he wrote b.u.l.l.s.h.i.t there", "", "", 0},  // not in this pack: no hit at all
        {"you are a s.h.i.t, then", "obscene.f", "s.h.i.t", kEvSeparators},
        {"f-u-c-k off", "obscene.f", "f-u-c-k", kEvSeparators},
        {"f_u_c_k off", "obscene.f", "f_u_c_k", kEvSeparators},
        {"you are a f u c k", "obscene.f", "f u c k", kEvSeparators},
        {"sh1t happens", "obscene.f", "sh1t", kEvLeet},
        {"5h!t happens", "obscene.f", "5h!t", kEvLeet},
        {"what an @$$", "obscene.ass", "@$$", kEvLeet},
        {"what an @ss", "obscene.ass", "@ss", kEvLeet},  // an '@' opening a token may be an 'a'
        {"@ssss! and @user", "obscene.ass", "@ssss", kEvLeet | kEvRepeats},
        {"f*ck that", "obscene.f", "f*ck", kEvSeparators},
        // a mask over a letter that the skeleton folds into its neighbour (a repeat, or 'i' next to 'l')
        {"what an a*s", "obscene.ass", "a*s", kEvSeparators},
        {"what an as*", "", "", 0},             // a mask at the end is no inner letter
        {"fuuuuuck that", "obscene.f", "fuuuuuck", kEvRepeats},
        {"phuck that", "obscene.f", "phuck", kEvLeet},
        // "ph" across the pieces of a spaced-out word, and in look-alike letters (small capitals)
        {"p h u c k that", "obscene.f", "p h u c k", kEvLeet | kEvSeparators},
        {"\xE1\xB4\x98\xCA\x9C\xE1\xB4\x9C\xE1\xB4\x84\xE1\xB4\x8B that", "obscene.f",
         "\xE1\xB4\x98\xCA\x9C\xE1\xB4\x9C\xE1\xB4\x84\xE1\xB4\x8B", kEvLeet | kEvConfusable},
        {"p h o n e me", "", "", 0},
        // a word split past the end of a prefix word ("fuc ky": the window "uck" + any letter)
        {"so fuc ky today", "obscene.f", "fuc ky", kEvSeparators},
        {"the truc ky thing", "", "", 0},
        // a dot in an e-mail address or a link splits no word ("wan.kit@example.com" is no "wank")
        {"mail fu.ck@example.com today", "", "", 0},
        {"see www.sh.it.com now", "", "", 0},
        // pieces written as a name are none ("Chan Wan-kit", "Lee Wan Ki"), a split in lower case or at
        // a sentence's start is
        {"ask Fu-ck about it", "", "", 0},
        {"ask Fu Ck about it", "", "", 0},
        {"Fu-ck this", "obscene.f", "Fu-ck", kEvSeparators},
        {"\xCA\x9E\xC9\x94n\xC9\xA5" "d off", "obscene.f", "\xCA\x9E\xC9\x94n\xC9\xA5" "d", kEvConfusable},  // upside down
        {"s h iiiii t", "obscene.f", "s h iiiii t", kEvSeparators | kEvRepeats},
        // an invalid byte (U+FFFD once normalized) inside a word goes, as an invisible character does
        {"fu\xEF\xBF\xBD" "ck off", "obscene.f", "fu\xEF\xBF\xBD" "ck", kEvInvisible},
        {"fu\xEF\xBF\xBD\xEF\xBF\xBD" "ck off", "obscene.f", "fu\xEF\xBF\xBD\xEF\xBF\xBD" "ck", kEvInvisible},
        {"f\xEF\xBF\xBDu\xEF\xBF\xBD" "c\xEF\xBF\xBDk off", "obscene.f", "f\xEF\xBF\xBDu\xEF\xBF\xBD" "c\xEF\xBF\xBDk", kEvInvisible},
        {"caf\xEF\xBF\xBD au lait", "", "", 0},
        // middle dots and bullets are dots (core/normalize.hpp); a Catalan "l·l" joins no word
        {"fu\xC2\xB7" "ck off", "obscene.f", "fu\xC2\xB7" "ck", kEvSeparators},
        {"f\xC2\xB7u\xC2\xB7" "c\xC2\xB7k off", "obscene.f", "f\xC2\xB7u\xC2\xB7" "c\xC2\xB7k", kEvSeparators},
        {"fu\xE2\x80\xA2" "ck off", "obscene.f", "fu\xE2\x80\xA2" "ck", kEvSeparators},
        {"el col\xC2\xB7legi", "", "", 0},
        {"5.h.1.7 again", "obscene.f", "5.h.1.7", kEvLeet | kEvSeparators},
        {"\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x83\xEF\xBD\x8B", "obscene.f", "\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x83\xEF\xBD\x8B", kEvCompat},
        {"x f\xE2\x80\x8Bu\xE2\x80\x8D" "c\xC2\xAD" "k y", "obscene.f", "f\xE2\x80\x8Bu\xE2\x80\x8D" "c\xC2\xAD" "k", kEvInvisible},
        {"s\xCC\x81h\xCC\x97i\xCC\xB6t\xCD\x98 z", "obscene.f", "s\xCC\x81h\xCC\x97i\xCC\xB6t\xCD\x98", kEvCombining},
        {"a \xD1\x81unt here", "obscene.cunt", "\xD1\x81unt", kEvConfusable | kEvMixedScript},
        {"\xF0\x9F\x87\xAB\xF0\x9F\x87\xBA\xF0\x9F\x87\xA8\xF0\x9F\x87\xB0!", "obscene.f",
         "\xF0\x9F\x87\xAB\xF0\x9F\x87\xBA\xF0\x9F\x87\xA8\xF0\x9F\x87\xB0", kEvCompat},
    };
    for (const auto &c : cases) {
        INFO(c.post);
        auto &v = s(c.post);
        if (c.rule.empty()) {
            CHECK(v.hits.empty());
            continue;
        }
        REQUIRE(v.hits.size() >= 1);
        const HitRecord *h = nullptr;
        for (const auto &x : v.hits)
            if (s.engine->rules()[x.rule].id == c.rule) h = &x;
        REQUIRE(h);
        CHECK(span(c.post, *h) == c.covered);
        CHECK((h->evasion & c.evasion) == c.evasion);
        CHECK((v.evasion & c.evasion) == c.evasion);
    }
}

TEST_CASE("An evasive spelling that several rules of a category match is one word: its highest score counts", "[evasion]") {
    Scan s(R"(
[policy]
flag = 2
hold = 4

[[rule]]
id = "obscene.strong"
category = "abuse.obscene"
severity = "medium"
word = "fuck"

[[rule]]
id = "obscene.mild"
category = "abuse.obscene"
severity = "low"
word = "feck"

[[rule]]
id = "harass.f"
category = "abuse.harassment"
severity = "low"
word = "fock"
)");
    auto &v = s("the f*ck");  // the mask stands for u, e and o alike
    std::vector<std::string> ids;
    for (const auto &h : v.hits) ids.push_back(s.engine->rules()[h.rule].id);
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"harass.f", "obscene.strong"});  // one per category
    REQUIRE(v.categories.size() == 2);
    for (const auto &c : v.categories)
        CHECK(c.score == Approx(s.engine->categories()[c.category].name == "abuse.obscene" ? 2.0 : 1.0));
    CHECK(v.action == kFlag);  // not 2 + 1 + 1 = hold
    // Plain words are each their own: both rules count.
    auto &p = s("fuck and feck");
    CHECK(p.hits.size() == 2);
    CHECK(p.categories.size() == 1);
    CHECK(p.categories[0].score == Approx(3.0));
}

TEST_CASE("Numbers, codes and ordinary words do not turn into evasive spellings", "[evasion]") {
    Scan s(kPack);
    for (const char *post : {"order F4G-22 costs $142,460", "room 666, floor 3", "B4 the meeting, 2nd try",
                             "a classic assessment as usual", "as I said, ass-kicking is not a word we use",
                             "I have 2 apples and 3 pears", "Shitake mushrooms", "pass the sauce, Sussex",
                             "c l a s s dismissed", "1 a b c 2", "hell0 w0rld", "f.a.q. and u.s.a."}) {
        INFO(post);
        auto &v = s(post);
        for (const auto &h : v.hits) {
            // "ass-kicking" is a real hit of the word list ("ass" as a word), not evasion.
            CHECK(h.evasion == 0);
        }
    }
    CHECK(s.rules("order F4G-22 costs $142,460").empty());
    CHECK(s.rules("c l a s s dismissed").empty());
    // a link is no word: its digits and symbols are no leetspeak, whatever its path spells
    CHECK(s.rules("sh1t happens") == std::vector<std::string>{"obscene.f"});
    CHECK(s.rules("see http://t.co/sh1t or HTTPS://x.example/a?q=sh1t, (www.sh1t.example)").empty());
    CHECK(s.rules("a classic assessment as usual").empty());
    // a quantity with its unit is no leetspeak ("5h1t" and "5hit" are): "55h" is 55 hours, "51t" 51 tonnes
    CHECK(s.rules("it took 55h, then 51t of scrap").empty());
    CHECK(s.rules("5h1t happens") == std::vector<std::string>{"obscene.f"});
    CHECK(s.rules("55 5h1t") == std::vector<std::string>{"obscene.f"});
    // an e-mail address is no word: its '@' is no 'a' ("jack@suse" is not "jackasuse")
    Scan j("[[rule]]\nid = \"j\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"jackass\"]\nboundary = \"prefix\"\n");
    CHECK(j.rules("Jan Kara <jack@suse.cz> fixed it").empty());
    CHECK(j.rules("what a j@ckass") == std::vector<std::string>{"j"});
    CHECK(j.rules("what a jack@ss") == std::vector<std::string>{"j"});
}

TEST_CASE("validate = \"luhn\" keeps only card numbers that pass the checksum", "[match]") {
    Scan s(R"(
[[rule]]
id = "pii.card"
category = "pii.card"
severity = "high"
boundary = "any"
validate = "luhn"
regex = "\\b4\\d{3}([\\s-]?\\d{4}){3}\\b"
)");
    CHECK(s.rules("card 4111 1111 1111 1111 thanks") == std::vector<std::string>{"pii.card"});
    CHECK(s.rules("card 4111-1111-1111-1111") == std::vector<std::string>{"pii.card"});
    CHECK(s.rules("order 4111 1111 1111 1112").empty());
    auto d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"x\"\nseverity = \"low\"\nword = \"x\"\nvalidate = \"crc\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:6: validate must be \"luhn\"") == 0);
}

TEST_CASE("A long alternation is split so that each alternative has atoms of its own", "[rules]") {
    // 40 alternatives "check out my <thing>": split, each needs "check" and its own thing, where the
    // regex as a whole could only be run around any of the 40 words (and of "check")
    std::string re = "\\b(";
    for (int i = 0; i < 40; ++i) re += std::string(i ? "|" : "") + "check\\s+out\\s+my\\s+thing" + std::to_string(100 + i);
    re += ")\\b";
    const auto alts = split_alternatives(re);
    REQUIRE(alts.size() == 40);
    const auto sets = required_atom_sets(alts[7]);
    REQUIRE(sets.size() == 2);
    auto only_thing107 = [](const std::vector<std::string> &set) {
        return set.size() == 1 && set[0].find("thing107") != std::string::npos;
    };
    CHECK((only_thing107(sets[0]) || only_thing107(sets[1])));
    // the \b after the group reaches the word that ends it: a whole word, not a prefix of "thing1070"
    CHECK((sets[0] == std::vector<std::string>{"\x01thing107\x01"} || sets[1] == std::vector<std::string>{"\x01thing107\x01"}));
    // and the second set is not one the first implies ("thing107" beside "thing107" + \b): "check"
    CHECK((sets[0] == std::vector<std::string>{"\x01" "check" "\x01"} || sets[1] == std::vector<std::string>{"\x01" "check" "\x01"}));
    // past 128 alternatives the regex stays whole (one database pattern instead of hundreds)
    std::string big = "a0";
    for (int i = 1; i < 200; ++i) big += "|a" + std::to_string(i);
    CHECK(split_alternatives(big).size() == 1);
}

TEST_CASE("A regex's common words gate its windows: found where they stand, and the same hits", "[rules][match]") {
    // "details"/"profile" trigger; "my" is too common a word to trigger on, but every match holds it,
    // and "on" is in nearly every sentence: no gate
    const std::string re = "\\b(details|info)\\s+on\\s+my\\s+(profile|page)\\b";
    const auto triggers = required_atom_sets(re);
    REQUIRE(!triggers.empty());
    const auto gates = gate_atom_sets(re, triggers);
    REQUIRE(gates.size() == 1);
    CHECK(gates[0] == std::vector<std::string>{"\x01my\x01"});
    // no gate of a word in nearly every sentence, none of a lone letter that need only start a word
    CHECK(gate_atom_sets("\\bdetails\\s+the\\s+page", required_atom_sets("\\bdetails\\s+the\\s+page")).empty());
    CHECK(gate_atom_sets("\\bprofile\\s+u\\w*", required_atom_sets("\\bprofile\\s+u\\w*")).empty());

    // The scan: a window with the trigger but no "my" in it does not open (Engine::gates_pass), and
    // the hits are the regex's own; a compiled database keeps the gates.
    const std::string rule = "[[rule]]\nid = \"points\"\ncategory = \"spam\"\nseverity = \"low\"\n"
                             "regex = '''\\b(details|info)\\s+on\\s+my\\s+(profile|page)\\b'''\n";
    Scan s(rule);
    REQUIRE(s.engine);
    uint32_t var = UINT32_MAX;
    for (size_t i = 0; i < s.engine->pattern_count(); ++i)
        if (s.engine->pattern(static_cast<unsigned>(i)).kind == Pattern::kVariable) var = s.engine->pattern(static_cast<unsigned>(i)).var;
    REQUIRE(var != UINT32_MAX);
    REQUIRE(s.engine->gated(var));
    const std::string without = "the details are on the profile page of the shop", with = "Details on MY profile, thanks";
    CHECK_FALSE(s.engine->gates_pass(var, without.data(), without.size(), 0, without.size()));
    CHECK(s.engine->gates_pass(var, with.data(), with.size(), 0, with.size()));
    // a word boundary: "myself" holds no "my"
    const std::string inside = "details on myself profile";
    CHECK_FALSE(s.engine->gates_pass(var, inside.data(), inside.size(), 0, inside.size()));
    // the gate must stand in the window itself
    CHECK_FALSE(s.engine->gates_pass(var, with.data(), with.size(), 13, with.size()));
    CHECK(s.rules("all the details on my profile, thanks") == std::vector<std::string>{"points"});
    CHECK(s.rules("info on   My page") == std::vector<std::string>{"points"});
    CHECK(s.rules("the details are on the profile page").empty());
    Scan loaded(Engine::deserialize(s.engine->serialize(), EngineOptions{}));
    REQUIRE(loaded.engine->gated(var));
    CHECK_FALSE(loaded.engine->gates_pass(var, without.data(), without.size(), 0, without.size()));
    CHECK(loaded.rules("all the details on my profile, thanks") == std::vector<std::string>{"points"});
    // What the parser must not read as words: a range of punctuation ends holds letters ([ -~]);
    // \cJ and \012 are one character each; (*UCP) is a verb, not text
    auto has_atom = [](const std::vector<std::vector<std::string>> &sets, const std::string &a) {
        for (const auto &set : sets)
            for (const auto &x : set)
                if (x == a) return true;
        return false;
    };
    const std::string range = "\\bsignup[ -~]+my\\b";
    CHECK_FALSE(has_atom(gate_atom_sets(range, required_atom_sets(range)), "\x01my\x01"));
    const std::string ctrl = "\\bdetails\\s+\\cJmy\\s+page", octal = "\\bdetails\\s+\\012my\\s+page";
    for (const std::string &r : {ctrl, octal}) {
        const auto t = required_atom_sets(r);
        CHECK_FALSE(has_atom(t, "jmy\x01"));
        CHECK_FALSE(has_atom(t, "12my\x01"));
        CHECK_FALSE(has_atom(gate_atom_sets(r, t), "jmy\x01"));
        CHECK_FALSE(has_atom(gate_atom_sets(r, t), "12my\x01"));
    }
    CHECK(required_atom_sets("(*UCP)\\w*details\\s+on\\s+my\\s+page").empty());
    Scan ucp("[[rule]]\nid = \"u\"\ncategory = \"spam\"\nseverity = \"low\"\nregex = '''(*UCP)\\w*details\\s+on\\s+my\\s+page'''\n");
    CHECK(ucp.rules("see the details on my page") == std::vector<std::string>{"u"});
}

TEST_CASE("A regex window never starts after an underscore, where Hyperscan would see a word boundary", "[rules][match]") {
    // "_Half": to Hyperscan '_' is a word character, so no \b stands before "Half"; a window that
    // opened at "H" (the word matcher's words end at '_') found "half price line rental" there.
    Scan s("[[rule]]\nid = \"rental\"\ncategory = \"spam\"\nseverity = \"low\"\n"
           "regex = '''\\b(half\\s+price\\s+line\\s*rental|line\\s*rental)\\b'''\n");
    s("_Half Price LineRental");
    REQUIRE(s.v.hits.size() == 1);
    CHECK(s.v.hits[0].start == 12);
    CHECK(s.v.hits[0].end == 22);
    s("a Half Price LineRental");
    REQUIRE(s.v.hits.size() == 1);
    CHECK(s.v.hits[0].start == 2);
}

TEST_CASE("A regex with no literal of its own runs around its trigger, and check-rules says when one is missing", "[rules][match]") {
    const std::string rule = "[[rule]]\nid = \"pii.card\"\ncategory = \"pii.card\"\nseverity = \"medium\"\n"
                             "boundary = \"any\"\nregex = '''\\b\\d{4}([\\s-]?\\d{4}){3}\\b'''\n";
    std::vector<Diagnostic> d;
    auto plain = compile_text(rule, &d);
    REQUIRE(plain);
    REQUIRE(plain->warnings().size() == 1);
    CHECK(plain->warnings()[0].str().find("test.toml:6: warning: rule 'pii.card' has no literal of 3+ bytes") == 0);

    Scan s(rule + "trigger = '''\\d{4}[\\s-]?\\d{4}'''\n");
    CHECK(s.engine->warnings().empty());
    CHECK(s.rules("card 4111 1111 1111 1111 thanks") == std::vector<std::string>{"pii.card"});
    CHECK(s.rules("call 4111 then 1111") == std::vector<std::string>{});
    // at the very start of the text too (the trigger's match is shorter than its longest form)
    CHECK(s.rules("4111-1111-1111-1111") == std::vector<std::string>{"pii.card"});

    // alternatives with atoms of their own keep them; the trigger serves the others
    Scan both("[[rule]]\nid = \"x\"\ncategory = \"spam.x\"\nseverity = \"low\"\n"
              "regex = '''\\d+%\\s+off|promo\\s+code'''\ntrigger = '''\\d\\s*%'''\n");
    CHECK(both.engine->warnings().empty());
    CHECK(both.rules("get 20% off today") == std::vector<std::string>{"x"});
    CHECK(both.rules("use promo code X") == std::vector<std::string>{"x"});

    // several alternatives with no atoms share the one trigger, which opens the widest one's
    // window over the group's database: the narrower ones are found there too, wherever they are
    Scan alts("[[rule]]\nid = \"phone\"\ncategory = \"pii.phone\"\nseverity = \"low\"\nboundary = \"any\"\n"
              "regex = '''\\b0\\d{4}\\s?\\d{6}\\b|\\(\\d{3}\\)\\s?\\d{3}-\\d{4}\\b|\\b\\d{3}-\\d{4}\\b'''\n"
              "trigger = '''\\d{3}-\\d{4}|\\d{6}'''\n");
    CHECK(alts.engine->warnings().empty());
    for (const char *post : {"call 01632 960123 now", "01632960123", "ring (555) 123-4567 today", "(555)123-4567",
                             "it is 555-1234", "555-1234 is mine"}) {
        INFO(post);
        CHECK(alts.rules(post) == std::vector<std::string>{"phone"});
    }
    CHECK(alts.rules("a (555) 123-4567, b 555-9876 and c 01632 960000") ==
          std::vector<std::string>{"phone", "phone", "phone"});
    CHECK(alts.rules("version 1.2.3 of 2024") == std::vector<std::string>{});

    // the one trigger's window reaches as far as the furthest-reaching of the alternatives it serves,
    // not only as far as the widest one: "\s+" makes the first one's window the widest (160 bytes)
    // while it reaches 8 bytes when each run of white space counts one
    Scan reach("[[rule]]\nid = \"n\"\ncategory = \"pii.phone\"\nseverity = \"low\"\nboundary = \"any\"\n"
               "regex = '''\\b\\d{3}\\s+\\d{4}\\b|\\+\\d{2}-\\d{3}-\\d{3}-\\d{3}-\\d{4}\\b'''\n"
               "trigger = '''\\d{3}[\\s-]\\d{4}\\b'''\n");
    CHECK(reach.rules("call +44-207-946-123-0958 now") == std::vector<std::string>{"n"});
    REQUIRE(reach.v.hits.size() == 1);
    CHECK(reach.v.hits[0].start == 5);
    CHECK(reach.rules("call 207 9461 now") == std::vector<std::string>{"n"});

    d = errors_of(rule + "trigger = '''(unclosed'''\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:7: rule 'pii.card': trigger does not compile") == 0);
    d = errors_of("[[rule]]\nid = \"w\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nword = \"idiot\"\ntrigger = 'x'\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:6: rule 'w': trigger is for regex rules only") == 0);
}

TEST_CASE("A serialized engine loads its pattern tables and scans as the compiled one", "[serialize]") {
    Scan s("[[rule]]\nid = \"c\"\ncategory = \"pii.card\"\nseverity = \"medium\"\nboundary = \"any\"\n"
           "regex = '''\\b\\d{4}([\\s-]?\\d{4}){3}\\b'''\ntrigger = '''\\d{4}[\\s-]?\\d{4}'''\n"
           "[[rule]]\nid = \"r\"\ncategory = \"promise.refund\"\nseverity = \"high\"\napplies_to = \"staff\"\n"
           "regex = '''\\bwe\\s+will\\s+refund\\b'''\n"
           "[[rule]]\nid = \"w\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nwords = [\"idiot\", \"fek al vi\"]\n");
    auto loaded = Engine::deserialize(s.engine->serialize(), EngineOptions{});
    Scanner sc(*loaded);
    Verdict v;
    for (const char *text : {"4111 1111 1111 1111", "We will refund you", "you idiot", "fek  al vi", "al fek vi"}) {
        for (int role : {0, 1}) {
            s(text, role);
            sc.scan(text, role, 0, v);
            REQUIRE(v.hits.size() == s.v.hits.size());
            for (size_t i = 0; i < v.hits.size(); ++i) {
                CHECK(v.hits[i].rule == s.v.hits[i].rule);
                CHECK(v.hits[i].start == s.v.hits[i].start);
                CHECK(v.hits[i].end == s.v.hits[i].end);
            }
        }
    }
    s("We will refund you", 1);
    CHECK(s.v.hits.size() == 1);
    s("fek al vi", 0);
    CHECK(s.v.hits.size() == 1);
}

TEST_CASE("A database loaded from lasting data deserializes regex and skeleton databases on first use, from any thread", "[serialize][threads]") {
    auto e = compile_text(
        "[[rule]]\nid = \"c\"\ncategory = \"pii.card\"\nseverity = \"medium\"\nboundary = \"any\"\n"
        "regex = '''\\b\\d{4}([\\s-]?\\d{4}){3}\\b'''\ntrigger = '''\\d{4}[\\s-]?\\d{4}'''\n"
        "[[rule]]\nid = \"k\"\ncategory = \"abuse.threat\"\nseverity = \"high\"\nregex = '''\\bkill\\s+(you|him)\\b'''\n"
        "[[rule]]\nid = \"r\"\ncategory = \"promise.refund\"\nseverity = \"high\"\napplies_to = \"staff\"\n"
        "regex = '''\\bwe\\s+will\\s+refund\\b'''\n"
        "[[rule]]\nid = \"w\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nwords = [\"idiot\", \"fek al vi\"]\n");
    REQUIRE(e);
    const std::string db = e->serialize();  // lives longer than the engine below
    auto lazy = Engine::deserialize(db, EngineOptions{}, /*data_outlives_engine=*/true);
    REQUIRE(lazy->group_count() > 2);
    auto none_loaded = [&] {
        bool none = !lazy->skeleton_database().loaded();
        for (size_t g = 0; g < lazy->group_count(); ++g) none = none && !lazy->group_database(g).loaded();
        for (size_t p = 0; p < lazy->probe_count(); ++p) none = none && !lazy->group_probe(p).loaded();
        return none;
    };
    CHECK(none_loaded());
    CHECK(lazy->serialize() == db);  // written from the bytes it holds: still nothing deserialized
    CHECK(none_loaded());
    {
        Scanner idle(*lazy);
        Verdict v;
        idle.scan("hello there, nice day", 0, 0, v);  // no trigger, no trick: nothing else is needed
        CHECK(v.hits.empty());
    }
    CHECK(none_loaded());
    const std::vector<std::string> posts = {"4111 1111 1111 1111", "I will kill you", "We will refund you",
                                            "you 1d10t", "i d i o t", "fek  al vi", "hello there"};
    std::vector<std::string> want[2];
    Scanner ref(*e);
    Verdict v;
    for (int role : {0, 1})
        for (const auto &p : posts) {
            ref.scan(p, role, 0, v);
            want[role].push_back(v.render_json());
        }
    CHECK(want[0][1] != want[0][6]);  // the posts do hit
    // Four threads, each with its own scanner, start together: the first scans of a database race.
    std::atomic<int> started{0}, wrong{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
        ts.emplace_back([&, t] {
            Scanner sc(*lazy);
            Verdict mine;
            ++started;
            while (started < 4) std::this_thread::yield();
            for (int round = 0; round < 20; ++round)
                for (size_t i = 0; i < posts.size(); ++i) {
                    const size_t k = (i + t) % posts.size();  // each thread in another order
                    const int role = (round + t) % 2;
                    sc.scan(posts[k], role, 0, mine);
                    if (mine.render_json() != want[role][k]) ++wrong;
                }
        });
    for (auto &t : ts) t.join();
    CHECK(wrong == 0);
    CHECK(lazy->skeleton_database().loaded());
    // Serialized again (every database deserialized for it): the same bytes.
    CHECK(lazy->serialize() == db);
}

TEST_CASE("The skeleton works on the words that show a trick, and folded letters are no stretched word", "[skeleton]") {
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"piss\", \"clown\"]\n");
    // 'l' and 'i' fold together, so "pills" has the skeleton of "piss": only the same character
    // three times is a stretched word, and only the trick's own word is rebuilt
    CHECK(s.rules("RT @b0ss: those pills work") == std::vector<std::string>{});
    CHECK(s.rules("piiiiss off") == std::vector<std::string>{"o"});
    CHECK(s.rules("p1ss off, and those pills") == std::vector<std::string>{"o"});
    // a spaced-out word whose letters hold tricks of their own, ending in punctuation
    CHECK(s.rules("you are a c l ooooo w n, honestly") == std::vector<std::string>{"o"});
    CHECK(s.rules("a c l 0 w n") == std::vector<std::string>{"o"});
}

TEST_CASE("Version numbers, dates and hexadecimal ids do not wake the skeleton, leetspeak beside them does", "[skeleton]") {
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"ass\", \"aids\"]\n");
    // digits alone between dots or dashes are a version or a date, not a spelled-out word
    CHECK(s.rules("upgrade from 4.5.5 to 4.8.0 before 1-4-8") == std::vector<std::string>{});
    CHECK(s.rules("you a.s.s") == std::vector<std::string>{"o"});
    CHECK(s.rules("you 4.$.$") == std::vector<std::string>{"o"});
    CHECK(s.rules("you 4.5.s") == std::vector<std::string>{"o"});
    // a commit hash or checksum of 10 to 64 hex digits: its digits stand for no letter
    Normalizer n;
    Skeleton sk;
    n.run("commit a1d5a1d5a1d5f00d Author: someone");
    CHECK_FALSE(sk.build(n));
    n.run("commit a1d5 Author: someone");  // (too short for an id: "aids" in leet)
    CHECK(sk.build(n));
    CHECK(s.rules("commit a1d5a1d5a1d5f00d") == std::vector<std::string>{});
    CHECK(s.rules("a1d5 is no joke, commit a1d5a1d5a1d5f00d") == std::vector<std::string>{"o"});
}

TEST_CASE("Numbers in identifiers, decimal speedups and version wildcards are no leetspeak", "[skeleton]") {
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"ass\", \"sex\", \"pron\"]\n");
    // digits alone between separators are a number, whatever letters the token holds elsewhere
    CHECK(s.rules("merge 455_userdel.8.xml from Debian") == std::vector<std::string>{});
    CHECK(s.rules("xcb_util.c:455: error") == std::vector<std::string>{});
    CHECK(s.rules("you a55_hat") == std::vector<std::string>{"o"});  // (a letter in the digits' run)
    CHECK(s.rules("you 4ss") == std::vector<std::string>{"o"});
    // a decimal number with a unit, and a version's wildcard
    CHECK(s.rules("a 1.53x speedup with gcc 5.3.x and 2.x") == std::vector<std::string>{});
    CHECK(s.rules("want some s3x") == std::vector<std::string>{"o"});
    CHECK(s.rules("want some s.3.x") == std::vector<std::string>{"o"});
    // an abbreviation in capitals beside a word in lower case is two words, not one split word
    CHECK(s.rules("the runs for your PR on GitHub") == std::vector<std::string>{});
    CHECK(s.rules("watch pr on tonight") == std::vector<std::string>{"o"});
    CHECK(s.rules("watch PR ON tonight") == std::vector<std::string>{"o"});
}

TEST_CASE("A word split in two pieces may mix cases, and joins the word after it", "[skeleton]") {
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"fuck\", \"bitch\", \"fuckyou\"]\n");
    for (const char *post : {"FU ck off", "fu CK off", "you BI tch", "FU CK off"}) {
        INFO(post);
        CHECK(s.rules(post) == std::vector<std::string>{"o"});
    }
    // the word after a split word in capitals is joined to it as before ("fuckyou", a listed word):
    // the hit covers the three pieces
    const Verdict &v = s("FU CK you");
    REQUIRE(v.hits.size() == 1);
    CHECK(v.hits[0].start == 0);
    CHECK(v.hits[0].end == 9);
}

TEST_CASE("A digit far from any letter of its token stands for no letter", "[skeleton]") {
    // (each leet character looks for a letter at most 8 bytes along its token: bench_worstcase's
    // leet_run and digit_run rows show the time stays linear)
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"ass\"]\n");
    std::string post = "hey a";
    for (int i = 0; i < 1000; ++i) post += "@4";
    post += " and a55";
    CHECK(s.rules(post) == std::vector<std::string>{"o"});
    std::string digits = "a";
    digits.append(2000, '4');
    CHECK(s.rules(digits) == std::vector<std::string>{});
    // a token of 32 bytes or more has its digits looked up in a table built once for it (LeetDigits),
    // with the same answers: a letter after the digit, before it, or a run that another byte parts
    const std::string commas(40, ',');
    for (const std::string &token : {"4ss" + commas, "a55" + commas, commas + "a55", "x" + commas + "4ss"}) {
        INFO(token);
        CHECK(s.rules("you " + token) == std::vector<std::string>{"o"});
    }
    CHECK(s.rules("you 4" + commas + "ss") == std::vector<std::string>{});  // (the commas part the run)
}

TEST_CASE("A disguised_only word list hits only where the post disguises the word", "[skeleton][rules]") {
    const std::string pack = "[[rule]]\nid = \"d\"\ncategory = \"abuse.harassment\"\nseverity = \"low\"\n"
                             "disguised_only = true\nwords = [\"clown\", \"numpty\"]\n";
    Scan s(pack);
    CHECK(s.rules("what a clown, honestly").empty());  // as written: other rules judge it in context
    CHECK(s.rules("what a cl0wn, honestly") == std::vector<std::string>{"d"});
    CHECK(s.rules("what a c.l.o.w.n") == std::vector<std::string>{"d"});
    CHECK(s.rules("what a \xD1\x81lown") == std::vector<std::string>{"d"});  // Cyrillic с
    CHECK(s.rules("what a n u m p t y") == std::vector<std::string>{"d"});
    CHECK(s.rules("what a clooooown").empty());  // a run of letters is emphasis, no disguise
    CHECK(s.rules("clowns and numptys").empty());
    // the flag survives a compiled database
    std::unique_ptr<Engine> loaded;
    REQUIRE_NOTHROW(loaded = Engine::deserialize(s.engine->serialize(), EngineOptions{}));
    Scan back(std::move(loaded));
    CHECK(back.rules("what a clown").empty());
    CHECK(back.rules("what a cl0wn") == std::vector<std::string>{"d"});
    // mistakes: not a boolean; on a regex
    auto d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nwords = [\"x\"]\n"
                       "disguised_only = \"yes\"\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].line == 6);
    CHECK(d[0].message.find("disguised_only must be true or false") != std::string::npos);
    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nregex = 'x+y'\n"
                  "disguised_only = true\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].line == 1);
    CHECK(d[0].message.find("disguised_only is for word lists") != std::string::npos);
    // an entry with no disguised form (a phrase) would match nothing: a mistake at its line
    d = errors_of("[[rule]]\nid = \"a\"\ncategory = \"abuse.x\"\nseverity = \"low\"\ndisguised_only = true\n"
                  "words = [\"clown\",\n  \"dumb clown\"]\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].line == 7);
    CHECK(d[0].message.find("'dumb clown' has no disguised form") != std::string::npos);
}

namespace {

// A small vocabulary for the evasion families of the skeleton (words written for the tests).
const char *kFamilies = "[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\n"
                        "words = [\"clown\", \"donkey\", \"bumpkin\", \"numpty\"]\n";

std::string hit_text(Scan &s, const std::string &text) {
    s(text);
    if (s.v.hits.size() != 1) return "(" + std::to_string(s.v.hits.size()) + " hits)";
    return text.substr(s.v.hits[0].start, s.v.hits[0].end - s.v.hits[0].start);
}

}  // namespace

TEST_CASE("Look-alike letters: small capitals, Greek and symbol look-alikes, strokes, parenthesized", "[skeleton]") {
    Scan s(kFamilies);
    CHECK(hit_text(s, "what a \u1d04\u029f\u1d0f\u1d21\u0274 you are") == "\u1d04\u029f\u1d0f\u1d21\u0274");  // small capitals
    CHECK(hit_text(s, "what a d\u03bfnk\u03b5y") == "d\u03bfnk\u03b5y");             // Greek omicron and epsilon
    CHECK(hit_text(s, "such a \u00a2lown") == "\u00a2lown");                          // cent sign
    CHECK(hit_text(s, "such a donk\u20acy") == "donk\u20acy");                        // euro sign for an e
    CHECK(hit_text(s, "a \u531a\u3125\u3116\u5c71\u51e0 again") == "\u531a\u3125\u3116\u5c71\u51e0");  // CJK strokes
    CHECK(hit_text(s, "you \u249e\u24a7\u24aa\u24b2\u24a9") == "\u249e\u24a7\u24aa\u24b2\u24a9");  // parenthesized
    CHECK(s(std::string("what a \u1d04\u029f\u1d0f\u1d21\u0274")).hits[0].evasion != 0);
    // a post written wholly in Greek or CJK is left alone, and so are its look-alikes
    CHECK(s.rules("\u03ba\u03b1\u03b9 \u03c4\u03bf \u03c3\u03c0\u03af\u03c4\u03b9").empty());
    CHECK(s.rules("\u5c71\u4e0a\u6709\u4eba").empty());
    // ordinary words with a symbol stay clean: the folded word must be in the vocabulary
    CHECK(s.rules("it costs 5\u00a2 at the \u00a9 shop").empty());
    CHECK(s.rules("it costs 20\u20ac, \u00a1hola! see note\u2020").empty());
    // a dagger or a pound sign stands for a letter only between letters (or first before one), and
    // last in a word only after another look-alike or three lower-case letters: footnote daggers end
    // names ("Shi\u2020"; see the test case below)
    CHECK(hit_text(s, "you nump\u2020y") == "nump\u2020y");
    CHECK(hit_text(s, "you \u00a2\u00a3own") == "\u00a2\u00a3own");     // cent and pound signs: c, l
    CHECK(s.rules("what a numpy\u2020 and a \u00a3 5 clo\u2020").empty());
    CHECK(s.rules("\u00a35 for a clown\u2020").size() == 1);            // the clown, not the price
    // the partial differential is a d
    CHECK(hit_text(s, "you \u2202onkey") == "\u2202onkey");
    // a stroked o counts only in a word other look-alikes mark ("\u2202\u00f8nkey"), never alone ("br\u00f8d")
    CHECK(hit_text(s, "you \u2202\u00f8nkey") == "\u2202\u00f8nkey");
    CHECK(s.rules("d\u00f8nkey br\u00f8d").empty());
    // a sharp s (which case folding makes "ss") is a b in a word other look-alikes mark, never alone
    CHECK(hit_text(s, "you \u00dfumpk\u03b9\u03b7") == "\u00dfumpk\u03b9\u03b7");
    CHECK(s.rules("bu\u00dfe bum\u00dfkin Stra\u00dfe").empty());
    // a leet '!' next to a look-alike letter stands for an i, as next to a plain one
    CHECK(hit_text(s, "you bumpk!\u03b7") == "bumpk!\u03b7");
}

TEST_CASE("A dagger that ends a lower-case word, and a sharp s that starts one", "[skeleton]") {
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\n"
           "words = [\"idiot\", \"twit\", \"tit\", \"bumpkin\", \"boob\"]\n");
    CHECK(hit_text(s, "what an idio\u2020") == "idio\u2020");
    CHECK(hit_text(s, "what an idio\u2020, honestly") == "idio\u2020");  // punctuation after it
    // a capital: a name and the dagger of its death date, in brackets or quotes too; a footnote's
    // dagger after a word of fewer than four letters ("tit" is in this vocabulary)
    CHECK(s.rules("Twi\u2020 and Jesus\u2020 (1901), (Twi\u2020), \"Twi\u2020\"").empty());
    CHECK(s.rules("ti\u2020 x\u2020 twi\u2020").empty());
    // no word of any language starts with a sharp s: there it is the b it is drawn like
    CHECK(hit_text(s, "you \u00dfumpkin") == "\u00dfumpkin");
    CHECK(hit_text(s, "you (\u00dfumpkin)") == "\u00dfumpkin");  // opening punctuation before it
    CHECK(hit_text(s, "a \u00df\u00f8\u00f8b, really") == "\u00df\u00f8\u00f8b");
    CHECK(s.rules("Stra\u00dfe, gro\u00dfe Bu\u00dfe, \u00df").empty());
}

TEST_CASE("Upside-down words are turned back and read in reverse", "[skeleton]") {
    Scan s(kFamilies);
    // "clown" upside down: n w o l c -> u \u028d o l \u0254
    CHECK(hit_text(s, "you u\u028dol\u0254 again") == "u\u028dol\u0254");
    // "donkey": y e k n o d
    CHECK(hit_text(s, "\u028e\u01dd\u029euop") == "\u028e\u01dd\u029euop");
    // upside-down text without a listed word
    CHECK(s.rules("\u028e\u026f \u01dd\u026f\u0250u s\u1d09 qoq").empty());
}

TEST_CASE("Words split by a dot or a dash, or into short pieces", "[skeleton]") {
    Scan s(kFamilies);
    CHECK(hit_text(s, "what a clo.wn") == "clo.wn");
    CHECK(hit_text(s, "what a don-key!") == "don-key");
    CHECK(hit_text(s, "you are a cl own") == "cl own");
    CHECK(hit_text(s, "you are a do nk ey, honestly") == "do nk ey");
    CHECK(hit_text(s, "nu mp ty") == "nu mp ty");
    CHECK(hit_text(s, "bu mp k1 n") == "bu mp k1 n");
    // ordinary splits: no window of the vocabulary around them, or common words only
    CHECK(s.rules("a well-known e.g. site, is it ok to go").empty());
    CHECK(s.rules("we had a bump kin the road").empty());
}

TEST_CASE("JoinGrams: four letters in a row of the vocabulary's words", "[skeleton]") {
    JoinGrams g;
    CHECK_FALSE(g.has('c', 'l', 'o', 'w'));
    g.add(normalize_literal("clown"));
    g.add(normalize_literal("two words"));  // phrases give no window
    CHECK(g.has(0, 'c', 'l', 'o'));
    CHECK(g.has('c', 'i', 'o', 'w'));  // 'l' is read as 'i'
    CHECK(g.has('o', 'w', 'n', 0));
    CHECK_FALSE(g.has('w', 'o', 'r', 'd'));
    CHECK_FALSE(g.has('n', 'c', 'l', 'o'));
}

TEST_CASE("The skeleton leaves out the tokens where no pattern can match, and finds the same hits", "[skeleton]") {
    TokenFilter f;
    f.add("idiot");                                // two ASCII bytes side by side: a token needs a pair too
    f.add("\xD0\xBCy\xD0\xB4" "a\xD0\xBA");        // "мyдaк": Cyrillic with look-alikes folded one at a time
    CHECK(f.may_match("you", 3));
    CHECK(f.may_match("x1", 2));
    CHECK_FALSE(f.may_match("--", 2));                              // no letter a-z to give
    CHECK_FALSE(f.may_match("\xD8\xB5\xD9\x84\xD9\x89", 6));        // Arabic: no ASCII at all
    CHECK_FALSE(f.may_match("l\xD9\x84\xD9\x84o", 6));              // "lللo": no pair, no Cyrillic
    CHECK(f.may_match("\xD0\xBCy\xD0\xB4" "a\xD0\xBA" "a", 9));     // has every byte of "мyдaк"
    CHECK_FALSE(f.may_match("\xD0\xBCy\xD0\xB4" "a", 6));           // lacks the 'к'
    TokenFilter g;
    const std::vector<uint64_t> w = f.save();
    REQUIRE(g.load(w.data(), w.size()));
    CHECK_FALSE(g.may_match("l\xD9\x84\xD9\x84o", 6));
    CHECK(g.may_match("\xD0\xBCy\xD0\xB4" "a\xD0\xBA", 8));
    CHECK_FALSE(g.load(w.data(), 1));  // half a pattern's set

    // Through the scanner: posts full of U+FDFA (NFKC expands it to Arabic words with look-alike
    // letters) give the same hits, with the same spans, as without the tokens left out.
    Scan s("[[rule]]\nid = \"o\"\ncategory = \"abuse.obscene\"\nseverity = \"low\"\nwords = [\"idiot\", \"clown\"]\n");
    const std::string fdfa = "\xEF\xB7\xBA";
    const std::string post = fdfa + fdfa + " you 1d10t " + fdfa + " c l 0 w n " + fdfa + fdfa;
    s(post);
    REQUIRE(s.v.hits.size() == 2);
    CHECK(post.substr(s.v.hits[0].start, s.v.hits[0].end - s.v.hits[0].start) == "1d10t");
    CHECK(post.substr(s.v.hits[1].start, s.v.hits[1].end - s.v.hits[1].start) == "c l 0 w n");
    // a left-out token parts a run of single letters, as any other word does
    CHECK(s.rules("i d " + fdfa + " i o t") == std::vector<std::string>{});
    CHECK(s.rules("c l " + fdfa + " o w n") == std::vector<std::string>{});
    CHECK(s.rules(fdfa + " i d i o t " + fdfa) == std::vector<std::string>{"o"});
}

TEST_CASE("Ordinary punctuation and 'ph' build no skeleton, the tricks they resemble do", "[skeleton]") {
    JoinGrams g;
    for (const char *w : {"fuck", "faggot", "shit", "bitch"}) g.add(normalize_literal(w));
    Normalizer n;
    Skeleton k;
    auto builds = [&](const char *text) {
        n.run(text);
        return k.build(n, nullptr, &g);
    };
    // '!', '|' and '+' stand for a letter only inside a word (leet_at)
    CHECK_FALSE(builds("that was great! thanks, see you then"));
    CHECK_FALSE(builds("written in C++ and shipped"));
    CHECK(builds("what a load of sh!t today"));
    CHECK(builds("what a load of sh!!t today"));
    // a mask before a letter, not a footnote or markdown emphasis
    CHECK_FALSE(builds("our strategy* is **bold** here"));
    CHECK(builds("what the f*ck is this"));
    CHECK(builds("you a**hole there"));
    // dotted letters: three or more, not "e.g." or "U.S."
    CHECK_FALSE(builds("some tools, e.g. the U.S. ones"));
    CHECK(builds("well f.u.c.k that then"));
    // "ph" only where the 'f' it reads as stands in a vocabulary word's letters
    CHECK_FALSE(builds("call my phone about the graph and the sphere"));
    CHECK(builds("oh phuck this"));
    CHECK(builds("what a phaggot he is"));
    // a dot or dash inside a word: where the letters around it, and one further where a piece goes
    // on, occur so in a vocabulary word ("itch" of "bitch" around the dash, but no word has "dit" or
    // "dite" there), or the word starts within them ("bullsh-it": "^shi")
    CHECK_FALSE(builds("open the edit-chart tool"));
    CHECK_FALSE(builds("a well-intentioned, cross-functional plan"));
    CHECK(builds("you bit-ch"));
    CHECK(builds("what fu.ck is this"));
    CHECK(builds("such bullsh-it"));
    // a stretched letter beside the split is the word going on
    CHECK(builds("you fuuu.ck"));
    CHECK(builds("you shiii-t"));
    CHECK(builds("you biiit-ch"));
}

TEST_CASE("The skeleton finds the same tricks 16 and 32 bytes at a time", "[skeleton]") {
    JoinGrams g;
    for (const char *w : {"fuck", "faggot", "shit", "bitch", "asshole"}) g.add(normalize_literal(w));
    AtWords at;
    at.add(normalize_literal("ass"));
    // Texts of every length around the block sizes, from bytes that make tricks and ordinary text
    // alike, each place of a trick at every offset of a block.
    const char pieces[][8] = {"a", "b ", "f", "u", "c", "k ", ".", "-", "*", "#", "@", "$", "!", "|", "+", "0",
                              "4", "ph", "phu", "ck ", "sss", " ", "  ", "\t", "e", "i ", "x_", "~", "\xe2\x80\x99", "\xc3\xa9"};
    uint64_t seed = 88172645463325252ull;
    auto next = [&] {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed;
    };
    if (!skeleton_wide_blocks(true)) WARN("no AVX2 here: both builds below take the 16-byte path");
    Normalizer n;
    Skeleton narrow, wide;
    size_t built = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string text;
        const size_t len = next() % 140;
        while (text.size() < len) text += pieces[next() % (sizeof pieces / sizeof pieces[0])];
        n.run(text);
        skeleton_wide_blocks(false);
        const bool a = narrow.build(n, &at, &g);
        skeleton_wide_blocks(true);
        const bool b = wide.build(n, &at, &g);
        REQUIRE(a == b);
        REQUIRE(std::string(narrow.data(), narrow.size()) == std::string(wide.data(), wide.size()));
        built += a;
    }
    CHECK(built > 100);  // (the texts do show tricks)
    CHECK(built < 3000);
}

TEST_CASE("An '@' opening a handle builds no skeleton unless an 'a'-word may start there", "[skeleton]") {
    AtWords at;
    at.add(normalize_literal("ass"));
    at.add(normalize_literal("anal"));
    at.add(normalize_literal("cunt"));  // not an 'a'-word: no effect
    CHECK(at.may_start('s', 'h'));      // "as" (ass) goes on with anything: "@sshole"
    CHECK(at.may_start('n', 'a'));
    CHECK_FALSE(at.may_start('n', 'o'));
    CHECK_FALSE(at.may_start('u', 's'));
    CHECK_FALSE(at.any());
    Normalizer n;
    Skeleton k;
    n.run("thanks @user and @nobody");
    CHECK_FALSE(k.build(n, &at));  // handles: nothing to rebuild
    CHECK(k.build(n, nullptr));     // without the vocabulary every '@' before a letter may be an 'a'
    n.run("what an @nal thing");
    CHECK(k.build(n, &at));
    n.run("@sshole");
    CHECK(k.build(n, &at));
    // a third letter: "@nal" may be "anal" (whose skeleton is "anai": 'l' reads as 'i'), "@nate"
    // may not
    AtWords a3;
    a3.add(normalize_literal("anal"));
    a3.add(normalize_literal("asshat"));
    CHECK(a3.may_start('n', 'a', 'i'));
    CHECK_FALSE(a3.may_start('n', 'a', 't'));
    CHECK(a3.may_start('s', 'h', 'a'));  // "ashat", the skeleton of "asshat" (letters once per run)
    CHECK_FALSE(a3.may_start('s', 'h', 'e'));
    CHECK_FALSE(a3.may_start('n', 'o', 'l'));
    n.run("thanks @nate and @shelby");
    CHECK_FALSE(k.build(n, &a3));
    n.run("thanks @nail");  // "anai", as "anal" reads
    CHECK(k.build(n, &a3));
    n.run("what an @nal thing");
    CHECK(k.build(n, &a3));
    n.run("you @sshat");
    CHECK(k.build(n, &a3));
    n.run("@na and @s");  // no third letter: the two decide, as before
    CHECK(k.build(n, &a3));
    // a word that may go on (a prefix rule's "ass", the skeleton "as") starts any longer token; a
    // whole word only a token as long
    CHECK(at.may_start('s', 'h', 'e'));
    n.run("thanks @shelby");
    CHECK(k.build(n, &at));
    AtWords whole;
    whole.add(normalize_literal("ass"), Boundary::Word);
    CHECK_FALSE(whole.may_start('s', 'h'));
    CHECK_FALSE(k.build(n, &whole));
    n.run("thanks @ss");  // the whole word itself
    CHECK(k.build(n, &whole));
    // and the table survives the compiled form
    uint32_t saved[AtWords::kWords];
    a3.save(saved);
    AtWords back;
    back.load(saved);
    CHECK(back.may_start('n', 'a', 'i'));
    CHECK_FALSE(back.may_start('n', 'a', 't'));
    AtWords short_word;
    short_word.add(normalize_literal("a*"));
    CHECK(short_word.any());  // too short to tell: every '@' may be an 'a'
}

namespace {

const char *kCommitPack = R"(
[words]
speaker = ["we", "i", "our team"]
money = ["refund", "gift card", "credit", "!credit card", "at no charge"]
hedge = ["'t", "not", "may", "whether", "no"]
time = ["by # pm"]
join = ["arrange", "send"]

[[commitment]]
id = "promise.money.give"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["@speaker"]
commit = ["will", "'ll", "can", "'d like to"]
what = ["@money"]
unless = ["@hedge"]
within = 6
match = ["We'll refund you"]
no_match = ["We can't refund you"]

[[commitment]]
id = "promise.timeline.by"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["@speaker"]
commit = ["will", "'ll"]
what = ["@time"]
unless = ["@hedge"]
)";

// The engine's anchor word `word` (Engine::AnchorWord), or nullptr.
const Engine::AnchorWord *anchor_named(const Engine &e, std::string_view word) {
    for (size_t a = 0; a < e.anchor_count(); ++a)
        if (e.anchor(a).word == word) return &e.anchor(a);
    return nullptr;
}

std::string span_of(const std::string &text, const Verdict &v) {
    REQUIRE(v.hits.size() == 1);
    return text.substr(v.hits[0].start, v.hits[0].end - v.hits[0].start);
}

}  // namespace

TEST_CASE("A commitment needs a speaker, a commit word and a deliverable, with no hedge in its clause", "[commitment]") {
    Scan s(kCommitPack);
    std::string t = "Sorry about that. I’d like to send you a gift card as a thank-you.";
    CHECK(span_of(t, s(t, 1)) == "I’d like to send you a gift card");  // from the speaker to the deliverable
    CHECK(s.rules("our team will arrange a refund", 1) == std::vector<std::string>{"promise.money.give"});
    CHECK(s.rules("WE WILL REFUND YOU", 1).size() == 1);
    CHECK(s.rules("we can't refund you", 1).empty());                   // negation in the clause
    CHECK(s.rules("I will ask whether a refund is possible", 1).empty());  // hedge
    CHECK(s.rules("we will update the credit card on file", 1).empty());  // "!credit card" wins over "credit"
    CHECK(s.rules("we will look into it. A refund is up to billing", 1).empty());  // another sentence
    CHECK(s.rules("we will send the forms, then the team will look at everything you sent and a refund", 1).empty());  // too far
    CHECK(s.rules("Sorry it didn't work, but we will refund you", 1).size() == 1);  // hedge in another clause
    CHECK(s.rules("We'll refund you", 0).empty());                     // a member promises nothing
    CHECK(s.rules("goodwill refund", 1).empty());                      // "will" inside a word is no commit word
    // A hedge word inside the deliverable itself does not cancel it; elsewhere in the clause it does.
    CHECK(s.rules("we will send a new one at no charge", 1).size() == 1);
    CHECK(s.rules("we will send no refund", 1).empty());
    // A number ends where letters start: "5pm" is "5" and "pm", as "5 pm" is.
    CHECK(s.rules("we will call you by 5pm", 1) == std::vector<std::string>{"promise.timeline.by"});
    CHECK(s.rules("we will call you by 5 pm", 1).size() == 1);
    CHECK(s.rules("we will call you by 5pmx", 1).empty());
    CHECK(s.rules("we will call you by a5pm", 1).empty());             // not a number: one word
}

TEST_CASE("A run-on sentence of deliverable words is read a bounded way around each commit word", "[commitment]") {
    // (docs/limits.md: kReadAround words either side, and a budget of words per post; the scan of
    // such a post was quadratic, minutes for a megabyte: bench_worstcase deliverable_words_staff)
    Scan s(kCommitPack);
    std::string t = "we will refund you";
    for (int i = 0; i < 20000; ++i) t += " refund";
    CHECK(s.rules(t, 1) == std::vector<std::string>{"promise.money.give"});  // the promise that opens it
    // promises joined by commas, one sentence of 2,400 words: each confirmation reads 193 of them,
    // and the post's budget (4,096 + 8 per byte) runs out before the last ones are read
    std::string joined;
    for (int i = 0; i < 600; ++i) joined += "we will refund you, ";
    const auto &v = s(joined, 1);
    size_t n = 0, last = 0;
    for (const auto &h : v.hits)
        if (s.engine->rules()[h.rule].id == "promise.money.give") ++n, last = std::max<size_t>(last, h.start);
    CHECK(n > 100);
    CHECK(n < 600);
    CHECK(last < joined.size() - 1000);
    // a promise deep inside a sentence longer than what is read around it is still one, and a hedge
    // of its clause still cancels it
    std::string before;
    for (size_t i = 0; i < 2 * kReadAround; ++i) before += "and ";
    CHECK(s.rules(before + "we will refund you", 1).size() == 1);
    CHECK(s.rules(before + "we can't refund you", 1).empty());
}

TEST_CASE("The speaker's own words are no hedge, unless they negate", "[commitment]") {
    const char *rule = R"(
[[commitment]]
id = "promise.timeline.processed"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["your request", "no request", "your *"]
commit = ["will be"]
what = ["processed within # days"]
unless = ["@negation", "request", "possibly"]
within = 2
)";
    // the negations are a [words] list, which @hedge (here: unless) names too
    Scan s(rule, "[words]\nnegation = [\"no\"]\n");
    CHECK(s.rules("Your request will be processed within 3 days", 1).size() == 1);  // "request": the subject
    CHECK(s.rules("No request will be processed within 3 days", 1).empty());      // "no" still hedges
    CHECK(s.rules("Your possibly will be processed within 3 days", 1).empty());   // a "*" of the speaker: checked
    CHECK(s.rules("We will request it, processed within 3 days", 1).empty());
    // a word that hedges (here "no", named directly) but is no negation of the list is skipped in
    // the speaker's phrase like any other of its words
    std::string plain_rule = rule;
    plain_rule.replace(plain_rule.find("\"@negation\""), 11, "\"@negation\", \"no\"");
    Scan plain(plain_rule, "[words]\nnegation = [\"never\"]\n");
    CHECK(plain.rules("No request will be processed within 3 days", 1).size() == 1);
    CHECK(plain.rules("Your request will be processed within 3 days", 1).size() == 1);
    CHECK(plain.rules("Your request will be processed within 3 days no", 1).empty());  // "no" hedges outside it
}

TEST_CASE("Word lists may name other lists, mistakes in them with file:line", "[commitment][rules]") {
    Scan s(kCommitPack, "[words]\nthings = [\"rain check\", \"@more\"]\nmore = [\"snow day\"]\nmoney = [\"@things\"]\n");
    CHECK(s("we will give you a rain check", 1).hits.size() == 1);
    CHECK(s("we will give you a snow day", 1).hits.size() == 1);  // two lists deep
    auto d = errors_of("[words]\na = [\"x\", \"@b\"]\nb = [\"@a\"]\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("leads back to") != std::string::npos);
    d = errors_of("[words]\na = [\"x\"]\nb = [\"y\",\n  \"@missing\"]\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].line == 4);
    CHECK(d[0].message.find("no word list '@missing'") != std::string::npos);
    // lists that grow eightfold at each step stop at a bound, with one mistake
    std::string doubling = "[words]\n";
    for (int k = 0; k < 12; ++k) {
        doubling += "l" + std::to_string(k) + " = [";
        for (int r = 0; r < 8; ++r) doubling += std::string(r ? ", " : "") + "\"@l" + std::to_string(k + 1) + "\"";
        doubling += "]\n";
    }
    doubling += "l12 = [\"x\"]\n";
    d = errors_of(doubling);
    REQUIRE(d.size() == 1);  // once, not once per list that names it
    CHECK(d[0].message.find("phrases in all once the lists named are put in") != std::string::npos);
    // so do lists that name lists deeper than a bound, without a deep recursion
    std::string deep = "[words]\n";
    for (int k = 0; k < 20000; ++k) deep += "d" + std::to_string(k) + " = [\"@d" + std::to_string(k + 1) + "\"]\n";
    deep += "d20000 = [\"x\"]\n";
    d = errors_of(deep);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("more than 16 deep") != std::string::npos);
    d = errors_of("[words]\nnegation = [\"no\", \"'t\", \"isn't\", \"not at all\"]\n");
    REQUIRE(d.size() == 2);
    CHECK(d[0].message.find("'isn't': a negation is one word") != std::string::npos);
    d = errors_of("[words]\nnegation = [\"no\", \"not at all\"]\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("a negation is one word") != std::string::npos);
    d = errors_of("[words]\na = [\"@Bad Name\"]\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("must be lowercase") != std::string::npos);
}

TEST_CASE("A regex may name a word list as {@name}, mistakes in it with file:line", "[rules]") {
    const std::string pack = R"([pack]
name = "p"
category = "abuse.hate"

[words]
groups = ["martians", "@more", "c++ coders"]

[[rule]]
id = "r"
severity = "high"
regex = '''\b({@groups})\s+are\s+vermin\b'''
)";
    // the list as a community extends it in a file of its own, one list naming another
    Scan s(pack, "[words]\nmore = [\"moon people\"]\n");
    CHECK(s("martians are vermin", 0).hits.size() == 1);
    CHECK(s("moon   people are vermin", 0).hits.size() == 1);  // a space in a phrase is any white space
    CHECK(s("c++ coders are vermin", 0).hits.size() == 1);     // other characters as written
    CHECK(s("cxx coders are vermin", 0).hits.empty());
    CHECK(s("venusians are vermin", 0).hits.empty());
    // "*" is one word and "#" a number, as in commitment phrases
    Scan w("[pack]\nname = \"p\"\ncategory = \"spam.promo\"\n[words]\nsale = [\"# % off\", \"buy * now\"]\n"
           "[[rule]]\nid = \"r\"\nseverity = \"low\"\nregex = '''\\b({@sale})'''\n");
    CHECK(w("get 30 % off today", 0).hits.size() == 1);
    CHECK(w("buy shoes now", 0).hits.size() == 1);
    CHECK(w("buy now", 0).hits.empty());
    auto d = errors_of("[words]\ng = [\"x\"]\n[[rule]]\nid = \"r\"\ncategory = \"abuse.hate\"\nseverity = \"high\"\n"
                       "regex = '''\\b{@missing}\\b'''\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].line == 7);
    CHECK(d[0].message.find("no word list '@missing'") != std::string::npos);
    d = errors_of("[[rule]]\nid = \"r\"\ncategory = \"abuse.hate\"\nseverity = \"high\"\nregex = '''x{@Bad}'''\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("must be followed by a list name") != std::string::npos);
    d = errors_of("[words]\ng = [\"x\",\n  \"^y\"]\n[[rule]]\nid = \"r\"\ncategory = \"abuse.hate\"\nseverity = \"high\"\n"
                  "regex = '''\\b{@g}\\b'''\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].line == 3);  // the phrase's own line
    CHECK(d[0].message.find("is for commitment phrases") != std::string::npos);
    // an escaped brace is a brace, not a list
    Scan b("[pack]\nname = \"p\"\ncategory = \"spam.promo\"\n[[rule]]\nid = \"r\"\nseverity = \"low\"\n"
           "regex = '''code\\{@x\\}'''\n");
    CHECK(b("code{@x}", 0).hits.size() == 1);
    // list phrases are matched as posts are normalized: accents and case folded
    Scan a("[pack]\nname = \"p\"\ncategory = \"abuse.hate\"\n[words]\ng = [\"Métèques\", \"Türken\"]\n"
           "[[rule]]\nid = \"r\"\nseverity = \"high\"\nregex = '''\\b{@g}\\s+are\\s+vermin\\b'''\n");
    CHECK(a("métèques are vermin", 0).hits.size() == 1);
    CHECK(a("TÜRKEN are vermin", 0).hits.size() == 1);
    // inside a character class and between \Q and \E, "{@" is two characters
    Scan c("[pack]\nname = \"p\"\ncategory = \"spam.promo\"\n[[rule]]\nid = \"r\"\nseverity = \"low\"\n"
           "regex = '''\\bfoo[{@]bar\\b|\\bbaz\\Q{@x}\\E'''\n");
    CHECK(c("foo@bar", 0).hits.size() == 1);
    CHECK(c("baz{@x}", 0).hits.size() == 1);
    // a mistake in the negation list is reported with the packs' other mistakes
    d = errors_of("[words]\nnegation = [\"not\", \"no way\"]\n[[rule]]\nid = \"r\"\ncategory = \"abuse.hate\"\nseverity = \"high\"\n"
                  "colour = \"red\"\nword = \"x\"\n");
    REQUIRE(d.size() == 2);
    CHECK(d[1].message.find("a negation is one word") != std::string::npos);
}

TEST_CASE("An anchor word counts only where a deliverable it finds stands around it", "[commitment]") {
    Scan s(R"(
[[commitment]]
id = "promise.timeline.coming"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["it", "we"]
commit = ["will be", "will"]
what = ["on the way", "on its way", "any more", "refund", "in # days"]
within = 4
)");
    // "way" finds "on the way" and "on its way", "any" finds "any more" (never "its" or "more",
    // function words): read from the words around them
    const Engine::AnchorWord *way = anchor_named(*s.engine, "way");
    REQUIRE(way);
    CHECK(way->needs_cover);
    CHECK(way->back == 2);
    CHECK(way->ahead == 0);
    CHECK(anchor_named(*s.engine, "its") == nullptr);
    CHECK(anchor_named(*s.engine, "more") == nullptr);
    CHECK(anchor_named(*s.engine, "any") != nullptr);
    CHECK(s.rules("it will be on the way tomorrow", 1).size() == 1);
    CHECK(s.rules("It will be on its \t  way", 1).size() == 1);
    CHECK(s.rules("It will be on its.\nWay", 1).empty());  // (another sentence)
    CHECK(s.rules("it will be on \xF0\x9F\x8E\x81 the way", 1).size() == 1);  // an emoji is no word: the window reads past it
    CHECK(s.rules("it will be any more", 1).size() == 1);
    CHECK(s.rules("it will be more than that", 1).empty());
    CHECK(s.rules("it will be in the way", 1).empty());
    std::string t = "it will ship in 3-5 days";
    CHECK(span_of(t, s(t, 1)) == "it will ship in 3-5 days");
    // more than a few hundred bytes without white space around the anchor: its sentence decides
    t = "it will be on the " + std::string(300, ',') + "way";
    CHECK(s.rules(t, 1).size() == 1);

    // A rule whose deliverable is any word, or any number, is found by its commit phrases, and those
    // count only where they stand too ("paid" of "paid into your": not "into", a function word).
    Scan c(R"(
[[commitment]]
id = "promise.money.sent"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["we", "we've"]
commit = ["paid into your", "sent to you"]
what = ["*"]
within = 0

[[commitment]]
id = "promise.timeline.due-date"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
commit = ["expected date is", "eta is"]
what = ["#"]
within = 1
)");
    const Engine::AnchorWord *paid = anchor_named(*c.engine, "paid"), *number = anchor_named(*c.engine, "#");
    REQUIRE(paid);
    CHECK(paid->needs_cover);
    CHECK(!paid->commit_rules.empty());
    CHECK(anchor_named(*c.engine, "into") == nullptr);
    CHECK(number == nullptr);  // a number alone is no anchor: "expected" and "eta" are
    CHECK(c.rules("we paid into your account", 1) == std::vector<std::string>{"promise.money.sent"});
    CHECK(c.rules("we will look into your account", 1).empty());
    CHECK(c.rules("Your expected date is 27/10/2017", 1) == std::vector<std::string>{"promise.timeline.due-date"});
    CHECK(c.rules("The ETA is 5pm", 1).size() == 1);
    CHECK(c.rules("It is 27/10/2017", 1).empty());

    // A deliverable of numbers and wildcards ("# *") covers the number anchor that another rule's "by #" needs.
    Scan n(R"(
[[commitment]]
id = "r.by"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["we"]
commit = ["will"]
what = ["by #"]

[[commitment]]
id = "r.num"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["we"]
commit = ["will"]
what = ["# *"]
)");
    CHECK(n.rules("we will send 3 boxes", 1) == std::vector<std::string>{"r.num"});
    CHECK(n.rules("we will call by 5 pm", 1).size() == 2);

    // A long commit phrase and an anchor word late in its deliverable: the look back from the anchor
    // word reaches the commit phrase's start (CommitmentMatcher::lead).
    Scan l(R"(
[[commitment]]
id = "r.late"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
commit = ["has been booked in for"]
what = ["in a day or two"]
within = 10
)");
    CHECK(l.rules("It has been booked in for a local driver from our depot to drop it off in a day or two", 1).size() == 1);
}

TEST_CASE("The first look around an anchor word, from the bytes, agrees with the words of its sentence", "[commitment]") {
    // Before a sentence is split into words, the scanner reads the words right beside an anchor word
    // and looks back for a commit word, from the bytes (Scanner::anchor_covered, commit_before); where
    // the bytes are not plain ASCII words it leaves the answer to the sentence. Either way the
    // verdict is the one the sentence's words give.
    Scan s(R"(
[[commitment]]
id = "r.way"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["it", "we"]
commit = ["will be", "'ll be"]
what = ["on the way", "'s way"]
within = 4

[[commitment]]
id = "r.refund"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["we"]
commit = ["will", "'ll"]
what = ["refund"]
within = 2
)");
    const Engine::AnchorWord *way = anchor_named(*s.engine, "way"), *refund = anchor_named(*s.engine, "refund");
    REQUIRE(way);
    REQUIRE(refund);
    CHECK(way->quick);             // each of its phrases names the word before "way"
    CHECK(!refund->quick);         // a word by itself: nothing to look at beside it
    CHECK(refund->commit_back >= 2);
    const std::vector<std::string> way_hit{"r.way"}, refund_hit{"r.refund"}, none;
    CHECK(s.rules("It will be on the way", 1) == way_hit);
    CHECK(s.rules("It\xE2\x80\x99ll be on the way", 1) == way_hit);            // a curly clitic commits
    CHECK(s.rules("It will be on its way", 1) == none);                       // no phrase has "its" there
    CHECK(s.rules("It will be the caf\xC3\xA9's way", 1) == way_hit);          // "'s" after a letter of two bytes
    CHECK(s.rules("It will be the boss\xE2\x80\x99s way", 1) == way_hit);     // "’s"
    CHECK(s.rules("It will be on the \xE2\x80\x9D way", 1) == way_hit);       // a closing quote between
    CHECK(s.rules("It will be on the\xE2\x80\x94way", 1) == way_hit);         // a dash right before it
    CHECK(s.rules("It will be fine. On the way", 1) == none);                 // the commit word is in another sentence
    CHECK(s.rules("It will be on THE way", 1) == way_hit);
    CHECK(s.rules("We will refund it", 1) == refund_hit);
    CHECK(s.rules("We\xE2\x80\x99ll refund it", 1) == refund_hit);
    CHECK(s.rules("We\xE2\x80\x99ll  ,  refund it", 1) == refund_hit);
    CHECK(s.rules("We'll refund it", 1) == refund_hit);
    CHECK(s.rules("We will. Refund it", 1) == none);
    CHECK(s.rules("We will do 2 refund", 1) == refund_hit);                  // a number on the way back
    CHECK(s.rules("We will d\xC3\xA9j\xC3\xA0 refund", 1) == refund_hit);    // a word of two-byte letters
    CHECK(s.rules("We went to a refund", 1) == none);
    CHECK(s.rules("refund", 1) == none);

    // Words of up to 64 bytes are phrase words as the sentence reads them, beside an anchor word and
    // as commit words alike.
    const std::string l1 = "abcdefghijklmnopqrstuvwxyzabcdefgh", l2 = "bcdefghijklmnopqrstuvwxyzabcdefghi";
    Scan lw("[[commitment]]\nid = \"r.long\"\ncategory = \"promise.money\"\nseverity = \"low\"\n"
            "applies_to = \"staff\"\nwho = [\"we\"]\ncommit = [\"will\", \"" + l1 + "\"]\nwhat = [\"" + l1 + " " + l2 +
            "\", \"refund\"]\nwithin = 4\n");
    const std::vector<std::string> long_hit{"r.long"};
    CHECK(lw.rules("We will " + l1 + " " + l2, 1) == long_hit);
    CHECK(lw.rules("We " + l1 + " refund", 1) == long_hit);
}

TEST_CASE("The first look from the bytes changes no verdict of the built-in promise packs", "[commitment]") {
    // Sentences put together at random from the packs' own words, clitics straight and curly, words
    // of two-byte letters, numbers, punctuation and sentence ends, scanned as staff with and without
    // the first look (Scanner::set_first_look): the same hits, with the same spans.
    Sources all = default_sources(), promise;
    for (const SourceFile &f : all.files)
        if (f.path.find("promise") != std::string::npos) promise.files.push_back(f);
    REQUIRE(!promise.files.empty());
    std::vector<Diagnostic> diags;
    auto e = Engine::compile(promise, EngineOptions{}, diags);
    REQUIRE(e);
    Scanner fast(*e), slow(*e);
    slow.set_first_look(false);
    const std::vector<std::string> pieces = {
        "we", "We", "I", "I'll", "I\xE2\x80\x99ll", "we'll", "we\xE2\x80\x99ll", "will", "WILL", "'ll", "be", "it",
        "it's", "it\xE2\x80\x99s", "can", "can't", "can\xE2\x80\x99t", "won't", "not", "may", "have", "'ve", "are",
        "going", "to", "send", "issue", "refund", "Refund", "refunds", "credit", "a", "full", "your", "you", "the",
        "THE", "their", "its", "on", "way", "Way", "more", "any", "support", "fixed", "resolved", "next", "update",
        "release", "today", "tomorrow", "Monday", "by", "within", "in", "2", "3-5", "24", "hours", "days", "5pm",
        "24hrs", "free", "of", "charge", "replacement", "gift", "card", "points", "and", "or", "then", "also",
        "promise", "guarantee", "definitely", "sure", "make", "sorted", "caf\xC3\xA9", "caf\xC3\xA9's",
        "boss\xE2\x80\x99s", "d\xC3\xA9j\xC3\xA0", "x2", "3x", "\xE2\x80\x94", "\xE2\x80\x9D", "\xE2\x80\xA6",
        ",", ".", "!", "?", "(", ")", "'", "\xE2\x80\x99", "-", "\"", "\xF0\x9F\x98\x80", "1,000", "e.g.", "£10"};
    const std::vector<std::string> seps = {" ", " ", " ", " ", "", "  ", ", ", ". ", "\n", "-", "\xE2\x80\x99", "'"};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    auto next = [&](size_t n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return static_cast<size_t>(x % n);
    };
    Verdict a, b;
    size_t with_hits = 0, differ = 0;
    for (int k = 0; k < 20000; ++k) {
        std::string t;
        const size_t n = 3 + next(20);
        for (size_t i = 0; i < n; ++i) {
            if (i) t += seps[next(seps.size())];
            t += pieces[next(pieces.size())];
        }
        fast.scan(t, 1, 0, a);
        slow.scan(t, 1, 0, b);
        auto hits = [](const Verdict &v) {
            std::vector<std::tuple<uint32_t, size_t, size_t>> h;
            for (const auto &x : v.hits) h.emplace_back(x.rule, x.start, x.end);
            std::sort(h.begin(), h.end());
            return h;
        };
        with_hits += !b.hits.empty();
        if (hits(a) != hits(b)) {
            if (++differ <= 5) CHECK(t == "(the same hits with and without the first look)");
        }
    }
    CHECK(differ == 0);
    CHECK(with_hits > 1000);  // (the sentences do reach the rules)
}

TEST_CASE("An \"and\" or \"or\" before a subject of its own starts a clause, a condition's hedge holds across it", "[commitment]") {
    std::string pack = kCommitPack;
    const std::string hedges = "hedge = [\"'t\", \"not\", \"may\", \"whether\", \"no\"]";
    REQUIRE(pack.find(hedges) != std::string::npos);
    pack.replace(pack.find(hedges), hedges.size(),
                 "hedge = [\"'t\", \"not\", \"check\", \"try\", \"if it\", \"unless\", \"once\", \"when\", \"whether\"]");
    Scan s(pack.c_str());
    std::string t = "Let me check with the warehouse and we will refund you.";
    CHECK(span_of(t, s(t, 1)) == "we will refund");                        // "check" hedges the first clause only
    CHECK(s.rules("I'll try the warehouse or I will call you by 5pm", 1) == std::vector<std::string>{"promise.timeline.by"});
    CHECK(s.rules("We will check with the warehouse and refund you", 1).empty());  // no subject: one clause
    // a noun phrase that ends in the speaker's phrase, after "and your", "and the", "and our" ...: the
    // speaker's own check before the "and" (a word of the checking list) hedges only the first clause
    CHECK(s.rules("Let me check the warehouse and our team will refund you", 1).empty());  // (no checking list)
    {
        std::string with_check = pack;
        with_check.replace(with_check.find("join = ["), 0, "checking = [\"check\"]\n");
        Scan sc(with_check.c_str());
        CHECK(sc.rules("Let me check the warehouse and our team will refund you", 1).size() == 1);
        CHECK(sc.rules("We will check the warehouse and our team will refund you by 5 pm", 1).size() == 2);
        CHECK(sc.rules("Check the warehouse and our team will refund you", 1).empty());  // the customer's check
        CHECK(sc.rules("Let me check the warehouse and then our team will refund you", 1).empty());  // no "and" + determiner
        CHECK(sc.rules("Let me check the warehouse and our team will try to refund you", 1).empty());  // its own hedge
        CHECK(sc.rules("We can't check the warehouse and our team will refund you", 1).empty());  // another hedge holds
        CHECK(sc.rules("Let me check whether it shipped and our team will refund you", 1).empty());  // a condition follows
        CHECK(sc.rules("Can you check the warehouse and our team will refund you?", 1).empty());  // a question
        CHECK(sc.rules("If it arrives late and our team will refund you", 1).empty());  // the condition holds across
    }
    CHECK(s.rules("We will check, and we will refund you", 1).size() == 1);   // (a comma: as before)
    {  // "it" with a verb of its own after it starts a clause too ("it" a speaker here, for the test)
        std::string with_it = pack;
        with_it.replace(with_it.find("speaker = [\"we\""), std::strlen("speaker = [\"we\""), "speaker = [\"it\", \"we\"");
        Scan si(with_it.c_str());
        CHECK(si.rules("Let me check the warehouse and it will be there by 5 pm", 1) ==
              std::vector<std::string>{"promise.timeline.by"});
        CHECK(si.rules("Let me check the warehouse and it alone will be there by 5 pm", 1).empty());  // "check" hedges
    }
    // a hedge that starts with a condition, before the "and", holds for the clause after it
    CHECK(s.rules("If it arrives late and we will refund you", 1).empty());
    CHECK(s.rules("If you send it back and we will refund you", 1).size() == 1);  // ("if you" is no hedge here)
    CHECK(s.rules("Unless the courier finds it or we will refund you", 1).empty());
    CHECK(s.rules("Let us know once it closes and we will refund you", 1).empty());
    CHECK(s.rules("Tell us when it arrives and I will refund you", 1).empty());
    CHECK(s.rules("Not sure whether it will arrive or we will refund you", 1).empty());
    CHECK(s.rules("If it arrives late, we will refund you", 1).size() == 1);  // (a comma ends the condition's clause)
    CHECK(s.rules("We can't promise anything and we won't refund you", 1).empty());  // its own negation
    // a condition word that is no hedge of the rule does not cancel, as it would not in one clause
    Scan plain(kCommitPack);
    CHECK(plain.rules("Thanks for telling us when it arrived and we will refund you", 1).size() == 1);
    CHECK(plain.rules("I will check whether it can arrive or we will refund you", 1).empty());
}

TEST_CASE("A speaker's phrase longer than five words still matches", "[commitment]") {
    // (the speaker was looked for at most five words back, so "the annual fee of Rs 499" never matched)
    std::string pack = kCommitPack;
    pack.replace(pack.find("speaker = [\"we\""), std::strlen("speaker = [\"we\""),
                 "speaker = [\"the * * team of our shop\", \"we\"");
    Scan s(pack.c_str());
    std::string t = "The very nice team of our shop will refund you.";
    CHECK(span_of(t, s(t, 1)) == "The very nice team of our shop will refund");
    CHECK(s.rules("The very nice team of our shop may refund you", 1).empty());
}

TEST_CASE("A commit word carries over one \"and\" before a verb that delivers", "[commitment]") {
    Scan s(kCommitPack);  // promise.money.give: the deliverable within 6 words of the commit word
    std::string t = "I will log your feedback for review and arrange a refund.";
    CHECK(span_of(t, s(t, 1)) == "I will log your feedback for review and arrange a refund");
    CHECK(s.rules("I will log your feedback for review, then arrange a refund", 1).empty());  // no "and"
    CHECK(s.rules("we will check the stock with the warehouse and then send you a gift card", 1).size() == 1);
    // the hedge stands in the first verb's words: the whole clause is still read
    CHECK(s.rules("I will ask the billing team whether they agree and arrange a refund", 1).empty());
    // "and" before a noun or a subject joins no verb: the word limit holds
    CHECK(s.rules("we will check your order details and tracking for the missing items refund", 1).empty());
    CHECK(s.rules("we will check your order details and send the missing items refund", 1).size() == 1);
    CHECK(s.rules("we will look at what you sent and the refund", 1).empty());
    CHECK(s.rules("we can either ship the missing items today, or send a gift card", 1).size() == 1);
    CHECK(s.rules("we will check the order with the warehouse and either send a gift card or a refund", 1).size() == 1);
    CHECK(s.rules("we will check the order with the warehouse and either the gift card or a refund", 1).empty());
    // a verb of the join list only: "contact" is not on this pack's
    CHECK(s.rules("we will check your order details and contact the courier about a refund", 1).empty());
    // one "and" only
    CHECK(s.rules("we will check the order and send the forms to the store and arrange a refund", 1).empty());
}

TEST_CASE("The speaker of a first verb carries over an \"and\" to a commit word of its own", "[commitment]") {
    Scan s(kCommitPack);
    std::string t = "Hi Sam, I have checked and will send you a gift card today.";
    CHECK(span_of(t, s(t, 1)) == "I have checked and will send you a gift card");
    CHECK(s.rules("We apologise for the delay and will arrange a refund", 1).size() == 1);
    CHECK(s.rules("we looked into it and then will arrange a refund", 1).size() == 1);
    // the first verb's negation is its own ("can't repair it"), where the packs name their negations;
    // a condition, a doubt or a subject of its own there does not carry the speaker over
    Scan neg(kCommitPack, "[words]\nnegation = [\"'t\", \"not\", \"no\"]\n");
    CHECK(neg.rules("we can't repair it and will arrange a refund instead", 1).size() == 1);
    CHECK(s.rules("we can't repair it and will arrange a refund instead", 1).empty());  // "'t" hedges alone
    CHECK(s.rules("we check whether it shipped and will arrange a refund", 1).empty());
    CHECK(s.rules("we check when it arrives and will arrange a refund", 1).empty());
    CHECK(neg.rules("I'm not sure the team has approved it and will arrange a refund", 1).empty());
    CHECK(s.rules("I hear we have checked and will arrange a refund", 1).empty());
    // the second verb's words still do
    CHECK(s.rules("we have checked and will not arrange a refund", 1).empty());
    // the speaker opens the clause; no speaker, or another clause, or too far
    CHECK(s.rules("the customers complained and will get a refund", 1).empty());
    CHECK(s.rules("we checked, but it shipped and will get a refund", 1).empty());
    CHECK(s.rules("we have looked at every single one of the many orders you placed and will arrange a refund", 1).empty());
    CHECK(s.rules("did we check and will you send a refund?", 1).empty());  // a question
}

TEST_CASE("A verb of checking hedges its own verb, not the verb an \"and\" joins to it", "[commitment]") {
    // kCommitPack with "investigate" and "look into" among its hedges, with and without a checking list
    std::string pack = kCommitPack;
    const std::string hedges = "hedge = [";
    pack.replace(pack.find(hedges), hedges.size(), "hedge = [\"investigate\", \"look into\", ");
    Scan without(pack);
    pack.replace(pack.find("join = ["), 0, "checking = [\"investigate\", \"look\"]\n");
    Scan with(pack);
    const std::string t = "I will investigate the delivery and send you a gift card";
    CHECK(without.rules(t, 1).empty());
    CHECK(with.rules(t, 1) == std::vector<std::string>{"promise.money.give"});
    CHECK(span_of(t, with(t, 1)) == t);
    CHECK(with.rules("We will look into the delivery and arrange a refund", 1).size() == 1);
    // the check alone commits to nothing; nor does a check joined to no verb of the join list
    CHECK(with.rules("I will investigate the refund", 1).empty());
    CHECK(with.rules("I will investigate the delivery and the refund", 1).empty());
    // a condition in the check, or a hedge of its own after it, still hedges the joined verb
    CHECK(with.rules("We will look into whether it shipped and send you a gift card", 1).empty());
    CHECK(with.rules("I will investigate and may send you a gift card", 1).empty());
    // a hedge that is no verb of checking still holds for both
    CHECK(with.rules("We may investigate the delivery and send you a gift card", 1).empty());
    // a condition after the check, anywhere in its sentence, keeps its hedge: "if" ... "whether",
    // and the words of the list `condition`
    CHECK(with.rules("I will investigate the delivery and send you a gift card if it is lost", 1).empty());
    CHECK(with.rules("I will investigate the delivery and send you a gift card once it is found. Thanks", 1).empty());
    const std::string in_case = "I will investigate the delivery and send you a gift card in case it is lost";
    CHECK(with.rules(in_case, 1).size() == 1);
    pack.replace(pack.find("join = ["), 0, "condition = [\"case\"]\n");
    Scan conditions(pack);
    CHECK(conditions.rules(in_case, 1).empty());
    CHECK(conditions.rules(t, 1).size() == 1);
    CHECK(conditions.rules("I will investigate the delivery and send you a gift card. In case of questions, ask", 1).size() == 1);
    // a condition is one word, as a negation is
    std::string two = pack;
    const std::string one = "condition = [\"case\"]";
    two.replace(two.find(one), one.size(), "condition = [\"in case\"]");
    auto d = errors_of(two);
    REQUIRE(d.size() == 1);
    CHECK(d[0].message.find("words.condition: 'in case': a condition is one word") != std::string::npos);
}

TEST_CASE("An exception covers its words, among hedges and deliverables", "[commitment]") {
    Scan s(R"(
[[commitment]]
id = "promise.timeline.when"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["we", "it"]
commit = ["will", "'ll", "will be"]
what = ["soon", "!as soon as", "within # hours"]
unless = ["possible", "!as soon as possible", "may"]
)");
    CHECK(s.rules("we'll reply as soon as possible, within 24 hours", 1).size() == 1);  // "possible" in the exception
    CHECK(s.rules("we'll reply within 24 hours if possible", 1).empty());              // "possible" alone hedges
    CHECK(s.rules("we'll reply as soon as possible, within 24 hours if possible", 1).empty());
    CHECK(s.rules("it will be back soon", 1).size() == 1);
    CHECK(s.rules("it will be updated as soon as we hear", 1).empty());  // "soon" in the exception
}

TEST_CASE("A hedge's exception may run past the words after the deliverable", "[commitment]") {
    Scan s(R"(
[[commitment]]
id = "promise.money.give"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["we"]
commit = ["will", "'ll"]
what = ["replacement", "refund"]
unless = ["no", "!no extra cost", "!no problem", "if"]
)");
    // the clause reads three words past "replacement" ("over at no"): "no" there starts the
    // exception "no extra cost", which ends after them
    CHECK(s.rules("we'll send a replacement over at no extra cost", 1).size() == 1);
    CHECK(s.rules("we'll refund it no problem", 1).size() == 1);
    CHECK(s.rules("we'll refund it no chance", 1).empty());           // "no" alone still hedges
    CHECK(s.rules("we'll send a replacement if it is lost", 1).empty());  // a hedge within them still cancels
    CHECK(s.rules("we'll send a replacement over there, no extra cost, if it is lost", 1).size() == 1);
}

TEST_CASE("A commitment's who \"^\": the commit phrase opens the sentence, or the clause after a greeting", "[commitment]") {
    Scan s(R"(
[[commitment]]
id = "promise.money.give"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["we", "^"]
commit = ["will", "have"]
what = ["refund", "miles"]
unless = ["'t"]
)");
    CHECK(s.rules("Will refund the difference now", 1).size() == 1);
    CHECK(s.rules("Thanks! Have added the miles to your account", 1).size() == 1);  // a new sentence
    CHECK(s.rules("Hi John, will refund you today", 1).size() == 1);    // after a greeting
    CHECK(s.rules("we will refund you", 1).size() == 1);                // the speaker still counts
    CHECK(s.rules("Will you refund me?", 1).empty());                   // a question
    CHECK(s.rules("Will you refund me ?  ", 1).empty());
    CHECK(s.rules("the store will refund you", 1).empty());             // another speaker, mid-clause
    CHECK(s.rules("Well the old member, Tony Moor, will refund", 1).empty());  // not after a short first clause
    CHECK(s.rules("I think the shop, will refund", 1).empty());          // the first clause is too long
}

TEST_CASE("Commitment rules: word lists across files, and mistakes with file:line", "[commitment][rules]") {
    Scan s(kCommitPack, "[words]\nmoney = [\"rain check\"]\n");  // a community's own deliverable
    CHECK(s("we will give you a rain check", 1).hits.size() == 1);

    auto d = errors_of("[[commitment]]\nid = \"x\"\ncategory = \"promise.money\"\nseverity = \"low\"\n"
                       "commit = [\"will\"]\nwhat = [\"@nothing\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 6);
    CHECK(d[0].message.find("no word list '@nothing'") != std::string::npos);
    d = errors_of("[[commitment]]\nid = \"x\"\ncategory = \"promise.money\"\nseverity = \"low\"\nwhat = [\"refund\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].message.find("no commit phrases") != std::string::npos);
    d = errors_of("[[commitment]]\nid = \"x\"\ncategory = \"promise.money\"\nseverity = \"low\"\n"
                  "commit = [\"# days\"]\nwhat = [\"refund\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].message.find("must start with a word") != std::string::npos);
    d = errors_of("[[commitment]]\nid = \"x\"\ncategory = \"promise.money\"\nseverity = \"low\"\n"
                  "commit = [\"will\"]\nwhat = [\"refund\"]\nwithin = 99\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 7);
}

TEST_CASE("Commitment rules: [spellings] match every phrase as posts spell its words too", "[commitment][rules]") {
    Scan s(R"(
[words]
money = ["your refund", "# points"]
[spellings]
your = ["ur", "yr"]
receive = ["recieve"]
[[commitment]]
id = "promise.money.you-get"
category = "promise.money"
severity = "low"
applies_to = "staff"
who = ["you", "u"]
commit = ["will receive", "'ll get"]
what = ["@money"]
unless = ["not"]
)",
           "[spellings]\npoints = [\"pts\"]\nYour = [\"yer\"]\n");  // merged, keys normalized
    auto hits = [&](std::string_view text) { return s(text, 1).hits.size(); };
    CHECK(hits("you will receive your refund") == 1);
    CHECK(hits("U will recieve ur refund tomorrow") == 1);  // three words spelt otherwise at once
    CHECK(hits("you will receive yr refund") == 1);
    CHECK(hits("you will receive yer refund") == 1);       // from the second file
    CHECK(hits("u'll get 500 pts") == 1);
    CHECK(hits("you will not recieve ur refund") == 0);    // the hedge still holds
    CHECK(hits("you will receive our refund") == 0);       // only the listed spellings

    auto d = errors_of("[spellings]\n\"two words\" = [\"x\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 2);
    CHECK(d[0].message.find("must be one word") != std::string::npos);
    d = errors_of("[spellings]\nyour = \"ur\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].message.find("must be an array") != std::string::npos);
    d = errors_of("[spellings]\nyour = [\"ur\",\n  \"@money\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 3);
    CHECK(d[0].message.find("plain words") != std::string::npos);
    d = errors_of("[spellings]\nyour = [\"Your\"]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].message.find("the word itself") != std::string::npos);
    d = errors_of("[spellings]\nrefund = [\" \"]\n");  // a blank spelling would drop the word
    REQUIRE(!d.empty());
    CHECK(d[0].message.find("plain words") != std::string::npos);
    d = errors_of("[spellings]\nyou = [\"^\"]\n");
    REQUIRE(!d.empty());
    d = errors_of("[spellings]\nyou = [\"y#u\"]\n");
    REQUIRE(!d.empty());
    // more than 16 spellings of one word is a mistake at the line of the 17th
    std::string many = "[spellings]\nyou = [\"u1\"";
    for (int k = 2; k <= 17; ++k) many += ",\n\"u" + std::to_string(k) + "\"";
    d = errors_of(many + "]\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 18);
    CHECK(d[0].message.find("more than 16") != std::string::npos);
}

TEST_CASE("Commitment rules: a phrase of several words with [spellings] gets its first 64 spellings", "[commitment][rules]") {
    // 9 x 9 = 81 combinations: the phrase as written and the first 63 others are matched (the last
    // word varies first), the rest are not, and nothing fails to compile
    std::string pack = "[spellings]\naa = [";
    for (int k = 1; k <= 8; ++k) pack += std::string(k > 1 ? ", " : "") + "\"a" + std::to_string(k) + "\"";
    pack += "]\nbb = [";
    for (int k = 1; k <= 8; ++k) pack += std::string(k > 1 ? ", " : "") + "\"b" + std::to_string(k) + "\"";
    pack += "]\n[[commitment]]\nid = \"x\"\ncategory = \"promise.money\"\nseverity = \"low\"\napplies_to = \"staff\"\n"
            "who = [\"we\"]\ncommit = [\"will\"]\nwhat = [\"aa bb\"]\n";
    Scan s(pack);
    CHECK(s.rules("we will aa bb", 1).size() == 1);
    CHECK(s.rules("we will aa b8", 1).size() == 1);
    CHECK(s.rules("we will a6 b8", 1).size() == 1);  // combination 6 x 9 + 8
    CHECK(s.rules("we will a7 bb", 1).size() == 1);  // 7 x 9 + 0: the 64th
    CHECK(s.rules("we will a7 b1", 1).empty());      // the 65th
    CHECK(s.rules("we will a8 b8", 1).empty());
}

TEST_CASE("Phrases compare their words' numbers, looked up once per token and only when asked", "[commitment]") {
    PhraseWords words;
    PhraseSet set;
    REQUIRE(set.add("we'll refund", words));
    REQUIRE(set.add("refund", words));
    REQUIRE(set.add("!refund request", words));
    REQUIRE(set.add("within # days", words));
    CHECK(words.find("but") == PhraseWords::kBut);
    CHECK(words.find("however") == PhraseWords::kHowever);
    // negations come from the [words] list `negation` (patterns/promise/words.toml), one word each,
    // normalized as phrase words are
    CHECK(!words.negation(words.find("no")));
    words.add_negation("no");
    words.add_negation("\xE2\x80\x99t");  // ’t
    words.add_negation("not at all");  // (a phrase: no negation; check-rules reports it)
    CHECK(words.negation(words.find("no")));
    CHECK(words.negation(words.find("'t")));
    CHECK(!words.negation(words.find("not")));
    CHECK(!words.negation(words.find("whether")));
    CHECK(words.find("refund") != Token::kNoWord);
    CHECK(words.find("refunds") == Token::kNoWord);
    const std::string text = "OK, We\xE2\x80\x99LL Refund it within 3-5 days, no refund request needed";
    std::vector<Token> toks;
    tokenize(text.data(), text.size(), toks);
    const Sentence s{text.data(), text.size(), toks, words};
    for (const Token &k : toks) CHECK(k.word == Token::kUnlabelled);
    // "We’LL Refund": case and the curly apostrophe do not matter
    CHECK(set.longest(s, 1, toks.size()) == 3);
    CHECK(toks[1].word == words.find("we"));
    CHECK(toks[2].word == words.find("'ll"));
    CHECK(toks[4].word == Token::kUnlabelled);  // "it", "within": no phrase asked for them yet
    CHECK(toks[5].word == Token::kUnlabelled);
    CHECK(set.longest(s, 4, toks.size()) == 0);
    CHECK(toks[4].word == PhraseWords::kIt);  // (a word the clause rules know, though no phrase has it)
    // the fixed numbers of the words the clause rules read (PhraseWords' constructor adds them in this order)
    const std::pair<const char *, uint32_t> fixed[] = {
        {"but", PhraseWords::kBut}, {"however", PhraseWords::kHowever}, {"and", PhraseWords::kAnd}, {"or", PhraseWords::kOr},
        {"also", PhraseWords::kAlso}, {"then", PhraseWords::kThen}, {"we", PhraseWords::kWe}, {"i", PhraseWords::kI},
        {"they", PhraseWords::kThey}, {"he", PhraseWords::kHe}, {"she", PhraseWords::kShe}, {"if", PhraseWords::kIf},
        {"unless", PhraseWords::kUnless}, {"once", PhraseWords::kOnce}, {"when", PhraseWords::kWhen},
        {"whether", PhraseWords::kWhether}, {"it", PhraseWords::kIt}, {"is", PhraseWords::kItIs},
        {"will", PhraseWords::kItWill}, {"should", PhraseWords::kItShould}, {"has", PhraseWords::kItHas},
        {"'s", PhraseWords::kItS}, {"'ll", PhraseWords::kItLl}, {"either", PhraseWords::kEither}};
    for (const auto &[w, id] : fixed) CHECK(PhraseWords().find(w) == id);
    CHECK(set.longest(s, 5, toks.size()) == 3);  // "within 3-5 days"
    CHECK(set.longest(s, 3, toks.size()) == 1);  // "Refund"
    CHECK(set.longest(s, 9, toks.size()) == 0);  // "refund request": the exception wins
    CHECK(set.exact(s, 5, 8));
    CHECK_FALSE(set.exact(s, 5, 7));
}

TEST_CASE("Of phrases as long, an exception wins, then the first added, a word before a wildcard", "[commitment]") {
    PhraseWords words;
    PhraseSet set;
    REQUIRE(set.add("* credit", words));       // 0
    REQUIRE(set.add("store credit", words));   // 1
    REQUIRE(set.add("store *", words));        // 2
    REQUIRE(set.add("# credits", words));      // 3
    REQUIRE(set.add("!store card", words));    // 4
    REQUIRE(set.add("* card", words));         // 5
    REQUIRE(set.add("store card", words));     // 6
    REQUIRE(set.add("store card fee", words));  // 7
    const std::string text = "a store credit, 5 credits, a store card, one store card fee, a store cheque";
    std::vector<Token> toks;
    tokenize(text.data(), text.size(), toks);
    const Sentence s{text.data(), text.size(), toks, words};
    auto at = [&](std::string_view w, size_t from = 0) {
        for (size_t k = from; k < toks.size(); ++k)
            if (std::string_view(text).substr(toks[k].start, toks[k].end - toks[k].start) == w) return k;
        FAIL("no token " << w);
        return size_t(0);
    };
    uint32_t p = 99;
    size_t vetoed = 0;
    // "store credit": phrases 0, 1 and 2 all cover it; 1 is the first that starts with a word
    CHECK(set.longest(s, at("store"), toks.size(), &p) == 2);
    CHECK(p == 1);
    CHECK(set.longest(s, at("5"), toks.size(), &p) == 2);
    CHECK(p == 3);
    // "store card": the exception (4) wins over 2, 5 and 6, however they were added
    const size_t card = at("store", at("credits"));
    CHECK(set.longest(s, card, toks.size(), &p, &vetoed) == 0);
    CHECK(p == 4);
    CHECK(vetoed == 2);
    // "store card fee": longer than the exception, so it wins
    CHECK(set.longest(s, at("store", card + 1), toks.size(), &p, &vetoed) == 3);
    CHECK(p == 7);
    CHECK(vetoed == 0);
    // a limit that cuts the longer phrase off: the exception again
    CHECK(set.longest(s, at("store", card + 1), at("store", card + 1) + 2, &p, &vetoed) == 0);
    CHECK(vetoed == 2);
    // "store cheque": only the wildcard phrase
    CHECK(set.longest(s, at("cheque") - 1, toks.size(), &p) == 2);
    CHECK(p == 2);
    CHECK(set.exact(s, at("cheque") - 1, at("cheque") + 1));
    // exact() asks whether a phrase covers the words, exceptions aside
    CHECK(set.exact(s, card, card + 2));
    CHECK_FALSE(set.exact(s, card, card + 3));
}

TEST_CASE("Commitments survive serialization, and the tokenizer ends on any bytes", "[commitment][serialize]") {
    auto e = compile_text(kCommitPack);
    REQUIRE(e);
    auto loaded = Engine::deserialize(e->serialize(), EngineOptions{});
    Scanner sc(*loaded);
    Verdict v;
    sc.scan("we will refund you", 1, 0, v);
    CHECK(v.hits.size() == 1);
    // Every lead byte followed by letters: three- and four-byte letters (Hangul, CJK), stray
    // continuation bytes, invalid bytes; each post next to a commit word and a deliverable.
    for (int b = 0x80; b <= 0xFF; ++b) {
        std::string t = "we will refund ";
        t += static_cast<char>(b);
        t += "\x85\xae ok we'll refund";
        sc.scan(t, 1, 0, v);
        CHECK(!v.hits.empty());
    }
    std::vector<Token> toks;
    const std::string words = "we\xE2\x80\x99ll pay 24-48 hrs, can't 5pm";
    tokenize(words.data(), words.size(), toks);
    REQUIRE(toks.size() == 9);
    CHECK((toks[1].flags & Token::kCurly));
    CHECK((toks[3].flags & Token::kNumber));
    CHECK((toks[5].flags & Token::kClause));
    CHECK(((toks[7].flags & Token::kNumber) && toks[7].end - toks[7].start == 1));  // "5"
    CHECK((!(toks[8].flags & Token::kNumber) && toks[8].end - toks[8].start == 2));  // "pm"
}

namespace {
// The tokens of text (tokenize(), left in toks) as they read, joined by sep.
std::string spell_tokens(std::string_view text, std::vector<Token> &toks, const char *sep) {
    tokenize(text.data(), text.size(), toks);
    std::string out;
    char buf[64];
    for (const Token &k : toks) out += (out.empty() ? "" : sep) + std::string(token_text(text.data(), k, buf));
    return out;
}
}  // namespace

TEST_CASE("A Latin-1 sign is no letter: a pound or yen sign stands apart from its number", "[commitment]") {
    std::vector<Token> toks;
    auto spelt = [&](std::string_view text) { return spell_tokens(text, toks, "|"); };
    // £ ¥ ° § « » and × are signs; é, ª and µ are letters, and so are letters of other scripts
    CHECK(spelt("the \xC2\xA3" "10 credit, \xC2\xA5" "500, 20\xC2\xB0, \xC2\xA7" "3 \xC2\xAB" "ok\xC2\xBB 2\xC3\x97" "3") ==
          "the|10|credit|500|20|3|ok|2|3");
    CHECK(spelt("caf\xC3\xA9 \xC2\xAA \xC2\xB5g \xD0\xB4\xD0\xB0") == "caf\xC3\xA9|\xC2\xAA|\xC2\xB5g|\xD0\xB4\xD0\xB0");
    spelt("\xC2\xA3" "10");
    REQUIRE(toks.size() == 1);
    CHECK((toks[0].flags & Token::kNumber));
    REQUIRE(two_byte_letter(reinterpret_cast<const unsigned char *>("\xC3\xA9"), 2, 0));
    CHECK_FALSE(two_byte_letter(reinterpret_cast<const unsigned char *>("\xC2\xA3"), 2, 0));
}

TEST_CASE("A contraction typed without its apostrophe reads as if it had one", "[commitment]") {
    PhraseWords words;
    PhraseSet set;
    REQUIRE(set.add("i 've", words));
    REQUIRE(set.add("you 'll get", words));
    REQUIRE(set.add("can 't", words));
    std::vector<Token> toks;
    auto spelt = [&](std::string_view text) { return spell_tokens(text, toks, " "); };
    CHECK(spelt("ive sent it, youll get it, we cant") == "i 've sent it you 'll get it we can 't");
    CHECK(spelt("IM on it, Dont worry, theyre here") == "i 'm on it don 't worry they 're here");
    // "ill" and "well" only where they open a clause and a word follows
    CHECK(spelt("ill send it. It works well. Well, fine. well cover it") ==
          "i 'll send it it works well well fine we 'll cover it");
    CHECK(spelt("an ill wind") == "an ill wind");
    // other words stay whole, and so does a word already written with its apostrophe
    CHECK(spelt("its id wed were hell shell dont't") == "its id wed were hell shell dont 't");
    const std::string text = "ok ive done it, youll get it and I cant";
    tokenize(text.data(), text.size(), toks);
    const Sentence s{text.data(), text.size(), toks, words};
    CHECK(set.longest(s, 1, toks.size()) == 2);   // "i 've"
    CHECK(set.longest(s, 5, toks.size()) == 3);   // "you 'll get"
    CHECK(set.longest(s, 11, toks.size()) == 2);  // "can 't"
    CHECK(bare_clitic(reinterpret_cast<const unsigned char *>("Youve"), 5, false) == 3);
    CHECK(bare_clitic(reinterpret_cast<const unsigned char *>("well"), 4, false) == 0);
    CHECK(bare_clitic(reinterpret_cast<const unsigned char *>("well"), 4, true) == 2);
    CHECK(bare_clitic(reinterpret_cast<const unsigned char *>("shouldntve"), 10, false) == 0);
}

TEST_CASE("A staff post typed without apostrophes is read as one with them", "[commitment]") {
    auto e = compile_text(kCommitPack);
    REQUIRE(e);
    Scanner sc(*e);
    Verdict a, b;
    sc.scan("ok, well refund you today", 1, 0, a);
    sc.scan("ok, we'll refund you today", 1, 0, b);
    CHECK(a.hits.size() == 1);
    CHECK(b.hits.size() == 1);
    sc.scan("ive arranged a refund", 1, 0, a);  // (no commit word "'ve" in this pack)
    CHECK(a.hits.empty());
    sc.scan("ok so it works well, refund is not needed", 1, 0, a);
    CHECK(a.hits.empty());
    sc.scan("we cant refund you", 1, 0, a);
    sc.scan("we can refund you", 1, 0, b);
    CHECK(a.hits.empty());
    CHECK(b.hits.size() == 1);
}

// ---- the learned scorer (core/model.hpp) ----------------------------------------------------------

namespace {

std::string model_text(std::string_view text) {
    std::vector<ModelWord> w;
    std::string out;
    model_words(text.data(), text.size(), w, &out);
    return out;
}

// A model written for this test: "jerk" and the pair "go away" weigh toward the category, "please" away.
const char *kModelPack = R"(
[[model]]
id = "model.test"
category = "abuse.toxic"
severity = "medium"
weights = "w.model.txt"
threshold = 0.5
match = ["you are a jerk"]
no_match = ["have a nice day", "jerk"]
)";
const char *kModelWeights = "# test weights\nbias -1.0\n3.0\tjerk\n3.0\tgo away\n-1.5\tplease\n";

std::unique_ptr<Engine> compile_model(const std::string &weights, std::vector<Diagnostic> &diags) {
    Sources src;
    src.files.push_back({"p/m.toml", kModelPack});
    src.files.push_back({"p/w.model.txt", weights});
    try {
        return Engine::compile(src, EngineOptions{}, diags);
    } catch (const Error &) {
        return nullptr;
    }
}

}  // namespace

TEST_CASE("A model verdict that rests on one quoted word is a mention, unless a list names the word", "[model]") {
    std::vector<Diagnostic> diags;
    auto e = compile_model(kModelWeights, diags);
    REQUIRE(e);
    Scanner sc(*e);
    Verdict v;
    sc.scan("you are Jerk", 0, 0, v);
    REQUIRE(v.hits.size() == 1);
    // "jerk" alone carries it, and it stands in quotation marks: the word is mentioned
    for (const char *mention : {"you are \"Jerk\"", "you are \xE2\x80\x9CJerk\xE2\x80\x9D", "you are 'jerk'"}) {
        sc.scan(mention, 0, 0, v);
        CHECK(v.hits.empty());
    }
    // a quote on one side only is no quotation
    sc.scan("you are \"Jerk", 0, 0, v);
    CHECK(v.hits.size() == 1);
    // without the quoted word the rest still reaches the threshold: z = -1 + 3 / sqrt(7) > 0
    sc.scan("\"jerk\" just go away", 0, 0, v);
    CHECK(!v.hits.empty());

    // a word that an abuse list names is the list's to judge, quoted or not
    Sources src;
    src.files.push_back({"p/m.toml", kModelPack});
    src.files.push_back({"p/w.model.txt", kModelWeights});
    src.files.push_back({"p/r.toml", "[[rule]]\nid = \"jerk\"\ncategory = \"abuse.harassment\"\nseverity = \"low\"\nword = \"jerk\"\n"});
    auto listed = Engine::compile(src, EngineOptions{}, diags);
    REQUIRE(listed);
    Scanner sl(*listed);
    sl.scan("you are \"Jerk\"", 0, 0, v);
    bool model = false;
    for (const auto &h : v.hits) model |= listed->rules()[h.rule].id == "model.test";
    CHECK(model);
}

TEST_CASE("A model verdict that rests on one word named in code is no insult", "[model]") {
    std::vector<Diagnostic> diags;
    auto e = compile_model(kModelWeights, diags);
    REQUIRE(e);
    Scanner sc(*e);
    Verdict v;
    // a function, a constant, a value, a file, a name in backticks
    for (const char *code : {"you are sys.jerk()", "you are JERK_MAX", "you are TERM=jerk", "you are jerk.c",
                             "you are `jerk`", "you are obj->jerk", "you are jerk_count"}) {
        INFO(code);
        sc.scan(code, 0, 0, v);
        CHECK(v.hits.empty());
    }
    // a sentence's end typed without its space, and ordinary punctuation, are no code
    for (const char *text : {"you are Jerk.Go", "you are so...jerk", "you are jerk. ok", "you are jerk, ok"}) {
        INFO(text);
        sc.scan(text, 0, 0, v);
        CHECK(v.hits.size() == 1);
    }
}

TEST_CASE("The model's words: case, apostrophes, digits, repeats, mentions, links, emoji", "[model]") {
    CHECK(model_text("Don't you DARE") == "dont you dare");
    CHECK(model_text("@bob_1 said sooooo") == "@ said soo");
    // a letter three times in a row, in words of up to eight letters and longer, at either end
    CHECK(model_text("Grrr AAAh zzz yesss abcdeggg abcdefggg abcdefgggh aab abba") ==
          "grr aah zz yess abcdegg abcdefgg abcdefggh aab abba");
    CHECK(model_text("see http://x.example/a?b=1 and www.example.com now") == "see <url> and <url> now");
    CHECK(model_text("in 2017 or 2day") == "in 0 or 0day");
    CHECK(model_text("y\xE2\x80\x99" "all\xE2\x80\x94" "fine \xF0\x9F\x98\x82\xF0\x9F\x98\x82") ==
          "yall fine \xF0\x9F\x98\x82 \xF0\x9F\x98\x82");
    CHECK(model_text("") == "");
    CHECK(model_text("!!! ... ---") == "");
    // posts longer than 64 bytes are read 64 bytes at a time where they are letters and separators:
    // the same words, links, repeats, digits and apostrophes at any place relative to a block
    const std::string lead = "Hello there, friend; this is a rather LONG line. ";
    const std::string lead_words = "hello there friend this is a rather long line";
    for (const char *tail : {"soooo long that http://example.com/x it crosses", "don't you think? Yes 2day @bob wow",
                             "and www.x.org or whatever we want", "zzz abcdefghij Grrr"}) {
        const std::string want = std::string(tail) == "soooo long that http://example.com/x it crosses" ? "soo long that <url> it crosses"
                                 : std::string(tail) == "don't you think? Yes 2day @bob wow"             ? "dont you think yes 0day @ wow"
                                 : std::string(tail) == "and www.x.org or whatever we want"              ? "and <url> or whatever we want"
                                                                                                        : "zz abcdefghij grr";
        for (size_t pad = 0; pad < 70; ++pad) {
            const std::string text = lead + std::string(pad, ' ') + tail + " " + lead;
            CHECK(model_text(text) == lead_words + " " + want + " " + lead_words);
        }
    }
    // offsets are the word's own bytes
    std::vector<ModelWord> w;
    model_words("  hey, you!", 11, w);
    REQUIRE(w.size() == 2);
    CHECK((w[0].start == 2 && w[0].end == 5 && w[1].start == 7 && w[1].end == 10));
    // distinct words, by hash
    model_words("a b a b", 7, w);
    CHECK(model_has_distinct_words(w, 2));
    CHECK(!model_has_distinct_words(w, 3));
    model_words("a b a c", 7, w);
    CHECK(model_has_distinct_words(w, kModelMinWords));
    model_words("", 0, w);
    CHECK(!model_has_distinct_words(w, 1));
    CHECK(model_has_distinct_words(w, 0));
    // a pair's hash is not either word's
    CHECK(model_pair_hash(model_word_hash("go"), model_word_hash("away")) != model_word_hash("go away"));
    // a word hashed where it stands, in any case and any length, has the hash of its canonical form
    for (const char *x : {"Hello", "HELLO", "hello", "Incomprehensibilities", "A", "ab", "Abcdefgh", "Abcdefghi"}) {
        std::string lower(x);
        for (char &c : lower) c = static_cast<char>(c | 0x20);
        for (const std::string &t : {std::string(x), std::string(x) + " tail", "(" + std::string(x) + ")"}) {
            model_words(t.data(), t.size(), w);
            REQUIRE(!w.empty());
            CHECK(w[0].hash == model_word_hash(lower));
        }
    }
    // a word ends where its letters do, on either side of a 16-byte block and at the end of the text
    for (size_t len = 1; len <= 40; ++len)
        for (const char *after : {"", ",", " x", "@y", "9", "\xC3\xA9", "[", "`", "{"}) {
            std::string word;
            for (size_t k = 0; k < len; ++k) word += static_cast<char>((k % 2 ? 'A' : 'a') + k % 7);
            const std::string t = word + after;
            model_words(t.data(), t.size(), w);
            REQUIRE(!w.empty());
            const bool joined = after[0] == '9' || static_cast<unsigned char>(after[0]) >= 0x80;  // "ab9", "abé"
            if (!joined) CHECK(w[0].end == len);
            else CHECK(w[0].end > len);
        }
    // any bytes end: every lead byte at the very end of the text
    for (int b = 0; b < 256; ++b) {
        std::string t = "ab ";
        t += static_cast<char>(b);
        model_words(t.data(), t.size(), w);
        CHECK(!w.empty());
        for (const auto &x : w) CHECK((x.start < x.end && x.end <= t.size()));
    }
}

TEST_CASE("A model table gives every n-gram it holds its own weight, and none to n-grams it does not hold", "[model]") {
    // 60,000 made-up n-grams (more than the default models): with 16-bit tags about one of them
    // read another one's weight, and about one in 70,000 lookups of unknown n-grams borrowed one.
    ModelWeights m;
    m.bias = 0;
    for (int i = 0; i < 30000; ++i) {
        m.ngrams.emplace_back("w" + std::to_string(i), static_cast<float>(1 + i % 97));
        m.ngrams.emplace_back("w" + std::to_string(i) + " v" + std::to_string(i % 131), static_cast<float>(-1 - i % 89));
    }
    ModelTable t({&m});
    REQUIRE(t.size() == m.ngrams.size());
    const float scale = 97.0f / 32767.0f;  // the largest weight's quantum
    size_t wrong = 0;
    for (const auto &[g, x] : m.ngrams) {
        const size_t sp = g.find(' ');
        const uint64_t h = sp == std::string::npos ? model_word_hash(g)
                                                   : model_pair_hash(model_word_hash(g.substr(0, sp)), model_word_hash(g.substr(sp + 1)));
        wrong += std::fabs(t.weight(h, 0) - x) > scale;
    }
    CHECK(wrong == 0);
    size_t borrowed = 0;
    for (int i = 0; i < 1000000; ++i) borrowed += t.weight(model_word_hash("unknown" + std::to_string(i)), 0) != 0.0f;
    CHECK(borrowed == 0);
    // and the same after the table went through its bytes
    std::string bytes;
    t.encode(bytes);
    ModelTable u;
    REQUIRE(u.decode(bytes));
    CHECK(u.weight(model_word_hash("w12345"), 0) == t.weight(model_word_hash("w12345"), 0));
}

TEST_CASE("A [[model]] scores posts, its hits are the words that weighed most, and it survives serialization", "[model]") {
    std::vector<Diagnostic> diags;
    auto e = compile_model(kModelWeights, diags);
    REQUIRE(e);
    REQUIRE(e->model_rules().size() == 1);
    CHECK(e->model_table().size() == 3);
    for (const Engine *eng : {e.get(), Engine::deserialize(e->serialize(), EngineOptions{}).release()}) {
        Scanner sc(*eng);
        Verdict v;
        // z = -1 + (3 + 0 + 0 + 0 + 0) / sqrt(5) > 0: "you are jerk" has 3 words and 2 pairs
        sc.scan("you are Jerk", 0, 0, v);
        REQUIRE(v.hits.size() == 1);
        CHECK((v.hits[0].start == 8 && v.hits[0].end == 12));
        CHECK(v.action == kFlag);
        REQUIRE(v.categories.size() == 1);
        CHECK(v.categories[0].score == 2.0);
        // the pair "go away" carries the post; its two words are the hits
        sc.scan("just go away", 0, 0, v);
        REQUIRE(v.hits.size() == 2);
        CHECK((v.hits[0].start == 5 && v.hits[1].end == 12));
        // a negative weight pulls a post under the threshold
        sc.scan("jerk please please please please", 0, 0, v);
        CHECK(v.hits.empty());
        sc.scan("have a nice day", 0, 0, v);
        CHECK(v.hits.empty());
        sc.scan("", 0, 0, v);
        CHECK(v.hits.empty());
        // offsets are in the original text, across look-alikes the normalizer folds
        sc.scan("you are \xD1\x98\x65rk", 0, 0, v);  // Cyrillic je for 'j'
        REQUIRE(v.hits.size() == 1);
        CHECK((v.hits[0].start == 8 && v.hits[0].end == 13));
        // fewer than kModelMinWords distinct words: the model says nothing, however heavy the word
        // (alone "jerk" would score z = -1 + 3 = 2)
        for (const char *t : {"jerk", "Jerk!", "jerk jerk jerk", "you jerk", "go away", "you jerk you jerk"}) {
            sc.scan(t, 0, 0, v);
            CHECK(v.hits.empty());
        }
        sc.scan("you jerk you", 0, 0, v);  // still two distinct words
        CHECK(v.hits.empty());
        sc.scan("you big jerk", 0, 0, v);  // three: it speaks
        CHECK(v.hits.size() == 1);
        if (eng != e.get()) delete eng;
    }
}

TEST_CASE("A model's hits leave out function words that carried weight, unless nothing else did", "[model]") {
    std::vector<Diagnostic> diags;
    // the pair "is dumb" carries the post: half of its weight to each word
    auto e = compile_model("bias -1.0\n4.0\tis dumb\n3.0\tyou are\n", diags);
    REQUIRE(e);
    Scanner sc(*e);
    Verdict v;
    sc.scan("that idea is dumb", 0, 0, v);
    REQUIRE(v.hits.size() == 1);
    CHECK((v.hits[0].start == 13 && v.hits[0].end == 17));  // "dumb", not "is"
    // written with the curly apostrophe phones type, a function word is one all the same
    auto curly = compile_model("bias -1.0\n3.0\tyou're\n3.0\tfake\n", diags);
    REQUIRE(curly);
    Scanner sc2(*curly);
    sc2.scan("oh you\xE2\x80\x99re fake", 0, 0, v);
    REQUIRE(v.hits.size() == 1);
    CHECK((v.hits[0].start == 12 && v.hits[0].end == 16));  // "fake", not "you’re"
    // only function words weigh anything: the heaviest of them is the hit, so the verdict shows a word
    sc.scan("oh you are there", 0, 0, v);
    REQUIRE(v.hits.size() == 1);
    CHECK((v.hits[0].start == 3 && v.hits[0].end == 6));  // "you" (as heavy as "are", and first)
}

TEST_CASE("A compiled database carries the model's built table, a load reads no weights, and a bad table is refused", "[model][serialize]") {
    std::vector<Diagnostic> diags;
    auto e = compile_model(kModelWeights, diags);
    REQUIRE(e);
    const std::string db = e->serialize();
    auto loaded = Engine::deserialize(db, EngineOptions{});
    REQUIRE(loaded->model_rules().size() == 1);
    CHECK(loaded->rules()[loaded->model_rules()[0]].model == nullptr);  // the weights file was not parsed
    CHECK(loaded->model_table().size() == e->model_table().size());
    for (const char *g : {"jerk", "you", "nice"})
        CHECK(loaded->model_table().weight(model_word_hash(g), 0) == e->model_table().weight(model_word_hash(g), 0));
    const uint64_t pair = model_pair_hash(model_word_hash("go"), model_word_hash("away"));
    CHECK(loaded->model_table().weight(pair, 0) == e->model_table().weight(pair, 0));
    CHECK(loaded->serialize() == db);  // loaded and saved again: the same bytes

    // The table's bytes: they load back; cut, or with a shape no table has, they are refused.
    std::string bytes;
    e->model_table().encode(bytes);
    ModelTable t;
    REQUIRE(t.decode(bytes));
    CHECK(t.size() == e->model_table().size());
    CHECK(!t.decode(std::string_view(bytes).substr(0, bytes.size() - 1)));
    CHECK(t.size() == 0);  // a refused table is left empty
    CHECK(!t.decode(bytes + "x"));
    auto with_word = [&](size_t i, uint64_t x) {
        std::string b = bytes;
        std::memcpy(&b[8 * i], &x, 8);
        return b;
    };
    CHECK(!t.decode(with_word(1, 48)));       // slots: not a power of two
    CHECK(!t.decode(with_word(2, 100000)));   // more taken slots than the table holds
    CHECK(!t.decode(with_word(2, 0)));        // taken slots that the count does not know
    CHECK(!t.decode(with_word(0, 2)));        // two models: more than the bytes hold
    CHECK(!t.decode(with_word(3, 64)));       // a salt no table is built with
    std::string inf = bytes;
    const float infinity = std::numeric_limits<float>::infinity();
    std::memcpy(&inf[32 + 8], &infinity, 4);  // the first model's scale
    CHECK(!t.decode(inf));
}

TEST_CASE("Model mistakes are reported with file:line", "[model][rules]") {
    std::vector<Diagnostic> diags;
    CHECK(!compile_model("bias -1\n3.0 jerk\n", diags));
    REQUIRE(!diags.empty());
    CHECK(diags[0].file == "p/w.model.txt");
    CHECK(diags[0].line == 2);
    diags.clear();
    CHECK(!compile_model("bias x\n", diags));
    REQUIRE(!diags.empty());
    CHECK(diags[0].message.find("bias") != std::string::npos);
    diags.clear();
    CHECK(!compile_model("1.0\tjerk\n", diags));
    REQUIRE(!diags.empty());
    CHECK(diags[0].message.find("no \"bias") != std::string::npos);
    diags.clear();
    CHECK(!compile_model("bias 0\nnan\tjerk\n2\tthree words here\n", diags));
    REQUIRE(diags.size() == 2);
    CHECK((diags[0].line == 2 && diags[1].line == 3));
    auto d = errors_of("[[model]]\nid = \"m\"\ncategory = \"abuse.toxic\"\nseverity = \"low\"\nweights = \"none.txt\"\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 5);
    CHECK(d[0].message.find("cannot read") != std::string::npos);
    d = errors_of("[[model]]\nid = \"m\"\ncategory = \"abuse.toxic\"\nseverity = \"low\"\nthreshold = 2\n");
    REQUIRE(!d.empty());
    CHECK(d[0].line == 5);
}

namespace {

std::vector<std::pair<uint32_t, size_t>> word_hits(const WordMatcher &m, std::string_view text) {
    std::vector<std::pair<uint32_t, size_t>> out;
    m.scan(text.data(), text.size(), [&](uint32_t id, size_t end) { out.emplace_back(id, end); });
    return out;
}

}  // namespace

TEST_CASE("The word matcher finds whole words, word starts and word ends, in order of their end", "[words]") {
    CHECK(WordMatcher::fits("idiot", Boundary::Word));
    CHECK(WordMatcher::fits("ho", Boundary::Word));
    CHECK(WordMatcher::fits("88", Boundary::Word));
    CHECK(WordMatcher::fits("caf\xC3\xA9", Boundary::Word));
    CHECK_FALSE(WordMatcher::fits("ho", Boundary::Prefix));  // a start or an end needs 3 bytes
    CHECK_FALSE(WordMatcher::fits("f off", Boundary::Word));  // two words
    CHECK_FALSE(WordMatcher::fits("n-word", Boundary::Word));
    CHECK_FALSE(WordMatcher::fits("sh_t", Boundary::Word));  // '_' is not part of a word
    CHECK_FALSE(WordMatcher::fits("idiot", Boundary::Any));
    CHECK_FALSE(WordMatcher::fits(std::string(33, 'a'), Boundary::Word));

    WordMatcher m;
    m.add(0, "ho", Boundary::Word);
    m.add(1, "fuck", Boundary::Prefix);
    m.add(2, "ass", Boundary::Suffix);
    m.add(3, "caf\xC3\xA9", Boundary::Word);
    m.add(4, "ho", Boundary::Word);  // a second pattern of the same literal
    m.add(5, "IDIOT", Boundary::Word);  // stored lower-cased, found in any case
    m.add(6, "ass", Boundary::Prefix);
    m.build();
    CHECK(m.has(5));
    CHECK_FALSE(m.has(7));
    using H = std::vector<std::pair<uint32_t, size_t>>;
    CHECK(word_hits(m, "who shows those photos") == H{});  // "ho" inside words
    CHECK(word_hits(m, "ho, HO!") == H{{0, 2}, {4, 2}, {0, 6}, {4, 6}});
    CHECK(word_hits(m, "Fucking dumbASS idiot") == H{{1, 4}, {2, 15}, {5, 21}});
    // "assass": a start of the word and its end, in order of end
    CHECK(word_hits(m, "assass") == H{{6, 3}, {2, 6}});
    CHECK(word_hits(m, "un caf\xC3\xA9 noir") == H{{3, 8}});
    CHECK(word_hits(m, "caf\xC3\xA9s") == H{});  // the word goes on
    CHECK(word_hits(m, "caf\xC3\xA9\xE2\x80\x94ho") == H{{3, 5}, {0, 10}, {4, 10}});  // a dash is no letter
    // words longer than the longest literal: found by their first and last bytes
    const std::string longword = "fuck" + std::string(40, 'x') + "ass";
    CHECK(word_hits(m, longword) == H{{1, 4}, {2, longword.size()}});
    CHECK(word_hits(m, "") == H{});
    CHECK(word_hits(m, "\xFF\xFEho\xC3") == H{{0, 4}, {4, 4}});  // stray bytes bound words too

    // pieces of a word (for commitment anchors): the runs between characters of three bytes, and a
    // run's letters after its digits
    WordMatcher pieces;
    pieces.add(0, "hrs", Boundary::Word);
    pieces.add(1, "we", Boundary::Word);
    pieces.build();
    CHECK(word_hits(pieces, "24hrs") == H{{0, 5}});
    CHECK(word_hits(pieces, "\xE4\xB8\xAD" "24hrs") == H{{0, 8}});
    CHECK(word_hits(pieces, "we\xE4\xB8\xAD" "24hrs\xE4\xB8\xAD") == H{{1, 2}, {0, 10}});
    CHECK(word_hits(pieces, "a24hrs") == H{});  // no number of its own
    // a word with more hits than the pieces' buffer holds: still in order of their end
    WordMatcher many;
    for (uint32_t i = 0; i < 70; ++i) many.add(i, "2ab", Boundary::Prefix);
    many.add(70, "2abcd", Boundary::Word);
    many.build();
    const H got = word_hits(many, "2abcd");
    REQUIRE(got.size() == 71);
    CHECK(std::is_sorted(got.begin(), got.end(), [](const auto &x, const auto &y) { return x.second < y.second; }));
    CHECK(got.back() == std::pair<uint32_t, size_t>{70, 5});

    std::string bytes;
    m.encode(bytes);
    WordMatcher back;
    REQUIRE(back.decode(bytes, 7));
    CHECK(word_hits(back, "Fucking dumbASS idiot") == H{{1, 4}, {2, 15}, {5, 21}});
    CHECK_FALSE(back.decode(bytes, 6));  // a pattern number out of range
    CHECK_FALSE(back.decode(std::string_view(bytes).substr(0, bytes.size() - 1), 7));
    std::string extra = bytes + "x";
    CHECK_FALSE(back.decode(extra, 7));

    // a digit that starts a word (the commitment rules' number anchor), before the word's other hits
    WordMatcher digits;
    digits.add(0, "24", Boundary::Word);
    digits.add(1, "hrs", Boundary::Word);
    digits.add_digit_start(2);
    digits.build();
    CHECK(digits.has(2));
    CHECK(word_hits(digits, "in 24hrs, x5 or 3.5 (7)") == H{{2, 4}, {1, 8}, {2, 17}, {2, 19}, {2, 22}});
    CHECK(word_hits(digits, "24") == H{{2, 1}, {0, 2}});
    CHECK(word_hits(digits, "\xC3\xA9" "5 \xE4\xB8\xAD" "5") == H{});  // inside words of other scripts
    bytes.clear();
    digits.encode(bytes);
    REQUIRE(back.decode(bytes, 3));
    CHECK(word_hits(back, "in 24hrs") == H{{2, 4}, {1, 8}});
    CHECK_FALSE(back.decode(bytes, 2));  // the digit pattern's number out of range
}

TEST_CASE("A word cache gives the word matcher's hits unchanged", "[words]") {
    WordMatcher m;
    m.add(0, "ho", Boundary::Word);
    m.add(1, "fuck", Boundary::Prefix);
    m.add(2, "ass", Boundary::Suffix);
    m.add(3, "fucking", Boundary::Word);
    m.add(4, "idiot", Boundary::Word);
    m.add(5, "idiot", Boundary::Prefix);
    m.add(6, "24", Boundary::Word);
    m.add_digit_start(7);
    m.add(8, "\xD9\x8A\xD9\x8A\xD9\x8A", Boundary::Word);  // a word of three Arabic letters
    m.build();
    WordCache cache;
    cache.clear();
    using H = std::vector<std::pair<uint32_t, size_t>>;
    auto cached = [&](std::string_view text) {
        H out;
        m.scan(text.data(), text.size(), [&](uint32_t id, size_t end) { out.emplace_back(id, end); }, &cache);
        return out;
    };
    // the same words in other cases, places and company: the second look comes from the cache
    const std::string_view texts[] = {
        "Fucking dumbASS idiot, ho!", "ho fucking IDIOTS dumbass", "FUCKING idiot ho 24 24hrs",
        "caf\xC3\xA9 ho idiot", "idiotidiotidiotid idiotidiotidiot",  // 17 bytes (not cached) and 15
        "x FuckingX Fuckin fuck", "ho"};
    for (int round = 0; round < 3; ++round)
        for (std::string_view t : texts) {
            INFO(t);
            CHECK(cached(t) == word_hits(m, t));
        }
    // more hits than the cache keeps: it starts again, and the hits stay the same
    std::string many;
    for (int i = 0; i < 70000; ++i) many += "fuck" + std::to_string(i) + "ass ";
    const H plain = word_hits(m, many);
    CHECK(plain.size() == 140000);
    CHECK(cached(many) == plain);
    CHECK(cached(many) == plain);
    CHECK(cached("dumbass idiot") == H{{2, 7}, {5, 13}, {4, 13}});
    // The cached scan reads words 64 bytes at a time: words that cross a block's end, touch or follow
    // a non-ASCII letter or start with a digit, at every offset, give the hits of the word-by-word scan.
    const std::string_view tails[] = {
        "fucking idiot 24hrs dumbass ho",   "\xC3\xA9" "fuck ass\xC3\xA9 ho",  "l'\xC3\xA9t\xC3\xA9 ho idiot",
        "ho \xE2\x80\x9C" "idiot\xE2\x80\x9D ho", "\xD9\x8A ho \xD9\x8A" "fuck \xD9\x8A\xD9\x8A\xD9\x8A idiot",    "x_fuck-ass.ho 7idiot",
        "idiotidiotidiotidiot ho"};
    for (size_t pad = 0; pad < 80; ++pad)
        for (std::string_view tail : tails) {
            const std::string t = std::string(pad, 'y') + " " + std::string(tail) + " ho";
            INFO(t);
            CHECK(cached(t) == word_hits(m, t));
        }
}

TEST_CASE("Atoms found by words and by Hyperscan meet in either order", "[words]") {
    // "\bpics\b" is found by the word matcher, "zork#" by Hyperscan (not a word): a regex needs both
    Scan s("[[rule]]\nid = \"after\"\ncategory = \"spam.x\"\nseverity = \"low\"\n"
           "regex = '''zork#\\w*.{0,30}\\bpics\\b'''\n"
           "[[rule]]\nid = \"before\"\ncategory = \"spam.y\"\nseverity = \"low\"\n"
           "regex = '''\\bpics\\b.{0,30}zork#'''\n"
           "[[rule]]\nid = \"w\"\ncategory = \"abuse.x\"\nseverity = \"low\"\nwords = [\"idiot\"]\n");
    CHECK(s.engine->word_matcher().size() >= 2);
    CHECK(s.rules("zork#1 has pics") == std::vector<std::string>{"after"});
    CHECK(s.rules("pics at zork#") == std::vector<std::string>{"before"});
    CHECK(s.rules("Pics, zork#7 pics!") == std::vector<std::string>{"before", "after"});
    CHECK(s.rules("epics at zork#").empty());
    s("what an IDIOT");
    REQUIRE(s.v.hits.size() == 1);
    CHECK(s.v.hits[0].start == 8);
    CHECK(s.v.hits[0].end == 13);
    // the anchors of commitment rules are words too, and pieces of words: the word up to a character
    // of three bytes (the commitment stage's words end there), and the letters after a number
    Scan c(kCommitPack);
    CHECK(c.rules("we will refund\xE4\xB8\xAD", 1) == std::vector<std::string>{"promise.money.give"});
    CHECK(c.rules("WE\xE4\xB8\xAD will refund you", 1).size() == 1);  // the speaker's word ends there
    CHECK(c.rules("we\xC3\xA9 will refund you", 1).empty());  // a two-byte letter: "we" goes on, no speaker
    CHECK(c.rules("we will call you by 12pm", 1) == std::vector<std::string>{"promise.timeline.by"});
    CHECK(c.rules("we will call you by 12pmx", 1).empty());
    // and the same from a serialized engine
    auto loaded = Engine::deserialize(s.engine->serialize(), EngineOptions{});
    CHECK(loaded->word_matcher().size() == s.engine->word_matcher().size());
    Scanner sc(*loaded);
    Verdict v;
    sc.scan("Pics, zork#7 pics!", 0, 0, v);
    CHECK(v.hits.size() == 2);
}

TEST_CASE("A database carries its parsed rules: the loader reads them back field by field, and refuses them damaged", "[serialize]") {
    const std::string extra = R"(
[spellings]
your = ["ur", "yr"]

[allow]
as_written = ["shitake"]
words = ["*scunthorpe*"]

[state]
flood_flag = 4
[state.channel."memes"]
duplicate_reject = 0

[[commitment]]
id = "promise.timeline.processed"
category = "promise.timeline"
severity = "low"
applies_to = "staff"
who = ["your request"]
commit = ["will be"]
what = ["processed within # days"]

[[rule]]
id = "card"
category = "pii.card"
severity = "medium"
boundary = "any"
validate = "luhn"
regex = '''\b\d{4}([\s-]?\d{4}){3}\b'''
trigger = '''\d{4}[\s-]?\d{4}'''
match = ["4111 1111 1111 1111"]
no_match = ["1234 5678 9012 3456"]
)";
    Sources s;
    s.files.push_back({"a.toml", std::string(kPack) + kCommitPack});
    s.files.push_back({"b.toml", extra});
    std::vector<Diagnostic> diags;
    auto e = compile_sources(s, &diags);
    INFO((diags.empty() ? std::string() : diags[0].str()));
    REQUIRE(e);
    const std::string db = e->serialize();
    auto loaded = Engine::deserialize(db, EngineOptions{}, /*data_outlives_engine=*/true);
    CHECK(loaded->serialize() == db);

    REQUIRE(loaded->rules().size() == e->rules().size());
    bool saw_commitment = false, saw_example = false;
    for (size_t i = 0; i < e->rules().size(); ++i) {
        const Rule &a = e->rules()[i], &b = loaded->rules()[i];
        INFO(a.id);
        CHECK(b.id == a.id);
        CHECK(b.category == a.category);
        CHECK(b.description == a.description);
        CHECK(b.file == a.file);
        CHECK(b.line == a.line);
        CHECK(b.severity == a.severity);
        CHECK(b.score == a.score);
        CHECK(b.roles == a.roles);
        CHECK(b.boundary == a.boundary);
        CHECK(b.is_regex == a.is_regex);
        CHECK(b.luhn == a.luhn);
        CHECK(b.literals == a.literals);
        CHECK(b.literal_lines == a.literal_lines);
        CHECK(b.literal_boundaries == a.literal_boundaries);
        CHECK(b.words_path == a.words_path);
        CHECK(b.words_from == a.words_from);
        CHECK(b.regex == a.regex);
        CHECK(b.trigger == a.trigger);
        CHECK(b.trigger_line == a.trigger_line);
        REQUIRE(b.examples.size() == a.examples.size());
        for (size_t k = 0; k < a.examples.size(); ++k) {
            CHECK(b.examples[k].text == a.examples[k].text);
            CHECK(b.examples[k].should_match == a.examples[k].should_match);
            CHECK(b.examples[k].line == a.examples[k].line);
            saw_example = true;
        }
        CHECK(b.is_commitment == a.is_commitment);
        CHECK(b.commitment.who == a.commitment.who);
        CHECK(b.commitment.commit == a.commitment.commit);
        CHECK(b.commitment.what == a.commitment.what);
        CHECK(b.commitment.unless == a.commitment.unless);
        CHECK(b.commitment.what_lines == a.commitment.what_lines);
        CHECK(b.commitment.within == a.commitment.within);
        saw_commitment = saw_commitment || a.is_commitment;
    }
    CHECK(saw_commitment);
    CHECK(saw_example);
    // the [spellings] were put into the phrases when the packs were parsed: the loaded phrases have them
    bool spelt = false;
    for (const Rule &r : loaded->rules())
        for (const std::string &w : r.commitment.who) spelt = spelt || w == "ur request";
    CHECK(spelt);
    REQUIRE(loaded->allow_entries().size() == e->allow_entries().size());
    for (size_t i = 0; i < e->allow_entries().size(); ++i) {
        CHECK(loaded->allow_entries()[i].text == e->allow_entries()[i].text);
        CHECK(loaded->allow_entries()[i].as_written == e->allow_entries()[i].as_written);
        CHECK(loaded->allow_entries()[i].boundary == e->allow_entries()[i].boundary);
    }
    REQUIRE(loaded->categories().size() == e->categories().size());
    for (size_t i = 0; i < e->categories().size(); ++i) {
        CHECK(loaded->categories()[i].name == e->categories()[i].name);
        CHECK(loaded->categories()[i].route == e->categories()[i].route);
        CHECK(loaded->categories()[i].hold == e->categories()[i].hold);
    }
    CHECK(loaded->state_policy().defaults.flood_flag == 4);
    REQUIRE(loaded->state_policy().channels.size() == 1);
    CHECK(loaded->state_policy().channels[0].first == "memes");
    CHECK(loaded->state_policy().channels[0].second.duplicate_reject == 0);
    CHECK(loaded->state_policy().channels[0].second.flood_flag == 4);
    for (const char *text : {"We'll refund you", "you are an idiot", "4111 1111 1111 1111", "shitake", "fucking hell",
                             "ur request will be processed within 3 days"})
        for (int role : {0, 1}) {
            Verdict v1, v2;
            Scanner(*e).scan(text, role, 0, v1);
            Scanner(*loaded).scan(text, role, 0, v2);
            INFO(text);
            REQUIRE(v1.hits.size() == v2.hits.size());
            for (size_t k = 0; k < v1.hits.size(); ++k) CHECK(v1.hits[k].rule == v2.hits[k].rule);
        }

    // A byte of the rules changed, with the file's own length and checksum made right again (as a
    // forger would): the rules' own checksum refuses them. The last "promise.timeline.by" of the
    // file is the rules' copy (the packs' text comes first; Hyperscan's bytecode holds no rule ids).
    std::string bad = db;
    const size_t at = bad.rfind("promise.timeline.by");
    REQUIRE(at != std::string::npos);
    REQUIRE(at > db.find("promise.timeline.by"));
    bad[at] = 'P';
    size_t p = 16;  // magic, format, library; then three strings (Hyperscan, platform, Unicode)
    for (int k = 0; k < 3; ++k) {
        uint64_t n;
        std::memcpy(&n, bad.data() + p, 8);
        p += 8 + n;
    }
    const uint64_t sum = XXH64(bad.data() + p + 16, bad.size() - p - 16, 0);
    std::memcpy(&bad[p + 8], &sum, 8);
    auto refused = [](const std::string &bytes) {
        try {
            Engine::deserialize(bytes, EngineOptions{});
            return std::string("loaded");
        } catch (const Error &err) {
            return err.status == kBadDatabase ? err.message : "status " + std::to_string(err.status);
        }
    };
    CHECK(refused(bad).find("rules inside the database are damaged") != std::string::npos);

    // Rules whose own checksum was forged too, with a value the packs could not hold (a second
    // rule "card": ids are unique): refused all the same, by the ranges parse_rules checks.
    bad = db;
    const std::string id(std::string("\x04\0\0\0\0\0\0\0", 8) + "dick");
    const size_t id_at = bad.find(id);
    REQUIRE(id_at != std::string::npos);
    bad.replace(id_at + 8, 4, "card");
    size_t q = p + 16;  // the payload: u32 file count, (path, content) per file, then the rules
    uint32_t nfiles;
    std::memcpy(&nfiles, bad.data() + q, 4);
    q += 4;
    for (uint32_t f = 0; f < 2 * nfiles; ++f) {
        uint64_t n;
        std::memcpy(&n, bad.data() + q, 8);
        q += 8 + n;
    }
    uint64_t rules_len;
    std::memcpy(&rules_len, bad.data() + q, 8);
    REQUIRE(id_at > q);
    REQUIRE(id_at < q + 8 + rules_len);
    const uint64_t rules_sum = XXH64(bad.data() + q + 8, rules_len - 8, 0x6D66);
    std::memcpy(&bad[q + 8 + rules_len - 8], &rules_sum, 8);
    const uint64_t file_sum = XXH64(bad.data() + p + 16, bad.size() - p - 16, 0);
    std::memcpy(&bad[p + 8], &file_sum, 8);
    CHECK(refused(bad).find("rules inside the database are damaged") != std::string::npos);
    // (the same forging with a harmless change loads: the refusal above is the ranges' doing)
    bad.replace(id_at + 8, 4, "dicj");
    const uint64_t rules_sum2 = XXH64(bad.data() + q + 8, rules_len - 8, 0x6D66);
    std::memcpy(&bad[q + 8 + rules_len - 8], &rules_sum2, 8);
    const uint64_t file_sum2 = XXH64(bad.data() + p + 16, bad.size() - p - 16, 0);
    std::memcpy(&bad[p + 8], &file_sum2, 8);
    CHECK(refused(bad) == "loaded");
}

TEST_CASE("A database keeps the packs' thresholds, whatever options the engine that wrote it had", "[serialize]") {
    Sources s;
    s.files.push_back({"a.toml", kPack});
    EngineOptions high;
    high.flag = 100;
    high.hold = 200;
    high.reject = 300;
    std::vector<Diagnostic> diags;
    auto e = Engine::compile(s, high, diags);
    REQUIRE(e);
    Scanner sc(*e);
    Verdict v;
    sc.scan("I will kill you", 0, 0, v);
    CHECK(v.action == kAllow);  // 8 < 100
    auto loaded = Engine::deserialize(e->serialize(), EngineOptions{});
    Scanner sl(*loaded);
    sl.scan("I will kill you", 0, 0, v);
    CHECK(v.action == kReject);  // the packs' reject = 8
}

TEST_CASE("Quoted text: '>' lines, [quote] and <blockquote> spans, and whether the post has words of its own", "[quotes]") {
    std::vector<std::pair<size_t, size_t>> q;
    CHECK(quoted_spans("no quote here", q));
    CHECK(q.empty());
    std::string t = "> a quoted line\r\nmy reply";
    CHECK(quoted_spans(t, q));
    REQUIRE(q.size() == 1);
    CHECK(t.substr(q[0].first, q[0].second - q[0].first) == "> a quoted line");
    t = "  >> nested\n> more";
    CHECK_FALSE(quoted_spans(t, q));  // nothing of its own
    CHECK(q.size() == 2);
    CHECK_FALSE(quoted_spans("> x\nok \u200b\u00a0\U0001F600", q));  // one word of its own, and no letters
    CHECK(quoted_spans("> x\nnot ok", q));
    CHECK(quoted_spans("> x\nпривет мир", q));  // words of any script
    t = "[QUOTE=\"bob, post:3, topic:7\"]outer [quote]inner[/quote] still outer[/Quote] mine too";
    CHECK(quoted_spans(t, q));
    REQUIRE(q.size() == 1);
    CHECK(t.substr(q[0].first, q[0].second - q[0].first) ==
          "[QUOTE=\"bob, post:3, topic:7\"]outer [quote]inner[/quote] still outer[/Quote]");
    t = "<blockquote class=\"x\">said</blockquote>";
    CHECK_FALSE(quoted_spans(t, q));
    REQUIRE(q.size() == 1);
    CHECK(q[0] == std::make_pair(size_t(0), t.size()));
    // an opening tag never closed, and tags that only look alike, quote nothing
    CHECK(quoted_spans("[quote]never closed", q));
    CHECK(q.empty());
    CHECK(quoted_spans("[quoted] <blockquotes> [/quote] a -> b", q));
    CHECK(q.empty());
}

TEST_CASE("A rule whose every hit is quoted counts for [policy] quoted_weight of its score", "[quotes]") {
    Scan s(kPack);
    CHECK(s("you cunt").action == kHold);                                // high: 4
    CHECK(s("> you cunt\nNot ok here, reported.").action == kFlag);     // quoted: 2
    REQUIRE(s.v.hits.size() == 1);
    CHECK(s.v.hits[0].quoted);
    CHECK(s("[quote=\"bob\"]you cunt[/quote] not ok").action == kFlag);
    CHECK(s("<blockquote>you cunt</blockquote>not ok").action == kFlag);
    CHECK(s("> you cunt").action == kHold);                              // the quote is all it says
    CHECK(s("> you cunt\nok").action == kHold);                         // one word of its own is not a reply
    CHECK(s("> you cunt\n\u200b \U0001F600 !!").action == kHold);        // nor invisible characters, emoji, marks
    CHECK(s("[quote]you cunt\nnot ok").action == kHold);                 // never closed: not a quote
    CHECK(s("> you cunt\nand you cunt too").action == kHold);           // also outside the quote
    REQUIRE(s.v.hits.size() == 2);
    CHECK(s.v.hits[0].quoted);
    CHECK_FALSE(s.v.hits[1].quoted);
    // a critical rule counts whole: quote markup is anyone's to write
    CHECK(s("> I will kill you\nReported to the mods.").action == kReject);
    CHECK(s.v.hits[0].quoted);
    // the weight is the packs' to set, from 0 (a quoted rule marks its category with no score) to 1
    Scan all(std::string(kPack).replace(std::string(kPack).find("reject = 8\n"), 11, "reject = 8\nquoted_weight = 1\n"));
    CHECK(all("> you cunt\nNot ok here.").action == kHold);
    Scan none(std::string(kPack).replace(std::string(kPack).find("reject = 8\n"), 11, "reject = 8\nquoted_weight = 0\n"));
    CHECK(none("> you cunt\nNot ok here.").action == kAllow);
    REQUIRE(none.v.categories.size() == 1);
    CHECK(none.v.categories[0].score == 0.0);
    auto d = errors_of("[policy]\nquoted_weight = 2\n");
    REQUIRE(!d.empty());
    CHECK(d[0].str().find("test.toml:2:") == 0);
    CHECK(d[0].str().find("quoted_weight") != std::string::npos);
    // thresholds out of order: at the line of the last one given, with the values
    d = errors_of("[policy]\nflag = 2\nhold = 9\nreject = 8\n\n[[rule]]\nid = \"x\"\ncategory = \"spam.x\"\nseverity = \"low\"\nword = \"zorb\"\n");
    REQUIRE(d.size() == 1);
    CHECK(d[0].str().find("test.toml:4: [policy] thresholds must satisfy flag <= hold <= reject (here flag 2, hold 9, reject 8)") == 0);
}

TEST_CASE("Scoring quoted hits stays linear in a post of 200,000 quoted lines", "[quotes]") {
    Scan s(kPack);
    std::string t;
    for (int i = 0; i < 200000; ++i) t += ">\n";
    for (int i = 0; i < 500; ++i) t += "> you cunt\n";
    t += "not ok here";
    CHECK(s(t).action == kFlag);
    CHECK(s.v.hits.size() == 500);
    for (const auto &h : s.v.hits) CHECK(h.quoted);
}
