# frozen_string_literal: true

# modfilter: an embedded moderation filter for forum posts, on libmodfilter's C ABI (ruby-ffi).
#
#   require "modfilter"
#   engine = Modfilter::Engine.new                # the default packs built into libmodfilter
#   verdict = engine.scan("You are an idiot")     # verdict.action => :flag
#   verdict.hits.first.char_start                 # offsets in characters, and .start in bytes
#
# See README.md next to this gem's gemspec.
require_relative "modfilter/version"
require_relative "modfilter/errors"
require_relative "modfilter/native"
require_relative "modfilter/engine"
