# frozen_string_literal: true

require_relative "test_helper"
require "rubygems/package"

class GemTest < Minitest::Test
  GEM_DIR = File.expand_path("..", __dir__)

  # `gem build` works offline and packs the library code and README.
  def test_gem_builds
    Dir.mktmpdir("modfilter-gem") do |tmp|
      out = File.join(tmp, "modfilter.gem")
      log, status = Open3.capture2e({ "HOME" => tmp }, "gem", "build", "modfilter.gemspec", "--output", out, chdir: GEM_DIR)
      assert status.success?, log
      spec = Gem::Package.new(out).spec
      assert_equal Modfilter::VERSION, spec.version.to_s
      %w[lib/modfilter.rb lib/modfilter/engine.rb lib/modfilter/native.rb lib/modfilter/errors.rb README.md].each do |f|
        assert_includes spec.files, f
      end
      assert_equal ["ffi"], spec.runtime_dependencies.map(&:name)
    end
  end
end
