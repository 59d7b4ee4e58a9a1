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

// Splits a regex whose top level is an alternation, A|B or \b(A|B)\b, into equivalent regexes
// (\b(?:A)\b, \b(?:B)\b), so that each alternative gets atoms of its own. Returns the regex
// alone when it has no such form, or more than 128 alternatives.
std::vector<std::string> split_alternatives(std::string_view regex);

// Appends byte c to a Hyperscan expression as the literal escape \xHH.
inline void append_hex_escape(std::string &expr, unsigned char c) {
    static const char hex[] = "0123456789abcdef";
    expr += "\\x";
    expr += hex[c >> 4];
    expr += hex[c & 15];
}

}  // namespace mf
