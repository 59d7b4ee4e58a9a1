# frozen_string_literal: true

require_relative "test_helper"

# Character offsets of hits, through every way the binding reads them: an ASCII-only post (byte
# offsets are character offsets), valid UTF-8 with multi-byte characters before and inside hits,
# invalid UTF-8, binary and US-ASCII Strings; one post at a time and in batches.
class OffsetsTest < Minitest::Test
  NOT_CONTINUATION = "^\x80-\xBF".b.freeze

  def engine
    ModfilterTest.engine
  end

  # What char_start / char_end must be: the bytes before the offset that do not continue a UTF-8
  # sequence (so, for valid UTF-8, the characters before it).
  def chars_before(text, offset)
    text.b.byteslice(0, offset).count(NOT_CONTINUATION)
  end

  def assert_offsets(text, verdict)
    refute_empty verdict.hits, text.inspect
    verdict.hits.each do |h|
      assert_equal text.b.byteslice(h.start, h.end - h.start), h.text.b, "#{text.inspect}: #{h.rule}"
      assert_equal Encoding::UTF_8, h.text.encoding
      assert_equal chars_before(text, h.start), h.char_start, "#{text.inspect}: #{h.rule} start"
      assert_equal chars_before(text, h.end), h.char_end, "#{text.inspect}: #{h.rule} end"
    end
  end

  POSTS = [
    "you are an idiot, shut up moron", # ASCII only: byte offsets are character offsets
    "Caf\u00e9 you are an idiot, shut up moron",
    "\u{1F600}\u{1F600} you are an idiot \u00e9\u00e9 shut up, moron \u{1F600}",
    "na\u00efve \u{1F600} shut up, moron. You are an idiot. Caf\u00e9 idiot",
    "bad \xFF\xFE bytes, you are an idiot \xE3\x81 shut up moron".dup.force_encoding(Encoding::UTF_8),
    "\xC3\xA9 you are an idiot \xC0 moron".b,
    "\xE9t\xE9: you are an idiot".dup.force_encoding(Encoding::US_ASCII) # high bytes in a US-ASCII String
  ].freeze

  def test_ascii_post_offsets_are_byte_offsets
    text = "Honestly you are an idiot and a moron"
    v = engine.scan(text)
    v.hits.each { |h| assert_equal [h.start, h.end], [h.char_start, h.char_end] }
    assert_offsets(text, v)
  end

  def test_hit_after_emoji_and_accent
    text = "Caf\u00e9 \u{1F600} you are an idiot"
    [engine.scan(text), engine.scan_many([text]).first].each do |v|
      hit = v.hits.find { |h| h.text == "idiot" }
      assert_equal 22, hit.start # é: 2 bytes, the emoji: 4
      assert_equal 18, hit.char_start
      assert_equal 23, hit.char_end
      assert_equal "idiot", text[hit.char_start...hit.char_end]
      assert_offsets(text, v)
    end
  end

  def test_every_post_one_by_one_and_in_batches
    POSTS.each { |t| assert_offsets(t, engine.scan(t)) }
    many = engine.scan_many(POSTS * 40) # 280 posts: three batches
    many.each_with_index { |v, i| assert_offsets(POSTS[i % POSTS.size], v) }
    POSTS.each_with_index { |t, i| assert_equal engine.scan(t).hits, many[i].hits }
  end

  def test_valid_utf8_offsets_index_the_string
    POSTS.first(4).each do |text|
      engine.scan(text).hits.each { |h| assert_equal h.text, text[h.char_start...h.char_end] }
    end
  end

  def test_invalid_utf8_inside_a_hit
    text = "you are an idiot \xE3\x81 moron".dup.force_encoding(Encoding::UTF_8)
    v = engine.scan(text)
    assert_offsets(text, v)
    assert_equal 1, v.invalid_utf8
  end

  # A hit whose own text is invalid UTF-8 (a regex rule spanning a truncated sequence): its
  # characters are counted byte by byte, not with String#length (which counts 2 for "\xE3\x81").
  def test_hit_spanning_invalid_utf8
    e = Modfilter::Engine.from_text(<<~TOML)
      [[rule]]
      id = "x.span"
      category = "abuse.harassment"
      severity = "medium"
      regex = '''qq[^q]{0,8}qq'''
    TOML
    texts = ["\u00e9 qq\xE3\x81qq end", "\xE3\x81 qq\xE3\x81\xE3\x81qq and qq\u00e9\u00e9qq"].map { |t| t.dup.force_encoding(Encoding::UTF_8) }
    texts.each { |t| assert_offsets(t, e.scan(t)) }
    e.scan_many(texts * 3).each_with_index { |v, i| assert_offsets(texts[i % 2], v) }
    v = e.scan(texts[1])
    assert_equal [[2, 8], [13, 19]], v.hits.map { |h| [h.char_start, h.char_end] }
  ensure
    e&.close
  end

  def test_clean_posts_share_one_verdict
    many = engine.scan_many(["all good here", "caf\u00e9 is open", "all good here"])
    assert many.all? { |v| v.action == :allow && v.hits.empty? }
    assert_same many[0], many[1]
    assert_same many[0], engine.scan("nothing to see")
    refute_same many[0], engine.scan_many([{ text: "all good here", id: 1 }]).first
  end

  def test_rule_strings_are_shared_frozen_utf8
    a = engine.scan("you are an idiot").hits.first
    b = engine.scan_many(["well, you are an idiot"]).first.hits.first
    assert_equal a.rule, b.rule
    assert_same a.rule, b.rule
    assert a.rule.frozen?
    assert_equal Encoding::UTF_8, a.category.encoding
  end
end

# Without mf_verdict_summaries (a library older than it), scan_many asks each verdict instead.
class WithoutSummariesTest < Minitest::Test
  def test_scan_many_without_summaries
    code = <<~RUBY
      require "modfilter"
      Modfilter::Native.load!
      raise "the library has no mf_verdict_summaries" unless Modfilter::Native.summaries?
      Modfilter::Native.instance_variable_set(:@summaries, false)
      e = Modfilter::Engine.new
      posts = ["fine", "Caf\\u00e9 \\u{1F600} you are an idiot", "", "bad \\xFF byte, shut up moron".b] * 50
      many = e.scan_many(posts, censor: true)
      one = posts.map { |t| e.scan(t, censor: true) }
      raise "differ" unless many.map(&:to_h) == one.map(&:to_h) && many.map(&:hits) == one.map(&:hits)
      puts many.first(4).map(&:action).inspect
    RUBY
    out, st = ModfilterTest.ruby(code)
    assert st.success?, out
    assert_equal "[:allow, :flag, :allow, :flag]", out.strip
  end
end
