# frozen_string_literal: true

require_relative "lib/modfilter/version"

Gem::Specification.new do |s|
  s.name = "modfilter"
  s.version = Modfilter::VERSION
  s.summary = "Moderation filter for forum posts: Ruby binding of libmodfilter's C ABI"
  s.description = "Scans forum posts for abuse, spam and staff promises with libmodfilter " \
                  "(rule packs compiled once, a verdict per post: allow, flag, hold or reject, with every hit). " \
                  "Calls the library's stable C ABI through ruby-ffi; libmodfilter itself is installed separately."
  s.authors = ["modfilter contributors"]
  s.required_ruby_version = ">= 2.7"
  s.files = Dir.chdir(__dir__) { Dir["lib/**/*.rb"] + ["README.md", "modfilter.gemspec"] }
  s.require_paths = ["lib"]
  s.add_runtime_dependency "ffi", ">= 1.15", "< 2"
  s.requirements << "libmodfilter.so.0 (cmake --install of the modfilter repository), or MODFILTER_LIBRARY"
end
