// Prefilter atoms for regular expressions (the idea of RE2's FilteredRE2).
//
// A regex in a rule pack is expensive to run over every post: Hyperscan cannot share work between
// dozens of regexes the way it shares it between literals. But most moderation regexes cannot match
// without one of a few words: "refund|credit|reimburse", "monday|...|sunday". required_atoms() finds
// such a set: every match of the regex contains at least one of the atoms (case-insensitively). The
// engine scans posts for atoms together with the literal rules, at literal speed, and runs the regex
// itself only around the atoms it found.
#pragma once

#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace mf {

// Marks, at either end of an atom, that the regex requires a word boundary there (\b).
constexpr char kBoundaryMarker = '\x01';

// One or two atom sets: every match holds an atom of each set ("(show|send) ... (tits|boobs)"
// fires on ordinary text only when both appear close together). Atoms are lowercase, none a very
// common English word, each scoring at least min_score (its length, plus one for each end that
// must be a word boundary; 4 makes atoms that rarely occur by chance). No set at all: the regex
// has none, and is run over every post.
std::vector<std::vector<std::string>> required_atom_sets(std::string_view regex, int min_score = 4);

// Gates: further atom sets that every match holds, too common to be triggers ("my" of "details on
// my profile"), for a window to be opened only where an atom of each stands in it: a trigger costs a
// window only where the rest of the regex can be. Up to max_sets sets of at most max_atoms atoms, each
// ASCII and at most 16 bytes, none implied by a trigger set (`triggers`, as required_atom_sets()
// returned them), in the same form (lowercase, kBoundaryMarker at an end that must be a word boundary).
std::vector<std::vector<std::string>> gate_atom_sets(std::string_view regex,
                                                     const std::vector<std::vector<std::string>> &triggers,
                                                     size_t max_sets = 2, size_t max_atoms = 8);

// Splits a regex whose top level is an alternation, A|B or \b(A|B)\b, into equivalent regexes
// (\b(?:A)\b, \b(?:B)\b), so that each alternative gets atoms of its own. Returns the regex
// alone when it has no such form, or more than 128 alternatives.
std::vector<std::string> split_alternatives(std::string_view regex);

// Takes kBoundaryMarker off either end of an atom: whether one stood before it, and after it.
inline std::pair<bool, bool> strip_boundary_markers(std::string &a) {
    const bool start = !a.empty() && a.front() == kBoundaryMarker;
    if (start) a.erase(0, 1);
    const bool end = !a.empty() && a.back() == kBoundaryMarker;
    if (end) a.pop_back();
    return {start, end};
}

// Appends byte c to a Hyperscan expression as the literal escape \xHH.
inline void append_hex_escape(std::string &expr, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    expr += "\\x";
    expr += hex[c >> 4];
    expr += hex[c & 15];
}

}  // namespace mf
