// mf_features: the learned scorer's words (core/model.hpp) for each input line, one output line per
// input line, words separated by spaces. scripts/train_model.py trains on this output, so the words
// a model is trained on are exactly the words the scanner looks up.
//   mf_features < posts.txt > words.txt          (a post per line; an empty post gives an empty line)
#include <iostream>
#include <string>
#include <vector>

#include "model.hpp"
#include "normalize.hpp"

int main() {
    std::ios::sync_with_stdio(false);
    mf::normalize_init();
    mf::Normalizer norm;
    std::vector<mf::ModelWord> words;
    std::string line, out;
    while (std::getline(std::cin, line)) {
        norm.run(line);
        out.clear();
        mf::model_words(norm.data(), norm.size(), words, &out);
        out += '\n';
        std::cout << out;
    }
    return 0;
}
