// Quoted text in a post: what a reply quotes of another post, which its author did not write.
//
// Forums quote in three ways, and a post is read for all of them:
//   - a line whose first character after spaces or tabs is '>' (Markdown, e-mail; NodeBB, Discourse's
//     Markdown): the line, without its line break;
//   - [quote]...[/quote], with anything in the opening tag ([quote="bob, post:3, topic:7"]: BBCode,
//     Discourse, phpBB), nested quotes counting as one;
//   - <blockquote>...</blockquote> (HTML: WordPress comments), the same.
// Tags are ASCII and matched without regard to case. An opening tag that is never closed quotes
// nothing: a post that opens a quote and never ends it has written everything after it itself.
// The scanner gives rules whose every hit lies in quoted text a share of their score
// (Policy::quoted_weight), unless the post has fewer than two words of its own outside its quotes,
// or the rule is critical (threats, slurs: a quote is markup anyone can write, and a threat wrapped
// in it is still rejected).
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace mf {

// Appends the quoted spans of `text`, [start, end) in bytes, in order and not overlapping, to `out`
// (cleared first). Returns whether `text` has at least two words of its own outside them (runs of
// two or more letters or digits of any script; true when there is no span). A text without '>',
// '[' or '<' costs three memchr calls.
bool quoted_spans(std::string_view text, std::vector<std::pair<size_t, size_t>> &out);

}  // namespace mf
