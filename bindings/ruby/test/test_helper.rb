# frozen_string_literal: true

# Shared by the binding's tests: run with `ruby -Ilib -Itest test/all.rb` and MODFILTER_LIBRARY set
# (ctest sets it to the library this build produced).
require "minitest/autorun"
require "modfilter"
require "rbconfig"
require "tmpdir"
require "open3"

module ModfilterTest
  # One engine with the default packs for the whole run: compiling packs takes a while.
  def self.engine
    @engine ||= Modfilter::Engine.new
  end

  ROOT = File.expand_path("../../..", __dir__)

  GOOD = <<~TOML
    [[rule]]
    id = "x.idiot"
    category = "abuse.harassment"
    severity = "medium"
    word = "idiot"
  TOML

  # line 5 has the mistake
  BAD = <<~TOML
    [[rule]]
    id = "x.moron"
    category = "abuse.harassment"
    word = "moron"
    severity = "extreme"
  TOML

  # Runs a Ruby snippet in a fresh interpreter with this binding on its load path; [stdout+stderr, status].
  def self.ruby(code, env = {})
    Open3.capture2e(env, RbConfig.ruby, "-I", File.expand_path("../lib", __dir__), "-e", code)
  end
end
