// The scanner: per-thread scratch that takes one post through the stages (core/scanner.cpp says
// which), each stage's state kept between posts so that the steady state allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine.hpp"
#include "normalize.hpp"
#include "skeleton.hpp"
#include "verdict.hpp"

struct hs_scratch;

namespace mf {

// A stretch of a post to run one variable database over.
struct Window {
    uint32_t group, lo, hi;
    bool operator<(const Window &o) const { return group != o.group ? group < o.group : lo < o.lo; }
};

class Scanner {
public:
    explicit Scanner(const Engine &e);
    ~Scanner();
    Scanner(const Scanner &) = delete;
    Scanner &operator=(const Scanner &) = delete;

    // Scans one post into v (a batch of one). role: 0 member, 1 staff. Throws Error on a limit or a
    // failure, and v is then empty (reset with no engine).
    void scan(std::string_view text, int role, uint32_t flags, Verdict &v);

    // A post of a batch: its text, role and flags as scan() takes them, and where its verdict goes.
    struct BatchPost {
        std::string_view text;
        int role = 0;
        uint32_t flags = 0;
        Verdict *verdict = nullptr;
    };
    // Scans posts[0, n) into their verdicts, the same verdicts as scan() one by one, but a few posts
    // at a time stage by stage (kLanes posts normalized and matched, then their windows confirmed,
    // then their skeletons, then the learned scorer), so that each stage's tables and databases
    // are still in the cache for the next post. done(i) is called for each post in order as soon
    // as its verdict is complete, while normalized() is that post's; it may throw. Returns n, or
    // the index of the first post whose scan (or done) threw, with the exception in *error: the
    // posts before it are done, it and the posts after it are not (their verdicts untouched, except
    // that the failed post's verdict is reset).
    template <class Done>
    size_t scan_batch(const BatchPost *posts, size_t n, Done &&done, std::exception_ptr *error) {
        auto call = [](void *ctx, size_t i) { (*static_cast<std::remove_reference_t<Done> *>(ctx))(i); };
        return scan_batch_impl(posts, n, call, &done, error);
    }
    static constexpr size_t kLanes = 32;
    static constexpr size_t kLaneKeepBytes = 64 * 1024;

    const Engine &engine() const { return e_; }
    // Whether the commitment stage first reads the words around an anchor word from the bytes
    // (anchor_covered's neighbours, commit_before) before it splits the sentence into words. The
    // verdicts are the same either way, only slower without; tests compare the two.
    void set_first_look(bool on) { first_look_ = on; }
    // The last scanned post's normalized text (core/normalize.hpp), for the state stage's fingerprints.
    // Valid until the next scan, and as long as the post's own text when it was ASCII.
    std::string_view normalized() const { return {p_->text ? p_->text : "", p_->len}; }
    // Set by the C API for the length of a call, so that a second thread is refused, not let in.
    std::atomic<bool> busy{false};

    // Where scan_batch's time goes, stage by stage (bench/bench_stages): seconds added to
    // seconds[stage] while set (nullptr, the default: nothing is measured, one branch per stage and
    // batch of kLanes posts). Each stage runs for all the posts of a lane batch at once, so a stage's
    // time is measured over kLanes posts, not per post.
    struct StageTimes {
        static constexpr size_t kStages = 8;
        static constexpr const char *kNames[kStages] = {"normalize", "words", "main", "windows",
                                                        "commit",    "skeleton", "model", "score"};
        double seconds[kStages] = {};
    };
    void set_stage_times(StageTimes *t) { stage_times_ = t; }

private:
    // match and confirm: Hyperscan callbacks, for the main database (literals, triggers), a probe,
    // a group database over a window, and the skeleton database
    static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
    static int on_main_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
    void word_hits_until(size_t to);  // passes on_match the word matcher's hits that end by `to`
    static int on_probe_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
    static int on_window_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
    static int on_som_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
    static int on_skeleton_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void *ctx);
    static int add_raw(Scanner *s, const Pattern &p, size_t from, size_t to, uint32_t ev, size_t core_from = SIZE_MAX,
                       size_t core_to = 0);
    size_t scan_batch_impl(const BatchPost *posts, size_t n, void (*done)(void *, size_t), void *ctx,
                           std::exception_ptr *error);
    // The stages, each over the post p_ points at. begin() normalizes and resets it (false: empty).
    bool begin(std::string_view text, int role);
    void match_words();                // the word matcher: its hits, for match()
    void match();                      // the main database and the word matcher's hits: hits, windows, anchors
    void confirm_windows();            // the regex groups over their windows
    void match_skeleton();             // word lists over the skeleton, where the post shows a trick
    void confirm_commitments();        // the anchors of [[commitment]] rules, over the post's words
    bool anchor_covered(const Engine::AnchorWord &aw, size_t start);  // a deliverable of aw's around its word at start
    bool commit_before(const Engine::AnchorWord &aw, size_t start) const;  // a commit word of its rules before it
    void apply_models();               // the learned scorer's [[model]] rules, over the post's words
    bool rests_on_a_mentioned_word(size_t m, size_t top, double p, double threshold) const;  // (after model_carried)
    void score(std::string_view text, uint32_t flags, Verdict &v);  // raw matches -> the verdict

    const Engine &e_;
    hs_scratch *scratch_ = nullptr;
    // Whether scratch_ fits a database that a loaded engine may deserialize late: the skeleton's
    // (slot 0), then per group its database (1 + 2g) and its probe (2 + 2g).
    std::vector<uint8_t> scratch_ready_;
    hs_database *ready(const LazyDatabase &db, size_t slot);  // db.get(), with scratch_ grown to fit

    // match: raw matches, in original offsets
    struct Raw {
        uint32_t rule;  // rule index, or allow entry index when allow is set
        bool allow;
        uint32_t evasion;
        size_t from, to;  // original bytes
        // The bytes the pattern itself matched, before a root found inside a word was widened to
        // the word (Boundary::Any literals): an allowed word must hold these, not the whole word.
        size_t core_from, core_to;
    };
    // What a post carries from stage to stage; the other members below are each stage's own
    // scratch, used within one stage of one post. scan() uses posts_[0]; scan_batch() one per
    // post in flight.
    struct PostState {
        // normalize
        Normalizer norm;
        const char *text = nullptr;  // the normalized text
        size_t len = 0;
        uint8_t role_bit = 0;
        // match: the word matcher's hits (pattern, end), handed to on_match in order with the main
        // database's
        std::vector<std::pair<uint32_t, uint32_t>> word_hits;
        size_t next_word_hit = 0;
        std::vector<Raw> raw;
        bool overflow = false;
        std::vector<uint32_t> overflow_rules;
        std::vector<uint8_t> overflow_seen;  // per rule: 1 when it is in overflow_rules
        // confirm: where to run which group database
        std::vector<Window> windows;
        std::vector<uint32_t> group_last;  // per group: 1 + index of its last window, 0 for none
        bool whole_text = false;           // too many windows: run every group database everywhere
        size_t gate_budget = 0;            // bytes the gates may still read (Scanner::gate_refuses)
        // words the commitment stage may still read (Scanner::confirm_commitments): each commit word
        // it confirms reads its sentence, at most kReadAround words either side, and a post made of
        // deliverable words in one endless sentence would otherwise cost hundreds of times what
        // prose does per byte
        size_t confirm_budget = 0;
        // commitments: anchors found by the main pass (start, anchor word)
        std::vector<std::pair<uint32_t, uint32_t>> anchors;
        // batch: the post's verdict and what its scan threw
        const BatchPost *post = nullptr;
        std::exception_ptr error;
    };
    std::vector<PostState> posts_;
    PostState *p_ = nullptr;  // the post in the stage being run
    PostState &new_post_state();
    PostState &init_post_state(PostState &p);
    size_t raw_cap_ = 0;

    WordCache word_cache_;  // the word matcher's hits of the words this scanner has met

    // confirm: the post's windows merged per group and widened to word boundaries
    std::vector<Window> group_windows_;
    struct Seen {
        uint32_t epoch = 0, start = 0, end = 0;
    };
    std::vector<Seen> seen_;  // per variable pattern and atom set: the last trigger in this post
    // Per variable pattern with gates (Engine::gates_pass): how often this scanner looked at them,
    // and how often they turned a window down. Gates that seldom do (an abuse rule's "you" in
    // tweets, where most windows have one) are looked at only now and then: the looks would cost
    // more than the probes they save. Verdicts do not depend on it, only the time a post takes.
    struct GateStat {
        uint32_t looks = 0, refusals = 0, skipped = 0;
    };
    std::vector<GateStat> gate_stat_;
    bool gate_refuses(uint32_t var, size_t lo, size_t hi);
    uint32_t scan_epoch_ = 0;
    size_t win_off_ = 0;       // offset of the window being scanned

    // commitments: the words of the sentence being looked at
    std::vector<Token> tokens_;
    bool first_look_ = true;
    StageTimes *stage_times_ = nullptr;
    std::vector<Token> near_;  // the words around an anchor (anchor_covered)
    std::vector<int32_t> token_commit_;  // per token of the sentence: its word when it starts a commit phrase, or -1
    std::vector<int32_t> prev_commit_;   // per token: the last token at or before it with a commit word, or -1
    std::vector<int32_t> prev_join_;     // per token: the last "and"/"or" at or before it that joins a verb, or -1

    // skeleton
    Skeleton skel_;

    // models: the post's words as the learned scorer reads them, the weight each carried
    std::vector<ModelWord> model_words_;
    NgramSet ngrams_;
    std::vector<double> model_p_;
    std::vector<float> carried_;

    // score
    std::vector<uint32_t> rule_epoch_;
    uint32_t epoch_ = 0;
    std::vector<double> cat_score_;
    std::vector<uint32_t> touched_;
    std::vector<std::pair<size_t, size_t>> quotes_;  // score(): the post's quoted spans (core/quotes.hpp)
    std::vector<uint32_t> unquoted_;                 // score(): rules with a hit outside them
    std::vector<std::pair<uint32_t, uint32_t>> allow_;
    std::vector<uint8_t> mask_;
};

}  // namespace mf
