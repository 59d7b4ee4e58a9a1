# frozen_string_literal: true

require_relative "test_helper"

class ErrorsTest < Minitest::Test
  def setup
    @dir = Dir.mktmpdir("modfilter-rb")
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  def write(rel, text)
    path = File.join(@dir, rel)
    FileUtils.mkdir_p(File.dirname(path))
    File.write(path, text)
    path
  end

  def test_from_rules_directory
    write("a/good.toml", ModfilterTest::GOOD)
    e = Modfilter::Engine.from_rules(@dir)
    assert_equal 1, e.rule_count
    assert_equal :flag, e.scan("idiot").action
    assert_equal :allow, e.scan("moron").action
    e.close
  end

  def test_bad_rule_file_names_file_and_line
    write("a/good.toml", ModfilterTest::GOOD)
    bad = write("b/bad.toml", ModfilterTest::BAD)
    err = assert_raises(Modfilter::RulesError) { Modfilter::Engine.from_rules(@dir) }
    assert_kind_of Modfilter::Error, err
    assert_equal(-3, err.status)
    assert_equal bad, err.file
    assert_equal 5, err.line
    assert_match(/bad\.toml:5: .*severity/, err.message)
  end

  def test_bad_rules_text_gives_the_line
    err = assert_raises(Modfilter::RulesError) { Modfilter::Engine.from_text("#{ModfilterTest::GOOD}\n#{ModfilterTest::BAD}") }
    assert_equal 11, err.line
    assert_equal "<memory>.toml", err.file
  end

  def test_missing_rules_directory
    err = assert_raises(Modfilter::Error) { Modfilter::Engine.from_rules(File.join(@dir, "nowhere")) }
    assert_includes [-4, -3], err.status
    assert_includes err.message, "nowhere"
  end

  def test_an_io_error_is_named_for_any_file_and_keeps_its_older_name
    assert_equal Modfilter::ModfilterIOError, Modfilter::ERRORS[-4]
    assert_same Modfilter::ModfilterIOError, Modfilter::RulesIOError
  end

  def test_each_status_has_its_class
    assert_equal Modfilter::PostTooLargeError, Modfilter::ERRORS[-8]
    assert_equal 13, Modfilter::ERRORS.size
    Modfilter::ERRORS.each do |status, cls|
      assert_equal status, cls.new("x").status
      assert_operator cls, :<, Modfilter::Error
    end
  end

  def test_too_large_post
    e = Modfilter::Engine.new(max_post_bytes: 16)
    assert_equal :allow, e.scan("x" * 16).action
    err = assert_raises(Modfilter::PostTooLargeError) { e.scan("x" * 17) }
    assert_equal(-8, err.status)
    e.close
  end

  def test_nil_text_and_wrong_types
    engine = ModfilterTest.engine
    err = assert_raises(Modfilter::InvalidArgumentError) { engine.scan(nil) }
    assert_match(/nil/, err.message)
    assert_raises(Modfilter::InvalidArgumentError) { engine.scan(12) }
    assert_raises(Modfilter::InvalidArgumentError) { engine.scan("x", role: :admin) }
  end

  def test_bad_options
    assert_raises(ArgumentError) { Modfilter::Engine.new(max_hits: 0) }
    assert_raises(ArgumentError) { Modfilter::Engine.new(hold_threshold: -1) }
  end

  def test_closed_engine
    e = Modfilter::Engine.from_text(ModfilterTest::GOOD)
    e.close
    assert e.closed?
    assert_raises(Modfilter::InvalidArgumentError) { e.scan("idiot") }
    assert_raises(Modfilter::InvalidArgumentError) { e.scan_many(["idiot"]) }
    e.close # twice is fine
  end

  def test_engines_are_freed_by_the_garbage_collector
    code = <<~RUBY
      require "modfilter"
      20.times { e = Modfilter::Engine.from_text(%q(#{ModfilterTest::GOOD})); e.scan("idiot"); e.scan_many(["idiot"] * 3) }
      GC.start
      puts Modfilter::Engine.from_text(%q(#{ModfilterTest::GOOD})).scan("idiot").action
    RUBY
    out, status = ModfilterTest.ruby(code)
    assert status.success?, out
    assert_equal "flag", out.lines.last.strip
  end

  def test_missing_library_names_every_place_looked
    out, status = ModfilterTest.ruby('require "modfilter"; Modfilter::Engine.new',
                                     "MODFILTER_LIBRARY" => File.join(@dir, "libnothere.so"))
    refute status.success?
    assert_match(/Modfilter::LibraryNotFound/, out)
    assert_includes out, File.join(@dir, "libnothere.so")
    assert_includes out, "MODFILTER_LIBRARY"
  end

  def test_without_the_variable_the_soname_and_build_tree_are_tried
    out, status = ModfilterTest.ruby('require "modfilter"; p Modfilter::Native.candidates', "MODFILTER_LIBRARY" => nil)
    assert status.success?, out
    assert_includes out, "libmodfilter.so.0"
    assert_includes out, "/usr/local/lib/libmodfilter.so.0"
  end

  def test_wrong_library
    libc = Dir["/{usr/,}lib{/x86_64-linux-gnu,64,}/libc.so.6"].first
    skip "no libc.so.6 found to stand in for a wrong library" unless libc
    out, status = ModfilterTest.ruby('require "modfilter"; Modfilter::Engine.new', "MODFILTER_LIBRARY" => libc)
    refute status.success?
    assert_match(/not a modfilter library: no mf_/, out)
  end

  def test_require_never_loads_the_library
    out, status = ModfilterTest.ruby('require "modfilter"; p Modfilter::Native.loaded', "MODFILTER_LIBRARY" => "/nonexistent.so")
    assert status.success?, out
    assert_equal "nil", out.strip
  end
end
