// Build-time tool: compiles the default rule packs (embedded into mf_core) and writes the serialized
// engine, which the library embeds so that an engine from the default packs loads in milliseconds
// instead of being compiled again by every process.
#include <cstdio>
#include <fstream>

#include "engine.hpp"

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT\n", argv[0]);
        return 2;
    }
    try {
        mf::normalize_init();
        std::vector<mf::Diagnostic> diags;
        auto e = mf::Engine::compile(mf::default_sources(), mf::EngineOptions{}, diags);
        std::string db = e->serialize();
        std::ofstream out(argv[1], std::ios::binary);
        out.write(db.data(), static_cast<std::streamsize>(db.size()));
        if (!out) {
            std::fprintf(stderr, "cannot write %s\n", argv[1]);
            return 1;
        }
    } catch (const mf::Error &e) {
        std::fprintf(stderr, "default packs do not compile: %s\n", e.what());
        return 1;
    }
    return 0;
}
