// Rule-pack parser: arbitrary TOML text through mf_engine_options.rules_text. Either an engine is
// built (and then scans, and survives a serialize/deserialize round trip with the same verdicts), or
// MF_E_RULES with "<memory>.toml:LINE: message" in mf_last_error().
#include "fuzz_common.hpp"

namespace {
// "<memory>.toml:LINE: message" with LINE >= 1 and a non-empty message.
bool is_diagnostic(const char *m) {
    static const char prefix[] = "<memory>.toml:";
    if (std::strncmp(m, prefix, sizeof prefix - 1) != 0) return false;
    m += sizeof prefix - 1;
    if (*m < '1' || *m > '9') return false;
    while (*m >= '0' && *m <= '9') ++m;
    return m[0] == ':' && m[1] == ' ' && m[2] != 0;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mf_engine_options o = MF_ENGINE_OPTIONS_INIT;
    o.rules_text = size ? reinterpret_cast<const char *>(data) : "";
    o.rules_text_len = size;
    mf_engine *e = nullptr;
    mf_status st = mf_engine_create(&e, &o);
    if (st != MF_OK) {
        FUZZ_CHECK(e == nullptr, "engine returned on failure");
        FUZZ_CHECK(st == MF_E_RULES, "status %s (%s)", mf_status_str(st), mf_last_error());
        FUZZ_CHECK(is_diagnostic(mf_last_error()), "error without file:line: %s", mf_last_error());
        return 0;
    }
    mf_scanner *sc = nullptr;
    mf_verdict *v = nullptr, *v2 = nullptr;
    FUZZ_CHECK(mf_scanner_create(&sc, e) == MF_OK && mf_verdict_create(&v) == MF_OK &&
                   mf_verdict_create(&v2) == MF_OK,
               "scanner: %s", mf_last_error());
    const std::string probe(reinterpret_cast<const char *>(data), size);
    FUZZ_CHECK(mf_scan_text(sc, v, probe.data(), probe.size(), MF_ROLE_STAFF) == MF_OK, "scan: %s", mf_last_error());
    fuzz::check_verdict(v, probe.size(), 1024);
    std::string first = mf_verdict_json(v, nullptr);

    char *db = nullptr;
    size_t dblen = 0;
    FUZZ_CHECK(mf_engine_serialize(&db, &dblen, e) == MF_OK, "serialize: %s", mf_last_error());
    mf_engine *e2 = nullptr;
    st = mf_engine_deserialize(&e2, db, dblen, nullptr);
    FUZZ_CHECK(st == MF_OK, "a database just serialized does not load: %s", mf_last_error());
    mf_free(db);
    FUZZ_CHECK(mf_engine_rule_count(e2) == mf_engine_rule_count(e), "rule count differs after round trip");
    mf_scanner *sc2 = nullptr;
    FUZZ_CHECK(mf_scanner_create(&sc2, e2) == MF_OK, "scanner 2");
    FUZZ_CHECK(mf_scan_text(sc2, v2, probe.data(), probe.size(), MF_ROLE_STAFF) == MF_OK, "scan 2");
    FUZZ_CHECK(first == mf_verdict_json(v2, nullptr), "verdict differs after a round trip:\n%s\n%s", first.c_str(),
               mf_verdict_json(v2, nullptr));
    mf_verdict_destroy(v2);
    mf_verdict_destroy(v);
    mf_scanner_destroy(sc2);
    mf_scanner_destroy(sc);
    mf_engine_destroy(e2);
    mf_engine_destroy(e);
    return 0;
}
